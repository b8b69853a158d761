"""The tick and the outbox with real processes on real databases (RELIABILITY.md 1-5, 9, 10).

Small sizes of the scenarios ``benchmarks/stress_tick.py`` runs at full size:
worker processes started with ``spawn`` tick one SQLite file, PostgreSQL or
MariaDB database (the servers run when ``KEEPWORD_TEST_POSTGRES_URL`` /
``KEEPWORD_TEST_MARIADB_URL`` are set; see ``tests/support/backends.py``), get
killed with ``SIGKILL`` at named points, frozen with ``SIGSTOP`` past their
lease, run on skewed clocks, and drain the outbox while crashing.  Every check
is an exact zero; the last test proves the checks can fail.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keepword import (
    BusinessCalendar,
    EscalationPolicy,
    FrozenClock,
    Step,
    after_due,
    at_due,
    before_due,
)
from keepword.stores.sql import SqlStore
from keepword.transitions import firings
from tests.support import tick_workers as tw
from tests.support.backends import unique_prefix

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

N = 200  # due commitments x 3 steps = 600 notices in the main scenario
SMALL = 100  # in the crash, freeze, clock and outbox scenarios
LEASE = 1.5  # seconds, where workers die or freeze
WORKERS = 4
LIMIT = 10  # commitments per tick: many small claims, so the workers interleave
CTX = multiprocessing.get_context("spawn")


@pytest.fixture
def db(backend_url: str) -> Iterator[tuple[str, str]]:
    """``(url, prefix)`` of fresh keepword tables on each SQL backend, dropped afterwards."""
    url = backend_url
    prefix = unique_prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    try:
        yield url, prefix
    finally:
        admin.drop_schema()
        admin.close()


def _specs(url: str, prefix: str, count: int = WORKERS, **extra: Any) -> list[dict[str, Any]]:
    base = {"url": url, "prefix": prefix, "limit": LIMIT, "budget_s": 150, "group": "tick"}
    return [{**base, **extra} for _ in range(count)]


def _fleet(
    tmp_path: Path,
    specs: list[dict[str, Any]],
    kills: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    work = tmp_path / f"fleet-{random.randrange(10**6)}"
    work.mkdir()
    fleet = tw.run_fleet(CTX, tw.tick_worker, specs, kills or [], str(work), timeout=180, **kwargs)
    summary = tw.summarize_workers(fleet["results"])
    assert fleet["abnormal"] == []
    assert summary["crashed"] == []
    assert summary["raw"] == [], "raw driver errors reached the caller"
    assert summary["counts"].get("keepword_errors", 0) == 0  # e.g. "database is locked"
    assert summary["timed_out"] == 0
    fleet["summary"] = summary
    return fleet


def _notices(url: str, prefix: str) -> list[dict[str, Any]]:
    store = SqlStore(url, table_prefix=prefix)
    try:
        return tw.notice_rows(store, prefix)
    finally:
        store.close()


def _assert_exact(found: dict[str, Any], notices: int = 3 * SMALL) -> None:
    figures = {k: found[k] for k in ("dup_keys", "dup_steps", "missed", "unexpected")}
    figures |= {k: found[k] for k in ("inversions", "mismatched")}
    assert figures == dict.fromkeys(figures, 0), found
    assert found["notices"] == found["expected"] == notices, found


# --------------------------------------------------------------------------- (a) scenario 1, 2


def test_workers_fire_each_step_once_in_order(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    tw.seed(url, prefix, N)
    fleet = _fleet(tmp_path, _specs(url, prefix, record_claims=True))
    found = tw.analyse(url, prefix)
    _assert_exact(found, 3 * N)
    assert fleet["summary"]["counts"]["fired"] == 3 * N  # every notice reported once
    assert tw.double_claims(fleet["results"]) == 0
    assert found["live_claims"] == 0


# --------------------------------------------------------------------------- (b) scenario 3


def test_kill_nine_at_named_points_loses_and_duplicates_nothing(
    db: tuple[str, str], tmp_path: Path
) -> None:
    url, prefix = db
    tw.seed(url, prefix, SMALL)
    lease = LEASE
    rng = random.Random(3)
    kills = [
        {"point": point, "after": rng.randint(1, 3)} for _ in range(2) for point in tw.KILL_POINTS
    ]
    fleet = _fleet(tmp_path, _specs(url, prefix, lease=lease), kills)
    assert sum(fleet["killed"].values()) + len(fleet["unreached"]) == len(kills)
    assert set(fleet["killed"]) == set(tw.KILL_POINTS), fleet["killed"]
    _assert_exact(tw.analyse(url, prefix))
    # Nobody may still hold a claim once a lease has passed after the last worker.
    time.sleep(lease + 0.5)
    assert tw.analyse(url, prefix)["live_claims"] == 0


# --------------------------------------------------------------------------- (c) scenario 4


def test_a_worker_frozen_past_its_lease_writes_nothing_stale(
    db: tuple[str, str], tmp_path: Path
) -> None:
    url, prefix = db
    tw.seed(url, prefix, SMALL)
    lease = LEASE
    flag = str(tmp_path / "frozen.json")
    frozen = {**_specs(url, prefix, 1, lease=lease)[0], "freeze": {"after": 1, "flag": flag}}
    resumer = tw.Resumer(flag, after=lease + 1.0)
    # The others start once the frozen worker holds its batch: on a loaded machine they
    # could otherwise drain everything before it claims anything, and it would never freeze.
    others = _specs(url, prefix, 3, lease=lease, after_file=flag)
    fleet = _fleet(tmp_path, [frozen, *others], monitor=resumer)
    assert resumer.resumed
    (report,) = [r["freeze"] for r in fleet["results"] if "freeze" in r]
    assert report["batch"] > 0
    assert report["frozen_s"] > lease
    assert report["stale_accepted"] == 0
    assert report["stale_rejected"] == report["batch"]  # each stale write got ConflictError
    _assert_exact(tw.analyse(url, prefix))


# --------------------------------------------------------------------------- (d) scenario 5


def test_workers_with_skewed_clocks_never_double_claim(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    tw.seed(url, prefix, SMALL)
    specs = [
        {**spec, "offset_s": offset, "record_claims": True}
        for spec, offset in zip(_specs(url, prefix), (-600, 600, 0, -300), strict=True)
    ]
    fleet = _fleet(tmp_path, specs)
    assert tw.double_claims(fleet["results"]) == 0
    _assert_exact(tw.analyse(url, prefix))


# --------------------------------------------------------------------------- (e) scenario 9


def test_outbox_consumers_that_crash_before_ack(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    tw.seed(url, prefix, SMALL)
    tracker, store = tw.make_tracker(url, prefix, clock=FrozenClock(tw.FINAL))
    try:
        while tracker.tick(limit=500).more:
            pass
    finally:
        store.close()
    rng = random.Random(9)
    kills = [
        {"point": point, "after": rng.randint(1, 4)}
        for _ in range(3)
        for point in tw.CONSUMER_KILL_POINTS
    ]
    work = tmp_path / "outbox"
    work.mkdir()
    base = {"url": url, "prefix": prefix, "limit": 10, "lease": 1.0, "log": "x", "group": "c"}
    fleet = tw.run_fleet(CTX, tw.consume_worker, [dict(base) for _ in range(3)], kills, str(work))
    assert fleet["abnormal"] == []
    assert [e for r in fleet["results"] for e in r["errors"]] == []
    assert sum(fleet["killed"].values()) >= 3
    logs = [s["log"] for s in fleet["specs"]]
    seen = tw.outbox_deliveries(logs)
    rows = _notices(url, prefix)
    assert len(rows) == 3 * SMALL
    never = [r["id"] for r in rows if seen["delivered"][r["id"]] == 0]
    assert never == []
    assert [r["id"] for r in rows if r["state"] != "acked"] == []
    assert seen["acked_then_redelivered"] == 0
    assert seen["redeliveries"] > 0  # the crashes did force redeliveries: at least once


# --------------------------------------------------------------------------- (f) scenario 10

NY = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
DST_POLICY = EscalationPolicy(
    "dst",
    steps=[
        Step(before_due(days=1), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=1), notify="lead", every=dt.timedelta(hours=6), times=3),
        Step(after_due(business_hours=4), notify="director"),
    ],
)
LAST_TICK = dt.datetime(2026, 10, 30, 16, 0, tzinfo=dt.UTC)  # Fri 12:00 EDT
CATCH_UP = LAST_TICK + dt.timedelta(hours=72)  # Mon 2026-11-02 11:00 EST, DST ended Sun


def test_catch_up_after_72_hours_across_dst(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    made = LAST_TICK - dt.timedelta(days=1)
    tracker, store = tw.make_tracker(
        url, prefix, clock=FrozenClock(made), policy=DST_POLICY, calendar=NY
    )
    # Deadlines every 2 hours from Fri 14:00 EDT to Mon 06:00 EST, both 01:30s of Sunday.
    dues = [LAST_TICK + dt.timedelta(hours=2 * k) for k in range(1, 33)]
    dues += [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC),
    ]
    hand = dt.datetime(2026, 11, 1, 17, 0, tzinfo=dt.UTC)  # Sun 12:00 EST
    dues.append(hand)
    try:
        made_ = tracker.promise_many(
            {"customer": f"c{i}", "owner": "alice", "kind": "reply", "what": "w", "due": due}
            for i, due in enumerate(dues)
        )
        first = tracker.tick(LAST_TICK, limit=500)
    finally:
        store.close()
    assert first.fired > 0
    # 72 hours without a tick; then two processes catch up at once.
    specs = _specs(url, prefix, 2, phases=[tw.iso(CATCH_UP)])
    _fleet(tmp_path, specs)
    rows = _notices(url, prefix)
    caught = [r for r in rows if r["fired_at"] == CATCH_UP]
    assert len(rows) - len(caught) == first.fired
    keys = [r["idempotency_key"] for r in rows]
    assert len(keys) == len(set(keys))
    found = tw.analyse(url, prefix, until=CATCH_UP)
    assert {k: found[k] for k in ("missed", "unexpected", "inversions", "mismatched")} == {
        "missed": 0,
        "unexpected": 0,
        "inversions": 0,
        "mismatched": 0,
    }, found
    assert caught
    assert all(r["late"] for r in caught)
    assert all(CATCH_UP - r["scheduled_at"] > dt.timedelta(minutes=5) for r in caught)
    # The hand-worked one: due Sun 12:00 EST; a day before is Sat 12:00 EDT (25 h earlier);
    # "lead" 1 h after due, then every 6 h; 4 business hours after is Mon 13:00 EST (not yet).
    (c,) = [m for m in made_ if m.due_at == hand]
    mine = sorted((r["scheduled_at"], r["recipient"]) for r in rows if r["commitment_id"] == c.id)
    assert mine == [
        (dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC), "owner"),
        (hand, "manager"),
        (hand + dt.timedelta(hours=1), "lead"),
        (hand + dt.timedelta(hours=7), "lead"),
        (hand + dt.timedelta(hours=13), "lead"),
    ]
    director = [f for f in firings(c) if f.step.notify == "director"]
    assert director[0].at == dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.UTC) > CATCH_UP
    # Every deadline that passed is recorded as breached; ticking again fires nothing new.
    tracker, store = tw.make_tracker(url, prefix, clock=FrozenClock(CATCH_UP))
    try:
        everyone = tw.all_commitments(store)
        assert [m.id for m in everyone if m.breached_at is None] == []
        assert tracker.tick(limit=500).fired == 0
    finally:
        store.close()


# --------------------------------------------------------------------------- (g) the checks bite


def test_a_broken_claim_is_caught_as_duplicates(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    tw.seed(url, prefix, 40)
    specs = _specs(url, prefix, broken=True, phases=[tw.iso(tw.FINAL)])
    _fleet(tmp_path, specs)
    found = tw.analyse(url, prefix)
    assert found["dup_steps"] > 0, found
    assert found["notices"] > 3 * 40


def test_the_kill_hooks_fire_where_named(tmp_path: Path) -> None:
    """A worker told to die before commit dies holding nothing: its notices never appear."""
    url = f"sqlite:///{tmp_path / 'hook.db'}"
    prefix = unique_prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    try:
        tw.seed(url, prefix, 5)
        spec = {**_specs(url, prefix, 1)[0], "out": str(tmp_path / "w.json")}
        spec["kill"] = {"point": "before_commit", "after": 1}
        p = CTX.Process(target=tw.tick_worker, args=(spec,))
        p.start()
        p.join(60)
        assert p.exitcode == -signal.SIGKILL
        assert not os.path.exists(spec["out"])
        assert tw.notice_rows(admin, prefix) == []
    finally:
        admin.drop_schema()
        admin.close()
