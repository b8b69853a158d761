"""Benchmark the tick and the outbox (issue 4, RELIABILITY.md scenario 11).

1. Tick latency with 1,000,000 open commitments of which 1,000 are due, vs
   1,000 open commitments all due, on SQLite and PostgreSQL.  The not-due rows
   are bulk-loaded with Core ``executemany`` (their events are not loaded: a
   tick never reads a commitment it does not claim); the due ones are made
   with ``Tracker.promise_many``.  Measured: the median ``claim_due`` (100
   rows, then released) and three ``tick(limit=1000)`` calls that each fire
   the 1,000 due commitments' next step.  Target: big/small ratio <= 1.5.
   The claim query's plan is printed.
2. Notices per second with 1, 2 and 4 worker processes on PostgreSQL, against
   a plain ``FOR UPDATE SKIP LOCKED`` claim-and-update loop over the same rows
   (the ceiling: one transaction per batch of 100, no history, no notices).
   Each keepword worker calls ``Tracker.tick()`` with its default ``limit``
   (500: five claimed batches of 100 per call, then one ``next_action_at``
   read for the report's ``more``), as a host using the defaults does.
   Target, as issue 4 words it: keepword's notices/s at least 0.5x the
   ceiling's rows/s.  Each commitment fires its three steps in one tick, so
   the stricter commitments/s ratio is printed beside it.  20,000 due
   commitments by default, so even the ceiling runs for seconds.
   The tables are ``ANALYZE``d after loading, for both, as a live database's are.
   Each worker count runs ``--rounds`` times (default 3), keepword and the
   ceiling alternately on fresh tables; the verdict compares the medians (a
   single run of the ceiling lasts about a second and moves by up to 2x from
   run to run on a shared 2-core machine), and the spread is printed.
3. Outbox drain rate: ``Tracker.dispatch`` with a no-op handler, one process,
   over the notices of the first one-worker run, ``ANALYZE``d first as autovacuum
   would have done.  (Without statistics on the freshly filled table the
   planner scans it whole for every claim and acknowledgement: 60,000
   notices drained at 386/s instead of thousands, on a server whose
   autovacuum is off.)

Usage, from the repository root::

    python -m benchmarks.tick            # full size (about 10 minutes on 2 cores)
    python -m benchmarks.tick --quick    # seconds; timings not meaningful

The script reports; it exits 0 unless something crashed.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.tick")

import argparse
import datetime as dt
import inspect
import multiprocessing as mp
import os
import platform
import signal
import statistics
import tempfile
import time
import uuid
from typing import Any

import sqlalchemy as sa

from keepword import FrozenClock, Tracker
from keepword._ids import new_id
from keepword.stores.sql import SqlStore, _rows
from keepword.transitions import promise
from tests.support import tick_workers as tw

PG = os.environ.get(
    "KEEPWORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CTX = mp.get_context("spawn")
TICK_LIMIT = inspect.signature(Tracker.tick).parameters["limit"].default
UTC = dt.UTC


def bulk_load_not_due(store: SqlStore, count: int, chunk: int = 10_000) -> float:
    """``count`` OPEN commitments whose next step is weeks away, via Core executemany."""
    template, _ = promise(
        id=new_id(tw.MADE_AT),
        tenant=tw.TENANT,
        customer="cust-0",
        owner="alice",
        kind="reply",
        what="Reply to a message that is not due for weeks",
        now=tw.MADE_AT,
        calendar=tw.CALENDAR,
        due=tw.BASE + dt.timedelta(days=30),
        policy=tw.STANDARD,
    )
    row = _rows.commitment_to_row(template)
    table = store.metadata.tables[f"{store.table_prefix}commitments"]
    started = time.perf_counter()
    far = tw.BASE + dt.timedelta(days=30)
    with store.engine.begin() as conn:
        for start in range(0, count, chunk):
            rows = []
            for i in range(start, min(count, start + chunk)):
                due = far + dt.timedelta(seconds=i)
                rows.append(
                    {
                        **row,
                        "id": new_id(tw.MADE_AT + dt.timedelta(microseconds=i)),
                        "customer": f"cust-{i % 997}",
                        "due_at": due,
                        "next_action_at": due - dt.timedelta(hours=2),
                    }
                )
            conn.execute(sa.insert(table), rows)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.exec_driver_sql(f"ANALYZE {table.name}")
            conn.commit()
    return time.perf_counter() - started


def claim_plan(store: SqlStore) -> str:
    """The database's plan for the claim query, as the store sends it."""
    captured: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        text = " ".join(statement.split())
        if text.upper().startswith("SELECT") and "next_action_at <=" in text and not captured:
            captured.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", listen)
    try:
        token, claimed = store.claim_due(
            tw.TENANT, tw.PHASES[0], limit=100, lease=dt.timedelta(seconds=30), worker="plan"
        )
        store.release(tw.TENANT, [c.id for c in claimed], token)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listen)
    statement, parameters = captured[0]
    name = store.engine.dialect.name
    explain = {
        "postgresql": "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ",
        "sqlite": "EXPLAIN QUERY PLAN ",
    }.get(name, "EXPLAIN ")
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + statement, parameters).all()
        conn.rollback()
    if name == "sqlite":
        return "\n".join(f"  {r[-1]}" for r in rows)
    return "\n".join(f"  {' | '.join(str(v) for v in r)}" for r in rows)


