"""The storage ports: what keepword needs from a database, method by method.

Storage is a few narrow :class:`typing.Protocol` ports; each method's
docstring is its contract, and ``keepword.testing`` checks it:

- :class:`CommitmentRepository` (``"commitments"``): add, get, update, find.
- :class:`TickQueue` (``"tick_queue"``): claim due commitments, write what
  fired, release.
- :class:`Outbox` (``"outbox"``): the notices a tick fired, claimed and
  acknowledged by the host's deliverer.
- :class:`TouchpointLog` (``"touchpoints"``): every contact with a customer,
  append-only, and the few questions customer care asks of them; a store
  of this port may also be :class:`AtomicTouchpoints` (a touchpoint written
  with its commitments in one transaction).
- :class:`Waitlist` (``"waitlists"``): first come, first served allocation
  of scarce resources, and the questions the fairness audit asks.
- :class:`Metrics` (``"metrics"``): the scorecard's aggregates, computed in
  the store.

:class:`Store` is a store that has them all; ``Tracker(store, ...)`` takes any
store with at least the commitment repository, and a call that needs a port
the store does not declare raises :class:`~keepword.errors.MissingPortError`
naming it.  A store declares what it implements in ``ports`` (a subset of
:data:`PORTS`) and what its backend can do in ``capabilities`` (a subset of
:data:`CAPABILITIES`); the kit checks exactly the declared ports.
``MemoryStore`` is the reference implementation, ``SqlStore`` the shipped
database one; integrators may write others.

Rules every method follows:

- The tenant is always an explicit argument (or the commitment's own
  ``tenant``); nothing reads or changes another tenant's rows, and another
  tenant's ids are simply not found.
- Deadlines and due steps are compared with the ``now`` the caller passes in:
  a store never decides what is due by its own clock.  Leases alone (how long
  a claim holds) are judged by the store's clock, the database's in a SQL
  store, so that workers on machines whose clocks disagree never steal each
  other's live claims.
- Every write is atomic: it happens completely or not at all, and a method
  that raises has written nothing.
- Values come back equal to what went in (byte-exact strings, microsecond
  instants in UTC, the calendar snapshot equal by value).
- Driver errors never reach the caller raw: they become :class:`ConflictError`
  (a lost race or a duplicate), :class:`NotFoundError`, or :class:`StoreError`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_positive
from keepword._validate import optional_identifier as _optional_identifier
from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, MissingPortError, NotFoundError
from keepword.fairness import OutOfTurn, PauseRecord, Renegotiations, WaiverRecord
from keepword.measures import ScoreQuery
from keepword.notice import Notice
from keepword.scorecard import ScoreRow
from keepword.touchpoint import Touchpoint

__all__ = [
    "CAPABILITIES",
    "PORTS",
    "AtomicTouchpoints",
    "CommitmentRepository",
    "Fire",
    "Metrics",
    "Outbox",
    "Query",
    "Store",
    "TickQueue",
    "TickQueueAllTenants",
    "TouchpointLog",
    "Waitlist",
    "check_commitment",
    "check_fires",
    "check_new_commitment",
    "check_query",
    "check_touchpoint_writes",
    "check_write",
    "declared_ports",
    "group_fires",
    "require_port",
    "version_conflict",
]

CAPABILITIES = frozenset({"transactions", "multiprocess", "skip_locked"})
"""Capability names a store may declare.

- ``"transactions"``: writes are transactional in a real database.
- ``"multiprocess"``: several processes (or machines) may share the store.
- ``"skip_locked"``: claiming due work uses ``FOR UPDATE SKIP LOCKED``.
"""

PORTS = frozenset({"commitments", "tick_queue", "outbox", "touchpoints", "waitlists", "metrics"})
"""Port names a store may declare in its ``ports`` attribute.

- ``"commitments"``: :class:`CommitmentRepository` (every store has it).
- ``"tick_queue"``: :class:`TickQueue`, which ``Tracker.tick`` needs.
- ``"outbox"``: :class:`Outbox`, which the tracker's notice methods need.
- ``"touchpoints"``: :class:`TouchpointLog`, which customer care needs.
- ``"waitlists"``: :class:`Waitlist`, which ``allocate``, ``waitlist`` and
  ``fairness_audit`` need.
