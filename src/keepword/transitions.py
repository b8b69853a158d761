"""Transitions: the named moves of a commitment's life, and its escalation.

``promise`` makes a commitment; ``keep``, ``fail``, ``cancel``, ``pause``,
``resume``, ``renegotiate``, ``reassign``, ``retarget`` and ``mark_breached``
change one; ``escalate`` fires the escalation steps due at a tick.  Each
checks that the move is legal, builds the :class:`~keepword.commitment.Event`
it causes and folds it in with :func:`~keepword.commitment.apply`; it returns
the new commitment and the new events (a :data:`Change`), and changes
nothing else.  So a commitment is always what its history says.  Pure
functions, no I/O: the tracker loads, calls one of these, and saves.

Deadlines are refused outside the years the calendars compute (1900-2199,
:data:`~keepword.calendar.FIRST_YEAR` to :data:`~keepword.calendar.LAST_YEAR`)
at ``promise``, ``renegotiate`` and ``retarget``.  A commitment stored with
such a deadline anyway (by an older keepword or another writer) stays
keepable: ``keep``, ``fail`` and ``cancel`` always work on an open or paused
commitment, and where its calendar cannot measure or move a time (a pause, a
lateness), real time is used instead.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from keepword import fairness as _fairness
from keepword._instant import from_iso, td_us, to_utc
from keepword._json import FrozenDict, FrozenList, freeze_json
from keepword._snapshots import calendar_snapshot, policy_snapshot
from keepword._validate import check_identifier, check_text
from keepword.calendar import FIRST_YEAR, LAST_YEAR, BusinessCalendar, Within, within

# the fold's own helpers: the trusted constructors take values checked here
from keepword.commitment import (
    MAX_PRIORITY,
    Commitment,
    Event,
    Status,
    _breached_this_deadline,
    _first_state,
    _to_tags,
    _trusted_commitment,
    _trusted_event,
    apply,
)
from keepword.errors import CalendarError, InvalidArgumentError, InvalidTransitionError
from keepword.escalation import EscalationPolicy, Firing, due_now, plan
from keepword.notice import TICK_ERROR, Notice, _trusted_notice

__all__ = [
    "REWORK_BUSINESS_DAYS",
    "Change",
    "cancel",
    "deadline_as_set",
    "escalate",
    "fail",
    "firings",
    "keep",
    "mark_breached",
    "pause",
    "promise",
    "reassign",
    "recompute_due",
    "renegotiate",
    "reopen",
    "resume",
    "retarget",
    "serve",
    "set_aside",
    "within_rework",
]

Change = tuple[Commitment, tuple[Event, ...]]
"""What a transition returns: the new commitment and the events it appended."""


# --------------------------------------------------------------------------- helpers

_ZERO = _dt.timedelta(0)


def _iso(value: _dt.datetime) -> str:
    return value.isoformat()


def _check_calendar_arg(calendar: Any) -> BusinessCalendar:
    if not isinstance(calendar, BusinessCalendar):
        raise InvalidArgumentError(
            f"must be a BusinessCalendar, not {type(calendar).__name__}", argument="calendar"
        )
    return calendar


_FIRST = _dt.datetime(FIRST_YEAR, 1, 1, tzinfo=_dt.UTC)
_END = _dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=_dt.UTC)


def _in_years(value: _dt.datetime, argument: str) -> _dt.datetime:
    """``value`` (UTC) if it falls in the years the calendars compute, else CalendarError."""
    if not _FIRST <= value < _END:
        raise CalendarError(
            f"{value.isoformat()} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
            argument=argument,
            fix=f"use an instant in the years {FIRST_YEAR}-{LAST_YEAR}",
        )
    return value


def _resolve_due(
    due: Any, start: _dt.datetime, calendar: BusinessCalendar
) -> tuple[_dt.datetime, str | None]:
    """The instant and the spec string (``None`` for an explicit instant) of ``due``.

    Both ``start`` and the deadline must fall in the years 1900-2199.
    """
    _in_years(start, "now")
    if isinstance(due, _dt.datetime):
        return _in_years(to_utc(due, "due"), "due"), None
    if isinstance(due, Within):
        return to_utc(calendar.resolve(start, due), "due"), due.to_string()
    raise InvalidArgumentError(
        f"must be a within(...) spec or an aware datetime, not {type(due).__name__}",
        argument="due",
        fix="e.g. due=within(business_days=3)",
    )


def _optional_reason(reason: Any) -> str | None:
    return None if reason is None else check_text(reason, "reason")


def _required_reason(reason: Any) -> str:
    text = check_text(reason, "reason")
    if not text.strip():
        raise InvalidArgumentError("must say why", argument="reason")
    return text


def _actor(actor: Any) -> str | None:
    return None if actor is None else check_identifier(actor, "actor")


def _require(c: Commitment, action: str, *allowed: Status) -> None:
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    if c.status not in allowed:
        raise InvalidTransitionError(action, c.status.value, c.id)


class _Draft:
    """Events being added to a commitment by one transition."""

    def __init__(self, c: Commitment, actor: str | None):
        self.original = c
        self.current = c
        self.actor = actor
        self.events: list[Event] = []

    def emit(
        self, kind: str, at: _dt.datetime, data: Mapping[str, Any], *, built: bool = False
    ) -> None:
        """Add an event and fold it in, at the version this transition stores.

        ``built``: its fields are keepword's own (a UTC ``at``, an event kind,
        JSON data of ints and strings), so it is built by the trusted
        constructor, without the checks.
        """
        seq = len(self.current.history) + 1
        if built:
            event = _trusted_event(seq=seq, kind=kind, at=at, actor=self.actor, data=data)
        else:
            event = Event(seq=seq, kind=kind, at=at, actor=self.actor, data=data)
        self.current = apply(self.current, event, version=self.original.version + 1)
        self.events.append(event)

    def done(self) -> tuple[Commitment, tuple[Event, ...]]:
        """The new state and its events; ``c`` itself when nothing happened."""
        if not self.events:
            return self.original, ()
        return self.current, tuple(self.events)


def _breach_if_missed(draft: _Draft, now: _dt.datetime, late_at: _dt.datetime) -> None:
    """Record a breach of the current deadline if ``late_at`` is past it and none was recorded."""
    c = draft.current
    if late_at > c.due_at and not _breached_this_deadline(c):
        draft.emit(
            "breached",
            now,
            {"due_at": _iso(c.due_at), "deadline_version": c.deadline_version},
            built=True,
        )


def _open_between(calendar: BusinessCalendar, a: _dt.datetime, b: _dt.datetime) -> _dt.timedelta:
    """Open time from ``a`` to ``b`` (zero if ``b`` is not later), real time where unmeasurable."""
    if b <= a:
        return _ZERO
    try:
        return max(calendar.between(a, b), _ZERO)
    except CalendarError:  # outside the calendar's years
        return b - a


def _open_after(calendar: BusinessCalendar, at: _dt.datetime, span: _dt.timedelta) -> _dt.datetime:
    """``at`` plus ``span`` of open time, never earlier than ``at``; real time where it cannot."""
    if span <= _ZERO:
        return at
    try:
        moved = to_utc(calendar.add(at, span), "due")
    except CalendarError:  # outside the calendar's years, or no open time ahead
        try:
            moved = at + span
        except OverflowError:
            return at
    return max(moved, at)


def _resume_data(c: Commitment, now: _dt.datetime) -> dict[str, Any]:
    paused_at = c.paused_at if c.paused_at is not None else now  # a hand-built value: no shift
    paused = _open_between(c.calendar, paused_at, now)
    due = _open_after(c.calendar, c.due_at, paused)  # a pause never shortens a deadline
    return {
        "paused_at": _iso(paused_at),
        "paused_us": td_us(paused),
        "old_due_at": _iso(c.due_at),
        "due_at": _iso(due),
    }


# --------------------------------------------------------------------------- transitions


def promise(
    *,
    id: str,
    tenant: str,
    customer: str,
    owner: str,
    kind: str,
    what: str,
    now: _dt.datetime,
    calendar: BusinessCalendar,
    due: Within | _dt.datetime,
    external_ref: str | None = None,
    tags: Iterable[str] | None = (),
    priority: int = 0,
    waiting_for: str | None = None,
    channel: str | None = None,
    terms: Mapping[str, Any] | None = None,
    actor: str | None = None,
    policy: EscalationPolicy | None = None,
    reopens: Mapping[str, Any] | None = None,
) -> Change:
    """Make a new commitment (version 1) and its ``"promised"`` event.

    Args:
        id: the new commitment's id (see :func:`keepword._ids.new_id`).
        tenant, customer, owner, kind: identifiers.
        what: what is promised.
        now: when the promise is made (``made_at``).
        calendar: the calendar the deadline runs on (kept as a snapshot).
        due: a ``within(...)`` spec resolved from ``now`` on ``calendar``, or
            an explicit aware instant.
        external_ref, priority, waiting_for, channel, terms: see :class:`Commitment`.
        tags: identifiers (any iterable, read once; ``None`` for none).
        actor: who made the promise.
        policy: the escalation policy chosen for it (kept as a snapshot, with
            its name and version recorded in the event).
        reopens: the kept promise this one reopens (set by :func:`reopen`).

    Returns:
        ``(commitment, (promised_event,))``.

    Raises:
        InvalidArgumentError: a field is invalid, or ``due`` is before ``now``.
        NaiveDatetimeError: ``now`` or ``due`` is naive.
        CalendarError: ``now`` or the deadline falls outside the years
            1900-2199, or the calendar cannot resolve the deadline.

    >>> import datetime as dt
    >>> from keepword.calendar import BusinessCalendar, within
    >>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    >>> c, events = promise(id="c1", tenant="shop", customer="acct-42", owner="alice",
    ...     kind="reply", what="Email the price list", calendar=cal, due=within(business_days=3),
    ...     now=dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
    >>> c.status, c.due_at.isoformat(), c.spec, [e.kind for e in events]
    (<Status.OPEN: 'open'>, '2026-11-27T22:00:00+00:00', 'business_days=3', ['promised'])
    """
    now = to_utc(now, "now")
    calendar = _check_calendar_arg(calendar)
    due_at, spec = _first_due(due, now, calendar)
    plain_terms = _check_terms(terms)
    priority = _check_priority(priority)
    data = {
        "id": check_identifier(id, "id"),
        "tenant": check_identifier(tenant, "tenant"),
        "customer": check_identifier(customer, "customer"),
        "owner": check_identifier(owner, "owner"),
        "kind": check_identifier(kind, "kind"),
        "what": check_text(what, "what"),
        "due_at": _iso(due_at),
        "external_ref": _optional_identifier(external_ref, "external_ref"),
        "tags": FrozenList(() if tags is None else _to_tags(tags)),
        "priority": priority,
        "waiting_for": _optional_identifier(waiting_for, "waiting_for"),
        "terms": freeze_json(plain_terms, "terms"),
        "spec": spec,
        "calendar": calendar_snapshot(calendar),
    }
    if channel is not None:
        data["channel"] = _optional_identifier(channel, "channel")
    quoted_from = getattr(due, "quoted_from", None)  # a Quote: the history behind the deadline
    if quoted_from is not None:
        data["quote"] = freeze_json(quoted_from, "due")
    if policy is not None:
        data.update(_policy_data(policy))
    if reopens is not None:
        data["reopens"] = freeze_json(reopens, "reopens")
    # every value above is checked, frozen or built by keepword: no second walk
    event = Event(seq=1, kind="promised", at=now, actor=_actor(actor), data=FrozenDict(data))
    return _first_state(event, calendar, policy, _trusted_commitment), (event,)


REWORK_BUSINESS_DAYS = 5
"""A complaint, or a reopened promise, within this many business days after a keep is rework."""


def within_rework(kept: Commitment, at: _dt.datetime, days: int = REWORK_BUSINESS_DAYS) -> bool:
    """Whether ``at`` is within ``days`` business days after ``kept`` was kept (its calendar).

    Real days where the calendar cannot resolve the window (outside its years).
    """
    if kept.kept_at is None or at < kept.kept_at:
        return False
    try:
        end = to_utc(kept.calendar.resolve(kept.kept_at, within(business_days=days)), "at")
    except CalendarError:
        end = kept.kept_at + _dt.timedelta(days=days)
    return at <= end


def reopen(
    kept: Commitment,
    *,
    id: str,
    now: _dt.datetime,
    calendar: BusinessCalendar,
    due: Within | _dt.datetime,
    reason: str,
    owner: str | None = None,
    what: str | None = None,
    actor: str | None = None,
    policy: EscalationPolicy | None = None,
) -> Change:
    """Reopen a kept promise: a new promise to the same customer, saying which one it reopens.

    A kept promise stays kept (its history is final); the new commitment
    (version 1) repeats its customer, kind, channel, tags, priority and
    terms, with ``owner`` and ``what`` as given or as the kept one's.  Its
    ``"promised"`` event holds ``reopens``: the kept promise's id, when it
    was kept, the ``reason``, and ``rework``: whether it was reopened within
    :data:`REWORK_BUSINESS_DAYS` business days of the keep (on the kept
    one's calendar), which the scorecard counts as rework.

    Raises:
        InvalidTransitionError: ``kept`` is not kept (renegotiate an open
            promise instead).
        InvalidArgumentError: ``reason`` is empty, or a field is invalid.

    >>> import datetime as dt
    >>> from keepword.calendar import BusinessCalendar, within
    >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
    >>> at = lambda d, h: dt.datetime(2026, 11, d, h, tzinfo=dt.UTC)
    >>> c, _ = promise(id="c1", tenant="t", customer="k", owner="alice", kind="repair",
    ...     what="Fix the boiler", calendar=cal, due=within(business_days=2), now=at(23, 9))
    >>> c, _ = keep(c, now=at(24, 9))
    >>> again, _ = reopen(c, id="c2", now=at(26, 9), calendar=cal, due=within(business_days=1),
    ...     reason="leaking again")
    >>> reopens = again.history[0].data["reopens"]
    >>> again.what, reopens["id"], reopens["reason"], reopens["rework"]
    ('Fix the boiler', 'c1', 'leaking again', True)
    """
    _require(kept, "reopen", Status.KEPT)
    now = to_utc(now, "now")
    why = _required_reason(reason)
    kept_at = kept.kept_at if kept.kept_at is not None else now
    return promise(
        id=id,
        tenant=kept.tenant,
        customer=kept.customer,
        owner=kept.owner if owner is None else owner,
        kind=kept.kind,
        what=kept.what if what is None else what,
        now=now,
        calendar=calendar,
        due=due,
        tags=kept.tags,
        priority=kept.priority,
        channel=kept.channel,
        terms=kept.terms,
        actor=actor,
        policy=policy,
        reopens={
            "id": kept.id,
            "kept_at": _iso(kept_at),
            "reason": why,
            "rework": within_rework(kept, now),
        },
    )


def _first_due(
    due: Any, now: _dt.datetime, calendar: BusinessCalendar
) -> tuple[_dt.datetime, str | None]:
    """:func:`_resolve_due` for a new promise: the deadline may not be before ``now``."""
    due_at, spec = _resolve_due(due, now, calendar)
    if due_at < now:
        raise InvalidArgumentError(
            f"must not be before the promise is made ({due_at.isoformat()} < {now.isoformat()})",
            argument="due",
        )
    return due_at, spec


def _optional_identifier(value: Any, argument: str) -> str | None:
    return None if value is None else check_identifier(value, argument)


def _check_priority(priority: Any) -> int:
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise InvalidArgumentError(
            f"must be an int, not {type(priority).__name__}", argument="priority"
        )
    if not 0 <= priority <= MAX_PRIORITY:
        raise InvalidArgumentError(
            f"must be between 0 and {MAX_PRIORITY} (got {priority})", argument="priority"
        )
    return priority


def _check_terms(terms: Any) -> Mapping[str, Any]:
    if terms is None:
        return {}
    if not isinstance(terms, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping, not {type(terms).__name__}", argument="terms"
        )
    return terms


def _policy_data(policy: Any) -> dict[str, Any]:
    if not isinstance(policy, EscalationPolicy):
        raise InvalidArgumentError(
            f"must be an EscalationPolicy, not {type(policy).__name__}", argument="policy"
        )
    return {"policy": policy_snapshot(policy), "policy_version": policy.version}


def keep(
    c: Commitment,
    *,
    now: _dt.datetime,
    kept_at: _dt.datetime | None = None,
    actor: str | None = None,
    as_promised: bool = True,
    deviation: Mapping[str, Any] | None = None,
) -> Change:
    """Mark a commitment kept.

    A renegotiation moves a deadline; it never launders a breach.  The keep
    is one of three, recorded in the ``"kept"`` event's data:

    - kept on time (``on_time: true``): by its deadline, and no deadline was
      missed before (``breached_at`` is unset, or ``kept_at`` is not after
      the first deadline missed): a deadline renegotiated before the one in
      force had passed stays honest;
    - kept after breach (``on_time: false, after_breach: true``): by its
      current deadline, but that deadline was agreed (or moved) after an
      earlier one had passed; ``lateness`` is the business time from the
      deadline it broke (``breached_at``) to ``kept_at``;
    - kept late (``on_time: false``): after its current deadline; ``lateness``
      is the business time from that deadline to ``kept_at``.

    A late keep first records a ``"breached"`` event (unless this deadline's
    breach is already recorded).  Lateness is business time on the
    commitment's own calendar (real time where the calendar cannot measure
    it: outside the years 1900-2199); an on-time keep has zero lateness.
    A keep on changed terms (``as_promised=False``) is recorded with
    ``as_promised: false`` and the ``deviation`` (what differed, e.g.
    ``{"price": ...}``), so it is counted apart from a clean keep.  A paused
    commitment is resumed first (its deadline moves as :func:`resume` moves
    it).  Keeping never fails for the deadline's sake: any open or paused
    commitment can be kept, whatever its deadline.

    Args:
        c: an open or paused commitment.
        now: when this is recorded.
        kept_at: when it was kept (default ``now``); not after ``now`` and not
            before ``made_at``.  Errors name it ``at``, as
            :meth:`keepword.Tracker.keep` calls it.
        actor: who kept it.
        as_promised: ``False`` when it was kept on changed terms (a different
            price, a partial delivery, ...).
        deviation: what differed from the promise, a JSON object (only with
            ``as_promised=False``).

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
        InvalidArgumentError: ``at`` is in the future or before ``made_at``;
            ``as_promised`` is not a bool; ``deviation`` is not a JSON object
            or is given with ``as_promised=True``.
        NaiveDatetimeError: ``at`` or ``now`` is naive.
    """
    _require(c, "keep", Status.OPEN, Status.PAUSED)
    terms_kept = _keep_terms(as_promised, deviation)
    now = to_utc(now, "now")
    at = now if kept_at is None else to_utc(kept_at, "at")
    if at > now:
        raise InvalidArgumentError(
            f"must not be in the future ({at.isoformat()} > now {now.isoformat()})", argument="at"
        )
    if at < c.made_at:
        raise InvalidArgumentError(
            f"must not be before the promise was made ({c.made_at.isoformat()})", argument="at"
        )
    draft = _Draft(c, _actor(actor))
    if c.status is Status.PAUSED:
        draft.emit("resumed", now, _resume_data(c, now))
    _breach_if_missed(draft, now, at)
    current = draft.current
    due, broke = current.due_at, current.breached_at
    data: dict[str, Any] = {"kept_at": _iso(at)}
    if at > due:
        data.update(on_time=False, lateness_us=td_us(_open_between(current.calendar, due, at)))
    elif broke is not None and at > broke:
        lateness = _open_between(current.calendar, broke, at)
        data.update(on_time=False, after_breach=True, lateness_us=td_us(lateness))
    else:
        data.update(on_time=True, lateness_us=0)
    data.update(terms_kept)
    draft.emit("kept", now, data)
    return draft.done()


def _keep_terms(as_promised: Any, deviation: Any) -> dict[str, Any]:
    """The ``"kept"`` event data saying a keep was on changed terms (nothing for a clean keep)."""
    if not isinstance(as_promised, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(as_promised).__name__}", argument="as_promised"
        )
    if as_promised:
        if deviation is not None:
            raise InvalidArgumentError(
                "a deviation needs as_promised=False",
                argument="deviation",
                fix="pass as_promised=False with the deviation, or no deviation",
            )
        return {}
    if deviation is None:
        return {"as_promised": False}
    if not isinstance(deviation, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping, not {type(deviation).__name__}",
            argument="deviation",
            fix='e.g. deviation={"price": "45.00"}',
        )
    return {"as_promised": False, "deviation": freeze_json(deviation, "deviation")}


def fail(c: Commitment, *, now: _dt.datetime, reason: str, actor: str | None = None) -> Change:
    """Declare that a commitment cannot be kept (it becomes ``BROKEN``).

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
        InvalidArgumentError: ``reason`` is empty.
    """
    _require(c, "fail", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    draft.emit("failed", now, {"reason": _required_reason(reason)})
    return draft.done()


def cancel(
    c: Commitment,
    *,
    now: _dt.datetime,
    reason: str | None = None,
    actor: str | None = None,
    waived: bool = False,
) -> Change:
    """Cancel a commitment: the customer withdrew it, or it no longer applies.

    ``waived=True`` records that it was waived on purpose (a reply nobody
    needs: ``{"reason": ..., "waived": true}`` in the event; a reason is then
    required), so response-time figures leave it out and audits can list it.

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
        InvalidArgumentError: ``waived`` without a reason.
    """
    _require(c, "cancel", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    data: dict[str, Any] = {"reason": _optional_reason(reason)}
    if waived is True:
        data["reason"] = _required_reason(reason)
        data["waived"] = True
    draft.emit("cancelled", now, data)
    return draft.done()


def pause(c: Commitment, *, now: _dt.datetime, reason: str, actor: str | None = None) -> Change:
    """Stop a commitment's clock (waiting on the customer, say).

    If the deadline has already passed, its breach is recorded first.

    Raises:
        InvalidTransitionError: it is not open.
        InvalidArgumentError: ``reason`` is empty.
    """
    _require(c, "pause", Status.OPEN)
    now = to_utc(now, "now")
    why = _required_reason(reason)
    draft = _Draft(c, _actor(actor))
    _breach_if_missed(draft, now, now)
    draft.emit("paused", now, {"reason": why})
    return draft.done()


def resume(c: Commitment, *, now: _dt.datetime, actor: str | None = None) -> Change:
    """Restart a paused commitment's clock.

    The deadline moves later by the business time (on the commitment's
    calendar) that passed while it was paused; if that moves it, the
    ``deadline_version`` goes up by one.  Where the calendar cannot measure
    the pause or move the deadline (an instant outside the years 1900-2199, or
    no open time for a year ahead), real time is used instead, so a paused
    commitment can always be resumed; a pause never shortens a deadline.

    Raises:
        InvalidTransitionError: it is not paused.
    """
    _require(c, "resume", Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    draft.emit("resumed", now, _resume_data(c, now))
    return draft.done()


def renegotiate(
    c: Commitment,
    *,
    now: _dt.datetime,
    due: Within | _dt.datetime,
    reason: str | None = None,
    actor: str | None = None,
) -> Change:
    """Agree a new deadline; the commitment stays open, ``deadline_version`` + 1.

    A ``within(...)`` spec is resolved from ``now`` on the commitment's
    calendar.  If the old deadline had already passed, its breach is recorded
    first: a breach is never cleared.

    Raises:
        InvalidTransitionError: it is not open.
        InvalidArgumentError: the new deadline is before ``now`` (or before
            ``made_at``).
        CalendarError: ``now`` or the new deadline falls outside the years
            1900-2199.
    """
    _require(c, "renegotiate", Status.OPEN)
    now = to_utc(now, "now")
    due_at, spec = _resolve_due(due, now, c.calendar)
    floor = max(now, c.made_at)
    if due_at < floor:
        raise InvalidArgumentError(
            f"must not be in the past ({due_at.isoformat()} < {floor.isoformat()})",
            argument="due",
        )
    why = _optional_reason(reason)
    draft = _Draft(c, _actor(actor))
    _breach_if_missed(draft, now, now)
    draft.emit(
        "renegotiated",
        now,
        {"old_due_at": _iso(c.due_at), "due_at": _iso(due_at), "spec": spec, "reason": why},
    )
    return draft.done()


def reassign(
    c: Commitment,
    *,
    now: _dt.datetime,
    owner: str,
    reason: str | None = None,
    actor: str | None = None,
) -> Change:
    """Give a commitment a new single owner; its history travels with it.

    Raises:
        InvalidTransitionError: it is kept, broken or cancelled.
        InvalidArgumentError: ``owner`` is invalid or already the owner.
    """
    _require(c, "reassign", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    new_owner = check_identifier(owner, "owner")
    if new_owner == c.owner:
        raise InvalidArgumentError(f"{owner!r} already owns it", argument="owner")
    draft = _Draft(c, _actor(actor))
    draft.emit(
        "reassigned",
        now,
        {"old_owner": c.owner, "owner": new_owner, "reason": _optional_reason(reason)},
    )
    return draft.done()


def _anchor(c: Commitment) -> Event:
    for event in reversed(c.history):
        if event.kind in ("renegotiated", "promised"):
            return event
    raise AssertionError("a history starts with 'promised'")  # pragma: no cover


def deadline_as_set(c: Commitment, calendar: BusinessCalendar) -> tuple[Event, _dt.datetime]:
    """The event that last set ``c``'s deadline, and the deadline it set on ``calendar``.

    The event is the promise or the last renegotiation; the deadline is its
    spec resolved from that event's instant (an explicit instant stays as it
    was), before any pause moved it.
    """
    anchor = _anchor(c)
    if c.spec is not None:
        return anchor, to_utc(calendar.resolve(anchor.at, Within.parse(c.spec)), "due")
    return anchor, from_iso(anchor.data["due_at"], "data")


def recompute_due(c: Commitment, calendar: BusinessCalendar) -> _dt.datetime:
    """The deadline ``c`` would have had on ``calendar``.

    The deadline spec is resolved again from when it was set (the promise or
    the last renegotiation; an explicit instant stays as it was), then every
    completed pause since is added again, measured on ``calendar``.
    """
    anchor, due = deadline_as_set(c, calendar)
    for event in c.history[anchor.seq :]:
        if event.kind == "resumed":
            paused_at = from_iso(event.data["paused_at"], "data")
            paused = calendar.between(paused_at, event.at) if event.at > paused_at else _ZERO
            if paused > _ZERO:
                due = max(due, to_utc(calendar.add(due, paused), "due"))
    return due


def retarget(
    c: Commitment,
    *,
    now: _dt.datetime,
    calendar: BusinessCalendar,
    actor: str | None = None,
) -> Change:
    """Move a commitment onto ``calendar`` and recompute its deadline, on purpose.

    The event records the old and new deadline and calendar.  The
    ``deadline_version`` goes up iff the deadline moves.  If the old deadline
    had already passed, its breach is recorded first.

    Raises:
        InvalidTransitionError: it is kept, broken or cancelled.
        CalendarError: ``calendar`` cannot resolve the deadline, or the
            deadline it gives falls outside the years 1900-2199.
    """
    _require(c, "retarget", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    calendar = _check_calendar_arg(calendar)
    try:
        due_at = _in_years(recompute_due(c, calendar), "calendar")
    except CalendarError as exc:
        raise CalendarError(
            f"cannot recompute the deadline on this calendar: {exc.message}",
            argument="calendar",
            fix="keep the commitment on its calendar, or renegotiate its deadline first",
        ) from None
    draft = _Draft(c, _actor(actor))
    if c.status is Status.OPEN:
        _breach_if_missed(draft, now, now)
    draft.emit(
        "retargeted",
        now,
        {
            "old_due_at": _iso(c.due_at),
            "due_at": _iso(due_at),
            "old_calendar": c.calendar.to_dict(),
            "calendar": calendar.to_dict(),
        },
    )
    return draft.done()


def mark_breached(c: Commitment, *, now: _dt.datetime, actor: str | None = None) -> Change:
    """Record the breach of an open commitment's deadline, the first time ``now`` is past it.

    Returns ``(c, ())`` unchanged when there is nothing to record: it is not
    open, not overdue, or this deadline's breach is already recorded.
    ``breached_at`` keeps the first deadline ever missed.
    """
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    if c.status is Status.OPEN:
        _breach_if_missed(draft, now, now)
    return draft.done()


def escalate(
    c: Commitment,
    *,
    now: _dt.datetime,
    new_id: Callable[[], str],
    late_after: _dt.timedelta = _dt.timedelta(minutes=5),
) -> tuple[Commitment, tuple[Event, ...], tuple[Notice, ...]]:
    """Fire every escalation step of ``c`` that is due at ``now``, in order.

    The first tick past the deadline records the breach.  Each fired step
    becomes a :class:`~keepword.notice.Notice` (keyed by commitment, deadline
    version, step and repeat, so it is written at most once) and its action is
    applied: ``reassign`` makes the recipient the owner, ``raise_priority``
    adds one to the priority.  One ``"escalated"`` event records the new
    cursor.  A clock that went backwards fires nothing: steps fire only at or
    before ``now`` and the cursor never moves back.

    Args:
        c: the commitment (only an OPEN one has steps to fire).
        now: the tick's instant.
        new_id: makes the id of each notice.
        late_after: a step fired longer than this after it was due is flagged
            late (missed ticks catching up).

    Returns:
        ``(new_commitment, events, notices)``; ``(c, (), ())`` when nothing is due.
    """
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    now = to_utc(now, "now")
    if c.status is not Status.OPEN:
        return c, (), ()
    draft = _Draft(c, None)
    _breach_if_missed(draft, now, now)
    planned = firings(c)
    due, cursor, _ = due_now(planned, c.escalation_cursor, now)
    if not due:
        new, events = draft.done()
        return new, events, ()
    owner, priority = c.owner, c.priority
    notices = []
    for firing in due:
        step = firing.step
        if step.action == "reassign":
            owner = step.notify
        elif step.action == "raise_priority":
            priority = min(priority + 1, MAX_PRIORITY)
        notices.append(_notice(c, firing, owner, now, new_id(), now - firing.at > late_after))
    data: dict[str, Any] = {
        "cursor": cursor,
        "deadline_version": c.deadline_version,
        "fired": [n.idempotency_key for n in notices],
    }
    if owner != c.owner:
        data["owner"] = owner
    if priority != c.priority:
        data["priority"] = priority
    draft.emit("escalated", now, data, built=True)
    new, events = draft.done()
    return new, events, tuple(notices)


def set_aside(
    c: Commitment, *, now: _dt.datetime, error: BaseException, new_id: Callable[[], str]
) -> tuple[Commitment, tuple[Event, ...], tuple[Notice, ...]]:
    """Set aside an open commitment whose tick result could not be written.

    The ``"set_aside"`` event records the error; the commitment is not
    scheduled again until its deadline changes, so one unprocessable
    commitment never stops the tick for the others nor is retried in a hot
    loop.  It can still be kept, failed, cancelled, paused or renegotiated.
    The host hears of it once per deadline through a notice of kind and
    action :data:`TICK_ERROR`, addressed to ``"host"``, made only of the
    commitment's validated fields (never of the policy that may have
    poisoned the write).

    Returns:
        ``(new_commitment, (set_aside_event,), (tick_error_notice,))``.
    """
    now = to_utc(now, "now")
    draft = _Draft(c, None)
    detail = f"{type(error).__name__}: {error}"[:500]
    # the error may quote the poison itself: keep only storable text
    detail = detail.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    data = {"deadline_version": c.deadline_version, "cursor": c.escalation_cursor, "error": detail}
    draft.emit("set_aside", now, data)
    new, events = draft.done()
    notice = _trusted_notice(
        id=new_id(),
        tenant=c.tenant,
        idempotency_key=f"{c.id}:{c.deadline_version}:{TICK_ERROR}",
        commitment_id=c.id,
        deadline_version=c.deadline_version,
        step_index=0,
        repeat=0,
        step=TICK_ERROR,
        recipient="host",
        action=TICK_ERROR,
        customer=c.customer,
        owner=c.owner,
        kind=TICK_ERROR,
        what=c.what,
        due_at=c.due_at,
        scheduled_at=now,
        fired_at=now,
    )
    return new, events, (notice,)


def serve(
    c: Commitment,
    *,
    now: _dt.datetime,
    resource: str,
    quantity: int,
    partial: bool = False,
    ahead: bool = False,
    reason: str | None = None,
    actor: str | None = None,
) -> Change:
    """Hand ``quantity`` units of ``resource`` to a commitment waiting for it.

    Appends a ``"served"`` event with data ``{"resource", "quantity",
    "served", "remaining", "partial", "ahead", "reason"}`` (``served`` is the
    running total); the status is unchanged: the commitment stays open (or
    paused) until it is kept.  Once every unit is served it no longer waits.
    ``ahead`` marks an approved exception, served before its turn; it needs a
    reason and an actor.

    Raises:
        InvalidTransitionError: it is kept, broken or cancelled.
        InvalidArgumentError: it does not wait for ``resource``, ``quantity``
            is not a positive int or exceeds the units still unserved (or
            serves only part of them without ``partial``), ``now`` is before
            it was made, or ``ahead`` lacks a reason or an actor.
    """
    _require(c, "serve", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    resource = _fairness.check_resource(resource)
    units = _fairness.check_quantity(quantity)
    if c.waiting_for != resource:
        raise InvalidArgumentError(
            f"commitment {c.id!r} waits for {c.waiting_for!r}, not {resource!r}",
            argument="resource",
        )
    state = _fairness.queue_state(c)
    assert state is not None  # waiting_for is set
    left = state.quantity - state.served
    if units > left or (units < left and not partial):
        raise InvalidArgumentError(
            f"commitment {c.id!r} waits for {left} more unit(s); {units} "
            + ("is too many" if units > left else "serves it only in part"),
            argument="quantity",
            fix="pass partial=True to serve part of an order" if units < left else None,
        )
    if now < c.made_at:
        raise InvalidArgumentError(
            f"must not be before the commitment was made ({c.made_at.isoformat()})",
            argument="at",
        )
    who = _actor(actor)
    why = _optional_reason(reason)
    if ahead and (why is None or not why.strip() or who is None):
        raise InvalidArgumentError(
            "an approved exception needs a reason and an actor",
            argument="reason" if why is None or not why.strip() else "actor",
        )
    draft = _Draft(c, who)
    draft.emit(
        "served",
        now,
        {
            "resource": resource,
            "quantity": units,
            "served": state.served + units,
            "remaining": left - units,
            "partial": units < left or state.served > 0,
            "ahead": ahead,
            "reason": why,
        },
    )
    return draft.done()


def firings(c: Commitment) -> tuple[Firing, ...]:
    """Every planned step firing for ``c``'s current deadline, in firing order."""
    return plan(c.policy, c.made_at, c.due_at, c.calendar)


def _notice(
    c: Commitment, firing: Firing, owner: str, now: _dt.datetime, id: str, late: bool
) -> Notice:
    """The notice ``firing`` of ``c`` makes at ``now`` (keyed so it is written at most once)."""
    step = firing.step
    return _trusted_notice(
        id=id,
        tenant=c.tenant,
        idempotency_key=firing.key(c.id, c.deadline_version),
        commitment_id=c.id,
        deadline_version=c.deadline_version,
        step_index=firing.step_index,
        repeat=firing.repeat,
        step=step.label,
        recipient=step.notify,
        action=step.action,
        customer=c.customer,
        owner=owner,
        kind=c.kind,
        what=c.what,
        due_at=c.due_at,
        scheduled_at=firing.at,
        fired_at=now,
        late=late,
        breach=step.trigger.is_breach,
    )
