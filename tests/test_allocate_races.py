"""Four processes allocate one resource at once: each commitment is served at most once, in turn.

On SQLite, PostgreSQL and MariaDB (``backend_url``).  The union of what the
workers served must be exactly the head of the line: ``SKIP LOCKED`` alone
would let a fast worker serve a later commitment while a slow one holds an
earlier one; the per-resource lock row must not.
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
import random
from collections import Counter
from typing import Any

import pytest

from keepword import BusinessCalendar, FrozenClock, Tracker, within
from keepword.fairness import queue_key
from keepword.stores.sql import SqlStore
from tests.support.allocate_workers import T0, allocate_worker
from tests.support.backends import unique_prefix

TENANT = "shop-7"
SKU = "sku:FIG-1"


def _seed(store: SqlStore, sizes: list[int]) -> list[Any]:
    clock = FrozenClock(T0)
    t = Tracker(store, calendar=BusinessCalendar(tz="UTC"), clock=clock, tenant=TENANT)
    made = []
    for i, n in enumerate(sizes):
        made.append(
            t.promise(
                customer=f"c{i % 7}",
                owner="shop",
                kind="order",
                what="figurine",
                due=within(days=60),
                waiting_for=SKU,
                quantity=n,
            )
        )
        if i % 3:  # some share an instant: ties go by id
            clock.advance(seconds=1)
    # a decoy on another resource, never to be served
    t.promise(
        customer="x",
        owner="shop",
        kind="order",
        what="other",
        due=within(days=60),
        waiting_for="sku:OTHER",
    )
    return made


@pytest.mark.slow
@pytest.mark.parametrize("partial", [False, True], ids=["whole", "partial"])
def test_four_processes_serve_the_head_of_the_line_exactly_once(
    backend_url: str, partial: bool
) -> None:
    rng = random.Random(15)
    sizes = [rng.choice((1, 1, 2, 3)) for _ in range(60)]
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        line = sorted(_seed(store, sizes), key=queue_key)
        calls = [[rng.choice((1, 2, 3)) for _ in range(12)] for _ in range(4)]
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            results = pool.starmap(
                allocate_worker,
                [(backend_url, prefix, TENANT, SKU, c, partial) for c in calls],
            )
        assert [r["errors"] for r in results] == [[]] * 4
        units: Counter[str] = Counter()
        times: Counter[str] = Counter()
        for r in results:
            for cid, n in r["served"]:
                units[cid] += n
                times[cid] += 1
        want = {c.id: int(c.terms["quantity"]) for c in line}
        assert all(units[cid] <= want[cid] for cid in units)  # never more than ordered
        if not partial:
            assert set(times.values()) <= {1}  # each order served once, whole
        # exactly the head of the line: served ones form a prefix, only its last may be partial
        served_ids = [c.id for c in line if units[c.id] > 0]
        assert served_ids == [c.id for c in line[: len(served_ids)]]
        full = [c.id for c in line if units[c.id] == want[c.id]]
        assert full == served_ids[: len(full)]
        assert len(served_ids) - len(full) <= (1 if partial else 0)
        assert served_ids, "nothing was served"
        # the store agrees: the history of each holds exactly what the workers saw
        for c in line:
            stored = store.get(TENANT, c.id)
            got = [e.data["quantity"] for e in stored.history if e.kind == "served"]
            assert sum(got) == units[c.id]
            assert len(got) == times[c.id]
        waiting = store.waiting(TENANT, SKU)
        assert [c.id for c in waiting] == [c.id for c in line if units[c.id] < want[c.id]]
        assert [c.waiting_for for c in store.waiting(TENANT, "sku:OTHER")] == ["sku:OTHER"]
        # and the audit finds nothing out of turn
        assert store.served_out_of_turn(TENANT) == []
        assert store.served_out_of_turn(TENANT, since=T0 - _dt.timedelta(days=1)) == []
    finally:
        store.drop_schema()
        store.close()
