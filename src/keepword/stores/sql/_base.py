"""What every port of ``SqlStore`` shares: the engine, the schema check, transactions, helpers.

:class:`SqlStoreBase` holds the engine and the tables, checks the schema
version once, and runs each call in one transaction of its own (retried whole
on transient failures).  It also holds the helpers more than one port uses:
loading commitments with their histories, the claiming read, and appending
events to a stored history.  The ports themselves live beside it
(:mod:`._commitments`, :mod:`._tick_queue`, :mod:`._outbox`) and
:mod:`._store` composes them into ``SqlStore``.

Time: deadlines and due steps are compared with the ``now`` the caller
passes in; leases alone are judged by the database's clock
(:func:`keepword.stores.sql._dialect.db_now`).  Nothing here reads the
process's clock.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from keepword._validate import check_identifier, check_ids
from keepword.commitment import Commitment, Event, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    SchemaError,
    StoreError,
)
from keepword.ports import version_conflict
from keepword.stores.sql import _claimed, _dialect, _errors, _rows, _schema

__all__ = ["SqlStoreBase"]

T = TypeVar("T")

LOG = logging.getLogger("keepword.stores.sql")
"""Where the store reports what it skipped rather than failed on (rows it cannot read back)."""

CHUNK = 500
"""Ids per ``IN (...)`` list when loading events (well under every driver's limit)."""

IMMUTABLE = ("made_at", "external_ref")
"""Commitment columns a write never changes, guarded by every write over a stored row."""

AS_TEXT = ("tags", "terms", "calendar", "policy")
"""JSON columns a commitment is read with as their text: each distinct text is parsed once."""

OPEN = Status.OPEN.value

MAX_VERSION = 2**31 - 1
"""The largest version the ``version`` column holds (an ``INTEGER`` on every database).

No stored row is at a larger version, so a write expecting one is a version
conflict, found by reading the row (binding such a number would overflow
SQLite's driver and be refused by PostgreSQL, where MariaDB and memory
report the conflict).
"""


def check_token(value: Any) -> str:
    """``value`` if it is a claim token (an identifier), else InvalidArgumentError."""
    return check_identifier(value, "token")


def new_token(worker: str) -> str:
    """A fresh claim token: unique (a UUID) and saying who claimed (for diagnostics)."""
    return f"{uuid.uuid4().hex}:{worker}"[:255]


def chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    """``ids`` in lists of at most :data:`CHUNK`, in order."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def guarded_row(
    table: sa.Table, value: Callable[[str], Any], guards: Iterable[str]
) -> list[sa.ColumnElement[bool]]:
    """The ``WHERE`` of a write over one stored row: its key, then its guards.

    The row is found by ``(tenant, id)`` alone; each guard column must hold
    ``value(column)``, tested with ``IS NOT DISTINCT FROM`` (``=`` for the
    non-null ones, and ``NULL`` matches ``NULL``), which PostgreSQL does not
    use to choose an index.  With ``made_at = ...`` and no statistics on a
    freshly filled table it chose the ``(tenant, waiting_for, made_at)``
    index and read the tenant's whole range for every row written.
    """
    return [
        table.c.tenant == value("tenant"),
        table.c.id == value("id"),
        *(table.c[name].is_not_distinct_from(value(name)) for name in guards),
    ]


def judge_row(
    new: Commitment, expected_version: int, row: Any, *, token: str | None = None
) -> ConflictError | NotFoundError | None:
    """Why writing ``new`` over the stored ``row`` must not happen, or ``None`` if it may.

    ``row`` holds version, made_at, external_ref and claim_token (``None``:
    no such commitment).  Checks, in order: it exists, the version, the
    claim (when ``token`` is given: the token alone, as the port says; a
    lease that ran out with nobody taking the row over leaves it this
    token's); a changed immutable field raises :class:`InvalidArgumentError`
    (a bad argument, not a lost race).
    """
    if row is None:
        return NotFoundError("commitment", new.id, argument="commitment")
    if row.version != expected_version:
        return version_conflict(new.id, expected_version, int(row.version))
    if token is not None and row.claim_token != token:
        return ConflictError(
            f"commitment {new.id!r} is no longer claimed by this worker: its lease "
            "expired and another worker took it",
            argument="token",
            fix="drop this result; the worker holding the claim fires the step",
            expected_version=expected_version,
            actual_version=int(row.version),
        )
    for name in IMMUTABLE:
        if getattr(row, name) != getattr(new, name):
            raise InvalidArgumentError(
                f"{name} cannot change ({getattr(row, name)!r} -> {getattr(new, name)!r})",
                argument="commitment",
            )
    return None


def _same_event(row: Any, event: Event, compare_data: bool) -> bool:
    """Whether a stored event row is ``event`` (its data only if ``compare_data``)."""
    same = (row.seq, row.kind, row.at, row.actor) == (
        event.seq,
        event.kind,
        event.at,
        event.actor,
    )
    return same and (not compare_data or _rows.event_from_row(row._mapping).data == event.data)


def make_engine(url: str | sa.URL) -> Engine:
    """An engine for ``url``: ``utf8mb4`` on MariaDB/MySQL, pre-ping on servers.

    Raises:
        InvalidArgumentError: not a database URL, or its driver is missing.
    """
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as error:
        raise InvalidArgumentError(
            f"is not a database URL ({error})",
            argument="url_or_engine",
            fix="e.g. 'sqlite:///keepword.db' or 'postgresql+psycopg://user@host/db'",
        ) from None
    kwargs: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if backend != "sqlite":
        kwargs["pool_pre_ping"] = True
    try:
        return sa.create_engine(parsed, **kwargs)
    except (ImportError, sa_exc.NoSuchModuleError) as error:
        raise InvalidArgumentError(
            f"needs a database driver that is not installed ({error})",
            argument="url_or_engine",
            fix="pip install 'keepword[postgres]' or 'keepword[mysql]'",
        ) from None
    except sa_exc.ArgumentError as error:
        raise InvalidArgumentError(str(error), argument="url_or_engine") from None


class SqlStoreBase:
    """The engine, tables, schema check and transactions every ``SqlStore`` port runs on.

    Not a store by itself: :class:`keepword.stores.sql.SqlStore` adds the
    ports, and documents the arguments.
    """

    def __init__(
        self,
        url_or_engine: str | sa.URL | Engine,
        *,
        table_prefix: str = "keepword_",
        schema: str | None = None,
    ) -> None:
        prefix = _schema.check_table_prefix(table_prefix)
        if schema is not None and not isinstance(schema, str):
            raise InvalidArgumentError(
                f"must be a str or None, not {type(schema).__name__}", argument="schema"
            )
        if isinstance(url_or_engine, Engine):
            self._engine, self._owns_engine = url_or_engine, False
        elif isinstance(url_or_engine, (str, sa.URL)):
            self._engine, self._owns_engine = make_engine(url_or_engine), True
        else:
            raise InvalidArgumentError(
                "must be a database URL or a SQLAlchemy Engine, "
                f"not {type(url_or_engine).__name__}",
                argument="url_or_engine",
            )
        _dialect.prepare_engine(self._engine)
        self._prefix = prefix
        self._schema_name = schema
        self._metadata = _schema.build_metadata(prefix, schema)
        names = _schema.table_names(prefix)
        key = (lambda n: f"{schema}.{n}") if schema else (lambda n: n)
        self._c = self._metadata.tables[key(names[0])]
        self._e = self._metadata.tables[key(names[1])]
        self._v = self._metadata.tables[key(names[2])]
        self._n = self._metadata.tables[key(names[3])]
        self._next_index = f"ix_{prefix}commitments_next_action"
        self._ready = False
        self._closed = False
        self._traits: _dialect.DialectTraits | None = None
        self._lock = threading.Lock()
        self._claimed = _claimed.ClaimedRows()
        self._fire_stmts: dict[tuple[str, ...], sa.Update] = {}
        self.capabilities: frozenset[str] = _dialect.traits_for(self._engine).capabilities
        """What this store can do (see :data:`keepword.ports.CAPABILITIES`).

        ``transactions``; ``multiprocess`` unless the database is in-memory
        SQLite; ``skip_locked`` on PostgreSQL and MariaDB/MySQL.  For
        MariaDB/MySQL it is refined at the first call, once the server
        version is known (``SKIP LOCKED`` needs MariaDB 10.6 or MySQL 8).
        """

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"<SqlStore {url} table_prefix={self._prefix!r}>"

    # ------------------------------------------------------------------ properties

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine the store runs on."""
        return self._engine

    @property
    def metadata(self) -> sa.MetaData:
        """The store's tables, for a host's own Alembic ``target_metadata``."""
        return self._metadata

    @property
    def table_prefix(self) -> str:
        """The prefix of the store's table names."""
        return self._prefix

    @property
    def traits(self) -> _dialect.DialectTraits:
        """What the database can do (connects once to learn a MariaDB/MySQL server version)."""
        if self._traits is None:
            if self._engine.dialect.name in ("mysql", "mariadb") and (
                self._engine.dialect.server_version_info is None
            ):
                _errors.retrying("connect", self._touch)
            self._traits = _dialect.traits_for(self._engine)
        return self._traits

    def _touch(self) -> None:
        with self._engine.connect():
            pass

    # ------------------------------------------------------------------ schema

    def create_schema(self) -> None:
        """Create the tables if missing and record the schema version.

        Safe to call again, and from several processes at once.  Production
        deployments may prefer the shipped Alembic migrations
        (:func:`keepword.stores.sql.migrate.upgrade`).

        Raises:
            SchemaError: the tables exist at a version this keepword does not know.
            StoreError: the database refused to create them.
        """
        self._check_open()
        insert = _dialect.insert_ignore(self._v, self._engine.dialect.name).values(
            name=_schema.SCHEMA_NAME, version=_schema.SCHEMA_VERSION
        )

        def create() -> None:
            with self._engine.connect() as conn:
                conn.execution_options(**{_dialect.WRITE: True})
                with conn.begin():
                    self._metadata.create_all(conn, checkfirst=True)
                with conn.begin():
                    conn.execute(insert)

        try:
            _errors.retrying("create_schema", create)
        except StoreError:
            # Another process may have created the tables between our check and our CREATE.
            self._ready = False
            self._ensure_ready()
            return
        self._ready = False
        self._ensure_ready()

    def drop_schema(self) -> None:
        """Drop the store's tables and their data (and keepword's Alembic version table).

        Meant for tests and for removing keepword from a database.
        """
        self._check_open()
        alembic_version = sa.Table(
            f"{self._prefix}alembic_version",
            sa.MetaData(schema=self._schema_name),
            sa.Column("version_num", sa.String(32), primary_key=True),
        )

        def drop() -> None:
            with self._engine.connect() as conn:
                conn.execution_options(**{_dialect.WRITE: True})
                with conn.begin():
                    self._metadata.drop_all(conn, checkfirst=True)
                    alembic_version.drop(conn, checkfirst=True)

        _errors.retrying("drop_schema", drop)
        self._ready = False

    def _ensure_ready(self) -> None:
        """Check the schema version once per store; raise SchemaError if unusable."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            stmt = sa.select(self._v.c.version).where(self._v.c.name == _schema.SCHEMA_NAME)

            def read() -> Any:
                with self._engine.connect() as conn, conn.begin():
                    return conn.execute(stmt).scalar_one_or_none()

            try:
                version = _errors.retrying("start", read)
            except SchemaError:
                version = None
            if version is None:
                raise SchemaError(
                    f"keepword's tables (prefix {self._prefix!r}) are missing from "
                    f"{self._engine.url.render_as_string(hide_password=True)}",
                    fix="call SqlStore.create_schema() or run `keepword db upgrade`",
                )
            if version > _schema.SCHEMA_VERSION:
                raise SchemaError(
                    f"the database schema is at version {version}, newer than this keepword "
                    f"understands ({_schema.SCHEMA_VERSION})",
                    fix="upgrade keepword (pip install -U keepword)",
                )
            if version < _schema.SCHEMA_VERSION:
                raise SchemaError(
                    f"the database schema is at version {version}, older than this keepword "
                    f"needs ({_schema.SCHEMA_VERSION})",
                    fix="run `keepword db upgrade`",
                )
            self._ready = True
            self._traits = _dialect.traits_for(self._engine)
            self.capabilities = self._traits.capabilities

    # ------------------------------------------------------------------ transactions

    def _one_of(self, column: sa.ColumnElement[Any], keys: Sequence[str]) -> sa.ColumnElement[bool]:
        """``column IN keys``, as one array parameter on PostgreSQL (:func:`_dialect.one_of`)."""
        return _dialect.one_of(column, keys, self._engine.dialect.name)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("this SqlStore is closed", fix="create a new SqlStore")

    def _held(self, tenant: str, ids: Sequence[str], token: str) -> tuple[list[str], str] | None:
        """The checked ids and token of a release or an acknowledgement; ``None`` for no ids."""
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        claim = check_token(token)
        if not wanted:
            self._check_open()
            return None
        return wanted, claim

    def _run(
        self,
        operation: str,
        work: Callable[[Connection], T],
        *,
        write: bool,
        read_committed: bool = False,
    ) -> T:
        """Run ``work`` in one transaction (retried whole on transient failures).

        ``read_committed`` runs it at READ COMMITTED on MariaDB/MySQL (whose
        default, REPEATABLE READ, keeps locks on every row a locking read
        scanned and takes gap locks); PostgreSQL's default already is.
        """
        self._check_open()
        self._ensure_ready()
        mysql = read_committed and self._engine.dialect.name in ("mysql", "mariadb")

        def transaction() -> T:
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(**{_dialect.WRITE: True})
                if mysql:
                    conn.execution_options(isolation_level="READ COMMITTED")
                with conn.begin():
                    return work(conn)

        return _errors.retrying(operation, transaction)

    def close(self) -> None:
        """Dispose of the engine if the store created it; leave a caller's engine open.

        Idempotent.  Later calls raise :class:`~keepword.errors.StoreError`.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_engine:
            self._engine.dispose()

    # ------------------------------------------------------------------ reading helpers

    @functools.cached_property
    def _commitment_columns(self) -> list[sa.ColumnElement[Any]]:
        """Every commitments column, the JSON ones (:data:`AS_TEXT`) as their text.

        The text is the key of the loaded-value caches: thousands of rows
        made under one calendar share one parsed calendar, and rows with the
        same tags or terms (mostly ``[]`` and ``{}``) one parsed value.
        """
        return [
            sa.cast(col, sa.Text).label(col.name) if col.name in AS_TEXT else col
            for col in self._c.columns
        ]

    def _events_of(
        self,
        conn: Connection,
        tenant: str,
        ids: Sequence[str],
        broken: dict[str, Exception] | None = None,
    ) -> dict[str, list[Event]]:
        """The events of each of ``ids``, in ``seq`` order.

        An event row that cannot be read raises, unless ``broken`` is given:
        then the error is recorded there under its commitment's id instead.
        """
        e = self._e
        out: dict[str, list[Event]] = {i: [] for i in ids}
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            stmt = (
                sa.select(e)
                .where(e.c.tenant == tenant, self._one_of(e.c.commitment_id, chunk))
                .order_by(e.c.commitment_id, e.c.seq)
            )
            for row in conn.execute(stmt).mappings():
                try:
                    out[row["commitment_id"]].append(_rows.event_from_row(row))
                except Exception as error:
                    if broken is None:
                        raise
                    broken.setdefault(row["commitment_id"], error)
        return out

    def _load(self, conn: Connection, tenant: str, rows: Sequence[Any]) -> list[Commitment]:
        if not rows:
            return []
        events = self._events_of(conn, tenant, [r["id"] for r in rows])
        return [_rows.commitment_from_row(r, events[r["id"]]) for r in rows]

    def _load_readable(
        self, conn: Connection, tenant: str, rows: Sequence[Any]
    ) -> list[Commitment]:
        """:meth:`_load`, leaving out (and logging) the rows that cannot be read back.

        A row written by hand or corrupted (a calendar or policy snapshot,
        an event's data) would otherwise fail every call that loads it.  Each
        one left out is logged at ``ERROR`` on ``keepword.stores.sql`` with
        its tenant, id and the reason; nothing is changed in the database.
        """
        broken: dict[str, Exception] = {}
        events = self._events_of(conn, tenant, [r["id"] for r in rows], broken)
        out: list[Commitment] = []
        for row in rows:
            id = row["id"]
            try:
                if id in broken:
                    raise broken[id]
                out.append(_rows.commitment_from_row(row, events[id]))
            except Exception as error:
                LOG.error(
                    "commitment %r of tenant %r cannot be read back and is skipped "
                    "(%s: %s); it stays in the database untouched: repair or remove the row",
                    id,
                    tenant,
                    type(error).__name__,
                    error,
                )
        return out

    def _claiming(self, stmt: sa.Select[Any], table: sa.Table, index: str | None) -> sa.Select[Any]:
        """``stmt`` as a claiming read: ``FOR UPDATE SKIP LOCKED`` where there are row locks.

        ``index`` is forced on MariaDB/MySQL (``FORCE INDEX``): InnoDB locks
        every row its chosen index scans, so the scan must be the narrow one.
        SQLite has no row locks: the claim's ``BEGIN IMMEDIATE`` already holds
        the database's only write lock.
        """
        traits = self.traits
        if index is not None and traits.name == "mysql":
            hint = f"FORCE INDEX ({index})"
            stmt = stmt.with_hint(table, hint, dialect_name="mysql")
            stmt = stmt.with_hint(table, hint, dialect_name="mariadb")
        if traits.skip_locked:
            return stmt.with_for_update(skip_locked=True)
        if traits.row_locks:
            return stmt.with_for_update()
        return stmt

    # ------------------------------------------------------------------ writing helpers

    def _append_events(
        self,
        conn: Connection,
        tenant: str,
        news: Sequence[Commitment],
        *,
        compare_data: bool,
        loaded: Mapping[str, Commitment] | None = None,
    ) -> None:
        """Insert the events of each of ``news`` past its stored history, which it must extend.

        One read of the stored events for all of them (their rows are locked
        by the caller's write, so none can be added meanwhile).  Every stored
        event's seq, kind, instant and actor must equal the new history's;
        ``compare_data`` compares the data too (``update``; a tick's
        ``fire_many`` skips re-reading it, as the version check already proves
        nobody wrote since the claim).  A commitment in ``loaded`` (the stored
        state, as its claim loaded it; the caller's version guard proved it
        current) is checked against that history instead, with no read.
        On PostgreSQL through psycopg the new events are sent with ``COPY``.
        """
        e = self._e
        known = loaded or {}
        columns = [e.c.commitment_id, e.c.seq, e.c.kind, e.c.at, e.c.actor]
        if compare_data:
            columns.append(e.c.data)
        stored: dict[str, list[Any]] = {new.id: [] for new in news if new.id not in known}
        for chunk in chunks(list(stored)):
            stmt = (
                sa.select(*columns)
                .where(e.c.tenant == tenant, self._one_of(e.c.commitment_id, chunk))
                .order_by(e.c.commitment_id, e.c.seq)
            )
            for row in conn.execute(stmt):
                stored[row.commitment_id].append(row)
        added: list[dict[str, Any]] = []
        for new in news:
            before = known.get(new.id)
            if before is not None:
                length = len(before.history)
                extends = new.history[:length] == before.history
            else:
                rows = stored[new.id]
                length = len(rows)
                extends = length <= len(new.history) and all(
                    _same_event(row, event, compare_data)
                    for row, event in zip(rows, new.history, strict=False)
                )
            if not extends:
                raise InvalidArgumentError(
                    "the history must extend the stored history (events are only appended)",
                    argument="commitment",
                    fix="apply transitions to the stored commitment, never rewrite its events",
                )
            added.extend(_rows.events_to_rows(new, new.history[length:]))
        if added:
            if _dialect.can_copy(conn):
                _dialect.copy_rows(conn, e, added)
            else:
                conn.execute(sa.insert(e), added)
