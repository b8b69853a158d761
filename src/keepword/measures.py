"""What the scorecard counts of one commitment: one pure function both stores use.

:func:`measures_of` reads a :class:`~keepword.commitment.Commitment` (its
state and its history) and returns its :class:`Measures`: how it ended, how
long it took in business time, how far past a deadline it went, how often its
deadline was renegotiated and how many escalation steps fired.  A SQL store
writes them into columns of the commitment's row whenever it writes the row,
so the scorecard is a ``GROUP BY`` over plain columns; ``MemoryStore`` calls
the same function when it aggregates.  Durations are business time on the
commitment's own frozen calendar (real time where the calendar cannot measure
them, outside the years 1900-2199), in whole microseconds, so a later holiday
edit never changes a past figure.

Percentiles are **nearest-rank**: the ``p``-th percentile of ``n`` values is
the smallest value such that at least ``p`` percent of the values are at or
below it, the value at rank ``ceil(p * n / 100)`` in ascending order (always
one of the values; no interpolation).  :func:`nearest_rank` and
:func:`rank_of` are that definition; every store computes exactly it.

>>> nearest_rank([10, 20, 30, 40], 50), nearest_rank([10, 20, 30, 40], 90)
(20, 40)
>>> rank_of(10, 0.9), rank_of(11, 0.9), rank_of(3, 0.5)
(9, 10, 2)
"""

from __future__ import annotations

import datetime as _dt
import fractions
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from keepword._instant import from_iso, td_us, to_utc
from keepword.commitment import Commitment, Event, Status
from keepword.errors import InvalidArgumentError
from keepword.scorecard import GROUPINGS
from keepword.transitions import _open_between

__all__ = [
    "GROUPINGS",
    "OUTCOMES",
    "Measures",
    "ScoreQuery",
    "held_times",
    "measures_of",
    "nearest_rank",
    "rank_of",
    "time_spans",
]

OUTCOMES = ("on_time", "late", "after_breach", "broken", "cancelled", "waived")
"""How a commitment ended (``None`` while it is open or paused).

- ``"on_time"``: kept by its deadline, no earlier deadline missed.
- ``"late"``: kept after its deadline.
- ``"after_breach"``: kept by a deadline renegotiated (or moved) after an
  earlier one was missed.
- ``"broken"``: failed.
- ``"cancelled"``: cancelled.
- ``"waived"``: a reply closed as not needed (cancelled with ``waived: true``).
"""

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class Measures:
    """The scorecard's figures of one commitment.

    Attributes:
        outcome: one of :data:`OUTCOMES`, or ``None`` while open or paused.
        turnaround_us: business time from made to kept, for a kept one.
        response_us: for a kept ``"reply"`` commitment not kept by an
            automated reply (the ``"kept"`` event's data has no
            ``automated: true``), its turnaround: the first response time.
        breach_us: how far past the deadline it broke it went, business
            time: the lateness of a late or after-breach keep; for a broken
            one whose breach was recorded, from the deadline it missed to
            when it was declared broken.
        slack_us: for an on-time keep, business time from kept to its deadline.
        renegotiations: how many times its deadline was renegotiated.
        escalations: how many escalation steps fired for it.
        as_promised: for a kept one, whether it was kept on the terms promised.
        quoted: whether it was promised at a deadline quoted from history.
        rework: whether it reopens a kept promise within the rework window
            (see :func:`keepword.transitions.reopen`).
    """

    outcome: str | None = None
    turnaround_us: int | None = None
    response_us: int | None = None
    breach_us: int | None = None
    slack_us: int | None = None
    renegotiations: int = 0
    escalations: int = 0
    as_promised: bool | None = None
    quoted: bool = False
    rework: bool = False


def _business_us(c: Commitment, a: _dt.datetime | None, b: _dt.datetime | None) -> int | None:
    if a is None or b is None:
        return None
    return td_us(_open_between(c.calendar, a, b))


