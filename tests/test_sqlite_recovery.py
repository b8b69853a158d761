"""A SqlStore recovers from a read-only database without being rebuilt.

SQLite opens a file it may not write read-only, silently, for the
connection's whole life, and in WAL mode creates the ``-wal`` and ``-shm``
files with the database file's read-only permissions.  The store refuses to
open such a connection (a :class:`~keepword.errors.StoreError` saying what
to make writable) and throws away any connection a database refused a write
on, so the same store object works again once the file is writable.

File permissions do not bind root: run as root, the scenarios run in a child
process without the ``CAP_DAC_OVERRIDE`` capability (through ``setpriv``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

import keepword
from keepword.errors import KeepwordError, StoreError
from keepword.ports import Query
from keepword.stores.sql import SqlStore, _errors
from keepword.stores.sql._errors import Failure
from tests.support.builders import T0, commitment

_SCENARIO = r"""
import datetime as dt, json, os, sys
from keepword.errors import KeepwordError
from keepword.ports import Query
from keepword.stores.sql import SqlStore
sys.path.insert(0, sys.argv[3])
from tests.support.builders import commitment

path, what = sys.argv[1], sys.argv[2]
folder = os.path.dirname(path)
admin = SqlStore(f"sqlite:///{path}", table_prefix="r_")
admin.create_schema()
admin.close()  # the last connection: SQLite removes the -wal and -shm files
os.chmod(path if what == "file" else folder, 0o444 if what == "file" else 0o555)
store = SqlStore(f"sqlite:///{path}", table_prefix="r_")
seen = {"while_read_only": [], "after": [], "files": []}
for call in ("count", "add", "count", "add"):
    try:
        if call == "count":
            store.count("t", Query())
        else:
            store.add(commitment("t"))
        seen["while_read_only"].append([call, "ok", ""])
    except Exception as error:
        kind = "keepword" if isinstance(error, KeepwordError) else "raw"
        seen["while_read_only"].append([call, kind, f"{type(error).__name__}: {error}"])
os.chmod(path, 0o644)
os.chmod(folder, 0o755)
seen["files"] = sorted(
    [name, oct(os.stat(os.path.join(folder, name)).st_mode & 0o777)] for name in os.listdir(folder)
)
for _ in range(2):
    try:
        store.add(commitment("t"))
        seen["after"].append("ok")
    except Exception as error:
        seen["after"].append(f"{type(error).__name__}: {error}")
seen["count"] = store.count("t", Query())
store.close()
print(json.dumps(seen))
"""


def _unprivileged() -> list[str]:
    """The command prefix that makes file permissions bind this test's child process."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def _run_scenario(tmp_path: Path, what: str) -> dict[str, Any]:
    folder = tmp_path / "db"
    folder.mkdir()
    src = Path(keepword.__file__).resolve().parent.parent
    root = Path(__file__).resolve().parent.parent  # where the tests.support package lives
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(root)])}
    done = subprocess.run(
        [*_unprivileged(), sys.executable, "-c", _SCENARIO, str(folder / "k.db"), what, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_store_first_used_on_a_read_only_file_works_once_it_is_writable(
    tmp_path: Path,
) -> None:
    seen = _run_scenario(tmp_path, "file")
    for call, kind, message in seen["while_read_only"]:
        assert kind == "keepword", (call, message)
        assert "StoreError" in message, message
        assert "not writable" in message, message
    # nothing was created with the read-only permissions that would outlive the fault
    assert all(mode == "0o644" for _, mode in seen["files"]), seen["files"]
    assert seen["after"] == ["ok", "ok"]
    assert seen["count"] == 2


def test_a_store_first_used_in_a_read_only_directory_works_once_it_is_writable(
    tmp_path: Path,
) -> None:
    seen = _run_scenario(tmp_path, "directory")
    for call, kind, message in seen["while_read_only"]:
        assert kind == "keepword", (call, message)  # never a raw sqlite3 error
        assert "read-only" in message, message
    assert seen["after"] == ["ok", "ok"]
    assert seen["count"] == 2


def test_a_connection_a_database_refused_a_write_on_is_not_used_again(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    admin = SqlStore(f"sqlite:///{path}", table_prefix="r_")
    admin.create_schema()
    admin.add(commitment("t"))
    # A URL that asks for a read-only connection: SQLite refuses every write on it.
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, _record: opened.append(conn))
    store = SqlStore(engine, table_prefix="r_")
    try:
        assert store.count("t", Query()) == 1
        assert len(opened) == 1
        with pytest.raises(StoreError, match="read-only") as caught:
            store.add(commitment("t"))
        assert caught.value.fix is not None
        assert "writable" in caught.value.fix
        assert store.count("t", Query()) == 1
        assert len(opened) == 2  # the refused connection was thrown away, not pooled
    finally:
        store.close()
        engine.dispose()
        admin.drop_schema()
        admin.close()


def _sqlite_error(message: str, code: int) -> Exception:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _mysql(errno: int) -> Exception:
    import pymysql  # type: ignore[import-untyped]

    error: Exception = pymysql.err.OperationalError(errno, "read only")
    return error


@pytest.mark.parametrize(
    "orig",
    [
        pytest.param(_sqlite_error("attempt to write a readonly database", 8), id="sqlite"),
        pytest.param(_sqlite_error("attempt to write a readonly database", 1544), id="sqlite-dir"),
        pytest.param(sqlite3.OperationalError("attempt to write a readonly database"), id="text"),
        pytest.param(_PgError("25006"), id="pg-standby"),
        pytest.param(_mysql(1290), id="mysql-read-only"),
        pytest.param(_mysql(1792), id="mysql-read-only-transaction"),
    ],
)
def test_read_only_refusals_are_store_errors_saying_what_to_make_writable(orig: Exception) -> None:
    wrapped = sa_exc.DBAPIError.instance("INSERT", {}, orig, Exception)
    assert _errors.classify(wrapped) is Failure.READ_ONLY
    translated = _errors.translate(wrapped, operation="add")
    assert type(translated) is StoreError
    assert isinstance(translated, KeepwordError)
    assert "read-only" in str(translated)
    assert translated.fix is not None
    assert "writable" in translated.fix


def test_a_store_still_reads_and_writes_after_an_unrelated_error(tmp_path: Path) -> None:
    """The hook discards only connections refused as read-only; others stay pooled."""
    store = SqlStore(f"sqlite:///{tmp_path / 'k.db'}", table_prefix="r_")
    store.create_schema()
    opened: list[object] = []
    event.listen(store.engine, "connect", lambda conn, _record: opened.append(conn))
    try:
        c = commitment("t", made_at=T0)
        store.add(c)
        with pytest.raises(keepword.ConflictError):
            store.add(commitment("t", id=c.id))
        store.add(commitment("t"))
        assert store.count("t", Query()) == 2
        assert opened == []  # the pooled connection served every call
    finally:
        store.drop_schema()
        store.close()
