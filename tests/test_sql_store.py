"""SqlStore on SQLite, PostgreSQL and MariaDB: the store contract and what is special to SQL.

PostgreSQL and MariaDB run when ``KEEPWORD_TEST_POSTGRES_URL`` and
``KEEPWORD_TEST_MARIADB_URL`` are set (see ``tests/sql_backends.py``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import settings
from sqlalchemy import exc as sa_exc

import keepword
from keepword import commitment as _c
from keepword import transitions as _t
from keepword._ids import new_id
from keepword.commitment import Commitment, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    SchemaError,
    StoreError,
)
from keepword.ports import Query, Store
from keepword.stores.sql import SqlStore, _errors, build_metadata, migrate
from keepword.stores.sql._errors import Failure
from keepword.testing import HOSTILE_STRINGS, StoreContract, fire_one
from keepword.testing.stateful import DEFAULT_SETTINGS, run_store_state_machine
from sql_backends import (
    BACKENDS,
    T0,
    bump,
    claim_worker,
    commitment,
    escalating,
    open_store,
    racing_writer,
    tick_worker,
    unique_prefix,
    webhook_worker,
)
from sql_backends import (
    backend_url as _backend_url,
)

UTC = _dt.UTC


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL of one backend (sqlite file, or a server from the environment)."""
    return _backend_url(request.param, tmp_path)


@pytest.fixture
def store(backend_url: str) -> Iterator[SqlStore]:
    """A store with fresh tables of its own; leaks checked and tables dropped after."""
    yield from open_store(backend_url)


# --------------------------------------------------------------------------- the contract


class TestSqlStoreContract(StoreContract):
    """Every behaviour the Store port promises, on every SQL backend."""

    @pytest.fixture
    def store(self, backend_url: str) -> Iterator[Store]:
        """A fresh SqlStore per test (unique table prefix, dropped after)."""
        yield from open_store(backend_url)


_STATEFUL_EXAMPLES = int(os.environ.get("KEEPWORD_SQL_STATEFUL_EXAMPLES", "25"))


def test_the_state_machine_finds_no_divergence_from_memory_store(backend_url: str) -> None:
    """Lockstep with MemoryStore, including store reopen (scenario 19, small)."""
    prefix = unique_prefix()
    setup = SqlStore(backend_url, table_prefix=prefix)
    setup.create_schema()
    try:

        def reopen(old: Store) -> Store:
            old.close()
            return SqlStore(backend_url, table_prefix=prefix)

        run_store_state_machine(
            lambda: SqlStore(backend_url, table_prefix=prefix),
            reopen=reopen,
            settings=settings(DEFAULT_SETTINGS, max_examples=_STATEFUL_EXAMPLES),
        )
    finally:
        setup.drop_schema()
        setup.close()


