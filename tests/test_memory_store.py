"""MemoryStore, the reference store, passes the store contract and the state machine."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.clock import FrozenClock, SystemClock
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import Query, Store
from keepword.stores.memory import MemoryStore
from keepword.testing import (
    LADDER,
    T0,
    StoreContract,
    fire_one,
    make_commitment,
    next_state,
)
from keepword.testing.stateful import (
    DEFAULT_SETTINGS,
    run_store_state_machine,
    store_state_machine,
)

_HOUR = _dt.timedelta(hours=1)


class TestMemoryStore(StoreContract):
    """The whole contract, on the reference store."""

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        s = MemoryStore()
        yield s
        s.close()


def test_memory_store_agrees_with_a_second_memory_store_in_lockstep() -> None:
    """The machine's own invariants (replay, versions, breaches, tenants) hold on the oracle."""
    run_store_state_machine(
        MemoryStore,
        reopen=lambda store: store,
        settings=settings(DEFAULT_SETTINGS, max_examples=200),
    )


TestMemoryStoreMachine = store_state_machine(MemoryStore, name="MemoryStoreMachine").TestCase
TestMemoryStoreMachine.settings = settings(DEFAULT_SETTINGS, max_examples=20)


def test_the_plugin_fixture_is_a_fresh_memory_store(keepword_memory_store: MemoryStore) -> None:
    assert isinstance(keepword_memory_store, MemoryStore)
    assert keepword_memory_store.count("tenant-a", Query()) == 0


def test_memory_store_is_a_store_with_transactions() -> None:
    store = MemoryStore()
    assert isinstance(store, Store)
    assert store.capabilities == frozenset({"transactions"})


def test_memory_store_stays_usable_after_close() -> None:
    store = MemoryStore()
    c = make_commitment(due_at=T0 + _dt.timedelta(hours=3), policy=LADDER)
    store.add(c)
    store.close()
    assert store.get(c.tenant, c.id) == c


def test_memory_store_repr_counts_commitments_and_tenants() -> None:
    store = MemoryStore()
    store.add(make_commitment("tenant-a"))
    store.add(make_commitment("tenant-b"))
    assert repr(store) == "<MemoryStore 2 commitment(s) in 2 tenant(s)>"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s: s.add("not a commitment"), "commitment"),
        (lambda s: s.add_many("abc"), "commitments"),
        (lambda s: s.add_many([make_commitment(), None]), "commitments[1]"),
        (lambda s: s.update(object(), expected_version=1), "commitment"),
        (lambda s: s.update(next_state(make_commitment()), expected_version=0), "expected_version"),
        (
            lambda s: s.update(next_state(make_commitment()), expected_version=True),
            "expected_version",
        ),
        (lambda s: s.get("", "x"), "tenant"),
        (lambda s: s.get("tenant-a", "a\x00b"), "id"),
        (lambda s: s.get_by_ref("tenant-a", ""), "external_ref"),
        (lambda s: s.find("tenant-a", {"owner": "bob"}), "query"),
        (lambda s: s.count(None, Query()), "tenant"),
        (lambda s: s.claim_due("", T0, limit=1, lease=_HOUR, worker="w"), "tenant"),
        (lambda s: s.claim_due("t", "2026-11-23", limit=1, lease=_HOUR, worker="w"), "now"),
        (lambda s: s.claim_due("t", T0, limit=1, lease=_HOUR, worker=""), "worker"),
        (lambda s: s.claim_notices("t", limit=1, lease=_HOUR, worker=None), "worker"),
        (lambda s: fire_one(s, "x", expected_version=1, notices=[], token="t"), "commitment"),
        (
            lambda s: fire_one(s, _v2(), expected_version=0, notices=[], token="t"),
            "expected_version",
        ),
        (lambda s: fire_one(s, _v2(), expected_version=1, notices="abc", token="t"), "notices"),
        (lambda s: fire_one(s, _v2(), expected_version=1, notices=[None], token="t"), "notices[0]"),
        (lambda s: fire_one(s, _v2(), expected_version=1, notices=[], token=""), "token"),
        (lambda s: s.release("t", "abc", "tok"), "ids"),
        (lambda s: s.release("t", ["a", 7], "tok"), "ids[1]"),
        (lambda s: s.ack_notices("t", None, "tok"), "ids"),
        (lambda s: s.next_action_at(""), "tenant"),
        (lambda s: s.pending_notices(None, limit=1), "tenant"),
    ],
)
def test_memory_store_names_the_bad_argument(call: Any, argument: str) -> None:
    store = MemoryStore()
    with pytest.raises(InvalidArgumentError) as info:
        call(store)
    assert info.value.argument == argument
    assert store.count("tenant-a", Query()) == 0


