"""Benchmark keepword's SQL store on SQLite against plain SQLAlchemy Core.

Run from the repository root::

    python -m benchmarks.store            # full run (a few minutes, ~1-2 GB of temp disk)
    python -m benchmarks.store --quick    # CI smoke: proves it runs, timings meaningless
    python -m benchmarks.store --profile  # also cProfile promise_many and promise()

One run, one SQLite file in WAL mode (a temporary directory, or ``--dir``),
one ``SqlStore`` per table prefix.  Measured side by side:

* ``Tracker.promise_many(items)`` of N commitments (default 100,000) against
  the ceiling: a plain Core ``conn.execute(table.insert(), rows)``
  executemany of the same rows (keepword's ``_rows`` functions) into a fresh
  copy of the same tables, commitments and their "promised" events, in one
  transaction.  The ceiling runs twice, before keepword (rows of
  commitments built with ``keepword.transitions.promise``) and after it (the
  very rows keepword stored); the faster of the two is the ceiling.
* ``Tracker.promise(...)`` calls, each its own transaction, against a Core
  single-row insert of the commitment row and its event row plus a commit,
  per call; interleaved in blocks of 100.
* ``Tracker.get(id)``: median per call over the commitments stored above.
* ``Tracker.due(within=...)`` over 1,000,000 stored commitments (bulk-loaded
  with Core executemany in chunks; 10 tenants, 70 % open), a window that
  returns about 100 rows; median latency, and ``EXPLAIN QUERY PLAN`` of the
  exact SQL the store issued (captured with a ``before_cursor_execute``
  listener) with the same parameters.

The Core baselines use their own plain engine on the same file with the same
connection setup keepword installs (WAL, ``foreign_keys = ON``, busy timeout)
and the driver's default (deferred) transactions.  Nothing is tuned:
``synchronous`` stays SQLite's default (FULL), and no ``ANALYZE`` is run.

The script always exits 0: it reports, it does not gate.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.store")

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import io
import os
import platform
import pstats
import random
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from keepword import Tracker
from keepword import transitions as kt
from keepword._ids import new_id
from keepword.calendar import BusinessCalendar, within
from keepword.clock import FrozenClock, SystemClock
from keepword.commitment import Commitment
from keepword.stores.sql import SqlStore
from keepword.stores.sql import _rows as rows_mod

TENANT = "bench"
T0 = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # Mon 10:00 in New York
SPECS = (
    within(business_hours=4),
    within(business_days=1),
    within(business_days=3),
    within(hours=48),
    within(business_minutes=90),
)
OWNERS = tuple(f"agent-{i}" for i in range(40))
KINDS = ("reply", "refund", "callback", "replacement")
SOURCES = (
    "keepword.tracker",
    "keepword.services.promising",
    "keepword.commitment",
    "keepword.transitions",
    "keepword.stores.sql._store",
    "keepword.stores.sql._base",
    "keepword.stores.sql._commitments",
    "keepword.stores.sql._tick_queue",
    "keepword.stores.sql._outbox",
    "keepword.stores.sql._rows",
    "keepword.stores.sql._schema",
    "keepword.stores.sql._dialect",
)


def make_calendar() -> BusinessCalendar:
    return BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


def item(i: int, *, ref: bool = False) -> dict[str, Any]:
    """The promise() arguments of the i-th benchmark commitment."""
    out: dict[str, Any] = {
        "customer": f"acct-{i % 5000}",
        "owner": OWNERS[i % len(OWNERS)],
        "kind": KINDS[i % len(KINDS)],
        "what": f"Reply to ticket #{i} with the bulk price list",
        "due": SPECS[i % len(SPECS)],
        "tags": ("bench", f"queue-{i % 7}"),
        "priority": i % 3,
    }
    if ref:
        out["external_ref"] = f"ticket-{i}"
    return out


def build(items: Sequence[Mapping[str, Any]], now: dt.datetime, cal: BusinessCalendar) -> list:
    """Commitments made with keepword's pure ``promise`` (not timed)."""
    out = []
    for it in items:
        c, _ = kt.promise(id=new_id(now), tenant=TENANT, now=now, calendar=cal, **it)
        out.append(c)
    return out


