"""One unprocessable commitment among 1,000 due ones, four worker processes ticking at once.

The database itself refuses the step notices of one commitment (a trigger,
installed by the parent before the workers start: see
:func:`tests.support.tick_hooks.refuse_notices_of`).  Four processes started
with ``spawn`` tick one SQLite file, PostgreSQL or MariaDB database through
the workload's three clock phases; then three outbox consumers drain what
they wrote.  The checks are exact:

- every other commitment's planned notices are written exactly once (no
  duplicate idempotency key, none missing) and delivered exactly once;
- the poisoned commitment has one ``"set_aside"`` event, one ``"tick_error"``
  notice and no step notice, was claimed under one claim only, and a further
  tick claims nothing;
- no commitment is left claimed, and no raw driver error reached a worker.

See "A poisoned commitment among many workers" in ``docs/reliability.md``.
"""

from __future__ import annotations

import collections
import datetime as dt
import multiprocessing
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keepword.stores.sql import SqlStore
from keepword.transitions import firings
from tests.support import tick_workers as tw
from tests.support.backends import unique_prefix
from tests.support.tick_hooks import drop_refusal, refuse_notices_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

N = 1000  # due commitments; each has 3 steps due by the last phase
POISONED = "Reply to message 500"  # the ``what`` of the commitment the database refuses
WORKERS = 4
CONSUMERS = 3
LIMIT = 25  # commitments per tick: the poisoned one always shares a batch with others
CTX = multiprocessing.get_context("spawn")


@pytest.fixture
def db(backend_url: str) -> Iterator[tuple[str, str]]:
    """``(url, prefix)`` of fresh keepword tables on each SQL backend, dropped afterwards."""
    prefix = unique_prefix()
    admin = SqlStore(backend_url, table_prefix=prefix)
    admin.create_schema()
    try:
        yield backend_url, prefix
    finally:
        admin.drop_schema()
        admin.close()
        drop_refusal(backend_url, prefix)


def _run(tmp_path: Path, name: str, target: Any, specs: list[dict[str, Any]]) -> dict[str, Any]:
    work = tmp_path / name
    work.mkdir()
    fleet = tw.run_fleet(CTX, target, specs, [], str(work), timeout=240)
    assert fleet["abnormal"] == []
    return fleet


def _tick(tmp_path: Path, name: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    fleet = _run(tmp_path, name, tw.tick_worker, specs)
    summary = tw.summarize_workers(fleet["results"])
    assert summary["crashed"] == []
    assert summary["raw"] == [], "raw driver errors reached the caller"
    assert summary["counts"].get("keepword_errors", 0) == 0
    assert summary["counts"].get("set_aside_errors", 0) == 0
    assert summary["timed_out"] == 0
    return {**fleet, "summary": summary}


def _poison(url: str, prefix: str) -> str:
    store = SqlStore(url, table_prefix=prefix)
    try:
        (target,) = [c for c in tw.all_commitments(store) if c.what == POISONED]
        tw.analyze(store, prefix)
    finally:
        store.close()
    assert [f.at <= tw.PHASES[0] for f in firings(target)] == [True, False, False]
    refuse_notices_of(url, prefix, target.id)
    return target.id


def _claims_of(results: list[dict[str, Any]], cid: str) -> collections.Counter[str]:
    """How many commitments each claim that took ``cid`` took in all."""
    tokens = {token for r in results for token, c, _, _ in r["claims"] if c == cid}
    return collections.Counter(t for r in results for t, _, _, _ in r["claims"] if t in tokens)


def test_one_poisoned_commitment_among_many_workers(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    tw.seed(url, prefix, N)
    poisoned = _poison(url, prefix)
    started = time.monotonic()
    base = {"url": url, "prefix": prefix, "limit": LIMIT, "budget_s": 200, "group": "tick"}
    ticked = _tick(tmp_path, "tick", [dict(base, record_claims=True) for _ in range(WORKERS)])
    tick_s = time.monotonic() - started

    # every other commitment: its planned notices, each written exactly once
    found = tw.analyse(url, prefix, exclude={poisoned})
    figures = {k: found[k] for k in ("dup_keys", "dup_steps", "missed", "unexpected")}
    figures |= {k: found[k] for k in ("inversions", "mismatched", "live_claims")}
    assert figures == dict.fromkeys(figures, 0), found
    assert found["commitments"] == N - 1
    assert found["notices"] == found["expected"] == 3 * (N - 1), found
    counts = ticked["summary"]["counts"]
    assert counts["set_aside"] == 1
    assert counts["fired"] == 3 * (N - 1) + 1  # every notice reported once, the alarm too

    # the poisoned one: set aside once, the host told once, claimed under one claim only
    store = SqlStore(url, table_prefix=prefix)
    try:
        aside = store.get(tw.TENANT, poisoned)
        rows = [r for r in tw.notice_rows(store, prefix) if r["commitment_id"] == poisoned]
        assert tw.claimed_rows(store, prefix) == 0
    finally:
        store.close()
    assert [e.kind for e in aside.history].count("set_aside") == 1
    assert "poisoned" in next(e for e in aside.history if e.kind == "set_aside").data["error"]
    assert [e.kind for e in aside.history if e.kind == "escalated"] == []
    assert aside.next_action_at is None
    assert [(r["kind"], r["action"], r["recipient"]) for r in rows] == [
        ("tick_error", "tick_error", "host")
    ]
    (batch,) = _claims_of(ticked["results"], poisoned).values()
    assert batch > 1  # it shared a batch: the others in it were written all the same

    # a further tick, a day later, claims nothing at all
    later = tw.iso(tw.FINAL + dt.timedelta(days=1))
    again = _tick(tmp_path, "again", [dict(base, record_claims=True, phases=[later])])
    assert [r["claims"] for r in again["results"]] == [[]]
    assert again["summary"]["counts"].get("commitments", 0) == 0

    # drained through the outbox: each notice delivered, and acknowledged, exactly once
    drain_started = time.monotonic()
    consumer = {"url": url, "prefix": prefix, "limit": 50, "lease": 60.0, "log": "x"}
    drained = _run(tmp_path, "outbox", tw.consume_worker, [dict(consumer, group="c")] * CONSUMERS)
    assert [e for r in drained["results"] for e in r["errors"]] == []
    seen = tw.outbox_deliveries([s["log"] for s in drained["specs"]])
    store = SqlStore(url, table_prefix=prefix)
    try:
        every = tw.notice_rows(store, prefix)
    finally:
        store.close()
    assert len(every) == 3 * (N - 1) + 1
    assert collections.Counter(seen["delivered"][r["id"]] for r in every) == {1: len(every)}
    assert seen["acked_logged"] == len(every)
    assert [r["id"] for r in every if r["state"] != "acked"] == []
    print(
        f"\n{url.split(':')[0]}: ticked {len(every)} notices in {tick_s:.1f} s "
        f"(4 workers), drained in {time.monotonic() - drain_started:.1f} s"
    )
