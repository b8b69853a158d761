"""A renegotiation moves a deadline; it never launders a breach.

Examples (the issue's own: due Mon 13:00, breach recorded by the 14:00 tick,
renegotiated to Tue 17:00, kept Tue 10:00) and properties over random
histories of renegotiations, pauses, ticks and keeps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import keepword as kw
from keepword import transitions as kt
from keepword._instant import from_iso
from keepword.commitment import Commitment, replay
from keepword.errors import InvalidArgumentError, InvalidTransitionError
from keepword.explain import explain
from keepword.measures import measures_of
from keepword.testing.contract.metrics import _CALENDAR, apply_plan

UTC = dt.UTC
CAL = kw.BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
MON_9 = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
MON_13 = dt.datetime(2026, 11, 23, 13, tzinfo=UTC)
MON_14 = dt.datetime(2026, 11, 23, 14, tzinfo=UTC)
TUE_10 = dt.datetime(2026, 11, 24, 10, tzinfo=UTC)
TUE_17 = dt.datetime(2026, 11, 24, 17, tzinfo=UTC)


def _promise(due: dt.datetime = MON_13) -> Commitment:
    c, _ = kt.promise(
        id="c-1",
        tenant="shop",
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Call back",
        now=MON_9,
        calendar=CAL,
        due=due,
    )
    return c


def test_renegotiated_after_the_breach_and_kept_by_the_new_deadline_is_kept_after_breach() -> None:
    c = _promise()
    c, _ = kt.mark_breached(c, now=MON_14)  # the 14:00 tick
    c, _ = kt.renegotiate(c, now=MON_14, due=TUE_17)
    kept, events = kt.keep(c, now=TUE_10)
    assert not kept.on_time
    assert kept.kept_after_breach
    assert events[-1].data["on_time"] is False
    assert events[-1].data["after_breach"] is True
    # lateness against the deadline it broke: Mon 13:00 -> Tue 10:00 is 4 + 1 business hours
    assert kept.lateness == dt.timedelta(hours=5)
    assert measures_of(kept).outcome == "after_breach"
    assert "kept after breach: 5 h of business time past the deadline it missed" in explain(kept)


def test_renegotiated_after_the_deadline_without_a_tick_is_still_after_breach() -> None:
    c = _promise()
    c, events = kt.renegotiate(c, now=MON_14, due=TUE_17)
    assert [e.kind for e in events] == ["breached", "renegotiated"]
    kept, _ = kt.keep(c, now=TUE_10)
    assert kept.kept_after_breach
    assert not kept.on_time


def test_renegotiated_before_the_deadline_stays_on_time() -> None:
    c = _promise()
    c, _ = kt.renegotiate(c, now=MON_9 + dt.timedelta(hours=2), due=TUE_17)
    kept, events = kt.keep(c, now=TUE_10)
    assert kept.on_time
    assert not kept.kept_after_breach
    assert kept.lateness == dt.timedelta(0)
    assert events[-1].data == {"kept_at": TUE_10.isoformat(), "on_time": True, "lateness_us": 0}
    assert measures_of(kept).outcome == "on_time"
    assert explain(kept).endswith("kept on time")


def test_kept_late_after_the_renegotiated_deadline_is_late_against_it() -> None:
    c = _promise()
    c, _ = kt.renegotiate(c, now=MON_14, due=TUE_10)
    kept, _ = kt.keep(c, now=TUE_17)
    assert not kept.on_time
    assert not kept.kept_after_breach
    assert kept.lateness == dt.timedelta(hours=7)
    assert measures_of(kept).outcome == "late"


def test_a_keep_dated_before_the_missed_deadline_is_on_time() -> None:
    c = _promise()
    c, _ = kt.mark_breached(c, now=MON_14)
    kept, _ = kt.keep(c, now=MON_14, kept_at=MON_13 - dt.timedelta(minutes=5))
    assert kept.on_time


def test_a_keep_on_changed_terms_is_recorded_and_counted_apart() -> None:
    c = _promise()
    kept, events = kt.keep(c, now=MON_9, as_promised=False, deviation={"price": "45.00"})
    assert events[-1].data["as_promised"] is False
    assert events[-1].data["deviation"] == {"price": "45.00"}
    assert kept.on_time
    assert measures_of(kept).as_promised is False
    assert measures_of(kt.keep(c, now=MON_9)[0]).as_promised is True


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"as_promised": "no"}, "as_promised"),
        ({"deviation": {"price": 1}}, "deviation"),
        ({"as_promised": False, "deviation": ["price"]}, "deviation"),
        ({"as_promised": False, "deviation": {"price": float("nan")}}, "deviation"),
    ],
)
def test_bad_keep_terms_are_refused_naming_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        kt.keep(_promise(), now=MON_9, **kwargs)
    assert err.value.argument == argument


def test_the_tracker_keeps_on_changed_terms() -> None:
    clock = kw.FrozenClock(MON_9)
    tracker = kw.Tracker(kw.MemoryStore(), calendar=CAL, tenant="shop", clock=clock)
    c = tracker.promise(customer="k", owner="o", kind="refund", what="Refund", due=MON_13)
    kept = tracker.keep(c.id, as_promised=False, deviation={"amount": "40.00"})
    assert kept.history[-1].data["deviation"] == {"amount": "40.00"}
    card = tracker.scorecard()
    assert card.total.kept_not_as_promised == 1
    assert card.total.extra["kept_as_promised"] == 0


# --------------------------------------------------------------------------- properties

_ops = st.lists(
    st.tuples(
        st.sampled_from(["renegotiate", "tick", "pause", "resume", "keep"]),
        st.integers(1, 3 * 24 * 60),
        st.integers(1, 40),
    ),
    max_size=8,
)


def _run(ops: list[tuple[str, int, int]]) -> tuple[Commitment, list[tuple[dt.datetime, str]]]:
    """Apply ``ops`` (legal ones) to a fresh promise; the renegotiations' (time, kind) log."""
    c = _promise(due=MON_9 + dt.timedelta(hours=4))
    now = MON_9
    log = []
    for op, minutes, hours in ops:
        now = now + dt.timedelta(minutes=minutes)
        try:
            if op == "renegotiate":
                late = now > c.due_at
                c, _ = kt.renegotiate(c, now=now, due=kw.within(business_hours=hours))
                log.append((now, "after" if late else "before"))
            elif op == "tick":
                c, _ = kt.mark_breached(c, now=now)
            elif op == "pause":
                c, _ = kt.pause(c, now=now, reason="waiting")
            elif op == "resume":
                c, _ = kt.resume(c, now=now)
            else:
                c, _ = kt.keep(c, now=now)
        except (InvalidTransitionError, InvalidArgumentError):
            continue
    return c, log


