"""``SqlStore``: keepword's store on SQL databases, through SQLAlchemy Core.

Runs on SQLite (the embedded default), PostgreSQL (psycopg 3) and
MariaDB/MySQL (PyMySQL).  The tables are exposed as SQLAlchemy ``MetaData``
(:attr:`SqlStore.metadata`, :func:`build_metadata`) so hosts can include
them in their own Alembic migrations; :mod:`keepword.stores.sql.migrate`
runs keepword's own.

Importing this package connects to nothing and imports no database driver.
"""

from __future__ import annotations

from keepword.stores.sql._schema import SCHEMA_VERSION, build_metadata
from keepword.stores.sql._store import SqlStore

__all__ = ["SCHEMA_VERSION", "SqlStore", "build_metadata"]
