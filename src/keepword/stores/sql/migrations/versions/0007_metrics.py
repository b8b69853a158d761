"""Metrics: what the scorecard aggregates (placeholder: filled by the measuring change).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def upgrade() -> None:
    """Schema version 7."""
    _set_version(7)


def downgrade() -> None:
    """Schema version 6."""
    _set_version(6)
