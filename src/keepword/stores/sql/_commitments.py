"""``SqlStore``'s :class:`~keepword.ports.CommitmentRepository`: add, get, update, find.

Every statement filters by tenant.  Nothing here reads a clock: the
query's ``due_after`` and ``due_before`` are the instants the caller passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepword._validate import check_identifier, check_positive
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError, StoreError
from keepword.ports import Query, check_new_commitment, check_query, check_write
from keepword.stores.sql import _rows
from keepword.stores.sql._base import (
    CHUNK,
    IMMUTABLE,
    MAX_VERSION,
    SqlStoreBase,
    guarded_row,
    judge_row,
)

__all__ = ["SqlCommitments", "notify_channel"]


def notify_channel(table_prefix: str) -> str:
    r"""The PostgreSQL ``NOTIFY`` channel a new promise is announced on: ``{prefix}tick``.

    On PostgreSQL, adding commitments sends ``pg_notify(channel, tenant)`` in
    the same transaction (delivered on commit), so a tick worker that
    ``LISTEN``\ s there (``keepword tick``) wakes at once instead of at its
    next scheduled wake-up.
    """
    return f"{table_prefix}tick"


class SqlCommitments(SqlStoreBase):
    """The commitment repository of ``SqlStore`` (port ``"commitments"``)."""

    # ------------------------------------------------------------------ writes

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        """Store a new commitment unless its tenant already has its external reference.

        See :meth:`keepword.ports.CommitmentRepository.add`.  Race-safe: when
        concurrent adds of one reference collide on the unique key, the
        losers read and return the winner's commitment.

        Raises:
            InvalidArgumentError: not a ``Commitment``, or ``version != 1``.
            ConflictError: the id already exists (in any tenant).
        """
        new = check_new_commitment(commitment, "commitment")
        ref = new.external_ref

        def attempt(conn: Connection) -> tuple[Commitment, bool]:
            if ref is not None:
                existing = self._by_ref(conn, new.tenant, ref)
                if existing is not None:
                    return existing, False
            self._insert(conn, [new])
            return new, True

        try:
            return self._run("add", attempt, write=True)
        except ConflictError:
            if ref is not None:
                found = self._run(
                    "add", lambda conn: self._by_ref(conn, new.tenant, ref), write=False
                )
                if found is not None:
                    return found, False
            raise ConflictError(
                f"a commitment with id {new.id!r} already exists",
                argument="id",
                fix="give every new commitment a fresh id (keepword._ids.new_id)",
            ) from None

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        """Store several new commitments in one transaction: all or nothing.

        One existence query per tenant for the references, then one
        multi-row insert for the commitments and one for their events.
        See :meth:`keepword.ports.CommitmentRepository.add_many`.

        Raises:
            InvalidArgumentError: an item is not a ``Commitment`` or has ``version != 1``.
            ConflictError: an item's id exists already or repeats in the batch.
        """
        if isinstance(commitments, (str, bytes)) or not isinstance(commitments, Sequence):
            raise InvalidArgumentError("must be a sequence of Commitment", argument="commitments")
        items = [check_new_commitment(c, f"commitments[{i}]") for i, c in enumerate(commitments)]
        ids = [c.id for c in items]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ConflictError(
                f"the batch holds id {twice[0]!r} more than once",
                argument="commitments",
                fix="give every new commitment a fresh id (keepword._ids.new_id)",
            )
        if not items:
            self._check_open()
            return []

        def attempt(conn: Connection) -> list[tuple[Commitment, bool]]:
            existing = self._existing_refs(conn, items)
            results: list[tuple[Commitment, bool]] = []
            fresh: list[Commitment] = []
            for new in items:
                key = (new.tenant, new.external_ref)
                if new.external_ref is not None and key in existing:
                    results.append((existing[key], False))
                    continue
                fresh.append(new)
                if new.external_ref is not None:
                    existing[key] = new
                results.append((new, True))
            self._insert(conn, fresh)
            return results

        # A unique-key violation means another writer committed one of our
        # references meanwhile (the next run sees it and maps to it) or an id
        # exists already (every run fails the same way).
        for _ in range(3):
            try:
                return self._run("add_many", attempt, write=True)
            except ConflictError:
                continue
        raise ConflictError(
            "some commitment's id already exists; nothing was stored",
            argument="id",
            fix="give every new commitment a fresh id (keepword._ids.new_id)",
        )

    def _insert(self, conn: Connection, commitments: Sequence[Commitment]) -> None:
        if not commitments:
            return
        conn.execute(sa.insert(self._c), [_rows.commitment_to_row(c) for c in commitments])
        events = [row for c in commitments for row in _rows.events_to_rows(c, c.history)]
        conn.execute(sa.insert(self._e), events)
        if conn.dialect.name == "postgresql":  # wake LISTENing tick workers on commit
            for tenant in sorted({c.tenant for c in commitments}):
                conn.execute(sa.select(sa.func.pg_notify(notify_channel(self._prefix), tenant)))

    def _existing_refs(
        self, conn: Connection, items: Iterable[Commitment]
    ) -> dict[tuple[str, str | None], Commitment]:
        by_tenant: dict[str, set[str]] = {}
        for c in items:
            if c.external_ref is not None:
                by_tenant.setdefault(c.tenant, set()).add(c.external_ref)
        found: dict[tuple[str, str | None], Commitment] = {}
        table = self._c
        for tenant, refs in by_tenant.items():
            ordered = sorted(refs)
            for start in range(0, len(ordered), CHUNK):
                chunk = ordered[start : start + CHUNK]
                rows = (
                    conn.execute(
                        sa.select(table).where(
                            table.c.tenant == tenant, self._one_of(table.c.external_ref, chunk)
                        )
                    )
                    .mappings()
                    .all()
                )
                for c in self._load(conn, tenant, rows):
                    found[(tenant, c.external_ref)] = c
        return found

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        """Replace a stored commitment iff its stored version is ``expected_version``.

        ``UPDATE ... WHERE tenant = ? AND id = ? AND version = ?`` (and the
        immutable fields unchanged); when no row matches, a lookup says why
        (:class:`NotFoundError`, :class:`ConflictError` or a changed
        immutable field).  Then the stored history is compared with the new
        one and only the new events are inserted, in the same transaction.
        See :meth:`keepword.ports.CommitmentRepository.update`.

        Raises:
            InvalidArgumentError: bad arguments, a rewritten history or a changed
                immutable field; nothing is written.
            NotFoundError: no such commitment in ``commitment.tenant``.
            ConflictError: the stored version differs from ``expected_version``.
        """
        new = check_write(commitment, expected_version)
        if expected_version > MAX_VERSION:  # no row is at it: say why, as a missed UPDATE does
            return self._run(
                "update",
                lambda conn: self._explain_miss(conn, new, expected_version),
                write=False,
            )
        stmt = self._update_stmt(new, expected_version)

        def attempt(conn: Connection) -> Commitment:
            if conn.execute(stmt).rowcount != 1:
                self._explain_miss(conn, new, expected_version)
            self._append_events(conn, new.tenant, [new], compare_data=True)
            return new

        return self._run("update", attempt, write=True)

    def _update_stmt(self, new: Commitment, expected_version: int) -> sa.Update:
        """``UPDATE`` of the commitment row iff its version (and immutable fields) match.

        Every column of the new state is written, ``policy``,
        ``escalation_cursor`` and ``next_action_at`` included; a claim is left alone.
        """
        c = self._c
        values = _rows.commitment_to_row(new)
        for key in ("tenant", "id", *IMMUTABLE):
            values.pop(key)
        expected: dict[str, Any] = {
            "tenant": new.tenant,
            "id": new.id,
            "version": expected_version,
            "made_at": new.made_at,
            "external_ref": new.external_ref,
        }
        where = guarded_row(c, expected.__getitem__, ("version", *IMMUTABLE))
        return sa.update(c).where(*where).values(**values)

    def _explain_miss(
        self,
        conn: Connection,
        new: Commitment,
        expected_version: int,
    ) -> NoReturn:
        """Raise why ``new`` could not be written over its stored row."""
        c = self._c
        row = conn.execute(
            sa.select(c.c.version, c.c.made_at, c.c.external_ref, c.c.claim_token)
            .where(c.c.tenant == new.tenant, c.c.id == new.id)
            # A locking read sees the latest committed row, even inside a
            # REPEATABLE READ snapshot (MariaDB's default).
            .with_for_update(read=True)
        ).first()
        error = judge_row(new, expected_version, row)
        if error is not None:
            raise error
        raise StoreError(  # pragma: no cover - the UPDATE's conditions are exactly those above
            f"update of commitment {new.id!r} matched no row for an unknown reason"
        )

    # ------------------------------------------------------------------ reads

    def get(self, tenant: str, id: str) -> Commitment:
        """The commitment ``id`` of ``tenant``.

        See :meth:`keepword.ports.CommitmentRepository.get`.

        Raises:
            NotFoundError: none in this tenant (another tenant's id included).
            InvalidArgumentError: ``tenant`` or ``id`` is not an identifier.
        """
        check_identifier(tenant, "tenant")
        check_identifier(id, "id")
        c = self._c

        def read(conn: Connection) -> Commitment:
            row = conn.execute(
                sa.select(*self._commitment_columns).where(c.c.tenant == tenant, c.c.id == id)
            ).mappings()
            found = row.first()
            if found is None:
                raise NotFoundError("commitment", id, argument="id")
            return self._load(conn, tenant, [found])[0]

        return self._run("get", read, write=False)

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        """The tenant's commitment with this external reference, or ``None``.

        See :meth:`keepword.ports.CommitmentRepository.get_by_ref`.

        Raises:
            InvalidArgumentError: ``tenant`` or ``external_ref`` is not an identifier.
        """
        check_identifier(tenant, "tenant")
        check_identifier(external_ref, "external_ref")
        return self._run(
            "get_by_ref", lambda conn: self._by_ref(conn, tenant, external_ref), write=False
        )

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        """The tenant's commitments matching ``query``, ordered and limited in SQL.

        Loads the events of all result rows in one more query (per 500 rows).
        ``due_after`` and ``due_before`` are compared as given: no clock is read.
        A limit beyond ``2**63 - 1`` is no limit (:func:`keepword._validate.check_positive`).
        See :meth:`keepword.ports.CommitmentRepository.find`.

        Raises:
            InvalidArgumentError: ``tenant`` is not an identifier or ``query`` not a Query.
        """
        check_identifier(tenant, "tenant")
        q = check_query(query)
        c = self._c
        first = c.c.due_at if q.order == "due_at" else c.c.made_at
        stmt = (
            sa.select(*self._commitment_columns)
            .where(*self._where(tenant, q))
            .order_by(first, c.c.id)
        )
        if q.limit is not None:
            stmt = stmt.limit(check_positive(q.limit, "limit"))  # clamped to what SQL holds

        def read(conn: Connection) -> list[Commitment]:
            return self._load(conn, tenant, conn.execute(stmt).mappings().all())

        return self._run("find", read, write=False)

    def count(self, tenant: str, query: Query) -> int:
        """How many of the tenant's commitments match ``query`` (its ``limit`` ignored).

        See :meth:`keepword.ports.CommitmentRepository.count`.

        Raises:
            InvalidArgumentError: ``tenant`` is not an identifier or ``query`` not a Query.
        """
        check_identifier(tenant, "tenant")
        q = check_query(query)
        stmt = sa.select(sa.func.count()).select_from(self._c).where(*self._where(tenant, q))
        return self._run("count", lambda conn: int(conn.execute(stmt).scalar_one()), write=False)

    def _by_ref(self, conn: Connection, tenant: str, ref: str) -> Commitment | None:
        c = self._c
        row = (
            conn.execute(
                sa.select(*self._commitment_columns).where(
                    c.c.tenant == tenant, c.c.external_ref == ref
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._load(conn, tenant, [row])[0]

    def _where(self, tenant: str, q: Query) -> list[sa.ColumnElement[bool]]:
        c = self._c
        clauses: list[sa.ColumnElement[bool]] = [c.c.tenant == tenant]
        if q.customer is not None:
            clauses.append(c.c.customer == q.customer)
        if q.owner is not None:
            clauses.append(c.c.owner == q.owner)
        if q.kind is not None:
            clauses.append(c.c.kind == q.kind)
        if q.statuses is not None:
            clauses.append(c.c.status.in_(sorted(s.value for s in q.statuses)))
        if q.due_after is not None:
            clauses.append(c.c.due_at >= q.due_after)
        if q.due_before is not None:
            clauses.append(c.c.due_at < q.due_before)
        if q.waiting_for is not None:
            clauses.append(c.c.waiting_for == q.waiting_for)
        if q.channel is not None:
            clauses.append(c.c.channel == q.channel)
        if q.external_ref is not None:
            clauses.append(c.c.external_ref == q.external_ref)
        return clauses
