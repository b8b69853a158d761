"""Driver errors of every backend map to keepword's errors; transient ones are retried.

Table-driven: each row is a driver exception as PostgreSQL (SQLSTATE), MariaDB
(errno) or SQLite raises it, the failure it is classified as, and the
keepword error it becomes.  No database is needed.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

import keepword
from keepword.errors import ConflictError, InvalidArgumentError, SchemaError, StoreError
from keepword.stores.sql import _errors
from keepword.stores.sql._errors import Failure


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _mysql(errno: int) -> Exception:
    import pymysql  # type: ignore[import-untyped]

    error: Exception = pymysql.err.OperationalError(errno, "message")
    return error


def _sqlite(message: str, code: int | None = None) -> Exception:
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code
    return error


_MAPPING = [
    ("pg serialization failure", _PgError("40001"), Failure.TRANSIENT, StoreError),
    ("pg deadlock", _PgError("40P01"), Failure.TRANSIENT, StoreError),
    ("pg lock not available", _PgError("55P03"), Failure.TRANSIENT, StoreError),
    ("pg unique violation", _PgError("23505"), Failure.DUPLICATE, ConflictError),
    ("pg not null", _PgError("23502"), Failure.INVALID, InvalidArgumentError),
    ("pg string too long", _PgError("22001"), Failure.INVALID, InvalidArgumentError),
    ("pg NUL in text", _PgError("22021"), Failure.INVALID, InvalidArgumentError),
    ("pg undefined table", _PgError("42P01"), Failure.MISSING_SCHEMA, SchemaError),
    ("pg connection failure", _PgError("08006"), Failure.UNAVAILABLE, StoreError),
    ("pg syntax error", _PgError("42601"), Failure.OTHER, StoreError),
    ("mysql deadlock", _mysql(1213), Failure.TRANSIENT, StoreError),
    ("mysql lock wait timeout", _mysql(1205), Failure.TRANSIENT, StoreError),
    ("mysql duplicate entry", _mysql(1062), Failure.DUPLICATE, ConflictError),
    ("mysql data too long", _mysql(1406), Failure.INVALID, InvalidArgumentError),
    ("mysql bad string", _mysql(1366), Failure.INVALID, InvalidArgumentError),
    ("mysql no such table", _mysql(1146), Failure.MISSING_SCHEMA, SchemaError),
    ("mysql server gone", _mysql(2006), Failure.UNAVAILABLE, StoreError),
    ("sqlite locked (code)", _sqlite("database is locked", 5), Failure.TRANSIENT, StoreError),
    ("sqlite locked (text)", _sqlite("database is locked"), Failure.TRANSIENT, StoreError),
    ("sqlite table locked", _sqlite("database table is locked", 6), Failure.TRANSIENT, StoreError),
    (
        "sqlite unique",
        sqlite3.IntegrityError("UNIQUE constraint failed: t.x"),
        Failure.DUPLICATE,
        ConflictError,
    ),
    ("sqlite no such table", _sqlite("no such table: x", 1), Failure.MISSING_SCHEMA, SchemaError),
]


@pytest.mark.parametrize(
    ("orig", "failure", "raised"),
    [pytest.param(o, f, r, id=name) for name, o, f, r in _MAPPING],
)
def test_driver_errors_map_to_keepword_errors(
    orig: Exception, failure: Failure, raised: type[Exception]
) -> None:
    wrapped = sa_exc.DBAPIError.instance("SELECT 1", {}, orig, Exception)
    assert _errors.classify(wrapped) is failure
    translated = _errors.translate(wrapped, operation="test")
    assert type(translated) is raised
    assert isinstance(translated, keepword.KeepwordError)


def test_transient_errors_are_retried_within_the_budget() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise sa_exc.OperationalError("BEGIN", {}, _sqlite("database is locked", 5))
        return "done"

    assert _errors.retrying("test", flaky, sleep=slept.append) == "done"
    assert len(calls) == 3
    assert len(slept) == 2

    def always_locked() -> str:
        raise sa_exc.OperationalError("BEGIN", {}, _sqlite("database is locked", 5))

    budget = _errors.RetryBudget(attempts=4)
    with pytest.raises(StoreError, match="busy after 4 attempts"):
        _errors.retrying("test", always_locked, budget=budget, sleep=slept.append)


def test_permanent_errors_are_not_retried() -> None:
    calls: list[int] = []

    def duplicate() -> None:
        calls.append(1)
        raise sa_exc.IntegrityError("INSERT", {}, _PgError("23505"))

    with pytest.raises(ConflictError):
        _errors.retrying("test", duplicate, sleep=lambda _s: None)
    assert calls == [1]
