"""Hand-checked business calendar cases with exact expected instants.

Each expected value was worked out by hand from DESIGN.md "Time" and the
calendar contract; the comments show the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from keepword import BusinessCalendar, Within, within

NY = ZoneInfo("America/New_York")
STO = ZoneInfo("Europe/Stockholm")
UTC = dt.UTC
H = dt.timedelta(hours=1)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


def sto(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=STO)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def u(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC.

    Compare instants through this: Python compares datetimes sharing a tzinfo by
    wall time, and calls a time inside a fold unequal to any other zone's time.
    """
    return value.astimezone(UTC)


@pytest.fixture
def us() -> BusinessCalendar:
    return BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


# --------------------------------------------------------------------------- DESIGN.md examples


def test_three_business_days_from_monday_skip_thanksgiving(us: BusinessCalendar) -> None:
    due = us.resolve(ny(2026, 11, 23, 10), within(business_days=3))
    # Tue 24, Wed 25, (Thu 26 Thanksgiving), Fri 27 -> close of Friday
    assert due == ny(2026, 11, 27, 17)
    assert due.isoformat() == "2026-11-27T17:00:00-05:00"


def test_four_business_hours_from_friday_afternoon_end_monday_noon(us: BusinessCalendar) -> None:
    # Fri 16:00-17:00 is 1 h, Mon 09:00-12:00 the other 3 h
    assert us.resolve(ny(2026, 11, 20, 16), within(business_hours=4)) == ny(2026, 11, 23, 12)


def test_deadline_is_expressed_in_the_calendar_zone(us: BusinessCalendar) -> None:
    due = us.resolve(utc(2026, 11, 20, 21), within(business_hours=4))
    assert due.utcoffset() == dt.timedelta(hours=-5)
    assert due.replace(tzinfo=None) == dt.datetime(2026, 11, 23, 12)


# --------------------------------------------------------------------------- split shifts


@pytest.fixture
def lunch() -> BusinessCalendar:
    return BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 09:00-12:00,13:00-17:00")


def test_lunch_break_is_not_counted(lunch: BusinessCalendar) -> None:
    # Mon 11:00-12:00 is 1 h, lunch skipped, 13:00-14:00 the second hour
    assert lunch.add(sto(2026, 11, 23, 11), business_hours=2) == sto(2026, 11, 23, 14)
    assert lunch.between(sto(2026, 11, 23, 9), sto(2026, 11, 23, 17)) == 7 * H


def test_completing_at_the_start_of_lunch_gives_the_start_of_lunch(
    lunch: BusinessCalendar,
) -> None:
    assert lunch.add(sto(2026, 11, 23, 11), business_hours=1) == sto(2026, 11, 23, 12)


def test_lunch_break_is_closed_and_reopens_at_one(lunch: BusinessCalendar) -> None:
    assert not lunch.is_open(sto(2026, 11, 23, 12, 30))
    assert lunch.is_open(sto(2026, 11, 23, 13))
    assert lunch.next_open(sto(2026, 11, 23, 12, 30)) == sto(2026, 11, 23, 13)
    assert lunch.next_close(sto(2026, 11, 23, 10)) == sto(2026, 11, 23, 12)


def test_business_day_close_is_the_end_of_the_last_interval(lunch: BusinessCalendar) -> None:
    assert lunch.resolve(sto(2026, 11, 23, 10), within(business_days=0)) == sto(2026, 11, 23, 17)


def test_weekend_group_adds_saturday_hours() -> None:
    cal = BusinessCalendar(
        tz="Europe/Stockholm", hours="Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"
    )
    # Fri 16:00-17:00 (1 h) then Sat 10:00-12:00 (2 h)
    assert cal.add(sto(2026, 11, 27, 16), business_hours=3) == sto(2026, 11, 28, 12)


# --------------------------------------------------------------------------- overnight shifts


@pytest.fixture
def nights() -> BusinessCalendar:
    return BusinessCalendar(tz="UTC", hours="Mon-Fri 22:00-06:00")


def test_overnight_shift_runs_past_midnight(nights: BusinessCalendar) -> None:
    assert nights.add(utc(2026, 11, 23, 23), business_hours=4) == utc(2026, 11, 24, 3)
    assert nights.is_open(utc(2026, 11, 24, 5, 59))
    assert not nights.is_open(utc(2026, 11, 24, 6))


