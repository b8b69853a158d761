"""Benchmark customer care's store queries on SQLite and PostgreSQL (MariaDB optional).

1. ``owed_thanks``' port query, ``SqlStore.thanks_by_customer(tenant,
   below=7)``, over 100,000 relationships (20,000 customers with a
   commitment, every customer with touchpoints: about 230,000 rows, two
   thirds of the customers thanked once or twice, some of those thank-yous
   not counted), against a hand-written SQL ``GROUP BY`` over the same
   tables sent as text through the driver (``exec_driver_sql``, rows as
   tuples).  Target: the port at least 0.5x the hand-written query's speed.
   Both return every relationship below the target (about 100,000 rows).
2. ``SqlStore.extra_mile_candidate`` with 100,000 eligible customers vs
   1,000 (two tenants in the same tables).  Target, as the issue words it:
   at most 3x the cost.
3. ``SqlStore.silent_customers`` over the 100,000 (informational).
4. ``Tracker.received`` + ``Tracker.replied`` per message against
   ``Tracker.promise`` + ``Tracker.keep`` on the same store (a tenant of
   its own each), in interleaved blocks of 50.  Target: at most 1.3x the cost.

Every table is loaded with Core ``executemany`` (rows built by keepword's
``_rows`` functions) and ``ANALYZE``d, as a live database's are.  Each
query runs once to warm up, then ``--calls`` times; medians are reported.
The plan of each port query (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN``
on the servers) is printed for the SQL the store sent, with its parameters.

Usage, from the repository root::

    python -m benchmarks.care                       # full size (a few minutes)
    python -m benchmarks.care --quick               # seconds; timings not meaningful
    python -m benchmarks.care --postgresql-url URL  # PostgreSQL too
    python -m benchmarks.care --mariadb-url URL     # MariaDB too
    python -m benchmarks.care --replies-only        # part 4 alone (--messages N)

``--postgresql-url`` defaults to ``$KEEPWORD_TEST_POSTGRES_URL`` (unset: SQLite only).

The script reports; it exits 0 unless something crashed.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.care")

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from keepword import Tracker
from keepword._ids import new_id
from keepword.calendar import BusinessCalendar, within
from keepword.clock import SystemClock
from keepword.stores.sql import SqlStore, _rows
from keepword.touchpoint import Touchpoint
from keepword.transitions import promise

UTC = dt.UTC
T0 = dt.datetime(2026, 6, 1, 9, 0, 0, 123456, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TARGET = 7
CHUNK = 5_000
CALENDAR = BusinessCalendar.always_open("UTC")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def median_of(fn: Callable[[], Any], calls: int) -> tuple[float, Any]:
    """The median seconds of ``calls`` runs of ``fn`` after one warm-up run, and its result."""
    out = fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if i in right else (":" + "-" * (w + 1)) for i, w in enumerate(widths)
    )
    body = [
        "| "
        + " | ".join(
            (c.rjust(w) if i in right else c.ljust(w))
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        + " |"
        for r in rows
    ]
    return "\n".join([line, sep + "|", *body])


@contextmanager
def capture(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Record (statement, parameters) of every statement ``engine`` sends."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# --------------------------------------------------------------------------- loading


def _touch(tenant: str, customer: str, kind: str, at: dt.datetime, counted: bool = True) -> dict:
    return _rows.touchpoint_to_row(
        Touchpoint(
            id=new_id(at),
            tenant=tenant,
            customer=customer,
            channel="email" if kind != "thank_you" else "card",
            kind=kind,
            at=at,
            counted=counted,
        )
    )


def relationship_rows(tenant: str, n: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Commitment, event and touchpoint rows of ``n`` relationships (see the module docstring)."""
    template, _ = promise(
        id=new_id(T0),
        tenant=tenant,
        customer="acct-0",
        owner="alice",
        kind="follow_up",
        what="Call after the sale",
        now=T0,
        calendar=CALENDAR,
        due=T0 + dt.timedelta(days=3),
    )
    c_row = _rows.commitment_to_row(template)
    e_row = _rows.events_to_rows(template, template.history)[0]
    commitments, events, touches = [], [], []
    for i in range(n):
        customer = f"acct-{i:06d}"
        at = T0 + dt.timedelta(minutes=i)
        if i % 5 == 0:
            cid = new_id(at)
            commitments.append({**c_row, "id": cid, "customer": customer})
            events.append({**e_row, "commitment_id": cid})
        touches.append(_touch(tenant, customer, "received", at))
        if i % 3 != 0:
            touches.append(_touch(tenant, customer, "thank_you", at, counted=i % 7 != 0))
        if i % 3 == 2:
            touches.append(_touch(tenant, customer, "thank_you", at + dt.timedelta(days=30)))
    return commitments, events, touches


