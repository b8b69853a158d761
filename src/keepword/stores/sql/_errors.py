"""The one boundary where database driver errors become keepword errors.

:func:`classify` sorts any exception a driver raises (through SQLAlchemy)
into a :class:`Failure` kind by SQLSTATE (PostgreSQL), error number
(MariaDB/MySQL) or result code (SQLite), using the tables below;
:func:`translate` turns it into a :class:`~keepword.errors.KeepwordError`
subclass; :func:`retrying` runs a whole transaction again when the failure
is transient (a lock, a deadlock, a serialization failure), within a bounded
budget, and translates everything else.  :func:`discard_read_only` is the
engine hook that throws away a connection a read-only database refused a
write on, so the store works again, without being rebuilt, once the
database is writable again.

>>> import sqlite3
>>> from sqlalchemy.exc import OperationalError
>>> classify(OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked")))
<Failure.TRANSIENT: 'transient'>
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    KeepwordError,
    SchemaError,
    StoreError,
)

__all__ = [
    "MYSQL_ERRNOS",
    "POSTGRES_SQLSTATES",
    "SQLITE_CODES",
    "Failure",
    "RetryBudget",
    "classify",
    "discard_read_only",
    "retrying",
    "translate",
]

T = TypeVar("T")


class Failure(enum.Enum):
    """What kind of failure a driver error is."""

    TRANSIENT = "transient"
    """A lock, deadlock or serialization failure: run the transaction again."""
    DUPLICATE = "duplicate"
    """A unique or primary-key violation."""
    INVALID = "invalid"
    """The database refused a value (too long, out of range, not null, bad encoding)."""
    MISSING_SCHEMA = "missing_schema"
    """A table or schema does not exist."""
    UNAVAILABLE = "unavailable"
    """The connection failed or the server went away."""
    READ_ONLY = "read_only"
    """The database refused a write because it is read-only (a read-only SQLite
    file or directory, a PostgreSQL standby, a MariaDB/MySQL server in read-only mode)."""
    OTHER = "other"
    """Anything else."""


POSTGRES_SQLSTATES: dict[str, Failure] = {
    "40001": Failure.TRANSIENT,  # serialization_failure
    "40P01": Failure.TRANSIENT,  # deadlock_detected
    "55P03": Failure.TRANSIENT,  # lock_not_available
    "23505": Failure.DUPLICATE,  # unique_violation
    "23502": Failure.INVALID,  # not_null_violation
    "23503": Failure.INVALID,  # foreign_key_violation
    "23514": Failure.INVALID,  # check_violation
    "42P01": Failure.MISSING_SCHEMA,  # undefined_table
    "3F000": Failure.MISSING_SCHEMA,  # invalid_schema_name
    "57P01": Failure.UNAVAILABLE,  # admin_shutdown
    "25006": Failure.READ_ONLY,  # read_only_sql_transaction (a hot standby)
}
"""PostgreSQL SQLSTATE -> failure; classes ``22`` (data) and ``08`` (connection) by prefix."""

_POSTGRES_CLASSES: dict[str, Failure] = {"22": Failure.INVALID, "08": Failure.UNAVAILABLE}

MYSQL_ERRNOS: dict[int, Failure] = {
    1213: Failure.TRANSIENT,  # ER_LOCK_DEADLOCK
    1205: Failure.TRANSIENT,  # ER_LOCK_WAIT_TIMEOUT
    1062: Failure.DUPLICATE,  # ER_DUP_ENTRY
    1586: Failure.DUPLICATE,  # ER_DUP_ENTRY_WITH_KEY_NAME
    1048: Failure.INVALID,  # ER_BAD_NULL_ERROR
    1264: Failure.INVALID,  # ER_WARN_DATA_OUT_OF_RANGE
    1292: Failure.INVALID,  # ER_TRUNCATED_WRONG_VALUE (bad datetime)
    1366: Failure.INVALID,  # ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (bad string)
    1406: Failure.INVALID,  # ER_DATA_TOO_LONG
    1452: Failure.INVALID,  # ER_NO_REFERENCED_ROW_2
    3140: Failure.INVALID,  # ER_INVALID_JSON_TEXT (MySQL)
    4025: Failure.INVALID,  # ER_CONSTRAINT_FAILED (MariaDB JSON check)
    1146: Failure.MISSING_SCHEMA,  # ER_NO_SUCH_TABLE
    1049: Failure.MISSING_SCHEMA,  # ER_BAD_DB_ERROR
    2003: Failure.UNAVAILABLE,  # CR_CONN_HOST_ERROR
    2006: Failure.UNAVAILABLE,  # CR_SERVER_GONE_ERROR
    2013: Failure.UNAVAILABLE,  # CR_SERVER_LOST
    1036: Failure.READ_ONLY,  # ER_OPEN_AS_READONLY
    1290: Failure.READ_ONLY,  # ER_OPTION_PREVENTS_STATEMENT (--read-only)
    1792: Failure.READ_ONLY,  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
}
"""MariaDB/MySQL error number -> failure."""

SQLITE_CODES: dict[int, Failure] = {
    5: Failure.TRANSIENT,  # SQLITE_BUSY
    6: Failure.TRANSIENT,  # SQLITE_LOCKED
    8: Failure.READ_ONLY,  # SQLITE_READONLY and its extended codes (_DIRECTORY, _CANTINIT, ...)
    2067: Failure.DUPLICATE,  # SQLITE_CONSTRAINT_UNIQUE
    1555: Failure.DUPLICATE,  # SQLITE_CONSTRAINT_PRIMARYKEY
    1299: Failure.INVALID,  # SQLITE_CONSTRAINT_NOTNULL
    787: Failure.INVALID,  # SQLITE_CONSTRAINT_FOREIGNKEY
    275: Failure.INVALID,  # SQLITE_CONSTRAINT_CHECK
    18: Failure.INVALID,  # SQLITE_TOOBIG
    20: Failure.INVALID,  # SQLITE_MISMATCH
}
"""SQLite (extended, then primary) result code -> failure."""

_SQLITE_MESSAGES: tuple[tuple[str, Failure], ...] = (
    ("database is locked", Failure.TRANSIENT),
    ("database table is locked", Failure.TRANSIENT),
    ("database is busy", Failure.TRANSIENT),
    ("unique constraint failed", Failure.DUPLICATE),
    ("not null constraint failed", Failure.INVALID),
    ("no such table", Failure.MISSING_SCHEMA),
    ("unable to open database", Failure.UNAVAILABLE),
    ("attempt to write a readonly database", Failure.READ_ONLY),
)


def classify(error: BaseException) -> Failure:
    """The :class:`Failure` kind of a driver error (raw or wrapped by SQLAlchemy).

    Args:
        error: a :class:`sqlalchemy.exc.DBAPIError` or the driver's own exception.
    """
    orig: Any = getattr(error, "orig", None) or error
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        found = POSTGRES_SQLSTATES.get(sqlstate) or _POSTGRES_CLASSES.get(sqlstate[:2])
        if found is not None:
            return found
    module = type(orig).__module__ or ""
    if module.startswith(("pymysql", "MySQLdb", "mysql", "mariadb")):
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int):
            return MYSQL_ERRNOS.get(args[0], _fallback(error))
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        found = SQLITE_CODES.get(code) or SQLITE_CODES.get(code & 0xFF)
        if found is not None:
            return found
    if module.startswith("sqlite3") or type(orig).__module__ == "sqlite3":
        text = str(orig).lower()
        for needle, failure in _SQLITE_MESSAGES:
            if needle in text:
                return failure
    return _fallback(error)


def _fallback(error: BaseException) -> Failure:
    if isinstance(error, sa_exc.IntegrityError):
        return Failure.OTHER
    if isinstance(error, sa_exc.DataError):
        return Failure.INVALID
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return Failure.UNAVAILABLE
    return Failure.OTHER


def translate(error: BaseException, *, operation: str, attempts: int = 1) -> KeepwordError:
    """The :class:`~keepword.errors.KeepwordError` to raise for a driver error.

    Args:
        error: the driver error (wrapped by SQLAlchemy or raw).
        operation: what keepword was doing (``"add"``), for the message.
        attempts: how many times the transaction ran (for transient failures).

    Returns:
        ``ConflictError`` for a duplicate key, ``InvalidArgumentError`` for a
        refused value, ``SchemaError`` for missing tables, ``StoreError`` for
        the rest (including transient failures that outlasted the retries).
    """
    if isinstance(error, KeepwordError):
        return error
    failure = classify(error)
    orig = getattr(error, "orig", None) or error
    detail = f"{type(orig).__name__}: {str(orig).strip().splitlines()[0] if str(orig) else ''}"
    if failure is Failure.DUPLICATE:
        return ConflictError(
            f"{operation}: a record with the same key already exists ({detail})",
            fix="reload and decide again; ids and external references are unique per tenant",
        )
    if failure is Failure.INVALID:
        return InvalidArgumentError(
            f"{operation}: the database refused a value ({detail})",
            argument="value",
            fix="check lengths (identifiers <= 255 characters), ranges and text encoding",
        )
    if failure is Failure.MISSING_SCHEMA:
        return SchemaError(
            f"{operation}: keepword's tables are missing ({detail})",
            fix="call SqlStore.create_schema() or run `keepword db upgrade`",
        )
    if failure is Failure.TRANSIENT:
        return StoreError(
            f"{operation}: the database stayed busy after {attempts} attempts ({detail})",
            fix="retry later; if it persists, look for long transactions holding locks",
        )
    if failure is Failure.READ_ONLY:
        return StoreError(
            f"{operation}: the database is read-only ({detail})",
            fix="make the database writable (for SQLite: the file and its directory, for "
            "this process's user); the same store works again once it is",
        )
    if failure is Failure.UNAVAILABLE:
        return StoreError(
            f"{operation}: the database is unreachable ({detail})",
            fix="check the database URL, the server and the network",
        )
    return StoreError(f"{operation}: database error ({detail})")


def discard_read_only(context: ExceptionContext) -> None:
    """``handle_error`` hook: treat a read-only refusal as a lost connection.

    SQLite opens a file it may not write read-only, silently, and such a
    connection stays read-only for its whole life: kept in the engine's
    pool, it would refuse every write even after the file became writable
    again.  A server that turned read-only (a PostgreSQL standby after a
    failover, MariaDB in read-only mode) is no better a place for the pooled
    connections.  Marking the error a disconnect makes SQLAlchemy invalidate
    the connection and the pool, so the next call connects afresh; the
    error itself is still raised (and translated to a
    :class:`~keepword.errors.StoreError` by :func:`retrying`).  Installed on
    every store's engine by :func:`keepword.stores.sql._dialect.prepare_engine`;
    it changes nothing for any other error.
    """
    if classify(context.original_exception) is Failure.READ_ONLY:
        context.is_disconnect = True


class RetryBudget:
    """How often and how patiently :func:`retrying` runs a transaction again.

    Args:
        attempts: total runs at most (``>= 1``).
        base_delay: the first back-off in seconds; doubles each time.
        max_delay: the longest single back-off in seconds.

    Sleeps are jittered (full jitter) so racing processes spread out; the
    total sleep is bounded by ``attempts * max_delay``.
    """

    def __init__(self, attempts: int = 12, base_delay: float = 0.002, max_delay: float = 0.25):
        if attempts < 1:
            raise InvalidArgumentError("must be >= 1", argument="attempts")
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay

    def delay(self, attempt: int) -> float:
        """The jittered back-off before run ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)