def measures_of(c: Commitment) -> Measures:
    """The :class:`Measures` of ``c``, from its state and history (pure).

    >>> import datetime as dt
    >>> from keepword.calendar import BusinessCalendar, within
    >>> from keepword.transitions import keep, promise
    >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
    >>> c, _ = promise(id="c1", tenant="t", customer="k", owner="o", kind="reply",
    ...     what="Answer", calendar=cal, due=within(hours=4),
    ...     now=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC))
    >>> kept, _ = keep(c, now=dt.datetime(2026, 11, 23, 11, tzinfo=dt.UTC))
    >>> m = measures_of(kept)
    >>> m.outcome, m.turnaround_us // 3_600_000_000, m.response_us == m.turnaround_us
    ('on_time', 2, True)
    """
    renegotiations = escalations = 0
    quoted = "quote" in c.history[0].data
    rework = is_rework(c)
    for event in c.history:
        if event.kind == "renegotiated":
            renegotiations += 1
        elif event.kind == "escalated":
            escalations += len(event.data.get("fired", ()))
    last = c.history[-1].data if c.is_final else {}
    outcome: str | None
    status = c.status
    if status is Status.KEPT:
        outcome = "on_time" if c.on_time else "after_breach" if c.kept_after_breach else "late"
        turnaround = _business_us(c, c.made_at, c.kept_at)
        lateness = 0 if c.lateness is None else td_us(c.lateness)
        response = None
        if c.kind == "reply" and last.get("automated") is not True:
            response = turnaround
        return Measures(
            outcome=outcome,
            turnaround_us=turnaround,
            response_us=response,
            breach_us=None if outcome == "on_time" else lateness,
            slack_us=_business_us(c, c.kept_at, c.due_at) if outcome == "on_time" else None,
            renegotiations=renegotiations,
            escalations=escalations,
            as_promised=last.get("as_promised", True) is not False,
            quoted=quoted,
            rework=rework,
        )
    if status is Status.BROKEN:
        outcome, breach = "broken", _business_us(c, c.breached_at, c.closed_at)
    elif status is Status.CANCELLED:
        outcome, breach = ("waived" if last.get("waived") is True else "cancelled"), None
    else:
        outcome, breach = None, None
    return Measures(
        outcome=outcome,
        breach_us=breach,
        renegotiations=renegotiations,
        escalations=escalations,
        quoted=quoted,
        rework=rework,
    )


def is_rework(c: Commitment) -> bool:
    """Whether ``c`` reopens a kept promise within the rework window (its first event says)."""
    reopens = c.history[0].data.get("reopens")
    return isinstance(reopens, Mapping) and reopens.get("rework") is True


def _boundary(event: Event) -> _dt.datetime:
    """Where an event ends a span: when it was recorded; for a keep, when it was kept."""
    if event.kind == "kept":
        kept_at = event.data.get("kept_at")
        if isinstance(kept_at, str):
            return from_iso(kept_at, "data")
    return event.at


class _Holder:
    """Who or what holds a commitment's time while its history is walked."""

    def __init__(self, c: Commitment) -> None:
        self.calendar = c.calendar
        self.owner = str(c.history[0].data.get("owner") or c.owner)
        self.paused: str | None = None
        self.since = c.made_at

    def span(self, until: _dt.datetime) -> tuple[str, str, int]:
        """The span from the last boundary to ``until``, with its holder."""
        us = td_us(_open_between(self.calendar, self.since, until))
        return ("owner", self.owner, us) if self.paused is None else ("pause", self.paused, us)

    def advance(self, event: Event, at: _dt.datetime) -> None:
        """Move past ``event`` (whose boundary is ``at``)."""
        if at > self.since:
            self.since = at
        if event.kind == "paused":
            self.paused = str(event.data.get("reason") or "unspecified")
        elif event.kind == "resumed":
            self.paused = None
        elif event.kind in ("reassigned", "escalated") and event.data.get("owner"):
            self.owner = str(event.data["owner"])


