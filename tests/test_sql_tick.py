"""SqlStore's tick queue and outbox: the claim's index, database-clock leases, exact fires.

The ``store`` fixture (tests/conftest.py), narrowed to the SQL backends.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import time
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

import keepword
from keepword import transitions as _t
from keepword._ids import new_id
from keepword.commitment import Commitment, Event
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.stores.sql import SqlStore
from keepword.testing import fire_one
from tests.support.backends import on_sql_stores, open_store, unique_prefix
from tests.support.builders import T0, commitment, escalate, escalating, us
from tests.support.sql_tables import count_notices, database_now, read_row

LEASE = _dt.timedelta(hours=1)


def _claim_plan(store: SqlStore, tenant: str, now: _dt.datetime) -> tuple[str, list[str]]:
    """Run ``claim_due`` and ``next_action_at``; EXPLAIN the statements they ran."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "next_action_at" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        _, claimed = store.claim_due(tenant, now, limit=10, lease=LEASE, worker="w")
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
            plans.append("\n".join(" | ".join(str(v) for v in r) for r in rows))
    return seen[0][0], plans


@on_sql_stores
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
    # With one tenant in the table, (next_action_at, id), the index of the tick across
    # tenants, reads exactly the same rows: PostgreSQL may break that tie either way.
    due_any = f"ix_{store.table_prefix}commitments_due_any"
    for plan in plans:
        print(plan)  # shown with -s: the plans quoted in the note
        assert index in plan or due_any in plan, plan
    if store.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plans[0], plans[0]  # the index gives the order too
        assert "SCAN" not in plans[0], plans[0]
    else:
        assert "SKIP LOCKED" in statement.upper()
    if store.engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plans[0]
        assert "Sort" not in plans[0], plans[0]


@on_sql_stores
def test_leases_are_judged_by_the_database_clock(store: SqlStore) -> None:
    """Lesson 2, scenario 5: a caller's clock cannot expire a lease; the database's does."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    now = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", now, limit=5, lease=LEASE, worker="w1")
    row = read_row(store, "commitments", "tenant-a", c.id)
    assert row["claim_token"] == token
    db_now = database_now(store)
    assert db_now - _dt.timedelta(seconds=30) < row["claimed_until"] - LEASE <= db_now
    # a worker whose clock runs ten minutes (or ten days) fast takes nothing
    for skew in (_dt.timedelta(minutes=10), _dt.timedelta(days=10)):
        assert store.claim_due("tenant-a", now + skew, limit=5, lease=LEASE, worker="w2")[1] == []
    # a lease that ended one second ago by the database's clock is claimed again
    t = store.metadata.tables[f"{store.table_prefix}commitments"]
    with store.engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.tenant == "tenant-a", t.c.id == c.id)
            .values(claimed_until=database_now(store) - _dt.timedelta(seconds=1))
        )
    token2, (again,) = store.claim_due("tenant-a", now, limit=5, lease=LEASE, worker="w2")
    assert again.id == c.id
    assert token2 != token
    # the first worker, back from a freeze, has its write refused; the second fires
    new, _, notices = escalate(claimed, now)
    with pytest.raises(ConflictError):
        fire_one(store, new, expected_version=1, notices=notices, token=token)
    assert count_notices(store) == 0
    fire_one(store, new, expected_version=1, notices=notices, token=token2)
    assert count_notices(store) == 1
    # a real short lease expires in real time
    later = T0 + _dt.timedelta(hours=3)
    _, (held,) = store.claim_due("tenant-a", later, limit=5, lease=us(1_500_000), worker="w3")
    assert store.claim_due("tenant-a", later, limit=5, lease=LEASE, worker="w4")[1] == []
    time.sleep(2.0)
    assert [
        x.id for x in store.claim_due("tenant-a", later, limit=5, lease=LEASE, worker="w4")[1]
    ] == [held.id]


@on_sql_stores
def test_firing_the_same_notices_twice_stores_each_key_once(store: SqlStore) -> None:
    """Lesson 1: the unique key, inserted with do-nothing on conflict, not the claim."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    first = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", first, limit=5, lease=LEASE, worker="w")
    new, _, notices = escalate(claimed, first)
    assert len(notices) == 1
    stored = fire_one(store, new, expected_version=1, notices=notices, token=token)
    second = T0 + _dt.timedelta(hours=3)
    token, (again,) = store.claim_due("tenant-a", second, limit=5, lease=LEASE, worker="w")
    newer, _, more = escalate(again, second)
    replay = [attrs.evolve(n, id=new_id(second), fired_at=second) for n in notices]
    fire_one(
        store,
        newer,
        expected_version=stored.version,
        notices=[*replay, *more, *replay],
        token=token,
    )
    assert count_notices(store) == 2
    for n in (*notices, *more):
        assert count_notices(store, n.idempotency_key) == 1
    kept = read_row(store, "notices", "tenant-a", notices[0].id)  # the first write wins
    assert kept["fired_at"] == first
    assert [n.idempotency_key for n in store.pending_notices("tenant-a", limit=10)] == [
        notices[0].idempotency_key,
        more[0].idempotency_key,
    ]


