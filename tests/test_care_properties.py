"""Customer care, property-based: thread keeping, thank-you spacing, extra-mile rounds, deadlines.

Each example runs on a fresh MemoryStore (the reference store); the same
behaviour runs on every backend through the example tests in test_care.py.
"""

from __future__ import annotations

import datetime as dt
import threading

import attrs
from hypothesis import given
from hypothesis import strategies as st

from keepword import DEFAULT_PLAYBOOK, BusinessCalendar, MemoryStore, Status, within
from keepword.clock import FrozenClock
from keepword.ports import Query, Store
from keepword.tracker import Tracker

UTC = dt.UTC
WEEKDAYS = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
START = dt.datetime(2026, 12, 7, 10, tzinfo=UTC)
CALENDARS = [
    WEEKDAYS,
    BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US"),
    BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE"),
    BusinessCalendar.always_open("Asia/Tokyo"),
]


def fresh(clock: FrozenClock, **kwargs: object) -> Tracker:
    return Tracker(MemoryStore(), calendar=WEEKDAYS, tenant="shop", clock=clock, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- threads

_message = st.tuples(st.just("msg"), st.sampled_from([None, "t1", "t2"]))
_reply = st.tuples(st.just("reply"), st.integers(min_value=0, max_value=50), st.booleans())


@given(st.lists(st.one_of(_message, _reply), max_size=30))
def test_reply_keeps_the_message_and_earlier_ones_on_its_thread(steps: list[tuple]) -> None:
    clock = FrozenClock(START)
    tracker = fresh(clock)
    messages: list[tuple[str, str | None]] = []  # (ref, thread) in arrival order
    owed: set[str] = set()  # the model: refs whose reply is still owed
    for step in steps:
        clock.advance(minutes=7)
        if step[0] == "msg":
            ref = f"m{len(messages)}"
            tracker.received("acct-1", channel="email", ref=ref, thread=step[1])
            messages.append((ref, step[1]))
            owed.add(ref)
        elif messages:
            index, automated = step[1] % len(messages), step[2]
            ref, thread = messages[index]
            kept = tracker.replied(ref, automated=automated)
            if automated:
                expected: set[str] = set()
            else:
                expected = {ref} & owed
                if thread is not None:
                    expected |= {r for r, t in messages[: index + 1] if t == thread} & owed
            assert {c.terms["ref"] for c in kept} == expected
            owed -= expected
        still_open = tracker.store.find(
            "shop", Query(kind="reply", statuses={Status.OPEN, Status.PAUSED})
        )
        assert {c.terms["ref"] for c in still_open} == owed


# --------------------------------------------------------------------------- spacing


@given(
    st.integers(min_value=0, max_value=40),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=15),
)
def test_thanks_count_only_outside_the_minimum_spacing(spacing: int, gaps: list[int]) -> None:
    clock = FrozenClock(START)
    book = attrs.evolve(DEFAULT_PLAYBOOK, thank_you_spacing=dt.timedelta(days=spacing))
    tracker = fresh(clock, playbook=book)
    last_counted: dt.datetime | None = None
    counted = 0
    for gap in gaps:
        clock.advance(days=gap)
        now = clock.now()
        result = tracker.thank("acct-1", channel="card")
        expect = last_counted is None or now - last_counted >= dt.timedelta(days=spacing)
        assert result.counted == expect
        if expect:
            last_counted, counted = now, counted + 1
        assert result.next_allowed_at == last_counted + dt.timedelta(days=spacing)
    owed = tracker.owed_thanks()
    if counted < 7:
        assert [(o.customer, o.counted, o.owed) for o in owed] == [("acct-1", counted, 7 - counted)]
    else:
        assert owed == []
    assert len(tracker.touchpoints("acct-1", kind="thank_you")) == len(gaps)


# --------------------------------------------------------------------------- the extra mile


