"""A deliberately naive reference model of business time, used as a test oracle.

It knows nothing of keepword's calendar internals.  It reads the calendar's
*spec* (weekly hours string, zone name, holiday dates, closures, special
hours), lays out every open interval of every local date as a pair of UTC
instants, one date at a time, and answers questions by walking those intervals
in order.  It is slow on purpose and meant to be obviously correct: keep the
ranges it is asked about small.

Semantics (from docs/calendars.md, "What decides a date", "The units of within()" and
"Local times that DST skips or repeats", and DESIGN.md "Time"):

* A date's intervals are the intervals that *start* on that local date; an
  overnight interval (end earlier than start) ends on the next date.
* Precedence on a date: closures (closed) > special hours (replace) >
  holidays (closed) > weekly hours.
* Wall times become instants by one rule: a time in a spring-forward gap moves
  forward by the length of the gap; an ambiguous time means its first
  occurrence.  Open time is real elapsed time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays as holidays_package

UTC = dt.UTC
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EMPTY_DAYS = 366


class ModelError(Exception):
    """The model found no answer (e.g. no open time within a year)."""


# --------------------------------------------------------------------------- parsing


def _minutes(text: str) -> int:
    hh, mm = text.strip().split(":")
    value = int(hh) * 60 + int(mm)
    if not (0 <= int(mm) < 60 and 0 <= value <= 1440):
        raise ValueError(text)
    return value


def parse_intervals(text: str) -> list[tuple[int, int]]:
    """``"09:00-12:00,22:00-06:00"`` -> ``[(540, 720), (1320, 1800)]`` (minutes from midnight).

    An end earlier than the start is an overnight interval: its end gets 1440 added.
    """
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        start_text, end_text = part.split("-")
        start, end = _minutes(start_text), _minutes(end_text)
        if end < start:
            end += 1440
        if end == start:
            raise ValueError(part)
        out.append((start, end))
    return out


def _days(text: str) -> list[int]:
    text = text.strip().lower()
    if text == "daily":
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (DAY_NAMES.index(x.strip()) for x in part.split("-"))
            day = first
            days.append(day)
            while day != last:
                day = (day + 1) % 7
                days.append(day)
        else:
            days.append(DAY_NAMES.index(part.strip()))
    return days


def parse_weekly(
    hours: str | Mapping[object, str | Sequence[str]],
) -> dict[int, list[tuple[int, int]]]:
    """Weekday (0 = Monday) -> intervals starting that weekday, in minutes from midnight."""
    week: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    if isinstance(hours, str):
        for group in hours.split(";"):
            if not group.strip():
                continue
            days_text, intervals_text = group.strip().split(None, 1)
            for day in _days(days_text):
                week[day].extend(parse_intervals(intervals_text))
    else:
        for key, value in hours.items():
            texts = [value] if isinstance(value, str) else list(value)
            days = [key] if isinstance(key, int) else _days(str(key))
            for day in days:
                for text in texts:
                    week[day].extend(parse_intervals(text))
    for day in week:
        week[day].sort()
    return week


# --------------------------------------------------------------------------- wall time -> instant


@functools.lru_cache(maxsize=200_000)
def wall_to_utc(wall: dt.datetime, tz: str) -> dt.datetime:
    """The UTC instant of naive local ``wall`` in ``tz`` under the documented DST rule.

    Found by brute force: every offset the zone uses within 30 hours of ``wall``
    is tried; a candidate counts if converting it back gives ``wall``.  Several
    candidates (a fold): the first.  None (a gap): the instant is ``wall``
    minus the offset in force just before the gap, i.e. ``wall`` moved forward
    by the length of the gap.
    """
    zone = ZoneInfo(tz)
    rough = wall.replace(tzinfo=UTC)
    offsets = {(rough + dt.timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-30, 31)}
    candidates = sorted(
        rough - off
        for off in offsets
        if off is not None and (rough - off).astimezone(zone).replace(tzinfo=None) == wall
    )
    if candidates:
        return candidates[0]
    # In a gap: walk minute by minute to the first instant whose wall time is past `wall`.
    floor = wall.replace(second=0, microsecond=0)
    probe = rough - dt.timedelta(hours=30)
    while probe.astimezone(zone).replace(tzinfo=None) <= floor:
        probe += dt.timedelta(minutes=1)
    before = (probe - dt.timedelta(minutes=1)).astimezone(zone).utcoffset()
    assert before is not None
    return rough - before


def local(t: dt.datetime, tz: str) -> dt.datetime:
    """``t`` as a naive wall time in ``tz``."""
    return t.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def utc(t: dt.datetime) -> dt.datetime:
    """``t`` as a plain stdlib UTC datetime (pendulum subclasses lose their zone in arithmetic)."""
    v = t.astimezone(UTC)
    return dt.datetime(
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=UTC
    )


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Interval:
    """One open interval: ``[open, close)`` in UTC, started on local ``day``."""

    open: dt.datetime
    close: dt.datetime
    day: dt.date


@dataclass
class Model:
    """Business time from a calendar's spec, computed the slow and obvious way.

    Args:
        tz: IANA zone name.
        hours: weekly hours string (or mapping) as given to ``BusinessCalendar``.
        holidays: extra holiday dates.
        closures: dates or inclusive ``(first, last)`` ranges.
        special_hours: date -> intervals string (``""`` = closed) replacing that date's hours.
        country, subdiv: looked up in the ``holidays`` package directly.
    """

    tz: str
    hours: str | Mapping[object, str | Sequence[str]]
    holidays: Iterable[dt.date] = ()
    closures: Iterable[dt.date | tuple[dt.date, dt.date]] = ()
    special_hours: Mapping[dt.date, str] = field(default_factory=dict)
    country: str | None = None
    subdiv: str | None = None

    def __post_init__(self) -> None:
        self.week = parse_weekly(self.hours)
        self.holiday_set = set(self.holidays)
        self.closed: set[dt.date] = set()
        for item in self.closures:
            if isinstance(item, tuple):
                day = item[0]
                while day <= item[1]:
                    self.closed.add(day)
                    day += dt.timedelta(days=1)
            else:
                self.closed.add(item)
        self.special = {day: parse_intervals(text) for day, text in self.special_hours.items()}
        self._country_years: dict[int, bool] = {}
        self._country_days: set[dt.date] = set()
        self._day_cache: dict[dt.date, list[Interval]] = {}

    # -- one local date

    def _is_country_holiday(self, day: dt.date) -> bool:
        if self.country is None:
            return False
        if day.year not in self._country_years:
            found = holidays_package.country_holidays(
                self.country, subdiv=self.subdiv, years=day.year
            )
            self._country_days.update(d for d in found if d.year == day.year)
            self._country_years[day.year] = True
        return day in self._country_days

    def wall_intervals(self, day: dt.date) -> list[tuple[int, int]]:
        """Intervals (minutes from ``day``'s midnight) that start on ``day``, after precedence."""
        if day in self.closed:
            return []
        if day in self.special:
            return self.special[day]
        if day in self.holiday_set or self._is_country_holiday(day):
            return []
        return self.week[day.weekday()]

    def day_intervals(self, day: dt.date) -> list[Interval]:
        """Open intervals (as instants) starting on local ``day``; empty ones dropped."""
        if day in self._day_cache:
            return self._day_cache[day]
        midnight = dt.datetime(day.year, day.month, day.day)
        out = []
        for start, end in self.wall_intervals(day):
            opens = wall_to_utc(midnight + dt.timedelta(minutes=start), self.tz)
            closes = wall_to_utc(midnight + dt.timedelta(minutes=end), self.tz)
            if closes > opens:
                out.append(Interval(opens, closes, day))
        self._day_cache[day] = out
        return out

    def is_business_day(self, day: dt.date) -> bool:
        """A date on which at least one interval starts.

        An interval that the DST rule turns into nothing (both ends inside one
        spring-forward gap, e.g. 00:30-01:30 on Havana's midnight change) is closed,
        so it does not make its date a business day.
        """
        return bool(self.day_intervals(day))

    def day_close(self, day: dt.date) -> dt.datetime:
        """End of the last (latest-closing) interval that starts on ``day`` (a business day)."""
        return max(iv.close for iv in self.day_intervals(day))

    # -- walking intervals

    def _local_date(self, t: dt.datetime) -> dt.date:
        return local(t, self.tz).date()

    def _midnight(self, day: dt.date) -> dt.datetime:
        return wall_to_utc(dt.datetime(day.year, day.month, day.day), self.tz)

    def open_set(self, first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open instants of the intervals starting on ``first..last``, as a sorted
        list of disjoint ``[open, close)`` segments (overlapping or touching ones merged)."""
        raw = []
        day = first
        while day <= last:
            raw.extend((iv.open, iv.close) for iv in self.day_intervals(day))
            day += dt.timedelta(days=1)
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for lo, hi in sorted(raw):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def _window(
        self, t: dt.datetime, width: int
    ) -> tuple[list[tuple[dt.datetime, dt.datetime]], dt.datetime, dt.datetime]:
        """Merged open segments of the dates within ``width`` days of ``t``, clipped to
        the window's safe part ``[safe_lo, safe_hi]``, and those bounds.

        Intervals of dates more than three days outside the safe part cannot reach
        into it, so inside it the open set is exactly known.
        """
        day = self._local_date(t)
        first, last = day - dt.timedelta(days=width), day + dt.timedelta(days=width)
        safe_lo = self._midnight(first + dt.timedelta(days=4))
        safe_hi = self._midnight(last - dt.timedelta(days=3))
        segs = [
            (max(lo, safe_lo), min(hi, safe_hi))
            for lo, hi in self.open_set(first, last)
            if hi > safe_lo and lo < safe_hi
        ]
        return segs, safe_lo, safe_hi

    def segments(
        self, t: dt.datetime, backwards: bool = False
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Exactly known open segments around ``t``, growing the window until one lies
        beyond ``t`` in the asked direction (or ``ModelError`` after about four years).
        A segment cut by the window's edge continues in the next call."""
        width = 8
        while width < 1500:
            segs, _, _ = self._window(t, width)
            if backwards and any(lo < t for lo, _ in segs):
                return segs
            if not backwards and any(hi > t for _, hi in segs):
                return segs
            width *= 2
        raise ModelError("no open time within four years")

    def between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Open time in ``[a, b)``; negative when ``b < a``."""
        a, b = utc(a), utc(b)
        if b < a:
            return -self.between(b, a)
        first = self._local_date(a) - dt.timedelta(days=4)
        last = self._local_date(b) + dt.timedelta(days=4)
        total = dt.timedelta(0)
        for lo, hi in self.open_set(first, last):
            lo, hi = max(lo, a), min(hi, b)
            if hi > lo:
                total += hi - lo
        return total

    def add(self, start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """The instant where ``delta`` of open time from ``start`` completes (see module doc)."""
        start = utc(start)
        if delta > dt.timedelta(0):
            return self._walk(start, delta, backwards=False)
        if delta < dt.timedelta(0):
            return self._walk(start, -delta, backwards=True)
        if self.is_open(start) or self.is_close(start):
            return start
        return self.next_open(start)

    def _walk(self, start: dt.datetime, left: dt.timedelta, backwards: bool) -> dt.datetime:
        cursor = start
        while True:
            segs = self.segments(cursor, backwards)
            if backwards:
                for lo, hi in reversed(segs):
                    hi = min(hi, cursor)
                    if hi <= lo:
                        continue
                    if hi - lo >= left:
                        return hi - left
                    left -= hi - lo
                    cursor = lo
            else:
                for lo, hi in segs:
                    lo = max(lo, cursor)
                    if hi <= lo:
                        continue
                    if hi - lo >= left:
                        return lo + left
                    left -= hi - lo
                    cursor = hi

    def is_open(self, t: dt.datetime) -> bool:
        """``t`` lies in some ``[open, close)``."""
        t = utc(t)
        return any(lo <= t < hi for lo, hi in self._around(t))

    def is_close(self, t: dt.datetime) -> bool:
        """``t`` is exactly the end of an open segment."""
        t = utc(t)
        return any(hi == t for _, hi in self._around(t))

    def _around(self, t: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        day = self._local_date(t)
        return self.open_set(day - dt.timedelta(days=4), day + dt.timedelta(days=4))

    def next_open(self, t: dt.datetime) -> dt.datetime:
        """Earliest open instant at or after ``t``."""
        t = utc(t)
        return min(max(lo, t) for lo, hi in self.segments(t) if hi > t)

    def closes(self, t: dt.datetime) -> set[dt.datetime]:
        """Acceptable answers for ``next_close(t)``.

        The end of the open stretch reached from ``t``, or the end of any single
        interval inside it: the contract does not say what touching intervals give.
        """
        t = utc(t)
        opens = self.next_open(t)
        width = 8
        while width < 1500:
            segs, _, safe_hi = self._window(opens, width)
            end = min(hi for lo, hi in segs if hi > opens)
            if end < safe_hi:
                break
            width *= 2
        else:
            raise ModelError("never closes within four years")
        raw = set()
        day = self._local_date(opens)
        while day <= self._local_date(end):
            raw.update(iv.close for iv in self.day_intervals(day))
            day += dt.timedelta(days=1)
        return {end} | {c for c in raw if opens < c <= end}

    # -- business days and specs

    def business_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """Close of business on the nth business day strictly after start's local date."""
        start = utc(start)
        day = self._local_date(start)
        if n == 0:
            if self.is_business_day(day) and start < self.day_close(day):
                return self.day_close(day)
            n = 1
        empty = 0
        while n:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                n -= 1
                empty = 0
            else:
                empty += 1
                if empty > MAX_EMPTY_DAYS:
                    raise ModelError("no business day ahead")
        return self.day_close(day)

    def calendar_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """Same wall time ``n`` days later in the zone (DST rule for gaps and folds).

        Zero days is the start itself (not the first occurrence of its wall time).
        """
        if n == 0:
            return utc(start)
        wall = local(start, self.tz) + dt.timedelta(days=n)
        return wall_to_utc(wall, self.tz)

    def resolve(self, start: dt.datetime, unit: str, amount: float) -> dt.datetime:
        """The deadline of ``within(**{unit: amount})`` made at ``start``."""
        start = utc(start)
        if unit == "hours":
            return start + dt.timedelta(hours=amount)
        if unit == "minutes":
            return start + dt.timedelta(minutes=amount)
        if unit == "days":
            return self.calendar_days(start, int(amount))
        if unit == "business_hours":
            return self.add(start, dt.timedelta(hours=amount))
        if unit == "business_minutes":
            return self.add(start, dt.timedelta(minutes=amount))
        if unit == "business_days":
            return self.business_days(start, int(amount))
        raise ValueError(unit)
