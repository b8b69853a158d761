"""The Tracker: the application service a host calls.

A :class:`Tracker` is bound to one store, one tenant and one clock (its
:class:`~keepword.services.Context`) and delegates each call to the service
for that use case (:mod:`keepword.services`): promising, keeping, finding,
ticking and delivering.  Each service loads what it needs, decides with the
pure transitions, and saves with the version it read, so a write that lost a
race raises :class:`~keepword.errors.ConflictError` instead of losing the
other write.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from keepword import explain as _explain
from keepword import transitions as _t
from keepword._instant import to_utc
from keepword._validate import check_identifier, check_positive
from keepword.calendar import BusinessCalendar, Within
from keepword.clock import Clock
from keepword.commitment import Commitment
from keepword.errors import InvalidArgumentError
from keepword.escalation import EscalationPolicy, PolicySet
from keepword.fairness import (
    DEFAULT_MAX_RENEGOTIATIONS,
    DEFAULT_PAUSE_WINDOW,
    AuditRules,
    FairnessReport,
    WaitingEntry,
)
from keepword.notice import Notice
from keepword.playbook import Playbook
from keepword.ports import CommitmentRepository, declared_ports
from keepword.scorecard import BreachReport, Scorecard, ServiceLevel, ServiceThresholds
from keepword.services import (
    allocating,
    auditing,
    caring,
    delivering,
    finding,
    keeping,
    measuring,
    promising,
    quoting,
    replying,
    telling,
    ticking,
)
from keepword.services._context import CommitmentOrId, Context
from keepword.services.caring import ExtraMile, OwedThanks, ThankYou, Touched
from keepword.services.delivering import DispatchReport
from keepword.services.keeping import MAX_RETRIES
from keepword.services.promising import PromiseRequest
from keepword.services.ticking import TickReport
from keepword.telling import CustomerStatus
from keepword.touchpoint import Touchpoint

__all__ = ["MAX_RETRIES", "DispatchReport", "TickReport", "Tracker"]


class Tracker:
    """The service a host calls to make, keep and look up commitments.

    Args:
        store: where commitments live (``MemoryStore``, ``SqlStore``, or any
            store with at least the commitment repository port; ticking needs
            the tick queue, the notice methods the outbox, and a call that
            needs a port the store lacks raises
            :class:`~keepword.errors.MissingPortError` naming it).
        calendar: the default business calendar for new commitments.
        tenant: the tenant every call is confined to.
        clock: where "now" comes from (``FrozenClock`` in tests).
        calendar_for: optionally, ``customer -> BusinessCalendar | None``,
            the calendar for a customer's promises (``None`` means the
            default ``calendar``).
        policies: escalation policies; a new promise gets the first whose
            match fits.
        tier_for: optionally, ``customer -> tier | None`` for policy matching.
        late_after: how late a step may fire before its notice is flagged late.
        lease: how long a tick's or a deliverer's claim holds.
        playbook: the customer-care :class:`~keepword.playbook.Playbook`
            (default :data:`~keepword.playbook.DEFAULT_PLAYBOOK`).
        playbook_for: optionally, ``customer -> Playbook | None``, the
            playbook for a customer (``None`` means the default ``playbook``).
        locale_for: optionally, ``customer -> language tag | None`` (``"sv"``,
            ``"zh_CN"``), the language customer-facing texts use for them
            (``None`` means the language of the customer's calendar's
            country, else English).

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
        store: CommitmentRepository,
        *,
        calendar: BusinessCalendar,
        tenant: str = "default",
        clock: Clock | None = None,
        calendar_for: Callable[[str], BusinessCalendar | None] | None = None,
        policies: PolicySet | Sequence[EscalationPolicy] | EscalationPolicy | None = None,
        tier_for: Callable[[str], str | None] | None = None,
        late_after: _dt.timedelta = _dt.timedelta(minutes=5),
        lease: _dt.timedelta = _dt.timedelta(seconds=60),
        playbook: Playbook | None = None,
        playbook_for: Callable[[str], Playbook | None] | None = None,
        locale_for: Callable[[str], str | None] | None = None,
    ):
        self._ctx = Context(
            store=store,
            calendar=calendar,
            tenant=tenant,
            clock=clock,
            calendar_for=calendar_for,
            policies=policies,
            tier_for=tier_for,
            late_after=late_after,
            lease=lease,
            playbook=playbook,
            playbook_for=playbook_for,
            locale_for=locale_for,
        )

    def __repr__(self) -> str:
        return f"Tracker(tenant={self.tenant!r}, store={self.store!r})"

    # ------------------------------------------------------------------ the context

    @property
    def context(self) -> Context:
        """The context every call runs in (store, tenant, clock, calendars, policies)."""
        return self._ctx

    @property
    def store(self) -> CommitmentRepository:
        """The store this tracker reads and writes."""
        return self._ctx.store

    @property
    def tenant(self) -> str:
        """The tenant every call is confined to."""
        return self._ctx.tenant

    @property
    def clock(self) -> Clock:
        """The clock this tracker reads "now" from."""
        return self._ctx.clock

    @property
    def calendar(self) -> BusinessCalendar:
        """The default calendar for new commitments."""
        return self._ctx.calendar

    @property
    def worker(self) -> str:
        """This process's worker id for claims: fresh per tracker and per process."""
        return self._ctx.worker

    def now(self) -> _dt.datetime:
        """The current instant per the tracker's clock, in UTC."""
        return self._ctx.now()

    def calendar_for(self, customer: str) -> BusinessCalendar:
        """The calendar a new promise to ``customer`` runs on.

        ``calendar_for(customer)`` if one was given and returns a calendar,
        else the default calendar.

        Raises:
            InvalidArgumentError: ``calendar_for`` returned something else.
        """
        return self._ctx.calendar_of(customer)

    def policy_for(
        self, customer: str, *, kind: str, tags: Iterable[str] = (), priority: int = 0
    ) -> EscalationPolicy | None:
        """The escalation policy a new promise with these attributes gets, if any.

        The first policy of the tracker's :class:`PolicySet` whose match fits,
        with the customer's tier from ``tier_for(customer)``.
        """
        return self._ctx.policy_of(customer, kind=kind, tags=tuple(tags), priority=priority)

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
        channel: str | None = None,
        terms: Mapping[str, Any] | None = None,
        actor: str | None = None,
        quantity: int | None = None,
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
            channel: where the customer is answered or reached (``"email"``, ...).
            terms: the agreed terms, a JSON object.
            actor: who made the promise.
            quantity: units of ``waiting_for`` it waits for (``> 0``, default
                1), kept as ``terms["quantity"]``; see :meth:`allocate`.

        Returns:
            The stored commitment (version 1), or the existing one for a
            repeated ``external_ref``.

        Raises:
            InvalidArgumentError: an argument is invalid, or ``due`` is before now.
            NaiveDatetimeError: ``due`` is naive.
            ConflictError: ``external_ref`` exists with a different request.
        """
        request = PromiseRequest(
            customer=customer,
            owner=owner,
            kind=kind,
            what=what,
            due=due,
            external_ref=external_ref,
            tags=tags,
            priority=priority,
            waiting_for=waiting_for,
            channel=channel,
            terms=terms,
            actor=actor,
            quantity=quantity,
        )
        return promising.promise(self._ctx, request)

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
        requests = [
            PromiseRequest.from_mapping(item, f"items[{i}]") for i, item in enumerate(items)
        ]
        return promising.promise_many(self._ctx, requests)

    # ------------------------------------------------------------------ reading

    def get(self, commitment: CommitmentOrId) -> Commitment:
        """The stored state of a commitment (given it or its id).

        Raises:
            NotFoundError: no such commitment in this tenant.
        """
        return finding.get(self._ctx, commitment)

    def find(self, **filters: Any) -> list[Commitment]:
        """This tenant's commitments matching ``filters`` (the fields of :class:`Query`).

        Args:
            **filters: ``customer``, ``owner``, ``kind``, ``statuses``,
                ``due_after``, ``due_before``, ``waiting_for``,
                ``external_ref``, ``limit``, ``order``.

        Raises:
            InvalidArgumentError: an unknown or invalid filter.
        """
        return finding.find(self._ctx, filters)

    def count(self, **filters: Any) -> int:
        """How many of this tenant's commitments match ``filters`` (see :meth:`find`)."""
        return finding.count(self._ctx, filters)

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
        return finding.due(self._ctx, within, until, filters)

    def overdue(self, **filters: Any) -> list[Commitment]:
        """Open commitments whose deadline has passed (``due_at < now``), oldest deadline first.

        Args:
            **filters: further :class:`Query` fields (``owner=...``, ``limit=...``).
        """
        return finding.overdue(self._ctx, filters)

    def explain(
        self,
        commitment: CommitmentOrId,
        *,
        audience: _explain.Audience = "staff",
        locale: str | None = None,
    ) -> str:
        """Say in plain words why a commitment is due when it is, or what its customer can expect.

        Staff (the default) read, in English, the calendar's explanation of the
        deadline spec from when it was set (the promise or the last
        renegotiation), the pauses that moved it, how it ended, and the
        escalation policy's next step.
        The customer reads one sentence in their language and time zone, with
        "today", "tomorrow" and "by Friday" judged from the tracker's clock and
        no internal words: "You'll hear from us by Friday 27 November, 17:00."

        Args:
            commitment: the commitment or its id.
            audience: ``"staff"`` or ``"customer"``.
            locale: the customer's language (``"en"``, ``"sv"``, ``"zh"``, ...);
                by default ``locale_for``'s choice, else the language of the
                calendar's country, else English.

        Raises:
            InvalidArgumentError: an unknown audience or a malformed locale.
            NotFoundError: given an id that is not in this tenant.
        """
        return telling.explain(self._ctx, commitment, audience, locale)

    def locale_for(self, customer: str) -> str:
        """The language customer-facing texts for ``customer`` are in (see ``locale_for=``)."""
        return self._ctx.locale_of(check_identifier(customer, "customer"))

    def status_for(
        self,
        customer: str,
        *,
        locale: str | None = None,
        kept_within: _dt.timedelta = _dt.timedelta(days=30),
    ) -> CustomerStatus:
        """A customer's promises as data for a host's status page or e-mail.

        Each open promise with its customer-facing sentence (replies owed on
        the customer's messages apart), paused ones saying why, and those kept
        within ``kept_within``; no internal fields, and only this tenant's
        promises to this customer.  ``to_dict()`` gives JSON.

        Args:
            customer: the customer's id.
            locale: the language of the sentences (default as for :meth:`explain`).
            kept_within: how far back kept promises are shown.

        Raises:
            InvalidArgumentError: a malformed customer, locale or ``kept_within``.
        """
        return telling.status_for(self._ctx, customer, locale, kept_within)

    # ------------------------------------------------------------------ changing

    def keep(
        self,
        commitment: CommitmentOrId,
        *,
        at: _dt.datetime | None = None,
        actor: str | None = None,
        as_promised: bool = True,
        deviation: Mapping[str, Any] | None = None,
    ) -> Commitment:
        """Mark a commitment kept (at ``at``, default now).

        See :func:`keepword.transitions.keep`: a late keep records the breach
        and the business-time lateness; a keep by a deadline renegotiated
        after the breach is "kept after breach", never on time.  Pass
        ``as_promised=False`` (and the ``deviation``, e.g. ``{"price": ...}``)
        for a keep on changed terms; the scorecard counts it apart.

        Raises:
            InvalidTransitionError: it is already kept, broken or cancelled.
            InvalidArgumentError: ``at`` is in the future or before the promise.
            ConflictError: given a stale commitment object (or three lost races).
            NotFoundError: not in this tenant.
        """
        return keeping.change(
            self._ctx,
            commitment,
            lambda c, now: _t.keep(
                c, now=now, kept_at=at, actor=actor, as_promised=as_promised, deviation=deviation
            ),
        )

    def fail(
        self, commitment: CommitmentOrId, *, reason: str, actor: str | None = None
    ) -> Commitment:
        """Declare that a commitment cannot be kept (``BROKEN``); ``reason`` is required.

        Raises:
            InvalidTransitionError: it is already kept, broken or cancelled.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return keeping.change(
            self._ctx, commitment, lambda c, now: _t.fail(c, now=now, reason=reason, actor=actor)
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
        return keeping.change(
            self._ctx,
            commitment,
            lambda c, now: _t.cancel(c, now=now, reason=reason, actor=actor),
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
        return keeping.change(
            self._ctx, commitment, lambda c, now: _t.pause(c, now=now, reason=reason, actor=actor)
        )

    def resume(self, commitment: CommitmentOrId, *, actor: str | None = None) -> Commitment:
        """Restart a paused commitment's clock; the deadline moves by the paused business time.

        Raises:
            InvalidTransitionError: it is not paused.
            ConflictError: a stale commitment object.
            NotFoundError: not in this tenant.
        """
        return keeping.change(
            self._ctx, commitment, lambda c, now: _t.resume(c, now=now, actor=actor)
        )

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
        return keeping.change(
            self._ctx,
            commitment,
            lambda c, now: _t.renegotiate(c, now=now, due=due, reason=reason, actor=actor),
        )

    def reopen(
        self,
        commitment: CommitmentOrId,
        *,
        due: Within | _dt.datetime,
        reason: str,
        owner: str | None = None,
        what: str | None = None,
        actor: str | None = None,
    ) -> Commitment:
        """Reopen a kept promise: a new promise saying which kept one it reopens, and why.

        The kept promise stays kept.  The new one repeats its customer, kind,
        channel, tags, priority and terms (``owner`` and ``what`` default to
        the kept one's), runs to ``due``, and counts as rework in the
        scorecard (``extra["reopened"]``, and in the total's ``"rework"``)
        when it is reopened within
        :data:`~keepword.transitions.REWORK_BUSINESS_DAYS` business days of
        the keep.  See :func:`keepword.transitions.reopen`.

        Raises:
            InvalidTransitionError: it is not kept (renegotiate an open one).
            InvalidArgumentError: a bad ``due`` (or in the past), ``reason``,
                ``owner`` or ``what``.
            NotFoundError: not in this tenant.
        """
        return promising.reopen(
            self._ctx, commitment, due=due, reason=reason, owner=owner, what=what, actor=actor
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
        return keeping.change(
            self._ctx,
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
        return keeping.change(
            self._ctx,
            commitment,
            lambda c, now: _t.retarget(
                c, now=now, calendar=calendar or self.calendar_for(c.customer), actor=actor
            ),
        )

    def mark_breached(self, commitment: CommitmentOrId, *, actor: str | None = None) -> Commitment:
        """Record the breach of an open commitment whose deadline has passed (if not yet recorded).

        Returns the commitment unchanged (nothing written) when there is
        nothing to record.
        """
        return keeping.change(
            self._ctx, commitment, lambda c, now: _t.mark_breached(c, now=now, actor=actor)
        )

    # ------------------------------------------------------------------ the tick

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
        return ticking.tick(self._ctx, at, check_positive(limit, "limit"))

    def next_wakeup(self) -> _dt.datetime | None:
        """When the next step is due anywhere in this tenant (``None``: nothing scheduled).

        A host scheduler can sleep exactly until then instead of polling.
        """
        return ticking.next_wakeup(self._ctx)

    # ------------------------------------------------------------------ the outbox

    def pending_notices(self, limit: int = 100) -> list[Notice]:
        """Notices not yet acknowledged nor under a live claim, oldest first."""
        return delivering.pending(self._ctx, limit)

    def claim_notices(
        self, limit: int = 100, *, lease: _dt.timedelta | None = None
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` notices to deliver; returns ``(token, notices)``.

        Acknowledge them with :meth:`ack_notices` once delivered.  If the
        consumer dies first, the claim expires after ``lease`` (default: the
        tracker's lease) and the notices are delivered again: at least once.
        """
        return delivering.claim(self._ctx, limit, lease)

    def ack_notices(self, ids: Iterable[str], token: str) -> int:
        """Mark delivered the claimed notices ``ids``; returns how many were acknowledged."""
        return delivering.ack(self._ctx, ids, token)

    def release_notices(self, ids: Iterable[str], token: str) -> int:
        """Hand claimed notices back for delivery by someone else, at once."""
        return delivering.release(self._ctx, ids, token)

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
        return delivering.dispatch(self._ctx, handler, limit, lease)

    # ------------------------------------------------------------------ customer care

    @property
    def playbook(self) -> Playbook:
        """The default customer-care playbook."""
        return self._ctx.playbook

    def playbook_for(self, customer: str) -> Playbook:
        """The playbook for ``customer`` (``playbook_for(customer)`` or the default)."""
        return self._ctx.playbook_of(customer)

    def received(
        self,
        customer: str,
        *,
        channel: str,
        ref: str,
        thread: str | None = None,
        at: _dt.datetime | None = None,
        automated: bool = False,
    ) -> Commitment | None:
        """Record a message from a customer and open the reply it is owed.

        The reply (kind ``"reply"``, ``external_ref`` ``"reply:" + ref``) is
        due by the playbook's response target for ``channel``, counted in the
        customer's business time from ``at`` (from the next opening when the
        business is closed).  The same ``ref`` again returns the same
        commitment.  A message from the customer resumes their commitments
        paused with one of the playbook's waiting-on-customer reasons (the
        deadline moves by the business time paused) and, if the playbook says
        so, cancels their pending follow-ups.  An ``automated`` message (an
        out-of-office, a bounce) is recorded and owes nothing: returns ``None``.

        Raises:
            InvalidArgumentError: a bad argument (a channel the playbook does
                not accept, an empty customer, a future ``at``), naming it.
            NaiveDatetimeError: ``at`` is naive.
            ConflictError: ``ref`` was received from another customer.
            MissingPortError: the store has no touchpoint log.
        """
        return replying.received(
            self._ctx,
            customer,
            channel=channel,
            ref=ref,
            thread=thread,
            at=at,
            automated=automated,
        )

    def replied(
        self,
        ref: str,
        *,
        automated: bool = False,
        at: _dt.datetime | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        """Record a reply to message ``ref``; returns the reply commitments it kept.

        A person's reply keeps the reply owed for the message and every
        earlier open one on the same thread (no thread: the message alone); an
        ``automated`` reply is recorded and keeps nothing.  A message received
        after the reply owes a new reply.

        Raises:
            NotFoundError: no message ``ref`` was received.
            InvalidArgumentError: ``at`` before the message, or in the future.
        """
        return replying.replied(self._ctx, ref, automated=automated, at=at, actor=actor)

    def no_reply_needed(self, ref: str, *, reason: str, actor: str) -> Commitment:
        """Waive the reply owed for message ``ref`` (a "thanks, solved!"), on the record.

        Cancels it with ``{"reason": reason, "waived": true}`` in its history.

        Raises:
            NotFoundError: no message ``ref``, or it owes no reply.
            InvalidArgumentError: ``reason`` or ``actor`` missing.
            InvalidTransitionError: the reply is already closed.
        """
        return replying.no_reply_needed(self._ctx, ref, reason=reason, actor=actor)

    def occurred(
        self,
        customer: str,
        occasion: str,
        *,
        at: _dt.datetime | None = None,
        ref: str | None = None,
        on: _dt.date | None = None,
        channel: str | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        """Record an occasion (``"sale"``, ``"referral"``, ...) and open what the playbook names.

        Each commitment is due per its rule: ``within(...)`` after ``at``, or
        ``before=N`` business days before the date ``on``.  The same ``ref``
        twice opens nothing new and returns the first call's commitments.  A
        quiet occasion (a complaint) holds open thank-yous (paused) until its
        closing occasion (the complaint resolved) resumes them.

        Raises:
            KeepwordError: the playbook has no rule for ``occasion``.
            InvalidArgumentError: a bad argument, naming it (nothing written).
            ConflictError: ``ref`` was recorded for another customer or occasion.
        """
        return caring.occurred(
            self._ctx, customer, occasion, at=at, ref=ref, on=on, channel=channel, actor=actor
        )

    def thank(
        self,
        customer: str,
        *,
        channel: str,
        occasion: str | None = None,
        at: _dt.datetime | None = None,
        actor: str | None = None,
    ) -> ThankYou:
        """Record a thank-you and keep the oldest matching open thank-you commitment.

        One within the playbook's minimum spacing of the last counted one is
        recorded but not counted; while a quiet occasion (a complaint) is open
        it is held: nothing is recorded, and the result says why.
        """
        return caring.thank(
            self._ctx, customer, channel=channel, occasion=occasion, at=at, actor=actor
        )

    def owed_thanks(self, limit: int | None = None) -> list[OwedThanks]:
        """Relationships below the playbook's thank-you target, by customer (one query)."""
        return caring.owed_thanks(self._ctx, limit)

    def touchpoints(self, customer: str, *, kind: str | None = None) -> list[Touchpoint]:
        """The customer's story: their touchpoints in order."""
        return caring.touchpoints(self._ctx, customer, kind=kind)

    def touched(
        self,
        customer: str,
        *,
        channel: str,
        kind: str = "contact",
        at: _dt.datetime | None = None,
        actor: str | None = None,
        ref: str | None = None,
        occasion: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Touched:
        """Record any other touchpoint; a ``"contact"`` keeps an open keep-in-touch.

        A ``"follow_up"`` keeps the oldest open follow-up (as
        :meth:`followed_up`); ``"contact"`` and ``"keep_in_touch"`` keep the
        oldest open keep-in-touch commitment.  A repeated ``ref`` records
        nothing new.

        Raises:
            InvalidArgumentError: a kind with its own method (``"thank_you"``,
                ``"received"``, ``"reply"``, ``"occasion"``, ``"extra_mile"``).
        """
        return caring.touched(
            self._ctx,
            customer,
            kind=kind,
            channel=channel,
            at=at,
            actor=actor,
            ref=ref,
            occasion=occasion,
            data=data,
        )

    def followed_up(
        self,
        customer: str,
        *,
        channel: str,
        at: _dt.datetime | None = None,
        actor: str | None = None,
        ref: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Touched:
        """Record a follow-up and keep the customer's oldest open follow-up commitment."""
        return caring.followed_up(
            self._ctx, customer, channel=channel, at=at, actor=actor, ref=ref, data=data
        )

    def keep_in_touch(
        self, *, at: _dt.datetime | None = None, limit: int | None = None
    ) -> list[Commitment]:
        """Open a keep-in-touch commitment for each customer silent past the longest silence.

        Run it as often as you like (daily, say): one commitment per customer
        and silence; it is not run by :meth:`tick`.  Returns the ones opened now.
        """
        return caring.keep_in_touch(self._ctx, at=at, limit=limit)

    def extra_mile(
        self, period: str = "month", *, at: _dt.datetime | None = None, actor: str | None = None
    ) -> ExtraMile | None:
        """Pick this period's customer for a special gesture and open a commitment for it.

        Never the same customer twice until every eligible customer (a
        touchpoint or a commitment in the last 12 months) has had a turn; the
        pick is reproducible (seeded by tenant and period).  Asking again in
        the same period, from any number of processes, returns the same pick
        and opens nothing new.  ``None`` when nobody is eligible.

        Args:
            period: ``"week"``, ``"month"``, ``"quarter"`` or ``"year"``, in
                the default calendar's zone.
            at: when (default now).
            actor: who asked.
        """
        return caring.extra_mile(self._ctx, period=period, at=at, actor=actor)

    # ------------------------------------------------------------------ fairness

    def allocate(
        self,
        resource: str,
        quantity: int,
        at: _dt.datetime | None = None,
        first: Iterable[CommitmentOrId] | None = None,
        reason: str | None = None,
        actor: str | None = None,
        *,
        partial: bool = False,
    ) -> list[Commitment]:
        """Serve ``quantity`` units of ``resource`` first come, first served.

        The commitments waiting for ``resource`` (``waiting_for``, open or
        paused, units unserved) are served in the order they were made (ties
        by id), whole orders in turn: an order that does not fit stops the
        allocation (a large early order is never skipped for a small later
        one) unless ``partial=True``, which serves it in part.  Each served
        commitment gets a ``"served"`` event and stays open until kept.
        ``first`` are approved exceptions, served ahead of their turn with
        ``reason`` and ``actor`` in their history; the audit lists them apart.
        Four processes allocating one resource at once serve each unit at
        most once and, together, exactly the head of the line.

        Args:
            resource: ``"type:name"``, e.g. ``"sku:FIG-1"``.
            quantity: units to hand out (``> 0``).
            at: when (aware; default now).
            first: commitments (or ids) to serve ahead of their turn.
            reason: why they go first (required with ``first``).
            actor: who approved it (required with ``first``).
            partial: whether an order may be served in part.

        Returns:
            The served commitments, in the order served (units left over are
            simply not handed out).

        Raises:
            InvalidArgumentError: a bad argument (named); nothing is written.
            NaiveDatetimeError: ``at`` is naive.
            MissingPortError: the store has no ``"waitlists"`` port.

        >>> import datetime as dt
        >>> from keepword import BusinessCalendar, FrozenClock, MemoryStore, within
        >>> clock = FrozenClock(dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC))
        >>> t = Tracker(MemoryStore(), calendar=BusinessCalendar(tz="UTC"), clock=clock)
        >>> for who, n in (("ann", 2), ("bob", 5), ("cy", 1)):
        ...     _ = t.promise(customer=who, owner="shop", kind="order", what="Figurine",
        ...                   due=within(days=30), waiting_for="sku:FIG-1", quantity=n)
        ...     _ = clock.advance(minutes=1)
        >>> [c.customer for c in t.allocate("sku:FIG-1", 4)]
        ['ann']
        >>> [(e.position, e.commitment.customer, e.remaining) for e in t.waitlist("sku:FIG-1")]
        [(1, 'bob', 5), (2, 'cy', 1)]
        """
        return allocating.allocate(
            self._ctx,
            resource,
            quantity,
            at=at,
            first=first,
            reason=reason,
            actor=actor,
            partial=partial,
        )

    def waitlist(self, resource: str, *, limit: int | None = None) -> list[WaitingEntry]:
        """Who still waits for ``resource``, in line order, each with its position (1 = next).

        Raises:
            InvalidArgumentError: a bad ``resource`` or ``limit``.
            MissingPortError: the store has no ``"waitlists"`` port.
        """
        return allocating.waitlist(self._ctx, resource, limit=limit)

    def fairness_audit(
        self,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        *,
        pause_window: _dt.timedelta | None = None,
        max_renegotiations: int | None = None,
    ) -> FairnessReport:
        """Audit queue jumping and clock gaming over ``[since, until)``.

        Rules (:data:`keepword.fairness.RULES`): a commitment kept or served
        before an earlier one waiting for the same resource; a pause starting
        within ``pause_window`` (default 1 hour) after the customer's own
        message (skipped, and said so in ``skipped``, on a store without the
        ``"touchpoints"`` port); a deadline renegotiated more than
        ``max_renegotiations`` times (default 2); replies waived as needing no
        answer, counted per actor.  Approved exceptions are listed apart from
        violations.  Each question is an indexed query in the store.

        Raises:
            InvalidArgumentError: ``since`` after ``until``, a bad threshold.
            NaiveDatetimeError: ``since`` or ``until`` is naive.
            MissingPortError: the store has no ``"waitlists"`` port.
        """
        rules = AuditRules(
            pause_window=DEFAULT_PAUSE_WINDOW if pause_window is None else pause_window,
            max_renegotiations=(
                DEFAULT_MAX_RENEGOTIATIONS if max_renegotiations is None else max_renegotiations
            ),
        )
        return auditing.fairness_audit(self._ctx, since, until, rules=rules)

    # ------------------------------------------------------------------ measuring

    def scorecard(
        self,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        by: str | None = None,
        by_due: bool = False,
        *,
        thresholds: ServiceThresholds | None = None,
    ) -> Scorecard:
        """How well the promises of a window were kept, per group and in total.

        ``by`` is ``"owner"``, ``"kind"``, ``"customer"``, ``"channel"`` or
        ``None``.  A promise counts in the window by when it was made
        (``by_due=True``: by when it fell due); ``since`` inclusive,
        ``until`` exclusive.  The on-time rate is kept on time / (kept +
        broken).  Aggregated in the store (the ``"metrics"`` port).  When the
        store has the ``"waitlists"`` port, the number of findings of
        :meth:`fairness_audit` over the same window is
        ``total.extra["fairness_findings"]``.
        See :func:`keepword.services.measuring.scorecard`.

        Raises:
            InvalidArgumentError: a bad ``by``, ``since``, ``until`` or ``by_due``.
            MissingPortError: the store has no ``"metrics"`` port.
        """
        return measuring.scorecard(
            self._ctx,
            since=since,
            until=until,
            by=by,
            by_due=by_due,
            thresholds=thresholds,
            audit=self._audit(),
        )

    def _audit(self) -> Any:
        """The fairness audit the scorecard counts findings of, if the store can audit fairness."""
        if "waitlists" not in declared_ports(self._ctx.store):
            return None
        return getattr(self, "fairness_audit", None)  # a subclass may have replaced it

    def breach_report(self, commitment: CommitmentOrId) -> BreachReport:
        """Where one promise's time went: business time per owner and per pause reason.

        See :func:`keepword.services.measuring.breach_report`.
        """
        return measuring.breach_report(self._ctx, commitment)

    def service_level(
        self,
        customer: str,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        *,
        thresholds: ServiceThresholds | None = None,
    ) -> tuple[ServiceLevel, str]:
        """The service level ``customer`` received in the window, and the rule that decided it.

        See :class:`keepword.scorecard.ServiceThresholds` for the rules.
        """
        return measuring.service_level(
            self._ctx, customer, since=since, until=until, thresholds=thresholds
        )

    def quote(self, kind: str, confidence: float = 0.9, by: str | None = None) -> quoting.Quote:
        """The tightest deadline the history of ``kind`` was kept within at ``confidence``.

        ``by`` quotes from one owner's history.  The result is a deadline
        spec: ``promise(..., due=quote)`` promises at it and records the quote.
        See :func:`keepword.services.quoting.quote`.

        Raises:
            KeepwordError: too little history (saying how many more are needed).
        """
        return quoting.quote(self._ctx, kind, confidence=confidence, by=by)

    def quote_accuracy(self, kind: str) -> quoting.QuoteAccuracy:
        """How often promises of ``kind`` made at a quoted deadline were kept on time."""
        return quoting.quote_accuracy(self._ctx, kind)
