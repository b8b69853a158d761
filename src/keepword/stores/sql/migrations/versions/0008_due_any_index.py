"""Index commitments by their next step across tenants.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``(next_action_at, id)`` serves the tick across every tenant
(``keepword tick --all-tenants``, :class:`keepword.Ticker`): a claim follows
the work due, whatever its tenant, without scanning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
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
    """Add the cross-tenant due index; schema version 8."""
    p = _prefix()
    op.create_index(
        f"ix_{p}commitments_due_any",
        f"{p}commitments",
        ["next_action_at", "id"],
        schema=_schema(),
    )
    _set_version(8)


def downgrade() -> None:
    """Drop the cross-tenant due index; schema version 7."""
    p = _prefix()
    op.drop_index(f"ix_{p}commitments_due_any", table_name=f"{p}commitments", schema=_schema())
    _set_version(7)
