"""What keepword's Alembic migrations share: the prefix, the schema, the version, the backfill.

Each migration in ``migrations/versions`` runs inside Alembic's context
(``alembic.op``), configured by ``migrations/env.py`` with keepword's table
prefix and database schema; these helpers read them from there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import sqlalchemy as sa
from alembic import op

from keepword.commitment import Commitment
from keepword.stores.sql import _rows
from keepword.stores.sql._schema import build_metadata

__all__ = ["prefix", "schema", "set_version", "stored_commitments"]

BATCH = 500
"""Commitments a backfill reads per query."""


def prefix() -> str:
    """The table prefix the migration runs for."""
    return str(op.get_context().opts["keepword_table_prefix"])


def schema() -> str | None:
    """The database schema the migration runs in, or ``None`` for the default one."""
    value = op.get_context().opts.get("keepword_schema")
    return None if value is None else str(value)


def set_version(version: int) -> None:
    """Record ``version`` in ``{prefix}schema_version``."""
    table = sa.table(
        f"{prefix()}schema_version", sa.column("name"), sa.column("version"), schema=schema()
    )
    op.execute(table.update().where(table.c.name == "keepword").values(version=version))


def tables() -> tuple[sa.Table, sa.Table]:
    """The commitments and events tables as this keepword defines them."""
    found = build_metadata(prefix(), schema=schema()).tables
    key = (f"{schema()}." if schema() else "") + prefix()
    return found[key + "commitments"], found[key + "events"]


def stored_commitments(
    *, later_columns: Collection[str] = (), later_event_columns: Collection[str] = ()
) -> Iterator[list[Commitment]]:
    """Every stored commitment with its events, a batch at a time, in ``(tenant, id)`` order.

    ``later_columns`` and ``later_event_columns`` name the columns the tables
    do not have yet at this migration (its own, and later migrations'), so
    they are not read.
    """
    c, e = tables()
    conn = op.get_bind()
    columns = [col for col in c.columns if col.name not in later_columns]
    event_columns = [col for col in e.columns if col.name not in later_event_columns]
    after: tuple[str, str] = ("", "")
    while True:
        rows = conn.execute(
            sa.select(*columns)
            .where(sa.tuple_(c.c.tenant, c.c.id) > sa.tuple_(*after))
            .order_by(c.c.tenant, c.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        batch = []
        for row in rows:
            events = [
                _rows.event_from_row(ev._mapping)
                for ev in conn.execute(
                    sa.select(*event_columns)
                    .where(e.c.tenant == row.tenant, e.c.commitment_id == row.id)
                    .order_by(e.c.seq)
                )
            ]
            batch.append(_rows.commitment_from_row(row._mapping, events))
        yield batch
        after = (rows[-1].tenant, rows[-1].id)
