"""``SqlStore``'s :class:`~keepword.ports.Waitlist`: allocation in turn, and the audit's questions.

Order under concurrency.  ``FOR UPDATE SKIP LOCKED`` alone cannot keep
first come, first served: while a slow worker holds the head of the line, a
fast one would skip it and serve the next row.  So an allocation first locks
its resource's row in ``{prefix}waitlists`` with a plain ``SELECT ... FOR
UPDATE`` (created on first use), which makes allocations of one
``(tenant, resource)`` wait for each other; only then does it read the head
of the line (the index range ``(tenant, waiting_for, queue_at, id)`` where
``queue_at`` is not ``NULL``), at READ COMMITTED so it sees what the previous
holder committed.  On SQLite the write transaction's ``BEGIN IMMEDIATE``
already serializes every writer.  Allocations of different resources run in
parallel.

The audit's questions are single statements: a window function over the
line (``MAX(COALESCE(served_at, closed_at)) OVER (PARTITION BY waiting_for
ORDER BY made_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)``,
and a running count of the earlier ones neither served nor closed) finds the
commitments whose turn came while an earlier one still waited, and ``GROUP BY`` on the events'
index ``(tenant, kind, at)`` counts renegotiations.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepword import fairness
from keepword._validate import check_count, check_identifier, check_positive
from keepword.commitment import Commitment
from keepword.errors import ConflictError
from keepword.fairness import OutOfTurn, PauseRecord, Renegotiations, WaiverRecord
from keepword.stores._memory_waitlists import check_first_waiting, check_serve_args, serve_plan
from keepword.stores.sql import _dialect, _rows
from keepword.stores.sql._base import SqlStoreBase

__all__ = ["SqlWaitlists"]

PAGE = 200
"""Rows of the line read per statement while an allocation walks it."""


_WAITLIST_COLUMNS = (
    "version",
    "history_length",
    "quantity",
    "served_quantity",
    "queue_at",
    "turn_at",
    "served_at",
    "served_ahead",
)
"""What serving always sets (besides whatever else the ``"served"`` event changed)."""


def _serve_params(old: Commitment, new: Commitment, columns: tuple[str, ...]) -> dict[str, Any]:
    row = {"version": new.version, "history_length": len(new.history), **_rows.waitlist_row(new)}
    if any(name not in row for name in columns):  # the event changed more (rare): the whole row
        row = _rows.commitment_to_row(new)
    params = {f"v_{name}": row[name] for name in columns}
    params.update(k_tenant=old.tenant, k_id=old.id, k_version=old.version)
    return params


class SqlWaitlists(SqlStoreBase):
    """The waitlists port of :class:`~keepword.stores.sql.SqlStore` (a mixin)."""

    @functools.cached_property
    def _w(self) -> sa.Table:
        """``{prefix}waitlists``."""
        name = f"{self._prefix}waitlists"
        key = f"{self._schema_name}.{name}" if self._schema_name else name
        return self._metadata.tables[key]

    # ------------------------------------------------------------------ allocation

    def serve_in_turn(
        self,
        tenant: str,
        resource: str,
        *,
        quantity: int,
        at: _dt.datetime,
        partial: bool = False,
        first: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        """Serve units in turn, one allocation per resource at a time.

        Locks the resource's ``{prefix}waitlists`` row ``FOR UPDATE`` (not
        ``SKIP LOCKED``), reads the line in ``(made_at, id)`` order a page at
        a time, applies :func:`keepword.transitions.serve` to each share and
        writes each with a version guard, all in one transaction.  See
        :meth:`keepword.ports.Waitlist.serve_in_turn`.
        """
        tenant, resource, quantity, when, partial, ids = check_serve_args(
            tenant, resource, quantity, at, partial, first, reason, actor
        )

        def attempt(conn: Connection) -> list[Commitment]:
            last = self._lock_resource(conn, tenant, resource)
            at = when if last is None or when >= last else last
            chosen = check_first_waiting(tenant, resource, ids, self._by_ids(conn, tenant, ids).get)
            plan = serve_plan(
                self._line_pages(conn, tenant, resource, min(quantity + 1, PAGE)),
                chosen,
                resource,
                quantity,
                at,
                partial,
                reason,
                actor,
            )
            if not plan:
                return []
            columns: set[str] = set(_WAITLIST_COLUMNS)
            for old, new in plan:
                columns |= _rows.changed_columns(new, old)
            names = tuple(sorted(columns))
            params = [_serve_params(old, new, names) for old, new in plan]
            if int(conn.execute(self._serve_stmt(names), params).rowcount) != len(plan):
                raise ConflictError(
                    "a commitment changed while it was being served",
                    fix="allocate again: the line is read afresh",
                )
            self._append_events(
                conn,
                tenant,
                [new for _old, new in plan],
                compare_data=False,
                loaded={old.id: old for old, _new in plan},
            )
            units = sum(new.history[-1].data["quantity"] for _old, new in plan)
            w = self._w
            conn.execute(
                sa.update(w)
                .where(w.c.tenant == tenant, w.c.resource == resource)
                .values(
                    allocations=w.c.allocations + 1,
                    served_units=w.c.served_units + units,
                    last_at=at,
                )
            )
            return [new for _old, new in plan]

        return self._run("serve_in_turn", attempt, write=True, read_committed=True)

    def _lock_resource(self, conn: Connection, tenant: str, resource: str) -> _dt.datetime | None:
        """Hold the resource's lock row until the transaction ends (made on first use).

        Returns the instant of the resource's last allocation that served
        anyone, or ``None``.
        """
        w = self._w
        select = sa.select(w.c.last_at).where(w.c.tenant == tenant, w.c.resource == resource)
        if self.traits.row_locks:
            select = select.with_for_update()
        row = conn.execute(select).first()
        if row is not None:
            last: _dt.datetime | None = row.last_at
            return last
        insert = _dialect.insert_ignore(w, self._engine.dialect.name).values(
            tenant=tenant, resource=resource, allocations=0, served_units=0, last_at=None
        )
        conn.execute(insert)
        row = conn.execute(select).first()
        made: _dt.datetime | None = None if row is None else row.last_at
        return made

    def _serve_stmt(self, columns: tuple[str, ...]) -> sa.Update:
        """The batched ``UPDATE`` of the served rows: ``columns`` set, guarded by the version."""
        c = self._c
        values = {name: sa.bindparam(f"v_{name}", type_=c.c[name].type) for name in columns}
        return (
            sa.update(c)
            .where(
                c.c.tenant == sa.bindparam("k_tenant", type_=c.c.tenant.type),
                c.c.id == sa.bindparam("k_id", type_=c.c.id.type),
                c.c.version == sa.bindparam("k_version", type_=c.c.version.type),
            )
            .values(values)
        )

    def _by_ids(self, conn: Connection, tenant: str, ids: Sequence[str]) -> dict[str, Commitment]:
        if not ids:
            return {}
        c = self._c
        rows = (
            conn.execute(
                sa.select(*self._commitment_columns).where(
                    c.c.tenant == tenant, self._one_of(c.c.id, list(ids))
                )
            )
            .mappings()
            .all()
        )
        return {x.id: x for x in self._load(conn, tenant, rows)}

    def _line_stmt(self, tenant: str, resource: str, limit: int) -> sa.Select[Any]:
        c = self._c
        return (
            sa.select(*self._commitment_columns)
            .where(c.c.tenant == tenant, c.c.waiting_for == resource, c.c.queue_at.isnot(None))
            .order_by(c.c.queue_at, c.c.id)
            .limit(limit)
        )

    def _line_pages(
        self, conn: Connection, tenant: str, resource: str, first_page: int = PAGE
    ) -> Any:
        """The line, in order, read a page at a time as the allocation walks it.

        The first page is ``first_page`` rows (an allocation of ``q`` units
        needs at most ``q + 1``: each order served takes a unit, and one more
        may stop the line); the later ones :data:`PAGE`.
        """
        c = self._c
        after: tuple[_dt.datetime, str] | None = None
        size = first_page
        while True:
            stmt = self._line_stmt(tenant, resource, size)
            if after is not None:
                stmt = stmt.where(
                    sa.or_(
                        c.c.queue_at > after[0],
                        sa.and_(c.c.queue_at == after[0], c.c.id > after[1]),
                    )
                )
            rows = conn.execute(stmt).mappings().all()
            yield from self._load(conn, tenant, rows)
            if len(rows) < size:
                return
            after = (rows[-1]["queue_at"], rows[-1]["id"])
            size = PAGE

    def waiting(self, tenant: str, resource: str, *, limit: int | None = None) -> list[Commitment]:
        """The line for ``resource``, read off the index ``(tenant, waiting_for, queue_at, id)``.

        See :meth:`keepword.ports.Waitlist.waiting`.
        """
        check_identifier(tenant, "tenant")
        fairness.check_resource(resource)
        n = None if limit is None else check_positive(limit, "limit")

        def read(conn: Connection) -> list[Commitment]:
            if n is not None:
                stmt = self._line_stmt(tenant, resource, n)
                return self._load(conn, tenant, conn.execute(stmt).mappings().all())
            return list(self._line_pages(conn, tenant, resource))

        return self._run("waiting", read, write=False)

    # ------------------------------------------------------------------ the audit's questions

    def _window(
        self, column: sa.ColumnElement[Any], since: _dt.datetime | None, until: _dt.datetime | None
    ) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if since is not None:
            out.append(column >= since)
        if until is not None:
            out.append(column < until)
        return out

    def served_out_of_turn(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[OutOfTurn]:
        """One window query over the tenant's lines, then the jumped ones of each found.

        See :meth:`keepword.ports.Waitlist.served_out_of_turn`.
        """
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        stmt = self.out_of_turn_stmt(tenant, lo, hi)

        def read(conn: Connection) -> list[OutOfTurn]:
            found = conn.execute(stmt).all()
            reasons = self._exceptions(conn, tenant, [r.id for r in found if r.served_ahead])
            out = []
            for r in found:
                reason, actor = reasons.get(r.id, (None, None))
                out.append(
                    OutOfTurn(
                        commitment_id=r.id,
                        customer=r.customer,
                        resource=r.waiting_for,
                        at=r.turn_at,
                        earlier=self._earlier(conn, tenant, r),
                        ahead=bool(r.served_ahead),
                        reason=reason,
                        actor=actor,
                    )
                )
            return out

        return self._run("served_out_of_turn", read, write=False)

    def out_of_turn_stmt(
        self, tenant: str, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> sa.Select[Any]:
        """The window query behind :meth:`served_out_of_turn` (printed by the benchmark)."""
        c = self._c
        earlier: dict[str, Any] = {
            "partition_by": c.c.waiting_for,
            "order_by": (c.c.made_at, c.c.id),
            "rows": (None, -1),
        }
        unsettled = sa.case((sa.and_(c.c.served_at.is_(None), c.c.closed_at.is_(None)), 1), else_=0)
        line = (
            sa.select(
                c.c.id,
                c.c.customer,
                c.c.waiting_for,
                c.c.made_at,
                c.c.turn_at,
                c.c.served_ahead,
                sa.func.max(sa.func.coalesce(c.c.served_at, c.c.closed_at))
                .over(**earlier)
                .label("settled_before"),
                sa.func.sum(unsettled).over(**earlier).label("waiting_before"),
            )
            .where(c.c.tenant == tenant, c.c.waiting_for.isnot(None))
            .subquery("line")
        )
        return (
            sa.select(
                line.c.id,
                line.c.customer,
                line.c.waiting_for,
                line.c.made_at,
                line.c.turn_at,
                line.c.served_ahead,
            )
            .where(
                line.c.turn_at.isnot(None),
                *self._window(line.c.turn_at, since, until),
                sa.or_(
                    line.c.waiting_before > 0,
                    line.c.settled_before > line.c.turn_at,
                    line.c.served_ahead.is_(True),
                ),
            )
            .order_by(line.c.turn_at, line.c.id)
        )

    def _earlier(self, conn: Connection, tenant: str, r: Any) -> tuple[str, ...]:
        c = self._c
        settled = sa.func.coalesce(c.c.served_at, c.c.closed_at)
        stmt = (
            sa.select(c.c.id)
            .where(
                c.c.tenant == tenant,
                c.c.waiting_for == r.waiting_for,
                sa.or_(c.c.made_at < r.made_at, sa.and_(c.c.made_at == r.made_at, c.c.id < r.id)),
                sa.or_(settled.is_(None), settled > r.turn_at),
            )
            .order_by(c.c.made_at, c.c.id)
            .limit(fairness.EARLIER_SHOWN)
        )
        return tuple(conn.execute(stmt).scalars())

    def _exceptions(
        self, conn: Connection, tenant: str, ids: list[str]
    ) -> dict[str, tuple[str | None, str | None]]:
        """The reason and actor of each one's first ``"served"`` event."""
        e = self._e
        out: dict[str, tuple[str | None, str | None]] = {}
        if not ids:
            return out
        stmt = (
            sa.select(e.c.commitment_id, e.c.actor, e.c.data)
            .where(e.c.tenant == tenant, e.c.kind == "served", self._one_of(e.c.commitment_id, ids))
            .order_by(e.c.commitment_id, e.c.seq)
        )
        for row in conn.execute(stmt):
            if row.commitment_id not in out:
                reason = _data(row.data).get("reason")
                out[row.commitment_id] = (reason if isinstance(reason, str) else None, row.actor)
        return out

    def _events_of_kind(
        self, tenant: str, kind: str, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> sa.Select[Any]:
        e, c = self._e, self._c
        return (
            sa.select(e.c.commitment_id, e.c.at, e.c.actor, e.c.data, c.c.customer, c.c.kind)
            .join(c, sa.and_(c.c.tenant == e.c.tenant, c.c.id == e.c.commitment_id))
            .where(e.c.tenant == tenant, e.c.kind == kind, *self._window(e.c.at, since, until))
            .order_by(e.c.at, e.c.commitment_id, e.c.seq)
        )

    def renegotiated_more_than(
        self,
        tenant: str,
        n: int,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[Renegotiations]:
        """``GROUP BY`` over the events' index ``(tenant, kind, at)``.

        See :meth:`keepword.ports.Waitlist.renegotiated_more_than`.
        """
        check_identifier(tenant, "tenant")
        check_count(n, "n", 0)
        lo, hi = fairness.check_window(since, until)
        stmt = self.renegotiated_stmt(tenant, n, lo, hi)

        def read(conn: Connection) -> list[Renegotiations]:
            return [
                Renegotiations(
                    commitment_id=r.commitment_id,
                    customer=r.customer,
                    count=int(r.times),
                    last_at=r.last_at,
                )
                for r in conn.execute(stmt)
            ]

        return self._run("renegotiated_more_than", read, write=False)

    def renegotiated_stmt(
        self, tenant: str, n: int, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> sa.Select[Any]:
        """The query behind :meth:`renegotiated_more_than` (printed by the benchmark)."""
        e, c = self._e, self._c
        counted = (
            sa.select(
                e.c.commitment_id,
                sa.func.count().label("times"),
                sa.func.max(e.c.at).label("last_at"),
            )
            .where(
                e.c.tenant == tenant,
                e.c.kind == "renegotiated",
                *self._window(e.c.at, since, until),
            )
            .group_by(e.c.commitment_id)
            .having(sa.func.count() > n)
            .subquery("counted")
        )
        return (
            sa.select(counted.c.commitment_id, counted.c.times, counted.c.last_at, c.c.customer)
            .join(c, sa.and_(c.c.tenant == tenant, c.c.id == counted.c.commitment_id))
            .order_by(counted.c.commitment_id)
        )

    def pauses(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[PauseRecord]:
        """The ``"paused"`` events, off the events' index.

        See :meth:`keepword.ports.Waitlist.pauses`.
        """
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        stmt = self._events_of_kind(tenant, "paused", lo, hi)

        def read(conn: Connection) -> list[PauseRecord]:
            return [
                PauseRecord(
                    commitment_id=r.commitment_id, customer=r.customer, at=r.at, actor=r.actor
                )
                for r in conn.execute(stmt)
            ]

        return self._run("pauses", read, write=False)

    def waived_replies(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[WaiverRecord]:
        """The waived replies' ``"cancelled"`` events, off the events' index.

        See :meth:`keepword.ports.Waitlist.waived_replies`.
        """
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        stmt = self._events_of_kind(tenant, "cancelled", lo, hi).where(self._c.c.kind == "reply")

        def read(conn: Connection) -> list[WaiverRecord]:
            return [
                WaiverRecord(
                    commitment_id=r.commitment_id, customer=r.customer, at=r.at, actor=r.actor
                )
                for r in conn.execute(stmt)
                if _data(r.data).get("waived") is True
            ]

        return self._run("waived_replies", read, write=False)


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}
