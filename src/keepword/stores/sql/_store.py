"""``SqlStore``: the :class:`~keepword.ports.Store` port on SQLite, PostgreSQL and MariaDB/MySQL.

One transaction per call, through SQLAlchemy Core; every statement filters by
tenant; no session state survives a call.
"""

from __future__ import annotations

import datetime as _dt
import functools
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_ids, check_lease, check_positive
from keepword.commitment import Commitment, Event, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    SchemaError,
    StoreError,
)
from keepword.notice import Notice, NoticeState
from keepword.ports import (
    PORTS,
    Fire,
    Query,
    check_fires,
    check_new_commitment,
    check_query,
    check_write,
    version_conflict,
)
from keepword.stores.sql import _claimed, _dialect, _errors, _rows, _schema

if TYPE_CHECKING:
    from keepword.ports import Store

__all__ = ["SqlStore"]

T = TypeVar("T")

_CHUNK = 500
"""Ids per ``IN (...)`` list when loading events (well under every driver's limit)."""

_IMMUTABLE = ("made_at", "external_ref")
_FIRE_KEYS = {
    "tenant": "k_tenant",
    "id": "k_id",
    "version": "k_version",
    "claim_token": "k_token",
    "made_at": "k_made_at",
    "external_ref": "k_external_ref",
}
"""The column each key or guard parameter of a fire's ``UPDATE`` is compared with."""
_NOT_SET = ("tenant", "id", *_IMMUTABLE, "claim_token", "claimed_until")
"""Columns a write over a stored commitment never sets from its new state."""

_AS_TEXT = ("tags", "terms", "calendar", "policy")
"""JSON columns a commitment is read with as their text: each distinct text is parsed once."""

_OPEN = Status.OPEN.value
_PENDING, _CLAIMED, _ACKED = (
    NoticeState.PENDING.value,
    NoticeState.CLAIMED.value,
    NoticeState.ACKED.value,
)


def _check_token(value: Any) -> str:
    return check_identifier(value, "token")


def _new_token(worker: str) -> str:
    """A fresh claim token: unique (a UUID) and saying who claimed (for diagnostics)."""
    return f"{uuid.uuid4().hex}:{worker}"[:255]


def _notice_fields(notice: Notice) -> dict[str, Any]:
    return {f.name: getattr(notice, f.name) for f in attrs.fields(Notice)}


