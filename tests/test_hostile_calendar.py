"""Hostile input to calendars, deadline specs and the frozen clock (issue 13, defects 6, 7, 8, 11).

Every refusal is a ``KeepwordError`` that names the caller's argument; no OS
error, ``TypeError``, ``OverflowError`` or hang gets out, and nothing that
was refused changed anything (a refused clock move leaves the clock alone).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepword import (
    BusinessCalendar,
    CalendarError,
    FrozenClock,
    InvalidArgumentError,
    KeepwordError,
    NaiveDatetimeError,
    within,
)
from keepword.calendar import Within

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
QUICK_SECONDS = 1.0
DAY = dt.date(2026, 1, 2)
# Any character at all, lone surrogates and NUL included.
HOSTILE_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
NOT_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
    st.builds(object),
)


def short_id(value: object) -> str:
    """A readable test id for any value, even one too long to print."""
    try:
        return ascii(value)[:40]
    except ValueError:
        return f"huge {type(value).__name__}"


def attempt(call: Callable[[], Any]) -> tuple[Any, KeepwordError | None]:
    """``(result, None)``, or ``(None, error)`` when ``call`` raises a KeepwordError."""
    try:
        return call(), None
    except KeepwordError as err:
        return None, err


def refused(
    call: Callable[[], object], kind: type[KeepwordError], argument: str | tuple[str, ...]
) -> KeepwordError:
    """Assert ``call`` raises ``kind`` naming ``argument`` (in the field and the text)."""
    with pytest.raises(kind) as info:
        call()
    err = info.value
    names = (argument,) if isinstance(argument, str) else argument
    assert err.argument in names, err
    assert str(err).startswith(f"{err.argument}:") or err.argument in str(err)
    str(err).encode("utf-8")  # the message itself is safe to log
    return err


# --------------------------------------------------------------------------- 6: zone names


@pytest.mark.parametrize(
    "tz",
    [
        "America",  # a directory in tzdata: IsADirectoryError before
        "Etc",
        "a" * 5000,  # File name too long before
        "America/" + "b" * 300,
        "a\x00b",
        "UTC\x00",
        "\ud800",
        "Europe/\udfff",
        "../etc/passwd",
        "../../../../etc/passwd",
        "/etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "UTC/..",
        "America/./New_York",
        "America//New_York",
        "America/New_York/",
        ".hidden",
        "America/New_York\n",
        " UTC",
        "",
        "   ",
        "__init__.py",  # a file inside the tzdata package, not a zone
        "zone.tab",
        "tzdata.zi",
        "Europe/Stockholm" * 20,
    ],
    ids=lambda tz: ascii(tz[:24]),
)
def test_hostile_zone_names_are_refused_naming_tz(tz: str) -> None:
    began = time.perf_counter()
    refused(lambda: BusinessCalendar(tz=tz), CalendarError, "tz")
    assert time.perf_counter() - began < QUICK_SECONDS


@pytest.mark.parametrize(
    "tz", [None, 5, 1.5, True, b"UTC", bytearray(b"UTC"), ["UTC"], object(), dt.UTC]
)
def test_zone_that_is_not_a_name_is_refused_naming_tz(tz: Any) -> None:
    refused(lambda: BusinessCalendar(tz=tz), CalendarError, "tz")


def test_every_zone_the_system_knows_is_accepted() -> None:
    for name in sorted(available_timezones()):
        assert BusinessCalendar(tz=name).tz == name


def test_a_zoneinfo_object_is_accepted_by_its_key() -> None:
    assert BusinessCalendar(tz=NY).tz == "America/New_York"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(HOSTILE_TEXT, st.sampled_from(sorted(available_timezones())).map(lambda z: z + "/"))
)
def test_any_text_is_a_zone_or_a_calendar_error_naming_tz(tz: str) -> None:
    cal, err = attempt(lambda: BusinessCalendar(tz=tz))
    if err is not None:
        assert isinstance(err, CalendarError)
        assert err.argument == "tz"
        str(err).encode("utf-8")
    else:
        assert cal.tz == tz
        assert ZoneInfo(tz) is not None


# --------------------------------------------------------------------------- 7: countries


@pytest.mark.parametrize(
    "country",
    [
        "JAN",  # constants in the holidays package: TypeError before
        "SAT",
        "PUBLIC",
        "OPTIONAL",
        "FEB",
        "HALF_DAY",
        "BANK",
        "__name__",
        "__all__",
        "country_holidays",
        "HolidayBase",
        "ıt",  # dotless i upper-cases to "IT": not an ASCII code
        "U\x00S",
        "\ud800",
        "XX",
        "",
        " ",
    ],
    ids=ascii,
)
def test_names_that_are_not_supported_countries_are_refused(country: str) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", country=country), CalendarError, "country")


@pytest.mark.parametrize("country", [5, b"US", ["US"], True, object()])
def test_country_that_is_not_text_is_refused(country: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", country=country), CalendarError, "country")


@settings(max_examples=200, deadline=None)
@given(HOSTILE_TEXT)
def test_any_text_is_a_country_or_a_calendar_error_naming_country(country: str) -> None:
    cal, err = attempt(lambda: BusinessCalendar(tz="UTC", country=country))
    if err is not None:
        assert isinstance(err, CalendarError)
        assert err.argument == "country"
        str(err).encode("utf-8")
    else:
        assert cal.country in holidays.list_supported_countries()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(holidays.list_supported_countries())))
def test_every_supported_country_code_works(country: str) -> None:
    cal = BusinessCalendar(tz="UTC", country=country.lower())
    assert cal.country == country
    assert BusinessCalendar.from_dict(cal.to_dict()) == cal
    cal.is_business_day(dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("country", "subdiv"),
    [
        ("US", "JAN"),
        ("US", "PUBLIC"),
        ("US", "OPTIONAL"),
        ("US", "\ud800"),
        ("US", "C\x00A"),
        ("US", "ZZ"),
        ("SE", "CA"),  # a country without subdivisions
        ("DE", "BY" * 200),
    ],
    ids=ascii,
)
def test_hostile_subdivisions_are_refused_naming_subdiv(country: str, subdiv: str) -> None:
    refused(
        lambda: BusinessCalendar(tz="UTC", country=country, subdiv=subdiv), CalendarError, "subdiv"
    )


@pytest.mark.parametrize("subdiv", [5, b"CA", ["CA"], True, object()])
def test_subdivision_that_is_not_text_is_refused(subdiv: Any) -> None:
    refused(
        lambda: BusinessCalendar(tz="UTC", country="US", subdiv=subdiv), CalendarError, "subdiv"
    )


def test_subdivision_codes_are_case_insensitive_and_spelled_as_holidays_lists_them() -> None:
    assert BusinessCalendar(tz="UTC", country="us", subdiv=" ca ").subdiv == "CA"
    assert BusinessCalendar(tz="UTC", country="FR", subdiv="zone a").subdiv == "Zone A"


def test_subdivisions_differ_in_more_than_case() -> None:
    # the case-insensitive lookup is unambiguous for every country holidays supports
    for country, subdivisions in holidays.list_supported_countries().items():
        assert len({s.upper() for s in subdivisions}) == len(subdivisions), country


# --------------------------------------------------------------------------- 8: hours and dates


@pytest.mark.parametrize(
    "value",
    [0, 1.5, None, True, [1, 2], ["09:00-12:00", 13], b"09:00-17:00", {"a": 1}, object()],
    ids=repr,
)
def test_a_day_whose_hours_are_not_text_is_refused(value: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", hours={"mon": value}), CalendarError, "hours")
    refused(
        lambda: BusinessCalendar(tz="UTC", special_hours={DAY: value}),
        CalendarError,
        "special_hours",
    )
    refused(
        lambda: BusinessCalendar(tz="UTC", special_hours=[(DAY, value)]),
        CalendarError,
        "special_hours",
    )


def test_lists_and_tuples_of_interval_texts_are_accepted() -> None:
    cal = BusinessCalendar(
        tz="UTC",
        hours={"mon": ["09:00-12:00", "13:00-17:00"], "sat": ("10:00-12:00",)},
        special_hours={DAY: ["08:00-10:00"]},
    )
    assert cal.hours == "Mon 09:00-12:00,13:00-17:00; Sat 10:00-12:00"
    assert cal.special_hours == ((DAY, "08:00-10:00"),)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(["mon", "Tue", "Daily", "Mon-Fri"]), st.integers(-2, 9)),
        st.one_of(NOT_TEXT, HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3)),
        max_size=3,
    )
)
def test_any_hours_mapping_is_a_calendar_or_a_calendar_error_naming_hours(
    hours: dict[Any, Any],
) -> None:
    cal, err = attempt(lambda: BusinessCalendar(tz="UTC", hours=hours))
    if err is not None:
        assert isinstance(err, CalendarError)
        assert err.argument == "hours"
        str(err).encode("utf-8")
    else:
        assert BusinessCalendar(tz="UTC", hours=cal.hours) == cal


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.dates(), st.none(), st.integers(), st.binary(max_size=4), HOSTILE_TEXT),
        st.one_of(NOT_TEXT, HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3)),
        max_size=3,
    )
)
def test_any_special_hours_are_a_calendar_or_a_calendar_error_naming_special_hours(
    special: dict[Any, Any],
) -> None:
    cal, err = attempt(lambda: BusinessCalendar(tz="UTC", special_hours=special))
    if err is not None:
        assert isinstance(err, CalendarError)
        assert err.argument == "special_hours"
        str(err).encode("utf-8")
    else:
        assert BusinessCalendar.from_dict(cal.to_dict()) == cal


@pytest.mark.parametrize(
    "value",
    [
        {DAY: 5},
        {DAY: None},
        {DAY: b"New Year"},
        {DAY: "a\x00b"},
        {DAY: "\ud800"},
        [(DAY, 1)],
        [[DAY, object()]],
        [(DAY, "x", "y")],
        [5],
        5,
        None,
        "2026-01-02",
        [dt.datetime(2026, 1, 2)],
        {10**5000: "huge"},
    ],
    ids=short_id,
)
def test_extra_holidays_of_the_wrong_kind_are_refused(value: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", holidays=value), CalendarError, "holidays")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.dates(), st.one_of(NOT_TEXT, HOSTILE_TEXT), max_size=3))
def test_holiday_names_are_text_that_a_store_can_write(value: dict[dt.date, Any]) -> None:
    cal, err = attempt(lambda: BusinessCalendar(tz="UTC", holidays=value))
    if err is not None:
        assert isinstance(err, CalendarError)
        assert err.argument == "holidays"
    else:
        for _, name in cal.holidays:
            assert isinstance(name, str)
            assert "\x00" not in name
            name.encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [
        5,
        None,
        "2026-01-02",
        b"x",
        [5],
        [(DAY,)],
        [(DAY, 5)],
        [[DAY, None]],
        [(DAY, DAY, DAY)],
        [(dt.date(2026, 2, 1), DAY)],
        [object()],
        [10**5000],
    ],
    ids=short_id,
)
def test_closures_of_the_wrong_kind_are_refused(value: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", closures=value), CalendarError, "closures")


def test_long_runs_of_spaces_in_hours_are_refused_quickly() -> None:
    for hours in ("Mon x" + " " * 200_000 + "y", "Mon 09:00-10:00" + " " * 200_000 + "x"):
        began = time.perf_counter()
        refused(lambda h=hours: BusinessCalendar(tz="UTC", hours=h), CalendarError, "hours")
        assert time.perf_counter() - began < QUICK_SECONDS


@pytest.mark.parametrize(
    "data",
    [
        5,
        None,
        {},
        {"tz": "America"},
        {"tz": "UTC", "holidays": [[1, 2, 3]]},
        {"tz": "UTC", "holidays": 5},
        {"tz": "UTC", "closures": [5]},
        {"tz": "UTC", "special_hours": [1, 2]},
        {"tz": "UTC", "hours": {"mon": 0}},
        {"tz": "UTC", "hours": "Mon-Fri 09:00-17:00", "country": "JAN"},
    ],
    ids=repr,
)
def test_a_hostile_snapshot_is_a_calendar_error(data: Any) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(data)
    assert info.value.argument is not None


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(9999, 12, 31)])
def test_business_day_outside_the_supported_years_is_a_calendar_error(day: dt.date) -> None:
    cal = BusinessCalendar(tz="Pacific/Kiritimati", hours="Daily 22:00-06:00")
    refused(lambda: cal.is_business_day(day), CalendarError, "day")


# --------------------------------------------------------------------------- within(): bounds

UNITS = ("hours", "minutes", "days", "business_hours", "business_minutes", "business_days")
# The length of the supported years 1900-2199 in each unit: amounts this long are refused.
SPAN = {
    "hours": 2_629_752,
    "minutes": 157_785_120,
    "days": 109_573,
    "business_hours": 2_629_752,
    "business_minutes": 157_785_120,
    "business_days": 109_573,
}


@pytest.mark.parametrize("unit", UNITS)
def test_within_accepts_up_to_the_span_of_the_supported_years_and_refuses_beyond(
    unit: str,
) -> None:
    assert within(**{unit: SPAN[unit] - 1}).amount == SPAN[unit] - 1
    assert Within.parse(f"{unit}={SPAN[unit] - 1}").amount == SPAN[unit] - 1
    for amount in (SPAN[unit], SPAN[unit] + 1, 10**9, 10**400, 10**5000):
        began = time.perf_counter()
        refused(lambda a=amount: within(**{unit: a}), InvalidArgumentError, unit)
        refused(lambda a=amount: Within(unit, a), InvalidArgumentError, unit)
        assert time.perf_counter() - began < QUICK_SECONDS
    refused(lambda: Within.parse(f"{unit}={SPAN[unit]}"), InvalidArgumentError, unit)


@pytest.mark.parametrize("unit", ["hours", "minutes", "business_hours", "business_minutes"])
@pytest.mark.parametrize("amount", [1e300, 1.7e308, float(SPAN["hours"] * 60)])
def test_within_refuses_huge_floats(unit: str, amount: float) -> None:
    refused(lambda: within(**{unit: amount}), InvalidArgumentError, unit)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(UNITS),
    st.one_of(
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        NOT_TEXT,
        HOSTILE_TEXT,
    ),
)
def test_any_amount_is_a_spec_or_an_error_naming_the_unit(unit: str, amount: Any) -> None:
    spec, err = attempt(lambda: within(**{unit: amount}))
    if err is not None:
        assert isinstance(err, InvalidArgumentError)
        assert err.argument == ("within" if amount is None else unit)  # None: no unit given
        str(err).encode("utf-8")
    else:
        assert 0 <= spec.amount < SPAN[unit]
        assert Within.parse(spec.to_string()) == spec


def test_a_million_business_days_is_refused_at_once() -> None:
    began = time.perf_counter()
    refused(lambda: within(business_days=10**6), InvalidArgumentError, "business_days")
    assert time.perf_counter() - began < 0.05


@pytest.mark.parametrize("hours", ["Mon-Fri 09:00-17:00", "Sat 10:00-11:00", "Daily 00:00-24:00"])
def test_business_days_the_calendar_cannot_reach_before_2200_fail_at_once(hours: str) -> None:
    cal = BusinessCalendar(tz="America/New_York", hours=hours, country="US")
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    began = time.perf_counter()
    refused(lambda: cal.resolve(start, within(business_days=100_000)), CalendarError, "spec")
    assert time.perf_counter() - began < QUICK_SECONDS


def test_large_valid_specs_still_resolve() -> None:
    cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00")
    start = dt.datetime(1901, 3, 4, 10, tzinfo=NY)
    assert cal.resolve(start, within(days=100_000)).year == 2174
    assert cal.resolve(start, within(hours=2_000_000)).year == 2129
    assert cal.resolve(start, within(minutes=150_000_000)).year == 2186
    assert cal.resolve(start, within(business_days=5_000)).year == 1920
    assert cal.resolve(start, within(business_hours=40_000)).year == 1920


# --------------------------------------------------------------------------- huge amounts in add()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"delta": dt.timedelta.max}, "delta"),
        ({"delta": dt.timedelta.min}, "delta"),
        ({"delta": dt.timedelta(days=109_573)}, "delta"),
        ({"business_hours": 1e300}, "business_hours"),
        ({"business_hours": -(10**400)}, "business_hours"),
        ({"business_minutes": 10**5000}, "business_minutes"),
        ({"delta": dt.timedelta(days=1), "business_hours": 10**9}, "business_hours"),
        ({"delta": dt.timedelta(days=60_000), "business_hours": 1_000_000}, "delta"),
    ],
    ids=short_id,
)
def test_add_with_a_huge_amount_is_a_calendar_error_naming_it(
    kwargs: dict[str, Any], argument: str
) -> None:
    cal = BusinessCalendar(tz="America/New_York", country="US")
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    began = time.perf_counter()
    refused(lambda: cal.add(start, **kwargs), CalendarError, argument)
    assert time.perf_counter() - began < QUICK_SECONDS


@pytest.mark.parametrize("amount", [math.nan, math.inf, "1", 5, True, [1]])
def test_add_with_a_bad_delta_is_refused(amount: Any) -> None:
    cal = BusinessCalendar(tz="UTC")
    start = dt.datetime(2026, 11, 23, 10, tzinfo=UTC)
    refused(lambda: cal.add(start, amount), InvalidArgumentError, "delta")


# --------------------------------------------------------------------------- 11: FrozenClock

T0 = dt.datetime(2026, 11, 23, 10, tzinfo=UTC)
CLOCK_UNITS = ("days", "hours", "minutes", "seconds")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"hours": math.nan}, "hours"),  # ValueError before
        ({"days": 10**9}, "days"),  # OverflowError before
        ({"hours": math.inf}, "hours"),
        ({"minutes": -math.inf}, "minutes"),
        ({"hours": "1"}, "hours"),  # TypeError before
        ({"seconds": None}, "seconds"),
        ({"days": True}, "days"),
        ({"seconds": 1e300}, "seconds"),
        ({"days": 10**30}, "days"),
        ({"days": 10**5000}, "days"),
        ({"delta": 5}, "delta"),
        ({"delta": "1h"}, "delta"),
        ({"delta": dt.timedelta.max}, "delta"),
        ({"delta": dt.timedelta.min}, "delta"),
        ({"hours": -1}, "hours"),
        ({"delta": dt.timedelta(hours=1), "hours": -2}, "hours"),
        ({"days": 200 * 366}, "days"),  # past 2199
        ({"delta": dt.timedelta(days=60_000), "days": 30_000}, "delta"),
    ],
    ids=short_id,
)
def test_advance_with_a_hostile_amount_names_it_and_leaves_the_clock(
    kwargs: dict[str, Any], argument: str
) -> None:
    clock = FrozenClock(T0)
    refused(lambda: clock.advance(**kwargs), InvalidArgumentError, argument)
    assert clock.now() == T0


def test_advancing_to_the_last_supported_instant_works_and_one_more_is_refused() -> None:
    clock = FrozenClock(dt.datetime(2199, 12, 31, tzinfo=UTC))
    last = clock.advance(hours=23, minutes=59, seconds=59.999999)
    assert last == dt.datetime(2199, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    refused(lambda: clock.advance(dt.timedelta(microseconds=1)), InvalidArgumentError, "delta")
    assert clock.now() == last


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(CLOCK_UNITS),
        st.one_of(
            st.integers(-(10**6), 10**6),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            NOT_TEXT,
        ),
        max_size=3,
    ),
    st.one_of(st.none(), st.timedeltas(), NOT_TEXT),
)
def test_any_advance_moves_exactly_or_names_an_argument_and_stays(
    units: dict[str, Any], delta: Any
) -> None:
    clock = FrozenClock(T0)
    now, err = attempt(lambda: clock.advance(delta, **units))
    if err is not None:
        assert isinstance(err, InvalidArgumentError)
        assert err.argument in ("delta", *units)
        assert clock.now() == T0
    else:
        expected = (delta or dt.timedelta()) + dt.timedelta(**units)
        assert now - T0 == expected
        assert clock.now() == now
        assert now.year <= 2199


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        dt.datetime(2200, 1, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(2199, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=2))),
        5,
        "2026-11-23T10:00:00+00:00",
        dt.date(2026, 11, 23),
        None,
    ],
    ids=short_id,
)
def test_frozen_clock_refuses_instants_outside_the_supported_years(at: Any) -> None:
    if at is None:  # FrozenClock() starts at its default; set(None) is refused
        assert FrozenClock(None).now() == dt.datetime(2026, 1, 1, tzinfo=UTC)
    else:
        refused(lambda: FrozenClock(at), InvalidArgumentError, "at")
    clock = FrozenClock(T0)
    refused(lambda: clock.set(at), InvalidArgumentError, "at")
    assert clock.now() == T0


def test_frozen_clock_refuses_naive_instants() -> None:
    refused(lambda: FrozenClock(dt.datetime(2026, 1, 1)), NaiveDatetimeError, "at")
    refused(lambda: FrozenClock(T0).set(dt.datetime(2026, 1, 1)), NaiveDatetimeError, "at")


def test_frozen_clock_accepts_the_first_and_last_supported_instants() -> None:
    first = dt.datetime(1900, 1, 1, tzinfo=UTC)
    last = dt.datetime(2199, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert FrozenClock(first).now() == first
    assert FrozenClock(T0).set(last) == last


# --------------------------------------------------------------------------- broken tzinfo


class _BrokenZone(dt.tzinfo):
    """A tzinfo whose utcoffset() misbehaves in one of several ways."""

    def __init__(self, how: str) -> None:
        self.how = how

    def utcoffset(self, _value: dt.datetime | None) -> dt.timedelta | None:
        if self.how == "raises":
            raise ValueError("no offset today")
        if self.how == "too large":
            return dt.timedelta(hours=25)
        return "+01:00"  # type: ignore[return-value]

    def dst(self, _value: dt.datetime | None) -> dt.timedelta | None:
        return None

    def tzname(self, _value: dt.datetime | None) -> str | None:
        return "broken"


@pytest.mark.parametrize("how", ["raises", "too large", "not a timedelta"])
def test_a_broken_tzinfo_is_a_named_error(how: str) -> None:
    value = dt.datetime(2026, 11, 23, 10, tzinfo=_BrokenZone(how))
    cal = BusinessCalendar(tz="UTC")
    refused(lambda: cal.resolve(value, within(hours=1)), InvalidArgumentError, "start")
    refused(lambda: cal.between(T0, value), InvalidArgumentError, "b")
    refused(lambda: cal.is_open(value), InvalidArgumentError, "at")
    refused(lambda: FrozenClock(value), InvalidArgumentError, "at")


# --------------------------------------------------------------------------- 1900 and 2199

EDGE_ZONES = [
    UTC,
    ZoneInfo("Pacific/Kiritimati"),  # +14
    ZoneInfo("Etc/GMT+12"),  # -12
    NY,
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
]
EDGE_CALENDARS = [
    BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US"),
    BusinessCalendar.always_open("Pacific/Kiritimati"),
    BusinessCalendar(tz="Etc/GMT+12", hours="Sat 22:00-06:00"),
    BusinessCalendar(tz="UTC", closures=[(dt.date(2199, 6, 1), dt.date(2199, 12, 31))]),
]


def _edge_instants() -> st.SearchStrategy[dt.datetime]:
    near = st.one_of(
        st.datetimes(dt.datetime(1899, 12, 29), dt.datetime(1900, 1, 4)),
        st.datetimes(dt.datetime(2199, 12, 25), dt.datetime(2200, 1, 2)),
    )
    return st.builds(
        lambda naive, zone: naive.replace(tzinfo=zone), near, st.sampled_from(EDGE_ZONES)
    )


EDGE_SPECS = st.one_of(
    st.builds(lambda u, n: within(**{u: n}), st.sampled_from(UNITS), st.integers(0, 400)),
    st.builds(lambda n: within(business_hours=n), st.floats(0, 5000)),
    st.builds(lambda u: within(**{u: SPAN[u] - 1}), st.sampled_from(UNITS)),
)


def _inside_or_keepword_error(call: Callable[[], object]) -> None:
    began = time.perf_counter()
    result, err = attempt(call)
    if err is not None:
        assert err.argument is not None
        str(err).encode("utf-8")
    elif isinstance(result, dt.datetime):
        assert dt.datetime(1900, 1, 1, tzinfo=UTC) <= result < dt.datetime(2200, 1, 1, tzinfo=UTC)
    assert time.perf_counter() - began < 5.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(EDGE_CALENDARS))),
    _edge_instants(),
    _edge_instants(),
    EDGE_SPECS,
    st.floats(-5000, 5000),
)
def test_near_1900_and_2199_every_query_answers_inside_the_years_or_names_an_argument(
    which: int, a: dt.datetime, b: dt.datetime, spec: Within, amount: float
) -> None:
    cal = EDGE_CALENDARS[which]
    _inside_or_keepword_error(lambda: cal.resolve(a, spec))
    _inside_or_keepword_error(lambda: cal.explain(a, spec))
    _inside_or_keepword_error(lambda: cal.add(a, business_hours=amount))
    _inside_or_keepword_error(lambda: cal.add(a, dt.timedelta(hours=amount)))
    _inside_or_keepword_error(lambda: cal.between(a, b))
    _inside_or_keepword_error(lambda: cal.next_open(a))
    _inside_or_keepword_error(lambda: cal.next_close(a))
    _inside_or_keepword_error(lambda: cal.is_open(a))


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c, t: c.resolve(t, within(hours=48)), "spec"),
        (lambda c, t: c.resolve(t, within(business_days=5)), "spec"),
        (lambda c, t: c.add(t, business_hours=48), "business_hours"),
        (lambda c, t: c.add(t, dt.timedelta(days=3)), "delta"),
        (lambda c, t: c.next_close(t), "at"),
    ],
    ids=["resolve", "business_days", "add", "add_delta", "next_close"],
)
def test_crossing_into_2200_is_a_calendar_error_naming_the_argument(
    call: Callable[[BusinessCalendar, dt.datetime], object], argument: str
) -> None:
    cal = BusinessCalendar.always_open("UTC")
    refused(lambda: call(cal, dt.datetime(2199, 12, 31, 12, tzinfo=UTC)), CalendarError, argument)


def test_counting_back_past_1900_is_a_calendar_error_naming_the_amount() -> None:
    cal = BusinessCalendar.always_open("UTC")
    start = dt.datetime(1900, 1, 1, 12, tzinfo=UTC)
    refused(lambda: cal.add(start, business_hours=-24), CalendarError, "business_hours")
    refused(lambda: cal.add(start, dt.timedelta(days=-1)), CalendarError, "delta")
