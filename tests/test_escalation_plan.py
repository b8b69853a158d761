"""The pure escalation plan: when each step fires, in what order, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword.calendar import BusinessCalendar, within
from keepword.errors import InvalidArgumentError, NaiveDatetimeError
from keepword.escalation import (
    EscalationPolicy,
    Match,
    PolicySet,
    Step,
    Trigger,
    after_due,
    at_due,
    before_due,
    due_now,
    elapsed,
    plan,
)
from tests.support.builders import notice_fields

UTC = dt.UTC
NINE_TO_FIVE = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NINE_TO_FIVE.zone).astimezone(UTC)


LADDER = EscalationPolicy(
    "standard",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(business_hours=4), notify="director"),
    ],
)


def test_hand_worked_ladder_fires_owner_manager_director_in_order() -> None:
    firings = plan(LADDER, ny(2026, 11, 23, 9), ny(2026, 11, 23, 17), NINE_TO_FIVE)
    assert [(f.step.notify, f.at) for f in firings] == [
        ("owner", ny(2026, 11, 23, 15)),
        ("manager", ny(2026, 11, 23, 17)),
        ("director", ny(2026, 11, 24, 13)),
    ]


def test_a_first_tick_on_tuesday_afternoon_fires_all_three_in_order() -> None:
    firings = plan(LADDER, ny(2026, 11, 23, 9), ny(2026, 11, 23, 17), NINE_TO_FIVE)
    due, cursor, next_at = due_now(firings, 0, ny(2026, 11, 24, 13))
    assert [f.step.notify for f in due] == ["owner", "manager", "director"]
    assert (cursor, next_at) == (3, None)
    assert due_now(firings, cursor, ny(2026, 11, 24, 14))[0] == []


def test_ticking_just_after_five_fires_the_manager_once() -> None:
    firings = plan(LADDER, ny(2026, 11, 23, 9), ny(2026, 11, 23, 17), NINE_TO_FIVE)
    due, cursor, next_at = due_now(firings, 0, ny(2026, 11, 23, 15))
    assert [f.step.notify for f in due] == ["owner"]
    due, cursor, next_at = due_now(firings, cursor, ny(2026, 11, 23, 17, 1))
    assert [f.step.notify for f in due] == ["manager"]
    assert next_at == ny(2026, 11, 24, 13)
    assert due_now(firings, cursor, ny(2026, 11, 23, 17, 2))[0] == []


def test_a_quiet_reminder_at_night_is_held_to_the_next_opening() -> None:
    policy = EscalationPolicy("q", steps=[Step(before_due(hours=8), notify="owner", quiet=True)])
    (firing,) = plan(policy, ny(2026, 11, 20, 9), ny(2026, 11, 23, 10), NINE_TO_FIVE)
    assert firing.at == ny(2026, 11, 23, 9)  # 02:00 Monday held to 09:00


def test_repeats_fire_every_interval_a_bounded_number_of_times() -> None:
    policy = EscalationPolicy(
        "nag",
        steps=[Step(after_due(hours=1), notify="owner", every=dt.timedelta(hours=2), times=3)],
    )
    firings = plan(policy, ny(2026, 11, 23, 9), ny(2026, 11, 23, 12), NINE_TO_FIVE)
    assert [f.at for f in firings] == [ny(2026, 11, 23, h) for h in (13, 15, 17)]
    assert [f.key("c1", 1) for f in firings] == ["c1:1:0:0", "c1:1:0:1", "c1:1:0:2"]


def test_elapsed_fires_at_a_fraction_of_the_window_in_real_or_business_time() -> None:
    made, due = ny(2026, 11, 20, 16), ny(2026, 11, 23, 12)  # 4 business hours
    real = elapsed(0.5).at(made, due, NINE_TO_FIVE)
    business = elapsed(0.5, business=True).at(made, due, NINE_TO_FIVE)
    assert real == made + (due - made) / 2
    assert business == ny(2026, 11, 23, 10)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: Step(after_due(hours=1), every=dt.timedelta(hours=1)), "times"),
        (lambda: Step(at_due(), times=0), "times"),
        (lambda: Step(at_due(), times=2), "every"),
        (lambda: Step(at_due(), action="explode"), "action"),
        (lambda: Step(at_due(), quiet=True), "quiet"),
        (lambda: Step(after_due(hours=1), quiet=True), "quiet"),
        (lambda: Step(at_due(), notify=""), "notify"),
        (lambda: elapsed(0), "fraction"),
        (lambda: elapsed(1.5), "fraction"),
        (lambda: elapsed(float("nan")), "fraction"),
        (lambda: before_due(), "before_due"),
        (lambda: before_due(hours=-1), "hours"),
        (lambda: after_due(hours=1, minutes=5), "after_due"),
        (lambda: EscalationPolicy(""), "name"),
        (lambda: PolicySet([EscalationPolicy("all"), EscalationPolicy("b")]), "policies"),
        (lambda: PolicySet([EscalationPolicy("a"), EscalationPolicy("a")]), "policies"),
        (lambda: Step("at_due"), "trigger"),  # type: ignore[arg-type]
    ],
)
def test_bad_policies_are_refused_naming_the_argument(build: object, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        build()  # type: ignore[operator]
    assert info.value.argument == argument


def test_policy_set_picks_the_first_match_and_the_catch_all_last() -> None:
    vip = EscalationPolicy("vip", match=Match(tags={"vip"}))
    replies = EscalationPolicy("replies", match={"kinds": ["reply"]})
    default = EscalationPolicy("default")
    policies = PolicySet([vip, replies, default])
    assert policies.select(kind="reply", tags=("vip",)) is vip
    assert policies.select(kind="reply") is replies
    assert policies.select(kind="ship") is default
    assert PolicySet([vip]).select(kind="ship") is None


def test_policy_snapshots_round_trip_and_versions_follow_content() -> None:
    again = EscalationPolicy.from_dict(LADDER.to_dict())
    assert again == LADDER
    assert again.version == LADDER.version
    edited = EscalationPolicy("standard", steps=[*LADDER.steps, Step(at_due(), notify="ceo")])
    assert edited.version != LADDER.version


def test_triggers_round_trip_through_text() -> None:
    for trigger in (
        before_due(business_hours=4),
        at_due(),
        after_due(minutes=30),
        elapsed(0.25, business=True),
    ):
        assert Trigger.parse(trigger.to_string()) == trigger


# ----------------------------------------------------------------- properties

offsets = st.sampled_from(["hours", "minutes", "business_hours", "business_minutes"]).flatmap(
    lambda unit: st.integers(1, 40).map(lambda n: {unit: n})
)
triggers = st.one_of(
    offsets.map(lambda kw: before_due(**kw)),
    offsets.map(lambda kw: after_due(**kw)),
    st.just(at_due()),
    st.floats(0.01, 1.0).flatmap(lambda f: st.booleans().map(lambda b: elapsed(f, business=b))),
)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    trigger = draw(triggers)
    times = draw(st.integers(1, 4))
    every = draw(st.integers(1, 10).map(lambda n: within(business_hours=n))) if times > 1 else None
    quiet = draw(st.booleans()) and not trigger.is_breach
    return Step(
        trigger,
        notify=draw(st.sampled_from(["owner", "manager"])),
        every=every,
        times=times,
        quiet=quiet,
    )


policies = st.lists(steps(), min_size=1, max_size=4).map(lambda s: EscalationPolicy("p", steps=s))
starts = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 1), timezones=st.just(UTC)
)


@given(policy=policies, made=starts, hours=st.integers(1, 200), data=st.data())
def test_ticks_fire_every_planned_step_once_in_order(
    policy: EscalationPolicy, made: dt.datetime, hours: int, data: st.DataObject
) -> None:
    due = made + dt.timedelta(hours=hours)
    firings = plan(policy, made, due, NINE_TO_FIVE)
    assert len(firings) == sum(s.times or 1 for s in policy.steps)
    assert list(firings) == sorted(firings, key=lambda f: (f.at, f.step_index, f.repeat))
    assert len({f.key("c", 1) for f in firings}) == len(firings)
    for firing in firings:
        if firing.step.quiet:
            assert NINE_TO_FIVE.is_open(firing.at)
    # brute force: tick at random increasing instants; each firing fires once, at the
    # first tick at or after its time, and in plan order
    gaps = data.draw(st.lists(st.integers(0, 72 * 60), min_size=1, max_size=30))
    tick, cursor, fired = made - dt.timedelta(days=30), 0, []
    ticks = []
    for gap in gaps:
        tick += dt.timedelta(minutes=gap)
        ticks.append(tick)
        due_list, cursor, _ = due_now(firings, cursor, tick)
        fired.extend((f, tick) for f in due_list)
    assert [f for f, _ in fired] == [f for f in firings if f.at <= ticks[-1]]
    for firing, when in fired:
        assert when == min(t for t in ticks if t >= firing.at)


def test_notices_built_from_storage_equal_checked_ones_and_refuse_unknown_fields() -> None:
    """``notice_from_storage`` and the trusted constructor build the value ``Notice`` builds."""
    from keepword.notice import Notice, NoticeState, _trusted_notice, notice_from_storage

    t = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)
    fields = notice_fields(t, late=True)
    built = notice_from_storage(**fields)
    assert built == Notice(**fields)
    assert built.state is NoticeState.PENDING
    assert built.late
    assert not built.breach
    assert _trusted_notice(**fields) == built
    for build in (notice_from_storage, _trusted_notice):
        with pytest.raises(TypeError, match="unknown fields \\['colour'\\]"):
            build(**fields, colour="red")
        with pytest.raises(TypeError, match="missing \\['owner'\\]"):
            build(**{k: v for k, v in fields.items() if k != "owner"})


@pytest.mark.parametrize("argument", ["due_at", "scheduled_at", "fired_at", "acked_at"])
def test_notices_from_storage_convert_instants_and_refuse_naive_ones(argument: str) -> None:
    from zoneinfo import ZoneInfo

    from keepword.notice import NoticeState, notice_from_storage

    t = dt.datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("America/New_York"))
    fields: dict[str, object] = notice_fields(t, state="acked", acked_at=t)
    built = notice_from_storage(**fields)
    assert getattr(built, argument) == t
    assert getattr(built, argument).tzinfo is dt.UTC
    assert built.state is NoticeState.ACKED
    with pytest.raises(NaiveDatetimeError) as naive:
        notice_from_storage(**{**fields, argument: t.replace(tzinfo=None)})
    assert naive.value.argument == argument
    with pytest.raises(InvalidArgumentError) as wrong:
        notice_from_storage(**{**fields, argument: t.isoformat()})
    assert wrong.value.argument == argument