def test_friday_night_shift_ends_on_saturday_morning(nights: BusinessCalendar) -> None:
    assert nights.is_open(utc(2026, 11, 28, 5))  # Sat 05:00, still Friday's shift
    assert not nights.is_open(utc(2026, 11, 23, 2))  # Mon 02:00: no Sunday shift
    # Fri 23:00 -> Sat 06:00 is 7 h; the 8th hour is Mon 22:00-23:00
    assert nights.add(utc(2026, 11, 27, 23), business_hours=8) == utc(2026, 11, 30, 23)


def test_overnight_shift_belongs_to_the_day_it_starts(nights: BusinessCalendar) -> None:
    assert nights.is_business_day(dt.date(2026, 11, 27))
    assert not nights.is_business_day(dt.date(2026, 11, 28))
    # close of Tuesday's business day is Wednesday 06:00
    assert nights.resolve(utc(2026, 11, 23, 10), within(business_days=1)) == utc(2026, 11, 25, 6)


@pytest.mark.parametrize(
    ("zone", "opens", "closes", "open_hours"),
    [
        # Stockholm spring forward Sun 2026-03-29 02:00 CET -> 03:00 CEST
        ("Europe/Stockholm", utc(2026, 3, 28, 21), utc(2026, 3, 29, 4), 7),
        # Stockholm fall back Sun 2026-10-25 03:00 CEST -> 02:00 CET
        ("Europe/Stockholm", utc(2026, 10, 24, 20), utc(2026, 10, 25, 5), 9),
        # New York spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT
        ("America/New_York", utc(2026, 3, 8, 3), utc(2026, 3, 8, 10), 7),
        # New York fall back Sun 2026-11-01 02:00 EDT -> 01:00 EST
        ("America/New_York", utc(2026, 11, 1, 2), utc(2026, 11, 1, 11), 9),
    ],
)
def test_overnight_shift_across_a_dst_change_counts_real_hours(
    zone: str, opens: dt.datetime, closes: dt.datetime, open_hours: int
) -> None:
    cal = BusinessCalendar(tz=zone, hours="Daily 22:00-06:00")
    evening = opens - 2 * H
    assert cal.next_open(evening) == opens
    assert cal.next_close(evening) == closes
    assert cal.between(evening, closes + 2 * H) == open_hours * H
    assert cal.add(opens, business_hours=open_hours) == closes
    assert cal.add(closes, business_hours=-open_hours) == opens


# --------------------------------------------------------------------------- holidays


@pytest.fixture
def sweden() -> BusinessCalendar:
    return BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE")


def test_swedish_christmas_day_is_closed(sweden: BusinessCalendar) -> None:
    # Thu 24 Dec is open (Christmas Eve is not a public holiday), Fri 25 Dec is not
    assert sweden.is_business_day(dt.date(2026, 12, 24))
    assert not sweden.is_business_day(dt.date(2026, 12, 25))
    due = sweden.resolve(sto(2026, 12, 24, 10), within(business_days=1))
    assert due == sto(2026, 12, 28, 16)
    text = sweden.explain(sto(2026, 12, 24, 10), within(business_days=1))
    assert "Christmas Day" in text
    assert "Mon 28 Dec 16:00" in text


def test_swedish_midsummer_day_closes_a_saturday_opening() -> None:
    cal = BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Sat 10:00-16:00", country="SE")
    assert cal.is_business_day(dt.date(2026, 6, 13))  # an ordinary Saturday
    assert not cal.is_business_day(dt.date(2026, 6, 20))  # Midsummer Day
    # Fri 15:00-16:00 (1 h), Sat 20 closed, Sun closed, Mon 10:00-11:00
    assert cal.add(sto(2026, 6, 19, 15), business_hours=2) == sto(2026, 6, 22, 11)
    assert "Midsummer" in cal.explain(sto(2026, 6, 19, 15), within(business_hours=2))


def test_us_new_year_2022_observed_on_friday_2021_12_31(us: BusinessCalendar) -> None:
    assert not us.is_business_day(dt.date(2021, 12, 31))
    assert not us.is_open(ny(2021, 12, 31, 12))
    # Thu 30 Dec 16:00-17:00 (1 h), then Mon 3 Jan 2022 09:00-10:00
    assert us.add(ny(2021, 12, 30, 16), business_hours=2) == ny(2022, 1, 3, 10)


