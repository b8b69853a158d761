"""tracker.allocate, waitlist and fairness_audit on every store (memory, SQLite, servers)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest

from keepword import BusinessCalendar, FrozenClock, Tracker, within
from keepword.commitment import Commitment, Event, apply
from keepword.errors import InvalidArgumentError, KeepwordError, NaiveDatetimeError
from keepword.ports import Query, Store, declared_ports
from keepword.touchpoint import Touchpoint

T0 = _dt.datetime(2026, 11, 23, 9, 0, tzinfo=_dt.UTC)
SKU = "sku:FIG-1"


def _tracker(store: Store) -> tuple[Tracker, FrozenClock]:
    clock = FrozenClock(T0)
    return Tracker(store, calendar=BusinessCalendar(tz="UTC"), clock=clock), clock


def _orders(t: Tracker, clock: FrozenClock, *sizes: int, sku: str = SKU) -> list[Commitment]:
    """One order per size, a minute apart, in that order."""
    out = []
    for i, n in enumerate(sizes):
        out.append(
            t.promise(
                customer=f"cust-{i}",
                owner="shop",
                kind="order",
                what=f"{n} figurine(s)",
                due=within(days=30),
                waiting_for=sku,
                quantity=n,
            )
        )
        clock.advance(minutes=1)
    return out


def _versions(t: Tracker) -> dict[str, int]:
    return {c.id: c.version for c in t.find()}


def test_whole_orders_in_turn_and_a_large_early_order_is_never_skipped(store: Store) -> None:
    t, clock = _tracker(store)
    a, b, c, d = _orders(t, clock, 2, 5, 1, 1)
    served = t.allocate(SKU, 4)
    assert [x.id for x in served] == [a.id]  # b (5) does not fit: c and d must wait behind it
    assert served[0].history[-1].kind == "served"
    assert served[0].history[-1].data["quantity"] == 2
    assert served[0].status.value == "open"
    assert served[0].version == 2
    line = t.waitlist(SKU)
    assert [(e.position, e.commitment.id, e.remaining) for e in line] == [
        (1, b.id, 5),
        (2, c.id, 1),
        (3, d.id, 1),
    ]
    served = t.allocate(SKU, 7)
    assert [x.id for x in served] == [b.id, c.id, d.id]
    assert t.waitlist(SKU) == []
    assert t.fairness_audit().violations == ()


def test_partial_service_is_recorded_and_the_head_keeps_its_place(store: Store) -> None:
    t, clock = _tracker(store)
    a, b = _orders(t, clock, 5, 1)
    served = t.allocate(SKU, 3, partial=True)
    assert [x.id for x in served] == [a.id]
    event = served[0].history[-1]
    assert (event.data["quantity"], event.data["remaining"], event.data["partial"]) == (3, 2, True)
    assert [(e.commitment.id, e.remaining) for e in t.waitlist(SKU)] == [(a.id, 2), (b.id, 1)]
    assert [x.id for x in t.allocate(SKU, 3, partial=True)] == [a.id, b.id]
    assert t.get(a).history[-1].data["served"] == 5
    assert t.waitlist(SKU) == []
    assert t.fairness_audit().violations == ()


def test_a_paused_order_keeps_its_place_and_other_resources_are_apart(store: Store) -> None:
    t, clock = _tracker(store)
    a, b = _orders(t, clock, 1, 1)
    (other,) = _orders(t, clock, 1, sku="sku:FIG-2")
    t.pause(a, reason="waiting for the address")
    assert [e.commitment.id for e in t.waitlist(SKU)] == [a.id, b.id]
    served = t.allocate(SKU, 1)
    assert [x.id for x in served] == [a.id]
    assert served[0].status.value == "paused"
    assert [e.commitment.id for e in t.waitlist("sku:FIG-2")] == [other.id]
    assert t.allocate(SKU, 5) == [t.get(b)]
    assert t.allocate(SKU, 5) == []


def test_approved_exceptions_go_first_on_the_record(store: Store) -> None:
    t, clock = _tracker(store)
    a, b, c = _orders(t, clock, 1, 1, 1)
    served = t.allocate(SKU, 2, first=[c], reason="medical need", actor="manager")
    assert [x.id for x in served] == [c.id, a.id]
    data = served[0].history[-1].data
    assert (data["ahead"], data["reason"], served[0].history[-1].actor) == (
        True,
        "medical need",
        "manager",
    )
    report = t.fairness_audit()
    assert report.violations == ()
    assert [f.commitments[0] for f in report.approved] == [c.id]
    (finding,) = report.approved
    assert finding.approved
    assert finding.rule == "served_out_of_turn"
    assert finding.commitments[1:] == (b.id,)  # a was served in the same allocation
    assert "medical need" in finding.sentence
    assert "manager" in finding.sentence


def test_keeping_a_later_order_first_is_a_violation(store: Store) -> None:
    t, clock = _tracker(store)
    a, b, c = _orders(t, clock, 1, 1, 1)
    t.keep(c)  # shipped by hand, ahead of a and b
    report = t.fairness_audit()
    (finding,) = report.violations
    assert finding.rule == "served_out_of_turn"
    assert not finding.approved
    assert finding.commitments == (c.id, a.id, b.id)
    assert a.id in finding.sentence
    assert "still waited" in finding.sentence
    # a window that ends before the keep finds nothing
    assert t.fairness_audit(until=T0).violations == ()


def test_a_cancelled_earlier_order_is_not_jumped(store: Store) -> None:
    t, clock = _tracker(store)
    a, b = _orders(t, clock, 1, 1)
    t.cancel(a, reason="changed their mind")
    clock.advance(minutes=1)
    t.keep(b)
    assert t.fairness_audit().violations == ()


def test_renegotiated_more_than_n_times(store: Store) -> None:
    t, clock = _tracker(store)
    (a,) = _orders(t, clock, 1)
    for days in (31, 32, 33):
        clock.advance(hours=1)
        t.renegotiate(a.id, due=T0 + _dt.timedelta(days=days))
    report = t.fairness_audit()
    (finding,) = [f for f in report.violations if f.rule == "renegotiated_often"]
    assert finding.commitments == (a.id,)
    assert finding.count == 3
    assert "3 times" in finding.sentence
    assert t.fairness_audit(max_renegotiations=3).violations == ()


def test_waived_replies_are_counted_per_actor(store: Store) -> None:
    t, clock = _tracker(store)
    for i in range(3):
        c = t.promise(
            customer=f"c{i}", owner="desk", kind="reply", what="Answer", due=within(days=1)
        )
        stored = t.get(c)
        event = Event(
            seq=len(stored.history) + 1,
            kind="cancelled",
            at=clock.now(),
            actor="bob" if i < 2 else "amy",
            data={"reason": "thanks only", "waived": True},
        )
        store.update(apply(stored, event, version=stored.version + 1), expected_version=1)
    report = t.fairness_audit()
    assert [(f.actor, f.count) for f in report.waivers] == [("bob", 2), ("amy", 1)]
    assert report.waivers[0].sentence.startswith("bob waived 2 replies")


def test_pause_right_after_the_customer_answered(store: Store) -> None:
    t, clock = _tracker(store)
    (a,) = _orders(t, clock, 1)
    if "touchpoints" not in declared_ports(store):
        t.pause(a, reason="waiting")
        report = t.fairness_audit()
        assert report.violations == ()
        assert report.skipped
        assert report.skipped[0].startswith("paused_after_customer")
        return
    store.add_touchpoint(  # type: ignore[attr-defined]
        Touchpoint(
            id="tp-1",
            tenant=t.tenant,
            customer=a.customer,
            channel="email",
            kind="received",
            at=clock.now(),
            ref="msg-1",
        )
    )
    clock.advance(minutes=20)
    t.pause(a, reason="waiting for the customer")
    (finding,) = t.fairness_audit().violations
    assert finding.rule == "paused_after_customer"
    assert finding.commitments == (a.id,)
    assert "20 minutes after cust-0 answered" in finding.sentence
    assert t.fairness_audit(pause_window=_dt.timedelta(minutes=10)).violations == ()


BAD: list[tuple[dict[str, Any], str]] = [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -3}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"resource": "FIG 1"}, "resource"),
    ({"resource": "sku:"}, "resource"),
    ({"resource": "SKU:FIG-1"}, "resource"),
    ({"resource": 7}, "resource"),
    ({"at": _dt.datetime(2026, 11, 23, 12)}, "at"),
    ({"first": ["x"]}, "reason"),
    ({"first": ["x"], "reason": "urgent"}, "actor"),
    ({"first": ["x"], "reason": "  ", "actor": "boss"}, "reason"),
    ({"first": "abc", "reason": "urgent", "actor": "boss"}, "first"),
    ({"partial": "yes"}, "partial"),
]


@pytest.mark.parametrize(("change", "argument"), BAD)
def test_bad_input_names_the_argument_and_writes_nothing(
    store: Store, change: dict[str, Any], argument: str
) -> None:
    t, clock = _tracker(store)
    _a, b = _orders(t, clock, 1, 1)
    before = _versions(t)
    call: dict[str, Any] = {"resource": SKU, "quantity": 1, **change}
    if call.get("first") == ["x"]:
        call["first"] = [b]
    with pytest.raises((InvalidArgumentError, NaiveDatetimeError)) as raised:
        t.allocate(**call)
    assert isinstance(raised.value, KeepwordError)
    assert raised.value.argument == argument
    assert _versions(t) == before


def test_first_must_be_waiting_for_this_resource(store: Store) -> None:
    t, clock = _tracker(store)
    a, b = _orders(t, clock, 1, 1)
    (other,) = _orders(t, clock, 1, sku="sku:FIG-2")
    before = _versions(t)
    for bad in ([other], ["no-such-id"]):
        with pytest.raises(InvalidArgumentError) as raised:
            t.allocate(SKU, 2, first=bad, reason="vip", actor="boss")
        assert raised.value.argument == "first"
    t.allocate(SKU, 1)
    with pytest.raises(InvalidArgumentError) as raised:
        t.allocate(SKU, 1, first=[a], reason="vip", actor="boss")  # served already
    assert raised.value.argument == "first"
    assert _versions(t)[b.id] == before[b.id]
    assert _versions(t)[other.id] == before[other.id]


def test_quantity_needs_waiting_for_and_agrees_with_terms(store: Store) -> None:
    t, _clock = _tracker(store)
    common: dict[str, Any] = {
        "customer": "c",
        "owner": "o",
        "kind": "order",
        "what": "x",
        "due": within(days=1),
    }
    with pytest.raises(InvalidArgumentError) as raised:
        t.promise(**common, quantity=2)
    assert raised.value.argument == "quantity"
    with pytest.raises(InvalidArgumentError) as raised:
        t.promise(**common, waiting_for=SKU, quantity=2, terms={"quantity": 3})
    assert raised.value.argument == "quantity"
    with pytest.raises(InvalidArgumentError) as raised:
        t.promise(**common, waiting_for=SKU, quantity=0)
    assert raised.value.argument == "quantity"
    c = t.promise(**common, waiting_for=SKU, quantity=2, terms={"colour": "red"})
    assert dict(c.terms) == {"colour": "red", "quantity": 2}
    assert store.count(t.tenant, Query()) == 1


def test_audit_window_is_checked(store: Store) -> None:
    t, _clock = _tracker(store)
    with pytest.raises(InvalidArgumentError) as raised:
        t.fairness_audit(since=T0, until=T0 - _dt.timedelta(hours=1))
    assert raised.value.argument == "since"
    with pytest.raises(NaiveDatetimeError):
        t.fairness_audit(since=_dt.datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError) as raised:
        t.fairness_audit(max_renegotiations=-1)
    assert raised.value.argument == "max_renegotiations"
