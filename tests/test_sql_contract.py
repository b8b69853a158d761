"""The store contract and the lockstep state machine, on every SQL backend.

The ``store`` fixture (tests/conftest.py), narrowed to SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from keepword.ports import Store
from keepword.stores.sql import SqlStore
from keepword.testing import StoreContract
from keepword.testing.stateful import DEFAULT_SETTINGS, run_store_state_machine
from tests.support.backends import on_sql_stores, unique_prefix


@on_sql_stores
class TestSqlStoreContract(StoreContract):
    """Every behaviour the Store port promises, on every SQL backend."""

    @pytest.fixture
    def store(self, store: Store) -> Store:
        """The shared ``store`` fixture: a fresh SqlStore per test, its tables dropped after."""
        return store


# Each example runs up to 40 steps against a database: 25 examples under the ci
# profile (.ci/run, on every backend), 10 in a default run;
# KEEPWORD_SQL_STATEFUL_EXAMPLES overrides both.
_STATEFUL_EXAMPLES = int(
    os.environ.get("KEEPWORD_SQL_STATEFUL_EXAMPLES")
    or (25 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 10)
)


def test_the_state_machine_finds_no_divergence_from_memory_store(backend_url: str) -> None:
    """Lockstep with MemoryStore, including store reopen (scenario 19, small)."""
    prefix = unique_prefix()
    setup = SqlStore(backend_url, table_prefix=prefix)
    setup.create_schema()
    try:

        def reopen(old: Store) -> Store:
            old.close()
            return SqlStore(backend_url, table_prefix=prefix)

        run_store_state_machine(
            lambda: SqlStore(backend_url, table_prefix=prefix),
            reopen=reopen,
            settings=settings(DEFAULT_SETTINGS, max_examples=_STATEFUL_EXAMPLES),
        )
    finally:
        setup.drop_schema()
        setup.close()