@pytest.mark.parametrize(
    ("country", "subdiv", "day", "open_"),
    [
        ("US", "TX", dt.date(2026, 4, 3), False),  # Good Friday in Texas
        ("US", "CA", dt.date(2026, 4, 3), True),
        ("US", "CA", dt.date(2026, 3, 31), False),  # Cesar Chavez Day
        ("US", "NY", dt.date(2026, 3, 31), True),
        ("US", "TX", dt.date(2026, 3, 2), False),  # Texas Independence Day
        ("US", "CA", dt.date(2026, 3, 2), True),
        ("DE", "BY", dt.date(2026, 1, 6), False),  # Epiphany in Bavaria
        ("DE", "BE", dt.date(2026, 1, 6), True),
        ("DE", "BE", dt.date(2027, 3, 8), False),  # Women's Day in Berlin
        ("DE", "BY", dt.date(2027, 3, 8), True),
    ],
)
def test_subdivision_holidays_differ(country: str, subdiv: str, day: dt.date, open_: bool) -> None:
    zone = "America/Los_Angeles" if country == "US" else "Europe/Berlin"
    cal = BusinessCalendar(tz=zone, hours="Mon-Fri 09:00-17:00", country=country, subdiv=subdiv)
    assert cal.is_business_day(day) is open_


def test_extra_holiday_names_appear_in_explain() -> None:
    cal = BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-17:00",
        holidays={dt.date(2026, 11, 24): "Founders' Day"},
    )
    # Mon 23 -> (Tue 24 closed) Wed 25
    assert cal.resolve(ny(2026, 11, 23, 10), within(business_days=1)) == ny(2026, 11, 25, 17)
    text = cal.explain(ny(2026, 11, 23, 10), within(business_days=1))
    assert "Founders' Day" in text
    assert "Wed 25 Nov 17:00" in text


def test_explain_names_thanksgiving_and_the_due_time(us: BusinessCalendar) -> None:
    text = us.explain(ny(2026, 11, 23, 10), within(business_days=3))
    assert "Thanksgiving" in text
    assert "Fri 27 Nov 17:00" in text
    assert text.startswith("3 business days from Mon 23 Nov 10:00")


# --------------------------------------------------------------------------- business_days=0


@pytest.mark.parametrize(
    ("made", "due"),
    [
        (ny(2026, 11, 23, 8), ny(2026, 11, 23, 17)),  # before opening: today's close
        (ny(2026, 11, 23, 12), ny(2026, 11, 23, 17)),  # while open: today's close
        (ny(2026, 11, 23, 17), ny(2026, 11, 24, 17)),  # exactly at close: tomorrow's
        (ny(2026, 11, 23, 18), ny(2026, 11, 24, 17)),  # after close: tomorrow's
        (ny(2026, 11, 21, 12), ny(2026, 11, 23, 17)),  # Saturday: Monday's
        (ny(2026, 11, 25, 18), ny(2026, 11, 27, 17)),  # Wed evening, Thu Thanksgiving: Fri
    ],
)
def test_zero_business_days_is_close_of_business_today_or_next(
    us: BusinessCalendar, made: dt.datetime, due: dt.datetime
) -> None:
    assert us.resolve(made, within(business_days=0)) == due


def test_business_days_count_from_the_start_date_even_when_closed(us: BusinessCalendar) -> None:
    # made Saturday: the 1st business day strictly after Sat 21 is Mon 23
    assert us.resolve(ny(2026, 11, 21, 12), within(business_days=1)) == ny(2026, 11, 23, 17)
    # made Monday 18:00 (after close): 1st business day after Mon 23 is Tue 24
    assert us.resolve(ny(2026, 11, 23, 18), within(business_days=1)) == ny(2026, 11, 24, 17)


# --------------------------------------------------------------------------- business hours


