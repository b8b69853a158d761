"""Tracker.tick, next_wakeup and the outbox, through the public API, on every store.

The ``store`` fixture (tests/conftest.py) runs each test on memory and SQLite, and on
PostgreSQL and MariaDB when their URLs are set.
"""

from __future__ import annotations

import datetime as dt

import pytest

import keepword as kw
from keepword import EscalationPolicy, Step, after_due, at_due, before_due

NY = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
LADDER = EscalationPolicy(
    "standard",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(business_hours=4), notify="director"),
    ],
)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY.zone)


@pytest.fixture
def clock() -> kw.FrozenClock:
    return kw.FrozenClock(ny(2026, 11, 23, 9))  # Monday 09:00


@pytest.fixture
def tracker(store: kw.Store, clock: kw.FrozenClock) -> kw.Tracker:
    return kw.Tracker(store, calendar=NY, tenant="shop", clock=clock, policies=LADDER)


def promise_due_monday_five(tracker: kw.Tracker) -> kw.Commitment:
    return tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Send the quote",
        due=ny(2026, 11, 23, 17),
    )


def recipients(report: object) -> list[str]:
    return [n.recipient for n in report.notices]  # type: ignore[attr-defined]


def test_the_ladder_fires_owner_manager_director_each_once(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    c = promise_due_monday_five(tracker)
    assert tracker.policy_for("acct-42", kind="reply") == LADDER
    assert tracker.next_wakeup() == ny(2026, 11, 23, 15)
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 14, 59)))) == []
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 15)))) == ["owner"]
    assert recipients(tracker.tick()) == []  # ticking twice fires nothing new
    report = tracker.tick(clock.set(ny(2026, 11, 23, 17, 1)))
    assert recipients(report) == ["manager"]
    assert report.breaches == 1
    assert tracker.get(c.id).breached_at == ny(2026, 11, 23, 17)
    assert tracker.next_wakeup() == ny(2026, 11, 24, 13)
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 24, 13)))) == ["director"]
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 30, 9)))) == []
    assert tracker.next_wakeup() is None
    keys = [n.idempotency_key for n in tracker.pending_notices(limit=10)]
    assert keys == [f"{c.id}:1:0:0", f"{c.id}:1:1:0", f"{c.id}:1:2:0"]


def test_a_first_tick_on_tuesday_afternoon_fires_all_three_in_order_flagged_late(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    promise_due_monday_five(tracker)
    report = tracker.tick(clock.set(ny(2026, 11, 24, 13)))
    assert recipients(report) == ["owner", "manager", "director"]
    assert [n.late for n in report.notices] == [True, True, False]
    assert report.late == 2
    assert recipients(tracker.tick()) == []


def test_keeping_ends_the_steps(tracker: kw.Tracker, clock: kw.FrozenClock) -> None:
    c = promise_due_monday_five(tracker)
    tracker.tick(clock.set(ny(2026, 11, 23, 15)))
    tracker.keep(c.id)
    assert tracker.next_wakeup() is None
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 25, 9)))) == []


def test_renegotiating_schedules_every_step_afresh_and_keeps_the_breach(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    c = promise_due_monday_five(tracker)
    tracker.tick(clock.set(ny(2026, 11, 23, 17, 30)))  # owner and manager fired, breached
    c = tracker.renegotiate(c.id, due=ny(2026, 11, 25, 12), reason="customer agreed Wednesday")
    assert c.deadline_version == 2
    assert c.breached_at == ny(2026, 11, 23, 17)
    assert tracker.next_wakeup() == ny(2026, 11, 25, 10)
    report = tracker.tick(clock.set(ny(2026, 11, 25, 10)))
    assert recipients(report) == ["owner"]  # the reminder is sent again for the new deadline
    assert report.notices[0].idempotency_key == f"{c.id}:2:0:0"
    assert tracker.get(c.id).breached_at == ny(2026, 11, 23, 17)


def test_a_clock_that_went_backwards_fires_nothing_again(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    promise_due_monday_five(tracker)
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 17, 5)))) == ["owner", "manager"]
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 15, 30)))) == []
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 17, 6)))) == []


def test_a_paused_commitment_fires_nothing_until_resumed(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    c = promise_due_monday_five(tracker)
    tracker.pause(c.id, reason="waiting for the customer")
    assert tracker.next_wakeup() is None
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 23, 16)))) == []
    c = tracker.resume(c.id)  # 7 business hours paused: due Tuesday 16:00
    assert c.due_at == ny(2026, 11, 24, 16)
    assert recipients(tracker.tick(clock.set(ny(2026, 11, 24, 14)))) == ["owner"]