@given(
    st.integers(min_value=1, max_value=7),
    st.lists(st.integers(min_value=0, max_value=20), max_size=4),
    st.integers(min_value=1, max_value=20),
)
def test_extra_mile_never_repeats_before_everyone_had_a_turn(
    customers: int, joins: list[int], weeks: int
) -> None:
    clock = FrozenClock(START)
    tracker = fresh(clock)
    eligible = [f"acct-{i}" for i in range(customers)]
    for customer in eligible:
        tracker.touched(customer, channel="email")
    picks: dict[str, int] = {}
    for week in range(weeks):
        for n, joined in enumerate(joins):
            if joined == week:  # a new customer joins mid-round
                eligible.append(f"late-{n}")
                tracker.touched(f"late-{n}", channel="email")
        pick = tracker.extra_mile("week")
        assert pick is not None
        fewest = min(picks.get(c, 0) for c in eligible)
        assert picks.get(pick.customer, 0) == fewest  # only someone with the fewest turns
        picks[pick.customer] = picks.get(pick.customer, 0) + 1
        assert tracker.extra_mile("week") == pick  # asking again: the same pick
        clock.advance(days=7)
    assert sum(picks.values()) == weeks
    if weeks >= customers and not joins:
        assert set(picks) == set(eligible)  # a full round: everyone had a turn


@given(st.integers(min_value=2, max_value=6))
def test_extra_mile_pick_is_reproducible_from_tenant_and_period(customers: int) -> None:
    picks = set()
    for _ in range(2):
        clock = FrozenClock(START)
        tracker = fresh(clock)
        for i in reversed(range(customers)):  # a different insertion order each time
            tracker.touched(f"acct-{i}", channel="email")
        pick = tracker.extra_mile()
        assert pick is not None
        picks.add(pick.customer)
    assert len(picks) == 1


# --------------------------------------------------------------------------- deadlines


@given(
    st.sampled_from(CALENDARS),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    st.sampled_from(["email", "chat", "phone", "letter", "fax"]),
)
def test_reply_due_by_the_channel_target_on_the_customers_calendar(
    calendar: BusinessCalendar, naive: dt.datetime, channel: str
) -> None:
    at = naive.replace(tzinfo=UTC)
    clock = FrozenClock(at)
    tracker = Tracker(MemoryStore(), calendar=calendar, tenant="shop", clock=clock)
    reply = tracker.received("acct-1", channel=channel, ref="m1")
    assert reply is not None
    target = DEFAULT_PLAYBOOK.response_target(channel)
    assert reply.due_at == calendar.resolve(at, target)
    assert reply.due_at >= at
    if target.unit.startswith("business") and target.unit != "business_days":
        assert calendar.between(at, reply.due_at) == dt.timedelta(
            **{target.unit.removeprefix("business_"): target.amount}
        )


@given(
    st.datetimes(min_value=dt.datetime(2021, 1, 1), max_value=dt.datetime(2029, 1, 1)),
    st.integers(min_value=1, max_value=15),
)
def test_sale_follow_up_lands_on_a_business_day_close(naive: dt.datetime, days: int) -> None:
    calendar = CALENDARS[1]
    at = naive.replace(tzinfo=UTC)
    book = attrs.evolve(
        DEFAULT_PLAYBOOK,
        occasions={
            "sale": DEFAULT_PLAYBOOK.occasions["sale"][0].__class__(
                kind="follow_up", what="Follow up", due=within(business_days=days)
            )
        },
    )
    tracker = Tracker(
        MemoryStore(), calendar=calendar, tenant="shop", clock=FrozenClock(at), playbook=book
    )
    (follow_up,) = tracker.occurred("acct-1", "sale")
    local = follow_up.due_at.astimezone(calendar.zone)
    assert calendar.is_business_day(local.date())
    assert local.hour == 17
    business_days_between = sum(
        calendar.is_business_day(at.astimezone(calendar.zone).date() + dt.timedelta(days=i))
        for i in range(1, (local.date() - at.astimezone(calendar.zone).date()).days + 1)
    )
    assert business_days_between == days


# --------------------------------------------------------------------------- concurrency


def test_extra_mile_from_many_threads_is_one_pick(store: Store) -> None:
    clock = FrozenClock(START)
    setup = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock)
    for i in range(12):
        setup.touched(f"acct-{i}", channel="email")
    barrier = threading.Barrier(8)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock)
        barrier.wait()
        try:
            results.append(tracker.extra_mile())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({(r.customer, r.commitment.id) for r in results}) == 1  # type: ignore[attr-defined]
    assert len(setup.find(kind="extra_mile")) == 1
    assert len(store.touchpoints("shop", kind="extra_mile")) == 1


def test_same_message_from_many_threads_is_one_reply(store: Store) -> None:
    clock = FrozenClock(START)
    barrier = threading.Barrier(6)
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock)
        barrier.wait()
        try:
            reply = tracker.received("acct-1", channel="email", ref="hook-1")
            assert reply is not None
            ids.append(reply.id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1
    assert len(store.touchpoints("shop", kind="received")) == 1
