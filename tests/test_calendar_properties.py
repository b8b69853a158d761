"""Properties of business time (RELIABILITY.md scenarios 12 and 13).

Run with ``HYPOTHESIS_PROFILE=ci`` for 2,000 examples a property.  Two oracles:
``tests/minute_model.py`` (an independent, naive model built from the calendar's
spec) and the ``businesstimedelta`` package where both can express a calendar.
Instants are always compared in UTC: Python compares datetimes that share a
tzinfo by wall time, and calls a time inside a fold unequal to any other zone's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import businesstimedelta
import pytest
import pytz
from hypothesis import example, given, note
from hypothesis import strategies as st

from keepword import BusinessCalendar, CalendarError, KeepwordError, within
from keepword.testing.strategies import (
    ODD_ZONES,
    aware_datetimes,
    calendars,
    dst_transitions,
    weekly_hours,
    within_specs,
    zones,
)
from tests.support.minute_model import Model, ModelError, parse_weekly, utc

UTC = dt.UTC
US = dt.timedelta(microseconds=1)
DAY_MIN = 1440


def u(value: dt.datetime) -> dt.datetime:
    """The same instant as a stdlib UTC datetime."""
    return utc(value)


def _near(day: dt.date, spread: int) -> st.SearchStrategy[dt.date]:
    return st.integers(-spread, spread).map(lambda k: day + dt.timedelta(days=k))


def weekly_open_minutes(hours: str) -> int:
    """Open minutes in an ordinary week, from the hours string alone."""
    return sum(end - start for day in parse_weekly(hours).values() for start, end in day)


# --------------------------------------------------------------------------- a pool of calendars
#
# Building a calendar's tables costs a few milliseconds a year, far more than a query.
# To run 2,000 examples a property within the time budget, most properties draw from a
# finite (but varied) space of calendars and reuse each built one; their starts fall in
# 2025-2026, where the holidays, closures and special hours of the pool are.  Fresh,
# unbounded calendars are covered by the strategy tests below and the example files.

POOL_ZONES = (*ODD_ZONES, "Asia/Kolkata", "America/Los_Angeles")
HOURS_MENU = (
    "Mon-Fri 09:00-17:00",
    "Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00",
    "Mon-Fri 22:00-06:00",
    "Daily 00:00-24:00",
    "Daily 22:00-02:30,03:00-06:00",
    "Sun 01:30-03:00; Wed 00:00-24:00",
    "mon 23:59-00:01; Tue,Thu 02:00-02:30,02:30-03:15",
    "Sat-Sun 00:00-12:00,12:00-24:00",
    "Fri-Mon 08:07-19:53",
    "Sun 22:00-06:00; Mon 06:00-09:00",
    "Daily 01:00-01:01",
    "Tue 00:00-23:59; Thu 12:00-11:00",
    "Mon,Wed,Fri 00:15-00:45,01:15-02:45,23:00-23:30",
    "Sat 23:30-00:30; Sun 00:30-01:30",
)
ANCHORS = (dt.date(2025, 3, 30), dt.date(2025, 11, 2), dt.date(2026, 6, 19))


def _extras(variant: int) -> dict[str, Any]:
    """Holidays, closures and special hours near the anchor dates (variant 0: none;
    3 and 4: public holidays of US-CA and of Sweden)."""
    if variant in (0, 3, 4):
        country = {3: ("US", "CA"), 4: ("SE", None)}.get(variant, (None, None))
        empty: dict[str, Any] = {"holidays": [], "closures": [], "special_hours": {}}
        return {**empty, "country": country[0], "subdiv": country[1]}
    days = dt.timedelta
    holidays, closures, special = [], [], {}
    for anchor in ANCHORS:
        holidays += [anchor + days(1), anchor + days(3 * variant)]
        closures += [anchor - days(2), (anchor + days(5), anchor + days(5 + 3 * variant))]
        special[anchor] = "10:00-14:00" if variant == 1 else ""
        special[anchor + days(4)] = "00:00-24:00" if variant == 1 else "09:00-12:00,13:00-15:00"
    return {"holidays": holidays, "closures": closures, "special_hours": special}


_POOL: dict[tuple[str, str, int], tuple[BusinessCalendar, Model]] = {}


def pooled(tz: str, hours: str, variant: int) -> tuple[BusinessCalendar, Model]:
    """The calendar (and its model) for a point of the pool, built once."""
    key = (tz, hours, variant)
    if key not in _POOL:
        spec = {"tz": tz, "hours": hours, **_extras(variant)}
        _POOL[key] = (BusinessCalendar(**spec), Model(**spec))
    return _POOL[key]


@st.composite
def pool_cases(
    draw: st.DrawFn, countries: bool = False
) -> tuple[BusinessCalendar, Model, dt.datetime]:
    """A pooled calendar and a start near a DST change, an anchor date, or anywhere."""
    tz = draw(st.sampled_from(POOL_ZONES), label="tz")
    hours = draw(st.sampled_from(HOURS_MENU), label="hours")
    variant = draw(st.integers(0, 4 if countries else 2), label="extras")
    cal, model = pooled(tz, hours, variant)
    if draw(st.booleans()):
        start = draw(aware_datetimes(2025, 2026, zones=st.just(tz)), label="start")
    else:
        anchor = draw(st.sampled_from(ANCHORS))
        minutes = draw(st.integers(-20 * DAY_MIN, 20 * DAY_MIN))
        local = dt.datetime.combine(anchor, dt.time()) + dt.timedelta(minutes=minutes)
        start = draw(st.sampled_from([UTC, ZoneInfo(tz)]).map(lambda z: local.replace(tzinfo=z)))
        note(f"start={start!r}")
    return cal, model, start


_HOLIDAY_POOL: dict[tuple[str, str, tuple[int, ...]], BusinessCalendar] = {}


def with_holidays(tz: str, hours: str, variants: tuple[int, ...]) -> BusinessCalendar:
    """A calendar with the union of the holidays of the given extras variants, built once."""
    key = (tz, hours, variants)
    if key not in _HOLIDAY_POOL:
        holidays = sorted({day for v in variants for day in _extras(v)["holidays"]})
        _HOLIDAY_POOL[key] = BusinessCalendar(tz=tz, hours=hours, holidays=holidays)
    return _HOLIDAY_POOL[key]


_SPECIAL_TEXT = st.sampled_from(["", "10:00-14:00", "09:00-12:00,13:00-15:00", "00:00-24:00"])
_COUNTRY = st.sampled_from([None, None, ("US", None), ("US", "CA"), ("SE", None), ("DE", "BY")])


@st.composite
def fresh_cases(draw: st.DrawFn) -> tuple[BusinessCalendar, Model, dt.datetime]:
    """A freshly built calendar from the public strategies (any zone, any generated
    weekly hours, sometimes a country) with holidays, closures and special hours
    near a start anywhere in 2001-2036: costlier, so mixed with pooled cases."""
    tz = draw(zones(), label="tz")
    start = draw(aware_datetimes(2001, 2036, zones=st.just(tz)), label="start")
    today = u(start).date()
    country = draw(_COUNTRY, label="country")
    closures: list[Any] = []
    for _ in range(draw(st.integers(0, 2))):
        first = draw(_near(today, 12))
        length = draw(st.integers(0, 6))
        closures.append(first if length == 0 else (first, first + dt.timedelta(length)))
    spec: dict[str, Any] = {
        "tz": tz,
        "hours": draw(weekly_hours(), label="hours"),
        "holidays": draw(st.lists(_near(today, 12), max_size=4, unique=True), label="holidays"),
        "closures": closures,
        "special_hours": {
            day: draw(_SPECIAL_TEXT)
            for day in draw(st.lists(_near(today, 12), max_size=3, unique=True))
        },
        "country": country[0] if country else None,
        "subdiv": country[1] if country else None,
    }
    note(f"spec={spec!r}")
    return BusinessCalendar(**spec), Model(**spec), start


@st.composite
def open_amounts(draw: st.DrawFn, hours: str, weeks: int = 2) -> dt.timedelta:
    """An amount of open time from one minute to about ``weeks`` ordinary weeks' worth."""
    most = max(1, weeks * weekly_open_minutes(hours))
    minutes = draw(st.integers(1, most))
    seconds = draw(st.sampled_from([0, 0, 0, 1, 30, 59]))
    return dt.timedelta(minutes=minutes, seconds=seconds)