class Dataset:
    """Fresh tables holding ``not_due`` far-off commitments and ``due`` due ones."""

    def __init__(self, url: str, not_due: int, due: int) -> None:
        self.url, self.due = url, due
        self.prefix = f"kwbt{uuid.uuid4().hex[:8]}_"
        self.store = SqlStore(url, table_prefix=self.prefix)
        self.store.create_schema()
        self.load_s = bulk_load_not_due(self.store, not_due) if not_due else 0.0
        tw.seed(url, self.prefix, due)
        tw.analyze(self.store, self.prefix)
        self.plan = claim_plan(self.store)
        self.clock = FrozenClock(tw.PHASES[0])
        self.tracker, self.tstore = tw.make_tracker(url, self.prefix, clock=self.clock)
        self.claims: list[float] = []
        self.ticks: list[float] = []
        self.wakeups: list[float] = []
        self.fired = 0

    def claim_once(self) -> None:
        t = time.perf_counter()
        token, claimed = self.store.claim_due(
            tw.TENANT, tw.PHASES[0], limit=100, lease=dt.timedelta(seconds=30), worker="b"
        )
        self.claims.append(time.perf_counter() - t)
        self.store.release(tw.TENANT, [c.id for c in claimed], token)
        t = time.perf_counter()
        self.tracker.next_wakeup()
        self.wakeups.append(time.perf_counter() - t)

    def tick_phase(self, phase: dt.datetime) -> None:
        self.clock.set(phase)
        t = time.perf_counter()
        report = self.tracker.tick(limit=self.due)
        self.ticks.append(time.perf_counter() - t)
        self.fired += report.fired

    def result(self) -> dict[str, Any]:
        assert self.fired == 3 * self.due, (self.fired, self.due)
        return {
            "load_s": self.load_s,
            "claim_ms": statistics.median(self.claims) * 1000,
            "tick_s": statistics.median(self.ticks),
            "wakeup_ms": statistics.median(self.wakeups) * 1000,
            "plan": self.plan,
        }

    def close(self) -> None:
        self.tstore.close()
        self.store.drop_schema()
        self.store.close()


def latency(big_url: str, small_url: str, big: int, due: int, reps: int) -> tuple[Any, Any]:
    """Both datasets side by side, measured alternately, so a busy machine hits both alike."""
    large = Dataset(big_url, big - due, due)
    small = Dataset(small_url, 0, due)
    try:
        for _ in range(reps):
            large.claim_once()
            small.claim_once()
        for phase in tw.PHASES:
            large.tick_phase(phase)
            small.tick_phase(phase)
        return large.result(), small.result()
    finally:
        large.close()
        small.close()


# --------------------------------------------------------------------------- throughput


