"""Metrics: commitments gain the columns the scorecard aggregates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The columns of :data:`keepword.stores.sql._schema.MEASURE_COLUMNS` (how a
commitment ended, its business turnaround, first response, breach magnitude,
slack, renegotiations, escalation steps fired, whether it was kept as
promised and whether it was quoted) and the index ``(tenant, made_at)``.
Existing rows are filled in batches from their state and history by
:func:`keepword.measures.measures_of`, the function every later write uses.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql import _rows
from keepword.stores.sql._schema import (
    MEASURE_COLUMNS,
    SPAN_COLUMNS,
    build_metadata,
    measure_columns,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _prefix() -> str:
    return str(op.get_context().opts["keepword_table_prefix"])


def _schema() -> str | None:
    value = op.get_context().opts.get("keepword_schema")
    return None if value is None else str(value)


def _set_version(version: int) -> None:
    table = sa.table(
        f"{_prefix()}schema_version", sa.column("name"), sa.column("version"), schema=_schema()
    )
    op.execute(table.update().where(table.c.name == "keepword").values(version=version))


_BATCH = 500


def _backfill() -> None:
    """Fill the new columns of every existing commitment, a batch of rows at a time."""
    tables = build_metadata(_prefix(), schema=_schema()).tables
    key = (f"{_schema()}." if _schema() else "") + _prefix()
    c, e = tables[key + "commitments"], tables[key + "events"]
    conn = op.get_bind()
    after: tuple[Any, ...] = ("", "")
    # the columns this migration finds: not its own, nor those later migrations add
    base_columns = [col for col in c.columns if col.name not in (*MEASURE_COLUMNS, "rework")]
    event_columns = [col for col in e.columns if col.name not in SPAN_COLUMNS]
    while True:
        rows = conn.execute(
            sa.select(*base_columns)
            .where(sa.tuple_(c.c.tenant, c.c.id) > sa.tuple_(*after))
            .order_by(c.c.tenant, c.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            events = [
                _rows.event_from_row(ev._mapping)
                for ev in conn.execute(
                    sa.select(*event_columns)
                    .where(e.c.tenant == row.tenant, e.c.commitment_id == row.id)
                    .order_by(e.c.seq)
                )
            ]
            commitment = _rows.commitment_from_row(row._mapping, events)
            conn.execute(
                c.update()
                .where(c.c.tenant == row.tenant, c.c.id == row.id)
                .values(**_rows.measure_values(commitment))
            )
        after = (rows[-1].tenant, rows[-1].id)


def upgrade() -> None:
    """Add the scorecard's columns and ``(tenant, made_at)``, fill them; schema version 7."""
    table = f"{_prefix()}commitments"
    for column in measure_columns():
        op.add_column(table, column, schema=_schema())
    op.create_index(
        f"ix_{_prefix()}commitments_made", table, ["tenant", "made_at"], schema=_schema()
    )
    _backfill()
    _set_version(7)


def downgrade() -> None:
    """Drop the scorecard's columns and index; schema version 6."""
    table = f"{_prefix()}commitments"
    op.drop_index(f"ix_{_prefix()}commitments_made", table_name=table, schema=_schema())
    for name in reversed(MEASURE_COLUMNS):
        op.drop_column(table, name, schema=_schema())
    _set_version(6)