# --------------------------------------------------------------------------- algebra


@given(case=pool_cases(), data=st.data())
def test_between_start_and_add_gives_back_the_amount(
    case: tuple[BusinessCalendar, Model, dt.datetime], data: st.DataObject
) -> None:
    cal, _, start = case
    amount = data.draw(open_amounts(cal.hours), label="amount")
    due = cal.add(start, amount)
    assert cal.between(start, due) == amount
    back = cal.add(due, -amount)
    assert cal.between(back, due) == amount
    # back to the start if it was open, else to the opening the amount started from
    assert u(back) == u(start if cal.is_open(start) else cal.next_open(start))


@given(case=pool_cases(), data=st.data())
def test_add_is_monotone_in_the_amount(
    case: tuple[BusinessCalendar, Model, dt.datetime], data: st.DataObject
) -> None:
    cal, _, start = case
    a = data.draw(open_amounts(cal.hours), label="a")
    b = data.draw(open_amounts(cal.hours), label="b")
    small, large = sorted((a, b))
    assert u(cal.add(start, small)) <= u(cal.add(start, large))
    assert u(cal.add(start, -large)) <= u(cal.add(start, -small))


@given(case=pool_cases(), data=st.data())
def test_deadlines_land_in_open_time_or_exactly_at_a_close(
    case: tuple[BusinessCalendar, Model, dt.datetime], data: st.DataObject
) -> None:
    cal, _, start = case
    amount = data.draw(open_amounts(cal.hours), label="amount")
    due = cal.add(start, amount)
    # the last microsecond before the deadline was open time that was consumed
    assert cal.is_open(u(due) - US)
    assert cal.between(u(due) - US, due) == US
    # going backwards lands in open time (on an opening rather than a close)
    back = cal.add(start, -amount)
    assert cal.is_open(back)
    # the deadline is expressed in the calendar's zone
    assert due.utcoffset() == u(due).astimezone(ZoneInfo(cal.tz)).utcoffset()


