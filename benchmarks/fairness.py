"""Benchmark fairness: allocation from 4 processes, and the audit over 1,000,000 commitments.

1. Allocation throughput on PostgreSQL: ``--n`` commitments (default 20,000)
   wait for one resource, one unit each; 4 processes call
   ``Tracker.allocate(resource, --batch)`` until the line is empty.  Against
   it, the ceiling: a bare ``FOR UPDATE SKIP LOCKED`` claim loop over the same
   table and rows (select a batch of the line, mark it served, commit; no
   history, no events, no order kept).  Target: keepword's rows/s at least
   0.5x the ceiling's.  The first-come-first-served invariant is checked on
   every keepword run: every commitment served exactly once, and
   ``served_out_of_turn`` finds nothing.
2. ``fairness_audit`` over ``--audit`` commitments (default 1,000,000) on
   PostgreSQL, spread over 100 resources, 90% served in turn, 10 served out
   of turn on purpose, 1,000 with three renegotiations each.  The rows are
   bulk-loaded with Core ``executemany``; the audit must find exactly the
   staged ones.  The plans of its two heavy queries are printed
   (``EXPLAIN ANALYZE``): one window query over the lines and one
   ``GROUP BY`` over the events' ``(tenant, kind, at)`` index, never a loop
   over the rows in Python.

Usage, from the repository root::

    python -m benchmarks.fairness                 # full size (minutes)
    python -m benchmarks.fairness --quick         # seconds; timings not meaningful

The script reports; it exits 0 unless something crashed or an invariant broke.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.fairness")

import argparse
import datetime as dt
import multiprocessing as mp
import os
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import sqlalchemy as sa

from keepword import BusinessCalendar, FrozenClock, Tracker
from keepword import transitions as _t
from keepword._ids import new_id
from keepword.stores.sql import SqlStore, _dialect
from keepword.stores.sql._rows import commitment_to_row, events_to_rows

PG = os.environ.get(
    "KEEPWORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TENANT = "bench"
RESOURCE = "sku:BENCH-1"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
CAL = BusinessCalendar.always_open("UTC")


def _prefix() -> str:
    return f"kwfair{uuid.uuid4().hex[:8]}_"


def _wait_until(go: float) -> None:
    delay = go - time.time()
    if delay > 0:
        time.sleep(delay)


# ------------------------------------------------------------------ part 1: allocation


def _bulk(store: SqlStore, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``{prefix}table``: ``COPY`` on PostgreSQL, else ``executemany``."""
    t = store.metadata.tables[f"{store.table_prefix}{table}"]
    with store.engine.begin() as conn:
        if _dialect.can_copy(conn):
            _dialect.copy_rows(conn, t, rows)
        else:
            conn.execute(sa.insert(t), rows)


def _analyze(store: SqlStore) -> None:
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            for table in ("commitments", "events"):
                conn.execute(sa.text(f"ANALYZE {store.table_prefix}{table}"))


def seed_line(url: str, prefix: str, n: int) -> None:
    """``n`` commitments waiting for RESOURCE, a millisecond apart, bulk-loaded with events."""
    store = SqlStore(url, table_prefix=prefix)
    try:
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for i in range(n):
            at = T0 + dt.timedelta(milliseconds=i)
            c, _ = _t.promise(
                id=new_id(at),
                tenant=TENANT,
                customer=f"c{i % 500}",
                owner="shop",
                kind="order",
                what="one figurine",
                now=at,
                calendar=CAL,
                due=at + dt.timedelta(days=30),
                waiting_for=RESOURCE,
            )
            rows.append({**commitment_to_row(c), "claim_token": None, "claimed_until": None})
            events.extend(events_to_rows(c, c.history))
        _bulk(store, "commitments", rows)
        _bulk(store, "events", events)
        _analyze(store)
    finally:
        store.close()


def keepword_worker(url: str, prefix: str, batch: int, go: float) -> dict[str, Any]:
    """Allocate ``batch`` units at a time until the line is empty."""
    store = SqlStore(url, table_prefix=prefix)
    clock = FrozenClock(T0 + dt.timedelta(days=1))
    tracker = Tracker(store, calendar=CAL, clock=clock, tenant=TENANT)
    store.waiting(TENANT, RESOURCE, limit=1)  # connect and check the schema before the start
    served: list[str] = []
    _wait_until(go)
    start = time.perf_counter()
    try:
        while True:
            got = tracker.allocate(RESOURCE, batch)
            if not got:
                break
            served.extend(c.id for c in got)
            clock.advance(seconds=1)
    finally:
        elapsed = time.perf_counter() - start
        store.close()
    return {"served": served, "elapsed": elapsed}