def test_reassign_and_raise_priority_actions_change_the_commitment(
    store: kw.Store, clock: kw.FrozenClock
) -> None:
    policy = EscalationPolicy(
        "hot",
        steps=[
            Step(at_due(), notify="manager", action="raise_priority"),
            Step(after_due(hours=1), notify="team-lead", action="reassign"),
        ],
    )
    tracker = kw.Tracker(store, calendar=NY, tenant="shop", clock=clock, policies=policy)
    c = promise_due_monday_five(tracker)
    report = tracker.tick(clock.set(ny(2026, 11, 23, 18, 30)))
    assert [(n.recipient, n.action) for n in report.notices] == [
        ("manager", "raise_priority"),
        ("team-lead", "reassign"),
    ]
    after = tracker.get(c.id)
    assert (after.owner, after.priority) == ("team-lead", 1)
    assert report.notices[1].owner == "team-lead"


def test_the_first_tick_past_due_records_a_breach_without_any_policy(
    store: kw.Store, clock: kw.FrozenClock
) -> None:
    tracker = kw.Tracker(store, calendar=NY, tenant="shop", clock=clock)
    c = promise_due_monday_five(tracker)
    assert tracker.tick(clock.set(ny(2026, 11, 23, 17))).breaches == 0
    report = tracker.tick(clock.set(ny(2026, 11, 23, 17, 0, 1)))
    assert (report.breaches, report.fired) == (1, 0)
    assert tracker.get(c.id).breached_at == ny(2026, 11, 23, 17)
    assert tracker.next_wakeup() is None


def test_tick_limit_reports_more_work(tracker: kw.Tracker, clock: kw.FrozenClock) -> None:
    for n in range(5):
        tracker.promise(
            customer=f"acct-{n}",
            owner="alice",
            kind="reply",
            what="Reply",
            due=ny(2026, 11, 23, 17),
        )
    first = tracker.tick(clock.set(ny(2026, 11, 23, 15)), limit=3)
    assert (first.fired, first.more) == (3, True)
    second = tracker.tick(limit=3)
    assert (second.fired, second.more) == (2, False)


def test_dispatch_acknowledges_only_what_the_handler_took(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    promise_due_monday_five(tracker)
    tracker.tick(clock.set(ny(2026, 11, 24, 13)))
    delivered: list[str] = []

    def handler(notice: kw.Notice) -> None:
        if notice.recipient == "manager":
            raise ConnectionError("mail server down")
        delivered.append(notice.recipient)

    report = tracker.dispatch(handler)
    assert report.delivered == 2
    assert [n.recipient for n, _ in report.failed] == ["manager"]
    assert [n.recipient for n in tracker.pending_notices()] == ["manager"]
    again = tracker.dispatch(lambda notice: delivered.append(notice.recipient))
    assert again.delivered == 1
    assert delivered == ["owner", "director", "manager"]
    assert tracker.pending_notices() == []


def test_a_consumer_that_dies_before_acking_gets_its_notices_redelivered(
    tracker: kw.Tracker, clock: kw.FrozenClock
) -> None:
    import time

    promise_due_monday_five(tracker)
    tracker.tick(clock.set(ny(2026, 11, 24, 13)))
    token, claimed = tracker.claim_notices(lease=dt.timedelta(milliseconds=1500))
    assert len(claimed) == 3
    assert tracker.claim_notices()[1] == []  # held by the first consumer
    time.sleep(2.0)  # the first consumer died; its lease ran out
    token2, again = tracker.claim_notices()
    assert [n.id for n in again] == [n.id for n in claimed]
    assert tracker.ack_notices([n.id for n in claimed], token) == 0  # the dead one lost them
    assert tracker.ack_notices([n.id for n in again], token2) == 3
    assert tracker.claim_notices()[1] == []


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda t: t.tick(limit=0), "limit"),
        (lambda t: t.pending_notices(limit=-1), "limit"),
        (lambda t: t.claim_notices(lease=dt.timedelta(0)), "lease"),
        (lambda t: t.ack_notices("abc", "token"), "ids"),
        (lambda t: t.tick(now=dt.datetime(2026, 1, 1)), "now"),
    ],
)
def test_bad_tick_and_outbox_arguments_are_refused(
    tracker: kw.Tracker, call: object, argument: str
) -> None:
    with pytest.raises(kw.KeepwordError) as info:
        call(tracker)  # type: ignore[operator]
    assert info.value.argument == argument