@given(case=pool_cases(), data=st.data())
def test_between_is_additive_and_antisymmetric(
    case: tuple[BusinessCalendar, Model, dt.datetime], data: st.DataObject
) -> None:
    cal, _, start = case
    steps = data.draw(st.lists(st.integers(0, 40 * DAY_MIN), min_size=2, max_size=2))
    a = start
    b = u(a) + dt.timedelta(minutes=steps[0])
    c = b + dt.timedelta(minutes=steps[1])
    whole = cal.between(a, c)
    assert whole == cal.between(a, b) + cal.between(b, c)
    assert cal.between(c, a) == -whole
    assert dt.timedelta(0) <= whole <= u(c) - u(a)


@given(case=pool_cases(), spec=within_specs(max_business_days=10), data=st.data())
def test_adding_a_holiday_never_makes_a_deadline_earlier(
    case: tuple[BusinessCalendar, Model, dt.datetime], spec: Any, data: st.DataObject
) -> None:
    cal, _, start = case
    if spec.amount > 300:
        spec = within(**{spec.unit: 300})
    # the pool's extras variants nest their holidays: 0 has none, 1 some, 2 more
    fewer, more = sorted(data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2)))
    fewer_holidays = with_holidays(cal.tz, cal.hours, (fewer,))
    more_holidays = with_holidays(cal.tz, cal.hours, (fewer, more))
    before = u(fewer_holidays.resolve(start, spec))
    after = u(more_holidays.resolve(start, spec))
    note(f"{before} -> {after}")
    assert after >= before


# --------------------------------------------------------------------------- DST, every transition


