"""Customer care under real processes: one extra-mile pick and one reply per message.

Processes are started by ``spawn``, each with its own ``SqlStore`` on one
database (``backend_url``, tests/conftest.py): every caller must get the same
pick, and exactly one commitment and one touchpoint are stored.
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
from typing import Any

import pytest

from keepword import BusinessCalendar, FrozenClock, Tracker
from keepword.ports import Query
from keepword.stores.sql import SqlStore
from tests.support.backends import unique_prefix

CALENDAR = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
AT = _dt.datetime(2026, 12, 7, 10, tzinfo=_dt.UTC)


def extra_mile_worker(url: str, prefix: str, rounds: int) -> dict[str, Any]:
    """Ask for this month's extra-mile pick ``rounds`` times; report what came back."""
    store = SqlStore(url, table_prefix=prefix)
    tracker = Tracker(store, calendar=CALENDAR, tenant="shop", clock=FrozenClock(AT))
    picks: list[tuple[str, str]] = []
    errors: list[str] = []
    try:
        for _ in range(rounds):
            try:
                pick = tracker.extra_mile()
                assert pick is not None
                picks.append((pick.customer, pick.commitment.id))
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"picks": picks, "errors": errors}


def received_worker(url: str, prefix: str, refs: int) -> dict[str, Any]:
    """Receive messages ``mail-0`` .. ``mail-{refs-1}`` (as a retried webhook would)."""
    store = SqlStore(url, table_prefix=prefix)
    tracker = Tracker(store, calendar=CALENDAR, tenant="shop", clock=FrozenClock(AT))
    ids: dict[str, str] = {}
    errors: list[str] = []
    try:
        for i in range(refs):
            try:
                reply = tracker.received("acct-1", channel="email", ref=f"mail-{i}")
                assert reply is not None
                ids[f"mail-{i}"] = reply.id
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"ids": ids, "errors": errors}


def _pool(processes: int) -> Any:
    return multiprocessing.get_context("spawn").Pool(processes)


@pytest.mark.slow
def test_extra_mile_from_processes_is_one_pick(backend_url: str) -> None:
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        setup = Tracker(store, calendar=CALENDAR, tenant="shop", clock=FrozenClock(AT))
        for i in range(20):
            setup.touched(f"acct-{i:02d}", channel="email")
        with _pool(4) as pool:
            results = pool.starmap(extra_mile_worker, [(backend_url, prefix, 5)] * 4)
        assert [r["errors"] for r in results] == [[]] * 4
        assert len({pick for r in results for pick in r["picks"]}) == 1
        assert store.count("shop", Query(kind="extra_mile")) == 1
        assert len(store.touchpoints("shop", kind="extra_mile")) == 1
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_received_from_processes_owes_one_reply_per_message(backend_url: str) -> None:
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        with _pool(4) as pool:
            results = pool.starmap(received_worker, [(backend_url, prefix, 10)] * 4)
        assert [r["errors"] for r in results] == [[]] * 4
        for ref in (f"mail-{i}" for i in range(10)):
            assert len({r["ids"][ref] for r in results}) == 1
        assert store.count("shop", Query(kind="reply")) == 10
        assert len(store.touchpoints("shop", kind="received")) == 10
    finally:
        store.drop_schema()
        store.close()