@given(_ops)
def test_a_keep_is_exactly_one_of_on_time_late_or_after_breach(ops: list) -> None:
    c, _ = _run(ops)
    if c.status is not kw.Status.KEPT:
        return
    assert c.kept_at is not None
    late = c.kept_at > c.due_at
    assert [c.on_time, late, c.kept_after_breach].count(True) == 1
    data = c.history[-1].data
    assert data["on_time"] is c.on_time
    assert data.get("after_breach", False) is c.kept_after_breach
    assert replay(c.history, version=c.version) == c


@given(_ops)
def test_a_breach_is_never_laundered(ops: list) -> None:
    """On time only if no deadline in force had passed before it was kept or moved."""
    c, log = _run(ops)
    if c.status is not kw.Status.KEPT:
        return
    assert c.kept_at is not None
    missed = [e for e in c.history if e.kind == "breached"]
    if any(kind == "after" for _, kind in log):
        assert not c.on_time  # a deadline renegotiated after it had passed
    if c.on_time:
        assert c.lateness == dt.timedelta(0)
        assert all(from_iso(e.data["due_at"], "d") >= c.kept_at for e in missed)
    if c.kept_after_breach:
        assert c.breached_at is not None
        assert c.lateness == CAL.between(c.breached_at, c.kept_at)


@given(_ops)
def test_renegotiating_only_before_each_deadline_and_keeping_in_time_is_on_time(ops: list) -> None:
    c, log = _run(ops)
    if c.status is not kw.Status.KEPT or c.kept_at is None:
        return
    breaches = [e for e in c.history if e.kind == "breached"]
    if all(kind == "before" for _, kind in log) and not breaches and c.kept_at <= c.due_at:
        assert c.on_time


@given(st.lists(st.tuples(st.sampled_from(["keep", "keep_changed", "fail"]), st.integers(0, 600))))
def test_measures_agree_with_the_commitment(ops: list) -> None:
    plan = {
        "made": 0,
        "hours": 3,
        "owner": "alice",
        "kind": "reply",
        "customer": "c1",
        "channel": None,
        "policy": False,
        "quoted": False,
        "ops": ops,
    }
    c = apply_plan("t", plan)
    m = measures_of(c)
    if c.status is kw.Status.KEPT:
        assert m.outcome in ("on_time", "late", "after_breach")
        assert (m.outcome == "on_time") is c.on_time
        assert m.turnaround_us == _CALENDAR.between(c.made_at, c.kept_at) // dt.timedelta(
            microseconds=1
        )
        assert m.response_us == m.turnaround_us
    elif c.status is kw.Status.BROKEN:
        assert m.outcome == "broken"
    else:
        assert m.outcome is None
