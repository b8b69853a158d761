"""The scorecard, the breach report and service levels through the Tracker, on every store."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keepword as kw
from keepword.errors import InvalidArgumentError, MissingPortError
from keepword.measures import ScoreQuery
from keepword.scorecard import GROUPINGS, ServiceLevel, ServiceThresholds
from keepword.testing.contract.metrics import apply_plan, histories, store_history
from keepword.touchpoint import Touchpoint

UTC = dt.UTC
CAL = kw.BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
MON_9 = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def _tracker(store: kw.Store) -> tuple[kw.Tracker, kw.FrozenClock]:
    clock = kw.FrozenClock(MON_9)
    return kw.Tracker(store, calendar=CAL, tenant="shop", clock=clock), clock


def _history(tracker: kw.Tracker, clock: kw.FrozenClock) -> dict[str, kw.Commitment]:
    """Six promises: on time, late, after breach, broken, cancelled, open and overdue."""
    p = tracker.promise
    made = {
        "on_time": p(customer="c1", owner="alice", kind="reply", what="a", due=MON_9 + 4 * HOUR),
        "late": p(customer="c1", owner="alice", kind="refund", what="b", due=MON_9 + 2 * HOUR),
        "after": p(customer="c2", owner="bob", kind="refund", what="c", due=MON_9 + 2 * HOUR),
        "broken": p(customer="c2", owner="bob", kind="reply", what="d", due=MON_9 + 4 * HOUR),
        "cancelled": p(customer="c3", owner="bob", kind="reply", what="e", due=MON_9 + 4 * HOUR),
        "open": p(customer="c3", owner="carol", kind="refund", what="f", due=MON_9 + 5 * HOUR),
    }
    clock.set(MON_9 + HOUR)
    tracker.keep(made["on_time"].id)
    tracker.cancel(made["cancelled"].id, reason="not needed")
    clock.set(MON_9 + 3 * HOUR)
    tracker.tick()  # records the breaches of "late" and "after"
    tracker.keep(made["late"].id)  # 1 business hour late
    tracker.renegotiate(made["after"].id, due=MON_9 + 7 * HOUR)
    tracker.fail(made["broken"].id, reason="could not")
    clock.set(MON_9 + 4 * HOUR)
    tracker.keep(made["after"].id)  # by the new deadline: 2 h after the one it broke
    clock.set(MON_9 + 6 * HOUR)
    return made


def test_the_scorecard_counts_every_outcome(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock)
    total = tracker.scorecard().total
    assert (total.made, total.due) == (6, 5)  # "after" is now due at 16:00
    assert (total.kept_on_time, total.kept_late, total.kept_after_breach) == (1, 1, 1)
    assert (total.broken, total.cancelled, total.open, total.overdue) == (1, 1, 1, 1)
    assert total.kept == 3
    assert total.on_time_rate == pytest.approx(1 / 4)  # kept on time / (kept + broken)
    assert total.lateness_p50 == HOUR  # nearest rank of [1 h, 2 h]
    assert total.lateness_p90 == 2 * HOUR
    assert total.first_response_p50 == HOUR  # the one reply kept by a human, in 1 h
    assert total.renegotiations == 1


def test_the_scorecard_groups_by_owner_kind_customer_and_channel(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock)
    by_owner = tracker.scorecard(by="owner")
    assert [r.group for r in by_owner.rows] == ["alice", "bob", "carol"]
    assert by_owner.row("alice").kept == 2
    assert by_owner.row("bob").kept_after_breach == 1
    assert by_owner.row("bob").broken == 1
    assert by_owner.row("carol").overdue == 1
    assert by_owner.row("dave").made == 0
    assert by_owner.total == tracker.scorecard().total
    by_kind = tracker.scorecard(by="kind")
    assert {r.group: r.made for r in by_kind.rows} == {"refund": 3, "reply": 3}
    by_channel = tracker.scorecard(by="channel")
    assert [(r.group, r.made) for r in by_channel.rows] == [(None, 6)]
    by_customer = tracker.scorecard(by="customer")
    assert [c for c, _, _ in by_customer.service_levels] == ["c1", "c2", "c3"]


def test_the_window_counts_by_when_made_or_by_when_due(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock)
    assert tracker.scorecard(since=MON_9 + HOUR).total.made == 0
    assert tracker.scorecard(until=MON_9 + HOUR).total.made == 6
    due_early = tracker.scorecard(until=MON_9 + 3 * HOUR, by_due=True).total
    assert due_early.made == 1  # "late" (due 11:00); "after" is due at 16:00 now
    card = tracker.scorecard(since=MON_9, until=MON_9 + HOUR, by="owner")
    assert card.to_dict()["rows"][0]["group"] == "alice"


def test_bad_scorecard_arguments_are_refused(store: kw.Store) -> None:
    tracker, _ = _tracker(store)
    with pytest.raises(InvalidArgumentError) as err:
        tracker.scorecard(by="team")
    assert err.value.argument == "by"
    with pytest.raises(InvalidArgumentError) as err:
        tracker.scorecard(since=MON_9, until=MON_9 - HOUR)
    assert err.value.argument == "until"
    with pytest.raises(kw.NaiveDatetimeError):
        tracker.scorecard(since=dt.datetime(2026, 11, 23))


def test_a_store_without_the_metrics_port_says_so() -> None:
    class NoMetrics(kw.MemoryStore):
        ports = frozenset({"commitments", "tick_queue", "outbox"})

    tracker, _ = _tracker(NoMetrics())
    with pytest.raises(MissingPortError):
        tracker.scorecard()


def test_the_breach_report_splits_the_time_by_owner_and_pause_reason() -> None:
    tracker, clock = _tracker(kw.MemoryStore())
    c = tracker.promise(customer="k", owner="alice", kind="fix", what="x", due=MON_9 + 3 * HOUR)
    clock.set(MON_9 + HOUR)
    tracker.reassign(c.id, owner="bob")
    clock.set(MON_9 + 2 * HOUR)
    tracker.pause(c.id, reason="waiting on parts")
    clock.set(MON_9 + 4 * HOUR)
    tracker.resume(c.id)
    clock.set(MON_9 + 7 * HOUR)
    report = tracker.breach_report(c.id)
    assert report.owners == (("alice", HOUR), ("bob", 4 * HOUR))
    assert report.pauses == (("waiting on parts", 2 * HOUR),)
    assert report.breached_at is None  # the pause moved the deadline to 14:00
    tracker.keep(c.id)
    report = tracker.breach_report(c.id)
    assert report.breached_at == MON_9 + 5 * HOUR
    assert report.breach == 2 * HOUR


# --------------------------------------------------------------------------- service levels


def _touch(store: kw.MemoryStore, kind: str, at: dt.datetime, n: int, **kw_: object) -> None:
    store.add_touchpoint(
        Touchpoint(
            id=f"t{n}", tenant="shop", customer="k", channel="email", kind=kind, at=at, **kw_
        )
    )


def test_service_levels_climb_rule_by_rule() -> None:
    store = kw.MemoryStore()
    tracker, clock = _tracker(store)
    p = tracker.promise
    reply = p(customer="k", owner="o", kind="reply", what="r", due=MON_9 + 4 * HOUR)
    clock.set(MON_9 + HOUR)
    tracker.keep(reply.id)  # 1 h response, 3 h early
    level, rule = tracker.service_level("k")
    assert level is ServiceLevel.EXCEEDED  # no sale to follow up; nobody thanked yet
    assert "not delighted" in rule
    _touch(store, "thank_you", MON_9 + HOUR, 1)
    assert tracker.service_level("k")[0] is ServiceLevel.DELIGHTED
    _touch(store, "extra_mile", MON_9 + HOUR, 2)
    level, rule = tracker.service_level("k")
    assert level is ServiceLevel.AMAZED
    assert rule.startswith("amazed")
    _touch(store, "occasion", MON_9 - 10 * 24 * HOUR, 3, occasion="sale")
    level, rule = tracker.service_level("k")
    assert level is ServiceLevel.MET
    assert "1 sale without a follow-up" in rule
    strict = attrs.evolve(ServiceThresholds(), reply_target=dt.timedelta(minutes=30))
    assert "slower than the target" in tracker.service_level("k", thresholds=strict)[1]


def test_an_extra_mile_gesture_never_lifts_a_broken_promise() -> None:
    store = kw.MemoryStore()
    tracker, _ = _tracker(store)
    c = tracker.promise(customer="k", owner="o", kind="fix", what="x", due=MON_9 + HOUR)
    tracker.fail(c.id, reason="no")
    _touch(store, "thank_you", MON_9, 1)
    _touch(store, "extra_mile", MON_9, 2)
    level, rule = tracker.service_level("k")
    assert level is ServiceLevel.NOT_MET
    assert rule == "not met: 1 broken"


def test_a_late_keep_within_the_tolerance_still_meets_expectations() -> None:
    tracker, clock = _tracker(kw.MemoryStore())
    c = tracker.promise(customer="k", owner="o", kind="fix", what="x", due=MON_9 + HOUR)
    clock.set(MON_9 + 2 * HOUR)
    tracker.keep(c.id)
    assert tracker.service_level("k")[0] is ServiceLevel.NOT_MET
    lenient = ServiceThresholds(late_tolerance=HOUR)
    assert tracker.service_level("k", thresholds=lenient)[0] >= ServiceLevel.MET


def test_thresholds_are_checked() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        ServiceThresholds(early_share=2)
    assert err.value.argument == "early_share"
    with pytest.raises(InvalidArgumentError) as err:
        ServiceThresholds(reply_target=dt.timedelta(hours=-1))
    assert err.value.argument == "reply_target"


def test_care_measures_come_from_the_touchpoint_log() -> None:
    store = kw.MemoryStore()
    tracker, _ = _tracker(store)
    c = tracker.promise(customer="k", owner="o", kind="fix", what="x", due=MON_9 + HOUR)
    tracker.keep(c.id)
    _touch(store, "occasion", MON_9 + HOUR, 1, occasion="sale")
    _touch(store, "occasion", MON_9 + 2 * HOUR, 2, occasion="sale")
    _touch(store, "occasion", MON_9 + 3 * HOUR, 3, occasion="complaint")
    store.add_touchpoint(
        Touchpoint(
            id="t4",
            tenant="shop",
            customer="k2",
            channel="phone",
            kind="occasion",
            at=MON_9,
            occasion="complaint",
        )
    )
    _touch(store, "occasion", MON_9, 5, occasion="referral")
    _touch(store, "thank_you", MON_9 + HOUR, 6)
    extra = tracker.scorecard().total.extra
    assert extra["complaints_written"] == 1
    assert extra["complaints_spoken"] == 1
    assert extra["referrals"] == 1
    assert extra["repeat_customers"] == 1
    assert extra["rework"] == 1  # the complaint came 3 h after a keep
    assert extra["thank_you_coverage"] == 1.0


def test_fairness_findings_count_what_the_audit_of_the_window_found() -> None:
    from keepword.services.measuring import fairness_findings

    assert fairness_findings(["late for acct-1", "skipped acct-2"]) == 2
    assert fairness_findings(42) is None  # not a count of anything

    class Report:
        findings = ("one",)

    assert fairness_findings(Report()) == 1

    seen: list[tuple[dt.datetime | None, dt.datetime | None]] = []

    class Audited(kw.Tracker):
        def fairness_audit(  # type: ignore[override]
            self, since: dt.datetime | None = None, until: dt.datetime | None = None
        ) -> list[str]:
            seen.append((since, until))
            return ["queue jumped"]

    tracker = Audited(kw.MemoryStore(), calendar=CAL, tenant="shop", clock=kw.FrozenClock(MON_9))
    assert tracker.scorecard(since=MON_9).total.extra["fairness_findings"] == 1
    assert seen == [(MON_9, None)]  # the audit covers the scorecard's window

    class NoWaitlists(kw.MemoryStore):
        ports = frozenset({"commitments", "tick_queue", "outbox", "touchpoints", "metrics"})

    plain = kw.Tracker(NoWaitlists(), calendar=CAL, tenant="shop", clock=kw.FrozenClock(MON_9))
    assert "fairness_findings" not in plain.scorecard().total.extra


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    plans=histories(),
    by=st.sampled_from(GROUPINGS),
    now_minutes=st.integers(0, 20 * 24 * 60),
)
def test_the_figures_add_up(plans: list, by: str, now_minutes: int) -> None:
    store = kw.MemoryStore()
    store_history(store, [apply_plan("t", plan) for plan in plans])
    q = ScoreQuery(by=by, now=MON_9 + dt.timedelta(minutes=now_minutes))
    rows, total = store.score_rows("t", q)
    closed = total.kept + total.broken + total.cancelled + total.waived
    assert total.made == closed + total.open == len(plans)
    assert total.overdue <= total.open
    assert total.kept_not_as_promised <= total.kept
    for name in (
        "made",
        "due",
        "kept_on_time",
        "kept_late",
        "kept_after_breach",
        "broken",
        "cancelled",
        "waived",
        "open",
        "overdue",
        "renegotiations",
        "escalations",
    ):
        assert sum(getattr(r, name) for r in rows) == getattr(total, name), name
    for row in (*rows, total):
        if row.on_time_rate is not None:
            assert 0 <= row.on_time_rate <= 1
            assert row.on_time_rate == row.kept_on_time / (row.kept + row.broken)
        for low, high in (
            (row.lateness_p50, row.lateness_p90),
            (row.breach_p50, row.breach_p90),
            (row.first_response_p50, row.first_response_p90),
        ):
            assert (low is None) == (high is None)
            if low is not None and high is not None:
                assert dt.timedelta(0) <= low <= high


# --------------------------------------------------------------------------- where the time went


def test_the_scorecard_says_where_the_time_of_breached_promises_went(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    slow = tracker.promise(customer="k", owner="alice", kind="fix", what="x", due=MON_9 + 2 * HOUR)
    also = tracker.promise(customer="k", owner="bob", kind="fix", what="y", due=MON_9 + 2 * HOUR)
    fine = tracker.promise(customer="k", owner="alice", kind="fix", what="z", due=MON_9 + 8 * HOUR)
    clock.set(MON_9 + HOUR)
    tracker.reassign(slow.id, owner="bob")  # alice held it 1 h
    tracker.pause(also.id, reason="waiting on parts")  # bob held it 1 h
    clock.set(MON_9 + 2 * HOUR)
    tracker.keep(fine.id)  # kept on time: not a breached promise, not counted
    clock.set(MON_9 + 4 * HOUR)
    tracker.tick()  # records slow's breach at 11:00
    tracker.keep(slow.id)  # bob held it 3 h
    tracker.resume(also.id)  # 3 h paused: its deadline moves to 14:00
    clock.set(MON_9 + 6 * HOUR)
    tracker.fail(also.id, reason="no parts")  # bob held it 2 more hours, then it broke
    card = tracker.scorecard(by="owner")
    assert card.total.time_by_owner == (("bob", 6 * HOUR), ("alice", HOUR))
    assert card.total.time_by_pause == (("waiting on parts", 3 * HOUR),)
    assert card.row("alice").time_by_owner == ()  # alice's own promise was kept on time
    # bob owns both late promises now; alice held one of them for an hour first
    assert card.row("bob").time_by_owner == (("bob", 6 * HOUR), ("alice", HOUR))
    assert card.row("bob").time_by_pause == (("waiting on parts", 3 * HOUR),)
    report = tracker.breach_report(slow.id)
    assert report.owners == (("alice", HOUR), ("bob", 3 * HOUR))
    assert card.to_dict()["total"]["time_by_owner"] == [["bob", 21600.0], ["alice", 3600.0]]


@settings(max_examples=60)
@given(plans=histories(max_size=6))
def test_a_promises_time_is_neither_lost_nor_counted_twice(plans: list[dict[str, object]]) -> None:
    """Every span of a promise's time is held by one owner or one pause: they add up exactly."""
    from keepword.measures import time_spans
    from keepword.transitions import _open_between

    for plan in plans:
        c = apply_plan("t", plan)
        spans = time_spans(c)
        assert len(spans) == len(c.history) - 1
        last = c.made_at
        for event in c.history[1:]:
            at = (
                dt.datetime.fromisoformat(event.data["kept_at"])
                if event.kind == "kept"
                else event.at
            )
            last = max(last, at)
        held = sum(us for _, _, us in spans)
        assert held == _open_between(c.calendar, c.made_at, last) // dt.timedelta(microseconds=1)
        assert {kind for kind, _, _ in spans} <= {"owner", "pause"}