@pytest.mark.parametrize(
    ("made", "hours", "due"),
    [
        (ny(2026, 11, 23, 9), 8, ny(2026, 11, 23, 17)),  # a full day ends at its close
        (ny(2026, 11, 20, 13), 4, ny(2026, 11, 20, 17)),  # Friday close, not Monday 09:00
        (ny(2026, 11, 21, 12), 1, ny(2026, 11, 23, 10)),  # from Saturday
        (ny(2026, 11, 22, 23), 1, ny(2026, 11, 23, 10)),  # from Sunday night
        (ny(2026, 11, 23, 7), 0.5, ny(2026, 11, 23, 9, 30)),  # before opening
        (ny(2026, 11, 23, 17), 1, ny(2026, 11, 24, 10)),  # exactly at close
        (ny(2026, 11, 25, 16), 2, ny(2026, 11, 27, 10)),  # over Thanksgiving
    ],
)
def test_business_hours_examples(
    us: BusinessCalendar, made: dt.datetime, hours: float, due: dt.datetime
) -> None:
    assert us.resolve(made, within(business_hours=hours)) == due
    assert us.add(made, business_hours=hours) == due
    assert us.add(made, dt.timedelta(hours=hours)) == due


def test_business_minutes_match_business_hours(us: BusinessCalendar) -> None:
    made = ny(2026, 11, 20, 16, 30)
    assert us.resolve(made, within(business_minutes=90)) == ny(2026, 11, 23, 10)
    assert us.add(made, business_minutes=90) == ny(2026, 11, 23, 10)


def test_going_backwards_lands_on_an_opening_not_the_previous_close(
    us: BusinessCalendar,
) -> None:
    assert us.add(ny(2026, 11, 23, 10), business_hours=-1) == ny(2026, 11, 23, 9)
    assert us.add(ny(2026, 11, 23, 9), business_hours=-1) == ny(2026, 11, 20, 16)
    assert us.between(ny(2026, 11, 23, 10), ny(2026, 11, 20, 16)) == -2 * H


def test_zero_business_hours_while_open_or_at_close_is_the_start(us: BusinessCalendar) -> None:
    assert us.add(ny(2026, 11, 23, 10), dt.timedelta(0)) == ny(2026, 11, 23, 10)
    assert us.add(ny(2026, 11, 23, 17), dt.timedelta(0)) == ny(2026, 11, 23, 17)


def test_zero_business_hours_from_a_closed_time_is_due_at_the_next_opening(
    us: BusinessCalendar,
) -> None:
    # DESIGN.md: "from the start (or the next opening if closed), consume N hours";
    # docs/calendars.md, "The units of within()": "open time, counted from the start (or the
    # next opening if closed)".
    assert us.resolve(ny(2026, 11, 21, 12), within(business_hours=0)) == ny(2026, 11, 23, 9)


# ------------------------------------------------------------------ special hours, closures


def test_special_hours_replace_the_weekly_hours_and_a_holiday() -> None:
    cal = BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-17:00",
        country="US",
        special_hours={dt.date(2026, 11, 27): "10:00-14:00", dt.date(2026, 11, 26): "10:00-12:00"},
    )
    assert cal.is_business_day(dt.date(2026, 11, 26))  # Thanksgiving opened by special hours
    # Wed 16:00-17:00 (1 h), Thu 10:00-12:00 (2 h), Fri 10:00-11:00 (1 h)
    assert cal.add(ny(2026, 11, 25, 16), business_hours=4) == ny(2026, 11, 27, 11)
    # close of business on Friday is the special close
    assert cal.resolve(ny(2026, 11, 26, 11), within(business_days=1)) == ny(2026, 11, 27, 14)
    assert not cal.is_open(ny(2026, 11, 27, 14))


def test_empty_special_hours_close_the_day() -> None:
    cal = BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-17:00",
        special_hours={dt.date(2026, 11, 24): ""},
    )
    assert not cal.is_business_day(dt.date(2026, 11, 24))
    assert cal.add(ny(2026, 11, 23, 16), business_hours=2) == ny(2026, 11, 25, 10)


def test_closure_wins_over_special_hours() -> None:
    cal = BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-17:00",
        closures=[dt.date(2026, 11, 27)],
        special_hours={dt.date(2026, 11, 27): "10:00-14:00"},
    )
    assert not cal.is_business_day(dt.date(2026, 11, 27))
    assert cal.next_open(ny(2026, 11, 26, 18)) == ny(2026, 11, 30, 9)


