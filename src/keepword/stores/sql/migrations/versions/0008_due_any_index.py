"""Index commitments by their next step across tenants.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``(next_action_at, id)`` serves the tick across every tenant
(``keepword tick --all-tenants``, :class:`keepword.Ticker`): a claim follows
the work due, whatever its tenant, without scanning.
"""

from __future__ import annotations

from alembic import op

from keepword.stores.sql._migrating import prefix, schema, set_version

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the cross-tenant due index; schema version 8."""
    p = prefix()
    op.create_index(
        f"ix_{p}commitments_due_any",
        f"{p}commitments",
        ["next_action_at", "id"],
        schema=schema(),
    )
    set_version(8)


def downgrade() -> None:
    """Drop the cross-tenant due index; schema version 7."""
    p = prefix()
    op.drop_index(f"ix_{p}commitments_due_any", table_name=f"{p}commitments", schema=schema())
    set_version(7)