# --------------------------------------------------------------------------- rework


def test_a_promise_reopened_soon_after_its_keep_counts_as_rework(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    fixed = tracker.promise(
        customer="k", owner="alice", kind="fix", what="Fix it", due=MON_9 + HOUR
    )
    old = tracker.promise(customer="k", owner="bob", kind="fix", what="Paint", due=MON_9 + HOUR)
    tracker.keep(fixed.id)
    tracker.keep(old.id)
    clock.set(MON_9 + dt.timedelta(days=2))  # Wednesday: 2 business days after the keep
    again = tracker.reopen(fixed.id, due=kw.within(business_days=1), reason="leaking again")
    assert again.id != fixed.id
    assert (again.customer, again.kind, again.owner, again.what) == ("k", "fix", "alice", "Fix it")
    assert again.history[0].data["reopens"]["id"] == fixed.id
    assert tracker.get(fixed.id).status is kw.Status.KEPT  # the keep stands
    clock.set(MON_9 + dt.timedelta(days=14))  # ten business days later: not rework
    later = tracker.reopen(old, due=kw.within(business_days=1), reason="touch-up", owner="carol")
    assert later.owner == "carol"
    assert later.history[0].data["reopens"]["rework"] is False
    card = tracker.scorecard(by="owner")
    assert card.row("alice").extra["reopened"] == 1
    assert card.row("carol").extra["reopened"] == 0
    assert card.total.extra["reopened"] == 1
    assert card.total.extra["rework"] == 1  # the one reopened in time; no complaints
    with pytest.raises(kw.InvalidTransitionError):
        tracker.reopen(again.id, due=kw.within(business_days=1), reason="not kept yet")
    with pytest.raises(InvalidArgumentError) as err:
        tracker.reopen(fixed.id, due=kw.within(business_days=1), reason=" ")
    assert err.value.argument == "reason"
    with pytest.raises(InvalidArgumentError) as err:
        tracker.reopen(fixed.id, due=MON_9, reason="late")
    assert err.value.argument == "due"
    assert tracker.scorecard().total.made == 4  # the refused reopens stored nothing
