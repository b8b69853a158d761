"""``keepword tick`` as a worker process: woken by NOTIFY, stopped by SIGTERM, clean on failure.

The worker runs as a real subprocess (``python -m keepword.cli tick``) on
PostgreSQL (``KEEPWORD_TEST_POSTGRES_URL``; skipped naming it when unset, a
failure under ``KEEPWORD_REQUIRE_SERVERS``) and SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from keepword import (
    BusinessCalendar,
    EscalationPolicy,
    FrozenClock,
    Step,
    Tracker,
    at_due,
    before_due,
    within,
)
from keepword.cli import main
from keepword.stores.sql import SqlStore
from tests.support.backends import backend_url, unique_prefix

UTC = BusinessCalendar.always_open("UTC")
POLICY = EscalationPolicy(
    "p", steps=[Step(before_due(minutes=1), notify="owner"), Step(at_due(), notify="manager")]
)
WAIT = 60.0  # seconds: a generous bound on a step that should take well under one


class Worker:
    """A ``keepword tick`` subprocess whose JSON log lines are read on a thread."""

    def __init__(self, url: str, prefix: str, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keepword.cli",
                "tick",
                "--url",
                url,
                "--prefix",
                prefix,
                "--log-format",
                "json",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: Queue[dict[str, Any]] = Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def until(self, event: str, **match: Any) -> dict[str, Any]:
        """The next log record of ``event`` whose fields satisfy ``match`` (callables or values)."""
        while True:
            try:
                record = self.lines.get(timeout=WAIT)
            except Empty:
                self.stop()
                pytest.fail(f"no {event!r} line; seen {self.seen[-5:]}")
            self.seen.append(record)
            if record["event"] == event and all(
                v(record.get(k)) if callable(v) else record.get(k) == v for k, v in match.items()
            ):
                return record

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=WAIT)


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = backend_url("postgresql", tmp_path)
    prefix = unique_prefix()
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    try:
        yield url, prefix
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_a_promise_made_elsewhere_wakes_the_sleeping_worker(postgres: tuple[str, str]) -> None:
    """The worker sleeps up to 60 s; the NOTIFY of a new promise wakes it to fire on time."""
    url, prefix = postgres
    worker = Worker(url, prefix, "--tenant", "shop", "--max-sleep", "60")
    try:
        start = worker.until("start")
        assert start["listen"] is True
        worker.until("tick")  # the first, empty tick: now it sleeps for up to 60 s
        store = SqlStore(url, table_prefix=prefix)
        tracker = Tracker(store, calendar=UTC, tenant="shop", policies=POLICY)
        made = tracker.promise(
            customer="acct", owner="al", kind="reply", what="Reply", due=within(minutes=1.05)
        )
        worker.until("tick", fired=lambda n: n and n > 0)  # the reminder, 3 s from now
        notices = store.pending_notices("shop", limit=10)
        store.close()
    finally:
        assert worker.stop() == 0
    assert [n.step for n in notices] == ["before_due(minutes=1) -> owner"]
    (reminder,) = notices
    assert reminder.commitment_id == made.id
    # Without the wake-up it would have fired up to a minute late: it fired at its time.
    lateness = reminder.fired_at - reminder.scheduled_at
    assert dt.timedelta(0) <= lateness < dt.timedelta(seconds=10), lateness
    assert not reminder.late


@pytest.mark.slow
@pytest.mark.parametrize("all_tenants", [False, True], ids=["tenant", "all-tenants"])
def test_sigterm_mid_batch_loses_and_duplicates_nothing(
    postgres: tuple[str, str], all_tenants: bool
) -> None:
    """SIGTERM mid-work: the batch finishes, claims are released, exit 0; a restart ends it."""
    url, prefix = postgres
    n = 1500
    store = SqlStore(url, table_prefix=prefix)
    past = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    tenants = ["shop-a", "shop-b", "shop-c"] if all_tenants else ["shop-a"]
    for i, tenant in enumerate(tenants):
        tracker = Tracker(store, calendar=UTC, tenant=tenant, clock=past, policies=POLICY)
        tracker.promise_many(
            [
                {
                    "customer": f"c{j}",
                    "owner": "al",
                    "kind": "reply",
                    "what": "Reply",
                    "due": within(minutes=30),
                    "external_ref": f"r{i}-{j}",
                }
                for j in range(n // len(tenants))
            ]
        )
    scope = ["--all-tenants"] if all_tenants else ["--tenant", "shop-a"]
    worker = Worker(url, prefix, *scope, "--max-sleep", "5")
    worker.until("tick", fired=lambda k: k and k > 0)
    assert worker.stop(signal.SIGTERM) == 0
    stop = worker.until("stop")
    assert stop["reason"] == "signal"
    fired_before = sum(r.get("fired") or 0 for r in worker.seen if r["event"] == "tick")
    with store.engine.connect() as conn:
        claimed = conn.execute(
            sa.text(f"SELECT count(*) FROM {prefix}commitments WHERE claim_token IS NOT NULL")
        ).scalar_one()
        stored = conn.execute(sa.text(f"SELECT count(*) FROM {prefix}notices")).scalar_one()
    assert claimed == 0, "the worker left claims behind"
    assert stored == fired_before, "what the worker logged as fired is what is stored"
    assert stored < 2 * n, "the worker was stopped mid-work (raise n if this fails)"
    rest = Worker(url, prefix, *scope, "--max-sleep", "5")
    rest.until("tick", more=False, commitments=0)
    assert rest.stop() == 0
    with store.engine.connect() as conn:
        keys = conn.execute(sa.text(f"SELECT tenant, idempotency_key FROM {prefix}notices")).all()
    store.close()
    assert len(keys) == len(set(keys)) == 2 * n  # two steps each, once each


@pytest.mark.slow
def test_a_lost_database_ends_the_worker_with_one_line(postgres: tuple[str, str]) -> None:
    url, prefix = postgres
    worker = Worker(url, prefix, "--tenant", "shop", "--max-sleep", "0.2", "--retries", "1")
    worker.until("tick")
    SqlStore(url, table_prefix=prefix).drop_schema()
    assert worker.proc.wait(timeout=WAIT) == 1
    assert worker.proc.stderr is not None
    err = [line for line in worker.proc.stderr.read().splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "lost the database" in err[0]
    SqlStore(url, table_prefix=prefix).create_schema()  # for the fixture's drop


@pytest.mark.slow
def test_the_worker_polls_sqlite_and_stops_on_sigint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    store = SqlStore(url)
    store.create_schema()
    past = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    Tracker(store, calendar=UTC, clock=past, policies=POLICY).promise(
        customer="c", owner="o", kind="k", what="w", due=within(minutes=30)
    )
    worker = Worker(url, "keepword_", "--max-sleep", "0.5")
    assert worker.until("start")["listen"] is False
    worker.until("tick", fired=2)
    assert worker.stop(signal.SIGINT) == 0
    assert len(store.pending_notices("default", limit=10)) == 2
    store.close()


def test_tick_once_prints_what_fired_as_a_table_and_as_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    store = SqlStore(url)
    store.create_schema()
    past = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    for tenant in ("a", "b"):
        Tracker(store, calendar=UTC, tenant=tenant, clock=past, policies=POLICY).promise(
            customer="acct-7", owner="o", kind="reply", what="w", due=within(minutes=30)
        )
    store.close()
    once = CliRunner().invoke(main, ["tick", "--once", "--url", url, "--tenant", "a"])
    assert once.exit_code == 0, once.output
    assert "acct-7" in once.output
    assert "1 due commitments, 2 notices fired" in once.output
    every = CliRunner().invoke(main, ["tick", "--once", "--all-tenants", "--json", "--url", url])
    assert every.exit_code == 0, every.output
    report = json.loads(every.output)
    assert report["fired"] == 2
    assert {n["tenant"] for n in report["notices"]} == {"b"}
