"""keepword.fairness: the allocation plan, the queue state, out of turn; the demo's scene."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword import BusinessCalendar, FrozenClock, MemoryStore, Tracker
from keepword import transitions as _t
from keepword._demo_fairness import backorder_scene
from keepword.commitment import Commitment, replay
from keepword.errors import InvalidArgumentError, InvalidTransitionError
from keepword.fairness import (
    AuditRules,
    is_waiting,
    out_of_turn,
    plan_allocation,
    quantity_of,
    queue_state,
)
from keepword.stores.sql import SqlStore
from keepword.testing import make_commitment

T0 = _dt.datetime(2026, 11, 23, 9, 0, tzinfo=_dt.UTC)
SKU = "sku:FIG-1"


def _order(i: int, n: int) -> Commitment:
    return make_commitment(
        id=f"o-{i:04d}",
        made_at=T0 + _dt.timedelta(minutes=i),
        waiting_for=SKU,
        terms={"quantity": n},
    )


@given(
    sizes=st.lists(st.integers(1, 5), max_size=12),
    quantity=st.integers(1, 30),
    partial=st.booleans(),
)
def test_the_plan_serves_a_prefix_and_hands_out_no_more_than_it_has(
    sizes: list[int], quantity: int, partial: bool
) -> None:
    line = [_order(i, n) for i, n in enumerate(sizes)]
    shares, left = plan_allocation(line, quantity, partial=partial)
    ids = [s.commitment.id for s in shares]
    assert ids == [c.id for c in line[: len(ids)]]  # a prefix of the line, in order
    assert sum(s.units for s in shares) + left == quantity
    assert all(1 <= s.units <= quantity_of(s.commitment) for s in shares)
    whole = [s.units == quantity_of(s.commitment) for s in shares]
    assert all(whole[:-1])  # only the last may be partial...
    if not partial:
        assert all(whole)  # ...and only when allowed
    if len(shares) < len(line) and left > 0:
        nxt = quantity_of(line[len(shares)])
        assert nxt > left  # stopped only at an order that did not fit
        assert not partial  # with partial service the units run out first


@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=8), data=st.data())
def test_serving_in_plan_order_leaves_nothing_out_of_turn(
    sizes: list[int], data: st.DataObject
) -> None:
    line = [_order(i, n) for i, n in enumerate(sizes)]
    current = {c.id: c for c in line}
    at = T0 + _dt.timedelta(days=1)
    for _ in range(data.draw(st.integers(1, 5))):
        quantity = data.draw(st.integers(1, 6))
        partial = data.draw(st.booleans())
        waiting = [current[c.id] for c in line if is_waiting(current[c.id], SKU)]
        shares, _left = plan_allocation(waiting, quantity, partial=partial)
        for s in shares:
            new, _ = _t.serve(s.commitment, now=at, resource=SKU, quantity=s.units, partial=partial)
            assert replay(new.history, version=new.version) == new
            current[new.id] = new
        at += _dt.timedelta(hours=1)
    assert out_of_turn(current.values()) == []
    for c in current.values():
        state = queue_state(c)
        assert state is not None
        assert 0 <= state.served <= state.quantity
        assert (state.queue_at is None) == (state.served == state.quantity)


def test_keeping_a_later_order_first_is_out_of_turn_and_cancelling_is_not() -> None:
    a, b, c = (_order(i, 1) for i in range(3))
    at = T0 + _dt.timedelta(days=1)
    kept, _ = _t.keep(c, now=at)
    (found,) = out_of_turn([a, b, kept])
    assert (found.commitment_id, found.earlier, found.ahead) == (c.id, (a.id, b.id), False)
    gone_a, _ = _t.cancel(a, now=at - _dt.timedelta(hours=1))
    gone_b, _ = _t.cancel(b, now=at - _dt.timedelta(hours=1))
    assert out_of_turn([gone_a, gone_b, kept]) == []
    assert out_of_turn([a, b, kept], until=at) == []
    assert out_of_turn([a, b, kept], since=at + _dt.timedelta(seconds=1)) == []


def test_serve_refuses_what_it_must() -> None:
    (a,) = (_order(0, 3),)
    at = T0 + _dt.timedelta(days=1)
    cases = [
        ({"resource": "sku:OTHER", "quantity": 3}, "resource"),
        ({"resource": SKU, "quantity": 4}, "quantity"),
        ({"resource": SKU, "quantity": 2}, "quantity"),  # part, without partial
        ({"resource": SKU, "quantity": 0}, "quantity"),
        ({"resource": SKU, "quantity": 3, "ahead": True}, "reason"),
        ({"resource": SKU, "quantity": 3, "ahead": True, "reason": "why"}, "actor"),
    ]
    for kwargs, argument in cases:
        with pytest.raises(InvalidArgumentError) as raised:
            _t.serve(a, now=at, **kwargs)  # type: ignore[arg-type]
        assert raised.value.argument == argument
    with pytest.raises(InvalidArgumentError) as raised:
        _t.serve(a, now=T0 - _dt.timedelta(days=1), resource=SKU, quantity=3)
    assert raised.value.argument == "at"
    done, _ = _t.keep(a, now=at)
    with pytest.raises(InvalidTransitionError):
        _t.serve(done, now=at, resource=SKU, quantity=3)


def test_audit_rules_are_checked() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        AuditRules(pause_window=_dt.timedelta(0))
    assert raised.value.argument == "pause_window"
    with pytest.raises(InvalidArgumentError) as raised:
        AuditRules(max_renegotiations=True)  # type: ignore[arg-type]
    assert raised.value.argument == "max_renegotiations"


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_demo_scene_finds_what_it_staged_and_nothing_else(backend: str, tmp_path: Path) -> None:
    store = MemoryStore() if backend == "memory" else SqlStore(f"sqlite:///{tmp_path / 'd.db'}")
    if isinstance(store, SqlStore):
        store.create_schema()
    clock = FrozenClock(T0)
    tracker = Tracker(store, calendar=BusinessCalendar(tz="UTC"), clock=clock)
    lines: list[str] = []
    scene = backorder_scene(tracker, clock, lines.append)
    assert scene.served == (
        ("acct-ltd-1", "acct-ltd-2"),
        ("acct-ltd-5",),
        ("acct-ltd-3",),
    )
    assert scene.as_staged, [f.sentence for f in scene.report.violations]
    rules = sorted(f.rule for f in scene.report.violations)
    # every store has the touchpoints port the pause rule reads
    want = ["paused_after_customer", "renegotiated_often", "served_out_of_turn"]
    assert rules == sorted(want)
    (approved,) = scene.report.approved
    assert "hospital" in approved.sentence
    assert any(line.startswith("audit:") for line in lines)
    store.close()
