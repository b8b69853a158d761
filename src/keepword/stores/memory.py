"""``MemoryStore``: the reference implementation of the :class:`~keepword.ports.Store` port.

It keeps commitments in plain dictionaries behind one lock.
It is the oracle every other store is compared to (see
``keepword.testing.stateful``), so it is written to be obviously right rather
than fast: each method does exactly what its contract in
:mod:`keepword.ports` says, in the order the contract says it.  The one
index it keeps is the tick's: a heap of ``(next_action_at, id)`` per tenant,
so that a tick's cost follows the work due, not the number of open
commitments (DESIGN.md, "Escalation").

Commitments are deeply immutable values, so the store hands out the very
objects it holds; nothing is copied.

>>> import datetime as dt
>>> from keepword.ports import Query, check_commitment, check_new_commitment, check_query
>>> store = MemoryStore()
>>> store.count("shop-7", Query())
0
>>> sorted(store.capabilities)
['transactions']
>>> store.close(); store.close()  # idempotent
"""

from __future__ import annotations

import datetime as _dt
import heapq
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_ids, check_lease, check_positive
from keepword.clock import Clock, SystemClock
from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.notice import Notice, NoticeState
from keepword.ports import (
    PORTS,
    Fire,
    Query,
    check_fires,
    check_new_commitment,
    check_query,
    check_write,
    group_fires,
    version_conflict,
)
from keepword.stores._memory_touchpoints import MemoryTouchpoints
from keepword.stores._memory_waitlists import MemoryWaitlists

if TYPE_CHECKING:
    from keepword.ports import Store

__all__ = ["MemoryStore"]

_IMMUTABLE_FIELDS = ("id", "tenant", "made_at", "external_ref")


@attrs.frozen
class _Claim:
    """Who holds a commitment or a notice, and until when by the store's clock."""

    token: str
    until: _dt.datetime  # by the store's clock
    worker: str


_END_OF_TIME = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def _lease_end(clock: _dt.datetime, lease: _dt.timedelta) -> _dt.datetime:
    """When a lease taken at ``clock`` runs out; past year 9999, at the end of time.

    >>> _lease_end(_dt.datetime(9999, 12, 31, tzinfo=_dt.UTC), _dt.timedelta(days=2)).year
    9999
    """
    try:
        return clock + lease
    except OverflowError:
        return _END_OF_TIME


def _notice_order(n: Notice) -> tuple[_dt.datetime, _dt.datetime, str]:
    """Oldest first: by ``fired_at``, then ``scheduled_at``, then id."""
    return (n.fired_at, n.scheduled_at, n.id)


