"""Stress ``SqlStore`` through the public ``Tracker`` API: RELIABILITY.md scenarios 6, 7, 16-18.

Runs on SQLite (a temporary file), PostgreSQL and MariaDB with real worker
processes (``multiprocessing`` with the ``spawn`` start method), prints one
table per backend with each figure, the expected value and PASS/FAIL, and
exits 1 if anything failed (2 if a backend could not be reached).

- 6  webhook retries: N processes call ``promise(external_ref=r)`` for R refs.
- 7  racing writers: N processes race keep/renegotiate/reassign/pause/resume
  with the ``Commitment`` objects they loaded (stale versions must raise
  ``ConflictError``); then every stored commitment must equal the replay of
  its history and carry every acknowledged write.
- 16 bad times: naive datetimes, ``date``s, odd fixed offsets and
  pytz-localised values on every call that takes a time.
- 17 tenants: tenant B calls everything with tenant A's ids; one pooled
  connection alternates between the tenants.
- 18 hostile strings in every text field and in ``table_prefix``.

Usage, from the repository root::

    python -m benchmarks.stress_store --backend all            # full size
    python -m benchmarks.stress_store --backend sqlite --quick # smoke run, seconds

The PostgreSQL and MariaDB URLs come from ``--postgresql-url`` /
``--mariadb-url``, else ``KEEPWORD_TEST_POSTGRES_URL`` /
``KEEPWORD_TEST_MARIADB_URL``, else the local defaults below.  Every run uses
fresh tables (a random ``table_prefix``) and drops them afterwards.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.stress_store")

import argparse
import collections
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import sqlite3
import tempfile
import time
import traceback
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytz
import sqlalchemy as sa

from keepword import (
    BusinessCalendar,
    Commitment,
    FrozenClock,
    KeepwordError,
    NaiveDatetimeError,
    NotFoundError,
    Tracker,
    within,
)
from keepword._json import thaw_json
from keepword.commitment import replay
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import Store
from keepword.stores.sql import SqlStore

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
CALENDAR = BusinessCalendar.always_open("UTC")
DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}
ENV = {"postgresql": "KEEPWORD_TEST_POSTGRES_URL", "mariadb": "KEEPWORD_TEST_MARIADB_URL"}
BACKENDS = ("sqlite", "postgresql", "mariadb")

FULL = {
    "s6_procs": 8,
    "s6_refs": 100,
    "s6_calls": 1000,
    "s7_procs": 8,
    "s7_commitments": 1000,
    "s7_ops": 1000,
    "s17_commitments": 100,
    "s17_alternations": 10_000,
}
QUICK = {
    "s6_procs": 4,
    "s6_refs": 20,
    "s6_calls": 50,
    "s7_procs": 4,
    "s7_commitments": 50,
    "s7_ops": 50,
    "s17_commitments": 20,
    "s17_alternations": 500,
}


# --------------------------------------------------------------------------- reporting


class Report:
    """The figures of one backend: (scenario, figure, value, expected, ok)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.rows: list[tuple[str, str, str, str, bool | None]] = []
        self.notes: list[str] = []

    def check(self, scenario: str, figure: str, value: Any, expected: str, ok: bool) -> None:
        self.rows.append((scenario, figure, _show(value), expected, bool(ok)))

    def info(self, scenario: str, figure: str, value: Any) -> None:
        self.rows.append((scenario, figure, _show(value), "", None))

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def failed(self) -> int:
        return sum(1 for *_, ok in self.rows if ok is False)

    def render(self) -> str:
        head = ("scen.", "figure", "value", "expected", "result")
        body = [
            (s, f, v, e, "" if ok is None else ("PASS" if ok else "FAIL"))
            for s, f, v, e, ok in self.rows
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(5)]
        widths[2] = min(widths[2], 60)
        line = "  ".join("-" * w for w in widths)
        out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)), line]
        for row in body:
            out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "rows": [
                {"scenario": s, "figure": f, "value": v, "expected": e, "ok": ok}
                for s, f, v, e, ok in self.rows
            ],
            "notes": self.notes,
        }


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v:,}" for k, v in sorted(value.items())) or "none"
    return str(value)


def _kind(error: BaseException) -> str:
    return type(error).__name__


def _raw_sample(error: BaseException, where: str) -> str:
    return f"{where}: {type(error).__module__}.{type(error).__name__}: {str(error)[:300]}"


# --------------------------------------------------------------------------- stores


def backend_url(backend: str, args: argparse.Namespace, tmpdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{os.path.join(tmpdir, 'stress-' + uuid.uuid4().hex[:8] + '.db')}"
    given = getattr(args, f"{backend}_url")
    return given or os.environ.get(ENV[backend]) or DEFAULT_URLS[backend]


def _store_class() -> tuple[type[SqlStore], list[str]]:
    """``SqlStore``, or a subclass with stubs for ``Store`` methods it does not have yet.

    ``Tracker`` refuses a store that lacks any method of the ``Store``
    protocol.  While ``SqlStore`` is being finished, the methods this script
    never calls (ticking, the outbox) may be missing; the stubs raise
    ``NotImplementedError`` and the run prints which ones were stubbed.
    """
    wanted = [n for n in dir(Store) if not n.startswith("_") and callable(getattr(Store, n))]
    missing = [n for n in wanted if not hasattr(SqlStore, n)]
    if not missing:
        return SqlStore, []

    def stub(name: str) -> Callable[..., Any]:
        def method(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError(f"SqlStore.{name} does not exist yet (stress-script stub)")

        return method

    return type("SqlStoreWithStubs", (SqlStore,), {n: stub(n) for n in missing}), missing


StressStore, STUBBED = _store_class()


def unique_prefix() -> str:
    return f"kws{uuid.uuid4().hex[:10]}_"


@contextmanager
def fresh_tables(url: str) -> Iterator[str]:
    """Create keepword's tables under a new prefix; drop them afterwards."""
    prefix = unique_prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    try:
        yield prefix
    finally:
        admin.drop_schema()
        admin.close()


def make_tracker(
    url: str, prefix: str, tenant: str, clock: FrozenClock | None = None
) -> tuple[Tracker, SqlStore]:
    store = StressStore(url, table_prefix=prefix)
    tracker = Tracker(store, calendar=CALENDAR, tenant=tenant, clock=clock or FrozenClock(T0))
    return tracker, store


def row_counts(store: SqlStore) -> tuple[int, int]:
    """Rows in the commitments and events tables (every tenant), read with plain SQL."""
    names = [t for t in store.metadata.sorted_tables if t.name.endswith(("commitments", "events"))]
    by_name = {t.name.rsplit("_", 1)[-1]: t for t in names}
    with store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(by_name[n])).scalar_one()
            for n in ("commitments", "events")
        )