def ceiling_worker(spec: dict[str, Any]) -> None:
    """The plain loop: SELECT ... FOR UPDATE SKIP LOCKED LIMIT 100; UPDATE those; COMMIT."""
    engine = sa.create_engine(spec["url"])
    md = sa.MetaData()
    table = sa.Table(f"{spec['prefix']}commitments", md, autoload_with=engine)
    now = dt.datetime.fromisoformat(spec["now"])
    done = 0
    tw._wait_for_go(spec)
    started = time.perf_counter()
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(table.c.id)
                    .where(table.c.tenant == tw.TENANT, table.c.next_action_at <= now)
                    .order_by(table.c.next_action_at, table.c.id)
                    .limit(100)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                break
            conn.execute(
                sa.update(table)
                .where(table.c.tenant == tw.TENANT, table.c.id.in_(ids))
                .values(next_action_at=None, version=table.c.version + 1)
            )
        done += len(ids)
    elapsed = time.perf_counter() - started
    engine.dispose()
    tw._write_json(spec["out"], {"rows": done, "elapsed": elapsed})


def throughput(
    url: str, n: int, workers: int, work: str, *, ceiling: bool, drain_after: bool = False
) -> dict[str, float]:
    prefix = f"kwbp{uuid.uuid4().hex[:8]}_"
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    try:
        tw.seed(url, prefix, n)
        tw.analyze(admin, prefix)
        base: dict[str, Any] = {"url": url, "prefix": prefix, "group": "p"}
        if ceiling:
            base["now"] = tw.iso(tw.FINAL)
            target = ceiling_worker
        else:
            # Tracker.tick's own limit: each call claims batches of 100, as the ceiling does.
            base |= {"phases": [tw.iso(tw.FINAL)], "limit": TICK_LIMIT, "budget_s": 3600}
            target = tw.tick_worker
        started = time.perf_counter()
        fleet = tw.run_fleet(CTX, target, [dict(base) for _ in range(workers)], [], work)
        wall = time.perf_counter() - started
        assert not fleet["abnormal"], fleet["abnormal"]
        busy = max(r["elapsed"] for r in fleet["results"])
        if ceiling:
            rows = sum(r["rows"] for r in fleet["results"])
            return {"commitments": rows, "notices": 0, "busy_s": busy, "wall_s": wall}
        found = tw.analyse(url, prefix)
        assert found["notices"] == 3 * n, found
        assert found["dup_steps"] == 0, found
        out = {"commitments": n, "notices": found["notices"], "busy_s": busy, "wall_s": wall}
        if drain_after:
            tw.analyze(admin, prefix)  # the notices the tick wrote, as autovacuum would
            out |= drain(url, prefix)
        return out
    finally:
        admin.drop_schema()
        admin.close()


def drain(url: str, prefix: str) -> dict[str, float]:
    tracker, store = tw.make_tracker(url, prefix, clock=FrozenClock(tw.FINAL))
    delivered = 0
    started = time.perf_counter()
    try:
        while True:
            report = tracker.dispatch(lambda notice: None, limit=100)
            if not report.delivered:
                break
            delivered += report.delivered
    finally:
        store.close()
    return {"drained": delivered, "drain_s": time.perf_counter() - started}


def _spread(values: list[float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--open", type=int, help="not-due open commitments (default 1,000,000)")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--n", type=int, help="due commitments for the throughput runs")
    parser.add_argument("--postgresql-url", default=PG)
    parser.add_argument("--skip", default="", help="comma list of: sqlite,postgresql,throughput")
    parser.add_argument("--rounds", type=int, help="throughput runs per worker count (default 3)")
    parser.add_argument(
        "--workers", default="1,2,4", help="comma list of worker counts (default 1,2,4)"
    )
    args = parser.parse_args(argv)
    # A SIGTERM unwinds normally, so the worker processes are taken down too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    big = args.open or (20_000 if args.quick else 1_000_000)
    due = 100 if args.quick else args.due
    n = args.n or (200 if args.quick else 20_000)
    rounds = args.rounds or (1 if args.quick else 3)
    skip = set(filter(None, args.skip.split(",")))
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        backends = {
            "sqlite": f"sqlite:///{os.path.join(tmp, 'tick.db')}",
            "postgresql": args.postgresql_url,
        }
        print(f"\n== 1. tick latency: {big:,} open with {due:,} due vs {due:,} open, all due")
        print(
            f"{'backend':<11} {'open':>10} {'load s':>7} {'claim ms':>9} {'tick s':>7} "
            f"{'wakeup ms':>9}"
        )
        for name, url in backends.items():
            if name in skip:
                continue
            small_url = url
            if name == "sqlite":
                url = f"sqlite:///{os.path.join(tmp, 'big.db')}"
                small_url = f"sqlite:///{os.path.join(tmp, 'small.db')}"
            large, small = latency(url, small_url, big, due, 20)
            for label, r in (("big", large), ("small", small)):
                opened = big if label == "big" else due
                print(
                    f"{name:<11} {opened:>10,} {r['load_s']:>7.1f} {r['claim_ms']:>9.2f} "
                    f"{r['tick_s']:>7.2f} {r['wakeup_ms']:>9.2f}",
                    flush=True,
                )
            claim_ratio = large["claim_ms"] / small["claim_ms"]
            tick_ratio = large["tick_s"] / small["tick_s"]
            verdict = "PASS" if max(claim_ratio, tick_ratio) <= 1.5 else "FAIL"
            print(
                f"{name}: ratio big/small: claim {claim_ratio:.2f}, tick {tick_ratio:.2f} "
                f"(target <= 1.5): {verdict}"
            )
            print(f"{name}: claim query plan with {big:,} open:\n{large['plan']}", flush=True)
        if "throughput" in skip:
            return 0
        print(
            f"\n== 2. throughput on PostgreSQL: {n:,} due commitments x 3 steps (all due), "
            f"median of {rounds} round(s), keepword and the ceiling alternately"
        )
        print(
            f"{'workers':>7} {'keepword c/s':>12} {'notices/s':>10} {'ceiling rows/s':>14} "
            f"{'c/s ratio':>9} {'notices ratio':>13}  verdict (notices ratio >= 0.5)"
        )
        drained: dict[str, float] = {}
        spreads: list[str] = []
        for workers in [int(w) for w in args.workers.split(",")]:
            kw_rates: list[float] = []
            notice_rates: list[float] = []
            top_rates: list[float] = []
            for _ in range(rounds):
                work = tempfile.mkdtemp(dir=tmp)
                kw = throughput(
                    args.postgresql_url, n, workers, work, ceiling=False, drain_after=not drained
                )
                top = throughput(args.postgresql_url, n, workers, work, ceiling=True)
                kw_rates.append(kw["commitments"] / kw["busy_s"])
                notice_rates.append(kw["notices"] / kw["busy_s"])
                top_rates.append(top["commitments"] / top["busy_s"])
                if "drained" in kw:
                    drained = kw
            kw_rate = statistics.median(kw_rates)
            notice_rate = statistics.median(notice_rates)
            top_rate = statistics.median(top_rates)
            ratio = notice_rate / top_rate
            print(
                f"{workers:>7} {kw_rate:>12,.0f} {notice_rate:>10,.0f} "
                f"{top_rate:>14,.0f} {kw_rate / top_rate:>9.2f} {ratio:>13.2f}  "
                f"{'PASS' if ratio >= 0.5 else 'FAIL'}",
                flush=True,
            )
            spreads.append(
                f"{workers:>7}  keepword c/s {_spread(kw_rates)}; ceiling rows/s "
                f"{_spread(top_rates)}; notices ratio per round "
                + ", ".join(f"{a / b:.2f}" for a, b in zip(notice_rates, top_rates, strict=True))
            )
        print("(rates over the slowest worker's busy time, after all processes started)")
        print("spread (each round's rate, in run order):")
        print("\n".join(spreads))
        print(
            f"\n== 3. outbox drain: dispatch(limit=100), 1 process: {drained['drained']:,.0f} "
            f"notices in {drained['drain_s']:.1f} s = "
            f"{drained['drained'] / drained['drain_s']:,.0f} notices/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