def _transition_cases() -> list[tuple[str, dt.datetime]]:
    out = []
    for zone in ODD_ZONES:
        moments = dst_transitions(zone, 2000, 2037)
        out.extend((zone, moment) for moment in moments)
        if not moments:  # UTC, Kathmandu: still check their year boundaries
            out.extend((zone, dt.datetime(y, 1, 1, tzinfo=UTC)) for y in (2000, 2019, 2037))
    return out


TRANSITIONS = _transition_cases()
_OFFSETS = [
    dt.timedelta(hours=h, seconds=s)
    for h, s in [(-24, 0), (-23, 59 * 60), (-12, 0), (-1, 0), (0, -1), (0, 0), (0, 1), (1, 0)]
]
_SPECS_AROUND_DST = [
    within(hours=0.5),
    within(days=1),
    within(days=0),
    within(business_hours=8),
    within(business_minutes=90),
    within(business_days=0),
    within(business_days=2),
]
DST_HOURS = (
    "Mon-Fri 09:00-17:00",
    "Daily 00:00-24:00",
    "Daily 22:00-02:30,03:00-06:00; Sun 12:00-13:00",
)


@pytest.mark.parametrize("zone", ODD_ZONES)
def test_twenty_four_hours_is_86400_seconds_across_every_transition(zone: str) -> None:
    moments = [m for z, m in TRANSITIONS if z == zone]
    assert moments
    checked = 0
    for hours in DST_HOURS:
        cal, _ = pooled(zone, hours, 0)
        for moment in moments:
            for offset in _OFFSETS:
                start = (moment + offset).astimezone(ZoneInfo(zone))
                due = cal.resolve(start, within(hours=24))
                assert (u(due) - u(start)).total_seconds() == 86_400
                assert u(cal.resolve(start, within(minutes=1440))) == u(due)
                for spec in _SPECS_AROUND_DST:
                    with contextlib.suppress(KeepwordError):
                        cal.resolve(start, spec)
                checked += 1
    assert checked == len(moments) * len(_OFFSETS) * len(DST_HOURS)


def test_every_odd_zone_has_its_transitions_found() -> None:
    counts = {zone: len(dst_transitions(zone, 2000, 2037)) for zone in ODD_ZONES}
    assert counts["UTC"] == 0
    assert counts["Asia/Kathmandu"] == 0  # +05:45 since 1986
    assert counts["America/New_York"] == 76
    assert counts["Europe/Stockholm"] == 76
    assert counts["Antarctica/Troll"] > 60
    assert counts["Asia/Tehran"] > 30  # DST abolished in 2022
    apia = dst_transitions("Pacific/Apia", 2011, 2011)
    # Samoa skipped Friday 30 December 2011: a 24-hour jump at 10:00 UTC on the 30th
    assert dt.datetime(2011, 12, 30, 10, tzinfo=UTC) in apia


@given(
    zone=st.sampled_from(ODD_ZONES),
    hours=st.sampled_from(DST_HOURS),
    data=st.data(),
    spec=within_specs(),
)
def test_resolve_raises_nothing_but_keepword_errors_in_odd_zones(
    zone: str, hours: str, data: st.DataObject, spec: Any
) -> None:
    cal, _ = pooled(zone, hours, 0)
    start = data.draw(aware_datetimes(2000, 2037, zones=st.sampled_from(ODD_ZONES)))
    try:
        due = cal.resolve(start, spec)
    except KeepwordError:
        return
    assert due.utcoffset() == u(due).astimezone(ZoneInfo(zone)).utcoffset()
    if spec.unit in ("hours", "minutes"):
        assert u(due) - u(start) == dt.timedelta(**{spec.unit: spec.amount})
    else:
        assert u(due) >= u(start)


# --------------------------------------------------------------------------- differential: model