def _v2() -> Any:
    return next_state(make_commitment())


def _escalating(tenant: str, hours: float) -> Any:
    return make_commitment(tenant, due_at=T0 + _dt.timedelta(hours=hours), policy=LADDER)


class _CountingDict(dict[str, _dt.datetime]):
    gets = 0

    def get(self, key: str, default: Any = None) -> Any:
        type(self).gets += 1
        return super().get(key, default)


def test_claim_due_costs_follow_the_due_work_not_the_open_commitments() -> None:
    """The heap: a claim looks at the due entries only, however many are open."""
    store = MemoryStore()
    store.add_many([_escalating("t", 100 + i) for i in range(3000)])
    due = [_escalating("t", 3) for _ in range(5)]
    for c in due:
        store.add(c)
    store._queued = _CountingDict(store._queued)
    _CountingDict.gets = 0
    _, claimed = store.claim_due(
        "t", T0 + _dt.timedelta(hours=2), limit=100, lease=_HOUR, worker="w"
    )
    assert sorted(c.id for c in claimed) == sorted(c.id for c in due)
    assert _CountingDict.gets <= 10


def test_the_heap_drops_stale_entries_and_stays_small() -> None:
    """Entries of commitments that moved on are dropped; the heap is rebuilt when mostly stale."""
    store = MemoryStore()
    c = _escalating("t", 3)
    store.add(c)
    for i in range(200):  # renegotiate back and forth: one new heap entry each time
        new, _ = _t.renegotiate(c, now=T0, due=T0 + _dt.timedelta(hours=5 + i % 7, minutes=i))
        c = store.update(new, expected_version=c.version)
    assert len(store._queue["t"]) <= 64 + 8
    assert store.next_action_at("t") == c.next_action_at
    kept, _ = _t.keep(c, now=T0)
    store.update(kept, expected_version=c.version)
    assert store.next_action_at("t") is None
    assert (
        store.claim_due("t", T0 + _dt.timedelta(days=30), limit=9, lease=_HOUR, worker="w")[1] == []
    )


def test_a_notice_id_reused_with_another_key_is_a_conflict() -> None:
    """Notice ids are unique store-wide: reusing one for a new key writes nothing."""
    store = MemoryStore()
    a, b = _escalating("t", 1), _escalating("t", 1)
    store.add_many([a, b])
    now = T0 + _dt.timedelta(hours=2)
    token, claimed = store.claim_due("t", now, limit=9, lease=_HOUR, worker="w")
    first, _, notices = _t.escalate(claimed[0], now=now, new_id=lambda: new_id(now))
    fire_one(store, first, expected_version=1, notices=notices, token=token)
    second, _, more = _t.escalate(claimed[1], now=now, new_id=lambda: notices[0].id)
    with pytest.raises(ConflictError):
        fire_one(store, second, expected_version=1, notices=more[:1], token=token)
    assert store.get("t", claimed[1].id) == claimed[1]
    assert [n.id for n in store.pending_notices("t", limit=9)] == [n.id for n in notices]


def test_an_expired_claim_still_held_by_its_token_may_fire() -> None:
    """MemoryStore judges a fire by the token alone: expired but not taken, it still holds."""
    store = MemoryStore()
    c = _escalating("t", 1)
    store.add(c)
    now = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due(
        "t", now, limit=9, lease=_dt.timedelta(milliseconds=1), worker="w"
    )
    time.sleep(0.01)
    new, _, notices = _t.escalate(claimed, now=now, new_id=lambda: new_id(now))
    assert fire_one(store, new, expected_version=1, notices=notices, token=token) == new


# ------------------------------------------------------------------ the lease clock


def _frozen_store() -> tuple[MemoryStore, FrozenClock]:
    # the lease clock reads a day before T0: leases never decide what is due
    clock = FrozenClock(T0 - _dt.timedelta(days=1))
    return MemoryStore(clock=clock), clock