def time_spans(
    c: Commitment, *, first: int = 2, end: _dt.datetime | None = None
) -> tuple[tuple[str, str, int], ...]:
    """Where ``c``'s time went, event by event: ``(kind, holder, business microseconds)``.

    One span per event from seq ``first`` on (default: every event after
    the promise), each the business time (on ``c``'s own calendar) from the
    previous event's boundary to this one's, and what held it then: ``kind``
    ``"owner"`` with the owner (the clock running), or ``"pause"`` with the
    pause's reason (``"unspecified"`` without one).  An event's boundary is
    when it was recorded (for a keep, when it was kept); a boundary earlier
    than the one before it (a back-dated keep) gives a span of zero.  The
    owner changes at each ``"reassigned"`` event and each escalation that
    reassigned the promise.  Each span depends only on the events up to its
    own, so a store writes it once, with its event.  With ``end`` (an open
    commitment's now), a last span runs from the last boundary to ``end``.

    >>> import datetime as dt
    >>> from keepword.calendar import BusinessCalendar, within
    >>> from keepword.transitions import keep, pause, promise, reassign, resume
    >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
    >>> at = lambda h: dt.datetime(2026, 11, 23, h, tzinfo=dt.UTC)
    >>> c, _ = promise(id="c1", tenant="t", customer="k", owner="alice", kind="refund",
    ...     what="Refund", calendar=cal, due=within(hours=4), now=at(9))
    >>> c, _ = reassign(c, owner="bob", now=at(10))
    >>> c, _ = pause(c, reason="waiting on the customer", now=at(11))
    >>> c, _ = resume(c, now=at(14))
    >>> c, _ = keep(c, now=at(15))
    >>> for kind, holder, us in time_spans(c):
    ...     print(kind, holder, us // 3_600_000_000)
    owner alice 1
    owner bob 1
    pause waiting on the customer 3
    owner bob 1
    """
    holder = _Holder(c)
    spans: list[tuple[str, str, int]] = []
    for event in c.history[1:]:
        at = _boundary(event)
        if event.seq >= first:
            spans.append(holder.span(at))
        holder.advance(event, at)
    if end is not None and end > holder.since:
        spans.append(holder.span(end))
    return tuple(spans)


def held_times(
    sums: Iterable[tuple[str, str, int]],
) -> tuple[tuple[tuple[str, _dt.timedelta], ...], tuple[tuple[str, _dt.timedelta], ...]]:
    """Spans (or sums of spans) ``(kind, holder, us)`` added up per holder.

    Returns ``(per owner, per pause reason)``, each ``(holder, business
    time)`` with the most time first (ties by holder), as
    :attr:`keepword.scorecard.ScoreRow.time_by_owner` holds them.

    >>> held_times([("owner", "bob", 60_000_000), ("owner", "al", 90_000_000),
    ...             ("pause", "parts", 5), ("owner", "bob", 30_000_000)])[0]
    (('al', datetime.timedelta(seconds=90)), ('bob', datetime.timedelta(seconds=90)))
    """
    totals: dict[tuple[str, str], int] = {}
    for kind, holder, us in sums:
        totals[kind, holder] = totals.get((kind, holder), 0) + us

    def of(kind: str) -> tuple[tuple[str, _dt.timedelta], ...]:
        found = sorted(((-us, h) for (k, h), us in totals.items() if k == kind))
        return tuple((h, _dt.timedelta(microseconds=-neg)) for neg, h in found)

    return of("owner"), of("pause")


