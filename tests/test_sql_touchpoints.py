"""``SqlStore``'s touchpoint log: what only SQL can get wrong (keys, md5, races, the plan).

The port's behaviour on every store is pinned by ``TouchpointLogContract``
(run by tests/test_memory_store.py and tests/test_sql_contract.py); here:
the table's keys, the SQL ``md5`` agreeing with
:func:`keepword.touchpoint.pick_order`, a race on one ref between threads
of separate connections, and answers equal to MemoryStore's.
"""

from __future__ import annotations

import datetime as _dt
import threading

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import Store
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore
from keepword.testing import make_commitment
from keepword.touchpoint import Touchpoint, pick_order
from tests.support.backends import on_sql_stores

T0 = _dt.datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=_dt.UTC)


def touch(n: int, **kw: object) -> Touchpoint:
    fields: dict[str, object] = {
        "id": f"tp-{n}",
        "tenant": "shop",
        "customer": f"acct-{n % 3}",
        "channel": "card",
        "kind": "thank_you",
        "at": T0 + _dt.timedelta(hours=n),
    }
    fields.update(kw)
    return Touchpoint(**fields)  # type: ignore[arg-type]


@on_sql_stores
def test_the_table_has_the_keys_the_port_relies_on(store: SqlStore) -> None:
    table = store.metadata.tables[f"{store.table_prefix}touchpoints"]
    assert [c.name for c in table.primary_key] == ["tenant", "id"]
    uniques = {
        tuple(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, sa.UniqueConstraint)
    }
    assert uniques == {("id",), ("tenant", "kind", "ref")}
    indexes = {tuple(c.name for c in i.columns) for i in table.indexes}
    assert indexes == {("tenant", "customer", "at"), ("tenant", "kind", "at")}


@on_sql_stores
def test_a_duplicate_id_is_a_conflict_in_any_tenant(store: SqlStore) -> None:
    store.add_touchpoint(touch(1))
    with pytest.raises(ConflictError) as caught:
        store.add_touchpoint(touch(1, tenant="other", ref="r-1"))
    assert caught.value.argument == "touchpoint"
    assert store.touchpoints("other") == []


@on_sql_stores
def test_one_ref_raced_by_threads_is_stored_once(store: SqlStore) -> None:
    """Eight threads, each its own connection, add the same ref: one row, one winner."""
    if "multiprocess" not in store.capabilities:
        pytest.skip("an in-memory SQLite database is one connection")
    barrier = threading.Barrier(8)
    results: list[object] = [None] * 8

    def add(i: int) -> None:
        barrier.wait()
        try:
            results[i] = store.add_touchpoint(touch(i, ref="mail-1", customer="acct-1"))
        except BaseException as error:  # checked below
            results[i] = error

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, tuple) for r in results), results
    winners = [r for r in results if isinstance(r, tuple) and r[1]]
    assert len(winners) == 1
    stored = store.touchpoints("shop")
    assert len(stored) == 1
    assert all(isinstance(r, tuple) and r[0] == stored[0] for r in results)


@on_sql_stores
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")),
    customers=st.lists(
        st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
            min_size=1,
            max_size=20,
        ),
        min_size=1,
        max_size=6,
        unique=True,
    ),
)
def test_the_sql_md5_order_is_pick_order(store: SqlStore, seed: str, customers: list[str]) -> None:
    """The extra-mile pick in SQL is the customer with the smallest ``pick_order``."""
    import uuid

    tenant = f"t-{uuid.uuid4().hex[:8]}"
    for i, customer in enumerate(customers):
        store.add_touchpoint(touch(i, id=uuid.uuid4().hex, tenant=tenant, customer=customer))
    got = store.extra_mile_candidate(tenant, eligible_since=T0, seed=seed)
    assert got == min(customers, key=lambda c: pick_order(seed, c))


@on_sql_stores
def test_a_seed_with_nul_is_refused_by_name(store: SqlStore) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        store.extra_mile_candidate("shop", eligible_since=T0, seed="a\x00b")
    assert caught.value.argument == "seed"


def test_a_caller_engine_connected_before_the_store_still_has_md5(tmp_path: object) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/kw.db")
    with engine.connect() as conn:  # a pooled connection the connect hook never saw
        conn.exec_driver_sql("SELECT 1")
    store = SqlStore(engine, table_prefix="early_")
    try:
        store.create_schema()
        store.add_touchpoint(touch(1))
        assert store.extra_mile_candidate("shop", eligible_since=T0, seed="s") == "acct-1"
    finally:
        store.drop_schema()
        store.close()
        engine.dispose()


def _fill(store: Store) -> None:
    store.add(make_commitment("shop", customer="acct-only-commitments", made_at=T0))
    for n in range(12):
        store.add_touchpoint(
            touch(
                n,
                kind=("thank_you", "extra_mile", "reply")[n % 3],
                counted=n != 3,
                ref=f"r{n}",
                data={"n": n, "f": 1.0, "b": True, "nested": [None, {"k": "v"}]},
            )
        )


@on_sql_stores
def test_every_answer_equals_memory_stores(store: SqlStore) -> None:
    model = MemoryStore()
    _fill(store)
    _fill(model)
    asks = [
        lambda s: s.touchpoints("shop"),
        lambda s: s.touchpoints("shop", customer="acct-1", kind="thank_you", limit=2),
        lambda s: s.touchpoints("shop", since=T0 + _dt.timedelta(hours=2), until=T0),
        lambda s: s.touchpoints("shop", since=T0 + _dt.timedelta(hours=2)),
        lambda s: s.touchpoint_by_ref("shop", "reply", "r2"),
        lambda s: s.thanks_by_customer("shop", below=1),
        lambda s: s.thanks_by_customer("shop", below=3, limit=2),
        lambda s: s.thanks_by_customer("shop", below=2**70),
        lambda s: s.extra_mile_candidate("shop", eligible_since=T0, seed="shop:2026-12"),
        lambda s: s.extra_mile_candidate(
            "shop", eligible_since=T0 + _dt.timedelta(days=9), seed=""
        ),
        lambda s: s.silent_customers("shop", quiet_since=T0 + _dt.timedelta(hours=10)),
        lambda s: s.silent_customers("shop", quiet_since=T0 + _dt.timedelta(days=1), limit=1),
    ]
    for i, ask in enumerate(asks):
        assert ask(store) == ask(model), i