def eligible_rows(tenant: str, n: int) -> list[dict]:
    """``n`` customers with a recent touchpoint each; every tenth was picked once already."""
    rows = []
    for i in range(n):
        customer = f"acct-{i:06d}"
        at = NOW - dt.timedelta(days=30, minutes=i)
        rows.append(_touch(tenant, customer, "reply", at))
        if i % 10 == 0:
            rows.append(_touch(tenant, customer, "extra_mile", at - dt.timedelta(days=400)))
    return rows


def insert(engine: Engine, table_: sa.Table, rows: list[dict]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(table_.insert(), rows[start : start + CHUNK])


def analyze(engine: Engine, tables: Sequence[sa.Table]) -> None:
    with engine.begin() as conn:
        for t in tables:
            name = engine.dialect.identifier_preparer.format_table(t)
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("ANALYZE")
                return
            conn.exec_driver_sql(
                f"ANALYZE {'TABLE ' if engine.dialect.name != 'postgresql' else ''}{name}"
            )


# --------------------------------------------------------------------------- queries


HAND_WRITTEN = """
SELECT customer, SUM(n), MAX(last_at) FROM (
  SELECT customer,
         CASE WHEN kind = 'thank_you' AND counted = {true} THEN 1 ELSE 0 END AS n,
         CASE WHEN kind = 'thank_you' AND counted = {true} THEN at END AS last_at
  FROM {t} WHERE tenant = {p}
  UNION ALL
  SELECT customer, 0, NULL FROM {c} WHERE tenant = {p}
) AS r
GROUP BY customer HAVING SUM(n) < {target}
ORDER BY customer
"""
"""The owed-thanks query as one would write it by hand: one pass, one ``GROUP BY``.

(A ``LEFT JOIN`` of the distinct customers to the grouped thank-yous reads the
same rows, but MariaDB joins the two derived tables with a block nested loop:
over 100,000 customers it ran for minutes.)
"""


def hand_written(store: SqlStore, tenant: str) -> Callable[[], list[Any]]:
    engine = store.engine
    prep = engine.dialect.identifier_preparer
    c = prep.format_table(store.metadata.tables[f"{store.table_prefix}commitments"])
    t = prep.format_table(store.metadata.tables[f"{store.table_prefix}touchpoints"])
    name = engine.dialect.name
    placeholder = "?" if name == "sqlite" else "%(tenant)s"
    true = "1" if name == "sqlite" else "true"
    sql = HAND_WRITTEN.format(c=c, t=t, p=placeholder, true=true, target=TARGET)
    params: Any = (tenant, tenant) if name == "sqlite" else {"tenant": tenant}

    def run() -> list[Any]:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql, params).all()

    return run