def to_rows(commitments: Sequence[Commitment]) -> tuple[list[dict], list[dict]]:
    crows = [rows_mod.commitment_to_row(c) for c in commitments]
    erows = [r for c in commitments for r in rows_mod.events_to_rows(c, c.history)]
    return crows, erows


# --------------------------------------------------------------------------- engines and stores


def core_engine(path: str, synchronous: str | None = None) -> Engine:
    """A plain engine on the same file, with the connection setup keepword uses."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _setup(dbapi: Any, _record: Any) -> None:
        cur = dbapi.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        if synchronous:
            cur.execute(f"PRAGMA synchronous = {synchronous}")
        cur.close()

    return engine


def kw_engine_for(path: str, synchronous: str | None = None) -> Engine:
    """The engine handed to SqlStore (keepword installs its own setup on it)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    if synchronous:

        @event.listens_for(engine, "connect")
        def _setup(dbapi: Any, _record: Any) -> None:
            dbapi.execute(f"PRAGMA synchronous = {synchronous}")

    return engine


def new_store(engine: Engine, prefix: str) -> SqlStore:
    store = SqlStore(engine, table_prefix=prefix)
    store.create_schema()
    return store


def tables(store: SqlStore) -> tuple[sa.Table, sa.Table]:
    p = store.table_prefix
    return store.metadata.tables[f"{p}commitments"], store.metadata.tables[f"{p}events"]


