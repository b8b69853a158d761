"""Commitments gain ``channel``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Where the customer is answered or reached (``"email"``, ``"phone"``, ...):
reply commitments carry the channel the message came in on, and the
scorecard groups by it.  Existing commitments get ``NULL`` (no channel).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql._migrating import prefix, schema, set_version
from keepword.stores.sql._schema import Identifier

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``commitments.channel``; schema version 4."""
    op.add_column(
        f"{prefix()}commitments",
        sa.Column("channel", Identifier(), nullable=True),
        schema=schema(),
    )
    set_version(4)


def downgrade() -> None:
    """Drop ``commitments.channel``; schema version 3."""
    op.drop_column(f"{prefix()}commitments", "channel", schema=schema())
    set_version(3)
