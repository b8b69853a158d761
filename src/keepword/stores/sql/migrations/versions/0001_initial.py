"""Initial schema: commitments, events, schema_version.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Table names come from the run's table prefix.  The column types are
keepword's (UTC instants, byte-exact identifiers, JSON); they are part of
keepword's storage contract and must not change meaning.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql import _migrating
from keepword.stores.sql._migrating import prefix
from keepword.stores.sql._schema import Identifier, Json, LongText, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def upgrade() -> None:
    """Create the three tables and record schema version 1."""
    p, schema = prefix(), _migrating.schema()
    op.create_table(
        f"{p}commitments",
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("owner", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("what", LongText(), nullable=False),
        sa.Column("made_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("external_ref", Identifier(), nullable=True),
        sa.Column("tags", Json(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("waiting_for", Identifier(), nullable=True),
        sa.Column("terms", Json(), nullable=False),
        sa.Column("spec", Identifier(), nullable=True),
        sa.Column("calendar", Json(), nullable=False),
        sa.Column("kept_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("breached_at", UtcDateTime(), nullable=True),
        sa.Column("paused_at", UtcDateTime(), nullable=True),
        sa.Column("lateness_us", sa.BigInteger(), nullable=True),
        sa.Column("deadline_version", sa.Integer(), nullable=False),
        sa.Column("history_length", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}commitments"),
        sa.UniqueConstraint("tenant", "external_ref", name=f"uq_{p}commitments_ref"),
        sa.UniqueConstraint("id", name=f"uq_{p}commitments_id"),
        schema=schema,
        **_MYSQL,
    )
    op.create_index(
        f"ix_{p}commitments_status_due",
        f"{p}commitments",
        ["tenant", "status", "due_at"],
        schema=schema,
    )
    op.create_index(
        f"ix_{p}commitments_customer", f"{p}commitments", ["tenant", "customer"], schema=schema
    )
    op.create_index(
        f"ix_{p}commitments_owner", f"{p}commitments", ["tenant", "owner"], schema=schema
    )
    parent = f"{schema}.{p}commitments" if schema else f"{p}commitments"
    op.create_table(
        f"{p}events",
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", Identifier(), nullable=True),
        sa.Column("data", Json(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "commitment_id", "seq", name=f"pk_{p}events"),
        sa.ForeignKeyConstraint(
            ["tenant", "commitment_id"],
            [f"{parent}.tenant", f"{parent}.id"],
            name=f"fk_{p}events_commitment",
            ondelete="CASCADE",
        ),
        schema=schema,
        **_MYSQL,
    )
    version = op.create_table(
        f"{p}schema_version",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=f"pk_{p}schema_version"),
        schema=schema,
        **_MYSQL,
    )
    op.bulk_insert(version, [{"name": "keepword", "version": 1}])


def downgrade() -> None:
    """Drop the three tables (and every commitment in them)."""
    p, schema = prefix(), _migrating.schema()
    op.drop_table(f"{p}events", schema=schema)
    op.drop_table(f"{p}commitments", schema=schema)
    op.drop_table(f"{p}schema_version", schema=schema)
