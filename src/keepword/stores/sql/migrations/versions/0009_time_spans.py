"""Where the time went, and rework: events gain spans, commitments gain ``rework``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Each event row gains :data:`keepword.stores.sql._schema.SPAN_COLUMNS`: what
held the commitment's time up to that event (an owner, or a pause and its
reason) and for how much business time, so the scorecard adds up where the
time of breached promises went with one ``GROUP BY``.  Existing events are
filled in batches by :func:`keepword.measures.time_spans`, the function every
later write uses.  Commitments gain ``rework`` (a promise reopening a kept
one within the rework window); no existing commitment is one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keepword.measures import time_spans
from keepword.stores.sql._migrating import (
    prefix,
    schema,
    set_version,
    stored_commitments,
    tables,
)
from keepword.stores.sql._schema import (
    SPAN_COLUMNS,
    rework_column,
    span_columns,
)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def _backfill() -> None:
    """Fill the spans of every existing event, a batch of commitments at a time."""
    _, e = tables()
    update = (
        e.update()
        .where(
            e.c.tenant == sa.bindparam("b_tenant"),
            e.c.commitment_id == sa.bindparam("b_id"),
            e.c.seq == sa.bindparam("b_seq"),
        )
        .values(
            span_kind=sa.bindparam("b_kind"),
            span_holder=sa.bindparam("b_holder"),
            span_us=sa.bindparam("b_us"),
        )
    )
    conn = op.get_bind()
    for batch in stored_commitments(later_columns=("rework",), later_event_columns=SPAN_COLUMNS):
        params = [
            {
                "b_tenant": c.tenant,
                "b_id": c.id,
                "b_seq": seq,
                "b_kind": kind,
                "b_holder": holder,
                "b_us": us,
            }
            for c in batch
            for seq, (kind, holder, us) in enumerate(time_spans(c), start=2)
        ]
        if params:
            conn.execute(update, params)


def upgrade() -> None:
    """Add the events' spans and commitments' ``rework``, fill the spans; schema version 9."""
    for column in span_columns():
        op.add_column(f"{prefix()}events", column, schema=schema())
    op.add_column(f"{prefix()}commitments", rework_column(), schema=schema())
    _backfill()
    set_version(9)


def downgrade() -> None:
    """Drop the spans and ``rework``; schema version 8."""
    op.drop_column(f"{prefix()}commitments", "rework", schema=schema())
    for name in reversed(SPAN_COLUMNS):
        op.drop_column(f"{prefix()}events", name, schema=schema())
    set_version(8)
