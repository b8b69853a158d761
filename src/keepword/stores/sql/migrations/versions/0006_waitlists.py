"""Waitlists: first-come-first-served allocation and the fairness audit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Commitments gain the waitlist columns (``quantity``, ``served_quantity``,
``queue_at``, ``turn_at``, ``served_at``, ``served_ahead``, see
:func:`keepword.stores.sql._schema.waitlist_columns`) and the index
``(tenant, waiting_for, queue_at, id)`` that makes the head of a line an
index range; events gain the index ``(tenant, kind, at)`` the audit's
questions run on; the ``waitlists`` table holds one lock row per
``(tenant, resource)``.  Existing commitments that wait for something are
filled in: no commitment was served before this version, so each waits for
its ``terms["quantity"]`` (1 when absent) while open or paused, and its turn
came, and it was served in full, when it was kept.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from keepword.stores.sql import _migrating
from keepword.stores.sql._migrating import prefix, set_version
from keepword.stores.sql._schema import UtcDateTime, waitlist_columns, waitlists_table

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_COLUMNS = ("quantity", "served_quantity", "queue_at", "turn_at", "served_at", "served_ahead")


def _quantity(terms: Any) -> int:
    if isinstance(terms, (str, bytes)):
        terms = json.loads(terms)
    q = terms.get("quantity", 1) if isinstance(terms, dict) else 1
    return q if isinstance(q, int) and not isinstance(q, bool) and q >= 1 else 1


def _fill() -> None:
    """Fill the waitlist columns of the commitments that wait for something."""
    p, schema = prefix(), _migrating.schema()
    c = sa.table(
        f"{p}commitments",
        sa.column("tenant"),
        sa.column("id"),
        sa.column("waiting_for"),
        sa.column("status"),
        sa.column("made_at", UtcDateTime()),
        sa.column("kept_at", UtcDateTime()),
        sa.column("terms", sa.Text()),
        sa.column("quantity"),
        sa.column("served_quantity"),
        sa.column("queue_at", UtcDateTime()),
        sa.column("turn_at", UtcDateTime()),
        sa.column("served_at", UtcDateTime()),
        sa.column("served_ahead"),
        schema=schema,
    )
    waiting = c.c.waiting_for.isnot(None)
    op.execute(
        c.update()
        .where(waiting)
        .values(
            quantity=1,
            served_quantity=0,
            served_ahead=False,
            queue_at=sa.case((c.c.status.in_(("open", "paused")), c.c.made_at), else_=None),
            turn_at=sa.case((c.c.status == "kept", c.c.kept_at), else_=None),
            served_at=sa.case((c.c.status == "kept", c.c.kept_at), else_=None),
        )
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(c.c.tenant, c.c.id, sa.cast(c.c.terms, sa.Text).label("terms")).where(
            waiting, sa.cast(c.c.terms, sa.Text).like('%"quantity"%')
        )
    ).all()
    for row in rows:
        q = _quantity(row.terms)
        if q != 1:
            conn.execute(
                c.update().where(c.c.tenant == row.tenant, c.c.id == row.id).values(quantity=q)
            )


def upgrade() -> None:
    """Add the waitlist columns, indexes and table; schema version 6."""
    p, schema = prefix(), _migrating.schema()
    for column in waitlist_columns():
        op.add_column(f"{p}commitments", column, schema=schema)
    op.create_index(
        f"ix_{p}commitments_queue",
        f"{p}commitments",
        ["tenant", "waiting_for", "queue_at", "id"],
        schema=schema,
    )
    op.create_index(f"ix_{p}events_kind", f"{p}events", ["tenant", "kind", "at"], schema=schema)
    table = waitlists_table(
        p,
        sa.MetaData(schema=schema),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    table.create(op.get_bind())
    _fill()
    set_version(6)


def downgrade() -> None:
    """Drop the waitlist columns, indexes and table; schema version 5."""
    p, schema = prefix(), _migrating.schema()
    op.drop_table(f"{p}waitlists", schema=schema)
    op.drop_index(f"ix_{p}events_kind", table_name=f"{p}events", schema=schema)
    op.drop_index(f"ix_{p}commitments_queue", table_name=f"{p}commitments", schema=schema)
    for name in reversed(_COLUMNS):
        op.drop_column(f"{p}commitments", name, schema=schema)
    set_version(5)
