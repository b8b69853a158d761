"""Stress the tick and the outbox at full size: RELIABILITY.md scenarios 1-5 and 9.

Real worker processes (``multiprocessing`` with ``spawn``) tick one database:
SQLite (a temporary file), PostgreSQL and MariaDB.  Per backend:

- 1/2 clean runs: 20,000 due commitments x 3 steps (before, at and after the
  deadline), 4 and 8 worker processes (SQLite: 4), each ticking through three
  clock phases until a tick fires nothing: notices = 60,000, duplicates (by
  idempotency key and by commitment/step/repeat), missed, order inversions,
  history/outbox mismatches, double claims, raw driver errors.
- 3/4 chaos run: 20,000 x 3 again with 4 worker slots; 150 ``kill -9`` spread
  over the named points ``after_claim``, ``before_commit`` (notices written,
  transaction not committed) and ``after_commit``, each killed worker replaced
  by a fresh process; one more worker stops itself with ``SIGSTOP`` right after
  a claim and is resumed (``SIGCONT``) once everyone else has finished: its
  stale writes accepted must be 0; lost, duplicates and claims still held one
  lease after the end must be 0.
- 9 outbox: 4 consumer processes drain the 60,000 notices with
  ``claim_notices`` (1 s lease) and crash before acknowledging 30 times:
  never delivered = 0, acknowledged then redelivered = 0.

On PostgreSQL every freshly filled table is ``VACUUM ANALYZE``d before the
workers start (``tick_workers.analyze``), as autovacuum would have done: this
machine's server runs with autovacuum off, and without statistics its planner
reads every open commitment for each claim.

Prints one table per backend with PASS/FAIL and exits 1 if anything failed.
The worker code is shared with the test suite: ``tests/support/tick_workers.py``.

Usage, from the repository root::

    python -m benchmarks.stress_tick                      # full size, every backend
    python -m benchmarks.stress_tick --quick              # small, seconds per backend
    python -m benchmarks.stress_tick --backend postgresql --n 5000 --kills 30
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.stress_tick")

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import sqlite3
import tempfile
import time
import uuid
from typing import Any

import sqlalchemy as sa

from keepword import FrozenClock
from keepword.stores.sql import SqlStore
from tests.support import tick_workers as tw

DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}
ENV = {"postgresql": "KEEPWORD_TEST_POSTGRES_URL", "mariadb": "KEEPWORD_TEST_MARIADB_URL"}
BACKENDS = ("sqlite", "postgresql", "mariadb")
CTX = mp.get_context("spawn")
PHASES = [tw.iso(p) for p in tw.PHASES]  # set by --phases


class Report:
    """Rows of (scenario, figure, value, expected, ok) for one backend."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.rows: list[tuple[str, str, str, str, bool | None]] = []
        self.notes: list[str] = []
        self.live = True

    def _add(self, row: tuple[str, str, str, str, bool | None]) -> None:
        self.rows.append(row)
        if self.live:  # progress, in case a long run is cut short
            verdict = "" if row[4] is None else ("PASS" if row[4] else "FAIL")
            print(
                f"  [{self.backend}] {row[0]}: {row[1]} = {row[2]} {row[3]} {verdict}", flush=True
            )

    def check(self, scenario: str, figure: str, value: Any, expected: Any) -> None:
        self._add((scenario, figure, _show(value), f"= {_show(expected)}", value == expected))

    def info(self, scenario: str, figure: str, value: Any) -> None:
        self._add((scenario, figure, _show(value), "", None))

    @property
    def failed(self) -> int:
        return sum(1 for *_, ok in self.rows if ok is False)

    def render(self) -> str:
        head = ("scenario", "figure", "value", "expected", "result")
        body = [
            (s, f, v, e, "" if ok is None else ("PASS" if ok else "FAIL"))
            for s, f, v, e, ok in self.rows
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(5)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(line.rstrip() for line in lines)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "none"
    return str(value)


def url_for(backend: str, args: argparse.Namespace, tmpdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{os.path.join(tmpdir, f'stress-{uuid.uuid4().hex[:8]}.db')}"
    return getattr(args, f"{backend}_url") or os.environ.get(ENV[backend]) or DEFAULT_URLS[backend]


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version()")).scalar_one()).split(" on ")[0]
    finally:
        engine.dispose()


class Tables:
    """Fresh keepword tables under a random prefix; dropped on exit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"kwst{uuid.uuid4().hex[:8]}_"
        self.admin = SqlStore(url, table_prefix=self.prefix)

    def __enter__(self) -> str:
        self.admin.create_schema()
        return self.prefix

    def __exit__(self, *exc: object) -> None:
        self.admin.drop_schema()
        self.admin.close()


def _fleet_checks(report: Report, label: str, fleet: dict[str, Any]) -> dict[str, Any]:
    summary = tw.summarize_workers(fleet["results"])
    report.check(
        label,
        "worker crashes / abnormal exits",
        len(summary["crashed"]) + len(fleet["abnormal"]),
        0,
    )
    report.check(label, "raw driver errors reaching the caller", len(summary["raw"]), 0)
    report.check(
        label,
        "KeepwordErrors from tick (e.g. database is locked)",
        summary["counts"].get("keepword_errors", 0),
        0,
    )
    report.check(label, "workers out of time", summary["timed_out"], 0)
    for text in summary["crashed"][:3] + summary["raw"][:5] + fleet["abnormal"][:5]:
        report.notes.append(f"{label}: {text.strip()[-400:]}")
    return summary


def _exact_checks(report: Report, label: str, found: dict[str, Any], notices: int) -> None:
    report.check(label, "notices in the outbox", found["notices"], notices)
    report.check(label, "duplicates by idempotency key", found["dup_keys"], 0)
    report.check(label, "duplicates by (commitment, step, repeat)", found["dup_steps"], 0)
    report.check(label, "missed (planned, not fired)", found["missed"], 0)
    report.check(label, "fired but not planned", found["unexpected"], 0)
    report.check(label, "per-commitment order inversions", found["inversions"], 0)
    report.check(label, "history / outbox mismatches", found["mismatched"], 0)


def _analyze(url: str, prefix: str) -> None:
    """Statistics for the freshly filled tables, as autovacuum keeps them (see tw.analyze)."""
    store = SqlStore(url, table_prefix=prefix)
    try:
        tw.analyze(store, prefix)
    finally:
        store.close()


def clean_run(url: str, n: int, workers: int, report: Report, work: str) -> None:
    label = f"1 ({workers}p)" if not url.startswith("sqlite") else f"2 ({workers}p)"
    with Tables(url) as prefix:
        t = time.perf_counter()
        tw.seed(url, prefix, n)
        report.info(label, "seed s", time.perf_counter() - t)
        _analyze(url, prefix)
        base = {"url": url, "prefix": prefix, "limit": 100, "record_claims": True, "group": "w"}
        base["budget_s"] = 3600
        base["phases"] = PHASES
        started = time.perf_counter()
        fleet = tw.run_fleet(
            CTX, tw.tick_worker, [dict(base) for _ in range(workers)], [], work, timeout=3600
        )
        elapsed = time.perf_counter() - started
        summary = _fleet_checks(report, label, fleet)
        found = tw.analyse(url, prefix)
        _exact_checks(report, label, found, 3 * n)
        report.check(label, "double claims", tw.double_claims(fleet["results"]), 0)
        report.check(label, "claims still held at the end", found["live_claims"], 0)
        counts = summary["counts"]
        report.info(
            label,
            "ticks / write conflicts",
            f"{counts.get('ticks', 0):,} / {counts.get('conflicts', 0):,}",
        )
        report.info(label, "wall s (incl. process start)", elapsed)
        report.info(label, "notices/s", found["notices"] / elapsed)


def chaos_run(
    url: str, n: int, kills: int, lease: float, report: Report, work: str, limit: int = 100
) -> None:
    label = "3/4 kills+freeze"
    rng = random.Random(150)
    plan = [{"point": tw.KILL_POINTS[i % 3], "after": rng.randint(1, 4)} for i in range(kills)]
    with Tables(url) as prefix:
        tw.seed(url, prefix, n)
        _analyze(url, prefix)
        base = {"url": url, "prefix": prefix, "limit": limit, "lease": lease, "group": "k"}
        base["budget_s"] = 3600
        base["phases"] = PHASES
        flag = os.path.join(work, "frozen.json")
        frozen = {**base, "group": "frozen", "freeze": {"after": 2, "flag": flag}}
        resumer = tw.Resumer(flag, after=lease + 1.0)
        started = time.perf_counter()
        fleet = tw.run_fleet(
            CTX,
            tw.tick_worker,
            [frozen] + [dict(base) for _ in range(4)],
            plan,
            work,
            timeout=3600,
            monitor=resumer,
        )
        elapsed = time.perf_counter() - started
        _fleet_checks(report, label, fleet)
        killed = fleet["killed"]
        report.check(label, "kill -9 delivered", sum(killed.values()), kills)
        report.info(label, "kills by point", killed)
        report.info(label, "worker processes started", fleet["processes"])
        freeze = [r["freeze"] for r in fleet["results"] if "freeze" in r]
        report.check(label, "frozen worker resumed", resumer.resumed and len(freeze) == 1, True)
        if freeze:
            f = freeze[0]
            report.info(label, "frozen batch / frozen s", f"{f['batch']} / {f['frozen_s']:.1f}")
            report.check(label, "stale writes accepted after SIGCONT", f["stale_accepted"], 0)
            report.check(
                label, "stale writes refused (ConflictError)", f["stale_rejected"], f["batch"]
            )
        found = tw.analyse(url, prefix)
        _exact_checks(report, label, found, 3 * n)
        report.check(label, "lost (missed + mismatched)", found["missed"] + found["mismatched"], 0)
        time.sleep(lease + 0.5)
        report.check(
            label,
            "claims still held one lease after the end",
            tw.analyse(url, prefix)["live_claims"],
            0,
        )
        report.info(label, "wall s", elapsed)


def outbox_run(url: str, n: int, kills: int, report: Report, work: str) -> None:
    label = "9 outbox"
    with Tables(url) as prefix:
        tw.seed(url, prefix, n)
        tracker, store = tw.make_tracker(url, prefix, clock=FrozenClock(tw.FINAL))
        try:
            while tracker.tick(limit=2000).more:
                pass
        finally:
            store.close()
        _analyze(url, prefix)
        rng = random.Random(9)
        plan = [
            {"point": tw.CONSUMER_KILL_POINTS[i % 2], "after": rng.randint(1, 3)}
            for i in range(kills)
        ]
        base = {"url": url, "prefix": prefix, "limit": 20, "lease": 1.0, "log": "x"}
        base |= {"group": "c", "budget_s": 3600}
        started = time.perf_counter()
        fleet = tw.run_fleet(
            CTX, tw.consume_worker, [dict(base) for _ in range(4)], plan, work, timeout=3600
        )
        elapsed = time.perf_counter() - started
        errors = [e for r in fleet["results"] for e in r["errors"]]
        report.check(
            label, "consumer errors / abnormal exits", len(errors) + len(fleet["abnormal"]), 0
        )
        report.check(label, "consumers killed before ack", sum(fleet["killed"].values()), kills)
        seen = tw.outbox_deliveries([s["log"] for s in fleet["specs"]])
        store = SqlStore(url, table_prefix=prefix)
        try:
            rows = tw.notice_rows(store, prefix)
        finally:
            store.close()
        report.check(label, "notices", len(rows), 3 * n)
        report.check(
            label, "never delivered", sum(1 for r in rows if seen["delivered"][r["id"]] == 0), 0
        )
        report.check(
            label, "not acknowledged at the end", sum(1 for r in rows if r["state"] != "acked"), 0
        )
        report.check(label, "acknowledged then redelivered", seen["acked_then_redelivered"], 0)
        report.info(label, "redeliveries (at least once)", seen["redeliveries"])
        report.info(
            label, "drain wall s / notices/s", f"{elapsed:.1f} / {len(rows) / elapsed:,.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="all", choices=("all", *BACKENDS))
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--n", type=int, help="due commitments (default 20,000; quick 300)")
    parser.add_argument("--kills", type=int, help="kill -9 in the chaos run (default 150)")
    parser.add_argument("--workers", default="4,8", help="worker counts of the clean runs")
    parser.add_argument("--lease", type=float, default=3.0, help="claim lease in the chaos run")
    parser.add_argument("--chaos-limit", type=int, default=100, help="tick limit in the chaos run")
    parser.add_argument("--skip", default="", help="comma list of: clean,chaos,outbox")
    parser.add_argument(
        "--phases",
        default="three",
        choices=("three", "final"),
        help="workers tick at three clock instants (one step due at each) or only at the last "
        "(all three steps of a commitment fire in one write)",
    )
    parser.add_argument("--postgresql-url")
    parser.add_argument("--mariadb-url")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    # A SIGTERM unwinds normally, so the worker processes are taken down too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.n or (300 if args.quick else 20_000)
    if args.phases == "final":
        PHASES[:] = [tw.iso(tw.FINAL)]
    kills = args.kills if args.kills is not None else (9 if args.quick else 150)
    skip = set(filter(None, args.skip.split(",")))
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    print(
        f"keepword tick stress: n={n:,} due commitments x 3 steps, kills={kills}, "
        f"clock phases: {args.phases}"
    )
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )
    failed = 0
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            url = url_for(backend, args, tmp)
            report = Report(backend)
            try:
                version = server_version(url)
            except Exception as error:
                print(f"\n== {backend}: cannot connect ({error})")
                failed += 1
                continue
            print(f"\n== {backend} ({version})", flush=True)
            started = time.perf_counter()
            counts = [int(w) for w in args.workers.split(",")]
            if backend == "sqlite":
                counts = [c for c in counts if c <= 4] or [4]
            for workers in counts if "clean" not in skip else ():
                work = tempfile.mkdtemp(dir=tmp)
                clean_run(url, n, workers, report, work)
            if "chaos" not in skip:
                chaos_run(
                    url, n, kills, args.lease, report, tempfile.mkdtemp(dir=tmp), args.chaos_limit
                )
            if "outbox" not in skip:
                outbox_run(url, n, 30 if not args.quick else 6, report, tempfile.mkdtemp(dir=tmp))
            print(report.render())
            print(
                f"{backend}: {'PASS' if not report.failed else 'FAIL'} "
                f"({time.perf_counter() - started:.0f} s, load average "
                f"{os.getloadavg()[0]:.1f})",
                flush=True,
            )
            failed += report.failed
            out[backend] = {"version": version, "rows": report.rows, "notes": report.notes}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(f"\noverall: {'PASS' if not failed else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
