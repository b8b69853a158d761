"""Database differences, declared as capabilities instead of scattered ``if`` tests.

:func:`traits_for` describes what an engine's database can do
(:class:`DialectTraits`); :func:`prepare_engine` installs the SQLite recipe
(WAL, a busy timeout, ``BEGIN IMMEDIATE`` for write transactions) and, on
every engine, the hook that discards connections a read-only database
refused a write on;
:func:`one_of` tests a column against a list of keys the cheapest way each
database takes; :func:`insert_ignore` builds an insert that skips rows whose key exists,
spelled the way each database spells it; :func:`copy_rows` streams rows
with PostgreSQL's ``COPY`` where the driver allows it (:func:`can_copy`).

SQLite has no row locks, and SQLAlchemy silently drops ``FOR UPDATE`` there,
so a write transaction takes SQLite's write lock up front
(``BEGIN IMMEDIATE``): concurrent writers queue on the busy timeout instead
of failing with "database is locked" halfway through.  This uses the pysqlite
recipe from SQLAlchemy's documentation: the driver's own transaction handling
is switched off (``isolation_level = None``) and keepword emits ``BEGIN``
itself from the engine's ``begin`` event.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import operator
import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Insert

from keepword.errors import StoreError
from keepword.stores.sql import _errors

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "WRITE",
    "DialectTraits",
    "can_copy",
    "copy_rows",
    "db_now",
    "insert_ignore",
    "one_of",
    "one_of_param",
    "prepare_engine",
    "traits_for",
]

WRITE = "keepword_write"
"""Execution option: ``connection.execution_options(keepword_write=True)`` starts
the next transaction as a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for the write lock before "database is locked"."""

_PREPARED = "keepword_sqlite_prepared"


@attrs.frozen(kw_only=True)
class DialectTraits:
    """What one database can do, as keepword needs to know it.

    Attributes:
        name: SQLAlchemy's dialect name (``"sqlite"``, ``"postgresql"``, ``"mysql"``).
        skip_locked: ``SELECT ... FOR UPDATE SKIP LOCKED`` works.
        row_locks: ``SELECT ... FOR UPDATE`` locks rows (SQLite locks the whole file).
        multiprocess: several processes may share the database.
        begin_immediate: write transactions start with ``BEGIN IMMEDIATE``.
    """

    name: str
    skip_locked: bool
    row_locks: bool
    multiprocess: bool
    begin_immediate: bool

    @property
    def capabilities(self) -> frozenset[str]:
        """The :data:`keepword.ports.CAPABILITIES` names these traits give a store."""
        caps = {"transactions"}
        if self.multiprocess:
            caps.add("multiprocess")
        if self.skip_locked:
            caps.add("skip_locked")
        return frozenset(caps)


def _is_memory_sqlite(engine: Engine) -> bool:
    database = engine.url.database
    return (
        not database
        or database == ":memory:"
        or database.startswith("file::memory:")
        or "mode=memory" in str(engine.url.query.get("mode", ""))
    )


def traits_for(engine: Engine) -> DialectTraits:
    """The traits of ``engine``'s database.

    For MariaDB/MySQL, ``SKIP LOCKED`` depends on the server version
    (MariaDB 10.6, MySQL 8.0); before a first connection it is assumed.
    """
    dialect = engine.dialect
    if dialect.name == "sqlite":
        return DialectTraits(
            name="sqlite",
            skip_locked=False,
            row_locks=False,
            multiprocess=not _is_memory_sqlite(engine),
            begin_immediate=True,
        )
    if dialect.name == "postgresql":
        return DialectTraits(
            name="postgresql",
            skip_locked=True,
            row_locks=True,
            multiprocess=True,
            begin_immediate=False,
        )
    if dialect.name in ("mysql", "mariadb"):
        version = tuple(dialect.server_version_info or ())
        mariadb = bool(getattr(dialect, "is_mariadb", False))
        minimum = (10, 6) if mariadb else (8, 0, 1)
        # Not connected yet (no version): assume a supported server; refined later.
        skip = not version or version >= minimum
        return DialectTraits(
            name="mysql",
            skip_locked=skip,
            row_locks=True,
            multiprocess=True,
            begin_immediate=False,
        )
    return DialectTraits(
        name=dialect.name,
        skip_locked=False,
        row_locks=False,
        multiprocess=True,
        begin_immediate=False,
    )


def _md5(value: Any) -> str | None:
    """SQL ``md5(text)`` for SQLite: lowercase hex of the UTF-8 bytes (as PostgreSQL, MariaDB)."""
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sqlite_functions(dbapi_connection: Any, _record: Any = None) -> None:
    """``connect`` hook: give a SQLite connection the SQL functions keepword's queries use.

    ``md5(text)``, so that the extra-mile pick orders customers by
    :func:`keepword.touchpoint.pick_order` in SQL on every database.
    """
    dbapi_connection.create_function("md5", 1, _md5, deterministic=True)


def _sqlite_begin(conn: Connection) -> None:
    """``begin`` event: emit BEGIN (IMMEDIATE for writes) ourselves, after one-time setup."""
    fairy = conn.connection
    dbapi: Any = fairy.dbapi_connection
    if not fairy.info.get(_PREPARED):
        dbapi.isolation_level = None  # the driver stops issuing BEGIN/COMMIT on its own
        _sqlite_functions(dbapi)  # a connection opened before prepare_engine had no hook
        # Through the Connection, not a raw cursor: a refusal (say WAL on a
        # read-only directory) is then wrapped, translated and handled like
        # any statement's, instead of escaping the begin event raw.
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").close()
        conn.exec_driver_sql("PRAGMA foreign_keys = ON").close()
        if not _is_memory_sqlite(conn.engine):
            conn.exec_driver_sql("PRAGMA journal_mode = WAL").close()
        fairy.info[_PREPARED] = True
    if conn.get_execution_options().get(WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _sqlite_file(cargs: Sequence[Any], cparams: Mapping[str, Any]) -> str | None:
    """The file a pysqlite connection opens for writing, or ``None`` (memory, ``mode=ro``)."""
    name = cargs[0] if cargs else cparams.get("database")
    if not isinstance(name, str) or not name or name == ":memory:":
        return None
    if cparams.get("uri") and name.startswith("file:"):
        parts = urllib.parse.urlsplit(name)
        mode = urllib.parse.parse_qs(parts.query).get("mode", [""])[-1]
        path = urllib.parse.unquote(parts.path)
        return None if mode in ("ro", "memory") or not path or path == ":memory:" else path
    return name


def _sqlite_refuse_read_only(
    _dialect: Any, _record: Any, cargs: Sequence[Any], cparams: Mapping[str, Any]
) -> None:
    """``do_connect`` hook: open no SQLite connection on a file this process cannot write.

    SQLite opens such a file read-only without a word, and the connection
    stays read-only for life, even once the file is writable again.  Worse,
    in WAL mode it creates the ``-wal`` and ``-shm`` files with the
    database file's read-only permissions, and they outlive it: every later
    connection, in any process, is then read-only too.  So keepword checks
    the file (and those two, when they exist) before opening, and raises a
    :class:`~keepword.errors.StoreError` instead: nothing is opened, nothing
    created, and the next call tries again.  A URL that asks for
    ``mode=ro`` is opened as asked.
    """
    path = _sqlite_file(cargs, cparams)
    if path is None:
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name) and not os.access(name, os.W_OK, effective_ids=_EFFECTIVE_IDS):
            raise StoreError(
                f"the SQLite database file {name!r} is not writable by this process, "
                "and a connection opened on it would stay read-only",
                fix="make the database file, its -wal and -shm files and its directory "
                "writable by this process's user; the same store works again once they are",
            )


_EFFECTIVE_IDS = os.access in os.supports_effective_ids


def prepare_engine(engine: Engine) -> None:
    """Install keepword's per-database setup on ``engine`` (idempotent).

    Every engine gets :func:`~keepword.stores.sql._errors.discard_read_only`
    as a ``handle_error`` hook: a connection a read-only database refused a
    write on is thrown away, so the store recovers once the database is
    writable again.  SQLite also gets WAL journal, a busy timeout, foreign
    keys, and ``BEGIN IMMEDIATE`` for transactions started with the
    :data:`WRITE` execution option (plain deferred ``BEGIN`` otherwise),
    and a check that refuses to open a database file this process cannot
    write (:func:`_sqlite_refuse_read_only`), and the SQL function ``md5``
    on every connection (:func:`_sqlite_functions`).
    """
    if not event.contains(engine, "handle_error", _errors.discard_read_only):
        event.listen(engine, "handle_error", _errors.discard_read_only)
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "begin", _sqlite_begin):
        event.listen(engine, "begin", _sqlite_begin)
    if not event.contains(engine, "do_connect", _sqlite_refuse_read_only):
        event.listen(engine, "do_connect", _sqlite_refuse_read_only)
    if not event.contains(engine, "connect", _sqlite_functions):
        event.listen(engine, "connect", _sqlite_functions)


def one_of(
    column: sa.ColumnElement[Any], values: Sequence[Any], dialect_name: str
) -> sa.ColumnElement[bool]:
    """``column IN values``, spelled so the statement text does not depend on how many.

    PostgreSQL gets ``column = ANY(:values)`` with the list as one array
    parameter: the same SQL for every batch, so SQLAlchemy, psycopg and the
    server compile, convert and prepare it once.  An expanding ``IN`` renders
    one parameter (and cast) per value at every execution, which for a tick's
    batches of 100 ids cost more client time than the rows it read.  Other
    databases keep ``IN``.

    >>> t = sa.table("t", sa.column("id", sa.String()))
    >>> str(one_of(t.c.id, ["a", "b"], "postgresql").compile(dialect=postgresql.dialect()))
    't.id = ANY (%(param_1)s::VARCHAR[])'
    """
    if dialect_name == "postgresql":
        array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.String()))
        return column == sa.any_(array)
    return column.in_(values)


def one_of_param(
    column: sa.ColumnElement[Any], key: str, dialect_name: str
) -> sa.ColumnElement[bool]:
    """:func:`one_of` for a statement built once: the list is bound at execution as ``key``.

    >>> t = sa.table("t", sa.column("id", sa.String()))
    >>> str(one_of_param(t.c.id, "ids", "postgresql").compile(dialect=postgresql.dialect()))
    't.id = ANY (%(ids)s::VARCHAR[])'
    >>> str(one_of_param(t.c.id, "ids", "sqlite").compile(dialect=sqlite.dialect()))
    't.id IN (__[POSTCOMPILE_ids])'
    """
    if dialect_name == "postgresql":
        return column == sa.any_(sa.bindparam(key, type_=postgresql.ARRAY(sa.String())))
    return column.in_(sa.bindparam(key, expanding=True))


def insert_ignore(table: sa.Table, dialect_name: str, on: tuple[str, ...] | None = None) -> Insert:
    """An ``INSERT`` that silently skips rows whose primary or unique key exists.

    PostgreSQL and SQLite: ``ON CONFLICT DO NOTHING`` (only for a conflict on
    the columns ``on`` when given, so any other duplicate still fails);
    MariaDB/MySQL: ``ON DUPLICATE KEY UPDATE`` of the first primary-key
    column to itself (unlike ``INSERT IGNORE`` it does not hide other errors).
    """
    target = None if on is None else [table.c[name] for name in on]
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=target)
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=target)
    if dialect_name in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        first = next(iter(table.primary_key.columns))
        return stmt.on_duplicate_key_update({first.name: stmt.inserted[first.name]})
    return sa.insert(table)


_DB_NOW = {
    "postgresql": "SELECT clock_timestamp()",
    "mysql": "SELECT UTC_TIMESTAMP(6)",
    "mariadb": "SELECT UTC_TIMESTAMP(6)",
    "sqlite": "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')",
}


def db_now(conn: Connection) -> _dt.datetime:
    """The database server's clock, as an aware UTC ``datetime``.

    Leases are judged by this clock, never by a worker's: workers whose
    clocks disagree still agree on whether a claim has expired.  PostgreSQL
    ``clock_timestamp()``; MariaDB/MySQL ``UTC_TIMESTAMP(6)``; SQLite
    ``strftime('%Y-%m-%d %H:%M:%f', 'now')`` (milliseconds; SQLite's clock is
    the host's, shared by every process on it).  The value is then bound as a
    parameter of the same column type the lease columns use, so comparisons
    and stored values agree on every database.
    """
    name = conn.dialect.name
    sql = _DB_NOW.get(name, "SELECT CURRENT_TIMESTAMP")
    value: Any = conn.exec_driver_sql(sql).scalar_one()
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if not isinstance(value, _dt.datetime):  # pragma: no cover - every driver returns these
        raise TypeError(f"the database clock returned {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC)


def can_copy(conn: Connection) -> bool:
    """Whether :func:`copy_rows` can send rows over ``conn`` (PostgreSQL through psycopg 3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def _values_getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row's values for ``names``, in order, as one C-level call per row.

    >>> _values_getter(["b", "a"])({"a": 1, "b": 2}), _values_getter(["a"])({"a": 1})
    ((2, 1), (1,))
    """
    if len(names) == 1:  # itemgetter of one name returns the value, not a tuple
        only = names[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*names)


def copy_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` with PostgreSQL's ``COPY ... FROM STDIN`` (see :func:`can_copy`).

    One statement streams every row, with no per-row parameter binding: for
    the tick's notices and events a fraction of the client time that an
    ``executemany`` takes.  Each row maps every column of ``table`` to its
    Python value; JSON columns are serialized here (as SQLAlchemy would), the
    rest are adapted by psycopg.  A constraint violation (say a duplicate key)
    fails the whole ``COPY``, raised as SQLAlchemy's wrapped driver error, so
    the caller's error handling sees what an ``INSERT`` would have raised.
    """
    if not rows:
        return
    columns = [col.name for col in table.columns]
    dumps = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    json_at = []  # (position, whether None is SQL NULL) of each JSON column
    for position, col in enumerate(table.columns):
        impl = getattr(col.type, "impl", col.type)
        if isinstance(impl, sa.JSON):
            json_at.append((position, bool(impl.none_as_null)))
    quote = conn.dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    dbapi: Any = conn.dialect.dbapi
    raw: Any = conn.connection.driver_connection
    values_of = _values_getter(columns)
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                if not json_at:
                    copy.write_row(values_of(row))
                    continue
                values = list(values_of(row))
                for position, none_as_null in json_at:
                    value = values[position]
                    if value is not None or not none_as_null:
                        values[position] = dumps(value)
                copy.write_row(values)
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(statement, None, error, dbapi.Error) from error
