"""Run keepword's own Alembic migrations from Python (no ``alembic.ini`` needed).

>>> from keepword.stores.sql import migrate
>>> migrate.upgrade("sqlite://", table_prefix="demo_")  # doctest: +SKIP

Hosts that run their own Alembic may instead add
:func:`keepword.stores.sql.build_metadata` to their ``target_metadata``.
Requires ``alembic`` (``pip install "keepword[migrations]"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keepword.errors import InvalidArgumentError, SchemaError
from keepword.stores.sql import _dialect, _errors, _schema

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS", "alembic_config", "current", "downgrade", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
"""The directory holding keepword's Alembic environment and versions."""


def alembic_config(
    *,
    table_prefix: str = "keepword_",
    schema: str | None = None,
    connection: Connection | None = None,
    url: str | None = None,
) -> Config:
    """An Alembic :class:`~alembic.config.Config` for keepword's migrations, built in code.

    Args:
        table_prefix: the prefix of the tables to migrate.
        schema: the database schema they live in.
        connection: a connection to run on (preferred).
        url: a database URL, when there is no connection.

    Raises:
        InvalidArgumentError: a bad ``table_prefix``, or alembic is not installed.
    """
    prefix = _schema.check_table_prefix(table_prefix)
    try:
        from alembic.config import Config
    except ImportError:  # pragma: no cover - alembic is an optional dependency
        raise InvalidArgumentError(
            "keepword's migrations need alembic",
            argument="url_or_engine",
            fix='pip install "keepword[migrations]"',
        ) from None
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["table_prefix"] = prefix
    config.attributes["schema"] = schema
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _engine(url_or_engine: str | sa.URL | Engine) -> Iterator[Engine]:
    if isinstance(url_or_engine, Engine):
        yield url_or_engine
        return
    if not isinstance(url_or_engine, (str, sa.URL)):
        raise InvalidArgumentError(
            f"must be a database URL or a SQLAlchemy Engine, not {type(url_or_engine).__name__}",
            argument="url_or_engine",
        )
    engine = sa.create_engine(url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _stamp_if_created_without_alembic(
    config: Config, conn: Connection, prefix: str, schema: str | None
) -> None:
    """Adopt tables made by ``SqlStore.create_schema()``: stamp their revision first."""
    from alembic import command

    inspector = sa.inspect(conn)
    names = _schema.table_names(prefix)
    if inspector.has_table(f"{prefix}alembic_version", schema=schema):
        return
    if not inspector.has_table(names[2], schema=schema):
        return
    versions = sa.table(names[2], sa.column("name"), sa.column("version"), schema=schema)
    found: Any = conn.execute(
        sa.select(versions.c.version).where(versions.c.name == _schema.SCHEMA_NAME)
    ).scalar_one_or_none()
    if found is None:
        return
    revision = _schema.SCHEMA_REVISIONS.get(int(found))
    if revision is None:
        raise SchemaError(
            f"the database schema is at version {found}, which this keepword does not know",
            fix="upgrade keepword",
        )
    command.stamp(config, revision)


def upgrade(
    url_or_engine: str | sa.URL | Engine,
    *,
    table_prefix: str = "keepword_",
    schema: str | None = None,
    revision: str = "head",
) -> None:
    """Migrate keepword's tables up to ``revision`` (``"head"``: the newest).

    Tables created by ``SqlStore.create_schema()`` (no Alembic history) are
    stamped with their schema version's revision first, then upgraded.

    Args:
        url_or_engine: a database URL or an engine (left open).
        table_prefix: the prefix of the tables to migrate.
        schema: the database schema they live in.
        revision: the target revision.

    Raises:
        InvalidArgumentError: a bad prefix, URL or revision.
        StoreError: the database failed.
    """
    from alembic import command

    def step(config: Any, conn: sa.Connection) -> None:
        _stamp_if_created_without_alembic(config, conn, config.attributes["table_prefix"], schema)
        if conn.in_transaction():
            conn.commit()
        command.upgrade(config, revision)

    _migrate("upgrade", url_or_engine, table_prefix, schema, step)


def downgrade(
    url_or_engine: str | sa.URL | Engine,
    *,
    table_prefix: str = "keepword_",
    schema: str | None = None,
    revision: str = "-1",
) -> None:
    """Migrate keepword's tables down to ``revision`` (``"-1"``: one step; ``"base"``: none).

    Downgrading to ``"base"`` drops the tables and every commitment in them.

    Raises:
        InvalidArgumentError: a bad prefix, URL or revision.
        StoreError: the database failed.
    """
    from alembic import command

    def step(config: Any, conn: sa.Connection) -> None:
        command.downgrade(config, revision)

    _migrate("downgrade", url_or_engine, table_prefix, schema, step)


def _migrate(
    name: str,
    url_or_engine: str | sa.URL | Engine,
    table_prefix: str,
    schema: str | None,
    step: Callable[[Any, sa.Connection], None],
) -> None:
    """Run one Alembic ``step`` on a write connection, committed, retried on busy."""
    from alembic.util import CommandError

    prefix = _schema.check_table_prefix(table_prefix)
    with _engine(url_or_engine) as engine:
        _dialect.prepare_engine(engine)

        def run() -> None:
            with engine.connect() as conn:
                conn.execution_options(**{_dialect.WRITE: True})
                step(alembic_config(table_prefix=prefix, schema=schema, connection=conn), conn)
                if conn.in_transaction():
                    conn.commit()

        try:
            _errors.retrying(name, run)
        except CommandError as error:
            raise InvalidArgumentError(str(error), argument="revision") from None


def current(
    url_or_engine: str | sa.URL | Engine,
    *,
    table_prefix: str = "keepword_",
    schema: str | None = None,
) -> str | None:
    """The Alembic revision keepword's tables are at, or ``None`` if never migrated."""
    from alembic.migration import MigrationContext

    prefix = _schema.check_table_prefix(table_prefix)
    with _engine(url_or_engine) as engine, engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"version_table": f"{prefix}alembic_version", "version_table_schema": schema},
        )
        return context.get_current_revision()