def ceiling_worker(url: str, prefix: str, batch: int, go: float) -> dict[str, Any]:
    """The bare claim loop: ``SELECT ... FOR UPDATE SKIP LOCKED`` a batch, mark it, commit."""
    engine = sa.create_engine(url)
    pick = sa.text(
        f"SELECT id FROM {prefix}commitments WHERE tenant = :t AND waiting_for = :r "
        "AND queue_at IS NOT NULL ORDER BY queue_at, id LIMIT :n FOR UPDATE SKIP LOCKED"
    )
    mark = sa.text(
        f"UPDATE {prefix}commitments SET queue_at = NULL, served_quantity = quantity, "
        "version = version + 1 WHERE tenant = :t AND id = ANY(:ids)"
    )
    served: list[str] = []
    with engine.connect():
        pass
    _wait_until(go)
    start = time.perf_counter()
    try:
        while True:
            with engine.begin() as conn:
                ids = list(conn.execute(pick, {"t": TENANT, "r": RESOURCE, "n": batch}).scalars())
                if not ids:
                    break
                conn.execute(mark, {"t": TENANT, "ids": ids})
            served.extend(ids)
    finally:
        elapsed = time.perf_counter() - start
        engine.dispose()
    return {"served": served, "elapsed": elapsed}


def run_allocation(url: str, n: int, batch: int, workers: int, kind: str) -> dict[str, Any]:
    """One run on fresh tables: ``kind`` is ``"keepword"`` or ``"ceiling"``."""
    prefix = _prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    try:
        seed_line(url, prefix, n)
        target = keepword_worker if kind == "keepword" else ceiling_worker
        go = time.time() + 3.0
        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.starmap(target, [(url, prefix, batch, go)] * workers)
        ids = [i for r in results for i in r["served"]]
        elapsed = max(r["elapsed"] for r in results)
        out: dict[str, Any] = {"rows": len(ids), "seconds": elapsed, "rate": len(ids) / elapsed}
        if kind == "keepword":
            counts = Counter(ids)
            twice = sum(1 for v in counts.values() if v > 1)
            jumped = admin.served_out_of_turn(TENANT)
            left = admin.waiting(TENANT, RESOURCE, limit=1)
            out["fcfs"] = not twice and not jumped and not left and len(counts) == n
            out["detail"] = f"twice={twice} out_of_turn={len(jumped)} left={len(left)}"
        return out
    finally:
        admin.drop_schema()
        admin.close()


# ------------------------------------------------------------------ part 2: the audit


def seed_audit(store: SqlStore, n: int, staged: int, renegotiated: int) -> list[str]:
    """Bulk-load ``n`` commitment rows over 100 resources; return the staged violations' ids."""
    template, _ = _t.promise(
        id="template",
        tenant=TENANT,
        customer="c",
        owner="shop",
        kind="order",
        what="one figurine",
        now=T0,
        calendar=CAL,
        due=T0 + dt.timedelta(days=30),
        waiting_for=RESOURCE,
    )
    base = {**commitment_to_row(template), "claim_token": None, "claimed_until": None}
    per = n // 100
    served_upto = int(per * 0.9)
    staged_ids: list[str] = []
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for i in range(n):
        resource, pos = f"sku:B-{i % 100:03d}", i // 100
        made = T0 + dt.timedelta(seconds=pos)
        row = dict(base)
        row.update(
            id=f"a{i:08d}",
            customer=f"c{i % 5000}",
            waiting_for=resource,
            made_at=made,
            due_at=made + dt.timedelta(days=30),
            quantity=1,
        )
        stage = i % 100 < staged and pos == per - 1  # the last in line, served early
        if pos < served_upto or stage:
            done = made + dt.timedelta(hours=1)
            row.update(served_quantity=1, queue_at=None, turn_at=done, served_at=done)
            if stage:
                staged_ids.append(row["id"])
        else:
            row.update(served_quantity=0, queue_at=made, turn_at=None, served_at=None)
        rows.append(row)
        if i < renegotiated:
            for k in range(3):
                events.append(
                    {
                        "tenant": TENANT,
                        "commitment_id": row["id"],
                        "seq": 2 + k,
                        "kind": "renegotiated",
                        "at": made + dt.timedelta(hours=k + 1),
                        "actor": "clerk",
                        "data": {},
                        # no span: a bare renegotiation the audit counts, not a real history
                        "span_kind": None,
                        "span_holder": None,
                        "span_us": None,
                    }
                )
        if len(rows) == 50_000:
            _bulk(store, "commitments", rows)
            rows = []
    if rows:
        _bulk(store, "commitments", rows)
    _bulk(store, "events", events)
    _analyze(store)
    return sorted(staged_ids)


