"""Reading a ``SqlStore``'s tables beside its API: rows, the outbox, the database clock."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import sqlalchemy as sa

from keepword.stores.sql import SqlStore


def read_row(store: SqlStore, table: str, tenant: str, id: str) -> dict[str, Any]:
    """The one row of ``table`` (``"commitments"`` or ``"notices"``) keyed ``(tenant, id)``."""
    t = store.metadata.tables[f"{store.table_prefix}{table}"]
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(t).where(t.c.tenant == tenant, t.c.id == id)).mappings()
        return dict(found.one())


def database_now(store: SqlStore) -> _dt.datetime:
    """The database's clock, as the store reads it for leases."""
    from keepword.stores.sql import _dialect

    with store.engine.connect() as conn:
        return _dialect.db_now(conn)


def count_notices(store: SqlStore, key: str | None = None) -> int:
    """Rows in the outbox (of every tenant), or those with the idempotency key ``key``."""
    t = store.metadata.tables[f"{store.table_prefix}notices"]
    stmt = sa.select(sa.func.count()).select_from(t)
    if key is not None:
        stmt = stmt.where(t.c.idempotency_key == key)
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())