# --------------------------------------------------------------------------- timing helpers


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if i in right else (":" + "-" * (w + 1)) for i, w in enumerate(widths)
    )
    sep += "|"
    body = [
        "| "
        + " | ".join(
            (c.rjust(w) if i in right else c.ljust(w))
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        + " |"
        for r in rows
    ]
    return "\n".join([line, sep, *body])


@contextmanager
def capture(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Record (statement, parameters) of every statement ``engine`` sends."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def profile(label: str, fn: Callable[[], Any], top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return (
        f"cProfile: {label}, by internal time\n{text}\n"
        f"cProfile: {label}, cumulative\n{out.getvalue()}"
    )


# --------------------------------------------------------------------------- the measurements


def bench_bulk(path: str, kw_engine: Engine, core: Engine, n: int, cal: BusinessCalendar) -> dict:
    """promise_many of n against the Core executemany ceiling (run before and after)."""
    kw_store = new_store(kw_engine, "kw_")
    core_a = new_store(kw_engine, "core_a_")
    core_b = new_store(kw_engine, "core_b_")
    tracker = Tracker(kw_store, calendar=cal, tenant=TENANT, clock=SystemClock())
    items = [item(i) for i in range(n)]

    def core_insert(store: SqlStore, crows: list, erows: list) -> float:
        tc, te = tables(store)

        def run() -> None:
            with core.begin() as conn:
                conn.execute(tc.insert(), crows)
                conn.execute(te.insert(), erows)

        return timed(run)[0]

    crows_a, erows_a = to_rows(build(items, dt.datetime.now(dt.UTC), cal))
    gc.collect()
    t_core_a = core_insert(core_a, crows_a, erows_a)
    del crows_a, erows_a
    gc.collect()
    t_kw, stored = timed(lambda: tracker.promise_many(items))
    crows_b, erows_b = to_rows(stored)
    gc.collect()
    t_core_b = core_insert(core_b, crows_b, erows_b)
    assert kw_store.count(TENANT, _query()) == n
    return {
        "n": n,
        "kw": t_kw,
        "core_a": t_core_a,
        "core_b": t_core_b,
        "ids": [c.id for c in stored],
        "store": kw_store,
        "tracker": tracker,
        "events": len(erows_b),
    }


def _query(**kw: Any) -> Any:
    from keepword.ports import Query

    return Query(**kw)


def bench_bulk_refs(kw_engine: Engine, core: Engine, n: int, cal: BusinessCalendar) -> dict:
    """promise_many of n items carrying external_ref (informational) vs the same Core ceiling."""
    store = new_store(kw_engine, "kwref_")
    core_r = new_store(kw_engine, "core_r_")
    tracker = Tracker(store, calendar=cal, tenant=TENANT, clock=SystemClock())
    items = [item(i, ref=True) for i in range(n)]
    gc.collect()
    t_kw, stored = timed(lambda: tracker.promise_many(items))
    crows, erows = to_rows(stored)
    tc, te = tables(core_r)

    def run() -> None:
        with core.begin() as conn:
            conn.execute(tc.insert(), crows)
            conn.execute(te.insert(), erows)

    gc.collect()
    t_core = timed(run)[0]
    return {"n": n, "kw": t_kw, "core": t_core}


def bench_singles(
    kw_engine: Engine, core: Engine, n: int, cal: BusinessCalendar, tag: str = ""
) -> dict:
    """n tracker.promise() calls vs n Core insert (row + event) + commit, interleaved in blocks."""
    store = new_store(kw_engine, f"kws{tag}_")
    core_s = new_store(kw_engine, f"core_s{tag}_")
    tc, te = tables(core_s)
    tracker = Tracker(store, calendar=cal, tenant=TENANT, clock=SystemClock())
    items = [item(i) for i in range(n)]
    prebuilt = to_rows(build(items, dt.datetime.now(dt.UTC), cal))
    ins_c, ins_e = tc.insert(), te.insert()
    block = 100
    t_kw = t_core = 0.0
    kw_lat: list[float] = []
    core_lat: list[float] = []
    for start in range(0, n, block):
        end = min(n, start + block)
        for i in range(start, end):
            t = time.perf_counter()
            tracker.promise(**items[i])
            kw_lat.append(time.perf_counter() - t)
        for i in range(start, end):
            t = time.perf_counter()
            with core.begin() as conn:
                conn.execute(ins_c, prebuilt[0][i])
                conn.execute(ins_e, prebuilt[1][i])
            core_lat.append(time.perf_counter() - t)
    t_kw, t_core = sum(kw_lat), sum(core_lat)
    return {
        "n": n,
        "kw": t_kw,
        "core": t_core,
        "kw_med": statistics.median(kw_lat),
        "core_med": statistics.median(core_lat),
        "tracker": tracker,
        "items": items,
    }


def bench_get(tracker: Tracker, core: Engine, ids: Sequence[str], calls: int) -> dict:
    """tracker.get(id), and the two Core SELECTs it amounts to (rows only), per call."""
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(calls)]
    store = tracker.store
    assert isinstance(store, SqlStore)
    tc, te = tables(store)
    sel_c = sa.select(tc).where(tc.c.tenant == sa.bindparam("t"), tc.c.id == sa.bindparam("i"))
    sel_e = (
        sa.select(te)
        .where(te.c.tenant == sa.bindparam("t"), te.c.commitment_id == sa.bindparam("i"))
        .order_by(te.c.seq)
    )
    for i in picks[:50]:  # warm up
        tracker.get(i)
    kw: list[float] = []
    plain: list[float] = []
    for i in picks:
        t = time.perf_counter()
        tracker.get(i)
        kw.append(time.perf_counter() - t)
        t = time.perf_counter()
        with core.connect() as conn:
            conn.execute(sel_c, {"t": TENANT, "i": i}).mappings().first()
            conn.execute(sel_e, {"t": TENANT, "i": i}).mappings().all()
        plain.append(time.perf_counter() - t)
    return {"calls": calls, "kw_med": statistics.median(kw), "core_med": statistics.median(plain)}


def bulk_load(core: Engine, store: SqlStore, total: int, tenants: int, cal: BusinessCalendar):
    """Load ``total`` commitments (and one event each) with Core executemany in chunks."""
    tc, te = tables(store)
    base, _ = kt.promise(
        id=new_id(T0),
        tenant="t0",
        customer="acct-0",
        owner="agent-0",
        kind="reply",
        what="Reply to the ticket with the bulk price list",
        now=T0 - dt.timedelta(days=1),
        calendar=cal,
        due=within(business_days=3),
        tags=("bench",),
    )
    later = T0 - dt.timedelta(hours=1)
    templates = {
        "open": base,
        "kept": kt.keep(base, now=later)[0],
        "cancelled": kt.cancel(base, now=later, reason="customer withdrew")[0],
        "paused": kt.pause(base, now=later, reason="waiting on customer")[0],
    }
    tmpl_rows = {
        k: (rows_mod.commitment_to_row(c), rows_mod.events_to_rows(c, c.history))
        for k, c in templates.items()
    }
    weights = (("open", 70), ("paused", 10), ("kept", 15), ("cancelled", 5))
    pool = [k for k, w in weights for _ in range(w)]
    span = dt.timedelta(days=360)
    rng = random.Random(20261123)
    chunk = 20_000
    done = 0
    t = time.perf_counter()
    while done < total:
        size = min(chunk, total - done)
        crows: list[dict] = []
        erows: list[dict] = []
        for j in range(done, done + size):
            status = pool[rng.randrange(100)]
            row_t, ev_t = tmpl_rows[status]
            cid = new_id(T0 - dt.timedelta(microseconds=j))
            tenant = f"t{j % tenants}"
            row = dict(row_t)
            row["tenant"] = tenant
            row["id"] = cid
            row["customer"] = f"acct-{j % 50_000}"
            row["owner"] = OWNERS[j % len(OWNERS)]
            row["due_at"] = T0 + span * rng.random()
            crows.append(row)
            for ev in ev_t:
                e = dict(ev)
                e["tenant"] = tenant
                e["commitment_id"] = cid
                erows.append(e)
        with core.begin() as conn:
            conn.execute(tc.insert(), crows)
            conn.execute(te.insert(), erows)
        done += size
    return time.perf_counter() - t, span