def test_a_commitment_claim_expires_when_the_lease_clock_passes_it() -> None:
    """Leases are judged by the injected clock alone: no sleeping, no wall time."""
    store, clock = _frozen_store()
    c = _escalating("t", 3)
    store.add(c)
    now = T0 + _dt.timedelta(hours=2)  # due by the tick's now, whatever the lease clock says
    _, first = store.claim_due("t", now, limit=9, lease=_dt.timedelta(minutes=5), worker="w1")
    assert [x.id for x in first] == [c.id]
    clock.advance(minutes=4, seconds=59)
    assert store.claim_due("t", now, limit=9, lease=_HOUR, worker="w2")[1] == []
    clock.advance(seconds=1)
    token, again = store.claim_due("t", now, limit=9, lease=_HOUR, worker="w2")
    assert [x.id for x in again] == [c.id]
    new, _, notices = _t.escalate(again[0], now=now, new_id=lambda: new_id(now))
    assert fire_one(store, new, expected_version=1, notices=notices, token=token) == new


def test_a_notice_claim_expires_when_the_lease_clock_passes_it() -> None:
    """``claimed_until`` is the lease clock plus the lease; past it the notices come back."""
    store, clock = _frozen_store()
    store.add(_escalating("t", 1))
    now = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("t", now, limit=9, lease=_HOUR, worker="w")
    new, _, notices = _t.escalate(claimed, now=now, new_id=lambda: new_id(now))
    fire_one(store, new, expected_version=1, notices=notices, token=token)
    lease = _dt.timedelta(minutes=5)
    crashed, held = store.claim_notices("t", limit=9, lease=lease, worker="w1")
    assert [n.id for n in held] == [n.id for n in notices]
    assert {n.claimed_until for n in held} == {clock.now() + lease}
    clock.advance(minutes=4)
    assert store.pending_notices("t", limit=9) == []
    assert store.claim_notices("t", limit=9, lease=lease, worker="w2")[1] == []
    clock.advance(minutes=1)
    assert [n.id for n in store.pending_notices("t", limit=9)] == [n.id for n in notices]
    token2, again = store.claim_notices("t", limit=9, lease=lease, worker="w2")
    assert [n.id for n in again] == [n.id for n in notices]
    assert store.ack_notices("t", [n.id for n in again], crashed) == 0
    assert store.ack_notices("t", [n.id for n in again], token2) == len(notices)


def test_memory_store_refuses_a_clock_without_now() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        MemoryStore(clock="2026-11-23")  # type: ignore[arg-type]
    assert info.value.argument == "clock"


def test_memory_store_reads_the_system_clock_by_default() -> None:
    store = MemoryStore()
    assert isinstance(store.lease_clock, SystemClock)


def test_a_lease_taken_at_the_end_of_the_calendar_holds_to_the_end_of_time() -> None:
    """A lease clock near year 9999 plus a lease is no OverflowError: the claim holds."""

    class EndOfTime:  # FrozenClock stays within 1900-2199; a host's clock need not
        def now(self) -> _dt.datetime:
            return _dt.datetime(9999, 12, 31, 12, tzinfo=_dt.UTC)

    store = MemoryStore(clock=EndOfTime())
    c = make_commitment(due_at=T0 + _dt.timedelta(hours=3), policy=LADDER)
    store.add(c)
    assert c.next_action_at is not None
    _, claimed = store.claim_due(
        c.tenant, c.next_action_at, limit=1, lease=_dt.timedelta(days=366), worker="w"
    )
    assert [x.id for x in claimed] == [c.id]
    _, again = store.claim_due(
        c.tenant, c.next_action_at, limit=1, lease=_dt.timedelta(days=1), worker="w"
    )
    assert again == []


@pytest.mark.parametrize("lease", [_dt.timedelta.max, _dt.timedelta(days=367)])
def test_memory_store_refuses_a_lease_beyond_a_year_naming_it(lease: _dt.timedelta) -> None:
    store = MemoryStore()
    for claim in (
        lambda: store.claim_due("t", T0, limit=1, lease=lease, worker="w"),
        lambda: store.claim_notices("t", limit=1, lease=lease, worker="w"),
    ):
        with pytest.raises(InvalidArgumentError, match="at most 366 days") as caught:
            claim()
        assert caught.value.argument == "lease"
