"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Table names come from the run's table prefix: use ``_names()`` (never a
literal table name) so the migration works for every prefix.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | None = ${repr(branch_labels)}
depends_on: str | None = ${repr(depends_on)}


def _prefix() -> str:
    return str(op.get_context().opts["keepword_table_prefix"])


def upgrade() -> None:
    """Upgrade the keepword schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade the keepword schema."""
    ${downgrades if downgrades else "pass"}
