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

from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.measures import time_spans
from keepword.stores.sql import _rows
from keepword.stores.sql._schema import (
    SPAN_COLUMNS,
    build_metadata,
    rework_column,
    span_columns,
)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def _prefix() -> str:
    return str(op.get_context().opts["keepword_table_prefix"])


def _schema() -> str | None:
    value = op.get_context().opts.get("keepword_schema")
    return None if value is None else str(value)


def _set_version(version: int) -> None:
    table = sa.table(
        f"{_prefix()}schema_version", sa.column("name"), sa.column("version"), schema=_schema()
    )
    op.execute(table.update().where(table.c.name == "keepword").values(version=version))


_BATCH = 500


def _backfill() -> None:
    """Fill the spans of every existing event, a batch of commitments at a time."""
    tables = build_metadata(_prefix(), schema=_schema()).tables
    key = (f"{_schema()}." if _schema() else "") + _prefix()
    c, e = tables[key + "commitments"], tables[key + "events"]
    conn = op.get_bind()
    after: tuple[Any, ...] = ("", "")
    base_columns = [col for col in c.columns if col.name != "rework"]
    event_columns = [col for col in e.columns if col.name not in SPAN_COLUMNS]
    update = (
        e.update()
        .where(
            e.c.tenant == sa.bindparam("t"),
            e.c.commitment_id == sa.bindparam("cid"),
            e.c.seq == sa.bindparam("s"),
        )
        .values(
            span_kind=sa.bindparam("b_kind"),
            span_holder=sa.bindparam("b_holder"),
            span_us=sa.bindparam("b_us"),
        )
    )
    while True:
        rows = conn.execute(
            sa.select(*base_columns)
            .where(sa.tuple_(c.c.tenant, c.c.id) > sa.tuple_(*after))
            .order_by(c.c.tenant, c.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        params = []
        for row in rows:
            events = [
                _rows.event_from_row(ev._mapping)
                for ev in conn.execute(
                    sa.select(*event_columns)
                    .where(e.c.tenant == row.tenant, e.c.commitment_id == row.id)
                    .order_by(e.c.seq)
                )
            ]
            commitment = _rows.commitment_from_row(row._mapping, events)
            for seq, (kind, holder, us) in enumerate(time_spans(commitment), start=2):
                params.append(
                    {
                        "t": row.tenant,
                        "cid": row.id,
                        "s": seq,
                        "b_kind": kind,
                        "b_holder": holder,
                        "b_us": us,
                    }
                )
        if params:
            conn.execute(update, params)
        after = (rows[-1].tenant, rows[-1].id)


def upgrade() -> None:
    """Add the events' spans and commitments' ``rework``, fill the spans; schema version 9."""
    for column in span_columns():
        op.add_column(f"{_prefix()}events", column, schema=_schema())
    op.add_column(f"{_prefix()}commitments", rework_column(), schema=_schema())
    _backfill()
    _set_version(9)


def downgrade() -> None:
    """Drop the spans and ``rework``; schema version 8."""
    op.drop_column(f"{_prefix()}commitments", "rework", schema=_schema())
    for name in reversed(SPAN_COLUMNS):
        op.drop_column(f"{_prefix()}events", name, schema=_schema())
    _set_version(8)
