"""The keepword command: demo, explain and db, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from keepword.cli import main
from keepword.demo import SHOP_CALENDAR, simulate, summarize
from keepword.stores.memory import MemoryStore
from keepword.tracker import Tracker


def test_demo_simulates_a_shop_on_sqlite_and_prints_the_scorecard(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    result = CliRunner().invoke(main, ["demo", "--days", "14", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Promises by owner" in result.output
    for owner in ("alice", "bob", "carol"):
        assert owner in result.output
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM keepword_commitments")).scalar_one()
    engine.dispose()
    assert stored > 50


def test_demo_runs_are_deterministic_for_a_seed() -> None:
    def run() -> list[dict[str, object]]:
        store = MemoryStore()
        result = simulate(
            lambda clock: Tracker(store, calendar=SHOP_CALENDAR, tenant="t", clock=clock),
            days=21,
            seed=3,
        )
        return summarize(result.commitments)

    first, second = run(), run()
    assert first == second
    made = sum(int(row["made"]) for row in first)  # type: ignore[call-overload]
    kept = sum(int(row.get("kept on time", 0)) for row in first)  # type: ignore[call-overload]
    assert made > 100
    assert 0.6 < kept / made < 1.0  # mostly kept, not all: some late, broken, cancelled


def test_explain_says_why_a_deadline_falls_where_it_does() -> None:
    result = CliRunner().invoke(
        main,
        [
            "explain",
            "--tz",
            "America/New_York",
            "--country",
            "US",
            "--start",
            "2026-11-23T10:00",
            "business_days=3",
        ],
    )
    assert result.exit_code == 0
    assert "Thanksgiving Day" in result.output
    assert "due Fri 27 Nov 17:00 EST" in result.output


def test_explain_refuses_an_unknown_zone_with_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "--tz", "Mars/Olympus", "hours=1"])
    assert result.exit_code == 2
    assert "unknown time zone" in result.output


def test_db_upgrade_creates_the_tables_and_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade", "--url", url, "--prefix", "kw_"])
    assert upgraded.exit_code == 0, upgraded.output
    at = runner.invoke(main, ["db", "current", "--url", url, "--prefix", "kw_"]).output.strip()
    assert at != "not migrated"
    assert at in upgraded.output


def test_db_upgrade_refuses_a_prefix_that_is_not_an_identifier(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", url, "--prefix", "x; DROP"])
    assert result.exit_code == 1
    assert "table_prefix" in result.output
