"""The one module that owns keepword's SQL schema: Core tables, column types, schema version.

:func:`build_metadata` returns a fresh :class:`sqlalchemy.MetaData` holding
five tables, all named with a caller-chosen prefix (``keepword_`` by default):

- ``{prefix}commitments``: one row per commitment, primary key
  ``(tenant, id)``, ``UNIQUE (tenant, external_ref)`` and indexes that start
  with the tenant;
- ``{prefix}events``: one row per history event, primary key
  ``(tenant, commitment_id, seq)``;
- ``{prefix}notices``: the transactional outbox, one row per fired
  escalation step, primary key ``(tenant, id)`` and
  ``UNIQUE (tenant, idempotency_key)`` (what makes each notice exactly once);
- ``{prefix}touchpoints``: the customer-care log, append-only, primary key
  ``(tenant, id)``, ``UNIQUE (tenant, kind, ref)`` (what makes a webhook
  retry store nothing new) and indexes ``(tenant, customer, at)`` and
  ``(tenant, kind, at)``;
- ``{prefix}schema_version``: one row saying which schema version the
  tables are at, checked when a store starts.

The column types keep values byte- and microsecond-exact on every database:
instants are UTC (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL,
``DATETIME(6)`` on MariaDB/MySQL, ISO text on SQLite), identifiers compare
byte for byte (collation ``C`` on PostgreSQL, a binary no-pad ``utf8mb4``
collation on MariaDB/MySQL, ``BINARY`` on SQLite), and terms, tags, the
calendar snapshot and event data are JSON.

>>> md = build_metadata("shop_")
>>> sorted(name.removeprefix("shop_") for name in md.tables)
['commitments', 'events', 'notices', 'schema_version', 'touchpoints', 'waitlists']
>>> [c.name for c in md.tables["shop_commitments"].primary_key]
['tenant', 'id']
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from keepword._instant import to_utc
from keepword.errors import InvalidArgumentError

__all__ = [
    "IDEMPOTENCY_KEY_LENGTH",
    "MEASURE_COLUMNS",
    "SCHEMA_NAME",
    "SCHEMA_REVISIONS",
    "SCHEMA_VERSION",
    "SPAN_COLUMNS",
    "Identifier",
    "Json",
    "LongText",
    "NullableJson",
    "UtcDateTime",
    "build_metadata",
    "check_table_prefix",
    "measure_columns",
    "notice_columns",
    "rework_column",
    "span_columns",
    "table_names",
    "touchpoint_columns",
    "touchpoint_keys",
    "waitlist_columns",
    "waitlists_table",
]

SCHEMA_VERSION = 9
"""The schema version this keepword writes and understands.

1: commitments, events, schema_version (migration ``0001``).
2: index ``(tenant, waiting_for, made_at)`` for first-come-first-served
allocation (migration ``0002``).
3: the tick and the outbox: commitments gain ``policy``,
``escalation_cursor``, ``next_action_at``, ``claim_token``,
``claimed_until`` and the index ``(tenant, next_action_at, id)``; the
``notices`` table (migration ``0003``).
4: commitments gain ``channel`` (migration ``0004``).
5: touchpoints, the customer-care log (migration ``0005``).
6: waitlists for first-come-first-served allocation (migration ``0006``).
7: what the scorecard aggregates: commitments gain :data:`MEASURE_COLUMNS`
and the index ``(tenant, made_at)`` (migration ``0007``).
8: index ``(next_action_at, id)`` for the tick across tenants (migration ``0008``).
9: where the time went and rework: events gain :data:`SPAN_COLUMNS`,
commitments gain ``rework`` (migration ``0009``).
"""

SCHEMA_REVISIONS = {
    1: "0001",
    2: "0002",
    3: "0003",
    4: "0004",
    5: "0005",
    6: "0006",
    7: "0007",
    8: "0008",
    9: "0009",
}
"""The Alembic revision of each schema version (to stamp databases made by ``create_schema``)."""

SCHEMA_NAME = "keepword"
"""The key of keepword's row in ``{prefix}schema_version``."""