def tenant_rows(store: SqlStore, tenant: str) -> str:
    """Every stored column of ``tenant``'s commitment and event rows, as one string."""
    parts: list[str] = []
    with store.engine.connect() as conn:
        for table in store.metadata.sorted_tables:
            if "tenant" not in table.c:
                continue
            keys = list(table.primary_key.columns)
            rows = conn.execute(
                sa.select(table).where(table.c.tenant == tenant).order_by(*keys)
            ).all()
            parts.append(f"{table.name}:{[tuple(map(repr, r)) for r in rows]}")
    return "\n".join(parts)


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version()")).scalar_one()).split(" on ")[0]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- processes


def run_workers(
    target: Callable[..., None], per_worker: list[tuple[Any, ...]], timeout: float = 1800
) -> tuple[list[dict[str, Any]], float]:
    """Start one spawned process per argument tuple; return their results and the wall time.

    Each worker gets ``(*args, barrier, queue)``, sets itself up, waits at the
    barrier, works, and puts one result dict on the queue.  The time runs from
    the barrier (every worker ready) to the last result.
    """
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(per_worker) + 1)
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, queue)) for a in per_worker]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=300)
    except Exception:
        crashes = []
        for _ in procs:
            try:
                crashes.append(queue.get(timeout=5).get("crashed", ""))
            except Exception:
                break
        for p in procs:
            p.kill()
        detail = next((c for c in crashes if c), "no traceback")
        raise RuntimeError(f"a worker process failed before starting work:\n{detail}") from None
    started = time.perf_counter()
    results = [queue.get(timeout=timeout) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(timeout=60)
    return results, elapsed


def _guarded(queue: Any, barrier: Any, work: Callable[[], dict[str, Any]]) -> None:
    try:
        result = work()
    except BaseException:  # report a crashed worker instead of hanging the parent
        result = {"crashed": traceback.format_exc()}
        barrier.abort()
    queue.put(result)


# --------------------------------------------------------------------------- scenario 6


def s6_payload(ref: int) -> dict[str, Any]:
    return {
        "customer": f"cust-{ref % 7}",
        "owner": "alice",
        "kind": "order",
        "what": f"Ship order {ref}",
        "due": within(hours=24),
        "external_ref": f"order-{ref}",
        "terms": {"order": ref, "lines": [1, 2, 3]},
    }


def s6_worker(
    url: str, prefix: str, refs: int, calls: int, seed: int, barrier: Any, queue: Any
) -> None:
    def work() -> dict[str, Any]:
        tracker, store = make_tracker(url, prefix, "shop")
        tracker.count()  # connect before the clock starts
        rng = random.Random(seed)
        order = [i % refs for i in range(calls)]
        rng.shuffle(order)
        ok = 0
        errors: collections.Counter[str] = collections.Counter()
        raw: list[str] = []
        raw_count = 0
        ids: dict[int, set[str]] = collections.defaultdict(set)
        barrier.wait(timeout=300)
        for ref in order:
            try:
                c = tracker.promise(**s6_payload(ref))
            except KeepwordError as error:
                errors[_kind(error)] += 1
            except Exception as error:
                raw_count += 1
                if len(raw) < 5:
                    raw.append(_raw_sample(error, f"promise(order-{ref})"))
            else:
                ok += 1
                ids[ref].add(c.id)
        store.close()
        return {
            "ok": ok,
            "errors": dict(errors),
            "raw": raw,
            "raw_count": raw_count,
            "ids": {k: sorted(v) for k, v in ids.items()},
        }

    _guarded(queue, barrier, work)


def scenario6(url: str, sizes: dict[str, int], report: Report) -> None:
    procs, refs, calls = sizes["s6_procs"], sizes["s6_refs"], sizes["s6_calls"]
    with fresh_tables(url) as prefix:
        results, elapsed = run_workers(
            s6_worker, [(url, prefix, refs, calls, seed) for seed in range(procs)]
        )
        crashed = [r["crashed"] for r in results if "crashed" in r]
        for text in crashed:
            report.note(f"6: worker crashed:\n{text}")
        results = [r for r in results if "crashed" not in r]
        tracker, store = make_tracker(url, prefix, "shop")
        stored = tracker.count()
        distinct = {r: tracker.find(external_ref=f"order-{r}") for r in range(refs)}
        store.close()
    errors: collections.Counter[str] = collections.Counter()
    ids: dict[int, set[str]] = collections.defaultdict(set)
    for r in results:
        errors.update(r["errors"])
        for k, v in r["ids"].items():
            ids[int(k)].update(v)
    raw = sum(r["raw_count"] for r in results)
    for r in results:
        for sample in r["raw"]:
            report.note(f"6: raw driver error: {sample}")
    total = procs * calls
    ok = sum(r["ok"] for r in results)
    split = sum(1 for v in ids.values() if len(v) != 1)
    stored_ids = {r: {c.id for c in cs} for r, cs in distinct.items()}
    mismatched = sum(1 for r, v in ids.items() if v != stored_ids.get(r))
    label = f"6 ({procs}p x {calls})"
    report.check(label, "worker processes crashed", len(crashed), "= 0", not crashed)
    report.check(label, "commitments stored", stored, f"= {refs}", stored == refs)
    report.check(label, "raw driver errors leaked", raw, "= 0", raw == 0)
    report.check(label, "KeepwordErrors by kind", dict(errors) or "none", "none", not errors)
    report.check(label, "calls returning the commitment", ok, f"= {total}", ok == total)
    report.check(
        label,
        "refs answered with >1 id or not the stored one",
        split + mismatched,
        "= 0",
        split + mismatched == 0,
    )
    report.info(label, "calls/s (all processes)", total / elapsed)


# --------------------------------------------------------------------------- scenario 7

OWNERS = [f"owner-{i}" for i in range(40)]


def _fingerprint(event: Any) -> tuple[Any, ...]:
    return (
        event.seq,
        event.kind,
        event.at.isoformat(),
        event.actor,
        json.dumps(thaw_json(event.data), sort_keys=True),
    )


def s7_worker(
    url: str, prefix: str, ids: list[str], ops: int, seed: int, barrier: Any, queue: Any
) -> None:
    def work() -> dict[str, Any]:
        tracker, store = make_tracker(url, prefix, "shop")
        tracker.count()
        rng = random.Random(seed)
        hot = ids[: max(4, len(ids) // 50)]
        counts: collections.Counter[str] = collections.Counter()
        errors: collections.Counter[str] = collections.Counter()
        raw: list[str] = []
        acks: list[tuple[str, int, int, tuple[Any, ...]]] = []
        barrier.wait(timeout=300)
        done = 0
        while done < ops:
            # Load a small batch, then act on each: the later ones are staler.
            batch = [rng.choice(hot) if rng.random() < 0.5 else rng.choice(ids) for _ in range(4)]
            loaded: list[Commitment] = []
            for cid in batch:
                try:
                    loaded.append(tracker.get(cid))
                except KeepwordError as error:
                    errors[f"get:{_kind(error)}"] += 1
                except Exception as error:
                    counts["raw"] += 1
                    if len(raw) < 5:
                        raw.append(_raw_sample(error, "get"))
            for c in loaded:
                if done >= ops:
                    break
                action, call = _s7_action(tracker, c, rng)
                if call is None:
                    counts["skipped_closed"] += 1
                    continue
                done += 1
                counts["attempts"] += 1
                counts[f"attempt:{action}"] += 1
                try:
                    new = call()
                except ConflictError:
                    counts["conflicts"] += 1
                except KeepwordError as error:
                    errors[f"{action}:{_kind(error)}"] += 1
                except Exception as error:
                    counts["raw"] += 1
                    if len(raw) < 5:
                        raw.append(_raw_sample(error, action))
                else:
                    if new.version == c.version + 1:
                        counts["successes"] += 1
                        acks.append(
                            (new.id, new.version, len(new.history), _fingerprint(new.history[-1]))
                        )
                    else:
                        counts["noops"] += 1
        store.close()
        return {"counts": dict(counts), "errors": dict(errors), "raw": raw, "acks": acks}

    _guarded(queue, barrier, work)


def _s7_action(
    tracker: Tracker, c: Commitment, rng: random.Random
) -> tuple[str, Callable[[], Commitment] | None]:
    status = c.status.value
    if status == "open":
        choices = [("keep", 2), ("renegotiate", 33), ("reassign", 30), ("pause", 35)]
    elif status == "paused":
        choices = [("keep", 2), ("reassign", 30), ("resume", 68)]
    else:
        return "none", None
    action = rng.choices([a for a, _ in choices], weights=[w for _, w in choices])[0]
    if action == "keep":
        return action, lambda: tracker.keep(c, actor="racer")
    if action == "pause":
        return action, lambda: tracker.pause(c, reason="waiting on the customer", actor="racer")
    if action == "resume":
        return action, lambda: tracker.resume(c, actor="racer")
    if action == "renegotiate":
        due = T0 + dt.timedelta(hours=rng.randint(1, 5000), microseconds=rng.randint(0, 999_999))
        return action, lambda: tracker.renegotiate(c, due=due, reason="agreed", actor="racer")
    owner = rng.choice([o for o in OWNERS if o != c.owner])
    return action, lambda: tracker.reassign(c, owner=owner, reason="rota", actor="racer")


def scenario7(url: str, sizes: dict[str, int], report: Report) -> None:
    procs, n, ops = sizes["s7_procs"], sizes["s7_commitments"], sizes["s7_ops"]
    label = f"7 ({procs}p, {n} c.)"
    with fresh_tables(url) as prefix:
        tracker, store = make_tracker(url, prefix, "shop")
        ids: list[str] = []
        for start in range(0, n, 200):
            items = [
                {
                    "customer": f"cust-{i % 13}",
                    "owner": OWNERS[i % len(OWNERS)],
                    "kind": "reply",
                    "what": f"Answer ticket {i}",
                    "due": T0 + dt.timedelta(days=2),
                    "external_ref": f"ticket-{i}",
                }
                for i in range(start, min(n, start + 200))
            ]
            ids.extend(c.id for c in tracker.promise_many(items))
        results, elapsed = run_workers(
            s7_worker, [(url, prefix, ids, ops, 1000 + s) for s in range(procs)]
        )
        crashed = [r["crashed"] for r in results if "crashed" in r]
        for text in crashed:
            report.note(f"7: worker crashed:\n{text}")
        results = [r for r in results if "crashed" not in r]
        final = {cid: tracker.get(cid) for cid in ids}
        store.close()
    counts: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    acked: dict[str, list[tuple[int, int, tuple[Any, ...]]]] = collections.defaultdict(list)
    for r in results:
        counts.update(r["counts"])
        errors.update(r["errors"])
        for sample in r["raw"]:
            report.note(f"7: raw driver error: {sample}")
        for cid, version, length, fp in r["acks"]:
            acked[cid].append((version, length, tuple(fp)))
    replay_diff = 0
    version_off = 0
    missing_acks = 0
    duplicate_versions = 0
    for cid, c in final.items():
        replayed = replay(c.history, version=c.version)
        if replayed != c:
            replay_diff += 1
            if replay_diff <= 3:
                fields = [
                    f"{f.name}: stored {getattr(c, f.name)!r:.80} != replayed "
                    f"{getattr(replayed, f.name)!r:.80}"
                    for f in attrs.fields(type(c))
                    if getattr(c, f.name) != getattr(replayed, f.name)
                ]
                report.note(f"7: {cid} differs from its replay: {'; '.join(fields)}")
        mine = acked.get(cid, [])
        if c.version != 1 + len(mine):
            version_off += 1
        versions = [v for v, _, _ in mine]
        duplicate_versions += len(versions) - len(set(versions))
        for _version, length, fp in mine:
            if length > len(c.history) or _fingerprint(c.history[length - 1]) != fp:
                missing_acks += 1
    attempts, successes, conflicts = counts["attempts"], counts["successes"], counts["conflicts"]
    other = sum(errors.values())
    losers_without_conflict = attempts - successes - conflicts - counts["noops"]
    report.check(label, "worker processes crashed", len(crashed), "= 0", not crashed)
    report.info(label, "change attempts (stale-object writes)", attempts)
    report.info(
        label,
        "attempts by action",
        {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("attempt:")},
    )
    report.info(label, "successful updates", successes)
    report.check(
        label, "ConflictErrors (lost races)", conflicts, "> 0 (race exercised)", conflicts > 0
    )
    report.check(
        label,
        "losers without ConflictError",
        losers_without_conflict,
        "= 0",
        losers_without_conflict == 0,
    )
    report.check(label, "other KeepwordErrors", dict(errors) or "none", "none", other == 0)
    report.check(label, "raw driver errors leaked", counts["raw"], "= 0", counts["raw"] == 0)
    report.check(
        label, "lost writes: state != replay(history)", replay_diff, "= 0", replay_diff == 0
    )
    report.check(
        label, "final version != 1 + successful updates", version_off, "= 0", version_off == 0
    )
    report.check(
        label, "acknowledged writes missing from history", missing_acks, "= 0", missing_acks == 0
    )
    report.check(
        label, "one version acknowledged twice", duplicate_versions, "= 0", duplicate_versions == 0
    )
    report.info(label, "attempts/s (all processes)", attempts / elapsed)


# --------------------------------------------------------------------------- scenario 16


class _NoOffset(dt.tzinfo):
    """A tzinfo whose utcoffset() is None: such a datetime is naive by Python's rules."""

    def utcoffset(self, _value: dt.datetime | None) -> None:
        return None

    def dst(self, _value: dt.datetime | None) -> None:
        return None

    def tzname(self, _value: dt.datetime | None) -> None:
        return None


class _NaiveClock:
    def __init__(self, value: dt.datetime) -> None:
        self.value = value

    def now(self) -> dt.datetime:
        return self.value


def _bad_times() -> list[tuple[str, Any]]:
    """(label, value) of values every time-taking call must refuse."""
    return [
        ("naive", dt.datetime(2026, 11, 24, 10, 0)),
        ("naive", dt.datetime(2026, 11, 30, 23, 59, 59, 999999)),
        ("naive", dt.datetime(2027, 3, 28, 2, 30)),  # a gap in Europe, still naive
        ("naive", dt.datetime(2027, 11, 7, 1, 30, fold=1)),  # a fold, still naive
        ("naive", dt.datetime(2026, 11, 24, 10, tzinfo=_NoOffset())),
        ("date", dt.date(2026, 11, 24)),
        ("date", dt.date(2027, 1, 1)),
    ]


def _good_times() -> list[tuple[str, dt.datetime]]:
    """(label, aware value) after T0 and before 2027-12-31."""
    fixed = dt.timezone
    return [
        ("+05:45", dt.datetime(2026, 11, 24, 9, 30, 0, 1, tzinfo=fixed(dt.timedelta(hours=5.75)))),
        ("-09:30", dt.datetime(2026, 11, 25, 17, 0, tzinfo=fixed(-dt.timedelta(hours=9.5)))),
        (
            "+14:00",
            dt.datetime(2026, 11, 26, 0, 0, 0, 999999, tzinfo=fixed(dt.timedelta(hours=14))),
        ),
        ("-12:00", dt.datetime(2026, 11, 27, 23, 59, tzinfo=fixed(-dt.timedelta(hours=12)))),
        ("+00:00:30", dt.datetime(2026, 11, 28, 12, tzinfo=fixed(dt.timedelta(seconds=30)))),
        (
            "pytz Asia/Kathmandu",
            pytz.timezone("Asia/Kathmandu").localize(dt.datetime(2026, 11, 24, 9, 0, 0, 7)),
        ),
        (
            "pytz America/St_Johns",
            pytz.timezone("America/St_Johns").localize(dt.datetime(2026, 11, 24, 9, 30)),
        ),
        (
            "pytz Australia/Lord_Howe",
            pytz.timezone("Australia/Lord_Howe").localize(dt.datetime(2026, 11, 25, 8, 15)),
        ),
        (
            "pytz Pacific/Chatham",
            pytz.timezone("Pacific/Chatham").localize(dt.datetime(2026, 11, 25, 10, 45)),
        ),
        (
            "pytz New_York fold is_dst=False",
            pytz.timezone("America/New_York").localize(
                dt.datetime(2027, 11, 7, 1, 30), is_dst=False
            ),
        ),
        (
            "pytz New_York fold is_dst=True",
            pytz.timezone("America/New_York").localize(
                dt.datetime(2027, 11, 7, 1, 30), is_dst=True
            ),
        ),
        (
            "pytz normalize(+1h)",
            pytz.timezone("Europe/Stockholm").normalize(
                pytz.timezone("Europe/Stockholm").localize(dt.datetime(2027, 3, 28, 1, 30))
                + dt.timedelta(hours=1)
            ),
        ),
        (
            "zoneinfo Pacific/Apia",
            dt.datetime(2026, 11, 24, 6, 0, tzinfo=zoneinfo.ZoneInfo("Pacific/Apia")),
        ),
    ]


def scenario16(url: str, report: Report) -> None:
    label = "16"
    tallies: collections.Counter[str] = collections.Counter()
    raw: list[str] = []
    wrong_error: list[str] = []
    partial: list[str] = []
    inexact: list[str] = []
    bad = _bad_times()
    good = _good_times()
    late = dt.datetime(2028, 1, 1, tzinfo=UTC)
    with fresh_tables(url) as prefix:
        clock = FrozenClock(T0)
        tracker, store = make_tracker(url, prefix, "shop", clock)
        n = 0

        def base(**extra: Any) -> Commitment:
            nonlocal n
            n += 1
            kw = {
                "customer": "c",
                "owner": "o",
                "kind": "k",
                "what": "w",
                "due": within(hours=48),
                "external_ref": f"base-{n}",
            }
            kw.update(extra)
            return tracker.promise(**kw)

        def refuse(call: str, kind: str, fn: Callable[[], Any]) -> None:
            """Call ``fn`` with a bad time: it must raise the right error and write nothing."""
            before = row_counts(store)
            tallies[f"{kind} attempts"] += 1
            try:
                fn()
            except NaiveDatetimeError:
                tallies[f"{kind} refused NaiveDatetimeError"] += 1
                if kind != "naive":
                    wrong_error.append(f"{call} {kind}: NaiveDatetimeError")
            except NotImplementedError as error:
                tallies[f"{kind} attempts"] -= 1
                tallies["not testable (stubbed store method)"] += 1
                report.note(f"16: {call} not testable: {error}")
            except KeepwordError as error:
                tallies[f"{kind} refused {_kind(error)}"] += 1
                if kind == "naive":
                    wrong_error.append(f"{call} naive: {_kind(error)}")
            except Exception as error:
                tallies["raw"] += 1
                raw.append(_raw_sample(error, call))
            else:
                tallies[f"{kind} ACCEPTED"] += 1
                wrong_error.append(f"{call} {kind}: accepted")
            if row_counts(store) != before:
                partial.append(f"{call} {kind}")

        def accept(call: str, fn: Callable[[], Any], check: Callable[[Any], bool]) -> None:
            tallies["aware attempts"] += 1
            try:
                result = fn()
            except KeepwordError as error:
                tallies[f"aware refused {_kind(error)}"] += 1
                inexact.append(f"{call}: refused {error}")
                return
            except Exception as error:
                tallies["raw"] += 1
                raw.append(_raw_sample(error, call))
                return
            if check(result):
                tallies["aware exact"] += 1
            else:
                inexact.append(call)

        def same_instant(stored: dt.datetime, given: dt.datetime) -> bool:
            return (
                stored == given
                and stored.utcoffset() == dt.timedelta(0)
                and stored.replace(tzinfo=None) == (given - given.utcoffset()).replace(tzinfo=None)
            )

        for kind, value in bad:
            refuse("promise(due=)", kind, lambda v=value: base(due=v))
            refuse(
                "promise_many([ok, due=])",
                kind,
                lambda v=value: tracker.promise_many(
                    [
                        {
                            "customer": "c",
                            "owner": "o",
                            "kind": "k",
                            "what": "ok",
                            "due": within(hours=1),
                            "external_ref": f"pm-ok-{uuid.uuid4().hex}",
                        },
                        {
                            "customer": "c",
                            "owner": "o",
                            "kind": "k",
                            "what": "bad",
                            "due": v,
                            "external_ref": f"pm-bad-{uuid.uuid4().hex}",
                        },
                    ]
                ),
            )
            open_c = base()
            paused = tracker.pause(base(), reason="waiting")
            refuse(
                "renegotiate(due=)", kind, lambda v=value, c=open_c: tracker.renegotiate(c, due=v)
            )
            refuse("keep(at=) open", kind, lambda v=value, c=open_c: tracker.keep(c, at=v))
            refuse("keep(at=) paused", kind, lambda v=value, c=paused: tracker.keep(c.id, at=v))
            refuse("due(until=)", kind, lambda v=value: tracker.due(until=v))
            refuse("find(due_before=)", kind, lambda v=value: tracker.find(due_before=v))
            refuse("find(due_after=)", kind, lambda v=value: tracker.count(due_after=v))
            if hasattr(tracker, "tick"):
                refuse("tick(now=)", kind, lambda v=value: tracker.tick(v))
            refuse("FrozenClock(at)", kind, lambda v=value: FrozenClock(v))
            refuse("FrozenClock.set()", kind, lambda v=value: FrozenClock(T0).set(v))
            if isinstance(value, dt.datetime):
                naive_tracker = Tracker(
                    store, calendar=CALENDAR, tenant="shop", clock=_NaiveClock(value)
                )
                refuse(
                    "promise() with naive clock",
                    kind,
                    lambda t=naive_tracker: t.promise(
                        customer="c", owner="o", kind="k", what="w", due=within(hours=1)
                    ),
                )
                refuse(
                    "keep() with naive clock", kind, lambda t=naive_tracker, c=paused: t.keep(c.id)
                )
                refuse(
                    "pause() with naive clock",
                    kind,
                    lambda t=naive_tracker, c=open_c: t.pause(c.id, reason="x"),
                )
        if tracker.clock.now() != T0:
            report.note("16: the tracker's clock moved during the bad-time calls")
        for name, value in good:
            accept(
                f"promise(due={name})",
                lambda v=value: base(due=v),
                lambda c, v=value: same_instant(tracker.get(c.id).due_at, v),
            )
            accept(
                f"renegotiate(due={name})",
                lambda v=value: tracker.renegotiate(base(), due=v),
                lambda c, v=value: same_instant(tracker.get(c.id).due_at, v),
            )
            accept(
                f"due(until={name})",
                lambda v=value: tracker.due(until=v),
                lambda found, v=value: all(c.due_at <= v for c in found),
            )
            if hasattr(tracker, "tick") and "claim_due" not in STUBBED:
                accept(f"tick(now={name})", lambda v=value: tracker.tick(v), lambda _r: True)
            accept(
                f"FrozenClock({name})",
                lambda v=value: FrozenClock(v).now(),
                lambda now, v=value: same_instant(now, v),
            )
        made = [(name, value, base()) for name, value in good]
        clock.set(late)
        for name, value, c in made:
            accept(
                f"keep(at={name})",
                lambda v=value, c=c: tracker.keep(c, at=v),
                lambda k, v=value: same_instant(tracker.get(k.id).kept_at, v),
            )
        store.close()
    naive_attempts = tallies["naive attempts"]
    naive_refused = tallies["naive refused NaiveDatetimeError"]
    date_attempts = tallies["date attempts"]
    date_refused = sum(v for k, v in tallies.items() if k.startswith("date refused"))
    report.check(
        label,
        "naive values refused (NaiveDatetimeError)",
        f"{naive_refused:,} / {naive_attempts:,}",
        "all",
        naive_refused == naive_attempts,
    )
    report.check(
        label,
        "date values refused (KeepwordError)",
        f"{date_refused:,} / {date_attempts:,}",
        "all",
        date_refused == date_attempts,
    )
    report.check(label, "wrong error or accepted", len(wrong_error), "= 0", not wrong_error)
    report.check(label, "partial writes after an error", len(partial), "= 0", not partial)
    report.check(label, "raw errors leaked", tallies["raw"], "= 0", tallies["raw"] == 0)
    report.check(
        label,
        "odd offsets / pytz accepted, instant exact",
        f"{tallies['aware exact']:,} / {tallies['aware attempts']:,}",
        "all",
        tallies["aware exact"] == tallies["aware attempts"],
    )
    for text in (wrong_error + partial + inexact)[:10]:
        report.note(f"16: {text}")
    for text in raw[:5]:
        report.note(f"16: raw error: {text}")


# --------------------------------------------------------------------------- scenario 17


def scenario17(url: str, sizes: dict[str, int], report: Report) -> None:
    n, alternations = sizes["s17_commitments"], sizes["s17_alternations"]
    label = "17"
    calls = 0
    not_found = 0
    leaked: list[str] = []
    raw: list[str] = []
    other: collections.Counter[str] = collections.Counter()
    reads_of_a = 0

    def payload(i: int) -> dict[str, Any]:
        return {
            "customer": f"cust-{i}",
            "owner": f"owner-{i}",
            "kind": "reply",
            "what": f"Reply to {i}",
            "due": within(hours=24 + i),
            "external_ref": f"ref-{i}",
        }

    with fresh_tables(url) as prefix:
        clock = FrozenClock(T0)
        a, store_a = make_tracker(url, prefix, "acme", clock)
        b, store_b = make_tracker(url, prefix, "bravo", clock)
        a_all = [a.promise(**payload(i)) for i in range(n)]
        a_only = [a.promise(**{**payload(i), "external_ref": f"a-only-{i}"}) for i in range(n)]
        a_all += a_only
        b_all = [b.promise(**payload(i)) for i in range(n)]
        a_ids = {c.id for c in a_all}
        before = tenant_rows(store_a, "acme")
        clock.set(T0 + dt.timedelta(hours=24 + n // 2))  # half of them overdue

        def expect_not_found(what: str, fn: Callable[[], Any]) -> None:
            nonlocal calls, not_found
            calls += 1
            try:
                result = fn()
            except NotFoundError:
                not_found += 1
            except KeepwordError as error:
                other[_kind(error)] += 1
                leaked.append(f"{what}: {_kind(error)}: {error}")
            except Exception as error:
                raw.append(_raw_sample(error, what))
            else:
                leaked.append(f"{what}: returned {result!r:.120}")

        def b_reads(what: str, result: Any) -> None:
            nonlocal reads_of_a
            items = result if isinstance(result, list) else [result]
            for c in items:
                if c.tenant != "bravo" or c.id in a_ids:
                    reads_of_a += 1
                    leaked.append(f"{what}: read {c.tenant}/{c.id}")

        for c in a_all:
            for ref in (c.id, c):
                kind = "id" if isinstance(ref, str) else "object"
                tries: list[tuple[str, Callable[[], Any]]] = [
                    ("get", lambda r=ref: b.get(r)),
                    ("explain", lambda r=ref: b.explain(r)),
                    ("keep", lambda r=ref: b.keep(r)),
                    ("fail", lambda r=ref: b.fail(r, reason="x")),
                    ("cancel", lambda r=ref: b.cancel(r)),
                    ("pause", lambda r=ref: b.pause(r, reason="x")),
                    ("resume", lambda r=ref: b.resume(r)),
                    ("renegotiate", lambda r=ref: b.renegotiate(r, due=within(hours=1))),
                    ("reassign", lambda r=ref: b.reassign(r, owner="mallory")),
                    ("retarget", lambda r=ref: b.retarget(r)),
                    ("mark_breached", lambda r=ref: b.mark_breached(r)),
                ]
                for name, fn in tries:
                    expect_not_found(f"B.{name}(A's {kind})", fn)
        for i in range(n):
            b_reads("find(external_ref)", b.find(external_ref=f"ref-{i}"))
            b_reads("find(a-only ref)", b.find(external_ref=f"a-only-{i}"))
            b_reads("find(customer)", b.find(customer=f"cust-{i}"))
            b_reads("find(owner)", b.find(owner=f"owner-{i}"))
            b_reads("promise(same ref)", b.promise(**payload(i)))
        b_reads("find()", b.find())
        b_reads("due()", b.due())
        b_reads("overdue()", b.overdue())
        if b.count() != n:
            leaked.append(f"B.count() = {b.count()} (B has {n})")
        # B promising a ref only A has makes B's own commitment, never hands out A's.
        new_b = b.promise(**{**payload(0), "external_ref": "a-only-0"})
        b_reads("promise(A-only ref)", new_b)
        changed = tenant_rows(store_a, "acme") != before
        store_a.close()
        store_b.close()

        # One pooled connection shared by both tenants, alternating.
        engine_url = sa.make_url(url)
        if engine_url.get_backend_name() in ("mysql", "mariadb"):
            engine_url = engine_url.update_query_dict({"charset": "utf8mb4"})
        engine = sa.create_engine(engine_url, pool_size=1, max_overflow=0)
        shared = StressStore(engine, table_prefix=prefix)
        trackers = {
            "acme": Tracker(shared, calendar=CALENDAR, tenant="acme", clock=clock),
            "bravo": Tracker(shared, calendar=CALENDAR, tenant="bravo", clock=clock),
        }
        own = {"acme": [c.id for c in a_all[:n]], "bravo": [c.id for c in b_all]}
        cross_reads = 0
        pooled_other: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()
        for step in range(alternations):
            tenant = ("acme", "bravo")[step % 2]
            them = "bravo" if tenant == "acme" else "acme"
            t = trackers[tenant]
            i = (step // 2) % n
            op = (step // 2) % 5
            try:
                if op == 0:
                    got = [t.get(own[tenant][i])]
                elif op == 1:
                    try:
                        got = [t.get(own[them][i])]
                    except NotFoundError:
                        got = []
                elif op == 2:
                    got = t.find(external_ref=f"ref-{i}")
                    if len(got) != 1:
                        cross_reads += 1
                elif op == 3:
                    got = t.find(customer=f"cust-{i}", limit=5)
                else:
                    got = [t.promise(**payload(i))]
                    if got[0].id != own[tenant][i]:
                        cross_reads += 1
            except KeepwordError as error:
                pooled_other[_kind(error)] += 1
                continue
            except Exception as error:
                raw.append(_raw_sample(error, f"pooled op {op}"))
                continue
            cross_reads += sum(1 for c in got if c.tenant != tenant or c.id in own[them])
        pooled_elapsed = time.perf_counter() - started
        pool_size = engine.pool.size()  # type: ignore[attr-defined]
        checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
        shared.close()
        engine.dispose()
    report.check(
        label,
        "B calls with A's ids/objects -> NotFoundError",
        f"{not_found:,} / {calls:,}",
        "all",
        not_found == calls,
    )
    report.check(label, "rows of A read by B", reads_of_a, "= 0", reads_of_a == 0)
    report.check(label, "rows of A changed by B", int(changed), "= 0", not changed)
    report.check(label, "other outcomes (leaks, wrong errors)", len(leaked), "= 0", not leaked)
    report.check(label, "raw driver errors leaked", len(raw), "= 0", not raw)
    report.check(
        label,
        f"pooled conn. (size {pool_size}): cross-tenant reads",
        f"{cross_reads:,} in {alternations:,} alternations",
        "= 0",
        cross_reads == 0,
    )
    report.check(
        label, "pooled: KeepwordErrors", dict(pooled_other) or "none", "none", not pooled_other
    )
    report.check(
        label, "pooled: connections still checked out", checked_out, "= 0", checked_out == 0
    )
    report.info(label, "pooled alternations/s", alternations / pooled_elapsed)
    for text in (leaked + raw)[:10]:
        report.note(f"17: {text}")


# --------------------------------------------------------------------------- scenario 18

HOSTILE: list[tuple[str, str]] = [
    ("quote", "'"),
    ("double quote", '"'),
    ("sql injection", "x'; DROP TABLE kws_commitments; --"),
    ("or 1=1", '" OR "1"="1'),
    ("bobby", "Robert'); DROP TABLE students;--"),
    ("percent", "100%"),
    ("pyformat", "%s %(id)s %%"),
    ("like wildcards", "a_b%c"),
    ("backslash", "C:\\new\\table\\"),
    ("escaped quote", "\\'"),
    ("backtick", "`id`"),
    ("placeholders", "? :name $1"),
    ("comments", "/* x */ -- y #z"),
    ("semicolon", ";"),
    ("crlf tab", "a\r\nb\tc"),
    ("trailing space", "alice "),
    ("leading space", " alice"),
    ("plain", "alice"),
    ("upper", "ALICE"),
    ("cyrillic a", "\u0430lice"),
    ("latin alpha", "\u0251lice"),
    ("fullwidth", "\uff41\uff4c\uff49\uff43\uff45"),
    ("nfc e-acute", "caf\u00e9"),
    ("nfd e-acute", "cafe\u0301"),
    ("sharp s", "stra\u00dfe"),
    ("ss", "strasse"),
    ("dotted I", "\u0130stanbul"),
    ("zero width space", "al\u200bice"),
    ("rtl override", "\u202eecila"),
    ("nbsp", "alice\u00a0"),
    ("control chars", "\x01\x1b[31mred\x7f"),
    ("emoji", "\U0001f642"),
    ("zwj family", "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"),
    ("flag", "\U0001f1f8\U0001f1ea"),
    ("math fraktur", "\U0001d518\U0001d52b\U0001d526"),
    ("max code point", "\U0010ffff"),
    ("255 chars", "y" * 255),
    ("255 emoji", "\U0001f642" * 255),
    ("256 chars", "z" * 256),
    ("10 kB ascii", "x" * 10_240),
    ("10 kB 2-byte", "\u00e9" * 5_120),
    ("10 kB emoji", "\U0001f600" * 2_560),
    ("empty", ""),
    ("whitespace", "  "),
    ("NUL inside", "a\x00b"),
    ("NUL alone", "\x00"),
    ("lone surrogate", "a\ud800b"),
]

QUICK_HOSTILE = {
    "sql injection",
    "pyformat",
    "backslash",
    "trailing space",
    "cyrillic a",
    "nfd e-acute",
    "zwj family",
    "255 emoji",
    "256 chars",
    "10 kB emoji",
    "empty",
    "NUL inside",
    "lone surrogate",
}
"""The strings a ``--quick`` run tries (a full run tries every one of HOSTILE)."""

IDENTIFIER_FIELDS = (
    "tenant",
    "customer",
    "owner",
    "kind",
    "external_ref",
    "waiting_for",
    "tags",
    "actor",
    "reassign.owner",
)
TEXT_FIELDS = (
    "what",
    "terms",
    "pause.reason",
    "fail.reason",
    "cancel.reason",
    "renegotiate.reason",
    "reassign.reason",
)
REQUIRED_REASON = ("pause.reason", "fail.reason")

BAD_PREFIXES: list[Any] = [
    "kw-",
    "kw;DROP TABLE x;--",
    "\U0001f642_",
    "kw\U0001f642_",
    "",
    "1kw_",
    "a" * 32,
    "kw _",
    "kw\x00_",
    "kw'_",
    'kw"_',
    "\uff4b\uff57_",
    "kw.x_",
    "k\u0430_",
    "kw\n",
    None,
    7,
    b"kw_",
]
GOOD_PREFIXES = ["_", "A" * 31, "kw_Z9_"]


def _expected_refusal(field: str, value: str) -> bool:
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return True
    if field in IDENTIFIER_FIELDS and (not value or len(value) > 255):
        return True
    return field in REQUIRED_REASON and not value.strip()


def _names_field(error: KeepwordError, field: str) -> bool:
    name = field.rsplit(".", 1)[-1]
    return (error.argument or "").startswith(name) or str(error).startswith(name)


def _exact(stored: Any, given: str) -> bool:
    return (
        type(stored) is str and stored == given and stored.encode("utf-8") == given.encode("utf-8")
    )


def scenario18(url: str, report: Report, *, quick: bool = False) -> None:
    label = "18"
    strings = [(n, v) for n, v in HOSTILE if not quick or n in QUICK_HOSTILE]
    attempts = accepted = exact = refused_ok = 0
    nul_refused = nul_attempts = 0
    problems: list[str] = []
    raw: list[str] = []
    partial: list[str] = []
    with fresh_tables(url) as prefix:
        clock = FrozenClock(T0)
        tracker, store = make_tracker(url, prefix, "t18", clock)
        reader, reader_store = make_tracker(url, prefix, "t18", clock)  # a second engine
        serial = 0

        def promise(t: Tracker = tracker, **extra: Any) -> Commitment:
            nonlocal serial
            serial += 1
            kw: dict[str, Any] = {
                "customer": "cust",
                "owner": "owner",
                "kind": "kind",
                "what": f"what {serial}",
                "due": within(hours=24),
                "external_ref": f"r18-{serial}",
            }
            kw.update(extra)
            return t.promise(**kw)

        def run(field: str, value: str) -> tuple[Callable[[], Any], Callable[[Any], list[Any]]]:
            """The call putting ``value`` in ``field`` and how to read back what was stored."""
            if field == "tenant":

                def call() -> Any:
                    t = Tracker(store, calendar=CALENDAR, tenant=value, clock=clock)
                    return promise(t)

                def back(c: Commitment) -> list[Any]:
                    r = Tracker(reader_store, calendar=CALENDAR, tenant=value, clock=clock)
                    got = r.get(c.id)
                    found = r.find(external_ref=c.external_ref)
                    return [got.tenant, *(x.tenant for x in found), len(found) == 1]

                return call, back
            if field in ("customer", "owner", "kind", "external_ref", "waiting_for"):

                def back(c: Commitment) -> list[Any]:
                    got = reader.get(c.id)
                    stored = [getattr(got, field), got.history[0].data[field]]
                    found = reader.find(**{field: value})
                    return [*stored, [x.id for x in found] == [c.id]]

                return (lambda: promise(**{field: value})), back
            if field == "tags":
                return (lambda: promise(tags=[value])), (
                    lambda c: [*reader.get(c.id).tags, len(reader.get(c.id).tags) == 1]
                )
            if field == "actor":
                return (lambda: promise(actor=value)), (
                    lambda c: [reader.get(c.id).history[0].actor]
                )
            if field == "what":
                return (lambda: promise(what=value)), (lambda c: [reader.get(c.id).what])
            if field == "terms":
                terms = {value: value, "nested": [value, {"k": value}]}

                def back(c: Commitment) -> list[Any]:
                    got = thaw_json(reader.get(c.id).terms)
                    return [
                        *got.keys() - {"nested"},
                        got.get(value),
                        got["nested"][0],
                        got["nested"][1]["k"],
                        got == terms,
                    ]

                return (lambda: promise(terms=terms)), back
            action, arg = field.split(".")
            c0 = promise()
            calls: dict[str, Callable[[], Any]] = {
                "pause": lambda: tracker.pause(c0, reason=value),
                "fail": lambda: tracker.fail(c0, reason=value),
                "cancel": lambda: tracker.cancel(c0, reason=value),
                "renegotiate": lambda: tracker.renegotiate(c0, due=within(hours=48), reason=value),
                "reassign": (
                    (lambda: tracker.reassign(c0, owner=value))
                    if arg == "owner"
                    else (lambda: tracker.reassign(c0, owner="someone-else", reason=value))
                ),
            }

            def back(c: Commitment) -> list[Any]:
                got = reader.get(c.id)
                last = got.history[-1].data[arg]
                return [last, got.owner] if arg == "owner" else [last]

            return calls[action], back

        for field in IDENTIFIER_FIELDS + TEXT_FIELDS:
            for name, value in strings:
                attempts += 1
                expect_refusal = _expected_refusal(field, value)
                has_nul = "\x00" in value
                nul_attempts += has_nul
                call, back = run(field, value)
                # Row counts only around the calls meant to fail (any other refusal
                # is reported as a problem anyway); it halves the run time.
                before = row_counts(store) if expect_refusal else None
                try:
                    result = call()
                except KeepwordError as error:
                    if not expect_refusal:
                        problems.append(f"{field}={name}: refused: {error}")
                    elif not _names_field(error, field):
                        problems.append(f"{field}={name}: error does not name it: {error}")
                    else:
                        refused_ok += 1
                        nul_refused += has_nul
                    if before is not None and row_counts(store) != before:
                        partial.append(f"{field}={name}")
                    continue
                except Exception as error:
                    raw.append(_raw_sample(error, f"{field}={name}"))
                    continue
                accepted += 1
                if expect_refusal:
                    problems.append(f"{field}={name}: accepted, should be refused")
                    continue
                try:
                    values = back(result)
                except Exception as error:
                    raw.append(_raw_sample(error, f"read back {field}={name}"))
                    continue
                if all(v is True if isinstance(v, bool) else _exact(v, value) for v in values):
                    exact += 1
                else:
                    shown = [v if isinstance(v, bool) else ascii(v)[:60] for v in values]
                    problems.append(f"{field}={name}: read back {shown}")
        reader_store.close()
        store.close()

        # table_prefix
        prefix_refused = 0
        prefix_ok = 0
        for bad in BAD_PREFIXES:
            try:
                s = SqlStore(url, table_prefix=bad)
            except InvalidArgumentError as error:
                if error.argument == "table_prefix":
                    prefix_refused += 1
                else:
                    problems.append(f"table_prefix={bad!r}: names {error.argument!r}")
            except Exception as error:
                raw.append(_raw_sample(error, f"table_prefix={bad!r}"))
            else:
                s.close()
                problems.append(f"table_prefix={bad!r}: accepted")
        for good in GOOD_PREFIXES:
            s = StressStore(url, table_prefix=good)
            try:
                s.drop_schema()  # left over from an interrupted run?
                s.create_schema()
                t = Tracker(s, calendar=CALENDAR, tenant="\U0001f642", clock=clock)
                c = t.promise(
                    customer="\U0001f642",
                    owner="o",
                    kind="k",
                    what="\U0001f642",
                    due=within(hours=1),
                )
                if t.get(c.id).what == "\U0001f642":
                    prefix_ok += 1
            except Exception as error:
                problems.append(f"good table_prefix={good!r}: {_kind(error)}: {error}")
            finally:
                s.drop_schema()
                s.close()
    expected_ok = attempts - sum(
        _expected_refusal(f, v) for f in IDENTIFIER_FIELDS + TEXT_FIELDS for _, v in strings
    )
    report.info(label, "field x string attempts", attempts)
    report.check(label, "raw driver errors leaked", len(raw), "= 0", not raw)
    report.check(
        label,
        "byte-exact round trips of accepted strings",
        f"{exact:,} / {accepted:,} ({100 * exact / max(1, accepted):.1f} %)",
        f"100 % of {expected_ok:,}",
        exact == accepted == expected_ok,
    )
    report.check(
        label,
        "refused with KeepwordError naming the field",
        f"{refused_ok:,} / {attempts - expected_ok:,}",
        "all expected",
        refused_ok == attempts - expected_ok,
    )
    report.check(
        label,
        "NUL-byte values refused",
        f"{nul_refused:,} / {nul_attempts:,}",
        "all",
        nul_refused == nul_attempts,
    )
    report.check(label, "partial writes after a refusal", len(partial), "= 0", not partial)
    report.check(
        label, "other problems (wrong refusal, inexact)", len(problems), "= 0", not problems
    )
    report.check(
        label,
        "bad table_prefix refused (InvalidArgumentError)",
        f"{prefix_refused} / {len(BAD_PREFIXES)}",
        "all",
        prefix_refused == len(BAD_PREFIXES),
    )
    report.check(
        label,
        "good table_prefix usable",
        f"{prefix_ok} / {len(GOOD_PREFIXES)}",
        "all",
        prefix_ok == len(GOOD_PREFIXES),
    )
    for text in (problems + partial)[:15]:
        report.note(f"18: {text}")
    for text in raw[:10]:
        report.note(f"18: raw error: {text}")


# --------------------------------------------------------------------------- main

SCENARIOS = ("6", "7", "16", "17", "18")


def run_backend(
    backend: str, args: argparse.Namespace, sizes: dict[str, int], tmpdir: str
) -> Report:
    report = Report(backend)
    url = backend_url(backend, args, tmpdir)
    try:
        version = server_version(url)
    except Exception as error:
        report.check("-", "database reachable", _kind(error), "yes", False)
        report.note(f"{backend}: {str(error)[:300]}")
        return report
    report.info("-", "database", version)
    if STUBBED:
        report.note(
            "SqlStore lacks Store method(s) " + ", ".join(STUBBED) + ": this run stubbed them "
            "(NotImplementedError) so Tracker accepts the store; no scenario here calls them"
        )
    wanted = set(args.scenarios.split(",")) if args.scenarios else set(SCENARIOS)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("6", lambda: scenario6(url, sizes, report)),
        ("7", lambda: scenario7(url, sizes, report)),
        ("16", lambda: scenario16(url, report)),
        ("17", lambda: scenario17(url, sizes, report)),
        ("18", lambda: scenario18(url, report, quick=args.quick)),
    ]
    for name, step in steps:
        if name not in wanted:
            continue
        started = time.perf_counter()
        try:
            step()
        except Exception as error:
            report.check(
                name, "scenario ran to the end", f"{_kind(error)}: {error}"[:200], "yes", False
            )
            report.note(f"{name}: {traceback.format_exc()}")
        report.info(name, "scenario wall time (s)", time.perf_counter() - started)
        print(
            f"  [{backend}] scenario {name} done in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--scenarios", help="comma-separated subset of 6,7,16,17,18")
    parser.add_argument("--postgresql-url", dest="postgresql_url")
    parser.add_argument("--mariadb-url", dest="mariadb_url")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    for key in FULL:
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in FULL:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    print(
        f"keepword stress_store: {', '.join(backends)}; "
        f"{'quick' if args.quick else 'full'} sizes {sizes}; "
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}; load average at start "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    reports: list[Report] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="keepword-stress-") as tmpdir:
        for backend in backends:
            report = run_backend(backend, args, sizes, tmpdir)
            reports.append(report)
            print(f"\n== {backend} ==\n{report.render()}", flush=True)
    failed = sum(r.failed for r in reports)
    print(
        f"\n{'FAIL' if failed else 'PASS'}: {failed} failed check(s) on "
        f"{', '.join(backends)} in {time.perf_counter() - started:.0f} s "
        f"(load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        "other processes on the machine change every rate)",
        flush=True,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "sizes": sizes,
                    "nproc": os.cpu_count(),
                    "python": platform.python_version(),
                    "loadavg_end": os.getloadavg(),
                    "reports": [r.to_json() for r in reports],
                },
                fh,
                indent=2,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