@on_sql_stores
def test_update_writes_the_schedule_and_leaves_claims_alone(store: SqlStore) -> None:
    """A keep ends the steps (next_action_at NULL); a renegotiation reschedules them."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    other = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add_many([c, other])
    row = read_row(store, "commitments", "tenant-a", c.id)
    assert row["next_action_at"] == T0 + _dt.timedelta(hours=1)
    assert row["escalation_cursor"] == 0
    assert row["policy"] is not None
    assert store.next_action_at("tenant-a") == T0 + _dt.timedelta(hours=1)
    moved, _ = _t.renegotiate(c, due=T0 + _dt.timedelta(hours=9), now=T0, reason="later")
    store.update(moved, expected_version=1)
    assert read_row(store, "commitments", "tenant-a", c.id)["next_action_at"] == T0 + _dt.timedelta(
        hours=7
    )
    kept, _ = _t.keep(other, now=T0)
    store.update(kept, expected_version=1)
    assert read_row(store, "commitments", "tenant-a", other.id)["next_action_at"] is None
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


@on_sql_stores
def test_a_fire_after_its_claim_sets_only_the_columns_that_changed(store: SqlStore) -> None:
    """The store remembers what its claim loaded: the fire writes the difference, all of it."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    at = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", at, limit=5, lease=LEASE, worker="w")
    moved, _ = _t.renegotiate(claimed, due=T0 + _dt.timedelta(hours=9), now=at, reason="later")
    (updates,) = _set_columns(
        store, lambda: fire_one(store, moved, expected_version=1, notices=[], token=token)
    )
    assert {"version", "due_at", "deadline_version", "next_action_at"} <= updates
    assert not updates & {"calendar", "policy", "what", "terms", "tags", "customer"}
    assert store.get("tenant-a", c.id) == moved
    assert read_row(store, "commitments", "tenant-a", c.id)["claim_token"] is None


def _claimed_and_forged(store: SqlStore) -> tuple[Commitment, str, Commitment, Any, Commitment]:
    """A stored commitment claimed by ``store`` and escalated, and a forged rewrite of it.

    Returns ``(stored, token, escalated, notices, rewritten)``; ``rewritten`` is
    the escalated state with its first event replaced.
    """
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    at = T0 + _dt.timedelta(hours=2)
    token, (claimed,) = store.claim_due("tenant-a", at, limit=5, lease=LEASE, worker="w")
    new, _, notices = escalate(claimed, at)
    forged = Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": 1})
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


@on_sql_stores
def test_a_remembered_claim_still_refuses_a_rewritten_history(store: SqlStore) -> None:
    """The loaded history stands in for the stored one: a forged first event is refused."""
    c, token, _, notices, rewritten = _claimed_and_forged(store)
    with pytest.raises(InvalidArgumentError):
        store.fire_many("tenant-a", [keepword.ports.Fire(rewritten, 1, notices)], token=token)
    assert store.get("tenant-a", c.id) == c
    assert count_notices(store) == 0


@on_sql_stores
def test_notice_claims_use_the_database_clock(store: SqlStore) -> None:
    """Lesson 7: state columns and DB-clock leases; an expired notice claim is delivered again."""
    c = escalating(due_at=T0 + _dt.timedelta(hours=3))
    store.add(c)
    now = T0 + _dt.timedelta(days=1)
    token, (claimed,) = store.claim_due("tenant-a", now, limit=5, lease=LEASE, worker="w")
    new, _, notices = escalate(claimed, now)
    fire_one(store, new, expected_version=1, notices=notices, token=token)
    t1, held = store.claim_notices("tenant-a", limit=2, lease=LEASE, worker="c1")
    assert [n.idempotency_key for n in held] == [n.idempotency_key for n in notices[:2]]
    row = read_row(store, "notices", "tenant-a", held[0].id)
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
            .values(claimed_until=database_now(store) - _dt.timedelta(seconds=1))
        )
    t2, again = store.claim_notices("tenant-a", limit=9, lease=LEASE, worker="c2")
    assert [n.id for n in again] == [held[0].id, notices[2].id]
    assert store.ack_notices("tenant-a", [held[0].id], t1) == 0  # its claim was taken over
    assert store.ack_notices("tenant-a", [held[1].id], t1) == 1
    assert store.ack_notices("tenant-a", [n.id for n in again], t2) == 2
    assert store.pending_notices("tenant-a", limit=9) == []
    assert read_row(store, "notices", "tenant-a", held[0].id)["acked_at"] is not None


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
    from keepword.stores.sql._schema import MEASURE_COLUMNS, waitlist_columns

    mapped = {_rows._COLUMN_OF.get(name, name) for name in _rows._FIELD_NAMES}
    # and the scorecard's and the waitlist's columns, derived from the state and written with it;
    # "rework" is derived from the promise itself, written once
    derived = set(MEASURE_COLUMNS) | {column.name for column in waitlist_columns()} | {"rework"}
    assert mapped | derived == set(_rows.commitment_to_row(c))
    assert _rows.changed_columns(c, c) == set()
    moved, _ = _t.renegotiate(c, due=T0 + _dt.timedelta(days=9), now=T0, reason="later")
    assert _rows.changed_columns(moved, c) == {
        "version",
        "due_at",
        "deadline_version",
        "history_length",
        "next_action_at",
        *MEASURE_COLUMNS,  # a new event: what the scorecard counts may follow
    }
