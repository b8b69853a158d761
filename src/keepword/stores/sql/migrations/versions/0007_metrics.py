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

from alembic import op

from keepword.stores.sql import _rows
from keepword.stores.sql._migrating import (
    prefix,
    schema,
    set_version,
    stored_commitments,
    tables,
)
from keepword.stores.sql._schema import (
    MEASURE_COLUMNS,
    SPAN_COLUMNS,
    measure_columns,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _backfill() -> None:
    """Fill the new columns of every existing commitment, a batch of rows at a time."""
    c, _ = tables()
    conn = op.get_bind()
    # the columns this migration finds: not its own, nor those later migrations add
    for batch in stored_commitments(
        later_columns=(*MEASURE_COLUMNS, "rework"), later_event_columns=SPAN_COLUMNS
    ):
        for commitment in batch:
            conn.execute(
                c.update()
                .where(c.c.tenant == commitment.tenant, c.c.id == commitment.id)
                .values(**_rows.measure_values(commitment))
            )


def upgrade() -> None:
    """Add the scorecard's columns and ``(tenant, made_at)``, fill them; schema version 7."""
    table = f"{prefix()}commitments"
    for column in measure_columns():
        op.add_column(table, column, schema=schema())
    op.create_index(f"ix_{prefix()}commitments_made", table, ["tenant", "made_at"], schema=schema())
    _backfill()
    set_version(7)


def downgrade() -> None:
    """Drop the scorecard's columns and index; schema version 6."""
    table = f"{prefix()}commitments"
    op.drop_index(f"ix_{prefix()}commitments_made", table_name=table, schema=schema())
    for name in reversed(MEASURE_COLUMNS):
        op.drop_column(table, name, schema=schema())
    set_version(6)