def plan(store: SqlStore, call: Callable[[], Any]) -> list[str]:
    """The database's plan of the SQL ``call`` sends, with the same parameters."""
    engine = store.engine
    with capture(engine) as seen:
        call()
    selects = [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    if not selects:
        return ["(no SELECT captured)"]
    statement, params = selects[-1]
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    if engine.dialect.name == "sqlite":
        return [str(r[3]) for r in rows]
    if engine.dialect.name == "postgresql":
        return [str(r[0]) for r in rows]
    return [" | ".join(str(x) for x in r) for r in rows]


def full_scans(lines: Sequence[str], dialect: str, prefix: str) -> list[str]:
    """The plan lines that read a whole keepword table (no index)."""
    if dialect == "sqlite":
        return [s for s in lines if s.startswith(f"SCAN {prefix}") and "INDEX" not in s]
    if dialect == "postgresql":
        return [s.strip() for s in lines if "Seq Scan" in s]
    # derived tables and unions of the query's own subqueries are not table scans
    return [s for s in lines if "| ALL |" in s and "| <" not in s]


# --------------------------------------------------------------------------- one backend


def bench_backend(label: str, url: str, sizes: dict[str, int], calls: int) -> dict[str, Any]:
    prefix = f"bcare{uuid.uuid4().hex[:8]}_"
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    try:
        md = store.metadata
        c_t = md.tables[f"{prefix}commitments"]
        e_t = md.tables[f"{prefix}events"]
        t_t = md.tables[f"{prefix}touchpoints"]
        engine = store.engine
        print(f"[{label}] loading {sizes['relationships']:,} relationships ...", flush=True)
        commitments, events, touches = relationship_rows("care", sizes["relationships"])
        big, small = eligible_rows("big", sizes["eligible"]), eligible_rows("small", sizes["few"])
        load_s, _ = timed(
            lambda: (
                insert(engine, c_t, commitments),
                insert(engine, e_t, events),
                insert(engine, t_t, touches + big + small),
                analyze(engine, (c_t, e_t, t_t)),
            )
        )
        print(
            f"[{label}] loaded {len(touches) + len(big) + len(small):,} touchpoints "
            f"in {load_s:.1f} s",
            flush=True,
        )

        port = lambda: store.thanks_by_customer("care", below=TARGET)  # noqa: E731
        mine = hand_written(store, "care")
        port_s, owed = median_of(port, calls)
        hand_s, raw = median_of(mine, calls)
        assert [r[0] for r in owed] == [r[0] for r in raw], "the two queries disagree"
        assert [r[1] for r in owed] == [int(r[1]) for r in raw]

        since = NOW - dt.timedelta(days=365)
        seed = "care:2026-12"
        big_call = lambda: store.extra_mile_candidate("big", eligible_since=since, seed=seed)  # noqa: E731
        small_call = lambda: store.extra_mile_candidate("small", eligible_since=since, seed=seed)  # noqa: E731
        big_s, big_pick = median_of(big_call, calls)
        small_s, small_pick = median_of(small_call, calls)
        quiet = NOW - dt.timedelta(days=90)
        silent_call = lambda: store.silent_customers("care", quiet_since=quiet)  # noqa: E731
        silent_s, silent = median_of(silent_call, calls)
        return {
            "label": label,
            "dialect": engine.dialect.name,
            "prefix": prefix,
            "relationships": sizes["relationships"],
            "owed": len(owed),
            "port_s": port_s,
            "hand_s": hand_s,
            "eligible": sizes["eligible"],
            "few": sizes["few"],
            "big_s": big_s,
            "small_s": small_s,
            "picks": (big_pick, small_pick),
            "silent_s": silent_s,
            "silent": len(silent),
            "plans": {
                "thanks_by_customer": plan(store, port),
                "extra_mile_candidate": plan(store, big_call),
                "silent_customers": plan(store, silent_call),
            },
        }
    finally:
        store.drop_schema()
        store.close()


def bench_replies(label: str, url: str, messages: int) -> dict[str, Any]:
    """Seconds per message: ``received`` + ``replied`` against ``promise`` + ``keep``."""
    prefix = f"bmsg{uuid.uuid4().hex[:8]}_"
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    try:
        care = Tracker(store, calendar=CALENDAR, tenant="care", clock=SystemClock())
        plain = Tracker(store, calendar=CALENDAR, tenant="plain", clock=SystemClock())

        def answered(i: int) -> None:
            care.received(f"acct-{i % 500}", channel="email", ref=f"msg-{i}")
            care.replied(f"msg-{i}")

        def kept(i: int) -> None:
            c = plain.promise(
                customer=f"acct-{i % 500}",
                owner="alice",
                kind="reply",
                what="Answer the customer's message",
                due=within(business_hours=4),
                external_ref=f"msg-{i}",
                channel="email",
            )
            plain.keep(c)

        answered(-1)  # warm up both paths
        kept(-1)
        spent = {"care": 0.0, "plain": 0.0}
        block = 50
        for start in range(0, messages, block):
            for name, work in (("care", answered), ("plain", kept)):
                t = time.perf_counter()
                for i in range(start, min(start + block, messages)):
                    work(i)
                spent[name] += time.perf_counter() - t
        return {
            "label": label,
            "messages": messages,
            "care": spent["care"] / messages,
            "plain": spent["plain"] / messages,
        }
    finally:
        store.drop_schema()
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, seconds; timings not meaningful"
    )
    ap.add_argument("--calls", type=int, help="timed calls per query (default 7, quick 2)")
    ap.add_argument(
        "--postgresql-url",
        default=os.environ.get("KEEPWORD_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $KEEPWORD_TEST_POSTGRES_URL; none: SQLite only)",
    )
    ap.add_argument("--mariadb-url", default=None, help="MariaDB/MySQL URL (optional)")
    ap.add_argument(
        "--replies-only",
        action="store_true",
        help="only part 4: received + replied against promise + keep",
    )
    ap.add_argument("--messages", type=int, help="messages in part 4 (default 1,000, quick 40)")
    args = ap.parse_args(argv)
    if args.quick:
        sizes = {"relationships": 2_000, "eligible": 2_000, "few": 100, "messages": 40}
    else:
        sizes = {"relationships": 100_000, "eligible": 100_000, "few": 1_000, "messages": 1_000}
    if args.messages is not None:
        sizes["messages"] = args.messages
    calls = args.calls or (2 if args.quick else 7)
    print("keepword customer-care store benchmark" + (" --quick" if args.quick else ""))
    print(
        f"python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, "
        f"{platform.machine()}, nproc {os.cpu_count()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results = []
    replies = []
    with tempfile.TemporaryDirectory(prefix="keepword-care-") as tmp:
        backends = [("SQLite", f"sqlite:///{os.path.join(tmp, 'care.db')}")]
        if args.postgresql_url:
            backends.append(("PostgreSQL", args.postgresql_url))
        if args.mariadb_url:
            backends.append(("MariaDB", args.mariadb_url))
        for label, url in backends:
            if not args.replies_only:
                results.append(bench_backend(label, url, sizes, calls))
            print(f"[{label}] {sizes['messages']:,} messages answered, and promised-kept ...")
            replies.append(bench_replies(label, url, sizes["messages"]))

    print()
    print("## Customer care: store queries (medians)")
    print()
    rows = []
    verdicts = []
    for r in results:
        thanks_ratio = r["hand_s"] / r["port_s"]
        mile_ratio = r["big_s"] / r["small_s"]
        rows += [
            [
                r["label"],
                f"thanks_by_customer(below={TARGET}) over {r['relationships']:,} relationships "
                f"({r['owed']:,} owed)",
                f"{r['port_s'] * 1e3:,.1f} ms",
            ],
            [
                r["label"],
                "hand-written SQL GROUP BY, same tables, raw rows",
                f"{r['hand_s'] * 1e3:,.1f} ms",
            ],
            [
                r["label"],
                f"extra_mile_candidate, {r['eligible']:,} eligible",
                f"{r['big_s'] * 1e3:,.1f} ms",
            ],
            [
                r["label"],
                f"extra_mile_candidate, {r['few']:,} eligible",
                f"{r['small_s'] * 1e3:,.1f} ms",
            ],
            [
                r["label"],
                f"silent_customers over {r['relationships']:,} ({r['silent']:,} silent)",
                f"{r['silent_s'] * 1e3:,.1f} ms",
            ],
        ]
        verdicts += [
            [
                r["label"],
                "thanks_by_customer speed / hand-written",
                f"{thanks_ratio:.2f}x",
                ">= 0.5x",
                "PASS" if thanks_ratio >= 0.5 else "FAIL",
            ],
            [
                r["label"],
                f"extra_mile_candidate {r['eligible']:,} / {r['few']:,} eligible",
                f"{mile_ratio:.1f}x",
                "<= 3x",
                "PASS" if mile_ratio <= 3 else "FAIL",
            ],
        ]
    for r in replies:
        ratio = r["care"] / r["plain"]
        rows += [
            [
                r["label"],
                f"received + replied, per message ({r['messages']:,} messages)",
                f"{r['care'] * 1e3:,.2f} ms",
            ],
            [r["label"], "promise + keep, per commitment", f"{r['plain'] * 1e3:,.2f} ms"],
        ]
        verdicts.append(
            [
                r["label"],
                "received + replied / promise + keep",
                f"{ratio:.2f}x",
                "<= 1.3x",
                "PASS" if ratio <= 1.3 else "FAIL",
            ]
        )
    if rows:
        print(table(["database", "operation", "median"], rows, {2}))
    print()
    print(table(["database", "target", "measured", "target", "result"], verdicts, {2, 3}))
    for r in results:
        print()
        print(f"## Plans on {r['label']}")
        for name, lines in r["plans"].items():
            print()
            print(f"{name}:")
            for line in lines:
                print(f"  {line}")
            scans = full_scans(lines, r["dialect"], r["prefix"])
            print(
                f"  -> {'no full table scan' if not scans else 'full scans: ' + '; '.join(scans)}"
            )
    print()
    print(f"load average at end (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
