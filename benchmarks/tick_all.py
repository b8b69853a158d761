"""Benchmark the tick across tenants (:class:`keepword.Ticker`) on PostgreSQL.

1. Throughput: 100,000 due commitments as 10,000 tenants x 10, ticked by one
   :class:`~keepword.Ticker`, against 1 tenant x 100,000 ticked by
   ``Tracker.tick``.  Each commitment fires its three steps in one tick.
   Target: the Ticker's commitments/s at least 0.8x the single tenant's.
   Deadlines are spread over an hour and tenants interleave in due order, as
   they do in a live SaaS database.
2. A flood: one tenant with 20,000 due commitments beside 500 tenants with 4
   each, all due in the same hour.  Reported: each small tenant's delay from
   the start of the drain until its first commitment fired and until all had
   (worst and median), for the Ticker (due order) against ticking tenant by
   tenant with the flooded tenant first (what a naive loop does), both
   ticking 100 commitments a call.  In due
   order a small tenant waits only for the work that fell due before its own.

Usage, from the repository root::

    python -m benchmarks.tick_all            # full size (minutes)
    python -m benchmarks.tick_all --quick    # seconds; timings not meaningful

The commitments are built with the pure ``keepword.transitions.promise`` and
bulk-inserted with their events; the tables are ``ANALYZE``d after loading.
The script reports; it exits 0 unless something crashed.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.tick_all")

import argparse
import datetime as dt
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from keepword import FrozenClock, Ticker, Tracker
from keepword._ids import new_id
from keepword.stores.sql import SqlStore, _rows
from keepword.transitions import promise
from tests.support import tick_workers as tw

PG = os.environ.get(
    "KEEPWORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = tw.FINAL  # every step of every commitment is due


@contextmanager
def fresh_store(url: str) -> Iterator[SqlStore]:
    """A store on fresh tables, dropped afterwards."""
    store = SqlStore(url, table_prefix=f"kwb{uuid.uuid4().hex[:8]}_")
    store.create_schema()
    try:
        yield store
    finally:
        store.drop_schema()
        store.close()


def load(store: SqlStore, tenant_of: Callable[[int], str], count: int) -> float:
    """``count`` due commitments, deadlines spread over an hour; seconds taken."""
    started = time.perf_counter()
    c_table = store.metadata.tables[f"{store.table_prefix}commitments"]
    e_table = store.metadata.tables[f"{store.table_prefix}events"]
    chunk = 5_000
    with store.engine.begin() as conn:
        for start in range(0, count, chunk):
            rows, events = [], []
            for i in range(start, min(count, start + chunk)):
                c, _ = promise(
                    id=new_id(tw.MADE_AT + dt.timedelta(microseconds=i)),
                    tenant=tenant_of(i),
                    customer=f"cust-{i % 997}",
                    owner="alice",
                    kind="reply",
                    what="Reply",
                    now=tw.MADE_AT,
                    calendar=tw.CALENDAR,
                    due=tw.BASE + dt.timedelta(seconds=(i * 7919) % 3600),
                    policy=tw.STANDARD,
                )
                rows.append(_rows.commitment_to_row(c))
                events.extend(_rows.events_to_rows(c, c.history))
            conn.execute(sa.insert(c_table), rows)
            conn.execute(sa.insert(e_table), events)
    with store.engine.connect() as conn:
        for table in (c_table, e_table):
            conn.exec_driver_sql(f"ANALYZE {table.name}")
        conn.commit()
    return time.perf_counter() - started


def drain(tick: Callable[[], object]) -> tuple[float, int, list[tuple[float, set[str]]]]:
    """Tick until nothing is due: seconds, commitments, and (time, tenants fired) per call."""
    started = time.perf_counter()
    done = 0
    seen: list[tuple[float, set[str]]] = []
    while True:
        report = tick()
        done += report.commitments  # type: ignore[attr-defined]
        tenants = {n.tenant for n in report.notices}  # type: ignore[attr-defined]
        seen.append((time.perf_counter() - started, tenants))
        if report.commitments == 0:  # type: ignore[attr-defined]
            return time.perf_counter() - started, done, seen


def throughput(url: str, tenants: int, per_tenant: int) -> float:
    """Commitments/s draining ``tenants x per_tenant`` due commitments."""
    count = tenants * per_tenant
    with fresh_store(url) as store:
        loaded = load(store, lambda i: f"t{i % tenants:05d}", count)
        clock = FrozenClock(NOW)
        if tenants == 1:
            runner: object = Tracker(store, calendar=tw.CALENDAR, tenant="t00000", clock=clock)
        else:
            runner = Ticker(store, clock=clock)
        seconds, done, _ = drain(lambda: runner.tick(NOW))  # type: ignore[attr-defined]
        with store.engine.connect() as conn:
            notices = conn.exec_driver_sql(
                f"SELECT count(*) FROM {store.table_prefix}notices"
            ).scalar_one()
    assert done == count, (done, count)
    assert notices == 3 * count, (notices, count)
    rate = done / seconds
    print(
        f"  {tenants:>6,} tenants x {per_tenant:>7,} due: loaded in {loaded:5.1f} s, "
        f"ticked in {seconds:6.1f} s = {rate:8,.0f} commitments/s ({3 * rate:8,.0f} notices/s)"
    )
    return rate


def flood(url: str, flood_size: int, others: int, each: int) -> None:
    """The worst small tenant's delay beside a flooded one: Ticker vs tenant by tenant."""
    count = flood_size + others * each

    def tenant_of(i: int) -> str:
        return "a-flood" if i < flood_size else f"t{(i - flood_size) % others:04d}"

    small = [f"t{k:04d}" for k in range(others)]
    results = {}
    for how in ("Ticker (due order)", "tenant by tenant, flood first"):
        with fresh_store(url) as store:
            load(store, tenant_of, count)
            clock = FrozenClock(NOW)
            if how.startswith("Ticker"):
                ticker = Ticker(store, clock=clock)
                seconds, _, seen = drain(lambda ticker=ticker: ticker.tick(NOW, limit=100))
            else:
                trackers = [
                    Tracker(store, calendar=tw.CALENDAR, tenant=t, clock=clock)
                    for t in ["a-flood", *small]
                ]

                def one_by_one(
                    trackers: list[Tracker] = trackers,
                    state: dict[str, int] = {"i": 0},  # noqa: B006 - the loop's cursor
                ) -> object:
                    while state["i"] < len(trackers):
                        report = trackers[state["i"]].tick(NOW, limit=100)
                        if report.commitments:
                            return report
                        state["i"] += 1
                    return report

                seconds, _, seen = drain(one_by_one)
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        for at, tenants in seen:
            for t in tenants:
                first.setdefault(t, at)
                last[t] = at
        firsts = [first[t] for t in small]
        lasts = [last[t] for t in small]
        results[how] = (max(firsts), statistics.median(firsts), max(lasts), seconds)
    print(
        f"  one tenant with {flood_size:,} due beside {others:,} tenants with {each} each, "
        "deadlines spread over one hour; a small tenant's delay from the start of the drain"
    )
    for how, (worst_first, median_first, worst_last, seconds) in results.items():
        print(
            f"    {how:<30} first fire: worst {worst_first:6.2f} s, median {median_first:6.2f} s;"
            f" all fired: worst {worst_last:6.2f} s (whole drain {seconds:6.2f} s)"
        )


def main() -> None:
    """Run both scenarios and print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--postgresql-url", default=PG)
    args = parser.parse_args()
    scale = 20 if args.quick else 1
    print(
        f"keepword tick across tenants on PostgreSQL; {platform.python_version()}, "
        f"{os.cpu_count()} CPUs{' (quick: timings not meaningful)' if args.quick else ''}"
    )
    print("1. throughput, one process")
    single = throughput(args.postgresql_url, 1, 100_000 // scale)
    many = throughput(args.postgresql_url, 10_000 // scale, 10)
    ratio = many / single
    verdict = "meets" if ratio >= 0.8 else "MISSES"
    print(f"  ratio {ratio:.2f}x the single tenant's throughput: {verdict} the 0.8x target")
    print("2. a flood")
    flood(args.postgresql_url, 20_000 // scale, 500 // (scale // 4 or 1), 4)


if __name__ == "__main__":
    main()