@example(  # US New Year 2022 observed on Friday 2021-12-31
    case=(
        *pooled("America/New_York", "Mon-Fri 09:00-17:00", 3),
        dt.datetime(2021, 12, 30, 21, tzinfo=UTC),
    ),
    amount_minutes=120,
    span_minutes=6000,
    n=1,
)
@example(  # Havana springs forward at midnight: Sunday's 00:30-01:30 vanishes into the gap
    case=(
        *pooled("America/Havana", "Sat 23:30-00:30; Sun 00:30-01:30", 0),
        dt.datetime(2025, 3, 9, 1, 0, tzinfo=ZoneInfo("America/Havana")),
    ),
    amount_minutes=0,
    span_minutes=0,
    n=0,
)
@given(
    case=st.one_of(pool_cases(countries=True), fresh_cases()),
    amount_minutes=st.integers(0, 4000),
    span_minutes=st.integers(-20_000, 20_000),
    n=st.integers(0, 4),
)
def test_calendar_agrees_with_the_minute_model(
    case: tuple[BusinessCalendar, Model, dt.datetime],
    amount_minutes: int,
    span_minutes: int,
    n: int,
) -> None:
    cal, model, start = case
    weekly = weekly_open_minutes(cal.hours)
    amount = dt.timedelta(minutes=amount_minutes % (2 * weekly) + 1)
    note(f"amount={amount}")

    assert u(cal.add(start, amount)) == model.add(start, amount), "add"
    assert u(cal.add(start, -amount)) == model.add(start, -amount), "add backwards"
    end = u(start) + dt.timedelta(minutes=span_minutes)
    assert cal.between(start, end) == model.between(start, end), "between"
    assert cal.is_open(start) == model.is_open(start), "is_open"
    assert u(cal.next_open(start)) == model.next_open(start), "next_open"
    try:
        closes = model.closes(start)
    except ModelError:  # open around the clock: no close within years
        with pytest.raises(CalendarError):
            cal.next_close(start)
    else:
        assert u(cal.next_close(start)) in closes, "next_close"
    local_day = u(start).astimezone(ZoneInfo(cal.tz)).date()
    assert cal.is_business_day(local_day) == model.is_business_day(local_day), "business day"
    minutes = max(1, amount_minutes)  # zero from a closed time is pinned in the examples
    for spec in (within(business_days=n), within(days=n), within(business_minutes=minutes)):
        expected = model.resolve(start, spec.unit, spec.amount)
        assert u(cal.resolve(start, spec)) == expected, str(spec)


# --------------------------------------------------------------------------- the strategies


@given(hours=weekly_hours())
def test_generated_weekly_hours_are_accepted_and_keep_their_meaning(hours: str) -> None:
    cal = BusinessCalendar(tz="UTC", hours=hours)
    assert weekly_open_minutes(hours) > 0
    # the calendar's canonical text describes the same week as the generated text
    assert parse_weekly(cal.hours) == parse_weekly(hours)


@given(cal=calendars())
def test_generated_calendars_round_trip_through_their_snapshot(cal: BusinessCalendar) -> None:
    assert BusinessCalendar.from_dict(cal.to_dict()) == cal


# ------------------------------------------------------------ differential: businesstimedelta

# businesstimedelta (pytz underneath) expresses one interval a day on a set of weekdays,
# and whole-day holidays.  Its localize() differs from keepword's rule only inside DST
# gaps and folds, so intervals here stay between 04:00 and 23:00 local time, where none
# of these zones changes its clocks; it also drops microseconds, so times are whole minutes.
_BTD_ZONES = ["UTC", "Asia/Kolkata", "Asia/Tokyo", "Europe/Stockholm", "America/New_York"]