def _guarded_row(
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


class _Contended(Exception):
    """A batched fire found a row that moved on: judge each fire under a lock instead."""


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _judge_row(
    new: Commitment, expected_version: int, row: Any, *, token: str | None = None
) -> ConflictError | NotFoundError | None:
    """Why writing ``new`` over the stored ``row`` must not happen, or ``None`` if it may.

    ``row`` holds version, made_at, external_ref and claim_token (``None``:
    no such commitment).  Checks, in order: it exists, the version, the
    claim (when ``token`` is given); a changed immutable field raises
    :class:`InvalidArgumentError` (a bad argument, not a lost race).
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
    for name in _IMMUTABLE:
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


def _fire_params(
    fire: Fire, values: Mapping[str, Any], token: str, columns: Sequence[str]
) -> dict[str, Any]:
    """The parameters of :meth:`SqlStore._fire_stmt` for one fire: key, guards, ``columns``."""
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


def _make_engine(url: str | sa.URL) -> Engine:
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


class SqlStore:
    """Commitments in a SQL database: SQLite, PostgreSQL (psycopg 3) or MariaDB/MySQL (PyMySQL).

    Implements :class:`keepword.ports.Store`; each method's contract is there.
    Every call runs in one transaction of its own and is retried as a whole
    when the database reports a lock, a deadlock or a serialization failure;
    driver errors never reach the caller raw.

    Args:
        url_or_engine: a database URL (the store then creates, and on
            :meth:`close` disposes, its own engine) or a SQLAlchemy
            :class:`~sqlalchemy.engine.Engine` you own.  SQLite engines get
            keepword's setup installed: WAL, a busy timeout, and
            ``BEGIN IMMEDIATE`` for keepword's write transactions.
        table_prefix: prefix of every table name (``^[A-Za-z_][A-Za-z0-9_]{0,30}$``),
            so several stores can share one database.
        schema: the database schema (PostgreSQL schema, MySQL database) the
            tables live in; ``None`` for the default.

    Raises:
        InvalidArgumentError: a bad ``table_prefix`` or URL, or a missing driver.

    Nothing connects until the first call.  The first data call checks the
    schema version and raises :class:`~keepword.errors.SchemaError` if the
    tables are missing (call :meth:`create_schema` or run
    ``keepword db upgrade``) or newer than this keepword.

    >>> import keepword
    >>> store = SqlStore("sqlite://", table_prefix="demo_")
    >>> store.create_schema()
    >>> store.count("shop-7", keepword.ports.Query())
    0
    >>> store.close()
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
            self._engine, self._owns_engine = _make_engine(url_or_engine), True
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
        self.ports: frozenset[str] = PORTS
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

    # ------------------------------------------------------------------ reading helpers

    def _events_of(
        self, conn: Connection, tenant: str, ids: Sequence[str]
    ) -> dict[str, list[Event]]:
        e = self._e
        out: dict[str, list[Event]] = {i: [] for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            stmt = (
                sa.select(e)
                .where(e.c.tenant == tenant, self._one_of(e.c.commitment_id, chunk))
                .order_by(e.c.commitment_id, e.c.seq)
            )
            for row in conn.execute(stmt).mappings():
                out[row["commitment_id"]].append(_rows.event_from_row(row))
        return out

    def _load(self, conn: Connection, tenant: str, rows: Sequence[Any]) -> list[Commitment]:
        if not rows:
            return []
        events = self._events_of(conn, tenant, [r["id"] for r in rows])
        return [_rows.commitment_from_row(r, events[r["id"]]) for r in rows]

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
        if q.external_ref is not None:
            clauses.append(c.c.external_ref == q.external_ref)
        return clauses

    # ------------------------------------------------------------------ writes

    def _insert(self, conn: Connection, commitments: Sequence[Commitment]) -> None:
        if not commitments:
            return
        conn.execute(sa.insert(self._c), [_rows.commitment_to_row(c) for c in commitments])
        events = [row for c in commitments for row in _rows.events_to_rows(c, c.history)]
        conn.execute(sa.insert(self._e), events)

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        """Store a new commitment unless its tenant already has its external reference.

        See :meth:`keepword.ports.Store.add`.  Race-safe: when concurrent
        adds of one reference collide on the unique key, the losers read and
        return the winner's commitment.

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
        See :meth:`keepword.ports.Store.add_many`.

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
            for start in range(0, len(ordered), _CHUNK):
                chunk = ordered[start : start + _CHUNK]
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
        See :meth:`keepword.ports.Store.update`.

        Raises:
            InvalidArgumentError: bad arguments, a rewritten history or a changed
                immutable field; nothing is written.
            NotFoundError: no such commitment in ``commitment.tenant``.
            ConflictError: the stored version differs from ``expected_version``.
        """
        new = check_write(commitment, expected_version)
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
        for key in ("tenant", "id", *_IMMUTABLE):
            values.pop(key)
        expected: dict[str, Any] = {
            "tenant": new.tenant,
            "id": new.id,
            "version": expected_version,
            "made_at": new.made_at,
            "external_ref": new.external_ref,
        }
        where = _guarded_row(c, expected.__getitem__, ("version", *_IMMUTABLE))
        return sa.update(c).where(*where).values(**values)

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
        """
        e = self._e
        known = loaded or {}
        columns = [e.c.commitment_id, e.c.seq, e.c.kind, e.c.at, e.c.actor]
        if compare_data:
            columns.append(e.c.data)
        stored: dict[str, list[Any]] = {new.id: [] for new in news if new.id not in known}
        for chunk in _chunks(list(stored)):
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

    def _explain_miss(
        self,
        conn: Connection,
        new: Commitment,
        expected_version: int,
    ) -> None:
        c = self._c
        row = conn.execute(
            sa.select(c.c.version, c.c.made_at, c.c.external_ref, c.c.claim_token)
            .where(c.c.tenant == new.tenant, c.c.id == new.id)
            # A locking read sees the latest committed row, even inside a
            # REPEATABLE READ snapshot (MariaDB's default).
            .with_for_update(read=True)
        ).first()
        error = _judge_row(new, expected_version, row)
        if error is not None:
            raise error
        raise StoreError(  # pragma: no cover - the UPDATE's conditions are exactly those above
            f"update of commitment {new.id!r} matched no row for an unknown reason"
        )

    # ------------------------------------------------------------------ reads

    def get(self, tenant: str, id: str) -> Commitment:
        """The commitment ``id`` of ``tenant``.

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
        See :meth:`keepword.ports.Store.find`.

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
            stmt = stmt.limit(q.limit)

        def read(conn: Connection) -> list[Commitment]:
            return self._load(conn, tenant, conn.execute(stmt).mappings().all())

        return self._run("find", read, write=False)

    def count(self, tenant: str, query: Query) -> int:
        """How many of the tenant's commitments match ``query`` (its ``limit`` ignored).

        Raises:
            InvalidArgumentError: ``tenant`` is not an identifier or ``query`` not a Query.
        """
        check_identifier(tenant, "tenant")
        q = check_query(query)
        stmt = sa.select(sa.func.count()).select_from(self._c).where(*self._where(tenant, q))
        return self._run("count", lambda conn: int(conn.execute(stmt).scalar_one()), write=False)

    # ------------------------------------------------------------------ the tick

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

    @functools.cached_property
    def _claim_stmts(self) -> tuple[sa.Select[Any], sa.Update]:
        """The claim's read and write, built once with bound parameters.

        The read: the tenant's due, unclaimed (or lease-expired) OPEN
        commitments, as a claiming read (:meth:`_claiming`); the write marks
        the chosen ids claimed.  Built once, each keeps its SQLAlchemy cache
        key, so a tick's claim does not rebuild and re-key them per batch.
        """
        c = self._c
        status = c.c.status == _OPEN
        if self._engine.dialect.name == "sqlite":
            # ``+status`` keeps SQLite from choosing (tenant, status, due_at), which
            # would scan every open commitment: the tick must follow the work due.
            status = sa.literal_column("+" + c.c.status.name) == _OPEN
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
            .limit(sa.bindparam("c_limit", type_=sa.Integer()))
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

        One write transaction: read the database clock, ``SELECT ... WHERE
        tenant = ? AND next_action_at <= now AND status = 'open' AND (claim
        free or claimed_until <= db_now) ORDER BY next_action_at, id LIMIT n
        FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB 10.6+; SQLite holds its
        write lock from ``BEGIN IMMEDIATE``), then mark those rows claimed by a
        fresh token until ``db_now + lease``.  Served by the index
        ``(tenant, next_action_at, id)``.  See :meth:`keepword.ports.Store.claim_due`.

        Raises:
            InvalidArgumentError: a bad tenant, ``now``, ``limit``, ``lease`` or ``worker``.
        """
        check_identifier(tenant, "tenant")
        at = to_utc(now, "now")
        n = check_positive(limit, "limit")
        length = check_lease(lease)
        token = _new_token(check_identifier(worker, "worker"))
        due, mark = self._claim_stmts

        def attempt(conn: Connection) -> list[Commitment]:
            db_now = _dialect.db_now(conn)
            params = {"c_tenant": tenant, "c_now": at, "c_db_now": db_now, "c_limit": n}
            rows = conn.execute(due, params).mappings().all()
            if not rows:
                return []
            ids = [r["id"] for r in rows]
            until = db_now + length
            for chunk in _chunks(ids):
                conn.execute(
                    mark, {"c_tenant": tenant, "c_ids": chunk, "c_token": token, "c_until": until}
                )
            return self._load(conn, tenant, rows)

        claimed = self._run("claim_due", attempt, write=True, read_committed=True)
        self._claimed.remember(token, claimed)
        return token, claimed

    def fire_many(
        self, tenant: str, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """Write a claimed batch's tick results in one transaction.

        A handful of statements for the whole batch: lock the fired rows
        (``SELECT ... FOR UPDATE`` in id order; SQLite already holds its write
        lock) and judge each fire against its row (exists, version, claim
        token, immutable fields); read the stored events' ``seq``, kind,
        instant and actor to check each new history extends its stored one;
        then one ``UPDATE`` per row sent as one batch (``executemany``), the
        notices inserted with do-nothing on a conflict of ``(tenant,
        idempotency_key)``, and the new events.  The unique key, not the
        claim, is what makes each notice exactly once.  See
        :meth:`keepword.ports.Store.fire_many`.

        When every fire's commitment is the one this store's :meth:`claim_due`
        loaded at the fire's expected version, the ``UPDATE`` sets only the
        columns the batch changed and the histories are checked against the
        loaded ones, with no read of the stored events: the version guard
        proves the stored row is still the loaded one
        (:mod:`keepword.stores.sql._claimed`).

        Raises:
            InvalidArgumentError: bad arguments or a fire ``update`` would
                refuse; nothing is written.
            ConflictError: a notice id is already stored; nothing is written.
        """
        batch = check_fires(tenant, fires)
        claim = _check_token(token)
        if not batch:
            self._check_open()
            return []
        c = self._c
        lock = sa.select(c.c.id, c.c.version, c.c.made_at, c.c.external_ref, c.c.claim_token)
        lock = lock.order_by(c.c.id)
        if self.traits.row_locks:
            lock = lock.with_for_update()
        ids = [f.commitment.id for f in batch]
        notices = [_rows.notice_to_row(n) for f in batch for n in f.notices]
        values = {f.commitment.id: _rows.commitment_to_row(f.commitment) for f in batch}
        expected = {f.commitment.id: f.expected_version for f in batch}
        loaded = {
            i: before
            for i, before in self._claimed.take(claim, ids).items()
            if before.version == expected[i]
        }
        columns = self._fire_columns(batch, loaded)
        fire_stmt = self._fire_stmt(columns)
        # in id order, as every batched write locks rows, so two batches cannot deadlock
        params = sorted(
            (_fire_params(f, values[f.commitment.id], claim, columns) for f in batch),
            key=lambda p: p["k_id"],
        )

        def write(conn: Connection, written: Sequence[Fire], rows: Sequence[dict[str, Any]]) -> int:
            """The guarded UPDATE of ``written``, then their events and notices; rows updated."""
            updated = int(conn.execute(fire_stmt, rows).rowcount)
            if updated != len(written):
                return updated
            news = [f.commitment for f in written]
            self._append_events(conn, tenant, news, compare_data=False, loaded=loaded)
            fired = {new.id for new in news}
            mine = [n for n in notices if n["commitment_id"] in fired]
            if mine:
                self._insert_notices(conn, mine)
            return updated

        def optimistic(conn: Connection) -> list[Commitment | ConflictError | NotFoundError]:
            if write(conn, batch, params) != len(batch):
                raise _Contended  # rolls this transaction back; judge each fire instead
            return [f.commitment for f in batch]

        def judged(conn: Connection) -> list[Commitment | ConflictError | NotFoundError]:
            rows: dict[str, Any] = {}
            for chunk in _chunks(ids):
                for locked in conn.execute(
                    lock.where(c.c.tenant == tenant, self._one_of(c.c.id, chunk))
                ):
                    rows[locked.id] = locked
            outcomes: list[Commitment | ConflictError | NotFoundError] = []
            written: list[Fire] = []
            for fire in batch:
                new, row = fire.commitment, rows.get(fire.commitment.id)
                error = _judge_row(new, fire.expected_version, row, token=claim)
                if error is None:
                    written.append(fire)
                outcomes.append(new if error is None else error)
            passed = {f.commitment.id for f in written}
            mine = [p for p in params if p["k_id"] in passed]
            if written and write(conn, written, mine) != len(written):
                raise StoreError(  # pragma: no cover - the rows are locked and were just judged
                    "fire: a locked, judged commitment row did not update"
                )
            return outcomes

        try:
            return self._run("fire", optimistic, write=True, read_committed=True)
        except _Contended:
            return self._run("fire", judged, write=True, read_committed=True)

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
    def _commitment_columns(self) -> list[sa.ColumnElement[Any]]:
        """Every commitments column, the JSON ones (:data:`_AS_TEXT`) as their text.

        The text is the key of the loaded-value caches: thousands of rows
        made under one calendar share one parsed calendar, and rows with the
        same tags or terms (mostly ``[]`` and ``{}``) one parsed value.
        """
        return [
            sa.cast(col, sa.Text).label(col.name) if col.name in _AS_TEXT else col
            for col in self._c.columns
        ]

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

        Guarded by everything :func:`_judge_row` checks (version, claim token,
        the immutable ``made_at`` and ``external_ref``): a batch whose rows all
        pass is written without a locking read first, and a row that fails
        makes the update count short, so the batch is judged fire by fire.

        Rows are found by key (:func:`_guarded_row`).  The batch is not sent
        as one ``json_to_recordset`` join: that saved client time, but without
        statistics PostgreSQL planned the join as a scan of the whole table.
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
            .where(*_guarded_row(c, key, ("version", "claim_token", *_IMMUTABLE)))
            .values(values)
        )
        self._fire_stmts[columns] = stmt
        return stmt

    def release(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Give up claims held by ``token`` without firing; returns how many were released.

        Claims another token holds are left alone.
        """
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        claim = _check_token(token)
        if not wanted:
            self._check_open()
            return 0
        c = self._c
        self._claimed.take(claim, wanted)

        def attempt(conn: Connection) -> int:
            released = 0
            for chunk in _chunks(wanted):
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
        """
        check_identifier(tenant, "tenant")
        c = self._c
        status = c.c.status == _OPEN
        if self._engine.dialect.name == "sqlite":
            status = sa.literal_column("+" + c.c.status.name) == _OPEN
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

    # ------------------------------------------------------------------ the outbox

    def _deliverable(self, tenant: str, db_now: _dt.datetime) -> sa.Select[Any]:
        """The tenant's notices pending or claimed under an expired lease, oldest first."""
        n = self._n
        return (
            sa.select(n)
            .where(
                n.c.tenant == tenant,
                sa.or_(
                    n.c.state == _PENDING,
                    sa.and_(n.c.state == _CLAIMED, n.c.claimed_until <= db_now),
                ),
            )
            .order_by(n.c.fired_at, n.c.scheduled_at, n.c.id)
        )

    def pending_notices(self, tenant: str, *, limit: int) -> list[Notice]:
        """Notices not yet acknowledged and not under a live claim (by the database clock).

        Oldest first (``fired_at``, ``scheduled_at``, id); claims nothing.
        See :meth:`keepword.ports.Store.pending_notices`.
        """
        check_identifier(tenant, "tenant")
        count = check_positive(limit, "limit")

        def read(conn: Connection) -> list[Notice]:
            stmt = self._deliverable(tenant, _dialect.db_now(conn)).limit(count)
            return [_rows.notice_from_row(r) for r in conn.execute(stmt).mappings()]

        return self._run("pending_notices", read, write=False)

    def claim_notices(
        self, tenant: str, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` deliverable notices until the database clock plus ``lease``.

        ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE ... SET state =
        'claimed'`` in one write transaction (SQLite: ``BEGIN IMMEDIATE``).
        See :meth:`keepword.ports.Store.claim_notices`.
        """
        check_identifier(tenant, "tenant")
        count = check_positive(limit, "limit")
        length = check_lease(lease)
        token = _new_token(check_identifier(worker, "worker"))
        n = self._n

        index = f"ix_{self._prefix}notices_state"
        order = (n.c.fired_at, n.c.scheduled_at, n.c.id)
        pending = sa.select(n).where(n.c.tenant == tenant, n.c.state == _PENDING)
        pending = self._claiming(pending.order_by(*order).limit(count), n, index)

        def attempt(conn: Connection) -> list[Notice]:
            db_now = _dialect.db_now(conn)
            # Two ordered range scans of (tenant, state, fired_at, scheduled_at, id),
            # each stopping after ``limit`` rows, rather than one scan of both states
            # and a sort: InnoDB keeps a lock on every row such a sort read, and the
            # other consumers would skip them all.
            expired = sa.select(n).where(
                n.c.tenant == tenant, n.c.state == _CLAIMED, n.c.claimed_until <= db_now
            )
            expired = self._claiming(expired.order_by(*order).limit(count), n, index)
            found = [
                _rows.notice_from_row(r)
                for stmt in (expired, pending)
                for r in conn.execute(stmt).mappings()
            ]
            found.sort(key=lambda x: (x.fired_at, x.scheduled_at, x.id))
            del found[count:]
            if not found:
                return []
            until = db_now + length
            for chunk in _chunks([x.id for x in found]):
                conn.execute(
                    sa.update(n)
                    .where(n.c.tenant == tenant, self._one_of(n.c.id, chunk))
                    .values(state=_CLAIMED, claim_token=token, claimed_until=until)
                )
            return [
                Notice(
                    **{**_notice_fields(x), "state": NoticeState.CLAIMED, "claimed_until": until}
                )
                for x in found
            ]

        claimed = self._run("claim_notices", attempt, write=True, read_committed=True)
        return token, claimed

    def _settle(
        self, operation: str, tenant: str, ids: Sequence[str], token: str, ack: bool
    ) -> int:
        check_identifier(tenant, "tenant")
        wanted = check_ids(ids)
        claim = _check_token(token)
        if not wanted:
            self._check_open()
            return 0
        n = self._n

        def attempt(conn: Connection) -> int:
            values: dict[str, Any] = {"claim_token": None, "claimed_until": None}
            if ack:
                values.update(state=_ACKED, acked_at=_dialect.db_now(conn))
            else:
                values.update(state=_PENDING)
            done = 0
            for chunk in _chunks(sorted(set(wanted))):
                done += conn.execute(
                    sa.update(n)
                    .where(
                        n.c.tenant == tenant,
                        self._one_of(n.c.id, chunk),
                        n.c.state == _CLAIMED,
                        n.c.claim_token == claim,
                    )
                    .values(**values)
                ).rowcount
            return done

        return self._run(operation, attempt, write=True, read_committed=True)

    def ack_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Mark delivered the notices in ``ids`` that ``token`` still holds; returns how many.

        See :meth:`keepword.ports.Store.ack_notices`.
        """
        return self._settle("ack_notices", tenant, ids, token, ack=True)

    def release_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Return the notices in ``ids`` that ``token`` holds to pending; returns how many."""
        return self._settle("release_notices", tenant, ids, token, ack=False)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Dispose of the engine if the store created it; leave a caller's engine open.

        Idempotent.  Later calls raise :class:`~keepword.errors.StoreError`.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_engine:
            self._engine.dispose()


if TYPE_CHECKING:
    _check: Store = SqlStore("sqlite://")
