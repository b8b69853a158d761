"""Every failure of the keepword command is one line naming what to fix, exit 1; usage is 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from keepword.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("keepword: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_url_that_is_not_a_url_names_the_option_and_examples() -> None:
    code, _, err = run("db", "upgrade", "--url", "notaurl")
    assert code == 1
    line = one_line(err)
    assert "--url" in line
    assert "notaurl" in line
    assert "postgresql+psycopg://" in line


def test_a_missing_mysql_driver_suggests_pymysql() -> None:
    code, _, err = run("db", "current", "--url", "mysql://root@127.0.0.1/test")
    assert code == 1
    assert "mysql+pymysql://" in one_line(err)


def test_an_unwritable_demo_path_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("demo", "--days", "1", "--db", "/proc/nope/demo.db")
    assert code == 1
    line = one_line(err)
    assert "--db" in line
    assert "/proc/nope" in line


def test_db_current_on_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.db"
    code, _, err = run("db", "current", "--url", f"sqlite:///{missing}")
    assert code == 1
    assert str(missing) in one_line(err)
    assert not missing.exists()


@pytest.mark.parametrize("command", [["due"], ["tick", "--once"], ["outbox", "drain", "x.jsonl"]])
def test_commands_without_a_url_say_how_to_give_one(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KEEPWORD_URL", "KEEPWORD_DATABASE_URL", "KEEPWORD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(*command)
    assert code == 1
    assert "KEEPWORD_URL" in one_line(err)


def test_tables_that_are_missing_say_to_run_db_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    code, _, err = run("due", "--url", f"sqlite:///{db}")
    assert code == 1
    assert "keepword db upgrade" in one_line(err)


def test_a_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "keepword.toml"
    config.write_text('[calendars.main]\ntz = "UTC"\nhours = "whenever"\n')
    code, _, err = run("config", "check", str(config))
    assert code == 1
    assert "calendars.main.hours" in one_line(err)


def test_usage_errors_exit_2() -> None:
    assert run("due", "--bogus")[0] == 2
    assert run("nosuchcommand")[0] == 2
    code, _, err = run("due", "--within", "soon", "--url", "sqlite://")
    assert code == 2
    assert "--within" in err


def test_debug_shows_the_traceback() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", "notaurl", "--debug"])
    assert result.exit_code == 1
    assert result.exception is not None  # re-raised for the traceback
    assert "not a database URL" in str(result.exception)