def test_single_date_closure_is_skipped() -> None:
    cal = BusinessCalendar(
        tz="America/New_York", hours="Mon-Fri 09:00-17:00", closures=[dt.date(2026, 11, 24)]
    )
    # Mon 16:00-17:00 (1 h), Tue closed, Wed 09:00-10:00
    assert cal.add(ny(2026, 11, 23, 16), business_hours=2) == ny(2026, 11, 25, 10)


def test_closure_range_is_inclusive_of_both_ends() -> None:
    cal = BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-17:00",
        closures=[(dt.date(2026, 12, 24), dt.date(2027, 1, 1))],
    )
    assert not cal.is_business_day(dt.date(2026, 12, 24))
    assert not cal.is_business_day(dt.date(2027, 1, 1))
    assert cal.is_business_day(dt.date(2026, 12, 23))
    # Wed 23 Dec 16:00-17:00 (1 h), closed through Fri 1 Jan, Mon 4 Jan 09:00-10:00
    assert cal.add(ny(2026, 12, 23, 16), business_hours=2) == ny(2027, 1, 4, 10)
    assert "closed" in cal.explain(ny(2026, 12, 23, 16), within(business_hours=2))


# --------------------------------------------------------------------------- is_open and friends


def test_open_intervals_are_half_open(us: BusinessCalendar) -> None:
    assert us.is_open(ny(2026, 11, 23, 9))
    assert us.is_open(ny(2026, 11, 23, 16, 59, 59))
    assert not us.is_open(ny(2026, 11, 23, 17))
    assert not us.is_open(ny(2026, 11, 23, 8, 59, 59))


def test_next_open_and_next_close(us: BusinessCalendar) -> None:
    assert us.next_open(ny(2026, 11, 23, 10)) == ny(2026, 11, 23, 10)
    assert us.next_open(ny(2026, 11, 23, 17)) == ny(2026, 11, 24, 9)
    assert us.next_open(ny(2026, 11, 20, 18)) == ny(2026, 11, 23, 9)
    assert us.next_open(ny(2026, 11, 25, 17)) == ny(2026, 11, 27, 9)  # skips Thanksgiving
    assert us.next_close(ny(2026, 11, 23, 10)) == ny(2026, 11, 23, 17)
    assert us.next_close(ny(2026, 11, 23, 17)) == ny(2026, 11, 24, 17)
    assert us.next_close(ny(2026, 11, 21, 12)) == ny(2026, 11, 23, 17)


