"""``SqlStore``'s :class:`~keepword.ports.TickQueue`: claim due work, fire it, release it.

What is due is judged by the ``now`` the tick passes in, compared with
``next_action_at``; a claim's lease alone is judged by the database's clock
(:func:`keepword.stores.sql._dialect.db_now`), so workers whose clocks
disagree never steal each other's live claims.

The statements a tick repeats are built once per store and keep their
SQLAlchemy cache keys: the claim's read and write (:attr:`SqlTickQueue._claim_stmts`),
the fire's ``UPDATE`` per set of changed columns (:meth:`SqlTickQueue._fire_stmt`)
and the notices' insert.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_lease, check_positive
from keepword.commitment import Commitment, Event
from keepword.errors import ConflictError, NotFoundError, StoreError
from keepword.ports import Fire, check_fires, group_fires
from keepword.stores.sql import _dialect, _errors, _rows
from keepword.stores.sql._base import (
    CHUNK,
    IMMUTABLE,
    LOG,
    MAX_VERSION,
    OPEN,
    SqlStoreBase,
    check_token,
    chunks,
    guarded_row,
    judge_row,
    new_token,
)

__all__ = ["SqlTickQueue"]

Outcome: TypeAlias = Commitment | ConflictError | NotFoundError
"""What :meth:`SqlTickQueue.fire_many` returns for one fire."""

_FIRE_KEYS = {
    "tenant": "k_tenant",
    "id": "k_id",
    "version": "k_version",
    "claim_token": "k_token",
    "made_at": "k_made_at",
    "external_ref": "k_external_ref",
}
"""The column each key or guard parameter of a fire's ``UPDATE`` is compared with."""

_NOT_SET = ("tenant", "id", *IMMUTABLE, "claim_token", "claimed_until")
"""Columns a write over a stored commitment never sets from its new state."""


class _Contended(Exception):
    """A batched fire found a row that moved on: judge each fire under a lock instead."""


class _Batch(NamedTuple):
    """One :meth:`SqlTickQueue.fire_many` call, prepared before its transaction."""

    tenant: str
    fires: list[Fire]
    token: str
    ids: list[str]
    notices: list[dict[str, Any]]
    loaded: dict[str, Commitment]
    """The fired commitments as this store's claim loaded them, at their expected version."""
    stmt: sa.Update
    params: list[dict[str, Any]]
    """One parameter set per fire, in id order."""


def _fire_params(
    fire: Fire, values: Mapping[str, Any], token: str, columns: Sequence[str]
) -> dict[str, Any]:
    """The parameters of :meth:`SqlTickQueue._fire_stmt` for one fire: key, guards, ``columns``."""
    params = {f"v_{name}": values[name] for name in columns}
    params.update(
        k_tenant=values["tenant"],
        k_id=values["id"],
        k_version=fire.expected_version,
        k_token=token,
        k_made_at=values["made_at"],
        k_external_ref=values["external_ref"],
    )
    return params


