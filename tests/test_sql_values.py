"""SqlStore keeps values exactly: hostile text, confusable keys, instants, tenants, batches.

The ``store`` fixture (tests/conftest.py), narrowed to the SQL backends.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.ports import Query
from keepword.stores.sql import SqlStore
from keepword.testing import HOSTILE_STRINGS
from tests.support.backends import on_sql_stores, unique_prefix
from tests.support.builders import bump, commitment

UTC = _dt.UTC


@on_sql_stores
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


@on_sql_stores
def test_confusable_refs_are_distinct_keys(store: SqlStore) -> None:
    refs = ["admin", "аdmin", "x", "x ", " x", "X", "e\u0301", "\u00e9", "ß", "ss", "ＡＢＣ", "ABC"]
    results = [store.add(commitment(external_ref=r)) for r in refs]
    assert all(stored for _, stored in results)
    assert store.count("tenant-a", Query()) == len(refs)
    for r in refs:
        got = store.get_by_ref("tenant-a", r)
        assert got is not None
        assert got.external_ref == r


@on_sql_stores
def test_ten_kilobytes_of_emoji_and_text_round_trip(store: SqlStore) -> None:
    what = ("Œuvre 👍🏽 '\"; -- " * 700)[:10_240]
    c = commitment(what=what, terms={"note": what})
    store.add(c)
    got = store.get("tenant-a", c.id)
    assert got.what == what
    assert got.terms["note"] == what


@on_sql_stores
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

    return attrs.evolve(c, tenant=tenant)


# --------------------------------------------------------------------------- writes


@on_sql_stores
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


@on_sql_stores
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


@on_sql_stores
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

    return attrs.evolve(c, version=version)
