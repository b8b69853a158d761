"""Index commitments by the resource they wait for, in arrival order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

``(tenant, waiting_for, made_at)`` serves first-come-first-served
allocation without scanning a tenant's commitments.
"""

from __future__ import annotations

from alembic import op

from keepword.stores.sql._migrating import prefix, schema, set_version

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the waiting index; schema version 2."""
    p = prefix()
    op.create_index(
        f"ix_{p}commitments_waiting",
        f"{p}commitments",
        ["tenant", "waiting_for", "made_at"],
        schema=schema(),
    )
    set_version(2)


def downgrade() -> None:
    """Drop the waiting index; schema version 1."""
    p = prefix()
    op.drop_index(f"ix_{p}commitments_waiting", table_name=f"{p}commitments", schema=schema())
    set_version(1)
