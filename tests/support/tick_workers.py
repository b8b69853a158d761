"""Process entry points and checks for the tick and outbox scenarios (RELIABILITY.md 1-5, 9-10).

Used by ``tests/test_tick_processes.py`` (small sizes), ``tests/test_tick_poison.py``
(one poisoned commitment among many), ``benchmarks/stress_tick.py`` (full size) and
``benchmarks/tick.py`` (throughput).  Everything here is importable by a
process started with the ``spawn`` method: the entry points take one plain
``dict`` (the *spec*) and write one JSON result file, so a worker killed with
``SIGKILL`` leaves no half-written queue behind, only a missing result.

Named crash points (``spec["kill"] = {"point": ..., "after": n}``: the worker
kills itself with ``SIGKILL`` the n-th time it reaches the point):

- ``after_claim``: ``SqlStore.claim_due`` returned a non-empty claim (committed);
- ``before_commit``: inside ``SqlStore.fire_many``'s transaction, after the
  notices were written (``INSERT``, or ``COPY`` on PostgreSQL), just before
  ``COMMIT`` (an engine ``commit`` event hook);
- ``after_commit``: ``SqlStore.fire_many`` returned (its transaction committed).

Outbox consumers have ``after_claim`` (claimed, nothing delivered) and
``after_deliver`` (delivered, not acknowledged).

``spec["freeze"] = {"after": n, "flag": path}`` makes a worker stop itself with
``SIGSTOP`` right after its n-th non-empty claim (writing ``flag`` first); the
parent resumes it with ``SIGCONT`` once its lease has long expired.
``spec["after_file"] = path`` holds a worker at the start until ``path`` exists
(the others wait for the frozen worker's flag, so it always has a batch).

``spec["broken"] = True`` swaps in a deliberately broken claim and fire (no
claim at all, notices written outside the state change under fresh keys) to
prove the checks catch duplicates.

The hooks behind ``kill``, ``freeze``, ``record_claims`` and ``broken`` live in
:mod:`tests.support.tick_hooks`.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import signal
import time
import traceback
import uuid
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from keepword import (
    BusinessCalendar,
    EscalationPolicy,
    FrozenClock,
    KeepwordError,
    PolicySet,
    Step,
    Tracker,
    after_due,
    at_due,
    before_due,
)
from keepword.commitment import Commitment
from keepword.ports import Query
from keepword.stores.sql import SqlStore
from keepword.transitions import firings
from tests.support.tick_hooks import (
    ClaimLog,
    Freeze,
    HitCounter,
    die,
    install_broken,
    install_kill,
)
from tests.support.tick_hooks import write_json as _write_json

UTC = dt.UTC
TENANT = "shop-7"
#: Monday 2026-11-23 15:00 UTC: the deadlines of the standard workload fall in the next hour.
BASE = dt.datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MADE_AT = BASE - dt.timedelta(days=1)
#: Worker clock phases: every before_due step is due at the first, every at_due at the
#: second, every after_due at the third (even for a clock 10 minutes slow).
PHASES = (BASE, BASE + dt.timedelta(hours=1), BASE + dt.timedelta(hours=6))
FINAL = PHASES[-1]
CALENDAR = BusinessCalendar.always_open("UTC")
STANDARD = EscalationPolicy(
    "standard",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=4), notify="director"),
    ],
)
KILL_POINTS = ("after_claim", "before_commit", "after_commit")
CONSUMER_KILL_POINTS = ("after_claim", "after_deliver")


def iso(t: dt.datetime) -> str:
    """``t`` as ISO 8601 text (how specs carry instants to the workers)."""
    return t.isoformat()


def parse(text: str) -> dt.datetime:
    """The instant :func:`iso` wrote."""
    return dt.datetime.fromisoformat(text)


def make_tracker(
    url: str,
    prefix: str,
    *,
    clock: FrozenClock | None = None,
    lease: float = 60.0,
    policy: EscalationPolicy = STANDARD,
    calendar: BusinessCalendar = CALENDAR,
) -> tuple[Tracker, SqlStore]:
    """A tracker on a fresh ``SqlStore`` over ``url``/``prefix``."""
    store = SqlStore(url, table_prefix=prefix)
    tracker = Tracker(
        store,
        calendar=calendar,
        tenant=TENANT,
        clock=clock or FrozenClock(MADE_AT),
        policies=PolicySet([policy]),
        lease=dt.timedelta(seconds=lease),
    )
    return tracker, store


def seed(url: str, prefix: str, n: int, *, chunk: int = 1000) -> None:
    """``n`` commitments under the standard policy, due in the hour after :data:`BASE`."""
    tracker, store = make_tracker(url, prefix, clock=FrozenClock(MADE_AT))
    try:
        for start in range(0, n, chunk):
            tracker.promise_many(
                {
                    "customer": f"cust-{i % 97}",
                    "owner": "alice",
                    "kind": "reply",
                    "what": f"Reply to message {i}",
                    "due": BASE + dt.timedelta(minutes=i % 60, microseconds=i),
                }
                for i in range(start, min(n, start + chunk))
            )
    finally:
        store.close()


def analyze(store: SqlStore, prefix: str) -> None:
    """``VACUUM ANALYZE`` freshly loaded tables on PostgreSQL, as a live database's are.

    PostgreSQL plans from table statistics, which autovacuum keeps (it is off
    on this machine's server).  A table filled since its last ``ANALYZE`` is
    planned as if nearly empty: the claim query and ``next_action_at`` then
    read every open commitment of the tenant and sort them, instead of
    stopping after ``limit`` rows of the ``(tenant, next_action_at, id)``
    index.  SQLite and MariaDB need nothing here.
    """
    if store.engine.dialect.name != "postgresql":
        return
    with store.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("commitments", "events", "notices"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {prefix}{table}")


# --------------------------------------------------------------------------- entry points


def _wait_for_go(spec: dict[str, Any]) -> None:
    ready, go = spec.get("ready"), spec.get("go")
    if ready:
        Path(ready).touch()
    limit = time.time() + 300
    for path in (go, spec.get("after_file")):
        while path and not os.path.exists(path) and time.time() < limit:
            time.sleep(0.005)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__name__}: {str(error)[:300]}"


def tick_worker(spec: dict[str, Any]) -> None:
    """Tick through ``spec["phases"]`` (clock instants, shifted by ``offset_s``) until done.

    In each phase: tick until a tick fires nothing and nothing is due at this
    worker's "now" (rows claimed by others count as due: wait for them).
    Writes ``spec["out"]`` with counts, error samples and (optionally) claims.
    """
    result: dict[str, Any] = {"name": spec.get("name"), "pid": os.getpid()}
    try:
        _tick_worker(spec, result)
    except BaseException:
        result["crashed"] = traceback.format_exc()
    _write_json(spec["out"], result)


def _tick_worker(spec: dict[str, Any], result: dict[str, Any]) -> None:
    url, prefix = spec["url"], spec["prefix"]
    clock = FrozenClock(MADE_AT)
    tracker, store = make_tracker(url, prefix, clock=clock, lease=spec.get("lease", 60.0))
    if spec.get("broken"):
        install_broken(store, prefix)
    kill = spec.get("kill")
    if kill:
        install_kill(store, prefix, kill["point"], kill["after"])
    freeze = (
        Freeze(store, spec["freeze"]["after"], spec["freeze"]["flag"])
        if spec.get("freeze")
        else None
    )
    claims = ClaimLog(store) if spec.get("record_claims") else None
    offset = dt.timedelta(seconds=spec.get("offset_s", 0.0))
    limit, poll = spec.get("limit", 20), spec.get("poll", 0.02)
    deadline = time.time() + spec.get("budget_s", 600)
    tracker.count()  # connect before the start
    _wait_for_go(spec)
    counts: collections.Counter[str] = collections.Counter()
    keepword_errors: list[str] = []
    raw_errors: list[str] = []
    started = time.time()
    try:
        for phase in spec.get("phases", [iso(p) for p in PHASES]):
            now = clock.set(parse(phase) + offset)
            while True:
                if time.time() > deadline:
                    result["timed_out"] = True
                    break
                try:
                    report = tracker.tick(limit=limit)
                except KeepwordError as error:
                    counts["keepword_errors"] += 1
                    if len(keepword_errors) < 5:
                        keepword_errors.append(_error_text(error))
                    time.sleep(poll)
                    continue
                except Exception as error:
                    counts["raw_errors"] += 1
                    if len(raw_errors) < 5:
                        raw_errors.append(_error_text(error))
                    time.sleep(poll)
                    continue
                counts["ticks"] += 1
                counts["fired"] += report.fired
                counts["late"] += report.late
                counts["conflicts"] += report.conflicts
                counts["commitments"] += report.commitments
                counts["set_aside"] += report.set_aside
                counts["set_aside_errors"] += report.errors
                if report.fired or report.more:
                    continue
                wake = tracker.next_wakeup()
                if wake is None or wake > now:
                    break
                counts["idle_polls"] += 1
                time.sleep(poll)
            if result.get("timed_out"):
                break
    finally:
        result["elapsed"] = time.time() - started
        store.close()
    result.update(counts=dict(counts), keepword_errors=keepword_errors, raw_errors=raw_errors)
    if freeze is not None:
        result["freeze"] = {
            "batch": len(freeze.batch),
            "stale_accepted": freeze.accepted,
            "stale_rejected": freeze.rejected,
            "frozen_s": (freeze.resumed_at or 0) - (freeze.frozen_at or 0),
        }
    if claims is not None:
        result["claims"] = claims.claims
        result["released"] = claims.released


def consume_worker(spec: dict[str, Any]) -> None:
    """Drain the outbox with ``claim_notices``/``ack_notices``, logging every step to a file.

    The log (JSON lines, appended with ``os.write`` so a ``SIGKILL`` loses
    nothing already logged) records each claim with the time its call started,
    each delivery, and each acknowledgement that took the whole batch.
    """
    url, prefix = spec["url"], spec["prefix"]
    tracker, store = make_tracker(url, prefix, clock=FrozenClock(FINAL))
    lease = dt.timedelta(seconds=spec.get("lease", 1.0))
    kill = spec.get("kill") or {}
    counter = HitCounter(kill.get("after", 0))
    fd = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    notices = store.metadata.tables[f"{prefix}notices"]
    deadline = time.time() + spec.get("budget_s", 300)
    result: dict[str, Any] = {"name": spec.get("name"), "errors": []}

    def log(**entry: Any) -> None:
        os.write(fd, (json.dumps(entry) + "\n").encode())

    try:
        tracker.count()
        _wait_for_go(spec)
        while time.time() < deadline:
            t0 = time.time()
            try:
                token, batch = tracker.claim_notices(spec.get("limit", 10), lease=lease)
            except Exception as error:
                result["errors"].append(_error_text(error))
                time.sleep(0.05)
                continue
            if not batch:
                with store.engine.connect() as conn:
                    left = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(notices)
                        .where(notices.c.tenant == TENANT, notices.c.state != "acked")
                    ).scalar_one()
                if left == 0:
                    break
                time.sleep(spec.get("poll", 0.05))
                continue
            log(e="claim", t0=t0, token=token, ids=[n.id for n in batch])
            if kill.get("point") == "after_claim" and counter.hit():
                die()
            for n in batch:
                log(e="deliver", id=n.id, key=n.idempotency_key, t=time.time())
            if kill.get("point") == "after_deliver" and counter.hit():
                die()
            try:
                acked = tracker.ack_notices([n.id for n in batch], token)
            except Exception as error:
                result["errors"].append(_error_text(error))
                continue
            t1 = time.time()
            log(e="ack", t=t1, n=acked, ids=[n.id for n in batch] if acked == len(batch) else [])
    finally:
        os.close(fd)
        store.close()
    _write_json(spec["out"], result)


# --------------------------------------------------------------------------- the parent side


def wait_all(procs: Iterable[Any], timeout: float) -> None:
    """Join ``procs`` within ``timeout`` seconds in all; kill those still running."""
    limit = time.time() + timeout
    for p in procs:
        p.join(max(0.0, limit - time.time()))
        if p.is_alive():
            p.kill()
            p.join(5)


def read_json(path: str) -> dict[str, Any] | None:
    """The JSON object in ``path``, or ``None`` if it is missing or half-written."""
    try:
        with open(path) as f:
            return json.load(f)  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


class _Fleet:
    """The processes of one :func:`run_fleet` call, and what became of each."""

    def __init__(
        self,
        ctx: Any,
        target: Callable[[dict[str, Any]], None],
        kill_plan: list[dict[str, Any]],
        workdir: str,
    ) -> None:
        self.ctx, self.target, self.workdir = ctx, target, workdir
        self.plan = list(kill_plan)
        self.go = os.path.join(workdir, f"go-{uuid.uuid4().hex[:6]}")
        self.seq = 0
        self.results: list[dict[str, Any]] = []
        self.killed: collections.Counter[str] = collections.Counter()
        self.unreached: list[str] = []
        self.abnormal: list[str] = []
        self.specs: list[dict[str, Any]] = []

    def start(self, spec: dict[str, Any], *, first: bool) -> tuple[Any, dict[str, Any]]:
        """Start one process for ``spec``, with the next planned kill, if any."""
        self.seq += 1
        spec = dict(spec)
        spec["name"] = f"{spec.get('group', 'w')}-{self.seq}"
        spec["out"] = os.path.join(self.workdir, f"{spec['name']}.json")
        if "log" in spec:
            spec["log"] = os.path.join(self.workdir, f"{spec['name']}.log")
        spec["kill"] = self.plan.pop(0) if self.plan and not spec.get("freeze") else None
        spec.pop("ready", None)
        spec.pop("go", None)
        if first:
            spec["ready"] = os.path.join(self.workdir, f"{spec['name']}.ready")
            spec["go"] = self.go
        p = self.ctx.Process(target=self.target, args=(spec,))
        p.start()
        return p, spec

    def release(self, live: list[tuple[Any, dict[str, Any]]]) -> None:
        """Let the first processes go together, once each is ready (or one died)."""
        limit = time.time() + 300
        while time.time() < limit and not all(os.path.exists(s["ready"]) for _, s in live):
            if any(not p.is_alive() for p, _ in live):
                break
            time.sleep(0.01)
        Path(self.go).touch()

    def reap(self, p: Any, spec: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        """Record a finished process; start its replacement if it died at a planned kill."""
        p.join()
        self.specs.append(spec)
        if p.exitcode == -signal.SIGKILL and spec.get("kill"):
            self.killed[spec["kill"]["point"]] += 1
            return self.start(spec, first=False)
        if p.exitcode != 0:
            self.abnormal.append(f"{spec['name']} exited with {p.exitcode}")
        if spec.get("kill"):
            self.unreached.append(spec["kill"]["point"])
        data = read_json(spec["out"])
        if data is None:
            self.abnormal.append(f"{spec['name']} wrote no result")
        else:
            self.results.append(data)
        return None


def run_fleet(
    ctx: Any,
    target: Callable[[dict[str, Any]], None],
    base_specs: list[dict[str, Any]],
    kill_plan: list[dict[str, Any]],
    workdir: str,
    *,
    timeout: float = 600,
    monitor: Callable[[list[tuple[Any, dict[str, Any]]]], None] | None = None,
) -> dict[str, Any]:
    """Run one process per base spec; while ``kill_plan`` lasts, replace each killed one.

    The first processes start together (a go file).  Each start takes the next
    planned kill, if any.  A process that dies by ``SIGKILL`` is replaced by a
    fresh one (new pid, new worker id).  ``monitor`` is called with the live
    processes every 20 ms.  Returns the results, how many were killed at each
    point, planned kills not reached (the process finished first) and other
    abnormal exits.
    """
    fleet = _Fleet(ctx, target, kill_plan, workdir)
    live: list[tuple[Any, dict[str, Any]]] = []
    try:
        live = [fleet.start(spec, first=True) for spec in base_specs]
        fleet.release(live)
        deadline = time.time() + timeout
        while live:
            if time.time() > deadline:
                for p, _ in live:
                    p.kill()
                    p.join(5)
                fleet.abnormal.append(f"{len(live)} process(es) still running at the timeout")
                break
            if monitor is not None:
                monitor(live)
            still: list[tuple[Any, dict[str, Any]]] = []
            for p, spec in live:
                replacement = (p, spec) if p.is_alive() else fleet.reap(p, spec)
                if replacement is not None:
                    still.append(replacement)
            live = still
            time.sleep(0.02)
    finally:  # the parent was interrupted: take the workers down with it
        for p, _ in live:
            if p.is_alive():
                p.kill()
                p.join(5)
    return {
        "results": fleet.results,
        "killed": dict(fleet.killed),
        "unreached": fleet.unreached,
        "abnormal": fleet.abnormal,
        "processes": fleet.seq,
        "specs": fleet.specs,
    }


class Resumer:
    """A fleet monitor: resume (SIGCONT) a self-frozen worker once every other process has
    finished and at least ``after`` seconds have passed since it froze."""

    def __init__(self, flag: str, after: float) -> None:
        self.flag = flag
        self.after = after
        self.frozen_pid: int | None = None
        self.seen_at: float | None = None
        self.resumed = False

    def __call__(self, live: list[tuple[Any, dict[str, Any]]]) -> None:
        if self.resumed:
            return
        if self.frozen_pid is None:
            data = read_json(self.flag)
            if data is None:
                return
            self.frozen_pid, self.seen_at = data["pid"], time.time()
        others = [p for p, _ in live if p.pid != self.frozen_pid]
        assert self.seen_at is not None
        if not others and time.time() - self.seen_at >= self.after:
            os.kill(self.frozen_pid, signal.SIGCONT)
            self.resumed = True


def notice_rows(store: SqlStore, prefix: str) -> list[dict[str, Any]]:
    """Every outbox row of the workload's tenant, as dictionaries."""
    table = store.metadata.tables[f"{prefix}notices"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(table.c.tenant == TENANT)).mappings().all()
    return [dict(r) for r in rows]


def all_commitments(store: SqlStore) -> list[Commitment]:
    """Every commitment of the workload's tenant, oldest first."""
    return store.find(TENANT, Query(order="made_at"))


def live_claims(store: SqlStore, prefix: str) -> int:
    """Commitments whose claim is still live by the clock of this (the database's) machine."""
    table = store.metadata.tables[f"{prefix}commitments"]
    now = dt.datetime.now(UTC)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.claimed_until).where(
                table.c.tenant == TENANT, table.c.claim_token.is_not(None)
            )
        ).scalars()
        return sum(1 for until in rows if until is not None and until > now)