DEFAULT_BUDGET = RetryBudget()


def retrying(
    operation: str,
    transaction: Callable[[], T],
    *,
    budget: RetryBudget = DEFAULT_BUDGET,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``transaction`` (a whole transaction), again on transient failures.

    Args:
        operation: what keepword is doing, for error messages.
        transaction: runs one complete transaction and returns its result; it
            must be safe to run again after a rollback.
        budget: how many runs and how long to wait between them.
        sleep: the sleep function (tests pass a fake).

    Returns:
        What ``transaction`` returned.

    Raises:
        KeepwordError: a keepword error raised inside passes through; driver
            errors are translated (see :func:`translate`), transient ones only
            after the budget is spent; an ``OverflowError`` (a driver that
            cannot bind a number, as SQLite's beyond 64 bits) becomes the
            :class:`~keepword.errors.InvalidArgumentError` a server gives.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return transaction()
        except KeepwordError:
            raise
        except sa_exc.DBAPIError as error:
            if classify(error) is Failure.TRANSIENT and attempt < budget.attempts:
                sleep(budget.delay(attempt))
                continue
            raise translate(error, operation=operation, attempts=attempt) from error
        except sa_exc.TimeoutError as error:  # the connection pool is exhausted
            if attempt < budget.attempts:
                sleep(budget.delay(attempt))
                continue
            raise StoreError(
                f"{operation}: no database connection became free ({error})",
                fix="raise the pool size or close stores you no longer use",
            ) from error
        except sa_exc.SQLAlchemyError as error:
            raise StoreError(f"{operation}: {type(error).__name__}: {error}") from error
        except OverflowError as error:  # SQLite's driver binding an int beyond 64 bits
            raise InvalidArgumentError(
                f"{operation}: the database refused a value (OverflowError: {error})",
                argument="value",
                fix="check ranges: versions, counters and limits must fit the database's integers",
            ) from error