_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,30}")
_MYSQL = ("mysql", "mariadb")


def check_table_prefix(table_prefix: Any) -> str:
    """Return ``table_prefix`` if it is a plain SQL identifier, else refuse it.

    A prefix is 1 to 31 ASCII letters, digits and underscores, not starting
    with a digit, so every table and index name stays a plain identifier
    within PostgreSQL's 63- and MySQL's 64-character limits.

    Raises:
        InvalidArgumentError: naming ``table_prefix``.

    >>> check_table_prefix("shop7_")
    'shop7_'
    >>> check_table_prefix("x; DROP TABLE y")
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: table_prefix: must be a plain identifier ...
    """
    if not isinstance(table_prefix, str) or not _PREFIX.fullmatch(table_prefix):
        raise InvalidArgumentError(
            f"must be a plain identifier matching ^[A-Za-z_][A-Za-z0-9_]{{0,30}}$ "
            f"(got {table_prefix!r})",
            argument="table_prefix",
            fix="use letters, digits and underscores only, e.g. 'keepword_'",
        )
    return table_prefix


def table_names(table_prefix: str) -> tuple[str, ...]:
    """The names of keepword's tables for a prefix.

    In this order: commitments, events, schema-version, notices, touchpoints.
    """
    return (
        f"{table_prefix}commitments",
        f"{table_prefix}events",
        f"{table_prefix}schema_version",
        f"{table_prefix}notices",
        f"{table_prefix}touchpoints",
    )


# --------------------------------------------------------------------------- column types


def _mysql_binary_collation(dialect: Dialect) -> str:
    """A binary collation without trailing-space padding, so ``'a' != 'a '``.

    MariaDB's ``utf8mb4_bin`` is PAD SPACE (``'a'`` and ``'a '`` collide in a
    unique index); ``utf8mb4_nopad_bin`` is its exact, byte-wise sibling.
    MySQL 8 spells it ``utf8mb4_0900_bin``; older MySQL only has the padded
    ``utf8mb4_bin``.
    """
    if getattr(dialect, "is_mariadb", False):
        return "utf8mb4_nopad_bin"
    version = dialect.server_version_info or ()
    if tuple(version) >= (8, 0, 17):
        return "utf8mb4_0900_bin"
    return "utf8mb4_bin"


class Identifier(TypeDecorator[str]):
    """``VARCHAR(255)`` (or ``length``) that compares byte for byte on every database.

    PostgreSQL uses collation ``"C"``, MariaDB/MySQL ``utf8mb4`` with a binary
    no-pad collation, SQLite its default ``BINARY``: uniqueness and ordering
    are case-, accent- and trailing-space-sensitive, and order by code point
    like Python's ``str``.
    """

    impl = sa.String(255)
    cache_ok = True

    def __init__(self, length: int = 255) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The per-database column type."""
        n = self.length
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.VARCHAR(n, collation="C"))
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(
                mysql.VARCHAR(n, charset="utf8mb4", collation=_mysql_binary_collation(dialect))
            )
        return dialect.type_descriptor(sa.String(n))


class LongText(TypeDecorator[str]):
    """Unbounded text: ``TEXT`` on PostgreSQL and SQLite, ``MEDIUMTEXT`` (16 MB) on MySQL."""

    impl = sa.Text()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The per-database column type."""
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.MEDIUMTEXT(charset="utf8mb4"))
        return dialect.type_descriptor(sa.Text())


