"""Hostile escalation policies and transition arguments are refused where they are built.

Every text field refuses a NUL byte and a lone surrogate, every offset and
repeat is bounded, and every bad argument is a ``KeepwordError`` naming it, so
nothing invalid reaches a store.  A commitment whose deadline lies outside the
calendars' years (stored by an older writer) stays keepable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keepword as kw
from keepword import transitions as kt
from keepword._json import MAX_JSON_DEPTH, freeze_json
from keepword.calendar import Within, within
from keepword.commitment import Commitment, Event, Status, replay
from keepword.errors import CalendarError, InvalidArgumentError, KeepwordError
from keepword.escalation import (
    MAX_SPAN,
    EscalationPolicy,
    Match,
    PolicySet,
    Step,
    Trigger,
    after_due,
    at_due,
    before_due,
    elapsed,
    plan,
)
from keepword.notice import Notice, notice_from_storage
from keepword.testing.strategies import invalid_texts
from tests.support.backends import open_store
from tests.support.builders import notice_fields

UTC = dt.UTC
NY = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
ALWAYS = kw.BusinessCalendar.always_open("UTC")
NOW = dt.datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 10:00 in New York


def refused(build: Callable[[], object], argument: str) -> InvalidArgumentError:
    """The ``InvalidArgumentError`` ``build()`` raises; it must name ``argument``."""
    with pytest.raises(InvalidArgumentError) as info:
        build()
    assert info.value.argument == argument, info.value
    return info.value


# ----------------------------------------------------------------- hostile text


def _notice_fields() -> dict[str, Any]:
    return notice_fields(NOW)


def _notice_with(field: str) -> Callable[[str], object]:
    return lambda text: Notice(**{**_notice_fields(), field: text})


TEXT_FIELDS: dict[str, Callable[[str], object]] = {
    "notify": lambda s: Step(at_due(), notify=s),
    "name": lambda s: Step(at_due(), name=s),
    "policy name": lambda s: EscalationPolicy(s),
    "kinds[0]": lambda s: Match(kinds=[s]),
    "tags[0]": lambda s: Match(tags=[s]),
    "tiers[1]": lambda s: Match(tiers=["gold", s]),
    "match": lambda s: EscalationPolicy("p", match={"kinds": ["reply", s]}),
    "trigger": lambda s: Trigger.parse(s),
    **{
        f"notice {field}": _notice_with(field)
        for field in (
            "id",
            "tenant",
            "idempotency_key",
            "commitment_id",
            "step",
            "recipient",
            "customer",
            "owner",
            "kind",
            "what",
        )
    },
}
ARGUMENT = {
    "policy name": "name",
    "match": "kinds[1]",
    **{f"notice {f}": f for f in ("id", "tenant", "idempotency_key", "commitment_id")},
    **{f"notice {f}": f for f in ("step", "recipient", "customer", "owner", "kind", "what")},
}


@pytest.mark.parametrize("field", sorted(TEXT_FIELDS))
@given(text=invalid_texts())
@settings(max_examples=40)
def test_every_text_field_refuses_nul_and_lone_surrogates_naming_it(field: str, text: str) -> None:
    error = refused(lambda: TEXT_FIELDS[field](text), ARGUMENT.get(field, field))
    assert "NUL" in error.message or "surrogate" in error.message


def test_the_reported_poison_steps_are_refused_at_construction() -> None:
    refused(lambda: Step(at_due(), name="\ud800"), "name")
    refused(lambda: Step(at_due(), notify="\ud800"), "notify")
    refused(lambda: Step(at_due(), name="a\x00b"), "name")
    refused(lambda: Step(at_due(), notify="a\x00b"), "notify")
    refused(lambda: Step(at_due(), notify="x" * 256, action="reassign"), "notify")
    refused(lambda: Step(at_due(), notify="   "), "notify")
    refused(lambda: Step(at_due(), name=""), "name")
    refused(lambda: Step(at_due(), name=5), "name")  # type: ignore[arg-type]
    refused(lambda: Step(at_due(), quiet="yes"), "quiet")  # type: ignore[arg-type]
    refused(lambda: Step(at_due(), action=["notify"]), "action")  # type: ignore[arg-type]
    refused(lambda: EscalationPolicy("  "), "name")
    refused(lambda: EscalationPolicy("x" * 256), "name")


# ----------------------------------------------------------------- offsets and repeats

UNIT_MINUTES = {
    "minutes": 1,
    "business_minutes": 1,
    "hours": 60,
    "business_hours": 60,
    "days": 1440,
}
LIMIT = {unit: MAX_SPAN // dt.timedelta(minutes=per) for unit, per in UNIT_MINUTES.items()}


@given(
    unit=st.sampled_from(sorted(UNIT_MINUTES)),
    over=st.integers(1, 10**30) | st.floats(1, 1e300),
    maker=st.sampled_from([before_due, after_due]),
)
def test_offsets_beyond_100_years_are_refused_naming_the_unit(
    unit: str, over: float, maker: Callable[..., Trigger]
) -> None:
    amount = LIMIT[unit] + over
    if unit == "days":
        amount = int(amount)
    error = refused(lambda: Step(maker(**{unit: amount})), unit)
    assert "100 years" in error.message


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: after_due(hours=1e8), "hours"),
        (lambda: before_due(days=10**6), "days"),
        (lambda: after_due(hours=1e12), "hours"),
        (lambda: after_due(hours=float("inf")), "hours"),
        (lambda: after_due(minutes=float("nan")), "minutes"),
        (lambda: after_due(hours=True), "hours"),
        (lambda: after_due(hours="1"), "hours"),
        (lambda: before_due(days=1.5), "days"),
        (lambda: Trigger("before_due", Within("hours", 10**9)), "hours"),
        (lambda: Trigger("after_due", Within("business_days", 1)), "business_days"),
        (lambda: Trigger("soon"), "kind"),
        (lambda: Trigger(["at_due"]), "kind"),
        (lambda: Trigger("before_due"), "offset"),
        (lambda: Trigger("at_due", Within("hours", 1)), "offset"),
        (lambda: Trigger("elapsed"), "fraction"),
        (lambda: Trigger("elapsed", fraction=2.0), "fraction"),
        (lambda: Trigger("elapsed", fraction=0.5, business="yes"), "business"),
        (lambda: Trigger("at_due", fraction=0.5), "fraction"),
        (lambda: Trigger.parse(5), "trigger"),
        (lambda: Trigger.parse("elapsed(half)"), "trigger"),
        (lambda: Step(at_due(), every=dt.timedelta.max, times=2), "every"),
        (lambda: Step(at_due(), every=dt.timedelta(days=-1), times=2), "every"),
        (lambda: Step(at_due(), every=within(hours=0), times=2), "every"),
        (lambda: Step(at_due(), every=within(days=36_601), times=2), "every"),
        (lambda: Step(at_due(), every=within(days=100), times=368), "every"),
        (lambda: Step(at_due(), every=within(business_days=1), times=2), "every"),
        (lambda: Step(at_due(), every="hours=lots", times=2), "every"),
        (lambda: Step(at_due(), every=2.5, times=2), "every"),
        (lambda: Step(at_due(), every=within(hours=1), times=10**6), "times"),
        (lambda: Step(at_due(), every=within(hours=1), times=True), "times"),
        (lambda: Step(at_due(), every=within(hours=1), times="3"), "times"),
    ],
)
def test_bad_offsets_and_repeats_are_refused_naming_the_argument(
    build: Callable[[], object], argument: str
) -> None:
    refused(build, argument)


@st.composite
def bounded_steps(draw: st.DrawFn) -> Step:
    """Any step with offsets and repeats up to the bounds, on any unit."""
    unit = draw(st.sampled_from(sorted(UNIT_MINUTES)))
    amount = draw(st.integers(0, LIMIT[unit]))
    trigger = draw(
        st.sampled_from([before_due(**{unit: amount}), after_due(**{unit: amount}), at_due()])
        | st.floats(0.01, 1).map(lambda f: elapsed(f, business=True))
    )
    times = draw(st.integers(1, 5))
    if times == 1:
        return Step(trigger)
    every_unit = draw(st.sampled_from(["hours", "business_hours", "days", "minutes"]))
    every = draw(st.integers(1, LIMIT[every_unit] // (times - 1)))
    quiet = draw(st.booleans()) and not trigger.is_breach
    return Step(trigger, every=Within(every_unit, every), times=times, quiet=quiet)


@given(
    steps=st.lists(bounded_steps(), min_size=1, max_size=3),
    made=st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2199, 1, 1), timezones=st.just(UTC)),
    window=st.integers(0, 10**6),
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_any_accepted_policy_can_be_planned_for_any_deadline_in_the_years(
    steps: list[Step], made: dt.datetime, window: int
) -> None:
    due = min(made + dt.timedelta(minutes=window), dt.datetime(2199, 12, 31, tzinfo=UTC))
    policy = EscalationPolicy("p", steps=steps)
    firings = plan(policy, made, due, NY)
    assert len(firings) == sum(s.times or 1 for s in steps)
    assert list(firings) == sorted(firings, key=lambda f: (f.at, f.step_index, f.repeat))


def test_the_reported_huge_steps_are_refused_and_the_largest_still_promise() -> None:
    refused(lambda: Step(after_due(hours=1e8)), "hours")
    refused(lambda: Step(before_due(days=10**6)), "days")
    largest = EscalationPolicy(
        "largest",
        steps=[
            Step(after_due(hours=LIMIT["hours"])),
            Step(before_due(days=LIMIT["days"])),
            Step(after_due(business_hours=LIMIT["business_hours"])),
        ],
    )
    c, _ = kt.promise(**promise_args(due=dt.datetime(2199, 6, 1, tzinfo=UTC)), policy=largest)
    assert c.next_action_at is not None
    assert len(kt.firings(c)) == 3


# ----------------------------------------------------------------- matches and policy sets


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: Match(kinds=[["a"]]), "kinds[0]"),
        (lambda: Match(kinds="reply"), "kinds"),
        (lambda: Match(tags=5), "tags"),
        (lambda: Match(tiers=[""]), "tiers[0]"),
        (lambda: Match(tiers=["x" * 256]), "tiers[0]"),
        (lambda: Match(min_priority="3"), "min_priority"),
        (lambda: Match(min_priority=True), "min_priority"),
        (lambda: Match(min_priority=-1), "min_priority"),
        (lambda: Match(min_priority=2**31), "min_priority"),
        (lambda: Match(min_priority=1.5), "min_priority"),
        (lambda: EscalationPolicy("p", match={"min_priority": "3"}), "min_priority"),
        (lambda: EscalationPolicy("p", match={"colour": "red"}), "match"),
        (lambda: EscalationPolicy("p", match=["kinds"]), "match"),
        (lambda: EscalationPolicy("p", steps=["at_due"]), "steps[0]"),
        (lambda: EscalationPolicy("p", steps=[Step(at_due()), None]), "steps[1]"),
        (lambda: EscalationPolicy("p", steps="at_due"), "steps"),
        (lambda: EscalationPolicy("p", steps=5), "steps"),
        (lambda: EscalationPolicy(None), "name"),
        (lambda: PolicySet(["x"]), "policies[0]"),
        (lambda: PolicySet([EscalationPolicy("a", match={"kinds": ["a"]}), 5]), "policies[1]"),
        (lambda: PolicySet("x"), "policies"),
        (lambda: PolicySet(EscalationPolicy("a")), "policies"),
        (lambda: PolicySet(None), "policies"),
        (lambda: PolicySet({"a": EscalationPolicy("a")}), "policies"),
        (
            lambda: PolicySet(
                [EscalationPolicy("a", match={"kinds": ["x"]}), EscalationPolicy("a")]
            ),
            "policies",
        ),
    ],
)
def test_bad_matches_and_policy_sets_are_refused_naming_the_argument(
    build: Callable[[], object], argument: str
) -> None:
    refused(build, argument)


def test_a_tracker_with_a_list_of_strings_for_policies_is_refused() -> None:
    refused(
        lambda: kw.Tracker(kw.MemoryStore(), calendar=NY, tenant="shop", policies=["x"]),
        "policies[0]",
    )


@given(
    items=st.lists(
        st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.none()),
        min_size=1,
        max_size=3,
    ),
    field=st.sampled_from(["kinds", "tags", "tiers"]),
)
def test_match_items_that_are_not_identifiers_are_refused_naming_their_position(
    items: list[object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Match(**{field: items})
    assert info.value.argument is not None
    assert info.value.argument.startswith(f"{field}[")


@given(priority=st.integers(0, 2**31 - 1), floor=st.integers(0, 2**31 - 1))
def test_min_priority_compares_with_any_priority_once_accepted(priority: int, floor: int) -> None:
    assert Match(min_priority=floor).fits(kind="reply", priority=priority) == (priority >= floor)


# ----------------------------------------------------------------- promise's arguments


def promise_args(**changes: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "tenant": "shop",
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Send the quote",
        "now": NOW,
        "calendar": NY,
        "due": within(business_days=3),
        **changes,
    }


VIP = EscalationPolicy("vip", match={"tags": ["vip"]}, steps=[Step(at_due(), notify="boss")])
POLICIES = PolicySet([VIP, EscalationPolicy("default", steps=[Step(at_due())])])


@given(tags=st.lists(st.sampled_from(["vip", "eu", "b2b"]), max_size=4))
def test_tags_given_as_a_generator_are_stored_as_given(tags: list[str]) -> None:
    c, _ = kt.promise(**promise_args(tags=(t for t in tags)))
    assert c.tags == tuple(sorted(set(tags)))
    assert c.history[0].data["tags"] == list(c.tags)


def test_tags_that_are_not_a_list_of_identifiers_are_refused_naming_tags() -> None:
    error = refused(lambda: kt.promise(**promise_args(tags=5)), "tags")
    assert "int" in error.message
    refused(lambda: kt.promise(**promise_args(tags="vip")), "tags")
    refused(lambda: kt.promise(**promise_args(tags=["vip", 5])), "tags")
    assert kt.promise(**promise_args(tags=None))[0].tags == ()


def test_the_tracker_matches_and_stores_the_same_tags_from_a_generator() -> None:
    clock = kw.FrozenClock(NOW)
    tracker = kw.Tracker(
        kw.MemoryStore(), calendar=NY, tenant="shop", clock=clock, policies=POLICIES
    )
    c = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Send the quote",
        due=within(business_days=3),
        tags=(t for t in ["vip", "eu"]),
    )
    assert c.policy is not None
    assert (c.policy.name, c.tags) == ("vip", ("eu", "vip"))
    assert tracker.get(c.id).tags == ("eu", "vip")


# ----------------------------------------------------------------- deadlines outside the years

FAR = dt.datetime(2300, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: kt.promise(**promise_args(due=FAR)), "due"),
        (lambda: kt.promise(**promise_args(due=dt.datetime(2200, 1, 1, tzinfo=UTC))), "due"),
        (lambda: kt.promise(**promise_args(now=dt.datetime(1850, 1, 1, tzinfo=UTC))), "now"),
        (
            lambda: kt.renegotiate(kt.promise(**promise_args())[0], now=NOW, due=FAR),
            "due",
        ),
    ],
)
def test_deadlines_outside_1900_to_2199_are_refused_naming_the_argument(
    build: Callable[[], object], argument: str
) -> None:
    with pytest.raises(CalendarError) as info:
        build()
    assert info.value.argument == argument


def test_the_last_instant_of_2199_is_a_valid_deadline() -> None:
    last = dt.datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    c, _ = kt.promise(**promise_args(due=last, policy=VIP))
    assert c.due_at == last


def legacy(due: dt.datetime, policy: EscalationPolicy | None) -> Commitment:
    """A commitment stored with ``due`` as its deadline by a writer that did not check it."""
    c, _ = kt.promise(**promise_args(due=dt.datetime(2030, 1, 1, tzinfo=UTC), policy=policy))
    first = c.history[0]
    event = Event(
        seq=1,
        kind="promised",
        at=first.at,
        actor=first.actor,
        data={**first.data, "due_at": due.isoformat()},
    )
    return replay([event])


ladders = st.lists(bounded_steps(), max_size=3).map(
    lambda steps: EscalationPolicy("p", steps=steps) if steps else None
)


@given(
    due=st.datetimes(dt.datetime(2150, 1, 1), dt.datetime(9000, 1, 1), timezones=st.just(UTC)),
    policy=ladders,
    paused_for=st.integers(0, 10**7),
    pause_first=st.booleans(),
    ending=st.sampled_from(["keep", "fail", "cancel", "resume"]),
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_no_stored_commitment_becomes_unkeepable_whatever_its_deadline(
    due: dt.datetime,
    policy: EscalationPolicy | None,
    paused_for: int,
    pause_first: bool,
    ending: str,
) -> None:
    c = legacy(due, policy)
    assert c.status is Status.OPEN
    now = NOW + dt.timedelta(minutes=1)
    if pause_first:
        c, _ = kt.pause(c, now=now, reason="waiting on the customer")
        now += dt.timedelta(minutes=paused_for)
    old_due = c.due_at
    if ending == "keep":
        c, _ = kt.keep(c, now=now)
        assert c.status is Status.KEPT
    elif ending == "fail":
        c, _ = kt.fail(c, now=now, reason="out of stock")
        assert c.status is Status.BROKEN
    elif ending == "cancel":
        c, _ = kt.cancel(c, now=now)
        assert c.status is Status.CANCELLED
    elif c.status is Status.PAUSED:
        c, _ = kt.resume(c, now=now)
        assert c.status is Status.OPEN
        c, _, _ = kt.escalate(c, now=now, new_id=lambda: "n1")
    assert c.due_at >= old_due
    assert replay(c.history, version=c.version) == c


def test_the_reported_stuck_commitment_resumes_and_keeps() -> None:
    """Due in 2300, paused, the clock moves on: resume and keep both work."""
    c = kt.pause(legacy(FAR, VIP), now=NOW, reason="waiting")[0]
    later = NOW + dt.timedelta(days=3)
    resumed, _ = kt.resume(c, now=later)
    assert resumed.status is Status.OPEN
    assert resumed.due_at >= FAR
    kept, _ = kt.keep(c, now=later)
    assert kept.status is Status.KEPT
    assert kept.on_time
    with pytest.raises(CalendarError) as info:
        kt.retarget(c, now=later, calendar=ALWAYS)
    assert info.value.argument == "calendar"


def test_a_pause_near_the_end_of_2199_moves_the_deadline_in_real_time() -> None:
    due = dt.datetime(2199, 12, 20, 17, tzinfo=UTC)
    c, _ = kt.promise(**promise_args(due=due, now=dt.datetime(2199, 12, 1, tzinfo=UTC)))
    c, _ = kt.pause(c, now=dt.datetime(2199, 12, 2, tzinfo=UTC), reason="waiting")
    resumed, (event,) = kt.resume(c, now=dt.datetime(2199, 12, 30, tzinfo=UTC))
    assert resumed.due_at > due
    assert event.data["paused_us"] > 0


def test_a_calendar_closed_for_years_plans_and_moves_deadlines_in_real_time() -> None:
    """No open time for two years: business offsets count in real time instead of raising."""
    closed = kw.BusinessCalendar(
        tz="UTC",
        hours="Mon-Fri 09:00-17:00",
        closures=[(dt.date(2026, 12, 1), dt.date(2028, 12, 31))],
    )
    policy = EscalationPolicy(
        "p",
        steps=[
            Step(before_due(business_hours=4), quiet=True),
            Step(after_due(business_hours=4)),
            Step(at_due(), every=within(business_hours=2), times=3),
        ],
    )
    due = dt.datetime(2027, 6, 1, tzinfo=UTC)
    c, _ = kt.promise(**promise_args(calendar=closed, due=due, policy=policy))
    assert [f.at - due for f in kt.firings(c)] == [dt.timedelta(hours=h) for h in (-4, 0, 2, 4, 4)]
    paused, _ = kt.pause(c, now=NOW, reason="waiting")
    resumed, _ = kt.resume(paused, now=NOW + dt.timedelta(days=3))  # Mon 15:00 to Thu 15:00
    assert resumed.due_at == due + dt.timedelta(hours=24)  # 24 business hours, in real time


# ----------------------------------------------------------------- notices


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("tenant", "x" * 256),
        ("idempotency_key", "k" * 321),
        ("idempotency_key", ""),
        ("deadline_version", 0),
        ("step_index", -1),
        ("repeat", 2**31),
        ("repeat", "0"),
        ("action", "explode"),
        ("late", "yes"),
        ("breach", None),
        ("state", "lost"),
        ("owner", 5),
    ],
)
def test_notices_refuse_invalid_fields_naming_them(field: str, value: object) -> None:
    refused(lambda: notice_from_storage(**{**_notice_fields(), field: value}), field)


# ----------------------------------------------------------------- JSON depth


def nested(depth: int) -> dict[str, Any]:
    """A JSON object with ``depth`` levels of objects and arrays, alternating."""
    value: Any = 1
    for level in range(depth - 1):
        value = [value] if level % 2 == 0 else {"k": value}
    return {"top": value}


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@given(depth=st.integers(1, 60))
def test_terms_nest_at_most_the_documented_depth(depth: int) -> None:
    terms = nested(depth)
    if depth_of(terms) <= MAX_JSON_DEPTH:
        assert freeze_json(terms, "terms") == terms
    else:
        refused(lambda: freeze_json(terms, "terms"), "terms")
        refused(lambda: kt.promise(**promise_args(terms=terms)), "terms")


@pytest.fixture
def sql_store(backend_url: str) -> Iterator[kw.SqlStore]:
    yield from open_store(backend_url)


def test_the_deepest_terms_keepword_accepts_are_stored_by_every_backend(
    sql_store: kw.SqlStore,
) -> None:
    tracker = kw.Tracker(sql_store, calendar=NY, tenant="shop", clock=kw.FrozenClock(NOW))
    deepest = nested(MAX_JSON_DEPTH)
    assert depth_of(deepest) == MAX_JSON_DEPTH
    c = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Deep terms",
        due=within(hours=1),
        terms=deepest,
    )
    assert tracker.get(c.id).terms == deepest
    with pytest.raises(KeepwordError) as info:
        tracker.promise(
            customer="acct-42",
            owner="alice",
            kind="reply",
            what="Too deep",
            due=within(hours=1),
            terms={"wrap": deepest},
        )
    assert info.value.argument == "terms"
    assert len(tracker.find()) == 1


def test_evolving_a_valid_step_with_a_hostile_name_is_refused() -> None:
    step = Step(at_due())
    refused(lambda: attrs.evolve(step, name="\udfff"), "name")
