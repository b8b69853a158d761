"""Benchmark the scorecard: ``Tracker.scorecard(by="owner")`` against a hand-written ``GROUP BY``.

Run from the repository root::

    python -m benchmarks.measure                     # SQLite, 1,000,000 commitments
    python -m benchmarks.measure --postgresql-url postgresql+psycopg://...   # and PostgreSQL
    python -m benchmarks.measure --quick             # CI smoke: proves it runs, timings meaningless

One run per database: a fresh ``SqlStore`` (its own table prefix), filled by
one ``INSERT ... SELECT`` from a generated series (SQLite: a recursive CTE;
PostgreSQL: ``generate_series``) with 10,000 rows, then grown to N
(default 1,000,000) rows: 20 owners, 5 kinds, 10,000 customers, 60 % kept on
time, 15 % late, 5 % after a breach, 5 % broken, 5 % cancelled, 10 % open.
The rows carry the scorecard's columns as the store writes them; no event
rows (the scorecard reads none).  At each size, measured side by side and
interleaved (5 rounds, the median):

* ``tracker.scorecard(by="owner")``: every count, the on-time rate and the
  p50/p90 of lateness, breach magnitude and first response, per owner and
  in total;
* the ceiling: a hand-written ``SELECT owner, COUNT(*), SUM(CASE ...) ...
  GROUP BY owner`` computing the same counts (no percentiles) on the same
  table, through the same engine.

Target: the scorecard runs at least 0.5x the ceiling's speed.  Memory: the
peak of Python allocations (``tracemalloc``) during one scorecard call at
10,000 rows and at N rows; target: it grows by under 50 MB (nothing is
loaded row by row).  The script always exits 0: it reports, it does not gate.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.measure")

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Sequence

import sqlalchemy as sa

import keepword as kw

_CAL = kw.BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
_TENANT = "bench"
_US = "CAST(1000000 AS BIGINT)"


def _series(dialect: str, start: int, stop: int) -> tuple[str, str]:
    """(prefix, FROM clause) producing ``i`` for ``start <= i < stop``."""
    if dialect == "postgresql":
        return "", f"FROM generate_series({start}, {stop - 1}) AS n(i)"
    return (
        f"WITH RECURSIVE n(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM n "
        f"WHERE i + 1 < {stop}) ",
        "FROM n",
    )


def _fill(engine: sa.Engine, table: str, start: int, stop: int) -> None:
    """Insert commitments ``start .. stop - 1`` with one ``INSERT ... SELECT``."""
    dialect = engine.dialect.name
    pg = dialect == "postgresql"
    minutes = "'+' || (i % 500000) || ' minutes'"
    made = (
        "(TIMESTAMPTZ '2026-01-05 09:00:00+00' + (i % 500000) * INTERVAL '1 minute')"
        if pg
        else f"strftime('%Y-%m-%d %H:%M:%f', '2026-01-05 09:00:00', {minutes})"
    )
    due = (
        f"({made} + INTERVAL '4 hours')"
        if pg
        else f"strftime('%Y-%m-%d %H:%M:%f', '2026-01-05 13:00:00', {minutes})"
    )
    true, false = ("TRUE", "FALSE") if pg else ("1", "0")
    b = "(i % 20)"
    kept = f"({b} < 16)"
    outcome = (
        f"CASE WHEN {b} < 12 THEN 'on_time' WHEN {b} < 15 THEN 'late' WHEN {b} = 15 "
        f"THEN 'after_breach' WHEN {b} = 16 THEN 'broken' WHEN {b} = 17 THEN 'cancelled' END"
    )
    status = (
        f"CASE WHEN {b} < 16 THEN 'kept' WHEN {b} = 16 THEN 'broken' "
        f"WHEN {b} = 17 THEN 'cancelled' ELSE 'open' END"
    )
    late = f"CASE WHEN {b} BETWEEN 12 AND 15 THEN (i % 7919) * {_US} END"
    turnaround = f"CASE WHEN {kept} THEN (i % 28800) * {_US} END"
    cal_json = json.dumps(_CAL.to_dict(), sort_keys=True, separators=(",", ":")).replace("'", "''")
    json_cast = "::json" if pg else ""
    prefix, source = _series(dialect, start, stop)
    sql = f"""
    {prefix}INSERT INTO {table} (tenant, id, customer, owner, kind, what, made_at, due_at, status,
        version, tags, priority, terms, calendar, kept_at, closed_at, breached_at,
        lateness_us, deadline_version, history_length, escalation_cursor,
        outcome, turnaround_us, response_us, breach_us, slack_us, renegotiations,
        escalations_fired, kept_as_promised, quoted)
    SELECT '{_TENANT}', 'c' || i, 'cust' || (i % 10000), 'owner' || (i % 20), 'kind' || (i % 5),
        'a promise', {made}, {due}, {status}, 2, '[]'{json_cast}, 0, '{{}}'{json_cast},
        '{cal_json}'{json_cast}, CASE WHEN {kept} THEN {made} END,
        CASE WHEN {b} < 18 THEN {made} END,
        CASE WHEN {b} BETWEEN 12 AND 16 THEN {due} END,
        CASE WHEN {kept} THEN COALESCE({late}, 0) END, 1, 2, 0,
        {outcome}, {turnaround}, CASE WHEN i % 5 = 0 THEN {turnaround} END,
        CASE WHEN {b} BETWEEN 12 AND 16 THEN (i % 7919) * {_US} END,
        CASE WHEN {b} < 12 THEN (i % 3600) * {_US} END,
        CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END, i % 4,
        CASE WHEN {kept} THEN (CASE WHEN i % 50 = 0 THEN {false} ELSE {true} END) END, {false}
    {source}
    """
    if pg:
        sql = sql.replace("%", "%%")  # psycopg's placeholders: a literal % is doubled
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
        if pg:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _ceiling(engine: sa.Engine, table: str) -> Callable[[], object]:
    """The hand-written GROUP BY of the same counts."""
    sql = sa.text(
        f"""
        SELECT owner, COUNT(*) AS made,
          SUM(CASE WHEN due_at <= :now THEN 1 ELSE 0 END) AS due,
          SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END) AS on_time,
          SUM(CASE WHEN outcome = 'late' THEN 1 ELSE 0 END) AS late,
          SUM(CASE WHEN outcome = 'after_breach' THEN 1 ELSE 0 END) AS after_breach,
          SUM(CASE WHEN kept_as_promised = FALSE THEN 1 ELSE 0 END) AS not_as_promised,
          SUM(CASE WHEN outcome = 'broken' THEN 1 ELSE 0 END) AS broken,
          SUM(CASE WHEN outcome = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
          SUM(CASE WHEN outcome = 'waived' THEN 1 ELSE 0 END) AS waived,
          SUM(CASE WHEN status IN ('open', 'paused') THEN 1 ELSE 0 END) AS open,
          SUM(CASE WHEN status = 'open' AND due_at < :now THEN 1 ELSE 0 END) AS overdue,
          SUM(renegotiations) AS renegotiations, SUM(escalations_fired) AS escalations
        FROM {table} WHERE tenant = :tenant GROUP BY owner
        """
    )
    now = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    bind_now: object = now if engine.dialect.name == "postgresql" else "2027-06-01 00:00:00.000000"

    def run() -> object:
        with engine.connect() as conn:
            return conn.execute(sql, {"now": bind_now, "tenant": _TENANT}).all()

    return run


def _median_pair(
    ours: Callable[[], object], ceiling: Callable[[], object], rounds: int
) -> tuple[float, float]:
    a, b = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        ceiling()
        b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


def _peak_mb(call: Callable[[], object]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_one(name: str, url: str, sizes: Sequence[int], rounds: int) -> list[str]:
    """Rows of the result table for one database."""
    prefix = f"kwm{uuid.uuid4().hex[:8]}_"
    store = kw.SqlStore(url, table_prefix=prefix)
    store.create_schema()
    engine = store.engine
    table = f"{prefix}commitments"
    clock = kw.FrozenClock(dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    tracker = kw.Tracker(store, calendar=_CAL, tenant=_TENANT, clock=clock)
    ceiling = _ceiling(engine, table)
    out: list[str] = []
    loaded = 0
    peaks: list[float] = []
    try:
        for size in sizes:
            t = time.perf_counter()
            _fill(engine, table, loaded, size)
            load = time.perf_counter() - t
            loaded = size
            card = tracker.scorecard(by="owner")
            assert card.total.made == size, (card.total.made, size)
            ours, base = _median_pair(lambda: tracker.scorecard(by="owner"), ceiling, rounds)
            peak = _peak_mb(lambda: tracker.scorecard(by="owner"))
            peaks.append(peak)
            out.append(
                f"| {name} | {size:,} | {ours * 1000:,.0f} ms | {base * 1000:,.0f} ms | "
                f"{base / ours:.2f}x | {peak:.2f} MB | (loaded in {load:.1f} s) |"
            )
        out.append(
            f"| {name} | growth {sizes[0]:,} -> {sizes[-1]:,} | | | | "
            f"{peaks[-1] - peaks[0]:+.2f} MB | target < 50 MB |"
        )
    finally:
        store.drop_schema()
        store.close()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; always 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: tiny tables")
    parser.add_argument("--rows", type=int, default=1_000_000, help="the largest table")
    parser.add_argument("--postgresql-url", default=None, help="also run on this PostgreSQL")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args(argv)
    rows = 20_000 if opts.quick else opts.rows
    sizes = [min(10_000, rows), rows]
    rounds = 1 if opts.quick else opts.rounds
    print(
        "keepword scorecard benchmark"
        + (" (--quick: timings NOT meaningful)" if opts.quick else "")
    )
    flags = [
        *(["--quick"] if opts.quick else []),
        *([f"--rows {opts.rows}"] if opts.rows != parser.get_default("rows") else []),
        *([f"--rounds {opts.rounds}"] if opts.rounds != parser.get_default("rounds") else []),
        *(["--postgresql-url <url>"] if opts.postgresql_url else []),
    ]
    print(" ".join(["command: python -m benchmarks.measure", *flags]))
    print(f"started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"python {platform.python_version()}, {platform.platform()}, load {os.getloadavg()}")
    print(
        "| database | rows | scorecard(by=owner) | hand-written GROUP BY | speed vs it "
        "(target >= 0.5x) | peak Python memory | |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{tmp}/measure.db")]
        if opts.postgresql_url:
            targets.append(("PostgreSQL", opts.postgresql_url))
        for name, url in targets:
            for line in run_one(name, url, sizes, rounds):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
