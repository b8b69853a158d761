"""The scorecard: how well a business keeps its word, as plain values.

:class:`Scorecard` holds one :class:`ScoreRow` per group (owner, kind,
customer or channel) and a row of totals; :class:`ServiceLevel` ranks a
customer's experience.  The figures are computed in the store (see
:mod:`keepword.services.measuring`); this module only holds them.  No I/O.
"""

from __future__ import annotations

import datetime as _dt
import enum
from typing import Any

import attrs

from keepword.errors import InvalidArgumentError

__all__ = [
    "GROUPINGS",
    "BreachReport",
    "ScoreRow",
    "Scorecard",
    "ServiceLevel",
    "ServiceThresholds",
]

GROUPINGS = ("owner", "kind", "customer", "channel")
"""What a scorecard may be grouped ``by`` (or ``None`` for totals only)."""


class ServiceLevel(enum.IntEnum):
    """The four levels of service, and below them not meeting expectations; lowest first.

    - ``NOT_MET``: a promise was broken or kept late beyond the tolerance.
    - ``MET``: every promise kept.
    - ``EXCEEDED``: met, replies within target, a follow-up after each sale.
    - ``DELIGHTED``: exceeded, mostly kept early, thanked up to the target.
    - ``AMAZED``: delighted, and an extra-mile gesture in the period.

    >>> ServiceLevel.MET < ServiceLevel.AMAZED
    True
    >>> str(ServiceLevel.DELIGHTED)
    'delighted'
    """

    NOT_MET = 0
    MET = 1
    EXCEEDED = 2
    DELIGHTED = 3
    AMAZED = 4

    def __str__(self) -> str:
        return self.name.lower()


