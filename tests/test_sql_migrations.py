"""The Alembic migrations build what ``create_schema`` builds, and keep data across versions."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from keepword.errors import SchemaError
from keepword.ports import Query
from keepword.stores.sql import SqlStore, build_metadata, migrate
from keepword.stores.sql._schema import SCHEMA_REVISIONS, SCHEMA_VERSION
from tests.support.backends import unique_prefix
from tests.support.builders import bump, commitment

HEAD = SCHEMA_REVISIONS[SCHEMA_VERSION]


def _schema_shape(engine: sa.Engine, prefix: str) -> dict[str, Any]:
    """Tables, columns, keys and indexes of one prefix, with the prefix taken out."""
    inspector = sa.inspect(engine)
    shape: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if not name.startswith(prefix) or name.endswith("alembic_version"):
            continue
        short = name[len(prefix) :]

        def strip(text: str | None) -> str | None:
            return None if text is None else text.replace(prefix, "{p}")

        shape[short] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "unique": sorted(
                (strip(u["name"]), tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (strip(i["name"]), tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
            "fks": sorted(
                (strip(f["name"]), tuple(f["constrained_columns"]), strip(f["referred_table"]))
                for f in inspector.get_foreign_keys(name)
            ),
        }
    return shape


def test_alembic_upgrade_head_equals_create_all(backend_url: str) -> None:
    """Scenario 20: the migrations build exactly the tables MetaData.create_all builds."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrated, created = unique_prefix(), unique_prefix()
    engine = sa.create_engine(backend_url)
    by_hand = SqlStore(engine, table_prefix=created)
    try:
        migrate.upgrade(engine, table_prefix=migrated)
        by_hand.create_schema()
        assert migrate.current(engine, table_prefix=migrated) == HEAD
        for prefix in (migrated, created):
            metadata = build_metadata(prefix)
            ours = set(metadata.tables)
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "include_name": lambda n, t, _p, ours=ours: t != "table" or n in ours,
                    },
                )
                assert compare_metadata(context, metadata) == [], prefix
        shape = _schema_shape(engine, migrated)
        assert shape == _schema_shape(engine, created)
        # schema 3: the tick's index and the outbox with its exactly-once key
        assert ("ix_{p}commitments_next_action", ("tenant", "next_action_at", "id"), False) in (
            shape["commitments"]["indexes"]
        )
        assert shape["notices"]["pk"] == ["tenant", "id"]
        keys = {cols for _, cols in shape["notices"]["unique"]} | {
            cols for _, cols, unique in shape["notices"]["indexes"] if unique
        }
        assert ("tenant", "idempotency_key") in keys
        # the migrated database works, and says which schema version it is at
        store = SqlStore(engine, table_prefix=migrated)
        store.add(commitment())
        assert store.count("tenant-a", Query()) == 1
    finally:
        migrate.downgrade(engine, table_prefix=migrated, revision="base")
        by_hand.drop_schema()
        SqlStore(engine, table_prefix=migrated).drop_schema()
        engine.dispose()


def test_downgrade_and_upgrade_with_data_present_lose_no_rows(backend_url: str) -> None:
    prefix = unique_prefix()
    engine = sa.create_engine(backend_url)
    try:
        migrate.upgrade(engine, table_prefix=prefix)
        store = SqlStore(engine, table_prefix=prefix)
        batch = [commitment(external_ref=f"r{i}", waiting_for="sku:1") for i in range(50)]
        store.add_many(batch)
        store.update(bump(batch[0], "bob"), expected_version=1)
        before = store.find("tenant-a", Query())
        # back to the schema before commitments had a channel (none of these has one)
        migrate.downgrade(engine, table_prefix=prefix, revision="0003")
        assert migrate.current(engine, table_prefix=prefix) == "0003"
        with pytest.raises(SchemaError, match="older"):
            SqlStore(engine, table_prefix=prefix).count("tenant-a", Query())
        migrate.upgrade(engine, table_prefix=prefix)
        after = SqlStore(engine, table_prefix=prefix).find("tenant-a", Query())
        assert len(after) == len(before) == 50
        assert after == before
    finally:
        migrate.downgrade(engine, table_prefix=prefix, revision="base")
        SqlStore(engine, table_prefix=prefix).drop_schema()
        engine.dispose()


def test_upgrade_adopts_tables_made_by_create_schema(backend_url: str) -> None:
    prefix = unique_prefix()
    engine = sa.create_engine(backend_url)
    store = SqlStore(engine, table_prefix=prefix)
    try:
        store.create_schema()
        store.add(commitment())
        migrate.upgrade(engine, table_prefix=prefix)
        assert migrate.current(engine, table_prefix=prefix) == HEAD
        assert store.count("tenant-a", Query()) == 1
    finally:
        store.drop_schema()
        engine.dispose()
