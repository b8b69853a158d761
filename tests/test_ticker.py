"""Ticker: every tenant's due work with a few workers, in due order, exactly once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepword import (
    BusinessCalendar,
    EscalationPolicy,
    FrozenClock,
    InvalidArgumentError,
    MemoryStore,
    Step,
    Ticker,
    Tracker,
    after_due,
    at_due,
    before_due,
    within,
)
from keepword.ports import Store
from keepword.testing.contract.tick_queue import TickQueueAllTenantsContract

T0 = dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC)
UTC = BusinessCalendar.always_open("UTC")
LADDER = EscalationPolicy(
    "ladder",
    steps=[
        Step(before_due(hours=1), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=2), notify="director"),
    ],
)


class TestAllTenantsContract(TickQueueAllTenantsContract):
    """The cross-tenant tick queue contract on every store (tests/conftest.py)."""

    @pytest.fixture
    def store(self, store: Store) -> Store:
        """The shared ``store`` fixture: a fresh store per test."""
        return store


def _promise(store: Store, clock: FrozenClock, tenant: str, minutes: int) -> str:
    tracker = Tracker(store, calendar=UTC, tenant=tenant, clock=clock, policies=LADDER)
    c = tracker.promise(
        customer="acct", owner="al", kind="reply", what="Reply", due=within(minutes=minutes)
    )
    return c.id


def test_a_ticker_fires_every_tenants_steps_under_its_own_tenant(store: Store) -> None:
    clock = FrozenClock(T0)
    made = {t: _promise(store, clock, t, 30 + 10 * i) for i, t in enumerate(("a", "b", "c"))}
    report = Ticker(store, clock=clock).tick(T0 + dt.timedelta(hours=4))
    assert report.commitments == 3
    assert report.breaches == 3
    by_tenant = {t: sorted(n.step for n in report.notices if n.tenant == t) for t in made}
    assert all(len(steps) == 3 for steps in by_tenant.values()), by_tenant
    for tenant, cid in made.items():
        assert {n.commitment_id for n in report.notices if n.tenant == tenant} == {cid}
        assert len(store.pending_notices(tenant, limit=10)) == 3
    assert Ticker(store, clock=clock).tick(T0 + dt.timedelta(hours=4)).fired == 0


def test_a_ticker_stops_at_its_limit_and_says_more_is_due() -> None:
    store, clock = MemoryStore(), FrozenClock(T0)
    for i in range(7):
        _promise(store, clock, f"t{i}", 30)
    ticker = Ticker(store, clock=clock)
    first = ticker.tick(T0 + dt.timedelta(hours=1), limit=5)
    assert (first.commitments, first.more) == (5, True)
    second = ticker.tick(T0 + dt.timedelta(hours=1), limit=5)
    assert (second.commitments, second.more) == (2, False)
    assert ticker.next_wakeup() == T0 + dt.timedelta(minutes=30 + 120)


def test_a_ticker_needs_a_store_that_claims_across_tenants() -> None:
    class Narrow(MemoryStore):
        claim_due_any = None  # type: ignore[assignment]

    with pytest.raises(InvalidArgumentError, match="across tenants") as caught:
        Ticker(Narrow())
    assert caught.value.argument == "store"


@settings(max_examples=40, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(min_value=5, max_value=300)),
        min_size=1,
        max_size=12,
    ),
    ticks=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=8),
    limit=st.integers(min_value=1, max_value=6),
)
def test_ticking_all_tenants_fires_what_ticking_each_fires_exactly_once(
    plan: list[tuple[str, int]], ticks: list[int], limit: int
) -> None:
    """The same promises, ticked per tenant or across tenants: the same notices, once each."""
    stores = MemoryStore(), MemoryStore()
    clocks = FrozenClock(T0), FrozenClock(T0)
    for tenant, minutes in plan:
        for store, clock in zip(stores, clocks, strict=True):
            _promise(store, clock, tenant, minutes)
    ticker = Ticker(stores[1], clock=clocks[1])
    trackers = {t: Tracker(stores[0], calendar=UTC, tenant=t, clock=clocks[0]) for t, _ in plan}
    now = T0
    each: list[tuple[str, int, int]] = []
    every: list[tuple[str, int, int]] = []
    for step in ticks:
        now += dt.timedelta(minutes=step)
        for tracker in trackers.values():
            while True:
                report = tracker.tick(now, limit=limit)
                each.extend((n.tenant, n.step_index, n.repeat) for n in report.notices)
                if not report.more:
                    break
        while True:
            report = ticker.tick(now, limit=limit)
            every.extend((n.tenant, n.step_index, n.repeat) for n in report.notices)
            if not report.more:
                break
    assert sorted(every) == sorted(each)
    keys = [n.idempotency_key for t in trackers for n in stores[1].pending_notices(t, limit=10_000)]
    assert len(keys) == len(set(keys)) == len(every)


def test_threads_ticking_all_tenants_fire_each_step_once(store: Store) -> None:
    clock = FrozenClock(T0)
    for i in range(40):
        _promise(store, clock, f"tenant-{i % 9}", 20 + i)
    at = T0 + dt.timedelta(hours=6)
    fired: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        ticker = Ticker(store, clock=clock)
        while True:
            report = ticker.tick(at, limit=7)
            with lock:
                fired.extend(n.idempotency_key for n in report.notices)
            if report.commitments == 0:
                return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fired) == len(set(fired)) == 40 * 3