def explain(core: Engine, statement: str, params: Any) -> list[str]:
    with core.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    return [str(r[3]) for r in plan]


def index_columns(core: Engine, name: str) -> list[str]:
    with core.connect() as conn:
        return [str(r[2]) for r in conn.exec_driver_sql(f"PRAGMA index_info('{name}')").all()]


def bench_due(core: Engine, kw_engine: Engine, total: int, calls: int, cal) -> dict:
    store = new_store(kw_engine, "due_")
    tenants = 10
    load_s, span = bulk_load(core, store, total, tenants, cal)
    tenant = "t3"
    per_tenant_open = total / tenants * 0.70
    window = span * (100 / per_tenant_open)
    tracker = Tracker(store, calendar=cal, tenant=tenant, clock=FrozenClock(T0))
    first = tracker.due(within=window)  # warm up, and the row count
    with capture(store.engine) as seen:
        again = tracker.due(within=window)
    assert [c.id for c in again] == [c.id for c in first]
    lat: list[float] = []
    for _ in range(calls):
        t = time.perf_counter()
        tracker.due(within=window)
        lat.append(time.perf_counter() - t)
    lim: list[float] = []
    for _ in range(calls):
        t = time.perf_counter()
        got = tracker.due(within=dt.timedelta(days=30), limit=100)
        lim.append(time.perf_counter() - t)
    plans = []
    indexes: dict[str, list[str]] = {}
    for statement, params in seen:
        if statement.lstrip().upper().startswith("SELECT"):
            plan = explain(core, statement, params)
            plans.append((statement, params, plan))
            for step in plan:
                if " INDEX " in step:
                    name = step.split(" INDEX ", 1)[1].split()[0]
                    indexes[name] = index_columns(core, name)
    with core.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(tables(store)[0])).scalar()
    return {
        "total": int(stored or 0),
        "load_s": load_s,
        "rows": len(first),
        "window": window,
        "med": statistics.median(lat),
        "p90": statistics.quantiles(lat, n=10)[-1],
        "lim_med": statistics.median(lim),
        "lim_rows": len(got),
        "plans": plans,
        "indexes": indexes,
        "calls": calls,
    }


# --------------------------------------------------------------------------- report


