"""The Tracker: the application service a host calls.

A :class:`Tracker` is bound to one store, one tenant and one clock.
Each call loads what it needs, decides with the pure functions of
:mod:`keepword.transitions`, and saves with the version it read, so a write
that lost a race raises :class:`~keepword.errors.ConflictError` instead of
losing the other write.

>>> import datetime as dt
>>> from keepword.calendar import BusinessCalendar, within
>>> from keepword.clock import FrozenClock
>>> from keepword.stores.memory import MemoryStore
>>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
>>> clock = FrozenClock(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))  # Mon 10:00 in New York
>>> tracker = Tracker(MemoryStore(), calendar=cal, tenant="shop-7", clock=clock)
>>> c = tracker.promise(customer="acct-42", owner="alice", kind="reply",
...                     what="Email the bulk price list", due=within(business_days=3))
>>> print(tracker.explain(c))
3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; due Fri 27 Nov 17:00 EST
>>> tracker.keep(c.id).on_time
True
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._instant import to_utc
from keepword._json import freeze_json
from keepword._validate import check_identifier, check_ids, check_lease, check_positive
from keepword.calendar import BusinessCalendar, Within
from keepword.clock import Clock, SystemClock
from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.escalation import EscalationPolicy, PolicySet
from keepword.notice import Notice
from keepword.ports import Fire, Query, Store
from keepword.transitions import Change

__all__ = ["DispatchReport", "TickReport", "Tracker"]

MAX_RETRIES = 3
"""How many times a change addressed by id is retried after a lost race."""

_PROMISE_ARGS = frozenset(
    {
        "customer",
        "owner",
        "kind",
        "what",
        "due",
        "external_ref",
        "tags",
        "priority",
        "waiting_for",
        "terms",
        "actor",
    }
)
_REQUIRED_ARGS = ("customer", "owner", "kind", "what", "due")

CommitmentOrId = Commitment | str


class Tracker:
    """The service a host calls to make, keep and look up commitments.

    Args:
        store: where commitments live (``MemoryStore``, ``SqlStore``, ...).
        calendar: the default business calendar for new commitments.
        tenant: the tenant every call is confined to.
        clock: where "now" comes from (``FrozenClock`` in tests).
        calendar_for: optionally, ``customer -> BusinessCalendar | None``,
            the calendar for a customer's promises (``None`` means the
            default ``calendar``).

    Every method that takes a commitment accepts the :class:`Commitment`
    itself or its id.
    Given the object, its ``version`` is the one expected in the store: if
    someone changed it since, :class:`ConflictError` is raised and nothing is
    written.
    Given an id, the tracker loads the current state, decides, and retries up
    to three times if it loses a race (each retry decides afresh, so an
    illegal move still raises :class:`InvalidTransitionError`).

    Raises:
        InvalidArgumentError: an argument has the wrong type or value.
    """

    def __init__(
        self,
        store: Store,
        *,
        calendar: BusinessCalendar,
        tenant: str = "default",
        clock: Clock | None = None,
        calendar_for: Callable[[str], BusinessCalendar | None] | None = None,
        policies: PolicySet | Sequence[EscalationPolicy] | EscalationPolicy | None = None,
        tier_for: Callable[[str], str | None] | None = None,
        late_after: _dt.timedelta = _dt.timedelta(minutes=5),
        lease: _dt.timedelta = _dt.timedelta(seconds=60),
    ):
        if not isinstance(store, Store):
            raise InvalidArgumentError(
                f"must implement the Store protocol, not {type(store).__name__}", argument="store"
            )
        if not isinstance(calendar, BusinessCalendar):
            raise InvalidArgumentError(
                f"must be a BusinessCalendar, not {type(calendar).__name__}", argument="calendar"
            )
        if clock is None:
            clock = SystemClock()
        if not isinstance(clock, Clock):
            raise InvalidArgumentError(
                f"must have a now() method, not {type(clock).__name__}", argument="clock"
            )
        if calendar_for is not None and not callable(calendar_for):
            raise InvalidArgumentError("must be callable or None", argument="calendar_for")
        if tier_for is not None and not callable(tier_for):
            raise InvalidArgumentError("must be callable or None", argument="tier_for")
        if isinstance(policies, EscalationPolicy):
            policies = PolicySet([policies])
        elif policies is not None and not isinstance(policies, PolicySet):
            policies = PolicySet(policies)
        for name, value in (("late_after", late_after), ("lease", lease)):
            if not isinstance(value, _dt.timedelta) or value <= _dt.timedelta(0):
                raise InvalidArgumentError("must be a positive timedelta", argument=name)
        self._store = store
        self._calendar = calendar
        self._tenant = check_identifier(tenant, "tenant")
        self._clock = clock
        self._calendar_for = calendar_for
        self._policies = policies
        self._tier_for = tier_for
        self._late_after = late_after
        self._lease = lease
        self._worker_pid = -1
        self._worker_id = ""

    def __repr__(self) -> str:
        return f"Tracker(tenant={self._tenant!r}, store={self._store!r})"

    # ------------------------------------------------------------------ properties

    @property
    def store(self) -> Store:
        """The store this tracker reads and writes."""
        return self._store

    @property
    def tenant(self) -> str:
        """The tenant every call is confined to."""
        return self._tenant

    @property
    def clock(self) -> Clock:
        """The clock this tracker reads "now" from."""
        return self._clock

    @property
    def calendar(self) -> BusinessCalendar:
        """The default calendar for new commitments."""
        return self._calendar

    def now(self) -> _dt.datetime:
        """The current instant per the tracker's clock, in UTC."""
        return to_utc(self._clock.now(), "clock.now()")

    def calendar_for(self, customer: str) -> BusinessCalendar:
        """The calendar a new promise to ``customer`` runs on.

        ``calendar_for(customer)`` if one was given and returns a calendar,
        else the default calendar.

        Raises:
            InvalidArgumentError: ``calendar_for`` returned something else.
        """
        if self._calendar_for is None:
            return self._calendar
        chosen = self._calendar_for(customer)
        if chosen is None:
            return self._calendar
        if not isinstance(chosen, BusinessCalendar):
            raise InvalidArgumentError(
                f"returned {type(chosen).__name__}, not a BusinessCalendar",
                argument="calendar_for",
            )
        return chosen

    # ------------------------------------------------------------------ making promises

    def promise(
        self,
        *,
        customer: str,
        owner: str,
        kind: str,
        what: str,
        due: Within | _dt.datetime,
        external_ref: str | None = None,
        tags: Iterable[str] = (),
        priority: int = 0,
        waiting_for: str | None = None,
        terms: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Make a promise to a customer and store it.

        Promising the same ``external_ref`` again (a webhook retried) returns
        the existing commitment and stores nothing, as long as the request is
        the same: customer, owner, kind, what, due and terms as first
        promised (the owner it was first promised to, the ``within(...)``
        spec or the explicit instant).

        Args:
            customer: who the promise is to.
            owner: who must keep it.
            kind: what kind of promise (``"reply"``, ``"refund"``, ...).
            what: what was promised, in words.
            due: ``within(...)`` (resolved now on the customer's calendar) or
                an aware instant.
            external_ref: the host's id for the thing promised, unique in the
                tenant.
            tags: labels.
            priority: ``>= 0``, larger is more urgent.
            waiting_for: the scarce resource it waits for, e.g. ``"sku:FIG-1"``.
            terms: the agreed terms, a JSON object.
            actor: who made the promise.

        Returns:
            The stored commitment (version 1), or the existing one for a
            repeated ``external_ref``.

        Raises:
            InvalidArgumentError: an argument is invalid, or ``due`` is before now.
            NaiveDatetimeError: ``due`` is naive.
            ConflictError: ``external_ref`` exists with a different request.
        """
        request = {
            "customer": customer,
            "owner": owner,
            "kind": kind,
            "what": what,
            "due": due,
            "external_ref": external_ref,
            "tags": tags,
            "priority": priority,
            "waiting_for": waiting_for,
            "terms": terms,
            "actor": actor,
        }
        if external_ref is not None:
            check_identifier(external_ref, "external_ref")
            existing = self._store.get_by_ref(self._tenant, external_ref)
            if existing is not None:
                self._check_same_request(existing, request)
                return existing
        new = self._build(request, self.now())
        stored, created = self._store.add(new)
        if not created:
            self._check_same_request(stored, request)
        return stored

    def promise_many(self, items: Iterable[Mapping[str, Any]]) -> list[Commitment]:
        """Make several promises in one atomic write: all are stored or none.

        Args:
            items: mappings of :meth:`promise`'s keyword arguments.

        Returns:
            One commitment per item, in order; an item whose ``external_ref``
            exists already (or repeats an earlier item's) gives the existing
            commitment.

        Raises:
            InvalidArgumentError: an item is invalid (nothing is stored); the
                error names ``items[i]`` or the field.
            ConflictError: an item's ``external_ref`` exists with a different
                request; nothing is stored (unless another process stored
                that reference in the meantime, in which case the other items
                are stored and the conflict is still raised).
        """
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise InvalidArgumentError("must be an iterable of mappings", argument="items")
        requests: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InvalidArgumentError(
                    f"must be a mapping of promise() arguments, not {type(item).__name__}",
                    argument=f"items[{i}]",
                )
            unknown = sorted(set(item) - _PROMISE_ARGS)
            if unknown:
                raise InvalidArgumentError(
                    f"unknown promise() argument(s): {', '.join(map(str, unknown))}",
                    argument=f"items[{i}]",
                )
            missing = [name for name in _REQUIRED_ARGS if name not in item]
            if missing:
                raise InvalidArgumentError(
                    f"missing promise() argument(s): {', '.join(missing)}",
                    argument=f"items[{i}]",
                )
            requests.append({name: item.get(name) for name in _PROMISE_ARGS})
        now = self.now()
        built: list[Commitment] = []
        first_by_ref: dict[str, Commitment] = {}
        for request in requests:
            if request["tags"] is None:
                request["tags"] = ()
            if request["priority"] is None:
                request["priority"] = 0
            new = self._build(request, now)
            ref = new.external_ref
            if ref is not None:
                earlier = first_by_ref.get(ref)
                if earlier is None:
                    existing = self._store.get_by_ref(self._tenant, ref)
                    if existing is not None:
                        self._check_same_request(existing, request)
                    first_by_ref[ref] = new
                else:
                    self._check_same_request(earlier, request)
            built.append(new)
        results = self._store.add_many(built)
        out: list[Commitment] = []
        for request, (stored, created) in zip(requests, results, strict=True):
            if not created:
                self._check_same_request(stored, request)
            out.append(stored)
        return out

    def _build(self, request: Mapping[str, Any], now: _dt.datetime) -> Commitment:
        customer = check_identifier(request["customer"], "customer")
        new, _ = _t.promise(
            id=new_id(now),
            tenant=self._tenant,
            customer=customer,
            owner=request["owner"],
            kind=request["kind"],
            what=request["what"],
            now=now,
            calendar=self.calendar_for(customer),
            due=request["due"],
            external_ref=request["external_ref"],
            tags=request["tags"],
            priority=request["priority"],
            waiting_for=request["waiting_for"],
            terms=request["terms"],
            actor=request["actor"],
            policy=self.policy_for(
                customer, kind=request["kind"], tags=request["tags"], priority=request["priority"]
            ),
        )
        return new

    def policy_for(
        self, customer: str, *, kind: str, tags: Iterable[str] = (), priority: int = 0
    ) -> EscalationPolicy | None:
        """The escalation policy a new promise with these attributes gets, if any.

        The first policy of the tracker's :class:`PolicySet` whose match fits,
        with the customer's tier from ``tier_for(customer)``.
        """
        if self._policies is None:
            return None
        tier = self._tier_for(customer) if self._tier_for is not None else None
        return self._policies.select(kind=kind, tags=tuple(tags), priority=priority, tier=tier)

    @staticmethod
    def _check_same_request(existing: Commitment, request: Mapping[str, Any]) -> None:
        """Raise ConflictError unless ``request`` repeats the one ``existing`` was made from."""
        first = existing.history[0].data
        due = request["due"]
        if isinstance(due, Within):
            same_due = first.get("spec") == due.to_string()
        elif isinstance(due, _dt.datetime):
            same_due = first.get("spec") is None and first["due_at"] == (
                to_utc(due, "due").isoformat()
            )
        else:
            same_due = False
        terms = request["terms"]
        differs = [
            name
            for name, same in (
                ("customer", first["customer"] == request["customer"]),
                ("owner", first["owner"] == request["owner"]),
                ("kind", first["kind"] == request["kind"]),
                ("what", first["what"] == request["what"]),
                ("due", same_due),
                ("terms", first["terms"] == freeze_json({} if terms is None else terms, "terms")),
            )
            if not same
        ]
        if differs:
            raise ConflictError(
                f"external_ref {existing.external_ref!r} already names commitment "
                f"{existing.id} with a different {', '.join(differs)}",
                argument="external_ref",
                fix="use a new external_ref for a different promise; repeat the same "
                "request to get the existing one",
            )

    # ------------------------------------------------------------------ reading

    def get(self, commitment: CommitmentOrId) -> Commitment:
        """The stored state of a commitment (given it or its id).

        Raises:
            NotFoundError: no such commitment in this tenant.
        """
        return self._store.get(self._tenant, self._id_of(commitment))

    def find(self, **filters: Any) -> list[Commitment]:
        """This tenant's commitments matching ``filters`` (the fields of :class:`Query`).

        Args:
            **filters: ``customer``, ``owner``, ``kind``, ``statuses``,
                ``due_after``, ``due_before``, ``waiting_for``,
                ``external_ref``, ``limit``, ``order``.

        Raises:
            InvalidArgumentError: an unknown or invalid filter.
        """
        return self._store.find(self._tenant, self._query(filters))

    def count(self, **filters: Any) -> int:
        """How many of this tenant's commitments match ``filters`` (see :meth:`find`)."""
        return self._store.count(self._tenant, self._query(filters))

    def due(
        self,
        *,
        within: Within | _dt.timedelta | None = None,
        until: _dt.datetime | None = None,
        **filters: Any,
    ) -> list[Commitment]:
        """Open commitments due by a point in time, soonest first (overdue ones included).

        Args:
            within: due within this much from now: a ``within(...)`` spec on the
                default calendar, or a ``timedelta`` of real time.
            until: due at or before this instant.  Give at most one of
                ``within`` and ``until``; with neither, every open commitment.
            **filters: further :class:`Query` fields (``owner=...``, ``limit=...``).

        Raises:
            InvalidArgumentError: both ``within`` and ``until``, or a bad filter.
            NaiveDatetimeError: ``until`` is naive.
        """
        if within is not None and until is not None:
            raise InvalidArgumentError(
                "give within or until, not both", argument="within", fix="drop one of them"
            )
        limit_at: _dt.datetime | None = None
        if until is not None:
            limit_at = to_utc(until, "until")
        elif within is not None:
            now = self.now()
            if isinstance(within, Within):
                limit_at = to_utc(self._calendar.resolve(now, within), "within")
            elif isinstance(within, _dt.timedelta):
                if within < _dt.timedelta(0):
                    raise InvalidArgumentError("must not be negative", argument="within")
                limit_at = now + within
            else:
                raise InvalidArgumentError(
                    f"must be a within(...) spec or a timedelta, not {type(within).__name__}",
                    argument="within",
                )
        filters.setdefault("statuses", frozenset({Status.OPEN}))
        if limit_at is not None:
            filters["due_before"] = limit_at + _dt.timedelta(microseconds=1)
        return self.find(**filters)

    def overdue(self, **filters: Any) -> list[Commitment]:
        """Open commitments whose deadline has passed (``due_at < now``), oldest deadline first.

        Args:
            **filters: further :class:`Query` fields (``owner=...``, ``limit=...``).
        """
        filters["statuses"] = frozenset({Status.OPEN})
        filters["due_before"] = self.now()
        return self.find(**filters)

    def explain(self, commitment: CommitmentOrId) -> str:
        """Say in plain words why a commitment is due when it is.

        The calendar's explanation of the deadline spec from when it was set
        (the promise or the last renegotiation), then how pauses moved it,
        then how it ended.

        Raises:
            NotFoundError: given an id that is not in this tenant.
        """
        c = commitment if isinstance(commitment, Commitment) else self.get(commitment)
        if isinstance(commitment, Commitment):
            self._check_tenant(commitment)
        zone = c.calendar.zone
        anchor = next(e for e in reversed(c.history) if e.kind in ("promised", "renegotiated"))
        if c.spec is not None:
            base_text = c.calendar.explain(anchor.at, Within.parse(c.spec))
            base_due = to_utc(c.calendar.resolve(anchor.at, Within.parse(c.spec)), "due")
        else:
            base_due = to_utc(_dt.datetime.fromisoformat(anchor.data["due_at"]), "due")
            base_text = f"a fixed deadline: due {_fmt(base_due, zone)}"
        parts = [base_text]
        if anchor.kind == "renegotiated":
            parts.insert(0, f"renegotiated {_fmt(anchor.at, zone, tz=False)}")
        if c.due_at != base_due:
            parts.append(f"moved by pauses and recalculations to {_fmt(c.due_at, zone)}")
        if c.status is Status.PAUSED:
            parts.append("paused: the clock is stopped")
        elif c.status is Status.KEPT:
            if c.on_time:
                parts.append("kept on time")
            else:
                parts.append(f"kept {_fmt_delta(c.lateness)} of business time late")
        elif c.status is Status.BROKEN:
            parts.append("broken")
        elif c.status is Status.CANCELLED:
            parts.append("cancelled")
        elif c.breached_at is not None:
            parts.append(f"missed its deadline of {_fmt(c.breached_at, zone)}")
        return "; ".join(parts)

    # ------------------------------------------------------------------ changing

    def keep(
        self,
        commitment: CommitmentOrId,
        *,
        at: _dt.datetime | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Mark a commitment kept (at ``at``, default now).

        See :func:`keepword.transitions.keep`: a late keep records the breach
        and the business-time lateness.

        Raises:
            InvalidTransitionError: it is already kept, broken or cancelled.
            InvalidArgumentError: ``at`` is in the future or before the promise.
            ConflictError: given a stale commitment object (or three lost races).
            NotFoundError: not in this tenant.
        """
        return self._change(commitment, lambda c, now: _t.keep(c, now=now, kept_at=at, actor=actor))

    def fail(
        self, commitment: CommitmentOrId, *, reason: str, actor: str | None = None
    ) -> Commitment:
        """Declare that a commitment cannot be kept (``BROKEN``); ``reason`` is required.

        Raises:
            InvalidTransitionError: it is already kept, broken or cancelled.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment, lambda c, now: _t.fail(c, now=now, reason=reason, actor=actor)
        )

    def cancel(
        self,
        commitment: CommitmentOrId,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Cancel a commitment (the customer withdrew it, or it no longer applies).

        Raises:
            InvalidTransitionError: it is already kept, broken or cancelled.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment, lambda c, now: _t.cancel(c, now=now, reason=reason, actor=actor)
        )

    def pause(
        self, commitment: CommitmentOrId, *, reason: str, actor: str | None = None
    ) -> Commitment:
        """Stop a commitment's clock; ``reason`` is required and recorded.

        Raises:
            InvalidTransitionError: it is not open.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment, lambda c, now: _t.pause(c, now=now, reason=reason, actor=actor)
        )

    def resume(self, commitment: CommitmentOrId, *, actor: str | None = None) -> Commitment:
        """Restart a paused commitment's clock; the deadline moves by the paused business time.

        Raises:
            InvalidTransitionError: it is not paused.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(commitment, lambda c, now: _t.resume(c, now=now, actor=actor))

    def renegotiate(
        self,
        commitment: CommitmentOrId,
        *,
        due: Within | _dt.datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Agree a new deadline (``within(...)`` from now, or an instant); a breach stays.

        Raises:
            InvalidTransitionError: it is not open.
            InvalidArgumentError: the new deadline is in the past.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment,
            lambda c, now: _t.renegotiate(c, now=now, due=due, reason=reason, actor=actor),
        )

    def reassign(
        self,
        commitment: CommitmentOrId,
        *,
        owner: str,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Give a commitment a new single owner.

        Raises:
            InvalidTransitionError: it is kept, broken or cancelled.
            InvalidArgumentError: ``owner`` is invalid or already the owner.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment,
            lambda c, now: _t.reassign(c, now=now, owner=owner, reason=reason, actor=actor),
        )

    def retarget(
        self,
        commitment: CommitmentOrId,
        *,
        calendar: BusinessCalendar | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Move a commitment onto a calendar and recompute its deadline, on purpose.

        Args:
            commitment: the commitment or its id.
            calendar: the calendar to use; by default the one a new promise to
                this customer would get today (:meth:`calendar_for`).
            actor: who asked.

        Raises:
            InvalidTransitionError: it is kept, broken or cancelled.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return self._change(
            commitment,
            lambda c, now: _t.retarget(
                c,
                now=now,
                calendar=calendar if calendar is not None else self.calendar_for(c.customer),
                actor=actor,
            ),
        )

    def mark_breached(self, commitment: CommitmentOrId, *, actor: str | None = None) -> Commitment:
        """Record the breach of an open commitment whose deadline has passed (if not yet recorded).

        Returns the commitment unchanged (nothing written) when there is
        nothing to record.
        """
        return self._change(commitment, lambda c, now: _t.mark_breached(c, now=now, actor=actor))

    # ------------------------------------------------------------------ the tick

    @property
    def worker(self) -> str:
        """This process's worker id for claims: fresh per tracker and per process."""
        if self._worker_pid != os.getpid():
            self._worker_pid = os.getpid()
            self._worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        return self._worker_id

    def tick(self, now: _dt.datetime | None = None, *, limit: int = 500) -> TickReport:
        """Fire every escalation step whose time has come, in order, exactly once.

        Claims due commitments (other workers skip them), decides with the
        pure :func:`keepword.transitions.escalate`, and writes each result with
        its notices in one transaction.  A notice's idempotency key is unique
        in the store, so ticking twice, from many processes, or again after a
        crash never writes a notice twice.  The first tick past a deadline
        records the breach.  Missed ticks catch up in order, flagged late.

        Args:
            now: the tick's instant (default: the tracker's clock).
            limit: at most this many commitments this call (``> 0``); the
                report's ``more`` says whether due work remains.

        Returns:
            A :class:`TickReport`.

        Several processes may tick one database at once (PostgreSQL scales
        out); a commitment whose write lost a race is counted in
        ``conflicts`` and picked up by the next tick.
        """
        at = self.now() if now is None else to_utc(now, "now")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError("must be a positive int", argument="limit")
        fired: list[Notice] = []
        processed = conflicts = breaches = 0
        seen: set[str] = set()
        while processed < limit:
            token, claimed = self._store.claim_due(
                self._tenant,
                at,
                limit=min(limit - processed, 100),
                lease=self._lease,
                worker=self.worker,
            )
            fresh = [c for c in claimed if c.id not in seen]
            if not fresh:
                if claimed:
                    self._store.release(self._tenant, [c.id for c in claimed], token)
                break
            idle: list[str] = []
            fires: list[Fire] = []
            breached: list[int] = []
            for c in fresh:
                seen.add(c.id)
                processed += 1
                new, events, notices = _t.escalate(
                    c, now=at, new_id=lambda: new_id(at), late_after=self._late_after
                )
                if not events:
                    idle.append(c.id)
                    continue
                fires.append(Fire(new, c.version, notices))
                breached.append(sum(1 for e in events if e.kind == "breached"))
            outcomes: Sequence[object]
            try:
                outcomes = self._store.fire_many(self._tenant, fires, token=token)
            except ConflictError:  # e.g. a reused notice id: the whole batch wrote nothing
                outcomes = [None] * len(fires)
            for fire, outcome, breaches_here in zip(fires, outcomes, breached, strict=True):
                if isinstance(outcome, Commitment):
                    breaches += breaches_here
                    fired.extend(fire.notices)
                else:  # the version moved on or another worker took the claim
                    conflicts += 1
                    idle.append(fire.commitment.id)
            if idle:
                self._store.release(self._tenant, idle, token)
        more = False
        if processed >= limit:  # stopped at the limit: is due work left?
            wake = self._store.next_action_at(self._tenant)
            more = wake is not None and wake <= at
        return TickReport(
            at=at,
            notices=tuple(fired),
            commitments=processed,
            breaches=breaches,
            conflicts=conflicts,
            more=more,
        )

    def next_wakeup(self) -> _dt.datetime | None:
        """When the next step is due anywhere in this tenant (``None``: nothing scheduled).

        A host scheduler can sleep exactly until then instead of polling.
        """
        return self._store.next_action_at(self._tenant)

    # ------------------------------------------------------------------ the outbox

    def pending_notices(self, limit: int = 100) -> list[Notice]:
        """Notices not yet acknowledged nor under a live claim, oldest first."""
        return self._store.pending_notices(self._tenant, limit=check_positive(limit, "limit"))

    def claim_notices(
        self, limit: int = 100, *, lease: _dt.timedelta | None = None
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` notices to deliver; returns ``(token, notices)``.

        Acknowledge them with :meth:`ack_notices` once delivered.  If the
        consumer dies first, the claim expires after ``lease`` (default: the
        tracker's lease) and the notices are delivered again: at least once.
        """
        lease = self._lease if lease is None else check_lease(lease)
        return self._store.claim_notices(
            self._tenant, limit=check_positive(limit, "limit"), lease=lease, worker=self.worker
        )

    def ack_notices(self, ids: Iterable[str], token: str) -> int:
        """Mark delivered the claimed notices ``ids``; returns how many were acknowledged."""
        token = check_identifier(token, "token")
        return self._store.ack_notices(self._tenant, check_ids(ids), token)

    def release_notices(self, ids: Iterable[str], token: str) -> int:
        """Hand claimed notices back for delivery by someone else, at once."""
        return self._store.release_notices(
            self._tenant, check_ids(ids), check_identifier(token, "token")
        )

    def dispatch(
        self,
        handler: Callable[[Notice], object],
        *,
        limit: int = 100,
        lease: _dt.timedelta | None = None,
    ) -> DispatchReport:
        """Claim notices, call ``handler`` on each in order, acknowledge the ones it took.

        A notice is acknowledged only when ``handler`` returned without
        raising; the others are released for the next dispatch.  keepword
        never sends anything itself: ``handler`` is the host's mailer,
        webhook or queue.

        >>> import datetime as dt
        >>> from keepword import BusinessCalendar, FrozenClock, MemoryStore, within
        >>> from keepword import EscalationPolicy, Step, at_due
        >>> clock = FrozenClock(dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC))
        >>> policy = EscalationPolicy("p", steps=[Step(at_due(), notify="manager")])
        >>> tracker = Tracker(MemoryStore(), calendar=BusinessCalendar(tz="UTC"), clock=clock,
        ...                   policies=policy)
        >>> c = tracker.promise(customer="acct-1", owner="alice", kind="reply", what="Reply",
        ...                     due=within(hours=2))
        >>> report = tracker.tick(clock.advance(hours=3))
        >>> [(n.recipient, n.step) for n in report.notices]
        [('manager', 'at_due() -> manager')]
        >>> tracker.dispatch(lambda notice: print("send to", notice.recipient)).delivered
        send to manager
        1
        >>> tracker.pending_notices()
        []
        """
        token, notices = self.claim_notices(limit, lease=lease)
        delivered: list[str] = []
        failed: list[tuple[Notice, BaseException]] = []
        for notice in notices:
            try:
                handler(notice)
            except Exception as exc:  # the host's failure: keep the notice for later
                failed.append((notice, exc))
            else:
                delivered.append(notice.id)
        acked = self._store.ack_notices(self._tenant, delivered, token) if delivered else 0
        if failed:
            self._store.release_notices(self._tenant, [n.id for n, _ in failed], token)
        return DispatchReport(delivered=acked, failed=tuple(failed))

    # ------------------------------------------------------------------ internals

    def _change(
        self,
        commitment: CommitmentOrId,
        decide: Callable[[Commitment, _dt.datetime], Change],
    ) -> Commitment:
        if isinstance(commitment, Commitment):
            self._check_tenant(commitment)
            new, events = decide(commitment, self.now())
            if not events:
                return commitment
            return self._store.update(new, expected_version=commitment.version)
        id = self._id_of(commitment)
        for attempt in range(MAX_RETRIES + 1):
            current = self._store.get(self._tenant, id)
            new, events = decide(current, self.now())
            if not events:
                return current
            try:
                return self._store.update(new, expected_version=current.version)
            except ConflictError:
                if attempt == MAX_RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_tenant(self, commitment: Commitment) -> None:
        if commitment.tenant != self._tenant:
            raise NotFoundError("commitment", commitment.id, argument="commitment")

    def _id_of(self, commitment: CommitmentOrId) -> str:
        if isinstance(commitment, Commitment):
            self._check_tenant(commitment)
            return commitment.id
        if isinstance(commitment, str):
            return check_identifier(commitment, "commitment")
        raise InvalidArgumentError(
            f"must be a Commitment or its id, not {type(commitment).__name__}",
            argument="commitment",
        )

    @staticmethod
    def _query(filters: Mapping[str, Any]) -> Query:
        names = {a.name for a in attrs.fields(Query)}
        unknown = sorted(set(filters) - names)
        if unknown:
            raise InvalidArgumentError(
                f"unknown filter(s): {', '.join(unknown)} (known: {', '.join(sorted(names))})",
                argument=unknown[0],
            )
        return Query(**filters)


@attrs.frozen(kw_only=True)
class TickReport:
    """What one :meth:`Tracker.tick` did.

    Attributes:
        at: the tick's instant.
        notices: the notices it wrote, in the order they fired.
        commitments: how many due commitments it looked at.
        breaches: how many deadlines it recorded as broken.
        conflicts: how many writes lost a race (the next tick retries them).
        more: due work remains (``limit`` was reached): tick again.
    """

    at: _dt.datetime
    notices: tuple[Notice, ...]
    commitments: int
    breaches: int
    conflicts: int
    more: bool

    @property
    def fired(self) -> int:
        """How many notices this tick wrote."""
        return len(self.notices)

    @property
    def late(self) -> int:
        """How many notices fired late (missed ticks catching up)."""
        return sum(1 for n in self.notices if n.late)


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :meth:`Tracker.dispatch` did.

    Attributes:
        delivered: notices the handler took and that are now acknowledged.
        failed: ``(notice, exception)`` for each notice the handler raised on;
            they were released and will be delivered again.
    """

    delivered: int
    failed: tuple[tuple[Notice, BaseException], ...]


def _fmt(value: _dt.datetime, zone: _dt.tzinfo, *, tz: bool = True) -> str:
    local = value.astimezone(zone)
    text = f"{local.strftime('%a')} {local.day} {local.strftime('%b')} {local:%H:%M}"
    return f"{text} {local.strftime('%Z')}" if tz else text


def _fmt_delta(delta: _dt.timedelta | None) -> str:
    seconds = 0 if delta is None else int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"
