"""Migration 0007 fills the scorecard's columns of the commitments stored before it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from keepword.measures import ScoreQuery
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore, _rows, build_metadata, migrate
from keepword.stores.sql._schema import MEASURE_COLUMNS
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
                    [{k: v for k, v in row.items() if k not in MEASURE_COLUMNS}],
                )
                conn.execute(
                    sa.insert(tables[f"{prefix}events"]), _rows.events_to_rows(c, c.history)
                )
        migrate.upgrade(engine, table_prefix=prefix)  # 0007 adds the columns and fills them
        store = SqlStore(engine, table_prefix=prefix)
        reference = MemoryStore()
        store_history(reference, commitments)
        now = T0 + dt.timedelta(days=20)
        for by in (None, "owner"):
            q = ScoreQuery(by=by, now=now)
            assert store.score_rows("t", q) == reference.score_rows("t", q)
        assert store.quote_record("t", kind="reply") == reference.quote_record("t", kind="reply")
        migrate.downgrade(engine, table_prefix=prefix, revision="0006")
        columns = {c["name"] for c in sa.inspect(engine).get_columns(f"{prefix}commitments")}
        assert not columns & set(MEASURE_COLUMNS)
    finally:
        SqlStore(engine, table_prefix=prefix).drop_schema()
        engine.dispose()