def machine() -> list[str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=os.path.dirname(sys.modules["keepword"].__file__ or __file__),
        ).stdout.strip()
    except OSError:
        rev = "?"
    digests = []
    for path in (os.path.abspath(__file__), *(sys.modules[m].__file__ or "" for m in SOURCES)):
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:12]
        except OSError:
            digest = "?"
        digests.append(f"{os.path.basename(path)} {digest}")
    return [
        f"keepword imported from {os.path.dirname(sys.modules['keepword'].__file__ or '?')}",
        f"sha256: {', '.join(digests)}",
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"git HEAD {rev or '?'} (worktree may be dirty)",
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, CPU {cpu!r}, "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, "
        f"SQLite {sqlite3.sqlite_version} (sqlite3 module)",
        f"load average (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, < 30 s; timings not meaningful"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile promise_many and promise()")
    ap.add_argument(
        "--dir", default=None, help="directory for the SQLite file (default: a temp dir)"
    )
    args = ap.parse_args(argv)
    if args.quick:
        n_bulk, n_refs, n_single, n_get, n_due, due_calls = 2_000, 500, 200, 200, 20_000, 20
    else:
        n_bulk, n_refs, n_single, n_get, n_due, due_calls = (
            100_000,
            10_000,
            2_000,
            2_000,
            1_000_000,
            50,
        )

    print("keepword SqlStore benchmark (SQLite, WAL)" + (" --quick" if args.quick else ""))
    for line in machine():
        print(line)
    cal = make_calendar()
    cal.resolve(T0, SPECS[0])  # build the calendar's tables before timing

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="keepword-bench-") as tmp:
        path = os.path.join(tmp, "bench.db")
        kw_engine = kw_engine_for(path)
        core = core_engine(path)
        with core.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            fk = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        fs = subprocess.run(["df", "-T", tmp], capture_output=True, text=True, check=False)
        fstype = fs.stdout.splitlines()[-1].split()[1] if fs.returncode == 0 else "?"
        print(
            f"database: {path} ({fstype}); journal_mode={mode}, synchronous={sync} "
            f"(2 = FULL), foreign_keys={fk}"
        )
        print()

        print(f"[1/5] promise_many({n_bulk:,}) vs Core executemany ...", flush=True)
        bulk = bench_bulk(path, kw_engine, core, n_bulk, cal)
        print(f"[2/5] promise_many({n_refs:,}) with external_ref (informational) ...", flush=True)
        refs = bench_bulk_refs(kw_engine, core, n_refs, cal)
        print(f"[3/5] {n_single:,} x promise() vs Core insert+commit ...", flush=True)
        single = bench_singles(kw_engine, core, n_single, cal)
        print("      again with synchronous=NORMAL on both (informational) ...", flush=True)
        kw_normal, core_normal = kw_engine_for(path, "NORMAL"), core_engine(path, "NORMAL")
        normal = bench_singles(kw_normal, core_normal, n_single, cal, tag="n")
        kw_normal.dispose()
        core_normal.dispose()
        print(f"[4/5] {n_get:,} x get(id) ...", flush=True)
        got = bench_get(bulk["tracker"], core, bulk["ids"], n_get)
        print(f"[5/5] due() over {n_due:,} commitments (bulk load first) ...", flush=True)
        due = bench_due(core, kw_engine, n_due, due_calls, cal)
        with kw_engine.connect() as conn:
            mode_after = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        print(f"journal_mode at the end: {mode_after}")

        prof_text: list[str] = []
        ceiling = min(bulk["core_a"], bulk["core_b"])
        bulk_ratio = ceiling / bulk["kw"]
        single_ratio = single["core"] / single["kw"]
        if args.profile or bulk_ratio < 0.5:
            m = min(n_bulk, 20_000)
            store_p = new_store(kw_engine, "prof_")
            tr = Tracker(store_p, calendar=cal, tenant=TENANT, clock=SystemClock())
            its = [item(i) for i in range(m)]
            prof_text.append(profile(f"promise_many({m:,})", lambda: tr.promise_many(its)))
        if args.profile or single_ratio < 0.5:
            m = min(n_single, 1000)
            store_p = new_store(kw_engine, "prof1_")
            tr = Tracker(store_p, calendar=cal, tenant=TENANT, clock=SystemClock())
            its = [item(i) for i in range(m)]

            def ones() -> None:
                for it in its:
                    tr.promise(**it)

            prof_text.append(profile(f"{m:,} x promise()", ones))
        kw_engine.dispose()
        core.dispose()

    n = bulk["n"]
    print()
    print("## Writes (rows/s counts commitments; each also writes its 'promised' event row)")
    print()
    rows = [
        [
            f"promise_many({n:,}), one transaction",
            fmt(n / bulk["kw"]),
            f"{bulk['kw']:.2f} s",
            "",
        ],
        [
            f"Core executemany of the same {n:,} rows + {bulk['events']:,} events (before)",
            fmt(n / bulk["core_a"]),
            f"{bulk['core_a']:.2f} s",
            "",
        ],
        [
            "Core executemany, the rows keepword stored (after)",
            fmt(n / bulk["core_b"]),
            f"{bulk['core_b']:.2f} s",
            "",
        ],
        [
            f"promise_many({refs['n']:,}) with external_ref (informational)",
            fmt(refs["n"] / refs["kw"]),
            f"{refs['kw']:.2f} s",
            "",
        ],
        [
            f"Core executemany of those {refs['n']:,} rows",
            fmt(refs["n"] / refs["core"]),
            f"{refs['core']:.2f} s",
            "",
        ],
        [
            f"{single['n']:,} x promise(), one transaction each",
            fmt(single["n"] / single["kw"]),
            f"{single['kw']:.2f} s",
            f"{single['kw_med'] * 1e6:,.0f}",
        ],
        [
            f"{single['n']:,} x Core insert row + event, commit",
            fmt(single["n"] / single["core"]),
            f"{single['core']:.2f} s",
            f"{single['core_med'] * 1e6:,.0f}",
        ],
        [
            f"{normal['n']:,} x promise(), synchronous=NORMAL (informational)",
            fmt(normal["n"] / normal["kw"]),
            f"{normal['kw']:.2f} s",
            f"{normal['kw_med'] * 1e6:,.0f}",
        ],
        [
            f"{normal['n']:,} x Core insert + commit, synchronous=NORMAL",
            fmt(normal["n"] / normal["core"]),
            f"{normal['core']:.2f} s",
            f"{normal['core_med'] * 1e6:,.0f}",
        ],
    ]
    print(table(["operation", "commitments/s", "total", "median µs/call"], rows, {1, 2, 3}))
    print()
    print("## Reads")
    print()
    rows = [
        [f"get(id) over {n:,} stored ({got['calls']:,} calls)", f"{got['kw_med'] * 1e6:,.0f} µs"],
        [
            "Core: the same two SELECTs, rows only (informational)",
            f"{got['core_med'] * 1e6:,.0f} µs",
        ],
        [
            f"due(within={due['window'].total_seconds() / 3600:.1f} h) over "
            f"{due['total']:,} stored: {due['rows']} rows ({due['calls']} calls)",
            f"{due['med'] * 1e3:,.2f} ms (p90 {due['p90'] * 1e3:,.2f} ms)",
        ],
        [
            f"due(within=30 days, limit=100): {due['lim_rows']} rows",
            f"{due['lim_med'] * 1e3:,.2f} ms",
        ],
        [f"bulk load of {due['total']:,} commitments + events via Core", f"{due['load_s']:.1f} s"],
    ]
    print(table(["operation", "median"], rows, {1}))
    print()

    print("## Query plans of due() (EXPLAIN QUERY PLAN of the captured SQL, same parameters)")
    print()
    scans: list[str] = []
    led_by_tenant = True
    for statement, params, plan in due["plans"]:
        shown = params if len(str(params)) < 300 else str(params)[:300] + " ..."
        print(statement.strip())
        print(f"  parameters: {shown}")
        for step in plan:
            print(f"  plan: {step}")
            if step.startswith("SCAN") and "USING" not in step:
                scans.append(step)
            if " INDEX " in step:
                name = step.split(" INDEX ", 1)[1].split()[0]
                cols = due["indexes"].get(name)
                print(f"        index {name} columns: {cols}")
                if cols and cols[0] not in ("tenant",):
                    led_by_tenant = False
        print()
    plan_ok = not scans and led_by_tenant and bool(due["plans"])

    print("## Targets")
    print()
    rows = [
        [
            "promise_many / Core executemany ceiling",
            f"{bulk_ratio:.2f}x",
            ">= 0.5x",
            "PASS" if bulk_ratio >= 0.5 else "FAIL",
        ],
        [
            "promise() / Core insert+commit",
            f"{single_ratio:.2f}x",
            ">= 0.5x",
            "PASS" if single_ratio >= 0.5 else "FAIL",
        ],
        [
            "due() answers from an index led by tenant (no full SCAN)",
            "index" if plan_ok else ("SCAN: " + "; ".join(scans) if scans else "not tenant-led"),
            "index",
            "PASS" if plan_ok else "FAIL",
        ],
    ]
    print(table(["target", "measured", "target", "result"], rows, {1, 2}))
    print()
    print(
        "ratios are throughputs (keepword rows/s over Core rows/s); the bulk ceiling is the "
        "faster of the two Core runs."
    )
    print(f"load average at end (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for text in prof_text:
        print()
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
