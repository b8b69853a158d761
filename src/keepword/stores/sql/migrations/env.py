"""Alembic environment for keepword's own migrations.

Parameterised by the table prefix and schema, taken from (first found):
``config.attributes["table_prefix"]`` / ``["schema"]`` (set by
:func:`keepword.stores.sql.migrate.upgrade`), then ``-x table_prefix=...`` /
``-x schema=...`` on the ``alembic`` command line, then the default
``keepword_``.  The connection comes from ``config.attributes["connection"]``,
else from ``-x url=...`` or ``sqlalchemy.url``.

Alembic's version table is ``{prefix}alembic_version``, so several prefixes
(and the host's own migrations) can share one database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from keepword.stores.sql._schema import build_metadata, check_table_prefix, table_names

config = context.config
_x = context.get_x_argument(as_dictionary=True)

table_prefix = check_table_prefix(
    config.attributes.get("table_prefix") or _x.get("table_prefix") or "keepword_"
)
schema: str | None = config.attributes.get("schema") or _x.get("schema") or None
target_metadata = build_metadata(table_prefix, schema)
_own_tables = set(table_names(table_prefix))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Compare only this prefix's tables (other prefixes and host tables are not ours)."""
    if type_ == "table":
        return name in _own_tables
    return True


def _options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "version_table": f"{table_prefix}alembic_version",
        "version_table_schema": schema,
        "include_name": include_name,
        "compare_type": True,
        "keepword_table_prefix": table_prefix,
        "keepword_schema": schema,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    url = _x.get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    url = _x.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("keepword migrations need a database: pass -x url=... or sqlalchemy.url")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, **_options())
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