# ------------------------------------------------------------------ construction and schema


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "1abc_",
        "bad-prefix",
        "a b",
        "x; DROP TABLE y; --",
        "quote'",
        'dq"',
        "ümlaut_",
        "a" * 32,
        "semi;",
        None,
        7,
    ],
)
def test_table_prefixes_that_are_not_plain_identifiers_are_refused(prefix: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        SqlStore("sqlite://", table_prefix=prefix)
    assert info.value.argument == "table_prefix"


def test_a_31_character_prefix_is_accepted() -> None:
    store = SqlStore("sqlite://", table_prefix="a" * 31)
    store.create_schema()
    assert store.count("t", Query()) == 0
    store.close()


def test_constructing_a_store_does_not_connect(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    store = SqlStore(f"sqlite:///{path}")
    store.close()
    assert not path.exists()


def test_bad_urls_and_engines_are_refused() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        SqlStore("not a url")
    assert info.value.argument == "url_or_engine"
    with pytest.raises(InvalidArgumentError):
        SqlStore(42)  # type: ignore[arg-type]


def test_missing_tables_raise_schema_error_saying_what_to_do(backend_url: str) -> None:
    store = SqlStore(backend_url, table_prefix=unique_prefix())
    try:
        with pytest.raises(SchemaError) as info:
            store.get("t", "x")
        assert "create_schema()" in str(info.value)
        assert "keepword db upgrade" in str(info.value)
    finally:
        store.close()


def test_a_newer_schema_version_is_refused(backend_url: str) -> None:
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    table = store.metadata.tables[f"{prefix}schema_version"]
    with store.engine.begin() as conn:
        conn.execute(table.update().values(version=999))
    fresh = SqlStore(backend_url, table_prefix=prefix)
    try:
        with pytest.raises(SchemaError, match="newer"):
            fresh.count("t", Query())
    finally:
        fresh.close()
        store.drop_schema()
        store.close()


def test_create_schema_twice_is_harmless(store: SqlStore) -> None:
    store.create_schema()
    store.add(commitment())
    store.create_schema()
    assert store.count("tenant-a", Query()) == 1


def test_close_leaves_a_callers_engine_usable(backend_url: str) -> None:
    engine = sa.create_engine(backend_url)
    store = SqlStore(engine, table_prefix=unique_prefix())
    store.create_schema()
    store.add(commitment())
    store.drop_schema()
    store.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_a_closed_store_says_so() -> None:
    store = SqlStore("sqlite://")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count("t", Query())


def test_capabilities_are_declared_per_database(store: SqlStore) -> None:
    store.count("t", Query())  # connects, so MariaDB's version is known
    caps = store.capabilities
    assert {"transactions", "multiprocess"} <= caps
    assert ("skip_locked" in caps) == (store.engine.dialect.name != "sqlite")
    assert SqlStore("sqlite://").capabilities == frozenset({"transactions"})


def test_the_tables_are_exposed_as_metadata(store: SqlStore) -> None:
    names = sorted(t.name for t in store.metadata.sorted_tables)
    p = store.table_prefix
    assert names == sorted([f"{p}commitments", f"{p}events", f"{p}notices", f"{p}schema_version"])
    for name in ("commitments", "notices"):
        table = store.metadata.tables[f"{p}{name}"]
        assert [c.name for c in table.primary_key] == ["tenant", "id"]
        for index in table.indexes:
            assert next(iter(index.columns)).name == "tenant", index.name


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_strings_round_trip_byte_exact_in_every_field(store: SqlStore, text: str) -> None:
    c = commitment(
        text,
        external_ref=text,
        customer=text,
        owner=text,
        kind=text,
        what=text * 3,
        tags=(text, "plain"),
        waiting_for=text,
        spec=text,
        terms={text: [text, {"k": text}]},
    )
    store.add(c)
    got = store.get(text, c.id)
    assert got == c
    for name in ("tenant", "customer", "owner", "kind", "what", "external_ref", "waiting_for"):
        assert getattr(got, name).encode() == getattr(c, name).encode(), name
    assert store.get_by_ref(text, text) == c
    assert [x.id for x in store.find(text, Query(customer=text, owner=text, kind=text))] == [c.id]
    assert store.count(text, Query(waiting_for=text, external_ref=text)) == 1


def test_confusable_refs_are_distinct_keys(store: SqlStore) -> None:
    refs = ["admin", "аdmin", "x", "x ", " x", "X", "e\u0301", "\u00e9", "ß", "ss", "ＡＢＣ", "ABC"]
    results = [store.add(commitment(external_ref=r)) for r in refs]
    assert all(stored for _, stored in results)
    assert store.count("tenant-a", Query()) == len(refs)
    for r in refs:
        got = store.get_by_ref("tenant-a", r)
        assert got is not None
        assert got.external_ref == r


def test_ten_kilobytes_of_emoji_and_text_round_trip(store: SqlStore) -> None:
    what = ("Œuvre 👍🏽 '\"; -- " * 700)[:10_240]
    c = commitment(what=what, terms={"note": what})
    store.add(c)
    got = store.get("tenant-a", c.id)
    assert got.what == what
    assert got.terms["note"] == what


def test_instants_keep_microseconds_and_come_back_utc(store: SqlStore) -> None:
    made = _dt.datetime(
        2026, 3, 29, 1, 59, 59, 999999, tzinfo=_dt.timezone(_dt.timedelta(hours=-9))
    )
    c = commitment(made_at=made, lateness=_dt.timedelta(microseconds=1))
    store.add(c)
    got = store.get("tenant-a", c.id)
    assert got.made_at == made
    assert got.made_at.tzinfo is UTC
    assert got.made_at.microsecond == 999999
    assert got.lateness == _dt.timedelta(microseconds=1)


# --------------------------------------------------------------------------- tenants


def test_tenants_never_see_each_other_on_one_pooled_connection(backend_url: str) -> None:
    """Scenario 17, small: one pooled connection alternating tenants 200 times."""
    kwargs: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    if backend_url.startswith("sqlite"):
        kwargs = {"poolclass": sa.pool.QueuePool, **kwargs}
    engine = sa.create_engine(backend_url, **kwargs)
    store = SqlStore(engine, table_prefix=unique_prefix())
    store.create_schema()
    try:
        a = commitment("A", external_ref="order-1")
        b = commitment("B", external_ref="order-1")
        store.add(a)
        store.add(b)
        leaks = 0
        for i in range(200):
            if i % 2:
                leaks += store.get_by_ref("B", "order-1") != b
                with pytest.raises(NotFoundError):
                    store.get("B", a.id)
                with pytest.raises(NotFoundError):
                    store.update(bump(attrs_tenant(a, "B"), "mallory"), expected_version=1)
                leaks += [c.id for c in store.find("B", Query(customer="acct-42"))] != [b.id]
            else:
                leaks += store.get_by_ref("A", "order-1") != a
                leaks += store.count("A", Query(owner="alice")) != 1
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert leaks == 0
        assert store.get("A", a.id) == a
    finally:
        store.drop_schema()
        store.close()
        engine.dispose()


def attrs_tenant(c: Commitment, tenant: str) -> Commitment:
    """``c`` claimed by another tenant (what a malicious caller would send)."""
    import attrs

    return attrs.evolve(c, tenant=tenant)


# --------------------------------------------------------------------------- writes


def test_add_many_inserts_a_large_batch_in_one_call(store: SqlStore) -> None:
    batch = [
        commitment(external_ref=f"r{i}", made_at=commitment().made_at + _dt.timedelta(seconds=i))
        for i in range(1200)
    ]
    retry = commitment(external_ref="r5")  # a webhook retry inside the batch
    results = store.add_many([*batch, retry])
    assert [stored for _, stored in results[:-1]] == [True] * 1200
    assert results[-1] == (batch[5], False)
    assert store.count("tenant-a", Query()) == 1200
    found = store.find("tenant-a", Query(order="made_at"))
    assert [c.id for c in found] == [c.id for c in batch]
    assert all(len(c.history) == 1 for c in found)


def test_find_loads_the_history_of_every_row(store: SqlStore) -> None:
    c = commitment()
    store.add(c)
    d = bump(bump(c, "bob"), "carol")
    with pytest.raises(InvalidArgumentError):
        store.update(d, expected_version=1)  # two versions up at once
    store.update(bump(c, "bob"), expected_version=1)
    store.update(d, expected_version=2)
    [got] = store.find("tenant-a", Query(statuses={Status.OPEN}))
    assert [e.kind for e in got.history] == ["promised", "reassigned", "reassigned"]
    assert got == d


# --------------------------------------------------------------------------- migrations


def _schema_shape(engine: sa.Engine, prefix: str) -> dict[str, Any]:
    """Tables, columns, keys and indexes of one prefix, with the prefix taken out."""
    inspector = sa.inspect(engine)
    shape: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if not name.startswith(prefix) or name.endswith("alembic_version"):
            continue
        short = name[len(prefix) :]

        def strip(text: str | None) -> str | None:
            return None if text is None else text.replace(prefix, "{p}")

        shape[short] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "unique": sorted(
                (strip(u["name"]), tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (strip(i["name"]), tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
            "fks": sorted(
                (strip(f["name"]), tuple(f["constrained_columns"]), strip(f["referred_table"]))
                for f in inspector.get_foreign_keys(name)
            ),
        }
    return shape


def test_alembic_upgrade_head_equals_create_all(backend_url: str) -> None:
    """Scenario 20: the migrations build exactly the tables MetaData.create_all builds."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrated, created = unique_prefix(), unique_prefix()
    engine = sa.create_engine(backend_url)
    by_hand = SqlStore(engine, table_prefix=created)
    try:
        migrate.upgrade(engine, table_prefix=migrated)
        by_hand.create_schema()
        assert migrate.current(engine, table_prefix=migrated) == "0003"
        for prefix in (migrated, created):
            metadata = build_metadata(prefix)
            ours = set(metadata.tables)
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "include_name": lambda n, t, _p, ours=ours: t != "table" or n in ours,
                    },
                )
                assert compare_metadata(context, metadata) == [], prefix
        shape = _schema_shape(engine, migrated)
        assert shape == _schema_shape(engine, created)
        # schema 3: the tick's index and the outbox with its exactly-once key
        assert ("ix_{p}commitments_next_action", ("tenant", "next_action_at", "id"), False) in (
            shape["commitments"]["indexes"]
        )
        assert shape["notices"]["pk"] == ["tenant", "id"]
        keys = {cols for _, cols in shape["notices"]["unique"]} | {
            cols for _, cols, unique in shape["notices"]["indexes"] if unique
        }
        assert ("tenant", "idempotency_key") in keys
        # the migrated database works, and says which schema version it is at
        store = SqlStore(engine, table_prefix=migrated)
        store.add(commitment())
        assert store.count("tenant-a", Query()) == 1
    finally:
        migrate.downgrade(engine, table_prefix=migrated, revision="base")
        by_hand.drop_schema()
        SqlStore(engine, table_prefix=migrated).drop_schema()
        engine.dispose()


def test_downgrade_and_upgrade_with_data_present_lose_no_rows(backend_url: str) -> None:
    prefix = unique_prefix()
    engine = sa.create_engine(backend_url)
    try:
        migrate.upgrade(engine, table_prefix=prefix)
        store = SqlStore(engine, table_prefix=prefix)
        batch = [commitment(external_ref=f"r{i}", waiting_for="sku:1") for i in range(50)]
        store.add_many(batch)
        store.update(bump(batch[0], "bob"), expected_version=1)
        before = store.find("tenant-a", Query())
        migrate.downgrade(engine, table_prefix=prefix, revision="-1")
        assert migrate.current(engine, table_prefix=prefix) == "0002"
        with pytest.raises(SchemaError, match="older"):
            SqlStore(engine, table_prefix=prefix).count("tenant-a", Query())
        migrate.upgrade(engine, table_prefix=prefix)
        after = SqlStore(engine, table_prefix=prefix).find("tenant-a", Query())
        assert len(after) == len(before) == 50
        assert after == before
    finally:
        migrate.downgrade(engine, table_prefix=prefix, revision="base")
        SqlStore(engine, table_prefix=prefix).drop_schema()
        engine.dispose()


def test_upgrade_adopts_tables_made_by_create_schema(backend_url: str) -> None:
    prefix = unique_prefix()
    engine = sa.create_engine(backend_url)
    store = SqlStore(engine, table_prefix=prefix)
    try:
        store.create_schema()
        store.add(commitment())
        migrate.upgrade(engine, table_prefix=prefix)
        assert migrate.current(engine, table_prefix=prefix) == "0003"
        assert store.count("tenant-a", Query()) == 1
    finally:
        store.drop_schema()
        engine.dispose()


# --------------------------------------------------------------------------- driver errors


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


# --------------------------------------------------------------------------- processes


def _spawn_pool(processes: int) -> Any:
    return multiprocessing.get_context("spawn").Pool(processes)


@pytest.mark.slow
def test_webhook_retries_from_processes_store_each_ref_once(backend_url: str) -> None:
    """Scenario 6, small: 4 processes x 50 calls on 10 refs -> 10 commitments, 0 raw errors."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        with _spawn_pool(4) as pool:
            results = pool.starmap(
                webhook_worker, [(backend_url, prefix, w, 50, 10) for w in range(4)]
            )
        assert [r["raw_errors"] for r in results] == [[]] * 4
        assert [r["keepword_errors"] for r in results] == [[]] * 4
        assert sum(r["created"] for r in results) == 10
        assert store.count("shop-7", Query()) == 10
        refs = {c.external_ref for c in store.find("shop-7", Query())}
        assert refs == {f"order-{i}" for i in range(10)}
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_racing_writers_lose_with_conflict_and_never_lose_a_write(backend_url: str) -> None:
    """Scenario 7, small: 4 processes read-modify-write 3 commitments; no lost write."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        seeds = [commitment("shop-7") for _ in range(3)]
        store.add_many(seeds)
        ids = [c.id for c in seeds]
        with _spawn_pool(4) as pool:
            results = pool.starmap(
                racing_writer, [(backend_url, prefix, w, ids, 25) for w in range(4)]
            )
        assert [r["other_errors"] for r in results] == [[]] * 4
        for cid in ids:
            wins = sum(r["wins"][cid] for r in results)
            final = store.get("shop-7", cid)
            assert final.version == wins + 1, cid
            assert len(final.history) == wins + 1, cid
        attempts = 4 * 25 * len(ids)
        total_wins = sum(sum(r["wins"].values()) for r in results)
        assert total_wins + sum(r["conflicts"] for r in results) == attempts
    finally:
        store.drop_schema()
        store.close()


def test_sqlite_write_transactions_begin_immediate(tmp_path: Path) -> None:
    """Lesson 3: SQLite writers take the write lock up front; readers do not."""
    store = SqlStore(f"sqlite:///{tmp_path / 'kw.db'}", table_prefix=unique_prefix())
    store.create_schema()
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2].strip().upper()
        if statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    c = commitment()
    store.add(c)
    assert seen == ["BEGIN IMMEDIATE"]
    seen.clear()
    store.get("tenant-a", c.id)
    assert seen == ["BEGIN"]
    seen.clear()
    store.claim_due("tenant-a", T0, limit=5, lease=_dt.timedelta(minutes=1), worker="w")
    store.claim_notices("tenant-a", limit=5, lease=_dt.timedelta(minutes=1), worker="w")
    assert seen == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]  # lesson 3: the claims lock up front
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    store.close()


def test_sqlite_concurrent_writers_see_no_lock_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    prefix = unique_prefix()
    store = SqlStore(url, table_prefix=prefix)
    store.create_schema()
    with _spawn_pool(4) as pool:
        results = pool.starmap(webhook_worker, [(url, prefix, w, 50, 200) for w in range(4)])
    assert [r["raw_errors"] + r["keepword_errors"] for r in results] == [[]] * 4
    assert store.count("shop-7", Query()) == sum(r["created"] for r in results)
    store.close()


def test_updates_bump_versions_one_at_a_time(store: SqlStore) -> None:
    c = commitment()
    store.add(c)
    for i in range(5):
        c = store.update(bump(c, f"owner-{i}"), expected_version=c.version)
    assert store.get("tenant-a", c.id).version == 6
    with pytest.raises(ConflictError) as info:
        store.update(bump(attrs_version(c, 3), "late"), expected_version=3)
    assert (info.value.expected_version, info.value.actual_version) == (3, 6)


def attrs_version(c: Commitment, version: int) -> Commitment:
    """``c`` as a caller holding version ``version`` believes it is."""
    import attrs

    return attrs.evolve(c, version=version)


# ------------------------------------------------------------------ the tick and the outbox

_LEASE = _dt.timedelta(hours=1)


def _claim_plan(store: SqlStore, tenant: str, now: _dt.datetime) -> tuple[str, list[str]]:
    """Run ``claim_due`` and ``next_action_at``; EXPLAIN the statements they ran."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "next_action_at" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        _, claimed = store.claim_due(tenant, now, limit=10, lease=_LEASE, worker="w")
        store.next_action_at(tenant)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)
    assert len(claimed) == 10
    assert len(seen) == 2
    explain = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with store.engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append("\n".join(" | ".join(str(v) for v in row) for row in rows))
    return seen[0][0], plans


def test_the_claim_query_uses_the_next_action_index(store: SqlStore) -> None:
    """Scenario 11, small: the tick reads the (tenant, next_action_at) index, no scan, no sort."""
    tenant = "tenant-a"
    later = [
        escalating(tenant, due_at=T0 + _dt.timedelta(days=30, seconds=i), made_at=T0 + us(i))
        for i in range(2000)
    ]
    due = [
        escalating(tenant, due_at=T0 + _dt.timedelta(hours=3, seconds=i), made_at=T0 + us(i))
        for i in range(20)
    ]
    store.add_many([*later, *due, *(commitment(tenant) for _ in range(200))])
    table = f"{store.table_prefix}commitments"
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ANALYZE {table}")
        elif store.engine.dialect.name != "sqlite":
            conn.exec_driver_sql(f"ANALYZE TABLE {table}")
    statement, plans = _claim_plan(store, tenant, T0 + _dt.timedelta(hours=2))
    index = f"ix_{store.table_prefix}commitments_next_action"
    for plan in plans:
        print(plan)  # shown with -s: the plans quoted in the note
        assert index in plan, plan
    if store.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plans[0], plans[0]  # the index gives the order too
        assert "SCAN" not in plans[0], plans[0]
    else:
        assert "SKIP LOCKED" in statement.upper()
    if store.engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plans[0]
        assert "Sort" not in plans[0], plans[0]


def us(n: int) -> _dt.timedelta:
    """``n`` microseconds."""
    return _dt.timedelta(microseconds=n)


def _row(store: SqlStore, table: str, tenant: str, id: str) -> dict[str, Any]:
    t = store.metadata.tables[f"{store.table_prefix}{table}"]
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(t).where(t.c.tenant == tenant, t.c.id == id)).mappings()
        return dict(found.one())


def _db_now(store: SqlStore) -> _dt.datetime:
    from keepword.stores.sql import _dialect

    with store.engine.connect() as conn:
        return _dialect.db_now(conn)


def test_leases_are_judged_by_the_database_clock(store: SqlStore) -> None:
    """Lesson 2, scenario 5: a caller's clock cannot expire a lease; the database's does."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    now = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", now, limit=5, lease=_LEASE, worker="w1")
    row = _row(store, "commitments", "tenant-a", c.id)
    assert row["claim_token"] == token
    db_now = _db_now(store)
    assert db_now - _dt.timedelta(seconds=30) < row["claimed_until"] - _LEASE <= db_now
    # a worker whose clock runs ten minutes (or ten days) fast takes nothing
    for skew in (_dt.timedelta(minutes=10), _dt.timedelta(days=10)):
        assert store.claim_due("tenant-a", now + skew, limit=5, lease=_LEASE, worker="w2")[1] == []
    # a lease that ended one second ago by the database's clock is claimed again
    t = store.metadata.tables[f"{store.table_prefix}commitments"]
    with store.engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.tenant == "tenant-a", t.c.id == c.id)
            .values(claimed_until=_db_now(store) - _dt.timedelta(seconds=1))
        )
    token2, (again,) = store.claim_due("tenant-a", now, limit=5, lease=_LEASE, worker="w2")
    assert again.id == c.id
    assert token2 != token
    # the first worker, back from a freeze, has its write refused; the second fires
    new, _, notices = escalate(claimed, now)
    with pytest.raises(ConflictError):
        fire_one(store, new, expected_version=1, notices=notices, token=token)
    assert _count_notices(store) == 0
    fire_one(store, new, expected_version=1, notices=notices, token=token2)
    assert _count_notices(store) == 1
    # a real short lease expires in real time
    later = T0 + _dt.timedelta(hours=3)
    _, (held,) = store.claim_due("tenant-a", later, limit=5, lease=us(1_500_000), worker="w3")
    assert store.claim_due("tenant-a", later, limit=5, lease=_LEASE, worker="w4")[1] == []
    time.sleep(2.0)
    assert [
        x.id for x in store.claim_due("tenant-a", later, limit=5, lease=_LEASE, worker="w4")[1]
    ] == [held.id]


def escalate(c: Commitment, now: _dt.datetime) -> tuple[Commitment, Any, Any]:
    """The domain's escalation of ``c`` at ``now`` (notice ids made at ``now``)."""
    return _t.escalate(c, now=now, new_id=lambda: new_id(now))


def _count_notices(store: SqlStore, key: str | None = None) -> int:
    t = store.metadata.tables[f"{store.table_prefix}notices"]
    stmt = sa.select(sa.func.count()).select_from(t)
    if key is not None:
        stmt = stmt.where(t.c.idempotency_key == key)
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_firing_the_same_notices_twice_stores_each_key_once(store: SqlStore) -> None:
    """Lesson 1: the unique key, inserted with do-nothing on conflict, not the claim."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    first = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", first, limit=5, lease=_LEASE, worker="w")
    new, _, notices = escalate(claimed, first)
    assert len(notices) == 1
    stored = fire_one(store, new, expected_version=1, notices=notices, token=token)
    second = T0 + _dt.timedelta(hours=3)
    token, (again,) = store.claim_due("tenant-a", second, limit=5, lease=_LEASE, worker="w")
    newer, _, more = escalate(again, second)
    replay = [attrs.evolve(n, id=new_id(second), fired_at=second) for n in notices]
    fire_one(
        store,
        newer,
        expected_version=stored.version,
        notices=[*replay, *more, *replay],
        token=token,
    )
    assert _count_notices(store) == 2
    for n in (*notices, *more):
        assert _count_notices(store, n.idempotency_key) == 1
    kept = _row(store, "notices", "tenant-a", notices[0].id)  # the first write wins
    assert kept["fired_at"] == first
    assert [n.idempotency_key for n in store.pending_notices("tenant-a", limit=10)] == [
        notices[0].idempotency_key,
        more[0].idempotency_key,
    ]


def test_update_writes_the_schedule_and_leaves_claims_alone(store: SqlStore) -> None:
    """A keep ends the steps (next_action_at NULL); a renegotiation reschedules them."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    other = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add_many([c, other])
    row = _row(store, "commitments", "tenant-a", c.id)
    assert row["next_action_at"] == T0 + _dt.timedelta(hours=1)
    assert row["escalation_cursor"] == 0
    assert row["policy"] is not None
    assert store.next_action_at("tenant-a") == T0 + _dt.timedelta(hours=1)
    moved, _ = _t.renegotiate(c, due=T0 + _dt.timedelta(hours=9), now=T0, reason="later")
    store.update(moved, expected_version=1)
    assert _row(store, "commitments", "tenant-a", c.id)["next_action_at"] == T0 + _dt.timedelta(
        hours=7
    )
    kept, _ = _t.keep(other, now=T0)
    store.update(kept, expected_version=1)
    assert _row(store, "commitments", "tenant-a", other.id)["next_action_at"] is None
    assert store.next_action_at("tenant-a") == T0 + _dt.timedelta(hours=7)
    assert store.get("tenant-a", c.id) == moved


def _set_columns(store: SqlStore, run: Any) -> list[set[str]]:
    """Run ``run()``; the columns each ``UPDATE`` of the commitments table sets."""
    table = f"{store.table_prefix}commitments"
    seen: list[set[str]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        text = " ".join(statement.split())
        if text.upper().startswith("UPDATE") and table in text.split(" SET ")[0]:
            assignments = text.split(" SET ", 1)[1].split(" WHERE ")[0]
            names = {part.split("=")[0].strip().strip('`"') for part in assignments.split(", ")}
            seen.append(names)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)
    return seen


def test_a_fire_after_its_claim_sets_only_the_columns_that_changed(store: SqlStore) -> None:
    """The store remembers what its claim loaded: the fire writes the difference, all of it."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    at = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", at, limit=5, lease=_LEASE, worker="w")
    moved, _ = _t.renegotiate(claimed, due=T0 + _dt.timedelta(hours=9), now=at, reason="later")
    (updates,) = _set_columns(
        store, lambda: fire_one(store, moved, expected_version=1, notices=[], token=token)
    )
    assert {"version", "due_at", "deadline_version", "next_action_at"} <= updates
    assert not updates & {"calendar", "policy", "what", "terms", "tags", "customer"}
    assert store.get("tenant-a", c.id) == moved
    assert _row(store, "commitments", "tenant-a", c.id)["claim_token"] is None


def _claimed_and_forged(store: SqlStore) -> tuple[Commitment, str, Commitment, Any, Commitment]:
    """A stored commitment claimed by ``store`` and escalated, and a forged rewrite of it.

    Returns ``(stored, token, escalated, notices, rewritten)``; ``rewritten`` is
    the escalated state with its first event replaced.
    """
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    at = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", at, limit=5, lease=_LEASE, worker="w")
    new, _, notices = escalate(claimed, at)
    forged = _c.Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": 1})
    return c, token, new, notices, attrs.evolve(new, history=(forged, *new.history[1:]))


def test_a_fire_of_a_claim_another_store_made_writes_every_column(backend_url: str) -> None:
    """Nothing remembered (another process claimed): the whole row is written, history checked."""
    prefix = unique_prefix()
    with contextlib.ExitStack() as stack:
        claimer = stack.enter_context(contextlib.contextmanager(open_store)(backend_url, prefix))
        firer = SqlStore(backend_url, table_prefix=prefix)
        stack.callback(firer.close)
        c, token, new, notices, rewritten = _claimed_and_forged(claimer)
        with pytest.raises(InvalidArgumentError):
            fire_one(firer, rewritten, expected_version=1, notices=notices, token=token)
        (updates,) = _set_columns(
            firer, lambda: fire_one(firer, new, expected_version=1, notices=notices, token=token)
        )
        assert {"calendar", "policy", "what", "next_action_at"} <= updates
        assert claimer.get("tenant-a", c.id) == new
        assert [n.id for n in claimer.pending_notices("tenant-a", limit=10)] == [
            n.id for n in notices
        ]


def test_a_remembered_claim_still_refuses_a_rewritten_history(store: SqlStore) -> None:
    """The loaded history stands in for the stored one: a forged first event is refused."""
    c, token, _, notices, rewritten = _claimed_and_forged(store)
    with pytest.raises(InvalidArgumentError):
        store.fire_many("tenant-a", [keepword.ports.Fire(rewritten, 1, notices)], token=token)
    assert store.get("tenant-a", c.id) == c
    assert _count_notices(store) == 0


@pytest.mark.slow
@pytest.mark.parametrize("processes", [4])
def test_claims_from_processes_never_share_a_commitment(backend_url: str, processes: int) -> None:
    """Scenarios 1-2, small: 4 processes claim 300 due commitments 7 at a time; each once."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        made = [
            escalating("shop-7", due_at=T0 + _dt.timedelta(hours=3, seconds=i), made_at=T0 + us(i))
            for i in range(300)
        ]
        store.add_many(made)
        now = T0 + _dt.timedelta(days=1)
        with _spawn_pool(processes) as pool:
            results = pool.starmap(
                claim_worker, [(backend_url, prefix, "shop-7", now, 7)] * processes
            )
        assert [r["errors"] for r in results] == [[]] * processes
        ids = [i for r in results for i in r["claimed"]]
        assert len(ids) == len(set(ids)), "a commitment was claimed twice while its lease lived"
        assert set(ids) == {c.id for c in made}
    finally:
        store.drop_schema()
        store.close()


@pytest.mark.slow
def test_ticks_from_processes_fire_every_step_once(backend_url: str) -> None:
    """Scenario 1, small: 4 processes tick 100 commitments x 3 steps: 300 notices, 0 duplicates."""
    prefix = unique_prefix()
    store = SqlStore(backend_url, table_prefix=prefix)
    store.create_schema()
    try:
        made = [
            escalating("shop-7", due_at=T0 + _dt.timedelta(hours=3, seconds=i), made_at=T0 + us(i))
            for i in range(100)
        ]
        store.add_many(made)
        now = T0 + _dt.timedelta(days=1)
        with _spawn_pool(4) as pool:
            results = pool.starmap(tick_worker, [(backend_url, prefix, "shop-7", now, 5)] * 4)
        assert [r["errors"] for r in results] == [[]] * 4
        fired = [k for r in results for k in r["fired"]]
        assert len(fired) == len(set(fired)) == 300
        assert _count_notices(store) == 300
        assert store.next_action_at("shop-7") is None
        notices = store.pending_notices("shop-7", limit=1000)
        assert len(notices) == 300
        for c in made:  # per commitment, in step order
            steps = [n.step_index for n in notices if n.commitment_id == c.id]
            assert steps == [0, 1, 2], c.id
    finally:
        store.drop_schema()
        store.close()


def test_notice_claims_use_the_database_clock(store: SqlStore) -> None:
    """Lesson 7: state columns and DB-clock leases; an expired notice claim is delivered again."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    now = T0 + _dt.timedelta(days=1)
    token, (claimed,) = store.claim_due("tenant-a", now, limit=5, lease=_LEASE, worker="w")
    new, _, notices = escalate(claimed, now)
    fire_one(store, new, expected_version=1, notices=notices, token=token)
    t1, held = store.claim_notices("tenant-a", limit=2, lease=_LEASE, worker="c1")
    assert [n.idempotency_key for n in held] == [n.idempotency_key for n in notices[:2]]
    row = _row(store, "notices", "tenant-a", held[0].id)
    assert (row["state"], row["claim_token"], row["claimed_until"]) == (
        "claimed",
        t1,
        held[0].claimed_until,
    )
    assert [n.id for n in store.pending_notices("tenant-a", limit=9)] == [notices[2].id]
    t = store.metadata.tables[f"{store.table_prefix}notices"]
    with store.engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.tenant == "tenant-a", t.c.id == held[0].id)
            .values(claimed_until=_db_now(store) - _dt.timedelta(seconds=1))
        )
    t2, again = store.claim_notices("tenant-a", limit=9, lease=_LEASE, worker="c2")
    assert [n.id for n in again] == [held[0].id, notices[2].id]
    assert store.ack_notices("tenant-a", [held[0].id], t1) == 0  # its claim was taken over
    assert store.ack_notices("tenant-a", [held[1].id], t1) == 1
    assert store.ack_notices("tenant-a", [n.id for n in again], t2) == 2
    assert store.pending_notices("tenant-a", limit=9) == []
    assert _row(store, "notices", "tenant-a", held[0].id)["acked_at"] is not None


def test_remembered_claims_are_bounded_and_taken_once() -> None:
    """At most ``tokens`` claims are remembered (oldest forgotten); a taken entry is gone."""
    from keepword.stores.sql._claimed import ClaimedRows

    made = [commitment() for _ in range(3)]
    memo = ClaimedRows(tokens=2)
    for i, c in enumerate(made):
        memo.remember(f"t{i}", [c])
    assert len(memo) == 2
    assert memo.take("t0", [made[0].id]) == {}
    assert memo.take("t1", [made[1].id, "other"]) == {made[1].id: made[1]}
    assert memo.take("t1", [made[1].id]) == {}
    assert len(memo) == 1


def test_changed_columns_name_every_column_a_commitment_row_has() -> None:
    """Each field maps to one column of ``commitment_to_row``; a transition names what it set."""
    from keepword.stores.sql import _rows

    c = commitment()
    mapped = {_rows._COLUMN_OF.get(name, name) for name in _rows._FIELD_NAMES}
    assert mapped == set(_rows.commitment_to_row(c))
    assert _rows.changed_columns(c, c) == set()
    moved, _ = _t.renegotiate(c, due=T0 + _dt.timedelta(days=9), now=T0, reason="later")
    assert _rows.changed_columns(moved, c) == {
        "version",
        "due_at",
        "deadline_version",
        "history_length",
        "next_action_at",
    }