def claimed_rows(store: SqlStore, prefix: str) -> int:
    """Commitments of the workload's tenant holding a claim token at all, live or expired."""
    table = store.metadata.tables[f"{prefix}commitments"]
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.tenant == TENANT, table.c.claim_token.is_not(None))
            ).scalar_one()
        )


def analyse(
    url: str, prefix: str, *, until: dt.datetime = FINAL, exclude: Collection[str] = ()
) -> dict[str, Any]:
    """Compare the outbox and the histories with the plans.

    The commitments whose ids are in ``exclude`` (and their notices) are left
    out of every figure.

    - ``notices``: rows in the outbox; ``expected``: planned firings due by ``until``;
    - ``dup_keys``: rows beyond one per idempotency key;
    - ``dup_steps``: rows beyond one per (commitment, deadline version, step, repeat);
    - ``missed``: planned firings with no notice; ``unexpected``: notices not planned;
    - ``inversions``: commitments whose history fired steps out of plan order, or
      fired one twice;
    - ``mismatched``: commitments whose history and outbox disagree on what fired.
    """
    store = SqlStore(url, table_prefix=prefix)
    try:
        rows = [r for r in notice_rows(store, prefix) if r["commitment_id"] not in exclude]
        commitments = [c for c in all_commitments(store) if c.id not in exclude]
        held = live_claims(store, prefix)
    finally:
        store.close()
    keys = collections.Counter(r["idempotency_key"] for r in rows)
    steps = collections.Counter(
        (r["commitment_id"], r["deadline_version"], r["step_index"], r["repeat"]) for r in rows
    )
    by_commitment: dict[str, set[tuple[int, int, int]]] = collections.defaultdict(set)
    for cid, dv, si, rep in steps:
        by_commitment[cid].add((dv, si, rep))
    expected = missed = unexpected = inversions = mismatched = 0
    for c in commitments:
        plan = [f for f in firings(c) if f.at <= until]
        want = {(c.deadline_version, f.step_index, f.repeat) for f in plan}
        position = {f.key(c.id, c.deadline_version): i for i, f in enumerate(plan)}
        expected += len(want)
        got = by_commitment.get(c.id, set())
        missed += len(want - got)
        unexpected += len(got - want)
        fired = [k for e in c.history if e.kind == "escalated" for k in e.data["fired"]]
        order = [position.get(k, -1) for k in fired]
        if len(set(fired)) != len(fired) or order != sorted(order) or -1 in order:
            inversions += 1
        if set(fired) != {f"{c.id}:{dv}:{si}:{rep}" for dv, si, rep in got}:
            mismatched += 1
    return {
        "notices": len(rows),
        "expected": expected,
        "dup_keys": len(rows) - len(keys),
        "dup_steps": len(rows) - len(steps),
        "missed": missed,
        "unexpected": unexpected,
        "inversions": inversions,
        "mismatched": mismatched,
        "commitments": len(commitments),
        "live_claims": held,
        "late": sum(1 for r in rows if r["late"]),
    }


