"""SqlStore under real processes: claims, ticks, webhook retries and writers racing.

Small sizes of RELIABILITY.md's scenarios 1, 2, 6 and 7, on each SQL backend
(``backend_url``, tests/conftest.py), with worker processes started by
``spawn`` (their entry points are in :mod:`tests.support.race_workers`).
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from keepword.ports import Query
from keepword.stores.sql import SqlStore
from tests.support.backends import unique_prefix
from tests.support.builders import T0, commitment, escalating, us
from tests.support.race_workers import claim_worker, racing_writer, tick_worker, webhook_worker
from tests.support.sql_tables import count_notices


def _spawn_pool(processes: int) -> Any:
    return multiprocessing.get_context("spawn").Pool(processes)


@pytest.mark.slow
def test_webhook_retries_from_processes_store_each_ref_once(backend_url: str) -> None:
    """Scenario 6, small: 4 processes x 50 calls on 10 refs -> 10 commitments, 0 raw errors."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        with _spawn_pool(4) as pool:
            results = pool.starmap(
                webhook_worker, [(backend_url, prefix, w, 50, 10) for w in range(4)]
            )
        assert [r["raw_errors"] for r in results] == [[]] * 4
        assert [r["keepword_errors"] for r in results] == [[]] * 4
        assert sum(r["created"] for r in results) == 10
        assert store.count("shop-7", Query()) == 10
        refs = {c.external_ref for c in store.find("shop-7", Query())}
        assert refs == {f"order-{i}" for i in range(10)}
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_racing_writers_lose_with_conflict_and_never_lose_a_write(backend_url: str) -> None:
    """Scenario 7, small: 4 processes read-modify-write 3 commitments; no lost write."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        seeds = [commitment("shop-7") for _ in range(3)]
        store.add_many(seeds)
        ids = [c.id for c in seeds]
        with _spawn_pool(4) as pool:
            results = pool.starmap(
                racing_writer, [(backend_url, prefix, w, ids, 25) for w in range(4)]
            )
        assert [r["other_errors"] for r in results] == [[]] * 4
        for cid in ids:
            wins = sum(r["wins"][cid] for r in results)
            final = store.get("shop-7", cid)
            assert final.version == wins + 1, cid
            assert len(final.history) == wins + 1, cid
        attempts = 4 * 25 * len(ids)
        total_wins = sum(sum(r["wins"].values()) for r in results)
        assert total_wins + sum(r["conflicts"] for r in results) == attempts
    finally:
        store.drop_schema()
        store.close()


def test_sqlite_concurrent_writers_see_no_lock_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    prefix = unique_prefix()
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    with _spawn_pool(4) as pool:
        results = pool.starmap(webhook_worker, [(url, prefix, w, 50, 200) for w in range(4)])
    assert [r["raw_errors"] + r["keepword_errors"] for r in results] == [[]] * 4
    assert store.count("shop-7", Query()) == sum(r["created"] for r in results)
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("processes", [4])
def test_claims_from_processes_never_share_a_commitment(backend_url: str, processes: int) -> None:
    """Scenarios 1-2, small: 4 processes claim 300 due commitments 7 at a time; each once."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        made = [
            escalating("shop-7", due_at=T0 + _dt.timedelta(hours=3, seconds=i), made_at=T0 + us(i))
            for i in range(300)
        ]
        store.add_many(made)
        now = T0 + _dt.timedelta(days=1)
        with _spawn_pool(processes) as pool:
            results = pool.starmap(
                claim_worker, [(backend_url, prefix, "shop-7", now, 7)] * processes
            )
        assert [r["errors"] for r in results] == [[]] * processes
        ids = [i for r in results for i in r["claimed"]]
        assert len(ids) == len(set(ids)), "a commitment was claimed twice while its lease lived"
        assert set(ids) == {c.id for c in made}
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_ticks_from_processes_fire_every_step_once(backend_url: str) -> None:
    """Scenario 1, small: 4 processes tick 100 commitments x 3 steps: 300 notices, 0 duplicates."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        made = [
            escalating("shop-7", due_at=T0 + _dt.timedelta(hours=3, seconds=i), made_at=T0 + us(i))
            for i in range(100)
        ]
        store.add_many(made)
        now = T0 + _dt.timedelta(days=1)
        with _spawn_pool(4) as pool:
            results = pool.starmap(tick_worker, [(backend_url, prefix, "shop-7", now, 5)] * 4)
        assert [r["errors"] for r in results] == [[]] * 4
        fired = [k for r in results for k in r["fired"]]
        assert len(fired) == len(set(fired)) == 300
        assert count_notices(store) == 300
        assert store.next_action_at("shop-7") is None
        notices = store.pending_notices("shop-7", limit=1000)
        assert len(notices) == 300
        for c in made:  # per commitment, in step order
            steps = [n.step_index for n in notices if n.commitment_id == c.id]
            assert steps == [0, 1, 2], c.id
    finally:
        store.drop_schema()
        store.close()