class MemoryStore(MemoryTouchpoints, MemoryWaitlists):
    """Commitments kept in memory: the reference store and the test oracle.

    Thread-safe: every method holds one re-entrant lock for its whole run, so
    each call is atomic and isolated from every other.

    The tick and the outbox: claims (of commitments by ``claim_due``, of
    notices by ``claim_notices``) carry a fresh token and a lease judged by
    the store's own ``clock``, never by the caller's ``now`` (which alone
    decides what is due); an expired claim is simply free again.
    ``claimed_until`` and ``acked_at`` are read from that clock too.  A claim is "held by a
    token" while no one else has claimed the row since, expired or not:
    ``fire``, ``release``, ``ack_notices`` and ``release_notices`` compare
    tokens only.  Notices are unique per ``(tenant, idempotency_key)`` and
    move between the states pending, claimed and acked.
    Nothing survives the process.  :meth:`close` releases nothing (there is
    nothing to release) and the data stays readable after it.

    Args:
        clock: the clock that judges leases (a :class:`~keepword.clock.Clock`;
            default :class:`~keepword.clock.SystemClock`).  A test passes a
            :class:`~keepword.clock.FrozenClock` and moves it past a lease
            instead of sleeping.

    Raises:
        InvalidArgumentError: ``clock`` has no ``now()``.

    Attributes:
        ports: every port: ``{"commitments", "tick_queue", "outbox", "touchpoints",
            "waitlists"}``.
        capabilities: ``{"transactions"}``: every write, ``add_many``
            included, is all or nothing.  Not ``"multiprocess"`` (the data
            lives in one process) nor ``"skip_locked"``.

    >>> import datetime as dt
    >>> import keepword
    >>> isinstance(MemoryStore(), keepword.ports.Store)
    True
    >>> leases = keepword.FrozenClock(dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
    >>> store = MemoryStore(clock=leases)
    >>> store.lease_clock is leases
    True
    """

    capabilities: frozenset[str] = frozenset({"transactions"})
    ports: frozenset[str] = PORTS

    def __init__(self, *, clock: Clock | None = None) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidArgumentError(
                f"must be a Clock (with a now() method), not {type(clock).__name__}",
                argument="clock",
                fix="pass keepword.SystemClock() or keepword.FrozenClock(...)",
            )
        self._lease_clock: Clock = SystemClock() if clock is None else clock
        self._lock = threading.RLock()
        # tenant -> id -> commitment
        self._rows: dict[str, dict[str, Commitment]] = {}
        # id -> tenant, over every tenant: ids are unique store-wide
        self._tenant_of: dict[str, str] = {}
        # (tenant, external_ref) -> id
        self._refs: dict[tuple[str, str], str] = {}
        # The tick's index: per tenant a heap of (next_action_at, id) with lazy
        # deletion.  An entry is live iff ``_queued[id]`` equals its instant
        # (``_queued`` holds the OPEN commitments with a next_action_at); any
        # other entry is stale and dropped when it reaches the top.
        self._queue: dict[str, list[tuple[_dt.datetime, str]]] = {}
        self._queued: dict[str, _dt.datetime] = {}
        # commitment id -> its claim (free when absent or expired)
        self._claims: dict[str, _Claim] = {}
        # the outbox: notice id -> notice (ids unique store-wide), the unique
        # (tenant, idempotency_key) index, per tenant the ids not yet acked
        # (insertion ordered), and notice id -> its claim
        self._notices: dict[str, Notice] = {}
        self._notice_keys: dict[tuple[str, str], str] = {}
        self._unacked: dict[str, dict[str, None]] = {}
        self._notice_claims: dict[str, _Claim] = {}
        self._init_touchpoints()
        self._init_waitlists()

    @property
    def lease_clock(self) -> Clock:
        """The clock that judges leases (the ``clock`` given, or a ``SystemClock``)."""
        return self._lease_clock

    def _clock(self) -> _dt.datetime:
        """The store's own clock, which judges leases (never the caller's ``now``)."""
        return to_utc(self._lease_clock.now(), "clock.now()")

    def __repr__(self) -> str:
        with self._lock:
            size, tenants = len(self._tenant_of), len(self._rows)
        return f"<MemoryStore {size} commitment(s) in {tenants} tenant(s)>"

    # ------------------------------------------------------------------ writes

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        """Store a new commitment unless its tenant already has its external reference.

        See :meth:`keepword.ports.CommitmentRepository.add`.
        When the reference exists, the existing commitment is returned and the
        id is not checked (nothing is stored either way).

        Raises:
            InvalidArgumentError: not a ``Commitment``, or ``version != 1``.
            ConflictError: the id already exists (in any tenant).
        """
        new = check_new_commitment(commitment, "commitment")
        with self._lock:
            stored, created = self._add_one(new, self._rows, self._tenant_of, self._refs)
            if created:
                self._index(stored)
            return stored, created

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        """Store several new commitments, all or nothing; one result per item, in order.

        Exactly :meth:`add` applied to each item in turn inside one
        transaction, after checking that no id appears twice in the batch: an
        item whose reference an earlier item (or the store) already has maps
        to that one; any conflict stores nothing at all.
        See :meth:`keepword.ports.CommitmentRepository.add_many`.

        Raises:
            InvalidArgumentError: an item is not a ``Commitment`` or has ``version != 1``.
            ConflictError: an id repeats in the batch, or an item (not mapped to an
                existing reference) has an id that exists already.
        """
        if isinstance(commitments, (str, bytes)) or not isinstance(commitments, Sequence):
            raise InvalidArgumentError("must be a sequence of Commitment", argument="commitments")
        items = [check_new_commitment(c, f"commitments[{i}]") for i, c in enumerate(commitments)]
        ids = [c.id for c in items]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ConflictError(
                f"the batch holds id {twice[0]!r} more than once", argument="commitments"
            )
        with self._lock:
            # Stage into copies (simple, O(size of the store)); publish only if
            # every item went through.
            rows = {tenant: dict(by_id) for tenant, by_id in self._rows.items()}
            tenant_of = dict(self._tenant_of)
            refs = dict(self._refs)
            results = [self._add_one(c, rows, tenant_of, refs) for c in items]
            self._rows, self._tenant_of, self._refs = rows, tenant_of, refs
            for stored, created in results:
                if created:
                    self._index(stored)
            return results

    @staticmethod
    def _add_one(
        new: Commitment,
        rows: dict[str, dict[str, Commitment]],
        tenant_of: dict[str, str],
        refs: dict[tuple[str, str], str],
    ) -> tuple[Commitment, bool]:
        if new.external_ref is not None:
            existing_id = refs.get((new.tenant, new.external_ref))
            if existing_id is not None:
                return rows[new.tenant][existing_id], False
        if new.id in tenant_of:
            raise ConflictError(
                f"a commitment with id {new.id!r} already exists",
                argument="id",
                fix="give every new commitment a fresh id (keepword._ids.new_id)",
            )
        rows.setdefault(new.tenant, {})[new.id] = new
        tenant_of[new.id] = new.tenant
        if new.external_ref is not None:
            refs[(new.tenant, new.external_ref)] = new.id
        return new, True

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        """Replace a stored commitment iff its stored version is ``expected_version``.

        Checks, in this order: the arguments (``commitment.version`` must be
        ``expected_version + 1``), that the commitment exists in its tenant,
        the stored version, then that the immutable fields (``id``,
        ``tenant``, ``made_at``, ``external_ref``) are unchanged and the
        history extends the stored one.
        See :meth:`keepword.ports.CommitmentRepository.update`.

        Raises:
            InvalidArgumentError: bad arguments, a rewritten history or a changed
                immutable field; nothing is written.
            NotFoundError: no such commitment in ``commitment.tenant``.
            ConflictError: the stored version differs from ``expected_version``.
        """
        new = check_write(commitment, expected_version)
        with self._lock:
            stored = self._get(new.tenant, new.id)
            self._check_against(new, stored, expected_version)
            self._put(new)
            return new

    @staticmethod
    def _check_against(new: Commitment, stored: Commitment, expected_version: int) -> None:
        """The stored version, then the immutable fields and the history, as ``update`` checks."""
        if stored.version != expected_version:
            raise version_conflict(new.id, expected_version, stored.version)
        for name in _IMMUTABLE_FIELDS:
            if getattr(new, name) != getattr(stored, name):
                raise InvalidArgumentError(
                    f"{name} cannot change ({getattr(stored, name)!r} -> {getattr(new, name)!r})",
                    argument="commitment",
                )
        known = len(stored.history)
        if new.history[:known] != stored.history:
            raise InvalidArgumentError(
                "the history must extend the stored history (events are only appended)",
                argument="commitment",
                fix="apply transitions to the stored commitment, never rewrite its events",
            )

    def _put(self, new: Commitment) -> None:
        self._rows[new.tenant][new.id] = new
        self._index(new)

    def _index(self, c: Commitment) -> None:
        """Keep the tick's heap in step with ``c``'s stored state (O(log n))."""
        at = c.next_action_at if c.status is Status.OPEN else None
        if at is None:
            self._queued.pop(c.id, None)
            return
        if self._queued.get(c.id) == at:
            return
        self._queued[c.id] = at
        heap = self._queue.setdefault(c.tenant, [])
        heapq.heappush(heap, (at, c.id))
        if len(heap) > 64 and len(heap) > 4 * len(self._rows.get(c.tenant, ())):
            # mostly stale entries: rebuild from the live ones
            live = [(a, i) for a, i in set(heap) if self._queued.get(i) == a]
            heapq.heapify(live)
            self._queue[c.tenant] = live

    # ------------------------------------------------------------------ reads

    def get(self, tenant: str, id: str) -> Commitment:
        """The commitment ``id`` of ``tenant``.

        Raises:
            NotFoundError: none in this tenant (another tenant's id included).
            InvalidArgumentError: ``tenant`` or ``id`` is not an identifier.
        """
        check_identifier(tenant, "tenant")
        check_identifier(id, "id")
        with self._lock:
            return self._get(tenant, id)

    def _get(self, tenant: str, id: str) -> Commitment:
        found = self._rows.get(tenant, {}).get(id)
        if found is None:
            raise NotFoundError("commitment", id, argument="id")
        return found

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        """The tenant's commitment with this external reference, or ``None``.

        Raises:
            InvalidArgumentError: ``tenant`` or ``external_ref`` is not an identifier.
        """
        check_identifier(tenant, "tenant")
        check_identifier(external_ref, "external_ref")
        with self._lock:
            found = self._refs.get((tenant, external_ref))
            return None if found is None else self._rows[tenant][found]

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        """The tenant's commitments matching ``query``, sorted by ``query.sort_key``, limited.

        Raises:
            InvalidArgumentError: ``tenant`` is not an identifier or ``query`` not a Query.
        """
        check_identifier(tenant, "tenant")
        q = check_query(query)
        with self._lock:
            matched = [c for c in self._rows.get(tenant, {}).values() if q.matches(c)]
        matched.sort(key=q.sort_key)
        return matched if q.limit is None else matched[: q.limit]

    def count(self, tenant: str, query: Query) -> int:
        """How many of the tenant's commitments match ``query`` (its ``limit`` ignored).

        Raises:
            InvalidArgumentError: ``tenant`` is not an identifier or ``query`` not a Query.
        """
        check_identifier(tenant, "tenant")
        q = check_query(query)
        with self._lock:
            return sum(1 for c in self._rows.get(tenant, {}).values() if q.matches(c))

    # ------------------------------------------------------------------ the tick

    def claim_due(
        self, tenant: str, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` OPEN commitments due at ``now``, in ``(next_action_at, id)`` order.

        See :meth:`keepword.ports.TickQueue.claim_due`.  Pops due entries off the
        tenant's heap (stale ones are dropped, held ones skipped and pushed
        back), so it costs O(due log n), not a scan.  What is due is judged by
        ``now``; leases by the store's clock.

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``now``, ``limit``, ``lease`` or ``worker``.
        """
        check_identifier(tenant, "tenant")
        now = to_utc(now, "now")
        limit = check_positive(limit, "limit")
        length = check_lease(lease)
        check_identifier(worker, "worker")
        token = uuid.uuid4().hex
        with self._lock:
            clock = self._clock()
            heap = self._queue.get(tenant, [])
            taken: list[str] = []
            seen: list[tuple[_dt.datetime, str]] = []
            while heap and heap[0][0] <= now and len(taken) < limit:
                at, id = heapq.heappop(heap)
                if self._queued.get(id) != at:
                    continue  # stale: the commitment moved on
                seen.append((at, id))
                claim = self._claims.get(id)
                if claim is None or claim.until <= clock:
                    taken.append(id)
            for entry in seen:  # claimed or not, they stay due until fired
                heapq.heappush(heap, entry)
            until = _lease_end(clock, length)
            for id in taken:
                self._claims[id] = _Claim(token, until, worker)
            rows = self._rows[tenant] if taken else {}
            return token, [rows[id] for id in taken]

    def fire_many(
        self, tenant: str, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """Judge each fire as :meth:`fire` does; store the ones that pass, all together.

        See :meth:`keepword.ports.TickQueue.fire_many`.  Checks per fire, in this
        order: that the commitment exists, the stored version, that ``token``
        holds its claim (expired or not, as long as no one took it since),
        then what :meth:`update` checks.  Notices are stored pending.

        Raises:
            InvalidArgumentError: bad arguments or a fire ``update`` would
                refuse; nothing is written.
            ConflictError: a new notice reuses a stored notice's id; nothing
                is written.
        """
        batch = check_fires(tenant, fires)
        check_identifier(token, "token")
        with self._lock:
            outcomes: list[Commitment | ConflictError | NotFoundError] = []
            for fire in batch:
                outcomes.append(self._judge_fire(fire, token))
            fresh: dict[str, Notice] = {}
            keys: set[str] = set()
            for fire, outcome in zip(batch, outcomes, strict=True):
                if not isinstance(outcome, Commitment):
                    continue
                for n in fire.notices:
                    key = n.idempotency_key
                    if (tenant, key) in self._notice_keys or key in keys:
                        continue  # fired already: a unique key, not a lock, makes it once
                    if n.id in self._notices or n.id in fresh:
                        raise ConflictError(
                            f"a notice with id {n.id!r} already exists", argument="notices"
                        )
                    keys.add(key)
                    fresh[n.id] = attrs.evolve(
                        n, state=NoticeState.PENDING, claimed_until=None, acked_at=None
                    )
            unacked = self._unacked.setdefault(tenant, {})
            for n in fresh.values():
                self._notices[n.id] = n
                self._notice_keys[(n.tenant, n.idempotency_key)] = n.id
                unacked[n.id] = None
            for outcome in outcomes:
                if isinstance(outcome, Commitment):
                    del self._claims[outcome.id]
                    self._put(outcome)
            return outcomes

    def _judge_fire(self, fire: Fire, token: str) -> Commitment | ConflictError | NotFoundError:
        """The outcome of one fire (writing nothing); raises only for a refused update."""
        new, expected_version = fire.commitment, fire.expected_version
        try:
            stored = self._get(new.tenant, new.id)
            if stored.version != expected_version:
                self._check_against(new, stored, expected_version)  # raises ConflictError
            claim = self._claims.get(new.id)
            if claim is None or claim.token != token:
                raise ConflictError(
                    f"commitment {new.id!r} is not claimed by this token: the claim was "
                    "lost (its lease expired and another worker took it) or never held",
                    argument="token",
                    fix="claim it again with claim_due() and redo the tick's work",
                )
        except (ConflictError, NotFoundError) as error:
            return error
        self._check_against(new, stored, expected_version)
        return new

    def release(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Give up the claims ``token`` holds on the tenant's ``ids``; how many were released.

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``ids`` or ``token``.
        """
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        check_identifier(token, "token")
        with self._lock:
            rows = self._rows.get(tenant, {})
            released = 0
            for id in wanted:
                claim = self._claims.get(id)
                if id in rows and claim is not None and claim.token == token:
                    del self._claims[id]
                    released += 1
            return released

    def next_action_at(self, tenant: str) -> _dt.datetime | None:
        """The earliest ``next_action_at`` of the tenant's OPEN commitments (claimed too).

        Raises:
            InvalidArgumentError: a bad ``tenant``.
        """
        check_identifier(tenant, "tenant")
        with self._lock:
            heap = self._queue.get(tenant, [])
            while heap and self._queued.get(heap[0][1]) != heap[0][0]:
                heapq.heappop(heap)  # stale
            return heap[0][0] if heap else None

    def claim_due_any(
        self, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` due commitments of any tenants, in ``(next_action_at, id)`` order.

        See :meth:`keepword.ports.TickQueueAllTenants.claim_due_any`.  Merges
        the tenants' heaps (the reference store favours clarity: it looks at
        every due entry).

        Raises:
            InvalidArgumentError: a bad ``now``, ``limit``, ``lease`` or ``worker``.
        """
        now = to_utc(now, "now")
        limit = check_positive(limit, "limit")
        length = check_lease(lease)
        check_identifier(worker, "worker")
        token = uuid.uuid4().hex
        with self._lock:
            clock = self._clock()
            due = sorted(
                (at, id)
                for id, at in self._queued.items()
                if at <= now and (self._claims.get(id) is None or self._claims[id].until <= clock)
            )[:limit]
            until = _lease_end(clock, length)
            for _at, id in due:
                self._claims[id] = _Claim(token, until, worker)
            return token, [self._rows[self._tenant_of[id]][id] for _at, id in due]

    def fire_many_any(
        self, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """:meth:`fire_many` per tenant, the outcomes in the order of ``fires``.

        See :meth:`keepword.ports.TickQueueAllTenants.fire_many_any`.

        Raises:
            InvalidArgumentError: as :meth:`fire_many`; that tenant's fires are not written.
            ConflictError: a new notice reuses a stored notice's id.
        """
        groups = group_fires(fires)
        outcomes: dict[str, Commitment | ConflictError | NotFoundError] = {}
        with self._lock:
            for tenant, mine in groups.items():
                for fire, outcome in zip(
                    mine, self.fire_many(tenant, mine, token=token), strict=True
                ):
                    outcomes[fire.commitment.id] = outcome
        return [outcomes[f.commitment.id] for f in fires]

    def next_action_at_any(self) -> _dt.datetime | None:
        """The earliest ``next_action_at`` of every tenant's OPEN commitments (claimed too)."""
        with self._lock:
            return min(self._queued.values(), default=None)

    # ------------------------------------------------------------------ the outbox

    def _deliverable(self, tenant: str, clock: _dt.datetime) -> list[Notice]:
        out = []
        for id in self._unacked.get(tenant, {}):
            n = self._notices[id]
            if n.state is NoticeState.PENDING:
                out.append(n)
            else:
                claim = self._notice_claims.get(id)
                if claim is None or claim.until <= clock:
                    out.append(n)
        return out

    def pending_notices(self, tenant: str, *, limit: int) -> list[Notice]:
        """Notices neither acked nor under a live claim, oldest first, at most ``limit``.

        A notice whose claim expired is returned as stored (state ``CLAIMED``,
        its old ``claimed_until``); it is deliverable again all the same.

        Raises:
            InvalidArgumentError: a bad ``tenant`` or ``limit``.
        """
        check_identifier(tenant, "tenant")
        limit = check_positive(limit, "limit")
        with self._lock:
            found = self._deliverable(tenant, self._clock())
        return heapq.nsmallest(limit, found, key=_notice_order)

    def claim_notices(
        self, tenant: str, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` deliverable notices for ``lease``, oldest first.

        ``claimed_until`` is the store's clock plus ``lease``, and expiry is
        judged by that clock.

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``limit``, ``lease`` or ``worker``.
        """
        check_identifier(tenant, "tenant")
        limit = check_positive(limit, "limit")
        length = check_lease(lease)
        check_identifier(worker, "worker")
        token = uuid.uuid4().hex
        with self._lock:
            clock = self._clock()
            chosen = heapq.nsmallest(limit, self._deliverable(tenant, clock), key=_notice_order)
            until = _lease_end(clock, length)
            claim = _Claim(token, until, worker)
            out = []
            for n in chosen:
                held = attrs.evolve(n, state=NoticeState.CLAIMED, claimed_until=until)
                self._notices[n.id] = held
                self._notice_claims[n.id] = claim
                out.append(held)
            return token, out

    def _held(self, tenant: str, ids: Sequence[str], token: str) -> list[Notice]:
        """The notices among ``ids`` in ``tenant`` whose claim is ``token``'s."""
        out = []
        for id in ids:
            n = self._notices.get(id)
            claim = self._notice_claims.get(id)
            if (
                n is not None
                and n.tenant == tenant
                and n.state is NoticeState.CLAIMED
                and claim is not None
                and claim.token == token
            ):
                out.append(n)
        return out

    def ack_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Mark delivered the notices among ``ids`` that ``token`` still holds; how many.

        "Still holds": the claim is ``token``'s (even if its lease ran out,
        as long as no other consumer claimed the notice since).

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``ids`` or ``token``.
        """
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        check_identifier(token, "token")
        with self._lock:
            held = self._held(tenant, wanted, token)
            now = self._clock()
            for n in held:
                self._notices[n.id] = attrs.evolve(
                    n, state=NoticeState.ACKED, claimed_until=None, acked_at=now
                )
                del self._notice_claims[n.id]
                del self._unacked[tenant][n.id]
            return len(held)

    def release_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Return the notices among ``ids`` that ``token`` holds to pending; how many.

        Raises:
            InvalidArgumentError: a bad ``tenant``, ``ids`` or ``token``.
        """
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        check_identifier(token, "token")
        with self._lock:
            held = self._held(tenant, wanted, token)
            for n in held:
                self._notices[n.id] = attrs.evolve(n, state=NoticeState.PENDING, claimed_until=None)
                del self._notice_claims[n.id]
            return len(held)

    def close(self) -> None:
        """Do nothing harmful, any number of times: a memory store holds no resources.

        The data stays readable and writable afterwards.
        """


if TYPE_CHECKING:
    _check: Store = MemoryStore()
