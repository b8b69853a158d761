"""``SqlStore``'s :class:`~keepword.ports.TouchpointLog`: the customer-care log.

Touchpoints are appended, never changed.  ``add_touchpoint`` is idempotent
on ``(tenant, kind, ref)`` through the table's unique key: of several
processes adding one ref at once, one insert wins and the others, refused
by the key, read the winner back.  The three aggregate questions the
customer-care services ask (who is owed thanks, who is next for an extra
mile, who went quiet) are each one query over the commitments and
touchpoints tables, grouped in the database: no loop over rows here.
The extra-mile order is ``md5(seed || ':' || customer)`` in SQL (SQLite gets
an ``md5`` function on every connection, see
:func:`keepword.stores.sql._dialect.prepare_engine`), the same as
:func:`keepword.touchpoint.pick_order`.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_positive, check_text
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import check_touchpoint_writes
from keepword.stores.sql import _rows, _schema
from keepword.stores.sql._base import MAX_VERSION, SqlStoreBase
from keepword.touchpoint import Touchpoint

if TYPE_CHECKING:
    from keepword.stores.sql._commitments import SqlCommitments

__all__ = ["SqlTouchpoints"]

THANK_YOU = "thank_you"
EXTRA_MILE = "extra_mile"


def _optional(value: Any, argument: str) -> str | None:
    return None if value is None else check_identifier(value, argument)


def _instant(value: Any, argument: str) -> _dt.datetime | None:
    return None if value is None else to_utc(value, argument)


def _limit(value: Any) -> int | None:
    return None if value is None else check_positive(value, "limit")


class SqlTouchpoints(SqlStoreBase):
    """The touchpoint log of ``SqlStore`` (port ``"touchpoints"``)."""

    @functools.cached_property
    def _tp(self) -> sa.Table:
        """The ``{prefix}touchpoints`` table."""
        name = _schema.table_names(self._prefix)[4]
        schema = self._schema_name
        return self._metadata.tables[f"{schema}.{name}" if schema else name]

    # ------------------------------------------------------------------ writes

    def add_touchpoint(self, touchpoint: Touchpoint) -> tuple[Touchpoint, bool]:
        """Store a touchpoint unless its ``(tenant, kind, ref)`` is stored already.

        See :meth:`keepword.ports.TouchpointLog.add_touchpoint`.  Race-safe:
        when concurrent adds of one ref collide on ``UNIQUE (tenant, kind,
        ref)``, the losers read and return the winner's touchpoint.

        Raises:
            InvalidArgumentError: not a ``Touchpoint``.
            ConflictError: its id is stored already (in any tenant).
        """
        if not isinstance(touchpoint, Touchpoint):
            raise InvalidArgumentError(
                f"must be a Touchpoint, not {type(touchpoint).__name__}", argument="touchpoint"
            )
        new = touchpoint
        ref = new.ref
        row = _rows.touchpoint_to_row(new)

        def attempt(conn: Connection) -> tuple[Touchpoint, bool]:
            if ref is not None:
                existing = self._touchpoint_by_ref(conn, new.tenant, new.kind, ref)
                if existing is not None:
                    return existing, False
            conn.execute(sa.insert(self._tp), [row])
            return new, True

        try:
            return self._run("add_touchpoint", attempt, write=True)
        except ConflictError:
            if ref is not None:
                found = self._run(
                    "add_touchpoint",
                    lambda conn: self._touchpoint_by_ref(conn, new.tenant, new.kind, ref),
                    write=False,
                )
                if found is not None:
                    return found, False
            raise ConflictError(
                f"touchpoint id {new.id!r} is stored already",
                argument="touchpoint",
                fix="give every new touchpoint a fresh id (keepword._ids.new_id)",
            ) from None

    def add_touchpoint_with(
        self,
        touchpoint: Touchpoint,
        *,
        add: Sequence[Commitment] = (),
        update: Sequence[tuple[Commitment, int]] = (),
    ) -> tuple[Touchpoint, bool]:
        """Store a touchpoint and its commitment writes in one transaction, or nothing.

        See :meth:`keepword.ports.AtomicTouchpoints.add_touchpoint_with`.
        In one transaction: the touchpoint's insert, one multi-row insert of
        the new commitments and one of their events, then each update's
        guarded ``UPDATE`` and its new events.  The touchpoint goes first, so
        that a known ref, or concurrent calls with one ref, fail on ``UNIQUE
        (tenant, kind, ref)`` before anything else is written: the
        transaction rolls back whole and the stored touchpoint is read and
        returned.  (No read comes first: a new ref, the usual case, costs
        the inserts alone.)

        Raises:
            InvalidArgumentError: bad arguments; nothing is written.
            ConflictError: a commitment's id or reference is stored already,
                an update's version is stale, or the touchpoint's id is stored
                already; nothing is written.
            NotFoundError: an update's commitment is not stored.
        """
        new, adds, updates = check_touchpoint_writes(touchpoint, add, update)
        ref = new.ref
        row = _rows.touchpoint_to_row(new)
        writes = cast("SqlCommitments", self)

        def attempt(conn: Connection) -> tuple[Touchpoint, bool]:
            # no read first: a known ref fails the insert, and the whole is rolled back
            conn.execute(sa.insert(self._tp), row)
            writes._insert(conn, adds)
            for c, expected_version in updates:
                if (  # no row is at a version above the column's range: say why, as update()
                    expected_version > MAX_VERSION
                    or conn.execute(writes._update_stmt(c, expected_version)).rowcount != 1
                ):
                    writes._explain_miss(conn, c, expected_version)
            if updates:
                self._append_events(conn, new.tenant, [c for c, _ in updates], compare_data=True)
            return new, True

        try:
            return self._run("add_touchpoint_with", attempt, write=True)
        except ConflictError as error:
            if ref is not None:
                found = self._run(
                    "add_touchpoint_with",
                    lambda conn: self._touchpoint_by_ref(conn, new.tenant, new.kind, ref),
                    write=False,
                )
                if found is not None:
                    return found, False
            if error.argument is not None:  # a stale version, named by the store
                raise
            raise ConflictError(
                "a commitment's id or external_ref, or the touchpoint's id, is stored already; "
                "nothing was written",
                argument="add",
                fix="give every new record a fresh id, and add a commitment whose "
                "external_ref is known through the tenant's stored one",
            ) from None

    # ------------------------------------------------------------------ reads

    @functools.cached_property
    def _by_ref_stmt(self) -> sa.Select[Any]:
        """The unique-key lookup of a touchpoint, built once (parameters ``tenant, kind, ref``)."""
        t = self._tp
        return sa.select(t).where(
            t.c.tenant == sa.bindparam("tenant"),
            t.c.kind == sa.bindparam("kind"),
            t.c.ref == sa.bindparam("ref"),
        )

    @functools.cached_property
    def _named_stmt(self) -> sa.Select[Any]:
        """A touchpoint by ref, its commitment and the commitment's events: one statement.

        Built once (parameters ``tenant, kind, ref``): the touchpoint's
        columns are labelled ``t_<name>``, the commitment's ``c_<name>``, the
        events' ``e_<name>``; one row per event, in ``seq`` order (one row
        with the last two ``NULL`` when the touchpoint names no stored
        commitment).
        """
        t, c, e = self._tp, self._c, self._e
        columns = [col.label(f"t_{col.name}") for col in t.columns]
        columns += [col.label(f"c_{col.name}") for col in self._commitment_columns]
        columns += [col.label(f"e_{col.name}") for col in e.columns]
        joined = t.outerjoin(c, sa.and_(c.c.tenant == t.c.tenant, c.c.id == t.c.commitment_id))
        joined = joined.outerjoin(e, sa.and_(e.c.tenant == c.c.tenant, e.c.commitment_id == c.c.id))
        return (
            sa.select(*columns)
            .select_from(joined)
            .where(
                t.c.tenant == sa.bindparam("tenant"),
                t.c.kind == sa.bindparam("kind"),
                t.c.ref == sa.bindparam("ref"),
            )
            .order_by(e.c.seq)
        )

    def _touchpoint_by_ref(
        self, conn: Connection, tenant: str, kind: str, ref: str
    ) -> Touchpoint | None:
        params = {"tenant": tenant, "kind": kind, "ref": ref}
        row = conn.execute(self._by_ref_stmt, params).mappings().first()
        return None if row is None else _rows.touchpoint_from_row(row)

    def touchpoint_by_ref(self, tenant: str, kind: str, ref: str) -> Touchpoint | None:
        """See :meth:`keepword.ports.TouchpointLog.touchpoint_by_ref` (one unique-key lookup)."""
        check_identifier(tenant, "tenant")
        check_identifier(kind, "kind")
        check_identifier(ref, "ref")
        return self._run(
            "touchpoint_by_ref",
            lambda conn: self._touchpoint_by_ref(conn, tenant, kind, ref),
            write=False,
        )

    def touchpoint_with_commitment(
        self, tenant: str, kind: str, ref: str
    ) -> tuple[Touchpoint, Commitment | None] | None:
        """The touchpoint and the commitment it names, read in one transaction.

        See :meth:`keepword.ports.AtomicTouchpoints.touchpoint_with_commitment`:
        one statement joins the touchpoint (by its unique key) to its
        commitment and the commitment's events (by their keys).
        """
        check_identifier(tenant, "tenant")
        check_identifier(kind, "kind")
        check_identifier(ref, "ref")

        def part(row: Any, prefix: str) -> dict[str, Any]:
            return {key[2:]: value for key, value in row.items() if key.startswith(prefix)}

        def read(conn: Connection) -> tuple[Touchpoint, Commitment | None] | None:
            params = {"tenant": tenant, "kind": kind, "ref": ref}
            rows = conn.execute(self._named_stmt, params).mappings().all()
            if not rows:
                return None
            found = _rows.touchpoint_from_row(part(rows[0], "t_"))
            if rows[0]["c_id"] is None:
                return found, None
            events = [_rows.event_from_row(part(r, "e_")) for r in rows if r["e_seq"] is not None]
            return found, _rows.commitment_from_row(part(rows[0], "c_"), events)

        return self._run("touchpoint_with_commitment", read, write=False)

    def touchpoints(
        self,
        tenant: str,
        *,
        customer: str | None = None,
        kind: str | None = None,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Touchpoint]:
        """The tenant's touchpoints matching every filter, in ``(at, id)`` order, limited in SQL.

        A customer's story reads the ``(tenant, customer, at)`` index, a
        kind's the ``(tenant, kind, at)`` index.
        See :meth:`keepword.ports.TouchpointLog.touchpoints`.
        """
        check_identifier(tenant, "tenant")
        who = _optional(customer, "customer")
        what = _optional(kind, "kind")
        start, end = _instant(since, "since"), _instant(until, "until")
        top = _limit(limit)
        t = self._tp
        stmt = sa.select(t).where(t.c.tenant == tenant)
        if who is not None:
            stmt = stmt.where(t.c.customer == who)
        if what is not None:
            stmt = stmt.where(t.c.kind == what)
        if start is not None:
            stmt = stmt.where(t.c.at >= start)
        if end is not None:
            stmt = stmt.where(t.c.at < end)
        stmt = stmt.order_by(t.c.at, t.c.id)
        if top is not None:
            stmt = stmt.limit(top)

        def read(conn: Connection) -> list[Touchpoint]:
            return [_rows.touchpoint_from_row(r) for r in conn.execute(stmt).mappings()]

        return self._run("touchpoints", read, write=False)

    # ------------------------------------------------------------------ aggregates

    def thanks_statement(
        self, tenant: str, *, below: int, limit: int | None = None
    ) -> sa.Select[Any]:
        """The one query :meth:`thanks_by_customer` runs (for ``EXPLAIN`` and benchmarks).

        One ``GROUP BY customer`` over ``UNION ALL`` of the tenant's
        touchpoints (each a counted thank-you or not) and its commitments
        (each counting nothing: they make the relationship), kept while the
        sum is below ``below``, ordered by customer.  A single pass, with no
        join: MariaDB joins two derived tables with a block nested loop,
        quadratic in the customers.
        """
        c, t = self._c, self._tp
        thanked = sa.and_(t.c.kind == THANK_YOU, t.c.counted == sa.true())
        rows = sa.union_all(
            sa.select(
                t.c.customer.label("customer"),
                sa.case((thanked, 1), else_=0).label("n"),
                sa.case((thanked, t.c.at), else_=sa.null()).label("last_at"),
            ).where(t.c.tenant == tenant),
            sa.select(
                c.c.customer.label("customer"),
                sa.literal(0, sa.Integer()).label("n"),
                sa.null().label("last_at"),
            ).where(c.c.tenant == tenant),
        ).subquery("relationships")
        counted = sa.func.sum(rows.c.n)
        stmt = (
            sa.select(
                rows.c.customer,
                counted.label("counted"),
                sa.func.max(rows.c.last_at).label("last_at"),
            )
            .group_by(rows.c.customer)
            .having(counted < below)
            .order_by(rows.c.customer)
        )
        return stmt if limit is None else stmt.limit(limit)

    def thanks_by_customer(
        self, tenant: str, *, below: int, limit: int | None = None
    ) -> list[tuple[str, int, _dt.datetime | None]]:
        """Every relationship with fewer than ``below`` counted thank-yous: one aggregate query.

        See :meth:`keepword.ports.TouchpointLog.thanks_by_customer` and
        :meth:`thanks_statement`.
        """
        check_identifier(tenant, "tenant")
        # a bound every database binds as an INTEGER; no customer has more thank-yous
        target = min(check_positive(below, "below"), 2**31 - 1)
        stmt = self.thanks_statement(tenant, below=target, limit=_limit(limit))

        def read(conn: Connection) -> list[tuple[str, int, _dt.datetime | None]]:
            # MAX(CASE ... THEN at END) keeps the column's type: an aware UTC datetime;
            # SUM is a DECIMAL on MariaDB
            return [(who, int(n), last) for who, n, last in conn.execute(stmt).all()]

        return self._run("thanks_by_customer", read, write=False)

    def extra_mile_statement(
        self, tenant: str, *, eligible_since: _dt.datetime, seed: str
    ) -> sa.Select[Any]:
        """The one query :meth:`extra_mile_candidate` runs (for ``EXPLAIN`` and benchmarks).

        One ``GROUP BY customer`` over ``UNION ALL`` of the tenant's
        commitments made since ``eligible_since`` and its touchpoints that
        are recent or extra-mile picks; the groups with a recent row are
        eligible, ordered by their picks, then ``md5(seed || ':' ||
        customer)``; the first one.
        """
        c, t = self._c, self._tp
        since = eligible_since
        rows = sa.union_all(
            sa.select(
                t.c.customer.label("customer"),
                sa.case((t.c.kind == EXTRA_MILE, 1), else_=0).label("picks"),
                sa.case((t.c.at >= since, 1), else_=0).label("recent"),
            ).where(t.c.tenant == tenant, sa.or_(t.c.at >= since, t.c.kind == EXTRA_MILE)),
            sa.select(
                c.c.customer.label("customer"),
                sa.literal(0, sa.Integer()).label("picks"),
                sa.literal(1, sa.Integer()).label("recent"),
            ).where(c.c.tenant == tenant, c.c.made_at >= since),
        ).subquery("candidates")
        key: sa.ColumnElement[Any] = sa.func.md5(
            sa.literal(f"{seed}:", sa.String()) + rows.c.customer
        )
        if self._engine.dialect.name == "postgresql":
            key = sa.collate(key, "C")  # hex digits before letters, whatever the database's locale
        return (
            sa.select(rows.c.customer)
            .group_by(rows.c.customer)
            .having(sa.func.max(rows.c.recent) == 1)
            .order_by(sa.func.sum(rows.c.picks), key, rows.c.customer)
            .limit(1)
        )

    def extra_mile_candidate(
        self, tenant: str, *, eligible_since: _dt.datetime, seed: str
    ) -> str | None:
        """The eligible customer picked least often, then first by ``md5(seed:customer)``.

        One query (:meth:`extra_mile_statement`).
        See :meth:`keepword.ports.TouchpointLog.extra_mile_candidate`.
        """
        check_identifier(tenant, "tenant")
        since = to_utc(eligible_since, "eligible_since")
        check_text(seed, "seed")  # no NUL, no lone surrogate: text every database holds
        stmt = self.extra_mile_statement(tenant, eligible_since=since, seed=seed)

        def read(conn: Connection) -> str | None:
            found: str | None = conn.execute(stmt).scalar_one_or_none()
            return found

        return self._run("extra_mile_candidate", read, write=False)

    def silent_statement(
        self, tenant: str, *, quiet_since: _dt.datetime, limit: int | None = None
    ) -> sa.Select[Any]:
        """The one query :meth:`silent_customers` runs (for ``EXPLAIN`` and benchmarks).

        ``GROUP BY customer HAVING MAX(at) < quiet_since`` over the
        ``(tenant, customer, at)`` index, ordered by customer.
        """
        t = self._tp
        stmt = (
            sa.select(t.c.customer)
            .where(t.c.tenant == tenant)
            .group_by(t.c.customer)
            .having(sa.func.max(t.c.at) < quiet_since)
            .order_by(t.c.customer)
        )
        return stmt if limit is None else stmt.limit(limit)

    def silent_customers(
        self, tenant: str, *, quiet_since: _dt.datetime, limit: int | None = None
    ) -> list[str]:
        """Customers whose last touchpoint was before ``quiet_since``: one grouped query.

        See :meth:`keepword.ports.TouchpointLog.silent_customers`.
        """
        check_identifier(tenant, "tenant")
        cutoff = to_utc(quiet_since, "quiet_since")
        stmt = self.silent_statement(tenant, quiet_since=cutoff, limit=_limit(limit))

        def read(conn: Connection) -> list[str]:
            return [str(customer) for customer in conn.execute(stmt).scalars()]

        return self._run("silent_customers", read, write=False)
