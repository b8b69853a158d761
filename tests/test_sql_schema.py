"""SqlStore's construction, table prefixes, schema version and connection setup.

The SQL-only tests take the ``store`` fixture narrowed to the SQL backends, or
``backend_url`` (tests/conftest.py) when they build their own stores.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from keepword.errors import InvalidArgumentError, SchemaError, StoreError
from keepword.ports import Query
from keepword.stores.sql import SqlStore
from tests.support.backends import on_sql_stores, unique_prefix
from tests.support.builders import T0, commitment


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "1abc_",
        "bad-prefix",
        "a b",
        "x; DROP TABLE y; --",
        "quote'",
        'dq"',
        "ümlaut_",
        "a" * 32,
        "semi;",
        None,
        7,
    ],
)
def test_table_prefixes_that_are_not_plain_identifiers_are_refused(prefix: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        SqlStore("sqlite://", table_prefix=prefix)
    assert info.value.argument == "table_prefix"


def test_a_31_character_prefix_is_accepted() -> None:
    store = SqlStore("sqlite://", table_prefix="a" * 31)
    store.create_schema()
    assert store.count("t", Query()) == 0
    store.close()


def test_constructing_a_store_does_not_connect(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    store = SqlStore(f"sqlite:///{path}")
    store.close()
    assert not path.exists()


def test_bad_urls_and_engines_are_refused() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        SqlStore("not a url")
    assert info.value.argument == "url_or_engine"
    with pytest.raises(InvalidArgumentError):
        SqlStore(42)  # type: ignore[arg-type]


def test_missing_tables_raise_schema_error_saying_what_to_do(backend_url: str) -> None:
    store = SqlStore(backend_url, table_prefix=unique_prefix())
    try:
        with pytest.raises(SchemaError) as info:
            store.get("t", "x")
        assert "create_schema()" in str(info.value)
        assert "keepword db upgrade" in str(info.value)
    finally:
        store.close()


def test_a_newer_schema_version_is_refused(backend_url: str) -> None:
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    table = store.metadata.tables[f"{prefix}schema_version"]
    with store.engine.begin() as conn:
        conn.execute(table.update().values(version=999))
    fresh = SqlStore(backend_url, table_prefix=prefix)
    try:
        with pytest.raises(SchemaError, match="newer"):
            fresh.count("t", Query())
    finally:
        fresh.close()
        store.drop_schema()
        store.close()


@on_sql_stores
def test_create_schema_twice_is_harmless(store: SqlStore) -> None:
    store.create_schema()
    store.add(commitment())
    store.create_schema()
    assert store.count("tenant-a", Query()) == 1


def test_close_leaves_a_callers_engine_usable(backend_url: str) -> None:
    engine = sa.create_engine(backend_url)
    store = SqlStore(engine, table_prefix=unique_prefix())
    store.create_schema()
    store.add(commitment())
    store.drop_schema()
    store.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_a_closed_store_says_so() -> None:
    store = SqlStore("sqlite://")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count("t", Query())


@on_sql_stores
def test_capabilities_are_declared_per_database(store: SqlStore) -> None:
    store.count("t", Query())  # connects, so MariaDB's version is known
    caps = store.capabilities
    assert {"transactions", "multiprocess"} <= caps
    assert ("skip_locked" in caps) == (store.engine.dialect.name != "sqlite")
    assert SqlStore("sqlite://").capabilities == frozenset({"transactions"})


@on_sql_stores
def test_the_tables_are_exposed_as_metadata(store: SqlStore) -> None:
    names = sorted(t.name for t in store.metadata.sorted_tables)
    p = store.table_prefix
    assert names == sorted(
        [
            f"{p}commitments",
            f"{p}events",
            f"{p}notices",
            f"{p}schema_version",
            f"{p}touchpoints",
            f"{p}waitlists",
        ]
    )
    for name in ("commitments", "notices", "touchpoints"):
        table = store.metadata.tables[f"{p}{name}"]
        assert [c.name for c in table.primary_key] == ["tenant", "id"]
        for index in table.indexes:
            if index.name == f"ix_{p}commitments_due_any":
                continue  # the one index across tenants: the tick of every tenant (Ticker)
            assert next(iter(index.columns)).name == "tenant", index.name


def test_sqlite_write_transactions_begin_immediate(tmp_path: Path) -> None:
    """Lesson 3: SQLite writers take the write lock up front; readers do not."""
    store = SqlStore(f"sqlite:///{tmp_path / 'kw.db'}", table_prefix=unique_prefix())
    store.create_schema()
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2].strip().upper()
        if statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    c = commitment()
    store.add(c)
    assert seen == ["BEGIN IMMEDIATE"]
    seen.clear()
    store.get("tenant-a", c.id)
    assert seen == ["BEGIN"]
    seen.clear()
    store.claim_due("tenant-a", T0, limit=5, lease=_dt.timedelta(minutes=1), worker="w")
    store.claim_notices("tenant-a", limit=5, lease=_dt.timedelta(minutes=1), worker="w")
    assert seen == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]  # lesson 3: the claims lock up front
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    store.close()