def rank_of(n: int, confidence: Any) -> int:
    """The nearest rank (1-based) of the ``confidence`` quantile among ``n`` values.

    ``ceil(confidence * n)``, computed exactly on the decimal the float
    prints as (``0.9`` is nine tenths, not the nearest binary fraction), and
    at least 1.

    Raises:
        InvalidArgumentError: ``confidence`` is not a number in (0, 1].
    """
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise InvalidArgumentError(
            f"must be a number, not {type(confidence).__name__}", argument="confidence"
        )
    if not (0 < confidence <= 1) or math.isnan(confidence):
        raise InvalidArgumentError(
            f"must be more than 0 and at most 1 (got {confidence!r})",
            argument="confidence",
            fix="e.g. confidence=0.9",
        )
    exact = fractions.Fraction(repr(float(confidence)))
    return max(1, math.ceil(exact * n))


def nearest_rank(sorted_values: Sequence[_T], percent: int) -> _T | None:
    """The ``percent``-th nearest-rank percentile of ascending ``sorted_values``, or ``None``.

    The value at rank ``ceil(percent * n / 100)``; ``None`` for no values.
    """
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, -(-percent * n // 100))
    return sorted_values[rank - 1]


# --------------------------------------------------------------------------- what to aggregate


def _optional_instant(value: Any, argument: str) -> _dt.datetime | None:
    return None if value is None else to_utc(value, argument)


def _since(value: Any) -> _dt.datetime | None:
    return _optional_instant(value, "since")


def _until(value: Any) -> _dt.datetime | None:
    return _optional_instant(value, "until")


def _now(value: Any) -> _dt.datetime:
    return to_utc(value, "now")


def _check_by(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value not in GROUPINGS:
        raise InvalidArgumentError(
            f"must be one of {', '.join(GROUPINGS)} or None (got {value!r})",
            argument="by",
            fix='e.g. by="owner"',
        )


def _check_flag(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(value).__name__}", argument=attribute.name
        )


def _check_us(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise InvalidArgumentError(
            f"must be a non-negative int of microseconds (got {value!r})", argument=attribute.name
        )


@attrs.frozen(kw_only=True)
class ScoreQuery:
    """What a store aggregates for a scorecard (see :meth:`keepword.ports.Metrics.score_rows`).

    A commitment is in the window when ``since <= made_at < until`` (with
    ``by_due``, its ``due_at`` instead); either bound may be ``None``.

    Attributes:
        by: the column to group by (one of :data:`GROUPINGS`), or ``None``.
        since: the window's start (inclusive), or ``None``.
        until: the window's end (exclusive), or ``None``.
        by_due: count by when promises fell due, not when they were made.
        now: the instant "overdue" and "due" are judged at.
        tolerance_us: lateness a keep may have and still not count in
            ``extra["late_beyond_tolerance"]``.
        response_target_us: a first response slower than this counts in
            ``extra["replies_over_target"]``.
        early_us: an on-time keep with at least this much business time to
            spare counts in ``extra["kept_early"]``.

    Raises:
        InvalidArgumentError: naming the field that is wrong (``since`` after
            ``until`` included).
        NaiveDatetimeError: an instant is naive.
    """

    by: str | None = attrs.field(default=None, validator=_check_by)
    since: _dt.datetime | None = attrs.field(default=None, converter=_since)
    until: _dt.datetime | None = attrs.field(default=None, converter=_until)
    by_due: bool = attrs.field(default=False, validator=_check_flag)
    now: _dt.datetime = attrs.field(converter=_now)
    tolerance_us: int = attrs.field(default=0, validator=_check_us)
    response_target_us: int = attrs.field(default=0, validator=_check_us)
    early_us: int = attrs.field(default=0, validator=_check_us)

    def __attrs_post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidArgumentError(
                f"must not be before since ({self.until.isoformat()} < {self.since.isoformat()})",
                argument="until",
            )

    @property
    def due_by(self) -> _dt.datetime:
        """The instant a deadline must have passed by to count as ``due``: ``until`` or ``now``."""
        return self.now if self.until is None else min(self.until, self.now)

    def in_window(self, c: Commitment) -> bool:
        """Whether ``c`` counts in the window."""
        at = c.due_at if self.by_due else c.made_at
        if self.since is not None and at < self.since:
            return False
        return self.until is None or at < self.until
