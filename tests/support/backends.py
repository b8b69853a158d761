"""The stores the tests run on: MemoryStore, and SqlStore on SQLite, PostgreSQL and MariaDB.

SQLite always runs, on a temporary file.  PostgreSQL and MariaDB run when
``KEEPWORD_TEST_POSTGRES_URL`` and ``KEEPWORD_TEST_MARIADB_URL`` are set
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` and
``mysql+pymysql://root@127.0.0.1:3306/test``); otherwise their tests skip,
saying which variable to set, or fail when ``KEEPWORD_REQUIRE_SERVERS`` is set.

The ``store`` and ``backend_url`` fixtures in ``tests/conftest.py`` are built
from :data:`STORES`, :data:`SQL_BACKENDS` and :func:`open_backend`.  A module
or class whose tests are about SQL only narrows ``store`` with
:data:`on_sql_stores`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from keepword.ports import Store
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore

ENV = {"postgresql": "KEEPWORD_TEST_POSTGRES_URL", "mariadb": "KEEPWORD_TEST_MARIADB_URL"}
"""The environment variable that holds each server's URL."""

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql"),
    pytest.param("mariadb", id="mariadb"),
]
"""The SQL backends, as parameters with readable ids."""

STORES = [pytest.param("memory", id="memory"), *SQL_BACKENDS]
"""Every store the tests run on: the reference store first, then the SQL backends."""

on_sql_stores = pytest.mark.parametrize("store", SQL_BACKENDS, indirect=True)
"""A mark that narrows the ``store`` fixture to the SQL backends (a module's ``pytestmark``)."""


def backend_url(name: str, tmp_path: Path) -> str:
    """The URL to test the SQL backend ``name`` on, or skip saying which variable to set."""
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'keepword.db'}"
    url = os.environ.get(ENV[name])
    if not url and os.environ.get("KEEPWORD_REQUIRE_SERVERS"):
        pytest.fail(f"KEEPWORD_REQUIRE_SERVERS is set but {ENV[name]} is not")
    if not url:
        pytest.skip(f"set {ENV[name]} to run the {name} tests (e.g. a throwaway database URL)")
    return url


def unique_prefix() -> str:
    """A fresh table prefix, so tests sharing a server database never meet."""
    return f"kwt{uuid.uuid4().hex[:10]}_"


def open_store(url: str, prefix: str | None = None) -> Iterator[SqlStore]:
    """Yield a store with fresh tables; check for leaked connections, then drop them.

    The tables are created and dropped through a second store, so a test may
    close the one it gets.
    """
    prefix = prefix or unique_prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    store = SqlStore(url, table_prefix=prefix)
    try:
        yield store
        checked_out = store.engine.pool.checkedout()  # type: ignore[attr-defined]
        assert checked_out == 0, f"{checked_out} connection(s) not returned to the pool"
    finally:
        store.close()
        admin.drop_schema()
        admin.close()


def open_backend(name: str, tmp_path: Path) -> Iterator[Store]:
    """Yield a fresh, empty store of the backend ``name`` (one of :data:`STORES`)."""
    if name == "memory":
        memory = MemoryStore()
        try:
            yield memory
        finally:
            memory.close()
        return
    yield from open_store(backend_url(name, tmp_path))
