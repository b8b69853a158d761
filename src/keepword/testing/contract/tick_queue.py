"""``TickQueueContract``: the tests of the ``"tick_queue"`` port.

``claim_due`` (due OPEN commitments only, in order, skipping live claims,
taking expired ones), ``fire_many`` (each idempotency key stored once; a stale
version or a lost claim writes nothing), ``release`` and ``next_action_at``.
The tests that read what a fire wrote to the outbox need the ``"outbox"``
port too, and are skipped, naming it, on a store without one.
See :mod:`keepword.testing.contract` for how to run it.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.commitment import Event, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    NaiveDatetimeError,
    NotFoundError,
)
from keepword.notice import NoticeState
from keepword.ports import Fire, Query, Store, TickQueue, TickQueueAllTenants
from keepword.testing._fire import fire_one
from keepword.testing._hostile import HOSTILE_STRINGS
from keepword.testing.contract._support import (
    LADDER,
    T0,
    PortContract,
    TickHelpers,
    _hostile_commitment,
    _race,
    _settings,
    _tenant,
    assert_same_commitment,
    for_port,
    make_commitment,
    notice_content,
    requires,
)

__all__ = ["TickQueueAllTenantsContract", "TickQueueContract"]


@for_port("tick_queue")
class TickQueueContract(TickHelpers, PortContract):
    """Every behaviour :class:`keepword.ports.TickQueue` promises, as pytest tests.

    Subclass it as ``TestSomethingStore`` with a ``store`` fixture, as
    :class:`~keepword.testing.contract.CommitmentRepositoryContract`.  Runs
    when the store declares ``"tick_queue"`` (and ``"commitments"``, which
    every store has); a test that reads the outbox also needs ``"outbox"``.
    Lease tests use a 1.5 s lease and wait 2 s of real time, so a store may
    judge leases by its database's clock.
    """

    def test_store_satisfies_the_tick_queue_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.TickQueue`` (it has every method)."""
        assert isinstance(store, TickQueue)

    def test_claim_due_takes_only_due_open_commitments_in_order(self, store: Store) -> None:
        """Only OPEN ones with ``next_action_at <= now``, by ``next_action_at`` then id."""
        tenant = _tenant()
        hours = _dt.timedelta(hours=1)
        soon = [self._escalating(store, tenant, 10 * hours) for _ in range(3)]  # ties
        first = self._escalating(store, tenant, 8 * hours)
        exact = self._escalating(store, tenant, 12 * hours)  # next_action_at == now
        self._escalating(store, tenant, 12 * hours + _dt.timedelta(microseconds=1))  # not yet
        store.add(make_commitment(tenant, due_at=T0 + 30 * hours))  # no policy: nothing due
        paused = self._escalating(store, tenant, 9 * hours)
        store.update(_t.pause(paused, now=T0, reason="waiting")[0], expected_version=1)
        kept = self._escalating(store, tenant, 9 * hours)
        store.update(_t.keep(kept, now=T0)[0], expected_version=1)
        now = T0 + 10 * hours
        token, claimed = store.claim_due(tenant, now, limit=100, lease=self._LONG, worker="w1")
        assert isinstance(token, str)
        assert token
        want = [first, *sorted(soon, key=lambda c: c.id), exact]
        assert [c.id for c in claimed] == [c.id for c in want]
        for got, stored in zip(claimed, want, strict=True):
            assert_same_commitment(got, stored)

    def test_claim_due_respects_limit_and_a_live_claim(self, store: Store) -> None:
        """``limit`` caps a claim; the next claim skips held ones and takes the rest."""
        tenant = _tenant()
        batch = [
            self._escalating(store, tenant, _dt.timedelta(hours=3, minutes=i)) for i in range(5)
        ]
        now = T0 + _dt.timedelta(days=1)
        t1, one = store.claim_due(tenant, now, limit=2, lease=self._LONG, worker="w1")
        t2, two = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")
        t3, three = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w3")
        assert len({t1, t2, t3}) == 3, "every claim has a fresh token"
        assert [c.id for c in one] == [c.id for c in batch[:2]]
        assert [c.id for c in two] == [c.id for c in batch[2:]]
        assert three == []

    @_settings
    @given(
        offsets=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=8),
        at=st.integers(min_value=0, max_value=8),
        limit=st.integers(min_value=1, max_value=4),
    )
    def test_claims_in_turn_take_every_due_one_once_in_order(
        self, store: Store, offsets: list[int], at: int, limit: int
    ) -> None:
        """Claims in turn partition the due commitments, in order, at most ``limit`` each."""
        tenant = _tenant()
        made = [self._escalating(store, tenant, _dt.timedelta(hours=2 + h)) for h in offsets]
        now = T0 + _dt.timedelta(hours=at)
        want = sorted(
            (c for c in made if c.next_action_at is not None and c.next_action_at <= now),
            key=lambda c: (c.next_action_at, c.id),
        )
        got: list[str] = []
        while True:
            _, claimed = store.claim_due(tenant, now, limit=limit, lease=self._LONG, worker="w")
            assert len(claimed) <= limit
            if not claimed:
                break
            got.extend(c.id for c in claimed)
            assert len(got) <= len(made), "a commitment was claimed twice"
        assert got == [c.id for c in want]

    def test_an_expired_claim_is_claimed_again(self, store: Store) -> None:
        """Once its lease has run out (store clock), the same query claims it again."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=3))
        now = T0 + _dt.timedelta(hours=2)
        _, first = store.claim_due(tenant, now, limit=10, lease=self._SHORT, worker="w1")
        assert [x.id for x in first] == [c.id]
        assert store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")[1] == []
        time.sleep(self._EXPIRE)
        _, again = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")
        assert [x.id for x in again] == [c.id]

    def test_claim_due_sees_only_the_tenant(self, store: Store) -> None:
        """A tenant's claim never takes another tenant's due commitments."""
        a = self._escalating(store, "tenant-a", _dt.timedelta(hours=3))
        b = self._escalating(store, "tenant-b", _dt.timedelta(hours=3))
        now = T0 + _dt.timedelta(hours=2)
        assert [
            c.id for c in store.claim_due("tenant-a", now, limit=9, lease=self._LONG, worker="w")[1]
        ] == [a.id]
        assert store.claim_due("tenant-c", now, limit=9, lease=self._LONG, worker="w")[1] == []
        assert store.next_action_at("tenant-a") == a.next_action_at
        assert store.next_action_at("tenant-c") is None
        assert [
            c.id for c in store.claim_due("tenant-b", now, limit=9, lease=self._LONG, worker="w")[1]
        ] == [b.id]

    def test_concurrent_claims_never_share_a_commitment(self, store: Store) -> None:
        """Threads claiming at once: each due commitment goes to at most one of them."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        made = [
            self._escalating(store, tenant, _dt.timedelta(hours=3, seconds=i)) for i in range(24)
        ]
        now = T0 + _dt.timedelta(days=1)
        results = _race(
            self.threads,
            lambda i: store.claim_due(tenant, now, limit=5, lease=self._LONG, worker=f"w{i}"),
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        ids = [c.id for r in results if not isinstance(r, BaseException) for c in r[1]]
        assert len(ids) == len(set(ids)), "a commitment was claimed by two workers"
        assert set(ids) <= {c.id for c in made}
        assert len(ids) == min(len(made), 5 * self.threads)

    # ------------------------------------------------------------ the tick: fire

    @requires("outbox")
    def test_fire_stores_the_new_state_and_its_notices_and_frees_the_claim(
        self, store: Store
    ) -> None:
        """``fire`` writes the commitment and its notices (pending) and releases the claim."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=5))
        now = T0 + _dt.timedelta(hours=3)  # the 2-hours-before step only
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        assert len(notices) == 1
        stored = fire_one(store, new, expected_version=c.version, notices=notices, token=token)
        assert_same_commitment(stored, new)
        assert_same_commitment(store.get(tenant, c.id), new)
        pending = store.pending_notices(tenant, limit=10)
        assert [notice_content(n) for n in pending] == [notice_content(n) for n in notices]
        assert [n.state for n in pending] == [NoticeState.PENDING]
        # next step not due yet: nothing to claim; once due, claimable at once
        assert store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")[1] == []
        later = T0 + _dt.timedelta(hours=5)
        _, again = store.claim_due(tenant, later, limit=5, lease=self._LONG, worker="w")
        assert [x.id for x in again] == [c.id]

    @requires("outbox")
    @pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=lambda s: repr(s)[:24])
    def test_fire_many_keeps_hostile_strings_byte_exact(self, store: Store, text: str) -> None:
        """A fired batch writes hostile text in every field back exactly, notices too."""
        c = _hostile_commitment(text, due_at=T0 + _dt.timedelta(hours=1), policy=LADDER)
        store.add(c)
        now = T0 + _dt.timedelta(hours=2)  # every step of the ladder, and the breach
        token, (claimed,) = store.claim_due(text, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        assert store.fire_many(text, [Fire(new, c.version, notices)], token=token) == [new]
        assert_same_commitment(store.get(text, c.id), new)
        pending = store.pending_notices(text, limit=10)
        assert [notice_content(n) for n in pending] == [notice_content(n) for n in notices]

    @requires("outbox")
    def test_notices_round_trip_exactly(self, store: Store) -> None:
        """Every notice field comes back as given, hostile text included."""
        tenant = _tenant()
        text = "\u202e'; DROP TABLE x; -- e\u0301 👍🏽 %_"
        self._escalating(
            store, tenant, _dt.timedelta(hours=1), customer=text, owner=text, what=text, kind=text
        )
        now = T0 + _dt.timedelta(hours=5, microseconds=7)
        fired = self._fire_due(store, tenant, now)
        assert len(fired) == 3
        got = store.pending_notices(tenant, limit=10)
        assert [notice_content(n) for n in got] == [notice_content(n) for n in fired]
        for g, f in zip(got, fired, strict=True):
            for name in ("what", "customer", "owner", "kind", "step", "idempotency_key"):
                assert getattr(g, name).encode() == getattr(f, name).encode(), name
            for name in ("due_at", "scheduled_at", "fired_at"):
                assert getattr(g, name).utcoffset() == _dt.timedelta(0), name
            assert g.fired_at == now

    @requires("outbox")
    def test_firing_a_key_twice_stores_it_once(self, store: Store) -> None:
        """A notice whose ``idempotency_key`` is stored is skipped, in a batch or later."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=5))
        now = T0 + _dt.timedelta(hours=3)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        twice = [*notices, *(attrs.evolve(n, id=new_id(now), what="again") for n in notices)]
        new = fire_one(store, new, expected_version=c.version, notices=twice, token=token)
        assert [n.id for n in store.pending_notices(tenant, limit=10)] == [notices[0].id]
        later = T0 + _dt.timedelta(hours=5)
        token, (claimed,) = store.claim_due(tenant, later, limit=5, lease=self._LONG, worker="w")
        newer, more = self._escalate(claimed, later)
        retry = attrs.evolve(notices[0], id=new_id(later), fired_at=later)
        fire_one(store, newer, expected_version=new.version, notices=[retry, *more], token=token)
        got = store.pending_notices(tenant, limit=10)
        assert [n.id for n in got] == [notices[0].id, *(n.id for n in more)]
        keys = [n.idempotency_key for n in got]
        assert len(keys) == len(set(keys))

    @requires("outbox")
    def test_fire_with_a_stale_version_conflicts_and_writes_no_notice(self, store: Store) -> None:
        """The version moved on since the claim: ``ConflictError``, nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        moved = store.update(_t.reassign(c, now=now, owner="bob")[0], expected_version=1)
        new, notices = self._escalate(claimed, now)
        with pytest.raises(ConflictError) as info:
            fire_one(store, new, expected_version=claimed.version, notices=notices, token=token)
        assert (info.value.expected_version, info.value.actual_version) == (1, 2)
        assert_same_commitment(store.get(tenant, c.id), moved)
        assert store.pending_notices(tenant, limit=10) == []

    @requires("outbox")
    def test_fire_with_a_lost_claim_conflicts_and_writes_no_notice(self, store: Store) -> None:
        """A lease that expired and was taken by another worker: the first fire loses."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        stale_token, (mine,) = store.claim_due(
            tenant, now, limit=5, lease=self._SHORT, worker="frozen"
        )
        time.sleep(self._EXPIRE)
        token, (theirs,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w2")
        late, late_notices = self._escalate(mine, now)
        with pytest.raises(ConflictError):
            fire_one(
                store, late, expected_version=c.version, notices=late_notices, token=stale_token
            )
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        new, notices = self._escalate(theirs, now)
        fire_one(store, new, expected_version=c.version, notices=notices, token=token)
        assert [n.id for n in store.pending_notices(tenant, limit=10)] == [n.id for n in notices]

    @requires("outbox")
    def test_fire_without_the_claim_conflicts(self, store: Store) -> None:
        """Firing an unclaimed commitment, or with another claim's token, is a conflict."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        d = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        new, notices = self._escalate(c, now)
        with pytest.raises(ConflictError):
            fire_one(store, new, expected_version=1, notices=notices, token=uuid.uuid4().hex)
        token, claimed = store.claim_due(tenant, now, limit=1, lease=self._LONG, worker="w")
        other = d if claimed[0].id == c.id else c
        new, notices = self._escalate(other, now)
        with pytest.raises(ConflictError):
            fire_one(store, new, expected_version=1, notices=notices, token=token)
        assert_same_commitment(store.get(tenant, other.id), other)
        assert store.pending_notices(tenant, limit=10) == []

    @requires("outbox")
    def test_fire_refuses_what_update_refuses_and_keeps_the_claim(self, store: Store) -> None:
        """A skipped version or rewritten history is ``InvalidArgumentError``; nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        skipped = attrs.evolve(new, version=new.version + 1)
        forged = Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": True})
        rewritten = attrs.evolve(new, history=(forged, *new.history[1:]))
        for bad, expected in ((skipped, 1), (rewritten, 1), (new, 0)):
            with pytest.raises(InvalidArgumentError):
                fire_one(store, bad, expected_version=expected, notices=notices, token=token)
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert fire_one(store, new, expected_version=1, notices=notices, token=token) == new

    @requires("outbox")
    def test_fire_of_a_missing_commitment_is_not_found(self, store: Store) -> None:
        """``fire`` of a commitment the tenant does not have raises ``NotFoundError``."""
        c = make_commitment(_tenant(), due_at=T0 + _dt.timedelta(hours=1), policy=LADDER)
        new, notices = self._escalate(c, T0 + _dt.timedelta(hours=2))
        with pytest.raises(NotFoundError):
            fire_one(store, new, expected_version=1, notices=notices, token=uuid.uuid4().hex)
        assert store.pending_notices(c.tenant, limit=10) == []

    @requires("outbox")
    def test_fire_refuses_another_tenants_notice(self, store: Store) -> None:
        """A notice of another tenant in the batch is refused; nothing is written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        foreign = attrs.evolve(notices[0], id=new_id(now), tenant="tenant-z")
        with pytest.raises(InvalidArgumentError):
            fire_one(store, new, expected_version=1, notices=[*notices, foreign], token=token)
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert store.pending_notices("tenant-z", limit=10) == []

    @requires("outbox")
    def test_fire_many_writes_the_fires_that_pass_and_reports_the_others(
        self, store: Store
    ) -> None:
        """Each fire is judged alone: a stale one and a missing one are reported, not written."""
        tenant = _tenant()
        hour = _dt.timedelta(hours=1)
        made = [self._escalating(store, tenant, hour) for _ in range(3)]
        now = T0 + 2 * hour
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert sorted(c.id for c in claimed) == sorted(c.id for c in made)
        fires = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
        stale = claimed[1]
        moved = store.update(_t.reassign(stale, now=now, owner="bob")[0], expected_version=1)
        ghost_c = make_commitment(tenant, due_at=T0 + hour, policy=LADDER)
        ghost_new, ghost_notices = self._escalate(ghost_c, now)
        ghost = Fire(ghost_new, 1, ghost_notices)
        outcomes = store.fire_many(tenant, [*fires, ghost], token=token)
        assert len(outcomes) == 4
        assert outcomes[0] == fires[0].commitment
        assert outcomes[2] == fires[2].commitment
        assert isinstance(outcomes[1], ConflictError)
        assert (outcomes[1].expected_version, outcomes[1].actual_version) == (1, 2)
        assert isinstance(outcomes[3], NotFoundError)
        assert_same_commitment(store.get(tenant, stale.id), moved)
        for i in (0, 2):
            assert_same_commitment(store.get(tenant, fires[i].commitment.id), fires[i].commitment)
        written = {n.id for i in (0, 2) for n in fires[i].notices}
        assert {n.id for n in store.pending_notices(tenant, limit=50)} == written
        # the written ones' claims are free; the stale one is still this token's to release
        assert store.release(tenant, [c.id for c in claimed], token) == 1

    @requires("outbox")
    def test_fire_many_refuses_a_bad_batch_and_writes_nothing(self, store: Store) -> None:
        """Bad entries, another tenant, one commitment twice or a rewritten history: nothing."""
        tenant = _tenant()
        hour = _dt.timedelta(hours=1)
        self._escalating(store, tenant, hour)
        self._escalating(store, tenant, hour)
        now = T0 + 2 * hour
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        fires = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
        forged = Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": True})
        first = fires[0].commitment
        rewritten = Fire(attrs.evolve(first, history=(forged, *first.history[1:])), 1)
        bad_batches: list[tuple[Any, str]] = [
            ("not fires", "fires"),
            ([fires[0], "x"], "fires[1]"),
            ([fires[0], fires[0]], "fires[1]"),
            ([rewritten, fires[1]], "commitment"),
        ]
        for batch, argument in bad_batches:
            with pytest.raises(InvalidArgumentError) as info:
                store.fire_many(tenant, batch, token=token)
            assert info.value.argument == argument
        with pytest.raises(InvalidArgumentError) as info:
            store.fire_many(_tenant(), fires, token=token)
        assert info.value.argument == "fires[0]"
        for c in claimed:
            assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert store.fire_many(tenant, [], token=token) == []
        assert store.fire_many(tenant, fires, token=token) == [f.commitment for f in fires]

    @requires("outbox")
    def test_a_fired_commitment_that_ended_is_never_claimed(self, store: Store) -> None:
        """Once kept (or after its last step), a commitment is not due any more."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        late = T0 + _dt.timedelta(days=2)
        assert len(self._fire_due(store, tenant, late)) == 3  # every step
        assert store.claim_due(tenant, late, limit=5, lease=self._LONG, worker="w")[1] == []
        d = self._escalating(store, tenant, _dt.timedelta(hours=1))
        store.update(_t.keep(d, now=T0)[0], expected_version=1)
        assert store.claim_due(tenant, late, limit=5, lease=self._LONG, worker="w")[1] == []
        assert store.get(tenant, c.id).next_action_at is None
        assert store.next_action_at(tenant) is None
        assert len(store.pending_notices(tenant, limit=10)) == 3

    # ------------------------------------------------------------ the tick: release, next_action_at

    def test_release_gives_up_only_the_tokens_claims(self, store: Store) -> None:
        """``release`` frees the token's claims at once; other tokens and tenants free nothing."""
        tenant = _tenant()
        made = [self._escalating(store, tenant, _dt.timedelta(hours=3)) for _ in range(3)]
        now = T0 + _dt.timedelta(hours=1)
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        ids = [c.id for c in claimed]
        assert sorted(ids) == sorted(c.id for c in made)
        assert store.release(tenant, ids, uuid.uuid4().hex) == 0
        assert store.release("tenant-z", ids, token) == 0
        assert store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")[1] == []
        assert store.release(tenant, ids[:2], token) == 2
        assert store.release(tenant, ids[:2], token) == 0
        _, again = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert [c.id for c in again] == ids[:2]
        assert store.release(tenant, [], token) == 0

    @staticmethod
    def _earliest(store: Store, tenant: str) -> _dt.datetime | None:
        """The reference answer: the least stored ``next_action_at`` over OPEN ones."""
        found = [
            c.next_action_at
            for c in store.find(tenant, Query(statuses={Status.OPEN}))
            if c.next_action_at is not None
        ]
        return min(found, default=None)

    def test_next_action_at_is_the_earliest_open_step(self, store: Store) -> None:
        """The minimum over OPEN commitments, claimed ones included, per tenant."""
        tenant = _tenant()
        assert store.next_action_at(tenant) is None
        plain = make_commitment(tenant, due_at=T0 + _dt.timedelta(days=9))  # no policy
        store.add(plain)
        assert store.next_action_at(tenant) == plain.next_action_at
        late = self._escalating(store, tenant, _dt.timedelta(hours=9))
        early = self._escalating(store, tenant, _dt.timedelta(hours=4, microseconds=3))
        assert store.next_action_at(tenant) == early.next_action_at
        assert store.next_action_at("tenant-z") is None
        now = T0 + _dt.timedelta(hours=3)
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert [c.id for c in claimed] == [early.id]
        assert store.next_action_at(tenant) == early.next_action_at  # claimed still counts
        new, notices = self._escalate(claimed[0], now)
        fire_one(store, new, expected_version=1, notices=notices, token=token)
        assert new.next_action_at is not None
        assert new.next_action_at > now
        assert store.next_action_at(tenant) == self._earliest(store, tenant)
        assert store.next_action_at(tenant) == min(new.next_action_at, late.next_action_at)  # type: ignore[type-var]
        store.update(_t.cancel(new, now=now)[0], expected_version=new.version)
        assert store.next_action_at(tenant) == late.next_action_at
        store.update(_t.pause(late, now=now, reason="x")[0], expected_version=1)
        assert store.next_action_at(tenant) == plain.next_action_at
        assert store.next_action_at(tenant) == self._earliest(store, tenant)

    @requires("outbox")
    def test_fire_with_a_bad_token_is_refused_and_writes_nothing(self, store: Store) -> None:
        """``fire`` with a token that is not a str is ``InvalidArgumentError``; nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        with pytest.raises(InvalidArgumentError) as info:
            fire_one(store, new, expected_version=1, notices=notices, token=None)  # type: ignore[arg-type]
        assert info.value.argument == "token"
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        fire_one(store, new, expected_version=1, notices=notices, token=token)  # the claim held

    # ------------------------------------------------------------ arguments

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            (lambda s: s.claim_due("t", T0, limit=0, lease=_dt.timedelta(1), worker="w"), "limit"),
            (lambda s: s.claim_due("t", T0, limit=-1, lease=_dt.timedelta(1), worker="w"), "limit"),
            (
                lambda s: s.claim_due("t", T0, limit=True, lease=_dt.timedelta(1), worker="w"),
                "limit",
            ),
            (
                lambda s: s.claim_due("t", T0, limit="5", lease=_dt.timedelta(1), worker="w"),
                "limit",
            ),
            (lambda s: s.claim_due("t", T0, limit=5, lease=_dt.timedelta(0), worker="w"), "lease"),
            (lambda s: s.claim_due("t", T0, limit=5, lease=_dt.timedelta(-1), worker="w"), "lease"),
            (lambda s: s.claim_due("t", T0, limit=5, lease=60, worker="w"), "lease"),
            (lambda s: s.release("t", ["x"], None), "token"),
            (lambda s: s.release("t", ["x"], 7), "token"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_tick_calls_name_a_bad_argument(
        self, store: Store, call: Callable[[Store], Any], argument: str
    ) -> None:
        """A non-positive ``limit`` or ``lease``, or a non-str token, is refused by name."""
        with pytest.raises(InvalidArgumentError) as info:
            call(store)
        assert info.value.argument == argument


@for_port("tick_queue")
class TickQueueAllTenantsContract(TickHelpers, PortContract):
    """The optional :class:`keepword.ports.TickQueueAllTenants`: the tick across tenants.

    Subclass it as :class:`TickQueueContract`, with a fresh, empty store per
    test (a claim here sees every tenant in the store).  A store without
    ``claim_due_any`` fails the first test: run this contract only for a
    store that means to offer :class:`keepword.Ticker`.
    """

    def test_store_satisfies_the_all_tenants_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.TickQueueAllTenants`` (it has every method)."""
        assert isinstance(store, TickQueueAllTenants)

    def test_claim_due_any_takes_every_tenants_due_work_in_due_order(self, store: Store) -> None:
        """Due OPEN commitments of every tenant, by ``next_action_at`` then id; nothing else."""
        hours = _dt.timedelta(hours=1)
        made = [
            self._escalating(store, tenant, offset * hours)
            for tenant, offset in (
                ("tenant-a", 9),
                ("tenant-b", 5),
                ("tenant-c", 7),
                ("tenant-a", 5),
            )
        ]
        not_yet = self._escalating(store, "tenant-d", 30 * hours)
        kept = self._escalating(store, "tenant-e", 4 * hours)
        store.update(_t.keep(kept, now=T0)[0], expected_version=1)
        now = T0 + 8 * hours
        any_store: Any = store
        token, claimed = any_store.claim_due_any(now, limit=10, lease=self._LONG, worker="w")
        want = sorted(
            (c for c in made if c.next_action_at is not None and c.next_action_at <= now),
            key=lambda c: (c.next_action_at, c.id),
        )
        assert [c.id for c in claimed] == [c.id for c in want]
        assert not_yet.id not in {c.id for c in claimed}
        for got in claimed:
            assert_same_commitment(got, store.get(got.tenant, got.id))
        # held: neither claim sees them again until released
        assert any_store.claim_due_any(now, limit=10, lease=self._LONG, worker="w2")[1] == []
        assert store.claim_due("tenant-a", now, limit=10, lease=self._LONG, worker="w3")[1] == []
        for tenant in {c.tenant for c in claimed}:
            mine = [c.id for c in claimed if c.tenant == tenant]
            assert store.release(tenant, mine, token) == len(mine)
        again = any_store.claim_due_any(now, limit=2, lease=self._LONG, worker="w4")[1]
        assert [c.id for c in again] == [c.id for c in want[:2]]

    def test_claims_in_turn_partition_the_due_work(self, store: Store) -> None:
        """Claims with a small limit take each due commitment once, in order."""
        made = [
            self._escalating(store, f"tenant-{i % 4}", _dt.timedelta(hours=3, minutes=7 * i))
            for i in range(11)
        ]
        now = T0 + _dt.timedelta(hours=2)
        any_store: Any = store
        got: list[str] = []
        while True:
            _, claimed = any_store.claim_due_any(now, limit=3, lease=self._LONG, worker="w")
            assert len(claimed) <= 3
            if not claimed:
                break
            got.extend(c.id for c in claimed)
        due = [c for c in made if c.next_action_at is not None and c.next_action_at <= now]
        assert 0 < len(due) < len(made)
        want = sorted(due, key=lambda c: (c.next_action_at, c.id))
        assert got == [c.id for c in want]

    def test_an_expired_cross_tenant_claim_is_claimed_again(self, store: Store) -> None:
        """Leases are judged as :meth:`TickQueue.claim_due` judges them."""
        c = self._escalating(store, "tenant-x", _dt.timedelta(hours=3))
        now = T0 + _dt.timedelta(hours=2)
        any_store: Any = store
        assert [
            x.id for x in any_store.claim_due_any(now, limit=5, lease=self._SHORT, worker="a")[1]
        ] == [c.id]
        assert any_store.claim_due_any(now, limit=5, lease=self._LONG, worker="b")[1] == []
        time.sleep(self._EXPIRE)
        assert [
            x.id for x in any_store.claim_due_any(now, limit=5, lease=self._LONG, worker="b")[1]
        ] == [c.id]

    @requires("outbox")
    def test_fire_many_any_writes_each_tenants_fires_under_its_tenant(self, store: Store) -> None:
        """Fires of several tenants: each stored, its notices in its own tenant's outbox."""
        made = [
            self._escalating(store, tenant, _dt.timedelta(hours=5))
            for tenant in ("tenant-a", "tenant-b", "tenant-c")
        ]
        now = T0 + _dt.timedelta(hours=3)
        any_store: Any = store
        token, claimed = any_store.claim_due_any(now, limit=10, lease=self._LONG, worker="w")
        assert {c.id for c in claimed} == {c.id for c in made}
        fires = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
        stale = claimed[0]
        store.update(_t.pause(stale, now=now, reason="moved on")[0], expected_version=stale.version)
        outcomes = any_store.fire_many_any(fires, token=token)
        assert isinstance(outcomes[0], ConflictError)
        for fire, outcome in zip(fires[1:], outcomes[1:], strict=True):
            assert_same_commitment(outcome, fire.commitment)
            tenant = fire.commitment.tenant
            assert_same_commitment(store.get(tenant, fire.commitment.id), fire.commitment)
            pending = store.pending_notices(tenant, limit=10)
            assert [notice_content(n) for n in pending] == [notice_content(n) for n in fire.notices]
        assert store.pending_notices(stale.tenant, limit=10) == []
        assert any_store.fire_many_any([], token=token) == []

    def test_next_action_at_any_is_the_earliest_over_every_tenant(self, store: Store) -> None:
        """The minimum ``next_action_at`` over every tenant's OPEN commitments."""
        any_store: Any = store
        assert any_store.next_action_at_any() is None
        late = self._escalating(store, "tenant-a", _dt.timedelta(hours=9))
        early = self._escalating(store, "tenant-b", _dt.timedelta(hours=4))
        assert any_store.next_action_at_any() == early.next_action_at
        store.update(_t.cancel(early, now=T0)[0], expected_version=1)
        assert any_store.next_action_at_any() == late.next_action_at

    def test_claim_due_any_names_a_bad_argument(self, store: Store) -> None:
        """A non-positive limit, a naive ``now``: ``InvalidArgumentError`` naming it."""
        any_store: Any = store
        with pytest.raises(InvalidArgumentError, match="limit"):
            any_store.claim_due_any(T0, limit=0, lease=self._LONG, worker="w")
        with pytest.raises(NaiveDatetimeError, match="now"):
            any_store.claim_due_any(_dt.datetime(2026, 1, 1), limit=1, lease=self._LONG, worker="w")