class UtcDateTime(TypeDecorator[_dt.datetime]):
    """An instant stored as UTC with microseconds on every database.

    Binds any aware ``datetime`` (refusing naive ones) and always returns an
    aware ``datetime`` with ``tzinfo=datetime.UTC``.
    PostgreSQL stores ``TIMESTAMP WITH TIME ZONE``; MariaDB/MySQL
    ``DATETIME(6)`` holding UTC wall time; SQLite fixed-width ISO text
    holding UTC wall time (so text order is time order).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The per-database column type."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: Any, dialect: Dialect) -> _dt.datetime | None:
        """An aware datetime becomes UTC (naive UTC wall time where the column has no zone)."""
        if value is None:
            return None
        utc = to_utc(value, "datetime")
        if dialect.name == "postgresql":
            return utc
        return utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> _dt.datetime | None:
        """Whatever the driver returns becomes an aware UTC datetime."""
        if value is None:
            return None
        if not isinstance(value, _dt.datetime):  # pragma: no cover - drivers return datetimes
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC)


class Json(TypeDecorator[Any]):
    """A JSON value: ``JSON`` on PostgreSQL and MariaDB/MySQL, JSON text on SQLite."""

    impl = sa.JSON()
    cache_ok = True


class NullableJson(TypeDecorator[Any]):
    """Like :class:`Json`, but Python ``None`` is SQL ``NULL`` (not the JSON ``null``)."""

    impl = sa.JSON(none_as_null=True)
    cache_ok = True


IDEMPOTENCY_KEY_LENGTH = 320
"""Characters in a notice's idempotency key column: a 255-character commitment
id plus ``:deadline_version:step:repeat``."""


# --------------------------------------------------------------------------- tables


def notice_columns() -> list[sa.Column[Any]]:
    """The columns of ``{prefix}notices`` (shared with migration ``0003``)."""
    return [
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("idempotency_key", Identifier(IDEMPOTENCY_KEY_LENGTH), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=False),
        sa.Column("deadline_version", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("step", LongText(), nullable=False),
        sa.Column("recipient", LongText(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("owner", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("what", LongText(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("scheduled_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("breach", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_token", Identifier(), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
    ]


MEASURE_COLUMNS = (
    "outcome",
    "turnaround_us",
    "response_us",
    "breach_us",
    "slack_us",
    "renegotiations",
    "escalations_fired",
    "kept_as_promised",
    "quoted",
)
"""The commitments columns the scorecard aggregates (schema 7), written from
:func:`keepword.measures.measures_of` with every write of a row."""


def measure_columns() -> list[sa.Column[Any]]:
    """The columns of :data:`MEASURE_COLUMNS` (shared with migration ``0007``)."""
    return [
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("turnaround_us", sa.BigInteger(), nullable=True),
        sa.Column("response_us", sa.BigInteger(), nullable=True),
        sa.Column("breach_us", sa.BigInteger(), nullable=True),
        sa.Column("slack_us", sa.BigInteger(), nullable=True),
        sa.Column("renegotiations", sa.Integer(), nullable=True),
        sa.Column("escalations_fired", sa.Integer(), nullable=True),
        sa.Column("kept_as_promised", sa.Boolean(), nullable=True),
        sa.Column("quoted", sa.Boolean(), nullable=True),
    ]


SPAN_COLUMNS = ("span_kind", "span_holder", "span_us")
"""The events columns saying where a commitment's time went up to each event (schema 9):
``"owner"`` or ``"pause"``, the owner or the pause's reason, and the business
microseconds (:func:`keepword.measures.time_spans`); ``NULL`` on the first event."""


def span_columns() -> list[sa.Column[Any]]:
    """The columns of :data:`SPAN_COLUMNS` (shared with migration ``0009``)."""
    return [
        sa.Column("span_kind", sa.String(8), nullable=True),
        sa.Column("span_holder", LongText(), nullable=True),
        sa.Column("span_us", sa.BigInteger(), nullable=True),
    ]


def rework_column() -> sa.Column[Any]:
    """Commitments' ``rework``: it reopens a kept promise within the rework window (schema 9)."""
    return sa.Column("rework", sa.Boolean(), nullable=True)