def test_always_open_counts_a_23_hour_day_as_23_hours() -> None:
    cal = BusinessCalendar.always_open("America/New_York")
    assert cal.between(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * H
    assert cal.between(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * H
    assert cal.add(ny(2026, 3, 7, 12), business_hours=24) == ny(2026, 3, 8, 13)


# ------------------------------------------------------------------ within(days=) and hours=


def test_one_day_across_spring_forward_keeps_the_wall_time(us: BusinessCalendar) -> None:
    due = us.resolve(ny(2026, 3, 7, 10), within(days=1))
    assert u(due) == u(ny(2026, 3, 8, 10))
    assert due.utcoffset() == dt.timedelta(hours=-4)
    assert u(due) - u(ny(2026, 3, 7, 10)) == 23 * H


def test_one_day_across_fall_back_keeps_the_wall_time(us: BusinessCalendar) -> None:
    due = us.resolve(ny(2026, 10, 31, 10), within(days=1))
    assert u(due) == u(ny(2026, 11, 1, 10))
    assert u(due) - u(ny(2026, 10, 31, 10)) == 25 * H


def test_one_day_into_a_gap_moves_forward_by_the_gap(us: BusinessCalendar) -> None:
    # Sun 2026-03-08 02:30 does not exist in New York: 03:30 EDT
    due = us.resolve(ny(2026, 3, 7, 2, 30), within(days=1))
    assert due == utc(2026, 3, 8, 7, 30)
    assert due.replace(tzinfo=None) == dt.datetime(2026, 3, 8, 3, 30)


def test_one_day_into_a_fold_means_the_first_occurrence(us: BusinessCalendar) -> None:
    # Sun 2026-11-01 01:30 happens twice in New York: the first is 01:30 EDT = 05:30 UTC
    assert u(us.resolve(ny(2026, 10, 31, 1, 30), within(days=1))) == utc(2026, 11, 1, 5, 30)


def test_twenty_four_hours_is_elapsed_time_across_dst(us: BusinessCalendar) -> None:
    for made in (ny(2026, 3, 7, 10), ny(2026, 10, 31, 10)):
        due = us.resolve(made, within(hours=24))
        assert (u(due) - u(made)).total_seconds() == 86_400
    assert u(us.resolve(ny(2026, 3, 7, 10), within(hours=24))) == u(ny(2026, 3, 8, 11))


# --------------------------------------------------------------------------- the DST rule


def test_interval_opening_inside_the_spring_gap_opens_an_hour_later() -> None:
    cal = BusinessCalendar(tz="America/New_York", hours="Sun 02:30-05:00")
    # 02:30 on 2026-03-08 does not exist: it moves forward by the gap to 03:30 EDT
    assert cal.next_open(ny(2026, 3, 7, 12)) == utc(2026, 3, 8, 7, 30)
    assert cal.next_close(ny(2026, 3, 7, 12)) == ny(2026, 3, 8, 5)
    assert cal.between(ny(2026, 3, 8), ny(2026, 3, 8, 12)) == dt.timedelta(hours=1, minutes=30)
    assert cal.between(ny(2026, 3, 15), ny(2026, 3, 15, 12)) == dt.timedelta(hours=2, minutes=30)
    assert not cal.is_open(utc(2026, 3, 8, 7, 29))
    assert cal.is_open(utc(2026, 3, 8, 7, 30))


def test_interval_inside_the_spring_gap_moves_with_it() -> None:
    cal = BusinessCalendar(tz="America/New_York", hours="Sun 02:00-02:30")
    # both ends move forward by the gap: 03:00-03:30 EDT
    assert cal.next_open(ny(2026, 3, 7, 12)) == utc(2026, 3, 8, 7)
    assert cal.next_close(ny(2026, 3, 7, 12)) == utc(2026, 3, 8, 7, 30)


def test_interval_opening_inside_the_fall_fold_opens_at_the_first_occurrence() -> None:
    cal = BusinessCalendar(tz="America/New_York", hours="Sun 01:30-03:00")
    # 01:30 on 2026-11-01 happens twice: the first (EDT, 05:30 UTC); 03:00 EST is 08:00 UTC
    assert u(cal.next_open(ny(2026, 10, 31, 12))) == utc(2026, 11, 1, 5, 30)
    assert u(cal.next_close(ny(2026, 10, 31, 12))) == utc(2026, 11, 1, 8)
    assert cal.between(ny(2026, 11, 1), ny(2026, 11, 1, 12)) == dt.timedelta(hours=2, minutes=30)


# --------------------------------------------------------------------------- values


def test_calendar_round_trips_through_a_json_snapshot() -> None:
    cal = BusinessCalendar(
        tz="Europe/Berlin",
        hours="Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00; Sun 22:00-02:00",
        country="DE",
        subdiv="BY",
        holidays={dt.date(2026, 11, 24): "Company day"},
        closures=[dt.date(2026, 12, 31), (dt.date(2026, 8, 3), dt.date(2026, 8, 14))],
        special_hours={dt.date(2026, 12, 24): "09:00-12:00", dt.date(2026, 12, 30): ""},
    )
    snapshot = json.loads(json.dumps(cal.to_dict()))
    again = BusinessCalendar.from_dict(snapshot)
    assert again == cal
    made = dt.datetime(2026, 12, 22, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    for spec in (within(business_days=5), within(business_hours=20), within(days=3)):
        assert again.resolve(made, spec) == cal.resolve(made, spec)


def test_calendars_with_equal_arguments_are_equal() -> None:
    a = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00", closures=[dt.date(2026, 1, 2)])
    b = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00", closures=[dt.date(2026, 1, 2)])
    c = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
    assert a == b
    assert a != c


def test_within_reads_and_writes_its_compact_form() -> None:
    spec = within(business_days=3)
    assert str(spec) == "3 business days"
    assert spec.to_string() == "business_days=3"
    assert Within.parse("business_days=3") == spec
    assert Within.parse(within(hours=1.5).to_string()) == within(hours=1.5)
    assert str(within(hours=1)) == "1 hour"
