"""Business calendars and deadline specs: pure time arithmetic, no I/O.

A :class:`BusinessCalendar` says when a business is open: weekly hours (several
intervals a day, overnight shifts), a time zone, public holidays from the
``holidays`` package, extra holidays, closures and special hours.
:func:`within` builds a deadline spec that a calendar resolves to an instant.

>>> import datetime as dt
>>> from zoneinfo import ZoneInfo
>>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
>>> made = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York"))
>>> cal.resolve(made, within(business_days=3)).isoformat()
'2026-11-27T17:00:00-05:00'
>>> print(cal.explain(made, within(business_days=3)))
3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; due Fri 27 Nov 17:00 EST

How it stays fast: open time is precomputed per year as a flat list of open
intervals (UTC microseconds) with prefix sums of open time, extended lazily
over the years a query touches.  ``add`` and ``between`` are two binary
searches, so 4 business hours cost the same as 4,000.

**Local times and DST.**  Opening and closing times are local wall times.
keepword turns a wall time into an instant with one rule, implemented here
and never delegated to another library's ``fold``: a wall time that does not
exist (inside a spring-forward gap) moves forward by the length of the gap
(02:30 on the US spring-forward day is 03:30 EDT), and a wall time that
happens twice (inside a fall-back fold) means its first occurrence.  Open time
is real elapsed time: ``00:00-24:00`` on a 23-hour day is 23 hours open, and an
interval whose moved start reaches its end (a half-hour interval starting at
the beginning of a one-hour gap that ends inside it) is closed that day.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from itertools import accumulate, pairwise
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import holidays as _holidays

from keepword._instant import EPOCH, from_us, td_us, to_us, to_utc
from keepword.errors import CalendarError, InvalidArgumentError

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_CLOSED_DAYS", "BusinessCalendar", "Within", "within"]

#: First and last calendar years keepword computes business time for.
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2199
#: A stretch with no open time longer than this is treated as "never open".
MAX_CLOSED_DAYS: Final = 366

_US = 1_000_000
_MINUTE_US = 60 * _US
_DAY_MIN = 1440
_WEEK_MIN = 7 * _DAY_MIN
_MAX_CLOSED_US = MAX_CLOSED_DAYS * 86_400 * _US
# Longer than any span inside the supported years: amounts beyond it are refused.
_SPAN_US = (LAST_YEAR - FIRST_YEAR + 2) * 366 * 86_400 * _US

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL_DAYS = ("daily", "everyday", "all")
_INTERVAL_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_GROUP_RE = re.compile(
    r"^\s*(?P<days>[A-Za-z]+(?:\s*[-,]\s*[A-Za-z]+)*)\s+(?P<intervals>\S.*?)\s*$"
)

# One interval of local wall time: minutes after the local midnight of the day it
# starts on; ``end`` may pass 1440 for an overnight interval (at most start + 1440).
_Interval = tuple[int, int]
_DayHours = tuple[_Interval, ...]
_Week = tuple[_DayHours, ...]


# --------------------------------------------------------------------------- specs


_UNITS: Final = (
    "hours",
    "minutes",
    "days",
    "business_hours",
    "business_minutes",
    "business_days",
)
_INTEGER_UNITS: Final = frozenset({"days", "business_days"})
_UNIT_WORDS: Final = {
    "hours": ("hour", "hours"),
    "minutes": ("minute", "minutes"),
    "days": ("day", "days"),
    "business_hours": ("business hour", "business hours"),
    "business_minutes": ("business minute", "business minutes"),
    "business_days": ("business day", "business days"),
}


def _check_amount(unit: str, amount: object) -> int | float:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise InvalidArgumentError(
            f"must be a number, not {type(amount).__name__}",
            argument=unit,
            fix=f"pass e.g. within({unit}=3)",
        )
    if isinstance(amount, float) and not math.isfinite(amount):
        raise InvalidArgumentError(f"must be finite, not {amount!r}", argument=unit)
    if amount < 0:
        raise InvalidArgumentError(
            f"must not be negative (got {amount!r})",
            argument=unit,
            fix="a deadline lies after the promise; use a positive amount",
        )
    if unit in _INTEGER_UNITS and not isinstance(amount, int):
        raise InvalidArgumentError(
            f"must be a whole number (an int), not {amount!r}",
            argument=unit,
            fix="use business_hours= or hours= for fractions of a day",
        )
    return amount


@attrs.frozen
class Within:
    """A deadline spec: an amount of one unit of time, resolved by a calendar.

    Build it with :func:`within`; :meth:`BusinessCalendar.resolve` turns it
    into an instant.

    >>> spec = within(business_days=3)
    >>> str(spec), spec.to_string(), Within.parse("business_days=3") == spec
    ('3 business days', 'business_days=3', True)
    """

    unit: str = attrs.field()
    amount: int | float = attrs.field()

    @unit.validator
    def _check_unit(self, _attribute: object, value: str) -> None:
        if value not in _UNITS:
            raise InvalidArgumentError(
                f"unknown unit {value!r}", argument="unit", fix=f"use one of {', '.join(_UNITS)}"
            )

    @amount.validator
    def _check_amount(self, _attribute: object, value: int | float) -> None:
        _check_amount(self.unit, value)

    @property
    def is_business_time(self) -> bool:
        """True when the spec counts only open time (the ``business_*`` units)."""
        return self.unit.startswith("business_")

    def to_string(self) -> str:
        """A compact, parseable form: ``"business_days=3"``."""
        return f"{self.unit}={self.amount!r}"

    @classmethod
    def parse(cls, text: str) -> Within:
        """Read the form written by :meth:`to_string` (``"hours=24"``)."""
        unit, sep, raw = str(text).partition("=")
        if not sep:
            raise InvalidArgumentError(
                f"cannot read deadline spec {text!r}",
                argument="spec",
                fix="write it as unit=amount, e.g. 'business_days=3'",
            )
        unit = unit.strip()
        try:
            amount: int | float = int(raw)
        except ValueError:
            try:
                amount = float(raw)
            except ValueError:
                raise InvalidArgumentError(
                    f"cannot read the amount in {text!r}", argument="spec"
                ) from None
        return cls(unit, _check_amount(unit, amount)) if unit in _UNITS else cls(unit, amount)

    def __str__(self) -> str:
        one, many = _UNIT_WORDS[self.unit]
        amount = self.amount
        shown = f"{amount:g}" if isinstance(amount, float) else str(amount)
        return f"{shown} {one if amount == 1 else many}"


def within(
    *,
    hours: float | None = None,
    minutes: float | None = None,
    days: int | None = None,
    business_hours: float | None = None,
    business_minutes: float | None = None,
    business_days: int | None = None,
) -> Within:
    """A deadline spec with exactly one unit.

    * ``hours``/``minutes``: elapsed real time (24 hours is 86,400 s, across DST).
    * ``days``: calendar days in the calendar's zone, at the same wall time.
    * ``business_hours``/``business_minutes``: open time, counted from the
      start or from the next opening if closed; the deadline is the instant the
      last unit completes (exactly at a close gives the close).
    * ``business_days``: close of business on the Nth business day strictly
      after the start's local date; ``0`` means today's close if the business
      is still open today, else the next business day's close.

    Raises:
        InvalidArgumentError: no unit, two units, a negative, ``bool``, NaN or
            infinite amount, or a fractional ``days``/``business_days``.

    >>> within(hours=24)
    Within(unit='hours', amount=24)
    """
    given = {
        unit: value
        for unit, value in (
            ("hours", hours),
            ("minutes", minutes),
            ("days", days),
            ("business_hours", business_hours),
            ("business_minutes", business_minutes),
            ("business_days", business_days),
        )
        if value is not None
    }
    if not given:
        raise InvalidArgumentError(
            "within() needs exactly one unit",
            argument="within",
            fix="e.g. within(business_days=3) or within(hours=24)",
        )
    if len(given) > 1:
        raise InvalidArgumentError(
            f"within() takes one unit, got {', '.join(sorted(given))}",
            argument=sorted(given)[1],
            fix="convert to a single unit, e.g. within(business_minutes=90)",
        )
    ((unit, amount),) = given.items()
    return Within(unit, _check_amount(unit, amount))


# --------------------------------------------------------------------------- parsing


def _minutes(hh: str, mm: str, text: str, argument: str, *, end: bool) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        raise CalendarError(f"{text!r} is not a time of day", argument=argument)
    return h * 60 + m


def _parse_intervals(text: str, argument: str) -> _DayHours:
    """``"09:00-12:00,13:00-17:00"`` -> ((540, 720), (780, 1020)); ``""`` -> ()."""
    if text.strip().lower() in ("", "closed"):
        return ()
    out: list[_Interval] = []
    for part in text.split(","):
        match = _INTERVAL_RE.match(part)
        if not match:
            raise CalendarError(
                f"cannot read interval {part.strip()!r}",
                argument=argument,
                fix="write intervals as HH:MM-HH:MM, separated by commas",
            )
        start = _minutes(match[1], match[2], part, argument, end=False)
        end = _minutes(match[3], match[4], part, argument, end=True)
        if start == end:
            raise CalendarError(
                f"interval {part.strip()!r} is empty",
                argument=argument,
                fix="an interval must open and close at different times",
            )
        if end < start:
            end += _DAY_MIN  # overnight: closes the next day
        out.append((start, end))
    out.sort()
    for (_, prev_end), (start, _) in pairwise(out):
        if start < prev_end:
            raise CalendarError(f"intervals overlap in {text!r}", argument=argument)
    return tuple(out)


def _day_index(name: str, argument: str) -> int:
    key = name.strip().lower()
    for i, (short, full) in enumerate(zip(_DAY_NAMES, _FULL_DAY_NAMES, strict=True)):
        if key in (short.lower(), full):
            return i
    raise CalendarError(
        f"unknown day {name.strip()!r}", argument=argument, fix="use Mon, Tue, ... Sun or Daily"
    )


def _parse_days(text: str, argument: str) -> list[int]:
    if text.strip().lower() in _ALL_DAYS:
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        a = _day_index(first, argument)
        if not sep:
            days.append(a)
            continue
        b = _day_index(last, argument)
        days.extend((a + k) % 7 for k in range((b - a) % 7 + 1))
    return days


def _check_week(week: _Week, argument: str) -> None:
    """Refuse overlaps anywhere on the weekly circle (overnight intervals included)."""
    spans = sorted(
        (d * _DAY_MIN + s, d * _DAY_MIN + e) for d, day in enumerate(week) for s, e in day
    )
    if not spans:
        raise CalendarError(
            "the weekly hours have no open time",
            argument=argument,
            fix="give at least one interval, e.g. 'Mon-Fri 09:00-17:00'",
        )
    for (_, prev_end), (start, _) in pairwise(spans):
        if start < prev_end:
            raise CalendarError("intervals overlap", argument=argument)
    if spans[-1][1] - _WEEK_MIN > spans[0][0]:
        raise CalendarError("an overnight interval on Sunday overlaps Monday", argument=argument)


def _parse_week(hours: str | Mapping[Any, Any], argument: str = "hours") -> _Week:
    per_day: list[list[_Interval]] = [[] for _ in range(7)]
    if isinstance(hours, str):
        if not hours.strip():
            raise CalendarError(
                "the weekly hours are empty",
                argument=argument,
                fix="e.g. hours='Mon-Fri 09:00-17:00'",
            )
        groups = [(m, g) for g in hours.split(";") if g.strip() for m in [_GROUP_RE.match(g)]]
        for match, group in groups:
            if match is None:
                raise CalendarError(
                    f"cannot read {group.strip()!r}",
                    argument=argument,
                    fix="write groups like 'Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00'",
                )
            intervals = _parse_intervals(match["intervals"], argument)
            for day in _parse_days(match["days"], argument):
                per_day[day].extend(intervals)
    elif isinstance(hours, Mapping):
        for key, value in hours.items():
            if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < 7:
                days = [key]
            elif isinstance(key, str):
                days = _parse_days(key, argument)
            else:
                raise CalendarError(f"unknown day {key!r}", argument=argument)
            text = value if isinstance(value, str) else ",".join(value)
            for day in days:
                per_day[day].extend(_parse_intervals(text, argument))
    else:
        raise CalendarError(
            f"must be a string or a mapping, not {type(hours).__name__}", argument=argument
        )
    week = tuple(tuple(sorted(day)) for day in per_day)
    _check_week(week, argument)
    return week


def _fmt_minutes(m: int) -> str:
    m %= _DAY_MIN * 2
    if m > _DAY_MIN:
        m -= _DAY_MIN
    return f"{m // 60:02d}:{m % 60:02d}"


def _fmt_day_hours(day: _DayHours) -> str:
    return ",".join(f"{_fmt_minutes(s)}-{_fmt_minutes(e)}" for s, e in day) or "closed"


def _fmt_week(week: _Week) -> str:
    """Canonical text: consecutive days with equal hours become ranges."""
    groups: list[str] = []
    day = 0
    while day < 7:
        if not week[day]:
            day += 1
            continue
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        days = _DAY_NAMES[day] if last == day else f"{_DAY_NAMES[day]}-{_DAY_NAMES[last]}"
        groups.append(f"{days} {_fmt_day_hours(week[day])}")
        day = last + 1
    return "; ".join(groups)


# --------------------------------------------------------------------------- converters


def _as_date(value: object, argument: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise CalendarError(
            f"must be a date, not a datetime ({value!r})", argument=argument, fix="use .date()"
        )
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{value!r} is not a date", argument=argument, fix="use datetime.date(...)")


def _conv_tz(value: object) -> str:
    name = getattr(value, "key", value)
    if not isinstance(name, str) or not name.strip():
        raise CalendarError(
            f"must be an IANA time zone name, not {value!r}",
            argument="tz",
            fix="e.g. tz='America/New_York'",
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"unknown time zone {name!r}",
            argument="tz",
            fix="use an IANA name like 'Europe/Stockholm'",
        ) from None
    return name


def _conv_hours(value: object) -> str:
    if isinstance(value, str | Mapping):
        return _fmt_week(_parse_week(value))
    raise CalendarError(
        f"must be a string or a mapping, not {type(value).__name__}", argument="hours"
    )


def _conv_country(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{value!r} is not a country code", argument="country")
    return value.strip().upper()


def _conv_subdiv(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{value!r} is not a subdivision code", argument="subdiv")
    return value.strip().upper()


def _conv_holidays(value: object) -> tuple[tuple[_dt.date, str], ...]:
    if isinstance(value, Mapping):
        items = [(_as_date(k, "holidays"), str(v)) for k, v in value.items()]
    elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = []
        for item in value:
            if isinstance(item, tuple | list) and len(item) == 2:
                items.append((_as_date(item[0], "holidays"), str(item[1])))
            else:
                items.append((_as_date(item, "holidays"), "holiday"))
    else:
        raise CalendarError("must be dates or a mapping of date to name", argument="holidays")
    return tuple(sorted(dict(items).items()))


def _conv_closures(value: object) -> tuple[tuple[_dt.date, _dt.date], ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise CalendarError("must be dates or (first, last) date pairs", argument="closures")
    out = []
    for item in value:
        if isinstance(item, tuple | list):
            if len(item) != 2:
                raise CalendarError(f"{item!r} is not a (first, last) pair", argument="closures")
            first, last = _as_date(item[0], "closures"), _as_date(item[1], "closures")
            if last < first:
                raise CalendarError(f"closure {item!r} ends before it starts", argument="closures")
        else:
            first = last = _as_date(item, "closures")
        out.append((first, last))
    return tuple(sorted(set(out)))


def _conv_special(value: object) -> tuple[tuple[_dt.date, str], ...]:
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple | list) and all(
        isinstance(p, tuple | list) and len(p) == 2 for p in value
    ):
        pairs = [(p[0], p[1]) for p in value]
    else:
        raise CalendarError("must be a mapping of date to hours", argument="special_hours")
    out = []
    for key, hours in pairs:
        if not isinstance(hours, str):
            hours = ",".join(hours)
        day = _parse_intervals(hours, "special_hours")
        out.append((_as_date(key, "special_hours"), _fmt_day_hours(day) if day else ""))
    return tuple(sorted(out))


# --------------------------------------------------------------------------- tables


@attrs.frozen
class _Tables:
    """Open time over the contiguous years ``first..last`` (inclusive)."""

    first: int
    last: int
    starts: list[int]  # merged open intervals, UTC microseconds
    ends: list[int]
    cum: list[int]  # open time before interval i
    cum_end: list[int]  # open time up to the end of interval i
    long_gaps: list[int]  # i such that the closed stretch before interval i is too long
    bd_gaps: list[int]  # i such that business day i follows the previous one after too long
    lo_us: int  # instants in [lo_us, hi_us) are fully covered
    hi_us: int
    bd_ord: list[int]  # business days (local date ordinals) ...
    bd_close: list[int]  # ... and their close of business


@attrs.frozen
class _Year:
    starts: list[int]
    ends: list[int]
    bd_ord: list[int]
    bd_close: list[int]


def _merge(starts: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
    order = sorted(range(len(starts)), key=starts.__getitem__)
    out_s: list[int] = []
    out_e: list[int] = []
    for i in order:
        s, e = starts[i], ends[i]
        if out_e and s <= out_e[-1]:
            out_e[-1] = max(out_e[-1], e)
        else:
            out_s.append(s)
            out_e.append(e)
    return out_s, out_e


# --------------------------------------------------------------------------- calendar


@attrs.frozen(kw_only=True, eq=True, cache_hash=True)
class BusinessCalendar:
    """When a business is open.

    Args:
        tz: an IANA time zone name (``"America/New_York"``).
        hours: weekly hours, e.g. ``"Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"``
            or ``"Mon-Fri 22:00-06:00"`` (overnight), or a mapping of day to intervals.
        country: ISO country code for public holidays from the ``holidays`` package.
        subdiv: a subdivision of ``country`` (``"CA"`` for California).
        holidays: extra holidays, dates or a mapping of date to name.
        closures: dates, or ``(first, last)`` inclusive date ranges, when closed.
        special_hours: a mapping of date to that day's hours (``""`` = closed),
            replacing the weekly hours and any holiday on that date.

    On a date, closures win over special hours, which win over holidays, which
    win over the weekly hours.  Equal arguments give equal calendars;
    :meth:`to_dict` and :meth:`from_dict` snapshot one.

    Raises:
        CalendarError: an unknown zone, country or subdivision; hours that are
            empty, unreadable, zero-length or overlapping.
    """

    tz: str = attrs.field(converter=_conv_tz)
    hours: str = attrs.field(default="Mon-Fri 09:00-17:00", converter=_conv_hours)
    country: str | None = attrs.field(default=None, converter=_conv_country)
    subdiv: str | None = attrs.field(default=None, converter=_conv_subdiv)
    holidays: tuple[tuple[_dt.date, str], ...] = attrs.field(default=(), converter=_conv_holidays)
    closures: tuple[tuple[_dt.date, _dt.date], ...] = attrs.field(
        default=(), converter=_conv_closures
    )
    special_hours: tuple[tuple[_dt.date, str], ...] = attrs.field(
        default=(), converter=_conv_special
    )
    _state: _State = attrs.field(init=False, eq=False, repr=False, hash=False)

    _LOCK: ClassVar[threading.Lock] = threading.Lock()

    def __attrs_post_init__(self) -> None:
        week = _parse_week(self.hours)
        if self.subdiv is not None and self.country is None:
            raise CalendarError(
                "a subdivision needs a country", argument="subdiv", fix="pass country= too"
            )
        country_holidays = None
        if self.country is not None:
            try:
                country_holidays = _holidays.country_holidays(self.country, subdiv=self.subdiv)
            except NotImplementedError as exc:
                argument = "subdiv" if "subdivision" in str(exc) else "country"
                raise CalendarError(
                    str(exc), argument=argument, fix="see holidays.list_supported_countries()"
                ) from None
        object.__setattr__(self, "_state", _State(self, week, country_holidays))

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # the lazily built tables hold a lock; a snapshot is all a copy needs
        return (BusinessCalendar.from_dict, (self.to_dict(),))

    # ----------------------------------------------------------------- constructors

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        """A calendar open around the clock, every day, with no holidays."""
        return cls(tz=tz, hours="Daily 00:00-24:00")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot; :meth:`from_dict` rebuilds an equal calendar.

        >>> cal = BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE")
        >>> BusinessCalendar.from_dict(cal.to_dict()) == cal
        True
        """
        return {
            "tz": self.tz,
            "hours": self.hours,
            "country": self.country,
            "subdiv": self.subdiv,
            "holidays": [[d.isoformat(), name] for d, name in self.holidays],
            "closures": [[a.isoformat(), b.isoformat()] for a, b in self.closures],
            "special_hours": {d.isoformat(): h for d, h in self.special_hours},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Rebuild a calendar from :meth:`to_dict` output."""
        try:
            return cls(
                tz=data["tz"],
                hours=data["hours"],
                country=data.get("country"),
                subdiv=data.get("subdiv"),
                holidays=dict(data.get("holidays", ())),
                closures=[tuple(pair) for pair in data.get("closures", ())],
                special_hours=dict(data.get("special_hours", {})),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise CalendarError(f"not a calendar snapshot: {exc}", argument="data") from None

    # ----------------------------------------------------------------- properties

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's zone as a ``tzinfo``."""
        return self._state.zone

    # ----------------------------------------------------------------- queries

    def resolve(self, start: _dt.datetime, spec: Within) -> _dt.datetime:
        """The deadline ``spec`` gives for a promise made at ``start``.

        Returns:
            An aware datetime in the calendar's zone.

        Raises:
            NaiveDatetimeError: ``start`` has no zone.
            CalendarError: the deadline would fall outside years
                1900-2199, or cross more than a year with no open time.

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="America/New_York", country="US")
        >>> friday = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)  # 16:00 in New York
        >>> cal.resolve(friday, within(business_hours=4)).isoformat()
        '2026-11-23T12:00:00-05:00'
        """
        if not isinstance(spec, Within):
            raise InvalidArgumentError(
                f"must be a within(...) spec, not {type(spec).__name__}",
                argument="spec",
                fix="e.g. within(business_days=3)",
            )
        us = self._state.instant(start, "start")
        return self._state.out(self._state.resolve_us(us, spec))

    def add(
        self,
        start: _dt.datetime,
        delta: _dt.timedelta | None = None,
        *,
        business_hours: float | None = None,
        business_minutes: float | None = None,
    ) -> _dt.datetime:
        """``start`` plus an amount of open time.

        Positive amounts count forward from ``start`` (or the next opening if
        closed) and give the instant the last unit completes: landing exactly
        at a close gives the close.  Negative amounts count backwards and land
        on an opening rather than the previous close.  Zero gives ``start`` if
        open, else the next opening.

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
        >>> mon = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        >>> cal.add(mon, business_hours=8).isoformat()
        '2026-11-23T17:00:00+00:00'
        >>> cal.add(mon, business_hours=-1).isoformat()
        '2026-11-20T16:00:00+00:00'
        """
        total = _business_delta_us(delta, business_hours, business_minutes)
        us = self._state.instant(start, "start")
        return self._state.out(self._state.add_us(us, total))

    def between(self, a: _dt.datetime, b: _dt.datetime) -> _dt.timedelta:
        """Open time between ``a`` and ``b``; negative when ``b`` is before ``a``.

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
        >>> fri = dt.datetime(2026, 11, 20, 16, tzinfo=dt.UTC)
        >>> cal.between(fri, fri + dt.timedelta(days=2, hours=18))  # until Mon 10:00
        datetime.timedelta(seconds=7200)
        """
        state = self._state
        ua, ub = state.instant(a, "a"), state.instant(b, "b")
        t = state.covering(min(ua, ub), max(ua, ub))
        return _dt.timedelta(microseconds=_open_before(t, ub) - _open_before(t, ua))

    def is_open(self, at: _dt.datetime) -> bool:
        """Whether the business is open at ``at`` (intervals are ``[open, close)``)."""
        state = self._state
        us = state.instant(at, "at")
        t = state.covering(us, us)
        i = bisect_right(t.starts, us) - 1
        return i >= 0 and us < t.ends[i]

    def next_open(self, at: _dt.datetime) -> _dt.datetime:
        """The earliest instant at or after ``at`` when the business is open."""
        state = self._state
        us = state.instant(at, "at")
        return state.out(state.next_open_us(us))

    def next_close(self, at: _dt.datetime) -> _dt.datetime:
        """When the open stretch containing ``at`` (or the next one) closes."""
        state = self._state
        us = state.instant(at, "at")
        return state.out(state.next_close_us(state.next_open_us(us)))

    def is_business_day(self, day: _dt.date) -> bool:
        """Whether any open interval starts on local date ``day``."""
        day = _as_date(day, "day")
        return bool(self._state.day_intervals(day)[0])

    def explain(self, start: _dt.datetime, spec: Within) -> str:
        """Say in plain words why the deadline falls where it does.

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="America/New_York", country="US")
        >>> friday = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
        >>> print(cal.explain(friday, within(business_hours=4)))
        4 business hours from Fri 20 Nov 16:00; due Mon 23 Nov 12:00 EST
        """
        due = self.resolve(start, spec)
        zone = self._state.zone
        local_start = to_utc(start, "start").astimezone(zone)
        notes: list[str] = []
        if spec.unit in ("business_hours", "business_minutes", "business_days"):
            day = local_start.date()
            shown = 0
            while day <= due.date() and shown < 10:
                note = self._state.day_note(day)
                if note:
                    notes.append(note)
                    shown += 1
                day += _dt.timedelta(days=1)
        with_year = local_start.year != due.year
        parts = [f"{spec} from {_fmt_local(local_start, with_year)}", *notes]
        parts.append(f"due {_fmt_local(due, with_year)} {due.strftime('%Z')}")
        return "; ".join(parts)


def _fmt_local(value: _dt.datetime, with_year: bool) -> str:
    text = f"{_DAY_NAMES[value.weekday()]} {value.day} {value.strftime('%b')}"
    if with_year:
        text += f" {value.year}"
    return f"{text} {value.hour:02d}:{value.minute:02d}"


def _business_delta_us(
    delta: _dt.timedelta | None, business_hours: float | None, business_minutes: float | None
) -> int:
    total = 0
    if delta is not None:
        if not isinstance(delta, _dt.timedelta):
            raise InvalidArgumentError(
                f"must be a timedelta, not {type(delta).__name__}", argument="delta"
            )
        total += td_us(delta)
    for name, value, unit in (
        ("business_hours", business_hours, 3600 * _US),
        ("business_minutes", business_minutes, _MINUTE_US),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(
                f"must be a number, not {type(value).__name__}", argument=name
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(f"must be finite, not {value!r}", argument=name)
        total += _scaled(value, unit)
    return total


def _scaled(amount: float, unit_us: int) -> int:
    """``amount`` units of ``unit_us`` microseconds, refusing what no calendar can reach."""
    if type(amount) is int and -1_000_000_000 < amount < 1_000_000_000:
        return amount * unit_us
    if abs(amount) > _SPAN_US // unit_us or (isinstance(amount, float) and math.isnan(amount)):
        raise _horizon()
    return round(amount * unit_us)


class _State:
    """The lazily grown tables of one calendar; shared safely between threads."""

    def __init__(self, cal: BusinessCalendar, week: _Week, country_holidays: Any) -> None:
        self.week = week
        self.zone = ZoneInfo(cal.tz)
        self.country_holidays = country_holidays
        self.extra_holidays = dict(cal.holidays)
        self.closures = cal.closures
        self.closure_firsts = [a for a, _ in cal.closures]
        self.special = {d: _parse_intervals(h, "special_hours") for d, h in cal.special_hours}
        weekly = sum(e - s for day in week for s, e in day)
        # DST can lengthen a day by an hour or so: keep a generous margin
        self.max_open_rate = min(1.0, weekly / _WEEK_MIN * 1.05 + 0.01)
        self.special_us = (
            sum(e - s for day in self.special.values() for s, e in day) + 7 * _DAY_MIN
        ) * _MINUTE_US
        self.years: dict[int, _Year] = {}
        self.lock = threading.Lock()
        self.tables: _Tables | None = None

    # ---- conversions ------------------------------------------------------

    def instant(self, value: object, argument: str) -> int:
        if isinstance(value, _dt.datetime) and value.utcoffset() is not None:
            try:
                us = to_us(value)  # aware arithmetic: no intermediate datetimes
            except OverflowError:
                us = to_us(to_utc(value, argument))
        else:
            us = to_us(to_utc(value, argument))  # raises the right error
        if not _LO_US <= us < _HI_US:
            raise CalendarError(
                f"{value!r} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
                argument=argument,
            )
        return us

    def out(self, us: int) -> _dt.datetime:
        if not _LO_US <= us < _HI_US:
            raise CalendarError(
                f"the result falls outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
                argument="spec",
                fix="use a smaller amount",
            )
        seconds, micro = divmod(us, _US)
        local = _dt.datetime.fromtimestamp(seconds, self.zone)
        return local.replace(microsecond=micro) if micro else local

    def local_us(self, day: _dt.date, minutes: int) -> int:
        """The instant of wall time ``day`` + ``minutes`` (DST rule in the module docs)."""
        wall = _dt.datetime(day.year, day.month, day.day) + _dt.timedelta(minutes=minutes)
        # fold=0 in the standard library: inside a gap, the offset from before the
        # transition (moves the time forward by the gap); inside a fold, the first
        # occurrence.  This is keepword's rule, stated in the module docstring.
        offset = wall.replace(tzinfo=self.zone, fold=0).utcoffset()
        assert offset is not None
        return to_us((wall - offset).replace(tzinfo=_dt.UTC))

    # ---- per-day plan -------------------------------------------------------

    def closed_by_closure(self, day: _dt.date) -> bool:
        i = bisect_right(self.closure_firsts, day) - 1
        # closures are sorted by first day; ranges may nest, so look back a little
        while i >= 0:
            first, last = self.closures[i]
            if first <= day <= last:
                return True
            i -= 1
            if i >= 0 and self.closures[i][1] < day and i < len(self.closures) - 64:
                break
        return False

    def holiday_name(self, day: _dt.date) -> str | None:
        if day in self.extra_holidays:
            return self.extra_holidays[day]
        if self.country_holidays is not None:
            name = self.country_holidays.get(day)
            if name:
                return str(name)
        return None

    def plan(self, day: _dt.date) -> _DayHours:
        if self.closures and self.closed_by_closure(day):
            return ()
        if day in self.special:
            return self.special[day]
        if self.holiday_name(day) is not None:
            return ()
        return self.week[day.weekday()]

    def day_note(self, day: _dt.date) -> str | None:
        weekly = self.week[day.weekday()]
        label = f"{_DAY_NAMES[day.weekday()]} {day.day} {day.strftime('%b')}"
        if self.closures and self.closed_by_closure(day):
            return f"{label} is closed" if weekly else None
        if day in self.special:
            hours = self.special[day]
            return f"{label} has special hours {_fmt_day_hours(hours)}" if hours != weekly else None
        name = self.holiday_name(day)
        if name is not None and weekly:
            return f"{label} is {name}"
        return None

    def day_intervals(self, day: _dt.date) -> tuple[list[int], list[int]]:
        starts, ends = [], []
        for s, e in self.plan(day):
            a, b = self.local_us(day, s), self.local_us(day, e)
            if b > a:  # an interval swallowed by a DST gap is closed
                starts.append(a)
                ends.append(b)
        return starts, ends

    def build_year(self, year: int) -> _Year:
        starts: list[int] = []
        ends: list[int] = []
        bd_ord: list[int] = []
        bd_close: list[int] = []
        day = _dt.date(year, 1, 1)
        one = _dt.timedelta(days=1)
        while day.year == year:
            s, e = self.day_intervals(day)
            if s:
                starts.extend(s)
                ends.extend(e)
                bd_ord.append(day.toordinal())
                bd_close.append(max(e))
            day += one
        return _Year(starts, ends, bd_ord, bd_close)

    # ---- tables -------------------------------------------------------------

    def ensure(self, first: int, last: int) -> _Tables:
        t = self.tables
        if t is not None and t.first <= first and last <= t.last:
            return t
        first, last = max(first, FIRST_YEAR - 1), min(last, LAST_YEAR + 1)
        with self.lock:
            t = self.tables
            if t is not None:
                first, last = min(first, t.first), max(last, t.last)
            for year in range(first, last + 1):
                if year not in self.years:
                    self.years[year] = self.build_year(year)
            starts: list[int] = []
            ends: list[int] = []
            bd_ord: list[int] = []
            bd_close: list[int] = []
            for year in range(first, last + 1):
                y = self.years[year]
                starts += y.starts
                ends += y.ends
                bd_ord += y.bd_ord
                bd_close += y.bd_close
            starts, ends = _merge(starts, ends)
            lengths = [e - s for s, e in zip(starts, ends, strict=True)]
            cum_end = list(accumulate(lengths))
            cum = [c - n for c, n in zip(cum_end, lengths, strict=True)]
            t = _Tables(
                first=first,
                last=last,
                starts=starts,
                ends=ends,
                cum=cum,
                cum_end=cum_end,
                long_gaps=[
                    i for i in range(1, len(starts)) if starts[i] - ends[i - 1] > _MAX_CLOSED_US
                ],
                bd_gaps=[
                    i for i in range(1, len(bd_ord)) if bd_ord[i] - bd_ord[i - 1] > MAX_CLOSED_DAYS
                ],
                lo_us=_year_start_us(first + 1),
                hi_us=_year_start_us(last),
                bd_ord=bd_ord,
                bd_close=bd_close,
            )
            self.tables = t
            return t

    def covering(self, lo_us: int, hi_us: int) -> _Tables:
        """Tables that cover ``[lo_us, hi_us]`` with a day's margin either side."""
        t = self.tables
        if t is not None and t.lo_us <= lo_us and hi_us < t.hi_us:
            return t
        return self.ensure(_year_of(lo_us) - 1, _year_of(hi_us) + 1)

    def grow(self, t: _Tables, forward: bool) -> _Tables:
        """Load one more year in a direction (never past the supported years)."""
        if forward:
            if t.last > LAST_YEAR:
                raise _horizon()
            return self.ensure(t.first, t.last + 1)
        if t.first < FIRST_YEAR:
            raise _horizon()
        return self.ensure(t.first - 1, t.last)

    def add_us(self, us: int, delta: int) -> int:
        if abs(delta) > 30 * 86_400 * _US:
            # Open time accrues no faster than the weekly hours allow (plus any special
            # hours): refuse at once what cannot be reached inside the supported years.
            room = (_HI_US - us) if delta > 0 else (us - _LO_US)
            if abs(delta) > room * self.max_open_rate + self.special_us:
                raise _horizon()
        t = self.tables
        if t is None or not t.lo_us <= us < t.hi_us:
            t = self.covering(us, us)
        if delta == 0:
            i = bisect_right(t.starts, us) - 1
            if i >= 0 and us <= t.ends[i]:
                return us  # open, or exactly at a close
            return self.next_open_us(us)
        while True:
            i = bisect_right(t.starts, us) - 1
            target = delta + (
                t.cum[i] + min(us - t.starts[i], t.ends[i] - t.starts[i]) if i >= 0 else 0
            )
            if delta > 0:
                j = bisect_left(t.cum_end, target)
                if j == len(t.cum_end):
                    last = t.ends[-1] if t.ends else _year_start_us(t.first)
                    if _year_start_us(t.last + 1) - max(last, us) > _MAX_CLOSED_US:
                        raise _never_open(max(last, us))
                    t = self.grow(t, True)
                    continue
                if _crosses_long_gap(t, i + 1, j):
                    raise _never_open(us)
                return t.starts[j] + (target - t.cum[j])
            j = bisect_right(t.cum, target) - 1
            if j < 0 or target < 0:
                first = t.starts[0] if t.starts else _year_start_us(t.last + 1)
                if min(first, us) - _year_start_us(t.first) > _MAX_CLOSED_US:
                    raise _never_open(_year_start_us(t.first))
                t = self.grow(t, False)
                continue
            inside = i >= 0 and us < t.ends[i]
            if _crosses_long_gap(t, j + 1, i if inside else i + 1):
                raise _never_open(us)
            return t.starts[j] + (target - t.cum[j])

    def next_open_us(self, us: int) -> int:
        t = self.covering(us, us)
        while True:
            i = bisect_right(t.starts, us) - 1
            if i >= 0 and us < t.ends[i]:
                return us
            if i + 1 < len(t.starts):
                if _crosses_long_gap(t, i + 1, i + 1):
                    raise _never_open(us)
                return t.starts[i + 1]
            last = t.ends[-1] if t.ends else _year_start_us(t.first)
            if _year_start_us(t.last + 1) - max(last, us) > _MAX_CLOSED_US:
                raise _never_open(max(last, us))
            t = self.grow(t, True)

    def next_close_us(self, us: int) -> int:
        """The close of the open stretch containing ``us`` (which must be open)."""
        t = self.covering(us, us)
        while True:
            i = bisect_right(t.starts, us) - 1
            if t.ends[i] < _year_start_us(t.last):
                return t.ends[i]
            if t.ends[i] - us > _MAX_CLOSED_US:
                raise CalendarError("the calendar never closes within a year", argument="at")
            t = self.grow(t, True)

    def business_day_close(self, us: int, n: int) -> int:
        t = self.covering(us, us)
        local = from_us(us).astimezone(self.zone).date().toordinal()
        while True:
            idx = bisect_right(t.bd_ord, local)
            if n == 0 and idx > 0 and t.bd_ord[idx - 1] == local and us < t.bd_close[idx - 1]:
                return t.bd_close[idx - 1]
            target = idx + max(n, 1) - 1
            if target >= len(t.bd_ord):
                last = t.bd_ord[-1] if t.bd_ord else _year_start_ord(t.first)
                if _year_start_ord(t.last + 1) - max(last, local) > MAX_CLOSED_DAYS:
                    raise _never_open(us)
                t = self.grow(t, True)
                continue
            k = bisect_left(t.bd_gaps, max(idx, 1))
            if k < len(t.bd_gaps) and t.bd_gaps[k] <= target:
                raise _never_open(us)
            if idx == 0 and t.bd_ord[0] - _year_start_ord(t.first) > MAX_CLOSED_DAYS:
                raise _never_open(us)
            return t.bd_close[target]

    def resolve_us(self, us: int, spec: Within) -> int:
        unit, amount = spec.unit, spec.amount
        if unit == "business_hours":  # the common case first
            return self.add_us(us, _scaled(amount, 3600 * _US))
        if unit == "hours":
            return us + _scaled(amount, 3600 * _US)
        if unit == "minutes":
            return us + _scaled(amount, _MINUTE_US)
        if unit == "business_minutes":
            return self.add_us(us, _scaled(amount, _MINUTE_US))
        if unit == "business_days":
            return self.business_day_close(us, int(amount))
        # calendar days, same wall time
        if amount == 0:
            return us
        local = from_us(us).astimezone(self.zone)
        try:
            day = local.date() + _dt.timedelta(days=int(amount))
        except OverflowError:
            raise _horizon() from None
        if day.year > LAST_YEAR:
            raise _horizon()
        minutes = local.hour * 60 + local.minute
        rest = local.second * _US + local.microsecond
        return self.local_us(day, minutes) + rest


def _year_start_us(year: int) -> int:
    """UTC midnight of 1 January ``year`` (clamped to the datetime range)."""
    year = min(max(year, 1), 9999)
    return to_us(_dt.datetime(year, 1, 1, tzinfo=_dt.UTC))


def _year_start_ord(year: int) -> int:
    return _dt.date(min(max(year, 1), 9999), 1, 1).toordinal()


def _open_before(t: _Tables, us: int) -> int:
    """Open microseconds before ``us``, counted from the tables' origin."""
    i = bisect_right(t.starts, us) - 1
    if i < 0:
        return 0
    return t.cum[i] + min(us - t.starts[i], t.ends[i] - t.starts[i])


def _crosses_long_gap(t: _Tables, lo: int, hi: int) -> bool:
    """Whether a closed stretch longer than the limit lies before any interval lo..hi.

    Gap ``k`` is the closed stretch before interval ``k``; gap 0 runs from the
    tables' origin and gap ``len`` to their end (lower bounds of the truth).
    """
    n = len(t.starts)
    if not t.long_gaps and lo > 0 and hi < n:
        return False
    if n == 0:
        return True
    if lo <= 0 and t.starts[0] - _year_start_us(t.first) > _MAX_CLOSED_US:
        return True
    if hi >= n and _year_start_us(t.last + 1) - t.ends[-1] > _MAX_CLOSED_US:
        return True
    k = bisect_left(t.long_gaps, max(lo, 1))
    return k < len(t.long_gaps) and t.long_gaps[k] <= min(hi, n - 1)


def _year_of(us: int) -> int:
    return (EPOCH + _dt.timedelta(microseconds=us)).year


_LO_US: Final = _year_start_us(FIRST_YEAR)
_HI_US: Final = _year_start_us(LAST_YEAR + 1)


def _horizon() -> CalendarError:
    return CalendarError(
        f"the deadline falls outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
        argument="spec",
        fix="use a smaller amount or a start nearer today",
    )


def _never_open(since_us: int) -> CalendarError:
    since = from_us(since_us).isoformat()
    return CalendarError(
        f"the calendar has no open time for more than {MAX_CLOSED_DAYS} days after {since}",
        argument="calendar",
        fix="check the hours, closures and holidays",
    )