def double_claims(results: Iterable[dict[str, Any]]) -> int:
    """(commitment, version) pairs claimed under two tokens with neither claim released first.

    A claim's time is taken after ``claim_due`` returned and a release's before
    ``release`` was called, so a legitimate hand-over never counts.
    """
    claims: dict[tuple[str, int], list[tuple[float, str]]] = collections.defaultdict(list)
    released: dict[tuple[str, str], float] = {}
    for r in results:
        for token, cid, version, at in r.get("claims", ()):
            claims[(cid, version)].append((at, token))
        for token, cid, at in r.get("released", ()):
            released[(token, cid)] = min(at, released.get((token, cid), at))
    doubles = 0
    for (cid, _), held in claims.items():
        held.sort()
        for i, (_t1, a) in enumerate(held):
            for t2, b in held[i + 1 :]:
                if a != b and released.get((a, cid), float("inf")) > t2:
                    doubles += 1
    return doubles


def outbox_deliveries(logs: Iterable[str]) -> dict[str, Any]:
    """Read the consumers' logs: deliveries per notice id, and claims after an acknowledgement."""
    delivered: collections.Counter[str] = collections.Counter()
    acked_at: dict[str, float] = {}
    claims: list[tuple[float, list[str]]] = []
    for path in logs:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry["e"] == "deliver":
                delivered[entry["id"]] += 1
            elif entry["e"] == "claim":
                claims.append((entry["t0"], entry["ids"]))
            elif entry["e"] == "ack":
                for i in entry["ids"]:
                    acked_at[i] = min(acked_at.get(i, entry["t"]), entry["t"])
    redelivered_after_ack = sum(
        1 for t0, ids in claims for i in ids if i in acked_at and t0 > acked_at[i]
    )
    return {
        "delivered": delivered,
        "acked_logged": len(acked_at),
        "acked_then_redelivered": redelivered_after_ack,
        "redeliveries": sum(delivered.values()) - len(delivered),
    }


def summarize_workers(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the workers' counts; gather raw errors, crashes and time-outs."""
    counts: collections.Counter[str] = collections.Counter()
    raw: list[str] = []
    crashed: list[str] = []
    timed_out = 0
    for r in results:
        counts.update(r.get("counts", {}))
        raw.extend(r.get("raw_errors", ()))
        if "crashed" in r:
            crashed.append(r["crashed"])
        timed_out += bool(r.get("timed_out"))
    return {"counts": dict(counts), "raw": raw, "crashed": crashed, "timed_out": timed_out}