@st.composite
def btd_cases(draw: st.DrawFn) -> dict[str, Any]:
    tz = draw(st.sampled_from(_BTD_ZONES))
    days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
    open_at = draw(st.integers(4 * 4, 22 * 4)) * 15
    close_at = draw(st.integers(open_at // 15 + 1, 23 * 4)) * 15
    start_local = draw(
        st.datetimes(dt.datetime(2001, 1, 1), dt.datetime(2034, 12, 31)).map(
            lambda d: d.replace(second=0, microsecond=0)
        )
    )
    start = u(start_local.replace(tzinfo=ZoneInfo(tz)))
    today = start_local.date()
    holidays = draw(st.lists(_near(today, 20), max_size=4, unique=True))
    if holidays:
        # businesstimedelta looks for the next holiday at most five years ahead
        holidays.append(today + dt.timedelta(days=1500))
    return {
        "tz": tz,
        "days": days,
        "open": open_at,
        "close": close_at,
        "holidays": holidays,
        "start": start,
        "minutes": draw(st.integers(1, 3 * len(days) * (close_at - open_at))),
        "span": draw(st.integers(0, 30 * DAY_MIN)),
    }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@given(case=btd_cases())
def test_calendar_agrees_with_businesstimedelta(case: dict[str, Any]) -> None:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    hours = ",".join(names[d] for d in case["days"]) + (
        f" {_hhmm(case['open'])}-{_hhmm(case['close'])}"
    )
    cal = BusinessCalendar(tz=case["tz"], hours=hours, holidays=case["holidays"])
    zone = pytz.timezone(case["tz"])
    rules: list[Any] = [
        businesstimedelta.WorkDayRule(
            start_time=dt.time(case["open"] // 60, case["open"] % 60),
            end_time=dt.time(case["close"] // 60, case["close"] % 60),
            working_days=case["days"],
            tz=zone,
        )
    ]
    if case["holidays"]:
        rules.append(businesstimedelta.HolidayRule(case["holidays"], tz=zone))
    rule = businesstimedelta.Rules(rules)
    start = case["start"]
    amount = dt.timedelta(minutes=case["minutes"])
    theirs = start + businesstimedelta.BusinessTimeDelta(rule, timedelta=amount)
    assert u(cal.add(start, amount)) == u(theirs)
    end = u(start) + dt.timedelta(minutes=case["span"])
    assert cal.between(start, end) == rule.difference(start, end).timedelta


# --------------------------------------------------------------------------- known bad spots


def test_between_over_years_on_a_fresh_calendar_counts_every_week() -> None:
    cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
    a = dt.datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
    b = dt.datetime(2029, 6, 4, tzinfo=UTC)  # a Monday, 157 weeks later
    assert cal.between(a, b) == dt.timedelta(hours=157 * 40)


def test_crossing_a_year_of_closure_backwards_is_refused_whatever_was_asked_before() -> None:
    def closed_ten_years() -> BusinessCalendar:
        return BusinessCalendar(tz="UTC", closures=[(dt.date(2026, 1, 1), dt.date(2035, 12, 31))])

    end = dt.datetime(2035, 12, 31, 23, tzinfo=UTC)
    fresh = closed_ten_years()
    with pytest.raises(CalendarError):
        fresh.add(end, business_hours=-1)
    warmed = closed_ten_years()
    assert warmed.between(dt.datetime(2025, 12, 1, tzinfo=UTC), end) == dt.timedelta(hours=184)
    with pytest.raises(CalendarError):
        warmed.add(end, business_hours=-1)


def test_the_minute_model_reproduces_the_design_examples() -> None:
    ny = ZoneInfo("America/New_York")
    model = Model(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    made = dt.datetime(2026, 11, 23, 10, tzinfo=ny)
    assert model.resolve(made, "business_days", 3) == u(dt.datetime(2026, 11, 27, 17, tzinfo=ny))
    friday = dt.datetime(2026, 11, 20, 16, tzinfo=ny)
    assert model.resolve(friday, "business_hours", 4) == u(dt.datetime(2026, 11, 23, 12, tzinfo=ny))
    assert not model.is_business_day(dt.date(2021, 12, 31))
    gap = Model(tz="America/New_York", hours="Sun 02:30-05:00")
    assert gap.next_open(dt.datetime(2026, 3, 7, 12, tzinfo=ny)) == dt.datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )
    fold = Model(tz="America/New_York", hours="Sun 01:30-03:00")
    assert fold.next_open(dt.datetime(2026, 10, 31, 12, tzinfo=ny)) == dt.datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )
