"""A store with only some ports serves what those ports allow, and names what it lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

import keepword as kw
from keepword.commitment import Commitment
from keepword.ports import PORTS, Query

NOW = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)  # Mon 10:00 in New York
CAL = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


class RepositoryOnly:
    """The commitment repository and nothing else, over a MemoryStore it keeps private."""

    ports = frozenset({"commitments"})
    capabilities: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._inner = kw.MemoryStore()

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        return self._inner.add(commitment)

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        return self._inner.add_many(commitments)

    def get(self, tenant: str, id: str) -> Commitment:
        return self._inner.get(tenant, id)

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        return self._inner.get_by_ref(tenant, external_ref)

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        return self._inner.update(commitment, expected_version=expected_version)

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        return self._inner.find(tenant, query)

    def count(self, tenant: str, query: Query) -> int:
        return self._inner.count(tenant, query)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def tracker() -> kw.Tracker:
    return kw.Tracker(RepositoryOnly(), calendar=CAL, tenant="shop-7", clock=kw.FrozenClock(NOW))


def test_a_repository_alone_serves_promise_keep_and_find(tracker: kw.Tracker) -> None:
    assert isinstance(tracker.store, kw.CommitmentRepository)
    assert not isinstance(tracker.store, kw.TickQueue)
    c = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        due=kw.within(business_days=3),
        external_ref="mail-1",
    )
    again = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        due=kw.within(business_days=3),
        external_ref="mail-1",
    )
    assert again == c
    assert [x.id for x in tracker.find(customer="acct-42")] == [c.id]
    kept = tracker.keep(c.id)
    assert kept.status is kw.Status.KEPT
    assert kept.on_time
    assert tracker.count(statuses="kept") == 1
    assert "due Fri 27 Nov 17:00 EST" in tracker.explain(c.id)


@pytest.mark.parametrize(
    ("call", "port"),
    [
        (lambda t: t.tick(), "tick_queue"),
        (lambda t: t.next_wakeup(), "tick_queue"),
        (lambda t: t.pending_notices(), "outbox"),
        (lambda t: t.claim_notices(), "outbox"),
        (lambda t: t.ack_notices(["n"], "token"), "outbox"),
        (lambda t: t.release_notices(["n"], "token"), "outbox"),
        (lambda t: t.dispatch(print), "outbox"),
    ],
)
def test_a_call_needing_a_missing_port_names_it(tracker, call, port) -> None:
    with pytest.raises(kw.MissingPortError) as caught:
        call(tracker)
    err = caught.value
    assert isinstance(err, kw.KeepwordError)
    assert err.port == port
    assert repr(port) in str(err)
    assert "store" in str(err)


def test_a_store_without_the_repository_is_refused_naming_the_argument() -> None:
    with pytest.raises(kw.InvalidArgumentError, match="store"):
        kw.Tracker(object(), calendar=CAL)  # type: ignore[arg-type]


def test_a_store_that_does_not_declare_the_repository_is_refused() -> None:
    class Undeclared(RepositoryOnly):
        ports = frozenset({"tick_queue"})

    with pytest.raises(kw.InvalidArgumentError, match="'commitments' port"):
        kw.Tracker(Undeclared(), calendar=CAL)


def test_the_shipped_stores_declare_every_port() -> None:
    assert kw.MemoryStore().ports == PORTS
    store = kw.SqlStore("sqlite://")
    try:
        assert store.ports == PORTS
    finally:
        store.close()
