"""Index commitments by the resource they wait for, in arrival order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

``(tenant, waiting_for, made_at)`` serves first-come-first-served
allocation without scanning a tenant's commitments.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _prefix() -> str:
    return str(op.get_context().opts["keepword_table_prefix"])


def _schema() -> str | None:
    value = op.get_context().opts.get("keepword_schema")
    return None if value is None else str(value)


def _set_version(version: int) -> None:
    p, schema = _prefix(), _schema()
    table = sa.table(f"{p}schema_version", sa.column("name"), sa.column("version"), schema=schema)
    op.execute(table.update().where(table.c.name == "keepword").values(version=version))


def upgrade() -> None:
    """Add the waiting index; schema version 2."""
    p = _prefix()
    op.create_index(
        f"ix_{p}commitments_waiting",
        f"{p}commitments",
        ["tenant", "waiting_for", "made_at"],
        schema=_schema(),
    )
    _set_version(2)


def downgrade() -> None:
    """Drop the waiting index; schema version 1."""
    p = _prefix()
    op.drop_index(f"ix_{p}commitments_waiting", table_name=f"{p}commitments", schema=_schema())
    _set_version(1)