def touchpoint_columns() -> list[sa.Column[Any]]:
    """The columns of ``{prefix}touchpoints`` (shared with migration ``0005``)."""
    return [
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("channel", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("occasion", Identifier(), nullable=True),
        sa.Column("actor", Identifier(), nullable=True),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=True),
        sa.Column("ref", Identifier(), nullable=True),
        sa.Column("thread", Identifier(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("data", Json(), nullable=False),
    ]


def touchpoint_keys(p: str) -> list[Any]:
    """The keys and indexes of ``{prefix}touchpoints`` (shared with migration ``0005``).

    ``UNIQUE (tenant, kind, ref)`` makes a repeated ref store nothing (a
    ``NULL`` ref is never a duplicate); ``(tenant, customer, at)`` serves a
    customer's story, the last contact per customer and the union of
    customers; ``(tenant, kind, at)`` the thank-yous and extra-mile picks.
    """
    return [
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}touchpoints"),
        sa.UniqueConstraint("id", name=f"uq_{p}touchpoints_id"),
        sa.UniqueConstraint("tenant", "kind", "ref", name=f"uq_{p}touchpoints_ref"),
        sa.Index(f"ix_{p}touchpoints_customer", "tenant", "customer", "at"),
        sa.Index(f"ix_{p}touchpoints_kind", "tenant", "kind", "at"),
    ]


def waitlist_columns() -> list[sa.Column[Any]]:
    """The waitlist columns of ``{prefix}commitments`` (migration ``0006``), read off the history.

    Set on every write from :func:`keepword.fairness.queue_state` (``NULL``
    for a commitment that waits for nothing): ``quantity`` and
    ``served_quantity`` in units, ``queue_at`` its ``made_at`` while it waits
    (``NULL`` once served in full or closed, so the line is an index range),
    ``turn_at`` when its turn came (first served, or kept), ``served_at``
    when it was served in full (or kept), ``served_ahead`` whether its first
    service was an approved exception.
    """
    return [
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("served_quantity", sa.Integer(), nullable=True),
        sa.Column("queue_at", UtcDateTime(), nullable=True),
        sa.Column("turn_at", UtcDateTime(), nullable=True),
        sa.Column("served_at", UtcDateTime(), nullable=True),
        sa.Column("served_ahead", sa.Boolean(), nullable=True),
    ]


def waitlists_table(p: str, metadata: sa.MetaData, **options: Any) -> sa.Table:
    """``{prefix}waitlists``: one row per ``(tenant, resource)``, the allocation's lock.

    An allocation locks its resource's row (``SELECT ... FOR UPDATE``, never
    ``SKIP LOCKED``) before it reads the head of the line, so allocations of
    one resource run one after the other and each sees the last one's writes.
    """
    return sa.Table(
        f"{p}waitlists",
        metadata,
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("resource", Identifier(), nullable=False),
        sa.Column("allocations", sa.BigInteger(), nullable=False),
        sa.Column("served_units", sa.BigInteger(), nullable=False),
        sa.Column("last_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "resource", name=f"pk_{p}waitlists"),
        **options,
    )


def build_metadata(table_prefix: str = "keepword_", schema: str | None = None) -> sa.MetaData:
    """Build the keepword tables in a new :class:`~sqlalchemy.MetaData`.

    Hosts may pass the result to their own Alembic ``target_metadata``
    (together with their tables) instead of running keepword's migrations.

    Args:
        table_prefix: prefix of every table, index and constraint name.
        schema: the database schema (PostgreSQL schema, MySQL database) to put
            the tables in; ``None`` for the connection's default.

    Returns:
        A ``MetaData`` with the commitments, events, notices, touchpoints and
        schema-version tables.

    Raises:
        InvalidArgumentError: ``table_prefix`` is not a plain identifier.
    """
    p = check_table_prefix(table_prefix)
    commitments_name, events_name, version_name, notices_name, touchpoints_name = table_names(p)
    metadata = sa.MetaData(schema=schema)
    mysql_opts: dict[str, Any] = {
        "mysql_engine": "InnoDB",
        "mysql_charset": "utf8mb4",
        "mysql_collate": "utf8mb4_bin",
    }
    commitments = sa.Table(
        commitments_name,
        metadata,
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("id", Identifier(), nullable=False),
        sa.Column("customer", Identifier(), nullable=False),
        sa.Column("owner", Identifier(), nullable=False),
        sa.Column("kind", Identifier(), nullable=False),
        sa.Column("what", LongText(), nullable=False),
        sa.Column("made_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("external_ref", Identifier(), nullable=True),
        sa.Column("tags", Json(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("waiting_for", Identifier(), nullable=True),
        sa.Column("terms", Json(), nullable=False),
        sa.Column("spec", Identifier(), nullable=True),
        sa.Column("calendar", Json(), nullable=False),
        sa.Column("kept_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("breached_at", UtcDateTime(), nullable=True),
        sa.Column("paused_at", UtcDateTime(), nullable=True),
        sa.Column("lateness_us", sa.BigInteger(), nullable=True),
        sa.Column("deadline_version", sa.Integer(), nullable=False),
        sa.Column("history_length", sa.Integer(), nullable=False),
        sa.Column("policy", NullableJson(), nullable=True),
        sa.Column("escalation_cursor", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_action_at", UtcDateTime(), nullable=True),
        sa.Column("claim_token", Identifier(), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("channel", Identifier(), nullable=True),
        *waitlist_columns(),
        *measure_columns(),
        rework_column(),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}commitments"),
        sa.UniqueConstraint("tenant", "external_ref", name=f"uq_{p}commitments_ref"),
        sa.UniqueConstraint("id", name=f"uq_{p}commitments_id"),
        sa.Index(f"ix_{p}commitments_status_due", "tenant", "status", "due_at"),
        sa.Index(f"ix_{p}commitments_customer", "tenant", "customer"),
        sa.Index(f"ix_{p}commitments_owner", "tenant", "owner"),
        sa.Index(f"ix_{p}commitments_waiting", "tenant", "waiting_for", "made_at"),
        sa.Index(f"ix_{p}commitments_next_action", "tenant", "next_action_at", "id"),
        sa.Index(f"ix_{p}commitments_due_any", "next_action_at", "id"),
        sa.Index(f"ix_{p}commitments_queue", "tenant", "waiting_for", "queue_at", "id"),
        sa.Index(f"ix_{p}commitments_made", "tenant", "made_at"),
        **mysql_opts,
    )
    sa.Table(
        events_name,
        metadata,
        sa.Column("tenant", Identifier(), nullable=False),
        sa.Column("commitment_id", Identifier(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", Identifier(), nullable=True),
        sa.Column("data", Json(), nullable=False),
        *span_columns(),
        sa.PrimaryKeyConstraint("tenant", "commitment_id", "seq", name=f"pk_{p}events"),
        sa.ForeignKeyConstraint(
            ["tenant", "commitment_id"],
            [commitments.c.tenant, commitments.c.id],
            name=f"fk_{p}events_commitment",
            ondelete="CASCADE",
        ),
        sa.Index(f"ix_{p}events_kind", "tenant", "kind", "at"),
        **mysql_opts,
    )
    sa.Table(
        notices_name,
        metadata,
        *notice_columns(),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{p}notices"),
        sa.UniqueConstraint("tenant", "idempotency_key", name=f"uq_{p}notices_key"),
        sa.Index(f"ix_{p}notices_state", "tenant", "state", "fired_at", "scheduled_at", "id"),
        **mysql_opts,
    )
    sa.Table(touchpoints_name, metadata, *touchpoint_columns(), *touchpoint_keys(p), **mysql_opts)
    waitlists_table(p, metadata, **mysql_opts)
    sa.Table(
        version_name,
        metadata,
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=f"pk_{p}schema_version"),
        **mysql_opts,
    )
    return metadata