def _seconds(value: _dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


@attrs.frozen(kw_only=True)
class ScoreRow:
    """The figures of one group (or of every group: the totals).

    A promise counts in the window by when it was made (or, with
    ``by_due=True``, by when it fell due).  Durations are business time on
    each commitment's own calendar.

    Attributes:
        group: the group's key (an owner, a kind, a customer, a channel), or
            ``None`` for the totals and for commitments without that key.
        made: promises made.
        due: promises whose deadline passed by the end of the window.
        kept_on_time: kept by a deadline agreed before the one in force passed.
        kept_late: kept after their deadline.
        kept_after_breach: kept by a deadline renegotiated after the breach
            (counted apart from ``kept_on_time``).
        kept_not_as_promised: kept on changed terms (``keep(as_promised=False)``).
        broken: failed.
        cancelled: cancelled.
        open: still open or paused.
        overdue: open and past their deadline now.
        on_time_rate: ``kept_on_time / (kept + broken)``, ``None`` with none of either.
        lateness_p50, lateness_p90: lateness of late and after-breach keeps,
            business time (nearest-rank percentiles, see :mod:`keepword.measures`).
        first_response_p50, first_response_p90: time to the first human
            reply on reply commitments, business time.
        renegotiations: deadlines renegotiated.
        escalations: escalation steps fired.
        waived: replies closed as not needed.
        extra: further measures by name (complaints, referrals, repeat
            business, rework, thank-you coverage, fairness findings, ...).
        breach_p50, breach_p90: breach magnitude, business time past the
            deadline a promise broke (late and after-breach keeps, and broken
            promises whose breach was recorded).
        time_by_owner: where the time of the promises that were not kept on
            time went, per owner: ``(owner, business time)`` each owner held
            them with the clock running, over the promises that have ended
            broken, or kept or cancelled after their breach was recorded;
            most time first.
            Ownership changes at reassignments and at escalations that
            reassign (see :func:`keepword.measures.time_spans`).
        time_by_pause: the same promises' paused time per pause reason,
            ``(reason, business time)``, most time first.
    """

    group: str | None = None
    made: int = 0
    due: int = 0
    kept_on_time: int = 0
    kept_late: int = 0
    kept_after_breach: int = 0
    kept_not_as_promised: int = 0
    broken: int = 0
    cancelled: int = 0
    open: int = 0
    overdue: int = 0
    on_time_rate: float | None = None
    lateness_p50: _dt.timedelta | None = None
    lateness_p90: _dt.timedelta | None = None
    first_response_p50: _dt.timedelta | None = None
    first_response_p90: _dt.timedelta | None = None
    renegotiations: int = 0
    escalations: int = 0
    waived: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, hash=False)
    breach_p50: _dt.timedelta | None = None
    breach_p90: _dt.timedelta | None = None
    time_by_owner: tuple[tuple[str, _dt.timedelta], ...] = ()
    time_by_pause: tuple[tuple[str, _dt.timedelta], ...] = ()

    @property
    def kept(self) -> int:
        """Every keep: on time, late and after a breach."""
        return self.kept_on_time + self.kept_late + self.kept_after_breach

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (durations in seconds).

        >>> ScoreRow(group="alice", made=2, kept_on_time=1).to_dict()["kept"]
        1
        """
        out: dict[str, Any] = {}
        for field in attrs.fields(ScoreRow):
            value = getattr(self, field.name)
            if isinstance(value, tuple):
                value = [[holder, _seconds(held)] for holder, held in value]
            out[field.name] = _seconds(value) if isinstance(value, _dt.timedelta) else value
        out["kept"] = self.kept
        out["extra"] = dict(self.extra)
        return out


@attrs.frozen(kw_only=True)
class Scorecard:
    """How well the promises of a window were kept, per group and in total.

    Attributes:
        since: the window's start (inclusive), or ``None``.
        until: the window's end (exclusive), or ``None``.
        by: what the rows are grouped by (one of :data:`GROUPINGS`), or ``None``.
        by_due: whether promises count by when they fell due, not when made.
        rows: one row per group, ordered by group.
        total: the totals over every group.
        service_levels: per customer, its level and the rule that decided it.
    """

    since: _dt.datetime | None = None
    until: _dt.datetime | None = None
    by: str | None = None
    by_due: bool = False
    rows: tuple[ScoreRow, ...] = ()
    total: ScoreRow = attrs.field(factory=ScoreRow)
    service_levels: tuple[tuple[str, ServiceLevel, str], ...] = ()

    def row(self, group: str | None) -> ScoreRow:
        """The row of ``group``; a row of zeros if the group had nothing.

        >>> Scorecard(rows=(ScoreRow(group="alice", made=3),)).row("alice").made
        3
        >>> Scorecard().row("bob").made
        0
        """
        for r in self.rows:
            if r.group == group:
                return r
        return ScoreRow(group=group)

    def to_dict(self) -> dict[str, Any]:
        """The scorecard as JSON-ready values (instants in ISO 8601, durations in seconds)."""
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "by": self.by,
            "by_due": self.by_due,
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
            "service_levels": [
                {"customer": c, "level": str(level), "rule": rule}
                for c, level, rule in self.service_levels
            ],
        }


def _span(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, _dt.timedelta) or value < _dt.timedelta(0):
        raise InvalidArgumentError(
            f"must be a non-negative timedelta (got {value!r})", argument=attribute.name
        )


def _share(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidArgumentError(
            f"must be a number from 0 to 1 (got {value!r})", argument=attribute.name
        )


def _whole(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(
            f"must be a non-negative int (got {value!r})", argument=attribute.name
        )


@attrs.frozen(kw_only=True)
class ServiceThresholds:
    """The thresholds that decide a customer's :class:`ServiceLevel`; override any with evolve.

    The rules, each level needing every rule below it:

    - ``MET``: no promise broken, none kept later than ``late_tolerance``
      past its deadline (a keep after a breach counts from the deadline it
      broke), none open and overdue by more than ``late_tolerance``.
    - ``EXCEEDED``: every first response (reply commitments kept by a human)
      within ``reply_target``, and a ``"follow_up"`` touchpoint within
      ``follow_up_within`` after every ``"sale"`` occasion of the period
      (the last ``follow_up_within`` of the period may still be waiting).
    - ``DELIGHTED``: more than ``early_share`` of the promises kept on time
      with at least ``early_margin`` of business time to spare, and at least
      ``thanks_target`` counted thank-yous in the period.
    - ``AMAZED``: an ``"extra_mile"`` touchpoint in the period.

    An extra-mile gesture never lifts a customer whose promises were broken:
    each level needs the one below it.  Durations are business time.

    Attributes:
        late_tolerance: lateness that still meets expectations (default 0).
        reply_target: the slowest first response that exceeds them (4 h).
        follow_up_within: how soon after a sale a follow-up is due (5 days).
        early_margin: spare time that makes a keep "early" (1 h).
        early_share: the share of keeps that must be early (0.5: most).
        thanks_target: counted thank-yous in the period (1).

    >>> ServiceThresholds().reply_target
    datetime.timedelta(seconds=14400)
    >>> attrs.evolve(ServiceThresholds(), thanks_target=2).thanks_target
    2
    """

    late_tolerance: _dt.timedelta = attrs.field(default=_dt.timedelta(0), validator=_span)
    reply_target: _dt.timedelta = attrs.field(default=_dt.timedelta(hours=4), validator=_span)
    follow_up_within: _dt.timedelta = attrs.field(default=_dt.timedelta(days=5), validator=_span)
    early_margin: _dt.timedelta = attrs.field(default=_dt.timedelta(hours=1), validator=_span)
    early_share: float = attrs.field(default=0.5, validator=_share)
    thanks_target: int = attrs.field(default=1, validator=_whole)


@attrs.frozen(kw_only=True)
class BreachReport:
    """Where the time of one promise went: business time per owner and per pause reason.

    Attributes:
        commitment_id: the commitment reported on.
        status: its status (a string) when reported.
        breached_at: the first deadline it missed, or ``None``.
        breach: business time past that deadline (to when it was kept or
            broken, or to now while open), or ``None`` if never breached.
        owners: ``(owner, business time it held the promise, clock running)``
            in the order they first held it.
        pauses: ``(reason, business time paused for it)`` in first-seen order.
    """

    commitment_id: str
    status: str
    breached_at: _dt.datetime | None = None
    breach: _dt.timedelta | None = None
    owners: tuple[tuple[str, _dt.timedelta], ...] = ()
    pauses: tuple[tuple[str, _dt.timedelta], ...] = ()
