"""The SQL scorecard's percentiles: exact nearest ranks by buckets, on every SQL backend.

``SqlStore`` finds each percentile in two phases (counts per bucket, then
ranking the one bucket that holds the rank; see
:mod:`keepword.stores.sql._metrics`).  These tests store a few hundred
commitments with many equal values and compare every grouping, window and
``by_due`` with ``MemoryStore``, with few buckets (each holding many values
and the ranks falling inside them), with the default buckets, and through the
one-query form used for many groups.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword.measures import ScoreQuery, nearest_rank
from keepword.ports import Store
from keepword.scorecard import GROUPINGS
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import _metrics
from keepword.testing.contract._support import T0
from keepword.testing.contract.metrics import apply_plan, store_history
from tests.support.backends import on_sql_stores

_OPS = ("keep", "keep", "keep", "fail", "cancel", "renegotiate", "tick", "reassign", "pause")


def _plans(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` commitment plans drawn from a seeded generator (minutes on a coarse grid: ties)."""
    rng = random.Random(seed)
    return [
        {
            "made": rng.randrange(0, 10 * 24 * 60, 30),
            "hours": rng.choice([1, 2, 4, 8, 24]),
            "owner": rng.choice(["alice", "bob", "carol"]),
            "kind": rng.choice(["reply", "refund"]),
            "customer": rng.choice(["c1", "c2", "c3", "c4", "c5"]),
            "channel": rng.choice([None, "email", "phone"]),
            "policy": rng.random() < 0.5,
            "quoted": rng.random() < 0.2,
            "ops": [
                (rng.choice(_OPS), rng.randrange(0, 3 * 24 * 60, 15))
                for _ in range(rng.randrange(0, 4))
            ],
        }
        for _ in range(n)
    ]


def _queries() -> list[ScoreQuery]:
    """Every grouping, unwindowed and windowed, by made and by due."""
    out = []
    windows = [(None, None), (T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=7))]
    for by in (None, *GROUPINGS):
        for since, until in windows:
            for by_due in (False, True):
                out.append(
                    ScoreQuery(
                        by=by,
                        since=since,
                        until=until,
                        by_due=by_due,
                        now=T0 + dt.timedelta(days=12),
                        tolerance_us=30 * 60_000_000,
                        response_target_us=2 * 3_600_000_000,
                        early_us=3_600_000_000,
                    )
                )
    return out


@on_sql_stores
@pytest.mark.parametrize(
    "buckets",
    [
        pytest.param((1, 1), id="one-bucket"),
        pytest.param((3, 3), id="three-buckets"),
        pytest.param(None, id="default-buckets"),
        pytest.param("one-query", id="one-query-form"),
    ],
)
def test_percentiles_equal_the_reference(
    store: Store, buckets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every percentile of every grouping, window and ``by_due`` equals ``MemoryStore``'s."""
    monkeypatch.setattr(_metrics, "TWO_PHASE_ROWS", 0)
    if buckets == "one-query":
        monkeypatch.setattr(_metrics, "HISTOGRAM_GROUPS", 0)
    elif buckets is not None:
        monkeypatch.setattr(_metrics, "_MIN_BUCKETS", buckets[0])
        monkeypatch.setattr(_metrics, "_MAX_BUCKETS", buckets[1])
    tenant = "pct"
    commitments = [apply_plan(tenant, plan) for plan in _plans(240, seed=7)]
    reference = MemoryStore()
    store_history(reference, commitments)
    store_history(store, commitments)
    checked = 0
    for q in _queries():
        got, want = store.score_rows(tenant, q), reference.score_rows(tenant, q)
        assert got == want, q
        checked += sum(r.lateness_p90 is not None for r in (*want[0], want[1]))
    assert checked > 0  # the data has late commitments, so the percentiles were compared


@given(
    values=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=60),
    width=st.integers(1, 10**12),
)
def test_rank_cells_find_the_nearest_rank(values: list[int], width: int) -> None:
    """The bucket and rank within it that ``_rank_cells`` names hold the nearest-rank value."""
    least = min(values)
    cells: dict[int, list[int]] = {}
    for v in values:
        cells.setdefault((v - least) // width, []).append(v)
    counts = [(b, len(vs)) for b, vs in cells.items()]
    found = _metrics._rank_cells(counts, (1, 50, 90, 100))
    assert [p for p, _, _ in found] == [1, 50, 90, 100]
    for p, b, k in found:
        assert sorted(cells[b])[k - 1] == nearest_rank(sorted(values), p)


@on_sql_stores
def test_owners_differing_in_case_are_two_groups(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Owners ``"Ann"`` and ``"ann"`` stay two groups with their own percentiles (as the reference).

    The schema compares text byte for byte on every backend, so phase 2 meets
    each group spelled as phase 1 named it.
    """
    monkeypatch.setattr(_metrics, "TWO_PHASE_ROWS", 0)
    tenant = "pct"
    plans = _plans(120, seed=11)
    for i, plan in enumerate(plans):
        plan["owner"] = "Ann" if i % 2 else "ann"
    commitments = [apply_plan(tenant, plan) for plan in plans]
    reference = MemoryStore()
    store_history(reference, commitments)
    store_history(store, commitments)
    q = next(q for q in _queries() if q.by == "owner" and q.since is None and not q.by_due)
    got, want = store.score_rows(tenant, q), reference.score_rows(tenant, q)
    assert {"Ann", "ann"} <= {r.group for r in want[0]}
    assert got == want