class SqlTickQueue(SqlStoreBase):
    """The tick queue of ``SqlStore`` (port ``"tick_queue"``)."""

    # ------------------------------------------------------------------ claim

    @functools.cached_property
    def _claim_stmts(self) -> tuple[sa.Select[Any], sa.Update]:
        """The claim's read and write, built once with bound parameters.

        The read: the tenant's OPEN commitments due by the tick's ``now``
        (``c_now``) whose claim is free or whose lease has run out by the
        database's clock (``c_db_now``), as a claiming read
        (:meth:`_claiming`); the write marks the chosen ids claimed.  Built
        once, each keeps its SQLAlchemy cache key, so a tick's claim does not
        rebuild and re-key them per batch.
        """
        c = self._c
        status = c.c.status == OPEN
        if self._engine.dialect.name == "sqlite":
            # ``+status`` keeps SQLite from choosing (tenant, status, due_at), which
            # would scan every open commitment: the tick must follow the work due.
            status = sa.literal_column("+" + c.c.status.name) == OPEN
        db_now = sa.bindparam("c_db_now", type_=c.c.claimed_until.type)
        due = (
            sa.select(*self._commitment_columns)
            .where(
                c.c.tenant == sa.bindparam("c_tenant", type_=c.c.tenant.type),
                c.c.next_action_at <= sa.bindparam("c_now", type_=c.c.next_action_at.type),
                status,
                sa.or_(c.c.claim_token.is_(None), c.c.claimed_until <= db_now),
            )
            .order_by(c.c.next_action_at, c.c.id)
            .limit(sa.bindparam("c_limit", type_=sa.BigInteger()))
        )
        claim = (
            sa.update(c)
            .where(
                c.c.tenant == sa.bindparam("c_tenant", type_=c.c.tenant.type),
                _dialect.one_of_param(c.c.id, "c_ids", self._engine.dialect.name),
            )
            .values(
                claim_token=sa.bindparam("c_token", type_=c.c.claim_token.type),
                claimed_until=sa.bindparam("c_until", type_=c.c.claimed_until.type),
            )
        )
        return self._claiming(due, c, self._next_index), claim

    def claim_due(
        self, tenant: str, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` of the tenant's commitments whose next step is due.

        One write transaction: read the database clock (``db_now``), ``SELECT
        ... WHERE tenant = ? AND next_action_at <= now AND status = 'open' AND
        (claim free or claimed_until <= db_now) ORDER BY next_action_at, id
        LIMIT n FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB 10.6+; SQLite
        holds its write lock from ``BEGIN IMMEDIATE``), then mark those rows
        claimed by a fresh token until ``db_now + lease``.  What is due is
        judged by the ``now`` passed in alone; the lease alone by the
        database's clock, both when a claim expires and how long a new one
        holds.  Served by the index ``(tenant, next_action_at, id)``.
        See :meth:`keepword.ports.TickQueue.claim_due`.

        A claimed row that cannot be read back into a :class:`Commitment`
        (a corrupt calendar or policy snapshot, say) is not returned and does
        not fail the claim: it stays claimed, untouched, until its lease runs
        out, is logged at ``ERROR`` on ``keepword.stores.sql``, and the
        next due rows take its place in the batch.  So one bad row costs one
        log line per lease, never the tenant's other work, and is never lost.

        Raises:
            InvalidArgumentError: a bad tenant, ``now``, ``limit``, ``lease`` or ``worker``.
        """
        check_identifier(tenant, "tenant")
        at = to_utc(now, "now")
        n = check_positive(limit, "limit")
        length = check_lease(lease)
        token = new_token(check_identifier(worker, "worker"))
        due, mark = self._claim_stmts

        def attempt(conn: Connection) -> list[Commitment]:
            db_now = _dialect.db_now(conn)
            until = db_now + length
            claimed: list[Commitment] = []
            while len(claimed) < n:  # each round claims new rows: it ends
                params = {"c_tenant": tenant, "c_now": at, "c_db_now": db_now}
                rows = conn.execute(due, {**params, "c_limit": n - len(claimed)}).mappings().all()
                if not rows:
                    break
                for chunk in chunks([r["id"] for r in rows]):
                    conn.execute(
                        mark,
                        {"c_tenant": tenant, "c_ids": chunk, "c_token": token, "c_until": until},
                    )
                readable = self._load_readable(conn, tenant, rows)
                claimed.extend(readable)
                if len(readable) == len(rows):
                    break
            return claimed

        claimed = self._run("claim_due", attempt, write=True, read_committed=True)
        self._claimed.remember(token, claimed)
        return token, claimed

    # ------------------------------------------------------------------ claim across tenants

    @functools.cached_property
    def _claim_any_stmts(self) -> tuple[sa.Select[Any], sa.Update]:
        """The cross-tenant claim's read and write (see :meth:`claim_due_any`).

        The read follows the index ``(next_action_at, id)``; the write marks
        rows by id alone (ids are unique store-wide).
        """
        c = self._c
        db_now = sa.bindparam("c_db_now", type_=c.c.claimed_until.type)
        due = (
            sa.select(*self._commitment_columns)
            .where(
                c.c.next_action_at <= sa.bindparam("c_now", type_=c.c.next_action_at.type),
                c.c.status == OPEN,
                sa.or_(c.c.claim_token.is_(None), c.c.claimed_until <= db_now),
            )
            .order_by(c.c.next_action_at, c.c.id)
            .limit(sa.bindparam("c_limit", type_=sa.BigInteger()))
        )
        claim = (
            sa.update(c)
            .where(_dialect.one_of_param(c.c.id, "c_ids", self._engine.dialect.name))
            .values(
                claim_token=sa.bindparam("c_token", type_=c.c.claim_token.type),
                claimed_until=sa.bindparam("c_until", type_=c.c.claimed_until.type),
            )
        )
        return self._claiming(due, c, self._due_any_index), claim

    @property
    def _due_any_index(self) -> str:
        return f"ix_{self._prefix}commitments_due_any"

    def claim_due_any(
        self, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim up to ``limit`` due commitments of any tenants, in ``(next_action_at, id)`` order.

        :meth:`claim_due` without the tenant filter, served by the index
        ``(next_action_at, id)``: one claiming read (``FOR UPDATE SKIP
        LOCKED`` where the database has it), one ``UPDATE`` by id, and the
        claimed rows' events read in one statement.
        See :meth:`keepword.ports.TickQueueAllTenants.claim_due_any`.

        Raises:
            InvalidArgumentError: a bad ``now``, ``limit``, ``lease`` or ``worker``.
        """
        at = to_utc(now, "now")
        n = check_positive(limit, "limit")
        length = check_lease(lease)
        token = new_token(check_identifier(worker, "worker"))
        due, mark = self._claim_any_stmts

        def attempt(conn: Connection) -> list[Commitment]:
            db_now = _dialect.db_now(conn)
            until = db_now + length
            claimed: list[Commitment] = []
            while len(claimed) < n:  # each round claims new rows: it ends
                params = {"c_now": at, "c_db_now": db_now, "c_limit": n - len(claimed)}
                rows = conn.execute(due, params).mappings().all()
                if not rows:
                    break
                for chunk in chunks([r["id"] for r in rows]):
                    conn.execute(mark, {"c_ids": chunk, "c_token": token, "c_until": until})
                readable = self._load_readable_any(conn, rows)
                claimed.extend(readable)
                if len(readable) == len(rows):
                    break
            claimed.sort(key=lambda c: (c.next_action_at or at, c.id))
            return claimed

        claimed = self._run("claim_due_any", attempt, write=True, read_committed=True)
        self._claimed.remember(token, claimed)
        return token, claimed

    @functools.cached_property
    def _events_any_stmt(self) -> sa.Select[Any]:
        """The events of ``(tenant, commitment_id)`` pairs: one statement, built once."""
        e = self._e
        pairs = sa.tuple_(e.c.tenant, e.c.commitment_id)
        return (
            sa.select(e)
            .where(pairs.in_(sa.bindparam("pairs", expanding=True)))
            .order_by(e.c.tenant, e.c.commitment_id, e.c.seq)
        )

    def _load_readable_any(self, conn: Connection, rows: Sequence[Any]) -> list[Commitment]:
        """:meth:`_load_readable` for rows of several tenants: their events in one read.

        The read is ``(tenant, commitment_id) IN (...)``, served by the
        events' primary key.
        """
        keys = [(r["tenant"], r["id"]) for r in rows]
        events: dict[tuple[str, str], list[Event]] = {key: [] for key in keys}
        broken: dict[tuple[str, str], Exception] = {}
        for start in range(0, len(keys), CHUNK):
            params = {"pairs": keys[start : start + CHUNK]}
            for found in conn.execute(self._events_any_stmt, params).mappings():
                key = (found["tenant"], found["commitment_id"])
                try:
                    events[key].append(_rows.event_from_row(found))
                except Exception as error:
                    broken.setdefault(key, error)
        out: list[Commitment] = []
        for row, key in zip(rows, keys, strict=True):
            try:
                if key in broken:
                    raise broken[key]
                out.append(_rows.commitment_from_row(row, events[key]))
            except Exception as error:
                LOG.error(
                    "commitment %r of tenant %r cannot be read back and is skipped "
                    "(%s: %s); it stays in the database untouched: repair or remove the row",
                    row["id"],
                    row["tenant"],
                    type(error).__name__,
                    error,
                )
        return out

    def next_action_at_any(self) -> _dt.datetime | None:
        """The earliest ``next_action_at`` among every tenant's OPEN commitments, or ``None``.

        One probe of the index ``(next_action_at, id)``.
        """
        c = self._c
        stmt = (
            sa.select(c.c.next_action_at)
            .where(c.c.next_action_at.is_not(None), c.c.status == OPEN)
            .order_by(c.c.next_action_at)
            .limit(1)
        )

        def read(conn: Connection) -> _dt.datetime | None:
            value: _dt.datetime | None = conn.execute(stmt).scalar_one_or_none()
            return value

        return self._run("next_action_at_any", read, write=False)

    # ------------------------------------------------------------------ fire

    def fire_many(self, tenant: str, fires: Sequence[Fire], *, token: str) -> list[Outcome]:
        """Write a claimed batch's tick results in one transaction.

        A handful of statements for the whole batch: one guarded ``UPDATE``
        per row sent as one batch (``executemany``; the guard is everything
        :func:`~keepword.stores.sql._base.judge_row` checks), then the new
        events and the notices, inserted with do-nothing on a conflict of
        ``(tenant, idempotency_key)`` (``COPY`` first on PostgreSQL).  The
        unique key, not the claim, is what makes each notice exactly once.
        When some row fails its guard, that transaction is rolled back and the
        batch is judged fire by fire instead: lock the fired rows (``SELECT
        ... FOR UPDATE`` in id order; SQLite already holds its write lock),
        judge each against its row (exists, version, claim token, immutable
        fields), and write those that pass.  The claim is judged by its token
        alone, as the port says: no clock is read here.
        See :meth:`keepword.ports.TickQueue.fire_many`.

        When every fire's commitment is the one this store's :meth:`claim_due`
        loaded at the fire's expected version, the ``UPDATE`` sets only the
        columns the batch changed and the histories are checked against the
        loaded ones, with no read of the stored events: the version guard
        proves the stored row is still the loaded one
        (:mod:`keepword.stores.sql._claimed`).  Otherwise the stored events'
        ``seq``, kind, instant and actor are read to check each new history
        extends its stored one.

        Raises:
            InvalidArgumentError: bad arguments or a fire ``update`` would
                refuse; nothing is written.
            ConflictError: a notice id is already stored; nothing is written.
        """
        batch = check_fires(tenant, fires)
        claim = check_token(token)
        if not batch:
            self._check_open()
            return []
        prepared = self._prepare_fire(tenant, batch, claim)
        try:
            if any(f.expected_version > MAX_VERSION for f in batch):
                raise _Contended  # no row is at such a version: judge each fire
            return self._run(
                "fire", lambda conn: self._fire_all(conn, prepared), write=True, read_committed=True
            )
        except _Contended:
            return self._run(
                "fire",
                lambda conn: self._fire_judged(conn, prepared),
                write=True,
                read_committed=True,
            )

    def fire_many_any(self, fires: Sequence[Fire], *, token: str) -> list[Outcome]:
        """:meth:`fire_many` for a batch :meth:`claim_due_any` claimed across tenants.

        Each fire is judged as :meth:`fire_many` judges it, under its
        commitment's own tenant.  When every fire's commitment is the one the
        claim loaded and no guard fails, the whole batch is written in one
        transaction (one ``UPDATE`` batch, the events and the notices);
        otherwise each tenant's fires are written by :meth:`fire_many`, all
        or nothing per tenant.
        See :meth:`keepword.ports.TickQueueAllTenants.fire_many_any`.

        Raises:
            InvalidArgumentError: bad arguments or a fire ``update`` would
                refuse; nothing of that tenant's fires is written.
            ConflictError: a notice id is already stored.
        """
        groups = group_fires(fires)
        claim = check_token(token)
        if len(groups) <= 1:
            ((tenant, mine),) = groups.items() if groups else (("-", []),)
            return self.fire_many(tenant, mine, token=claim) if mine else []
        batch = [f for mine in groups.values() for f in mine]
        prepared = self._prepare_fire("-", batch, claim)
        if len(prepared.loaded) == len(batch) and all(
            f.expected_version <= MAX_VERSION for f in batch
        ):
            try:
                written = self._run(
                    "fire",
                    lambda conn: self._fire_all(conn, prepared),
                    write=True,
                    read_committed=True,
                )
                by_id: dict[str, Outcome] = {c.id: c for c in written}  # type: ignore[union-attr]
                return [by_id[f.commitment.id] for f in fires]
            except _Contended:
                pass
        outcomes: dict[str, Outcome] = {}
        for tenant, mine in groups.items():
            for fire, outcome in zip(mine, self.fire_many(tenant, mine, token=claim), strict=True):
                outcomes[fire.commitment.id] = outcome
        return [outcomes[f.commitment.id] for f in fires]

    def _prepare_fire(self, tenant: str, batch: list[Fire], token: str) -> _Batch:
        """Everything a fire's transaction sends, built before it starts."""
        ids = [f.commitment.id for f in batch]
        notices = [_rows.notice_to_row(n) for f in batch for n in f.notices]
        values = {f.commitment.id: _rows.commitment_to_row(f.commitment) for f in batch}
        expected = {f.commitment.id: f.expected_version for f in batch}
        loaded = {
            i: before
            for i, before in self._claimed.take(token, ids).items()
            if before.version == expected[i]
        }
        columns = self._fire_columns(batch, loaded)
        # in id order, as every batched write locks rows, so two batches cannot deadlock
        params = sorted(
            (_fire_params(f, values[f.commitment.id], token, columns) for f in batch),
            key=lambda p: p["k_id"],
        )
        return _Batch(tenant, batch, token, ids, notices, loaded, self._fire_stmt(columns), params)

    def _fire_all(self, conn: Connection, batch: _Batch) -> list[Outcome]:
        """Write every fire, or raise :class:`_Contended` (rolling back) if a guard fails."""
        if self._write_fires(conn, batch, batch.fires, batch.params) != len(batch.fires):
            raise _Contended
        return [f.commitment for f in batch.fires]

    def _fire_judged(self, conn: Connection, batch: _Batch) -> list[Outcome]:
        """Lock the fired rows, judge each fire against its row, write those that pass."""
        c = self._c
        lock = sa.select(c.c.id, c.c.version, c.c.made_at, c.c.external_ref, c.c.claim_token)
        lock = lock.order_by(c.c.id)
        if self.traits.row_locks:
            lock = lock.with_for_update()
        rows: dict[str, Any] = {}
        for chunk in chunks(batch.ids):
            for locked in conn.execute(
                lock.where(c.c.tenant == batch.tenant, self._one_of(c.c.id, chunk))
            ):
                rows[locked.id] = locked
        outcomes: list[Outcome] = []
        written: list[Fire] = []
        for fire in batch.fires:
            new, row = fire.commitment, rows.get(fire.commitment.id)
            error = judge_row(new, fire.expected_version, row, token=batch.token)
            if error is None:
                written.append(fire)
            outcomes.append(new if error is None else error)
        passed = {f.commitment.id for f in written}
        mine = [p for p in batch.params if p["k_id"] in passed]
        if written and self._write_fires(conn, batch, written, mine) != len(written):
            raise StoreError(  # pragma: no cover - the rows are locked and were just judged
                "fire: a locked, judged commitment row did not update"
            )
        return outcomes

    def _write_fires(
        self,
        conn: Connection,
        batch: _Batch,
        written: Sequence[Fire],
        params: Sequence[dict[str, Any]],
    ) -> int:
        """The guarded ``UPDATE`` of ``written``, then their events and notices; rows updated.

        When fewer rows update than ``written`` holds, nothing else is sent.
        """
        updated = int(conn.execute(batch.stmt, params).rowcount)
        if updated != len(written):
            return updated
        news = [f.commitment for f in written]
        self._append_events(conn, batch.tenant, news, compare_data=False, loaded=batch.loaded)
        fired = {new.id for new in news}
        mine = [n for n in batch.notices if n["commitment_id"] in fired]
        if mine:
            self._insert_notices(conn, mine)
        return updated

    def _insert_notices(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert fired notices, skipping any whose idempotency key is already stored.

        On PostgreSQL through psycopg the rows are first sent with ``COPY``
        inside a savepoint (a key is almost never stored already: the claim
        and the version check keep workers apart); if one is, the savepoint is
        rolled back and the do-nothing-on-conflict ``INSERT`` decides row by row.
        """
        if _dialect.can_copy(conn):
            try:
                with conn.begin_nested():
                    _dialect.copy_rows(conn, self._n, rows)
                return
            except sa_exc.IntegrityError as error:
                if _errors.classify(error) is not _errors.Failure.DUPLICATE:
                    raise
        conn.execute(self._insert_notice_stmt, rows)

    @functools.cached_property
    def _insert_notice_stmt(self) -> sa.Insert:
        """Insert notices, doing nothing for one whose ``(tenant, idempotency_key)`` exists."""
        return _dialect.insert_ignore(
            self._n, self._engine.dialect.name, on=("tenant", "idempotency_key")
        )

    @functools.cached_property
    def _mutable(self) -> tuple[str, ...]:
        """The commitment columns a write sets from the new state."""
        return tuple(col.name for col in self._c.columns if col.name not in _NOT_SET)

    def _fire_columns(
        self, batch: Sequence[Fire], loaded: Mapping[str, Commitment]
    ) -> tuple[str, ...]:
        """The columns a batch's ``UPDATE`` sets: all mutable ones, or only those it changed.

        Only those it changed when every fire's commitment is in ``loaded``
        (remembered from its claim at the fire's expected version).
        """
        if len(loaded) != len(batch):
            return self._mutable
        changed: set[str] = set()
        for fire in batch:
            changed |= _rows.changed_columns(fire.commitment, loaded[fire.commitment.id])
        return tuple(name for name in self._mutable if name in changed)

    def _fire_stmt(self, columns: tuple[str, ...]) -> sa.Update:
        """The batched ``UPDATE`` of :meth:`fire_many`: ``columns`` set, claim released.

        Guarded by everything :func:`~keepword.stores.sql._base.judge_row`
        checks (version, claim token, the immutable ``made_at`` and
        ``external_ref``): a batch whose rows all pass is written without a
        locking read first, and a row that fails makes the update count
        short, so the batch is judged fire by fire.  Built once per set of
        ``columns``.

        Rows are found by key (:func:`~keepword.stores.sql._base.guarded_row`).
        The batch is not sent as one ``json_to_recordset`` join: that saved
        client time, but without statistics PostgreSQL planned the join as a
        scan of the whole table.
        """
        stmt = self._fire_stmts.get(columns)
        if stmt is not None:
            return stmt
        c = self._c

        def key(column: str) -> sa.BindParameter[Any]:
            return sa.bindparam(_FIRE_KEYS[column], type_=c.c[column].type)

        values: dict[str, Any] = {
            name: sa.bindparam(f"v_{name}", type_=c.c[name].type) for name in columns
        }
        values.update(claim_token=None, claimed_until=None)
        stmt = (
            sa.update(c)
            .where(*guarded_row(c, key, ("version", "claim_token", *IMMUTABLE)))
            .values(values)
        )
        self._fire_stmts[columns] = stmt
        return stmt

    # ------------------------------------------------------------------ release, wake-up

    def release(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Give up claims held by ``token`` without firing; returns how many were released.

        Claims another token holds are left alone; no clock is read.
        See :meth:`keepword.ports.TickQueue.release`.
        """
        held = self._held(tenant, ids, token)
        if held is None:
            return 0
        wanted, claim = held
        c = self._c
        self._claimed.take(claim, wanted)

        def attempt(conn: Connection) -> int:
            released = 0
            for chunk in chunks(wanted):
                released += conn.execute(
                    sa.update(c)
                    .where(
                        c.c.tenant == tenant, self._one_of(c.c.id, chunk), c.c.claim_token == claim
                    )
                    .values(claim_token=None, claimed_until=None)
                ).rowcount
            return released

        return self._run("release", attempt, write=True, read_committed=True)

    def next_action_at(self, tenant: str) -> _dt.datetime | None:
        """The earliest ``next_action_at`` among the tenant's OPEN commitments, or ``None``.

        Claimed ones count too.  One index probe on ``(tenant, next_action_at, id)``.
        See :meth:`keepword.ports.TickQueue.next_action_at`.
        """
        check_identifier(tenant, "tenant")
        c = self._c
        status = c.c.status == OPEN
        if self._engine.dialect.name == "sqlite":
            status = sa.literal_column("+" + c.c.status.name) == OPEN
        stmt = (
            sa.select(c.c.next_action_at)
            .where(c.c.tenant == tenant, c.c.next_action_at.is_not(None), status)
            .order_by(c.c.next_action_at)
            .limit(1)
        )
        hint = f"FORCE INDEX ({self._next_index})"
        stmt = stmt.with_hint(c, hint, dialect_name="mysql").with_hint(
            c, hint, dialect_name="mariadb"
        )

        def read(conn: Connection) -> _dt.datetime | None:
            value: _dt.datetime | None = conn.execute(stmt).scalar_one_or_none()
            return value

        return self._run("next_action_at", read, write=False)