- ``"metrics"``: :class:`Metrics`, which the scorecard and quotes need.
"""

Order = Literal["due_at", "made_at"]


def _to_statuses(value: Any) -> frozenset[Status] | None:
    if value is None:
        return None
    if isinstance(value, (str, Status)):
        value = (value,)
    if not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f"must be an iterable of Status, not {type(value).__name__}", argument="statuses"
        )
    out: set[Status] = set()
    for item in value:
        try:
            out.add(item if isinstance(item, Status) else Status(item))
        except ValueError:
            raise InvalidArgumentError(
                f"{item!r} is not a status ({', '.join(s.value for s in Status)})",
                argument="statuses",
            ) from None
    if not out:
        raise InvalidArgumentError(
            "must not be empty", argument="statuses", fix="pass None to match every status"
        )
    return frozenset(out)


def _due_after(value: Any) -> _dt.datetime | None:
    return None if value is None else to_utc(value, "due_after")


def _due_before(value: Any) -> _dt.datetime | None:
    return None if value is None else to_utc(value, "due_before")


def _check_limit(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_positive(value, "limit")


def _check_order(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("due_at", "made_at"):
        raise InvalidArgumentError(
            f"must be 'due_at' or 'made_at' (got {value!r})", argument="order"
        )


@attrs.frozen(kw_only=True)
class Query:
    """Which commitments of a tenant to find or count; every filter is optional.

    Filters combine with AND; ``None`` means "any".

    Args:
        customer: only this customer's.
        owner: only this owner's.
        kind: only this kind.
        statuses: only these statuses (a non-empty set; a single status or
            its string value is accepted too).
        due_after: only those with ``due_at >= due_after`` (inclusive).
        due_before: only those with ``due_at < due_before`` (exclusive).
        waiting_for: only those waiting for this resource.
        channel: only those on this channel.
        external_ref: only the one with this external reference.
        limit: at most this many (``> 0``), after ordering.
        order: ``"due_at"`` (then ``id``) or ``"made_at"`` (then ``id``),
            ascending.

    Raises:
        InvalidArgumentError: a filter is malformed, ``limit <= 0``,
            ``due_after > due_before``, or ``order`` is unknown.
        NaiveDatetimeError: ``due_after`` or ``due_before`` is naive.

    >>> import datetime as dt
    >>> q = Query(statuses="open", due_before=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), limit=10)
    >>> sorted(s.value for s in q.statuses), q.order
    (['open'], 'due_at')
    >>> Query(limit=0)
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: limit: must be > 0 (got 0)
    """

    customer: str | None = attrs.field(default=None, validator=_optional_identifier)
    owner: str | None = attrs.field(default=None, validator=_optional_identifier)
    kind: str | None = attrs.field(default=None, validator=_optional_identifier)
    statuses: frozenset[Status] | None = attrs.field(default=None, converter=_to_statuses)
    due_after: _dt.datetime | None = attrs.field(default=None, converter=_due_after)
    due_before: _dt.datetime | None = attrs.field(default=None, converter=_due_before)
    waiting_for: str | None = attrs.field(default=None, validator=_optional_identifier)
    channel: str | None = attrs.field(default=None, validator=_optional_identifier)
    external_ref: str | None = attrs.field(default=None, validator=_optional_identifier)
    limit: int | None = attrs.field(default=None, validator=_check_limit)
    order: Order = attrs.field(default="due_at", validator=_check_order)

    def __attrs_post_init__(self) -> None:
        if (
            self.due_after is not None
            and self.due_before is not None
            and self.due_after > self.due_before
        ):
            raise InvalidArgumentError(
                "must not be after due_before", argument="due_after", fix="swap the two bounds"
            )

    def matches(self, commitment: Commitment) -> bool:
        """True if ``commitment`` passes every filter (``limit`` and ``order`` aside).

        The reference semantics of the filters, used by ``MemoryStore``.
        The tenant is not checked here: the store does that.
        """
        c = commitment
        return (
            (self.customer is None or c.customer == self.customer)
            and (self.owner is None or c.owner == self.owner)
            and (self.kind is None or c.kind == self.kind)
            and (self.statuses is None or c.status in self.statuses)
            and (self.due_after is None or c.due_at >= self.due_after)
            and (self.due_before is None or c.due_at < self.due_before)
            and (self.waiting_for is None or c.waiting_for == self.waiting_for)
            and (self.channel is None or c.channel == self.channel)
            and (self.external_ref is None or c.external_ref == self.external_ref)
        )

    def sort_key(self, commitment: Commitment) -> tuple[_dt.datetime, str]:
        """The key ``find`` sorts by: ``(due_at or made_at, id)``."""
        first = commitment.due_at if self.order == "due_at" else commitment.made_at
        return (first, commitment.id)


def _fire_commitment(value: Any) -> Commitment:
    return check_commitment(value, "commitment")


def _expected_version(instance: Fire, _attribute: attrs.Attribute[Any], value: Any) -> None:
    check_write(instance.commitment, value)


def _to_notices(value: Any) -> tuple[Notice, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgumentError("must be a sequence of Notice", argument="notices")
    return tuple(value)


def _fired_notices(
    instance: Fire, _attribute: attrs.Attribute[Any], value: tuple[Notice, ...]
) -> None:
    c = instance.commitment
    for i, n in enumerate(value):
        if not isinstance(n, Notice):
            raise InvalidArgumentError(
                f"must be a Notice, not {type(n).__name__}", argument=f"notices[{i}]"
            )
        if n.tenant != c.tenant or n.commitment_id != c.id:
            raise InvalidArgumentError(
                f"is about {n.tenant!r}/{n.commitment_id!r}, not the fired commitment "
                f"{c.tenant!r}/{c.id!r}: a notice must belong to the commitment it fires",
                argument=f"notices[{i}]",
            )


@attrs.frozen
class Fire:
    """One claimed commitment's tick result: its new state and the notices it fired.

    What :meth:`Store.fire_many` writes, one per commitment.  The tracker
    builds these from :func:`keepword.transitions.escalate`.

    Args:
        commitment: the new state (version ``expected_version + 1``).
        expected_version: the version it was claimed at.
        notices: the notices fired, each of this commitment and tenant.

    Raises:
        InvalidArgumentError: a field is malformed, the versions do not
            follow, or a notice belongs to another commitment or tenant.
    """

    commitment: Commitment = attrs.field(converter=_fire_commitment)
    expected_version: int = attrs.field(validator=_expected_version)
    notices: tuple[Notice, ...] = attrs.field(
        default=(), converter=_to_notices, validator=_fired_notices
    )


@runtime_checkable
class CommitmentRepository(Protocol):
    """The commitment repository: every store has it.

    Attributes:
        ports: the ports this store implements, a subset of :data:`PORTS`
            that includes ``"commitments"``.
        capabilities: what its backend can do, a subset of
            :data:`CAPABILITIES` (e.g. ``frozenset({"transactions",
            "multiprocess"})``).  The kit and the tracker branch on these,
            never on the store's class.
    """

    ports: frozenset[str]
    capabilities: frozenset[str]

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        """Store a new commitment, atomically, unless its external reference exists.

        Args:
            commitment: a new commitment with ``version == 1`` and its history
                as built by :func:`keepword.transitions.promise` (stored as given).

        Returns:
            ``(commitment, True)`` when it was stored; ``(existing, False)``
            when ``commitment.external_ref`` is not ``None`` and the tenant
            already has a commitment with that reference: nothing is stored
            and the existing one is returned unchanged, whatever its payload
            (comparing payloads is the tracker's job).
            Concurrent adds of one reference store exactly one; every other
            caller gets ``(existing, False)``, never an error.

        Raises:
            InvalidArgumentError: ``commitment.version != 1``.
            ConflictError: a commitment with this ``id`` already exists (in
                any tenant); nothing is stored.
        """
        ...

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        """Store several new commitments in one atomic step: all or nothing.

        Each item follows :meth:`add`'s rules; the result lists one
        ``(commitment, stored)`` pair per item, in the order given.
        When two items in the batch share an external reference (in one
        tenant), the first is stored and each later one maps to
        ``(first, False)``.
        An empty batch returns ``[]``.

        Raises:
            InvalidArgumentError: some item's ``version != 1``.
            ConflictError: some item's ``id`` already exists, or two items
                share an ``id``; nothing at all is stored.
        """
        ...

    def get(self, tenant: str, id: str) -> Commitment:
        """The commitment ``id`` of ``tenant``, as last stored.

        Raises:
            NotFoundError: there is none in this tenant (another tenant's id
                is not found either).
        """
        ...

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        """The tenant's commitment with this external reference, or ``None``."""
        ...

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        """Replace a stored commitment's state, atomically, iff nobody changed it meanwhile.

        Args:
            commitment: the new state; ``commitment.version`` must be
                ``expected_version + 1``, and ``commitment.history`` must be
                the stored history with zero or more new events appended
                (stores may write only the new events).  ``id``, ``tenant``,
                ``made_at`` and ``external_ref`` never change.
            expected_version: the version the caller read.

        Returns:
            The stored commitment (equal to ``commitment``).

        Raises:
            NotFoundError: no commitment ``commitment.id`` in
                ``commitment.tenant``.
            ConflictError: the stored version is not ``expected_version``
                (the error carries ``expected_version`` and
                ``actual_version``); nothing is written.
            InvalidArgumentError: the version is not ``expected_version + 1``,
                the history does not extend the stored one, or an immutable
                field changed; nothing is written.
        """
        ...

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        """The tenant's commitments that match ``query``, ordered, at most ``query.limit``.

        Ordered by ``(due_at, id)`` or ``(made_at, id)`` ascending per
        ``query.order`` (see :meth:`Query.matches` for the filters).
        Returns ``[]`` when nothing matches.
        """
        ...

    def count(self, tenant: str, query: Query) -> int:
        """How many of the tenant's commitments match ``query`` (``limit`` ignored)."""
        ...

    def close(self) -> None:
        """Release what the store created (connections, an engine it built).

        Leaves anything the caller passed in (an engine) open.  Idempotent.
        """
        ...


@runtime_checkable
class TickQueue(Protocol):
    """The tick queue: claim the commitments whose next step is due, write what fired.

    Declared as ``"tick_queue"`` in a store's ``ports``.
    """

    def claim_due(
        self, tenant: str, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` of the tenant's commitments whose next step is due.

        Atomically picks OPEN commitments with ``next_action_at <= now`` whose
        claim is free or has expired, ordered by ``next_action_at`` then id,
        and marks them claimed by a fresh token.  What is due is judged by
        ``now`` alone, never by the store's clock.  The lease alone is judged
        by the store's clock (the database's in a SQL store; an injectable
        clock in ``MemoryStore``): the claim holds until that clock reads its
        claim time plus ``lease``, and an expired claim is one that clock says
        has run out.  Rows another
        worker holds are skipped, not waited for (``FOR UPDATE SKIP LOCKED``
        where the database has it; SQLite takes its write lock up front with
        ``BEGIN IMMEDIATE``).  An expired claim is taken by this same query:
        there is no separate reaper.

        Args:
            tenant: the tenant to look in.
            now: the tick's instant (compared with ``next_action_at``).
            limit: at most this many (``> 0``).
            lease: how long the claim holds (``> 0``).
            worker: who claims (kept for diagnostics).

        Returns:
            ``(token, claimed)``; ``claimed`` may be empty.

        Raises:
            InvalidArgumentError: a non-positive ``limit`` or ``lease``.
        """
        ...

    def fire_many(
        self, tenant: str, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """Write a tick's results for many claimed commitments in one transaction.

        Each :class:`Fire` is judged alone: it passes only if the stored
        version is its ``expected_version`` and the claim is still held by
        ``token``.  For each fire that passes, its notices are inserted,
        skipping any whose ``(tenant, idempotency_key)`` is already stored (a
        unique constraint, not a lock, is what makes each notice exactly
        once), the commitment's new state is applied exactly as
        :meth:`CommitmentRepository.update` applies it, and its claim is
        released.  The fires that pass are written together, all or nothing.
        A tick writes a whole claimed batch this way, so its cost is a few
        statements per batch, not per commitment.

        Args:
            tenant: the tenant every fire's commitment belongs to.
            fires: at most one per commitment; may be empty.
            token: the claim token :meth:`claim_due` returned.

        Returns:
            One entry per fire, in order: the stored commitment; or a
            :class:`ConflictError` when its version moved on or its claim was
            lost (the lease expired and another worker took it), or a
            :class:`NotFoundError` when the tenant has no such commitment
            (that fire wrote nothing, not even a notice).

        Raises:
            InvalidArgumentError: not a sequence of :class:`Fire`, a fire of
                another tenant, one commitment twice, or a fire that
                :meth:`CommitmentRepository.update` would refuse (a rewritten history, a changed
                immutable field); nothing is written.
            ConflictError: a new notice reuses a stored notice's id (ids are
                fresh, so this is a caller's bug); nothing is written.
        """
        ...

    def release(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Give up claims held by ``token`` without firing; returns how many were released."""
        ...

    def next_action_at(self, tenant: str) -> _dt.datetime | None:
        """The earliest ``next_action_at`` among the tenant's OPEN commitments, or ``None``.

        Claimed commitments count too: a host sleeping until this instant
        wakes no later than any step is due.
        """
        ...


@runtime_checkable
class TickQueueAllTenants(Protocol):
    """An optional addition to :class:`TickQueue`: claim due work across every tenant.

    What :class:`keepword.Ticker` needs to serve thousands of tenants with a
    few workers.  ``MemoryStore`` and ``SqlStore`` have it; a store without
    it still ticks tenant by tenant through :meth:`TickQueue.claim_due`.
    Claims made here are written and released with the ordinary
    :meth:`TickQueue.fire_many` and :meth:`TickQueue.release`, per the
    claimed commitment's own ``tenant``.
    """

    def claim_due_any(
        self, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` due commitments of any tenants, in ``(next_action_at, id)`` order.

        Exactly :meth:`TickQueue.claim_due` without the tenant filter: OPEN
        commitments with ``next_action_at <= now`` whose claim is free or
        expired by the store's clock, skipping rows another worker holds.
        One token covers the whole claim; each commitment carries its tenant.

        Returns:
            ``(token, claimed)`` in ``(next_action_at, id)`` order; may be empty.

        Raises:
            InvalidArgumentError: a bad ``now``, ``limit``, ``lease`` or ``worker``.
        """
        ...

    def fire_many_any(
        self, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """:meth:`TickQueue.fire_many` for fires of several tenants, each under its own.

        Each fire is judged and written exactly as :meth:`TickQueue.fire_many`
        does for its commitment's tenant; each tenant's passing fires are
        written all or nothing (a store may write the whole batch in one
        transaction).

        Returns:
            One entry per fire, in order, as :meth:`TickQueue.fire_many`.

        Raises:
            InvalidArgumentError: as :meth:`TickQueue.fire_many` (checked per
                tenant); that tenant's fires are not written.
            ConflictError: a new notice reuses a stored notice's id.
        """
        ...

    def next_action_at_any(self) -> _dt.datetime | None:
        """The earliest ``next_action_at`` among every tenant's OPEN commitments, or ``None``."""
        ...


@runtime_checkable
class Outbox(Protocol):
    """The transactional outbox: notices fired by the tick, delivered at least once.

    Declared as ``"outbox"`` in a store's ``ports``.
    """

    def pending_notices(self, tenant: str, *, limit: int) -> list[Notice]:
        """Notices not yet acknowledged and not under a live claim, oldest first.

        Oldest means by ``fired_at``, then ``scheduled_at``, then id: for one
        commitment this is the order its steps fired in.  Reading claims
        nothing.
        """
        ...

    def claim_notices(
        self, tenant: str, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` deliverable notices for ``lease``, oldest first.

        Deliverable: pending, or claimed under a lease that has expired by the
        store's clock (a consumer that crashed before acknowledging).  Notices
        move between the states pending, claimed and acked; a consumer never
        reads "rows after id X".

        Returns:
            ``(token, notices)`` with ``state == CLAIMED`` and ``claimed_until`` set.
        """
        ...

    def ack_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Mark delivered the notices in ``ids`` that ``token`` still holds.

        Returns:
            How many were acknowledged now.  A notice whose claim expired and
            was taken by another token is left alone (that consumer delivers
            it again: delivery is at least once; hosts drop repeats by
            ``idempotency_key``).  Acknowledged notices are never delivered again.
        """
        ...

    def release_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Return claimed notices to pending at once; returns how many were released."""
        ...


@runtime_checkable
class TouchpointLog(Protocol):
    """Touchpoints, append-only per tenant: the ``"touchpoints"`` port.

    A touchpoint is never changed or deleted once stored.  ``ref`` is unique
    per ``(tenant, kind)``: adding a touchpoint whose ``(tenant, kind, ref)``
    is stored already stores nothing and returns the stored one, even when
    several processes add it at once (the first write wins).
    """

    def add_touchpoint(self, touchpoint: Touchpoint) -> tuple[Touchpoint, bool]:
        """Store ``touchpoint``: ``(stored, True)``, or ``(existing, False)`` for a known ref.

        Raises:
            InvalidArgumentError: ``touchpoint`` is not a :class:`Touchpoint`.
            ConflictError: its ``id`` is stored already (for another touchpoint).
        """
        ...

    def touchpoint_by_ref(self, tenant: str, kind: str, ref: str) -> Touchpoint | None:
        """The tenant's touchpoint of ``kind`` with ``ref``, or ``None``."""
        ...

    def touchpoints(
        self,
        tenant: str,
        *,
        customer: str | None = None,
        kind: str | None = None,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Touchpoint]:
        """The tenant's touchpoints matching every filter given, in ``(at, id)`` order.

        ``since`` is inclusive, ``until`` exclusive; ``limit`` keeps the first
        ones in that order.
        """
        ...

    def thanks_by_customer(
        self, tenant: str, *, below: int, limit: int | None = None
    ) -> list[tuple[str, int, _dt.datetime | None]]:
        """Every relationship with fewer than ``below`` counted thank-yous.

        A relationship is a customer of the tenant with at least one
        commitment or touchpoint.  Returns ``(customer, counted thank-yous,
        when the last counted thank-you was)`` per relationship, ordered by
        customer; one aggregate query in a database, not a loop over rows.
        """
        ...

    def extra_mile_candidate(
        self, tenant: str, *, eligible_since: _dt.datetime, seed: str
    ) -> str | None:
        """The customer next in line for an extra-mile gesture, or ``None`` if none is eligible.

        Eligible: a customer with a touchpoint or a commitment made at or
        after ``eligible_since``.  Among them, those picked least often
        (touchpoints of kind ``"extra_mile"``, at any time) come first, and
        ties go in :func:`keepword.touchpoint.pick_order` of ``seed``: the
        smallest ``md5(seed + ":" + customer)`` in hex.  Computed in the
        database, not by a loop over every customer.
        """
        ...

    def silent_customers(
        self, tenant: str, *, quiet_since: _dt.datetime, limit: int | None = None
    ) -> list[str]:
        """Customers whose last touchpoint (of any kind) was before ``quiet_since``.

        Ordered by customer.  A customer with no touchpoint at all is not
        listed (nothing was ever said to them through keepword).
        """
        ...


@runtime_checkable
class AtomicTouchpoints(Protocol):
    """A touchpoint and the commitment writes it causes, in one transaction.

    An optional part of the ``"touchpoints"`` port (no port name of its own),
    with its read counterpart: customer care uses it when the store has it (``isinstance(store,
    AtomicTouchpoints)``), so that a message and the reply it is owed, or a
    reply and the commitments it keeps, are stored together or not at all.
    A store of the ``"touchpoints"`` port without it still works: customer
    care then writes the commitments and the touchpoint one after the other,
    and a repeated call (the refs make it idempotent) completes what a crash
    in between left half-written.  ``MemoryStore`` and ``SqlStore`` have it;
    ``keepword.testing``'s ``TouchpointLogContract`` checks it on every store
    that has it.
    """

    def add_touchpoint_with(
        self,
        touchpoint: Touchpoint,
        *,
        add: Sequence[Commitment] = (),
        update: Sequence[tuple[Commitment, int]] = (),
    ) -> tuple[Touchpoint, bool]:
        """Store ``touchpoint``, new commitments ``add`` and new states ``update``, atomically.

        All or nothing, in one transaction: each of ``add`` is stored as
        :meth:`CommitmentRepository.add` stores a new one, each
        ``(commitment, expected_version)`` of ``update`` is written as
        :meth:`CommitmentRepository.update` writes it, and the touchpoint as
        :meth:`TouchpointLog.add_touchpoint` stores it.  Every commitment is
        of the touchpoint's tenant, and none appears twice.

        Unlike :meth:`CommitmentRepository.add`, an ``add`` whose
        ``external_ref`` the tenant has already is not mapped to the stored
        one: it is a conflict, and the caller decides what to do.

        Returns:
            ``(touchpoint, True)`` when everything was written;
            ``(existing, False)`` when the tenant has a touchpoint of the
            same ``(kind, ref)`` already: then nothing at all is written.
            Concurrent calls with one ``(tenant, kind, ref)`` write exactly
            one; every other caller gets ``(existing, False)`` (or, if its
            commitment writes collide first, :class:`ConflictError`), and
            never leaves a commitment without its touchpoint or the reverse.

        Raises:
            InvalidArgumentError: not a :class:`Touchpoint`; an ``add`` with
                ``version != 1``; an ``update`` as :meth:`CommitmentRepository.update`
                refuses it; a commitment of another tenant, or one twice.
                Nothing is written.
            ConflictError: an ``add``'s id or ``external_ref`` is stored
                already, an ``update``'s stored version is not its
                ``expected_version``, or the touchpoint's id is stored
                already.  Nothing is written.
            NotFoundError: an ``update``'s commitment is not stored.  Nothing
                is written.
        """
        ...

    def touchpoint_with_commitment(
        self, tenant: str, kind: str, ref: str
    ) -> tuple[Touchpoint, Commitment | None] | None:
        """The tenant's touchpoint of ``kind`` with ``ref`` and the commitment it names, together.

        Read in one transaction: the touchpoint (as
        :meth:`TouchpointLog.touchpoint_by_ref` finds it) and the commitment
        of the tenant whose id is its ``commitment_id`` (as
        :meth:`CommitmentRepository.get` returns it), ``None`` when it names
        none or that one is not stored.

        Returns:
            ``(touchpoint, commitment or None)``, or ``None`` when there is no
            such touchpoint.
        """
        ...


@runtime_checkable
class Waitlist(Protocol):
    """First come, first served: the ``"waitlists"`` port.

    A commitment waits for ``resource`` while its ``waiting_for`` is that
    resource, it is open or paused, and units of its quantity are unserved
    (:func:`keepword.fairness.queue_state`); its place in line is
    ``(made_at, id)``.  Serving appends a ``"served"`` event (built by
    :func:`keepword.transitions.serve`) and bumps the version, like
    :meth:`CommitmentRepository.update`.
    """

    def serve_in_turn(
        self,
        tenant: str,
        resource: str,
        *,
        quantity: int,
        at: _dt.datetime,
        partial: bool = False,
        first: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        """Serve ``quantity`` units of ``resource`` to the tenant's waiting commitments, in turn.

        Atomically and one allocation per ``(tenant, resource)`` at a time:
        the commitments ``first`` (approved exceptions, in the order given,
        each served with ``ahead=True``, ``reason`` and ``actor``), then the
        line in ``(made_at, id)`` order, as
        :func:`keepword.fairness.plan_allocation` decides (whole orders in
        turn; the head that does not fit stops the allocation unless
        ``partial``).  Each is changed by :func:`keepword.transitions.serve`
        at ``at``, or at the instant of the resource's last allocation that
        served anyone if that is later (callers' clocks may disagree, and the
        histories must tell the order things were served in).  Concurrent
        calls for one resource serve every unit at most once, and together
        exactly the head of the line: a later commitment is never served
        while an earlier one that fits is left waiting, even for a moment,
        by another caller.

        Returns:
            The served commitments' new states, in the order served.

        Raises:
            InvalidArgumentError: ``first`` names a commitment of the tenant
                that is missing or does not wait for ``resource`` (naming
                ``first``); nothing is written.
            ConflictError: a commitment changed under the allocation (retry).
        """
        ...

    def waiting(self, tenant: str, resource: str, *, limit: int | None = None) -> list[Commitment]:
        """The tenant's commitments still waiting for ``resource``, in ``(made_at, id)`` order."""
        ...

    def served_out_of_turn(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[OutOfTurn]:
        """Commitments whose turn came in ``[since, until)`` out of turn, or as approved exceptions.

        Exactly :func:`keepword.fairness.out_of_turn` over the tenant's
        commitments, ordered by ``(at, commitment_id)``; in a database, an
        indexed query (a window over the line), not a loop over every row.
        """
        ...

    def renegotiated_more_than(
        self,
        tenant: str,
        n: int,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[Renegotiations]:
        """Commitments with more than ``n`` ``"renegotiated"`` events in ``[since, until)``.

        Ordered by commitment id.
        """
        ...

    def pauses(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[PauseRecord]:
        """Every ``"paused"`` event in ``[since, until)``, ordered by ``(at, commitment_id)``."""
        ...

    def waived_replies(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[WaiverRecord]:
        """Reply commitments (kind ``"reply"``) cancelled in ``[since, until)`` as waived.

        Waived: the ``"cancelled"`` event's data has ``"waived": true``.
        Ordered by ``(at, commitment_id)``.
        """
        ...


@runtime_checkable
class Metrics(Protocol):
    """The scorecard's aggregates, computed in the store: the ``"metrics"`` port.

    Every figure is the one :func:`keepword.measures.measures_of` gives each
    commitment, aggregated; percentiles are nearest-rank (see
    :mod:`keepword.measures`).  A database computes them with ``GROUP BY``
    (and its percentile or window functions), never by loading every row.
    ``MemoryStore`` is the reference: every store returns exactly its values.
    """

    def score_rows(self, tenant: str, query: ScoreQuery) -> tuple[list[ScoreRow], ScoreRow]:
        """The figures of the tenant's commitments in ``query``'s window, per group and in total.

        Returns ``(rows, total)``: one :class:`~keepword.scorecard.ScoreRow`
        per value of ``query.by`` that has a commitment in the window
        (ordered with ``None`` first, then by the value in code-point
        order), none when ``by`` is ``None``; ``total`` over all of them.
        Each row holds: ``made`` (in the window), ``due`` (``due_at <=
        query.due_by``), the outcome counts (``kept_on_time``, ``kept_late``,
        ``kept_after_breach``, ``broken``, ``cancelled``, ``waived``),
        ``kept_not_as_promised``, ``open`` (open or paused), ``overdue``
        (open and ``due_at < now``), ``on_time_rate`` (``kept_on_time /
        (kept + broken)``, ``None`` with none of either), the p50 and p90 of
        lateness (late and after-breach keeps), of breach magnitude and of
        first response, the sums of renegotiations and escalations, and in
        ``extra``: ``late_beyond_tolerance``, ``replies``,
        ``replies_over_target``, ``kept_early``, ``kept_as_promised`` and
        ``quoted`` (see :class:`~keepword.measures.ScoreQuery`).

        Raises:
            InvalidArgumentError: a bad ``tenant`` or ``query``.
        """
        ...

    def turnaround_quantile(
        self, tenant: str, *, kind: str, confidence: float, owner: str | None = None
    ) -> tuple[int, int, int | None]:
        """What the tenant's closed history of ``kind`` says a deadline must allow.

        The sample is every kept or broken commitment of ``kind`` (of
        ``owner`` too, when given); a broken one counts as never kept.
        Returns ``(kept, broken, turnaround_us)``: the value at rank
        :func:`~keepword.measures.rank_of` ``(kept + broken, confidence)``
        among the kept ones' business turnarounds in ascending order, or
        ``None`` when that rank falls among the broken ones (or the sample
        is empty).

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``kind``, ``owner`` or ``confidence``.
        """
        ...

    def care_counts(
        self, tenant: str, *, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> dict[str, Any]:
        """The customer-care counts of the tenant's touchpoints with ``since <= at < until``.

        Returns ``complaints_by_channel`` (``{channel: n}`` of ``"occasion"``
        touchpoints with occasion ``"complaint"``), ``referrals`` (occasion
        ``"referral"``), ``repeat_customers`` (customers with two or more
        ``"sale"`` occasions), ``sale_customers`` (customers with a sale),
        ``thanked_sale_customers`` (of those, the ones with a counted
        ``"thank_you"``) and ``extra_mile`` (``"extra_mile"`` touchpoints),
        each counted in the database.  A store without touchpoints returns
        zeros.

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``since`` or ``until``.
        """
        ...

    def quote_record(self, tenant: str, *, kind: str) -> tuple[int, int]:
        """``(closed, kept_on_time)`` among the tenant's quoted commitments of ``kind``.

        Quoted: promised at a deadline quoted from history
        (:attr:`keepword.measures.Measures.quoted`); closed: kept or broken.

        Raises:
            InvalidArgumentError: a bad ``tenant`` or ``kind``.
        """
        ...


@runtime_checkable
class Store(CommitmentRepository, TickQueue, Outbox, TouchpointLog, Waitlist, Metrics, Protocol):
    """A store that has every port: what ``MemoryStore`` and ``SqlStore`` are.

    :class:`AtomicTouchpoints` is an optional part of the ``"touchpoints"``
    port, not required here; both stores have it too.
    """


def declared_ports(store: object) -> frozenset[str]:
    """The ports ``store`` declares (its ``ports`` attribute), or none at all.

    >>> from keepword.stores.memory import MemoryStore
    >>> sorted(declared_ports(MemoryStore()))
    ['commitments', 'metrics', 'outbox', 'tick_queue', 'touchpoints', 'waitlists']
    >>> declared_ports(object())
    frozenset()
    """
    ports = getattr(store, "ports", None)
    return frozenset(ports) if isinstance(ports, (set, frozenset, tuple, list)) else frozenset()


def require_port(store: object, port: str, action: str) -> None:
    """Raise :class:`MissingPortError` unless ``store`` declares ``port``.

    Args:
        store: the store about to be used.
        port: one of :data:`PORTS`.
        action: what needs it, for the message (``"tick"``).
    """
    if port not in declared_ports(store):
        raise MissingPortError(port, action)


# --------------------------------------------------------------------------- for store authors


def check_commitment(value: Any, argument: str) -> Commitment:
    """``value`` if it is a :class:`Commitment`, else InvalidArgumentError naming ``argument``."""
    if not isinstance(value, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(value).__name__}", argument=argument
        )
    return value


def check_new_commitment(value: Any, argument: str) -> Commitment:
    """``value`` if it is a commitment fit for ``Store.add`` (version 1)."""
    commitment = check_commitment(value, argument)
    if commitment.version != 1:
        raise InvalidArgumentError(
            f"a new commitment must have version 1 (got {commitment.version})",
            argument=argument,
            fix="add() stores new commitments; use update() to change a stored one",
        )
    return commitment


def check_write(commitment: Any, expected_version: Any) -> Commitment:
    """``commitment`` if it is fit to write over the stored version ``expected_version``.

    What ``update`` and ``fire`` (and :class:`Fire`) check before touching a
    store: a :class:`Commitment`, an int ``expected_version >= 1``, and the
    new state's version exactly ``expected_version + 1``.

    Raises:
        InvalidArgumentError: naming ``commitment`` or ``expected_version``.
    """
    new = check_commitment(commitment, "commitment")
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise InvalidArgumentError(
            f"must be an int, not {type(expected_version).__name__}", argument="expected_version"
        )
    if expected_version < 1:
        raise InvalidArgumentError(
            f"must be >= 1 (got {expected_version})", argument="expected_version"
        )
    if new.version != expected_version + 1:
        raise InvalidArgumentError(
            f"the new version must be expected_version + 1 = {expected_version + 1} "
            f"(got {new.version})",
            argument="commitment",
        )
    return new


def check_touchpoint_writes(
    touchpoint: Any, add: Any, update: Any
) -> tuple[Touchpoint, list[Commitment], list[tuple[Commitment, int]]]:
    """The arguments of :meth:`AtomicTouchpoints.add_touchpoint_with`, checked, for store authors.

    Returns:
        ``(touchpoint, adds, updates)`` as lists.

    Raises:
        InvalidArgumentError: naming ``touchpoint``, ``add[i]`` or
            ``update[i]`` (a bad item, another tenant's commitment, or a
            commitment that appears twice).
    """
    if not isinstance(touchpoint, Touchpoint):
        raise InvalidArgumentError(
            f"must be a Touchpoint, not {type(touchpoint).__name__}", argument="touchpoint"
        )
    for name, value in (("add", add), ("update", update)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise InvalidArgumentError(
                f"must be a sequence, not {type(value).__name__}", argument=name
            )
    adds = [check_new_commitment(c, f"add[{i}]") for i, c in enumerate(add)]
    updates: list[tuple[Commitment, int]] = []
    for i, item in enumerate(update):
        if not isinstance(item, tuple) or len(item) != 2:
            raise InvalidArgumentError(
                "must be a (commitment, expected_version) pair", argument=f"update[{i}]"
            )
        try:
            updates.append((check_write(item[0], item[1]), item[1]))
        except InvalidArgumentError as error:
            raise InvalidArgumentError(
                f"{error.argument}: {error.message}", argument=f"update[{i}]", fix=error.fix
            ) from None
    seen: set[str] = set()
    for name, c in [(f"add[{i}]", c) for i, c in enumerate(adds)] + [
        (f"update[{i}]", c) for i, (c, _) in enumerate(updates)
    ]:
        if c.tenant != touchpoint.tenant:
            raise InvalidArgumentError(
                f"is of tenant {c.tenant!r}, not the touchpoint's {touchpoint.tenant!r}",
                argument=name,
            )
        if c.id in seen:
            raise InvalidArgumentError(
                f"commitment {c.id!r} appears twice", argument=name, fix="write each one once"
            )
        seen.add(c.id)
    return touchpoint, adds, updates


def group_fires(fires: Any) -> dict[str, list[Fire]]:
    """``fires`` grouped by their commitment's tenant (in first-seen order), each group checked.

    Raises:
        InvalidArgumentError: not a sequence of :class:`Fire`, or one
            commitment twice (see :func:`check_fires`).
    """
    if isinstance(fires, (str, bytes)) or not isinstance(fires, Sequence):
        raise InvalidArgumentError("must be a sequence of Fire", argument="fires")
    groups: dict[str, list[Fire]] = {}
    for i, fire in enumerate(fires):
        if not isinstance(fire, Fire):
            raise InvalidArgumentError(
                f"must be a Fire, not {type(fire).__name__}", argument=f"fires[{i}]"
            )
        groups.setdefault(fire.commitment.tenant, []).append(fire)
    for tenant, mine in groups.items():
        check_fires(tenant, mine)
    return groups


def check_fires(tenant: str, fires: Any) -> list[Fire]:
    """``fires`` as a list if it is a sequence of :class:`Fire` of ``tenant``, one per commitment.

    Raises:
        InvalidArgumentError: naming ``fires[i]`` for the first bad entry.
    """
    check_identifier(tenant, "tenant")
    if isinstance(fires, (str, bytes)) or not isinstance(fires, Sequence):
        raise InvalidArgumentError("must be a sequence of Fire", argument="fires")
    seen: set[str] = set()
    for i, fire in enumerate(fires):
        if not isinstance(fire, Fire):
            raise InvalidArgumentError(
                f"must be a Fire, not {type(fire).__name__}", argument=f"fires[{i}]"
            )
        c = fire.commitment
        if c.tenant != tenant:
            raise InvalidArgumentError(
                f"fires a commitment of tenant {c.tenant!r}, not {tenant!r}",
                argument=f"fires[{i}]",
            )
        if c.id in seen:
            raise InvalidArgumentError(
                f"fires commitment {c.id!r} a second time",
                argument=f"fires[{i}]",
                fix="fire each claimed commitment once per call",
            )
        seen.add(c.id)
    return list(fires)


def check_query(value: Any) -> Query:
    """``value`` if it is a :class:`Query`, else InvalidArgumentError naming ``query``."""
    if not isinstance(value, Query):
        raise InvalidArgumentError(f"must be a Query, not {type(value).__name__}", argument="query")
    return value


def version_conflict(
    commitment_id: str, expected_version: int, actual_version: int
) -> ConflictError:
    """The :class:`ConflictError` of a write whose expected version is stale, for store authors."""
    return ConflictError(
        f"commitment {commitment_id!r} is at version {actual_version}, "
        f"not {expected_version}: someone else changed it",
        argument="expected_version",
        expected_version=expected_version,
        actual_version=actual_version,
    )
