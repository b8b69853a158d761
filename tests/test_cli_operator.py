"""The operator's commands on every SQL backend: db, due, tick --once, outbox drain, explain."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from keepword import (
    BusinessCalendar,
    EscalationPolicy,
    FrozenClock,
    SqlStore,
    Step,
    Tracker,
    at_due,
    before_due,
    within,
)
from keepword.cli import main
from keepword.stores.sql import migrate
from tests.support.backends import unique_prefix

UTC = BusinessCalendar.always_open("UTC")
POLICY = EscalationPolicy(
    "p", steps=[Step(before_due(minutes=10), notify="owner"), Step(at_due(), notify="manager")]
)


@pytest.fixture
def db(backend_url: str) -> Iterator[tuple[str, str]]:
    """``(url, prefix)``: keepword's tables made by ``keepword db upgrade``, dropped after."""
    prefix = unique_prefix()
    upgraded = run("db", "upgrade", "--url", backend_url, "--prefix", prefix)
    assert upgraded.exit_code == 0, upgraded.output
    try:
        yield backend_url, prefix
    finally:
        migrate.downgrade(backend_url, table_prefix=prefix, revision="base")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _shop(url: str, prefix: str) -> dict[str, str]:
    """Three promises: one overdue (alice), one due in 2 hours (bob), one in 3 days (alice)."""
    store = SqlStore(url, table_prefix=prefix)
    past = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=5))
    tracker = Tracker(store, calendar=UTC, tenant="shop", clock=past, policies=POLICY)
    made = {
        "overdue": tracker.promise(
            customer="c1", owner="alice", kind="reply", what="Reply", due=within(hours=1)
        ).id,
        "soon": tracker.promise(
            customer="c2", owner="bob", kind="ship", what="Ship", due=within(hours=7)
        ).id,
        "later": tracker.promise(
            customer="c3", owner="alice", kind="call", what="Call back", due=within(days=3)
        ).id,
    }
    store.close()
    return made


def test_db_current_and_history_name_the_head(db: tuple[str, str]) -> None:
    url, prefix = db
    current = run("db", "current", "--url", url, "--prefix", prefix)
    assert current.exit_code == 0, current.output
    history = run("db", "history", "--url", url, "--prefix", prefix)
    assert history.exit_code == 0, history.output
    head = history.output.splitlines()[0]
    assert head.startswith(current.output.strip())
    assert head.endswith("<- current")


def test_due_lists_soonest_first_with_filters(db: tuple[str, str]) -> None:
    url, prefix = db
    made = _shop(url, prefix)
    base = ["due", "--url", url, "--prefix", prefix, "--tenant", "shop", "--json"]
    every = json.loads(run(*base).output)
    assert [r["id"] for r in every] == [made["overdue"], made["soon"], made["later"]]
    assert [r["overdue"] for r in every] == [True, False, False]
    within_4h = json.loads(run(*base, "--within", "4h").output)
    assert [r["id"] for r in within_4h] == [made["overdue"], made["soon"]]
    alice = json.loads(run(*base, "--owner", "alice").output)
    assert [r["id"] for r in alice] == [made["overdue"], made["later"]]
    overdue = json.loads(run(*base, "--overdue").output)
    assert [r["id"] for r in overdue] == [made["overdue"]]
    table = run("due", "--url", url, "--prefix", prefix, "--tenant", "shop")
    assert table.exit_code == 0, table.output
    assert "ago" in table.output
    assert made["later"] in table.output


def test_tick_once_then_drain_writes_each_notice_once(db: tuple[str, str], tmp_path: Path) -> None:
    url, prefix = db
    _shop(url, prefix)
    common = ["--url", url, "--prefix", prefix, "--tenant", "shop"]
    ticked = run("tick", "--once", "--json", *common)
    assert ticked.exit_code == 0, ticked.output
    fired = json.loads(ticked.output)
    assert fired["fired"] == 2  # the overdue one's reminder and deadline
    out = tmp_path / "notices.jsonl"
    drained = run("outbox", "drain", "--to", "jsonl", str(out), *common)
    assert drained.exit_code == 0, drained.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(n["id"] for n in lines) == sorted(n["id"] for n in fired["notices"])
    again = run("outbox", "drain", str(out), *common)
    assert again.exit_code == 0
    assert len(out.read_text().splitlines()) == len(lines), "acknowledged: never written again"


def test_drain_is_at_least_once_when_the_acknowledgement_fails(
    db: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, prefix = db
    _shop(url, prefix)
    common = ["--url", url, "--prefix", prefix, "--tenant", "shop"]
    assert run("tick", "--once", *common).exit_code == 0
    out = tmp_path / "notices.jsonl"

    def crash(self: Tracker, ids: object, token: str) -> int:
        raise ConnectionError("the process died before acknowledging")

    with monkeypatch.context() as patch:
        patch.setattr(Tracker, "ack_notices", crash)
        failed = run("outbox", "drain", str(out), "--lease", "1", *common)
    assert failed.exit_code == 1
    first = out.read_text().splitlines()
    assert first, "written before the acknowledgement"
    time.sleep(1.5)  # the dead drain's claim runs out
    again = run("outbox", "drain", str(out), *common)
    assert again.exit_code == 0, again.output
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert set(ids) == {json.loads(line)["id"] for line in first}
    assert len(ids) == 2 * len(first), "each notice delivered again: at least once"


def test_explain_a_stored_commitment(db: tuple[str, str]) -> None:
    url, prefix = db
    made = _shop(url, prefix)
    said = run("explain", made["soon"], "--url", url, "--prefix", prefix, "--tenant", "shop")
    assert said.exit_code == 0, said.output
    assert "7 hours" in said.output
    missing = run("explain", "no-such-id", "--url", url, "--prefix", prefix, "--tenant", "shop")
    assert missing.exit_code == 1
    assert "no commitment 'no-such-id'" in missing.stderr


def test_demo_prints_years_zones_step_names_and_is_quiet_when_piped(tmp_path: Path) -> None:
    result = run("demo", "--days", "10", "--db", str(tmp_path / "d.db"), "--timeline", "40")
    assert result.exit_code == 0, result.output
    assert " 2026 " in result.output
    assert " EDT  " in result.output or " EST  " in result.output
    assert "step 2" not in result.output
    assert "reply-overdue" in result.output or "late-shipment" in result.output
    assert "Simulating" not in result.output  # no progress bar off a terminal


def test_explain_passes_audience_and_locale_only_when_given(db: tuple[str, str]) -> None:
    import inspect

    url, prefix = db
    made = _shop(url, prefix)
    common = ["--url", url, "--prefix", prefix, "--tenant", "shop"]
    said = run("explain", made["soon"], "--audience", "customer", *common)
    if "audience" in inspect.signature(Tracker.explain).parameters:
        assert said.exit_code == 0, said.output
        assert said.output.strip()
    else:
        assert said.exit_code == 1
        assert said.stderr.startswith("keepword: error: --audience:")
