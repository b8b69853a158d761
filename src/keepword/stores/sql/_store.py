"""``SqlStore``: every :mod:`keepword.ports` port on SQLite, PostgreSQL and MariaDB/MySQL.

One transaction per call, through SQLAlchemy Core; every statement filters by
tenant; no session state survives a call.  The class is composed of one part
per port over a shared base:

- :mod:`._base`: the engine, the tables, the schema check, transactions, and
  the helpers the ports share;
- :mod:`._commitments`: :class:`~keepword.ports.CommitmentRepository`;
- :mod:`._tick_queue`: :class:`~keepword.ports.TickQueue`;
- :mod:`._outbox`: :class:`~keepword.ports.Outbox`;
- :mod:`._touchpoints`: :class:`~keepword.ports.TouchpointLog`.
- :mod:`._waitlists`: :class:`~keepword.ports.Waitlist`.

Deadlines and due steps are compared with the ``now`` the caller passes in;
leases alone are judged by the database's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keepword.ports import PORTS
from keepword.stores.sql._commitments import SqlCommitments
from keepword.stores.sql._outbox import SqlOutbox
from keepword.stores.sql._tick_queue import SqlTickQueue
from keepword.stores.sql._touchpoints import SqlTouchpoints
from keepword.stores.sql._waitlists import SqlWaitlists

if TYPE_CHECKING:
    from keepword.ports import Store

__all__ = ["SqlStore"]


class SqlStore(SqlCommitments, SqlTickQueue, SqlOutbox, SqlTouchpoints, SqlWaitlists):
    """Commitments in a SQL database: SQLite, PostgreSQL (psycopg 3) or MariaDB/MySQL (PyMySQL).

    Implements :class:`keepword.ports.Store` (every port); each method's
    contract is on the port that defines it.  Every call runs in one
    transaction of its own and is retried as a whole when the database
    reports a lock, a deadlock or a serialization failure; driver errors
    never reach the caller raw.  What is due is judged by the ``now`` a
    caller passes in; leases (of claimed commitments and claimed notices)
    by the database's clock, so workers whose clocks disagree never steal
    each other's live claims.

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
    >>> sorted(store.ports)
    ['commitments', 'outbox', 'tick_queue', 'touchpoints', 'waitlists']
    >>> store.close()
    """

    ports: frozenset[str] = PORTS
    """The ports this store implements: every one in :data:`keepword.ports.PORTS`."""


if TYPE_CHECKING:
    _check: Store = SqlStore("sqlite://")
