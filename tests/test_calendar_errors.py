"""Bad input to calendars and within(): refused with a named argument, never a hang or a raw error.

RELIABILITY.md "Bad input" and scenarios 14-16.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
import pytz

from keepword import (
    BusinessCalendar,
    CalendarError,
    InvalidArgumentError,
    KeepwordError,
    NaiveDatetimeError,
    within,
)

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
UNITS = ("hours", "minutes", "days", "business_hours", "business_minutes", "business_days")
GENEROUS_SECONDS = 5.0


def refused(
    call: Callable[[], object], kind: type[KeepwordError], argument: str | tuple[str, ...]
) -> KeepwordError:
    """Assert ``call`` raises ``kind`` (also a ValueError) naming ``argument``; return it."""
    with pytest.raises(kind) as info:
        call()
    err = info.value
    assert isinstance(err, KeepwordError)
    assert isinstance(err, ValueError)
    names = (argument,) if isinstance(argument, str) else argument
    assert err.argument in names
    assert err.argument in str(err)
    return err


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "tz", ["Europe/Stokholm", "America/NewYork", "EST5EDT/x", "Mars/Olympus", "", "  ", "utc"]
)
def test_unknown_or_misspelled_zone_is_refused(tz: str) -> None:
    refused(lambda: BusinessCalendar(tz=tz, hours="Mon-Fri 09:00-17:00"), CalendarError, "tz")


@pytest.mark.parametrize("tz", [None, 5, dt.timedelta(hours=1)])
def test_zone_that_is_not_a_name_is_refused(tz: Any) -> None:
    refused(lambda: BusinessCalendar(tz=tz), CalendarError, "tz")


@pytest.mark.parametrize(
    "hours",
    [
        "Mon-Fri 9-5",
        "Mon-Fri",
        "09:00-17:00",
        "Mnday 09:00-17:00",
        "Mon-Fri 09:00-25:00",
        "Mon-Fri 09:60-17:00",
        "Mon-Fri 24:00-02:00",
        "Mon-Fri 09:00 17:00",
        "Mon-Fri 09:00-17:00;; Sat ten-two",
    ],
)
def test_unparseable_hours_are_refused(hours: str) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", hours=hours), CalendarError, "hours")


@pytest.mark.parametrize(
    "hours",
    [
        "Mon-Fri 09:00-12:00,11:00-13:00",
        "Mon 09:00-17:00; Mon-Tue 16:00-18:00",
        "Mon 22:00-06:00; Tue 05:00-07:00",  # overnight into the next day's opening
        "Sun 22:00-06:00; Mon 05:00-07:00",  # Sunday night into Monday
        {"Mon": "09:00-17:00", "mon": "12:00-13:00"},
    ],
)
def test_overlapping_hours_are_refused(hours: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", hours=hours), CalendarError, "hours")


@pytest.mark.parametrize("hours", ["", "   ", ";", {}, {"Mon": []}])
def test_empty_hours_are_refused(hours: Any) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", hours=hours), CalendarError, "hours")


@pytest.mark.parametrize("hours", ["Mon-Fri 09:00-09:00", "Daily 00:00-00:00", "Sat 24:00-24:00"])
def test_zero_length_intervals_are_refused(hours: str) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", hours=hours), CalendarError, "hours")


def test_zero_length_special_hours_are_refused() -> None:
    refused(
        lambda: BusinessCalendar(tz="UTC", special_hours={dt.date(2026, 1, 2): "09:00-09:00"}),
        CalendarError,
        "special_hours",
    )


@pytest.mark.parametrize("country", ["XX", "Sweden", "ZZ", ""])
def test_unknown_country_is_refused(country: str) -> None:
    refused(lambda: BusinessCalendar(tz="UTC", country=country), CalendarError, "country")


@pytest.mark.parametrize(("country", "subdiv"), [("US", "ZZ"), ("DE", "XX"), ("SE", "CA")])
def test_unknown_subdivision_is_refused(country: str, subdiv: str) -> None:
    refused(
        lambda: BusinessCalendar(tz="UTC", country=country, subdiv=subdiv), CalendarError, "subdiv"
    )


def test_subdivision_without_a_country_is_refused() -> None:
    refused(lambda: BusinessCalendar(tz="UTC", subdiv="CA"), CalendarError, "subdiv")


# --------------------------------------------------------------------------- within()


def test_within_without_a_unit_is_refused() -> None:
    refused(within, InvalidArgumentError, ("within", *UNITS))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hours": 1, "days": 1},
        {"business_days": 1, "business_hours": 8},
        {"minutes": 0, "hours": 0},
    ],
)
def test_within_with_two_units_is_refused(kwargs: dict[str, Any]) -> None:
    refused(lambda: within(**kwargs), InvalidArgumentError, tuple(kwargs))


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize(
    "amount", [-1, -0.5, True, False, math.nan, math.inf, -math.inf, "3", b"3"]
)
def test_within_refuses_negative_bool_nan_inf_and_non_numbers(unit: str, amount: Any) -> None:
    if unit in ("days", "business_days") and amount == -0.5:
        amount = -1
    refused(lambda: within(**{unit: amount}), InvalidArgumentError, unit)


@pytest.mark.parametrize("unit", ["days", "business_days"])
@pytest.mark.parametrize("amount", [1.5, 0.25, 2.0])
def test_whole_day_units_refuse_floats(unit: str, amount: float) -> None:
    # docs/calendars.md, "The units of within()": "`days` and `business_days` are whole numbers".
    refused(lambda: within(**{unit: amount}), InvalidArgumentError, unit)


@pytest.mark.parametrize("unit", UNITS)
def test_within_accepts_zero(unit: str) -> None:
    assert within(**{unit: 0}).amount == 0


def test_resolve_refuses_a_spec_that_is_not_a_within(cal: BusinessCalendar) -> None:
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    refused(lambda: cal.resolve(start, "business_days=3"), InvalidArgumentError, "spec")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [math.nan, math.inf, "1", True])
def test_add_refuses_bad_business_amounts(cal: BusinessCalendar, amount: Any) -> None:
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    refused(lambda: cal.add(start, business_hours=amount), InvalidArgumentError, "business_hours")
    refused(
        lambda: cal.add(start, business_minutes=amount), InvalidArgumentError, "business_minutes"
    )


# --------------------------------------------------------------------------- times


def _time_calls(cal: BusinessCalendar, value: Any) -> list[tuple[str, Callable[[], object], str]]:
    good = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    spec = within(business_days=1)
    return [
        ("resolve", lambda: cal.resolve(value, spec), "start"),
        ("add", lambda: cal.add(value, business_hours=1), "start"),
        ("between.a", lambda: cal.between(value, good), "a"),
        ("between.b", lambda: cal.between(good, value), "b"),
        ("is_open", lambda: cal.is_open(value), "at"),
        ("next_open", lambda: cal.next_open(value), "at"),
        ("next_close", lambda: cal.next_close(value), "at"),
        ("explain", lambda: cal.explain(value, spec), "start"),
    ]


CALL_NAMES = [name for name, _, _ in _time_calls(BusinessCalendar(tz="UTC"), None)]


@pytest.mark.parametrize("index", range(len(CALL_NAMES)), ids=CALL_NAMES)
def test_naive_datetime_is_refused_naming_the_argument(cal: BusinessCalendar, index: int) -> None:
    _, call, argument = _time_calls(cal, dt.datetime(2026, 11, 23, 10))[index]
    refused(call, NaiveDatetimeError, argument)


@pytest.mark.parametrize("index", range(len(CALL_NAMES)), ids=CALL_NAMES)
@pytest.mark.parametrize(
    "value", [dt.date(2026, 11, 23), "2026-11-23T10:00:00+00:00", 1_700_000_000, None]
)
def test_date_string_or_number_instead_of_datetime_is_refused(
    cal: BusinessCalendar, index: int, value: Any
) -> None:
    _, call, argument = _time_calls(cal, value)[index]
    refused(call, InvalidArgumentError, argument)


def test_naive_datetime_to_a_pendulum_value_is_refused(cal: BusinessCalendar) -> None:
    naive = pendulum.naive(2026, 11, 23, 10)
    refused(lambda: cal.resolve(naive, within(hours=1)), NaiveDatetimeError, "start")


def _same_instant_flavours() -> list[tuple[str, dt.datetime]]:
    instant = dt.datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Mon 10:00 in New York
    return [
        ("zoneinfo", instant.astimezone(NY)),
        ("utc", instant),
        ("kathmandu +05:45", instant.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=45)))),
        (
            "newfoundland -03:30",
            instant.astimezone(dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        ),
        ("chatham +13:45", instant.astimezone(dt.timezone(dt.timedelta(hours=13, minutes=45)))),
        ("pytz", pytz.timezone("America/New_York").localize(dt.datetime(2026, 11, 23, 10))),
        ("pytz kathmandu", instant.astimezone(pytz.timezone("Asia/Kathmandu"))),
        ("pendulum", pendulum.datetime(2026, 11, 23, 10, tz="America/New_York")),
        ("pendulum tehran", pendulum.instance(instant).in_timezone("Asia/Tehran")),
    ]


@pytest.mark.parametrize(
    "value", [v for _, v in _same_instant_flavours()], ids=[n for n, _ in _same_instant_flavours()]
)
def test_any_kind_of_aware_datetime_gives_the_same_answers(
    cal: BusinessCalendar, value: dt.datetime
) -> None:
    reference = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    for spec in (within(business_days=3), within(business_hours=4), within(days=1)):
        assert cal.resolve(value, spec) == cal.resolve(reference, spec)
    assert cal.add(value, business_hours=-2) == cal.add(reference, business_hours=-2)
    assert cal.between(value, reference + dt.timedelta(hours=3)) == dt.timedelta(hours=3)
    assert cal.is_open(value)
    assert cal.next_close(value) == dt.datetime(2026, 11, 23, 17, tzinfo=NY)


def test_pytz_localised_value_in_a_fold_means_the_instant_it_names() -> None:
    cal = BusinessCalendar.always_open("America/New_York")
    second = pytz.timezone("America/New_York").localize(
        dt.datetime(2026, 11, 1, 1, 30), is_dst=False
    )
    due = cal.resolve(second, within(hours=1))
    assert due.astimezone(UTC) == dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- degenerate calendars

TEN_YEARS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(3653)]


def _degenerate_calendars() -> list[tuple[str, Callable[[], BusinessCalendar]]]:
    return [
        (
            "closed ten years",
            lambda: BusinessCalendar(
                tz="UTC", closures=[(dt.date(2026, 1, 1), dt.date(2035, 12, 31))]
            ),
        ),
        (
            "holiday every day",
            lambda: BusinessCalendar(
                tz="Europe/Stockholm", hours="Daily 00:00-24:00", holidays=TEN_YEARS
            ),
        ),
        (
            "special hours closed every day",
            lambda: BusinessCalendar(
                tz="America/New_York", special_hours=dict.fromkeys(TEN_YEARS, "")
            ),
        ),
    ]


@pytest.mark.parametrize(
    "build", [b for _, b in _degenerate_calendars()], ids=[n for n, _ in _degenerate_calendars()]
)
@pytest.mark.parametrize(
    ("query", "backwards"),
    [
        (lambda c, t: c.resolve(t, within(business_hours=1)), False),
        (lambda c, t: c.resolve(t, within(business_minutes=1)), False),
        (lambda c, t: c.resolve(t, within(business_days=0)), False),
        (lambda c, t: c.resolve(t, within(business_days=1)), False),
        (lambda c, t: c.next_open(t), False),
        (lambda c, t: c.next_close(t), False),
        (lambda c, t: c.explain(t, within(business_days=2)), False),
        (lambda c, t: c.add(t, business_hours=-1), True),
        (lambda c, t: c.add(t, business_minutes=-1), True),
    ],
    ids=[
        "hours",
        "minutes",
        "days0",
        "days1",
        "next_open",
        "next_close",
        "explain",
        "back_hours",
        "back_minutes",
    ],
)
def test_calendar_without_open_time_raises_quickly(
    build: Callable[[], BusinessCalendar],
    query: Callable[[BusinessCalendar, dt.datetime], object],
    backwards: bool,
) -> None:
    # Every query below would have to cross the ten closed years to find open time.
    cal = build()
    edge = (
        dt.datetime(2035, 12, 31, 23, tzinfo=UTC)
        if backwards
        else dt.datetime(2026, 1, 1, 5, tzinfo=UTC)
    )
    for start in (dt.datetime(2030, 6, 1, 12, tzinfo=UTC), edge):
        began = time.perf_counter()
        with pytest.raises(CalendarError) as info:
            query(cal, start)
        assert time.perf_counter() - began < GENEROUS_SECONDS
        assert info.value.argument is not None


@pytest.mark.parametrize("hours", ["", "Mon-Fri 09:00-09:00", {"Mon-Sun": []}])
def test_calendar_with_no_hours_is_refused_when_built(hours: Any) -> None:
    began = time.perf_counter()
    refused(lambda: BusinessCalendar(tz="UTC", hours=hours), CalendarError, "hours")
    assert time.perf_counter() - began < GENEROUS_SECONDS


def test_closure_of_ten_years_still_measures_zero_open_time() -> None:
    cal = _degenerate_calendars()[0][1]()
    start = dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert cal.between(start, start + dt.timedelta(days=400)) == dt.timedelta(0)
    assert not cal.is_open(start)


# --------------------------------------------------------------------------- extremes


def _only_keepword_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(KeepwordError):
        call()


@pytest.mark.parametrize(
    "start",
    [
        dt.datetime(2199, 12, 31, 12, tzinfo=UTC),
        dt.datetime(2199, 12, 31, 23, 59, 59, 999_999, tzinfo=ZoneInfo("Pacific/Kiritimati")),
        dt.datetime(2199, 6, 1, tzinfo=NY),
        dt.datetime(1900, 1, 1, tzinfo=UTC),
        dt.datetime(1900, 1, 1, 0, 30, tzinfo=ZoneInfo("Etc/GMT+12")),
        dt.datetime(1899, 12, 31, 23, tzinfo=UTC),
        dt.datetime(2200, 1, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    ],
    ids=str,
)
@pytest.mark.parametrize(
    ("unit", "amount"),
    [
        ("business_hours", 10**6),
        ("business_minutes", 10**9),
        ("business_days", 10**6),
        ("days", 10**6),
        ("hours", 10**9),
        ("minutes", 10**15),
        ("business_hours", 10**400),
        ("hours", 10**400),
        ("business_hours", 0),
        ("days", 0),
    ],
    ids=lambda value: value if isinstance(value, str) else f"1e{len(str(value)) - 1}",
)
def test_extremes_raise_only_keepword_errors(
    cal: BusinessCalendar, start: dt.datetime, unit: str, amount: int
) -> None:
    # An amount longer than the supported years is refused by within() itself.
    _only_keepword_errors(lambda: cal.resolve(start, within(**{unit: amount})))
    _only_keepword_errors(lambda: cal.explain(start, within(**{unit: amount})))
    _only_keepword_errors(lambda: cal.add(start, business_hours=-(10**6)))
    _only_keepword_errors(lambda: cal.between(start, dt.datetime(2026, 1, 1, tzinfo=UTC)))
    _only_keepword_errors(lambda: cal.next_open(start))
    _only_keepword_errors(lambda: cal.next_close(start))
    _only_keepword_errors(lambda: cal.is_open(start))


def test_a_million_business_hours_from_today_is_a_calendar_error(cal: BusinessCalendar) -> None:
    # 10**6 h at 40 h a week is about 480 years: past 2199
    with pytest.raises(CalendarError):
        cal.resolve(dt.datetime(2026, 11, 23, 10, tzinfo=NY), within(business_hours=10**6))


@pytest.mark.parametrize("unit", ["hours", "minutes", "business_hours", "business_minutes"])
@pytest.mark.parametrize("amount", [1e300, 1.7e308, 1e20])
def test_huge_finite_float_amounts_raise_only_keepword_errors(
    cal: BusinessCalendar, unit: str, amount: float
) -> None:
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    with pytest.raises(KeepwordError):
        cal.resolve(start, within(**{unit: amount}))


@pytest.mark.parametrize("unit", ["hours", "minutes", "days", "business_days", "business_hours"])
def test_huge_integer_amounts_raise_only_keepword_errors(cal: BusinessCalendar, unit: str) -> None:
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    with pytest.raises(KeepwordError):
        cal.resolve(start, within(**{unit: 10**400}))


@pytest.mark.parametrize(
    "amount", [1e300, -1e300, 10**400, -(10**400)], ids=["1e300", "-1e300", "10**400", "-10**400"]
)
def test_add_with_a_huge_amount_raises_only_keepword_errors(
    cal: BusinessCalendar, amount: float
) -> None:
    start = dt.datetime(2026, 11, 23, 10, tzinfo=NY)
    with pytest.raises(KeepwordError):
        cal.add(start, business_hours=amount)


@pytest.mark.parametrize("delta", [dt.timedelta.max, dt.timedelta.min])
def test_add_with_the_largest_timedelta_is_a_calendar_error(
    cal: BusinessCalendar, delta: dt.timedelta
) -> None:
    with pytest.raises(CalendarError):
        cal.add(dt.datetime(2026, 11, 23, 10, tzinfo=NY), delta)
