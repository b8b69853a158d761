"""Migrations 0007 and 0009 fill the scorecard's columns of the commitments stored before them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from keepword.measures import ScoreQuery
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore, _rows, build_metadata, migrate
from keepword.stores.sql._schema import MEASURE_COLUMNS, SPAN_COLUMNS
from keepword.testing.contract._support import T0
from keepword.testing.contract.metrics import apply_plan, store_history
from tests.support.backends import unique_prefix

PLANS = [
    {"ops": [("keep", 30)]},
    {"ops": [("tick", 600), ("renegotiate", 10), ("keep", 60)]},
    {"ops": [("keep_changed", 3000)]},
    {"ops": [("fail", 700)]},
    {"ops": [("waive", 10)]},
    {"ops": [("pause", 10), ("resume", 90), ("tick", 2000)]},
    {"ops": [("reassign", 30), ("pause", 10), ("resume", 600), ("tick", 1500), ("keep", 60)]},
    {"ops": [("tick", 900), ("reassign", 30), ("fail", 3000)]},
    {"ops": []},
]


def test_upgrading_to_0007_fills_the_scorecard_columns_of_stored_rows(backend_url: str) -> None:
    prefix = unique_prefix()
    engine = sa.create_engine(backend_url)
    commitments = [
        apply_plan(
            "t",
            {
                "made": 60 * i,
                "hours": 3,
                "owner": "alice" if i % 2 else "bob",
                "kind": "reply",
                "customer": "c1",
                "channel": None,
                "policy": i % 3 == 0,
                "quoted": i == 0,
                **plan,
            },
        )
        for i, plan in enumerate(PLANS)
    ]
    try:
        migrate.upgrade(engine, table_prefix=prefix, revision="0006")
        tables = build_metadata(prefix).tables
        with engine.begin() as conn:
            for c in commitments:
                row = _rows.commitment_to_row(c)
                conn.execute(
                    sa.insert(tables[f"{prefix}commitments"]),
                    [{k: v for k, v in row.items() if k not in (*MEASURE_COLUMNS, "rework")}],
                )
                conn.execute(
                    sa.insert(tables[f"{prefix}events"]),
                    [
                        {k: v for k, v in event.items() if k not in SPAN_COLUMNS}
                        for event in _rows.events_to_rows(c, c.history)
                    ],
                )
        # 0007 adds the scorecard's columns and fills them; 0009 the events' spans
        migrate.upgrade(engine, table_prefix=prefix)
        store = SqlStore(engine, table_prefix=prefix)
        reference = MemoryStore()
        store_history(reference, commitments)
        now = T0 + dt.timedelta(days=20)
        for by in (None, "owner"):
            q = ScoreQuery(by=by, now=now)
            assert store.score_rows("t", q) == reference.score_rows("t", q)
        _, total = store.score_rows("t", ScoreQuery(now=now))
        assert {owner for owner, _ in total.time_by_owner} >= {"dave"}  # reassigned, then breached
        assert [reason for reason, _ in total.time_by_pause] == ["waiting on the customer"]
        assert store.quote_record("t", kind="reply") == reference.quote_record("t", kind="reply")
        migrate.downgrade(engine, table_prefix=prefix, revision="0006")
        columns = {c["name"] for c in sa.inspect(engine).get_columns(f"{prefix}commitments")}
        assert not columns & set(MEASURE_COLUMNS)
    finally:
        SqlStore(engine, table_prefix=prefix).drop_schema()
        engine.dispose()
