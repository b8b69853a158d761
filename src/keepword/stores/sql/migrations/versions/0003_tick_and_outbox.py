"""The tick and the transactional outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Commitments gain their escalation policy snapshot (``policy``), the
escalation cursor, the indexed ``next_action_at`` the tick claims by, and
the claim columns (``claim_token``, ``claimed_until``).  The ``notices``
table is the outbox: one row per fired step, ``UNIQUE (tenant,
idempotency_key)`` so a step is written at most once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql import _migrating
from keepword.stores.sql._migrating import prefix, set_version
from keepword.stores.sql._schema import Identifier, LongText, NullableJson, UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

_NEW_COLUMNS = ("policy", "escalation_cursor", "next_action_at", "claim_token", "claimed_until")


def upgrade() -> None:
    """Add the tick's columns and index, create the notices table; schema version 3."""
    p, schema = prefix(), _migrating.schema()
    table = f"{p}commitments"
    op.add_column(table, sa.Column("policy", NullableJson(), nullable=True), schema=schema)
    op.add_column(
        table,
        sa.Column("escalation_cursor", sa.Integer(), nullable=False, server_default="0"),
        schema=schema,
    )
    op.add_column(table, sa.Column("next_action_at", UtcDateTime(), nullable=True), schema=schema)
    op.add_column(table, sa.Column("claim_token", Identifier(), nullable=True), schema=schema)
    op.add_column(table, sa.Column("claimed_until", UtcDateTime(), nullable=True), schema=schema)
    op.create_index(
        f"ix_{p}commitments_next_action",
        table,
        ["tenant", "next_action_at", "id"],
        schema=schema,
    )
    op.create_table(
        f"{p}notices",
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("idempotency_key", Identifier(320), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=False),
        sa.Column("deadline_version", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("step", LongText(), nullable=False),
        sa.Column("recipient", LongText(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("owner", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("what", LongText(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("scheduled_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("breach", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_token", Identifier(), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}notices"),
        sa.UniqueConstraint("tenant", "idempotency_key", name=f"uq_{p}notices_key"),
        schema=schema,
        **_MYSQL,
    )
    op.create_index(
        f"ix_{p}notices_state",
        f"{p}notices",
        ["tenant", "state", "fired_at", "scheduled_at", "id"],
        schema=schema,
    )
    set_version(3)


def downgrade() -> None:
    """Drop the notices table and the tick's columns and index; schema version 2."""
    p, schema = prefix(), _migrating.schema()
    table = f"{p}commitments"
    op.drop_table(f"{p}notices", schema=schema)
    op.drop_index(f"ix_{p}commitments_next_action", table_name=table, schema=schema)
    for name in reversed(_NEW_COLUMNS):
        op.drop_column(table, name, schema=schema)
    set_version(2)