def explain(store: SqlStore, stmt: sa.Select[Any]) -> str:
    """``EXPLAIN ANALYZE`` of ``stmt`` on PostgreSQL."""
    compiled = stmt.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars()
        return "\n".join(rows)


def run_audit(url: str, n: int, show_plans: bool) -> dict[str, Any]:
    prefix = _prefix()
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    try:
        t = time.perf_counter()
        staged = seed_audit(store, n, staged=10, renegotiated=1000)
        load = time.perf_counter() - t
        tracker = Tracker(
            store, calendar=CAL, clock=FrozenClock(T0 + dt.timedelta(days=60)), tenant=TENANT
        )
        times = []
        report = None
        for _ in range(3):
            t = time.perf_counter()
            report = tracker.fairness_audit()
            times.append(time.perf_counter() - t)
        assert report is not None
        jumped = sorted(
            f.commitments[0] for f in report.violations if f.rule == "served_out_of_turn"
        )
        often = [f for f in report.violations if f.rule == "renegotiated_often"]
        ok = jumped == staged and len(often) == min(1000, n)
        if show_plans:
            print("\nPlan of served_out_of_turn (the window over the lines):")
            print(explain(store, store.out_of_turn_stmt(TENANT, None, None)))
            print("\nPlan of renegotiated_more_than (GROUP BY on the events' kind index):")
            print(explain(store, store.renegotiated_stmt(TENANT, 2, None, None)))
        return {
            "n": n,
            "load": load,
            "audit": statistics.median(times),
            "found": len(jumped),
            "often": len(often),
            "ok": ok,
        }
    finally:
        store.drop_schema()
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, help="commitments in line (default 20,000)")
    parser.add_argument("--batch", type=int, default=50, help="units per allocate call")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, help="runs of each (default 3)")
    parser.add_argument("--audit", type=int, help="commitments audited (default 1,000,000)")
    parser.add_argument("--postgresql-url", default=PG)
    args = parser.parse_args(argv)
    n = args.n or (400 if args.quick else 20_000)
    audit_n = args.audit or (20_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 3)
    url = args.postgresql_url
    print(f"fairness benchmark on {sa.make_url(url).render_as_string(hide_password=True)}")
    print(f"allocation: {n} waiting, {args.workers} processes, batch {args.batch}, {rounds} rounds")
    ratios, keep_rates, ceil_rates = [], [], []
    broken = False
    for r in range(rounds):
        kw = run_allocation(url, n, args.batch, args.workers, "keepword")
        ce = run_allocation(url, n, args.batch, args.workers, "ceiling")
        keep_rates.append(kw["rate"])
        ceil_rates.append(ce["rate"])
        ratios.append(kw["rate"] / ce["rate"])
        broken |= not kw["fcfs"]
        print(
            f"  round {r + 1}: keepword {kw['rate']:,.0f} rows/s ({kw['rows']} in "
            f"{kw['seconds']:.2f} s, FCFS {'OK' if kw['fcfs'] else 'BROKEN'}: {kw['detail']}); "
            f"ceiling {ce['rate']:,.0f} rows/s ({ce['rows']} in {ce['seconds']:.2f} s); "
            f"ratio {ratios[-1]:.2f}"
        )
    ratio = statistics.median(ratios)
    print(
        f"| workers | keepword rows/s | ceiling rows/s | ratio, median (target >= 0.5) | "
        f"FCFS |\n|---|---|---|---|---|\n| {args.workers} | "
        f"{statistics.median(keep_rates):,.0f} | {statistics.median(ceil_rates):,.0f} | "
        f"{ratio:.2f} {'PASS' if ratio >= 0.5 else 'MISS'} | "
        f"{'every run' if not broken else 'BROKEN'} |"
    )
    print(f"\naudit: {audit_n:,} commitments")
    a = run_audit(url, audit_n, show_plans=True)
    print(
        f"\n| commitments | load s | audit s (median of 3) | out of turn found (10 staged) | "
        f"renegotiated > 2 found (1,000 staged) | exact |\n|---|---|---|---|---|---|\n"
        f"| {a['n']:,} | {a['load']:.1f} | {a['audit']:.2f} | {a['found']} | {a['often']} | "
        f"{'yes' if a['ok'] else 'NO'} |"
    )
    return 1 if broken or not a["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
