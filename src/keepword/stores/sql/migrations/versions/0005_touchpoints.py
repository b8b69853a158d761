"""Touchpoints: the customer-care log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

One row per contact between the business and a customer (a message
received, a reply, a thank-you, a follow-up, an extra-mile gesture, an
occasion), append-only, per tenant.  ``UNIQUE (tenant, kind, ref)`` makes a
webhook retry store nothing new; ``(tenant, customer, at)`` serves a
customer's story and the last contact per customer, ``(tenant, kind, at)``
the thank-yous and the extra-mile picks.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql import _migrating
from keepword.stores.sql._migrating import prefix, schema, set_version
from keepword.stores.sql._schema import Identifier, Json, UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def upgrade() -> None:
    """Create the touchpoints table and its indexes; schema version 5."""
    p, schema = prefix(), _migrating.schema()
    op.create_table(
        f"{p}touchpoints",
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("channel", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("occasion", Identifier(), nullable=True),
        sa.Column("actor", Identifier(), nullable=True),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=True),
        sa.Column("ref", Identifier(), nullable=True),
        sa.Column("thread", Identifier(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("data", Json(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}touchpoints"),
        sa.UniqueConstraint("id", name=f"uq_{p}touchpoints_id"),
        sa.UniqueConstraint("tenant", "kind", "ref", name=f"uq_{p}touchpoints_ref"),
        schema=schema,
        **_MYSQL,
    )
    for name, columns in (
        ("customer", ["tenant", "customer", "at"]),
        ("kind", ["tenant", "kind", "at"]),
    ):
        op.create_index(f"ix_{p}touchpoints_{name}", f"{p}touchpoints", columns, schema=schema)
    set_version(5)


def downgrade() -> None:
    """Drop the touchpoints table (and its indexes); schema version 4."""
    op.drop_table(f"{prefix()}touchpoints", schema=schema())
    set_version(4)
