"""Weekly hours: reading ``"Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"`` and writing it back.

A week is seven tuples of intervals, Monday first; an interval is local wall
time in minutes after the midnight of the day it starts on, and its end may
pass 1440 for an overnight interval.  Pure text handling, no I/O: the
calendar (:mod:`keepword.calendar`) turns these wall times into instants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from keepword.errors import CalendarError

__all__ = [
    "DAY_MIN",
    "DAY_NAMES",
    "DayHours",
    "Interval",
    "Week",
    "clip",
    "fmt_day_hours",
    "fmt_week",
    "intervals_text",
    "parse_intervals",
    "parse_week",
]

DAY_MIN = 1440
_WEEK_MIN = 7 * DAY_MIN

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL_DAYS = ("daily", "everyday", "all")
_INTERVAL_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Matched against a stripped group; no lazy quantifier before a trailing ``\s*$``,
# which would take quadratic time on a long run of spaces.
_GROUP_RE = re.compile(r"(?P<days>[A-Za-z]+(?:\s*[-,]\s*[A-Za-z]+)*)\s+(?P<intervals>\S.*)")

# One interval of local wall time: minutes after the local midnight of the day it
# starts on; ``end`` may pass 1440 for an overnight interval (at most start + 1440).
Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
Week = tuple[DayHours, ...]


def clip(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message, cut short when it is long."""
    try:
        shown = repr(value)
    except Exception:  # a huge int or a hostile __repr__: name the type instead
        return f"a {type(value).__name__}"
    return shown if len(shown) <= limit else f"{shown[: limit - 5]}...{shown[-2:]}"


def _minutes(hh: str, mm: str, text: str, argument: str, *, end: bool) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        raise CalendarError(f"{clip(text)} is not a time of day", argument=argument)
    return h * 60 + m


def intervals_text(value: object, argument: str) -> str:
    """One day's intervals given as text or as a list of texts, joined into one text.

    ``"09:00-12:00,13:00-17:00"`` and ``["09:00-12:00", "13:00-17:00"]`` both
    give the first form; anything else (a number, ``None``, bytes, a list
    holding a non-string) raises :class:`CalendarError` naming ``argument``.

    >>> intervals_text(["10:00-12:00", "13:00-14:00"], "hours")
    '10:00-12:00,13:00-14:00'
    >>> intervals_text(0, "hours")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.CalendarError: hours: a day's hours must be text like '09:00-17:00' ...
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        odd = sorted({type(part).__name__ for part in value if not isinstance(part, str)})
        if not odd:
            return ",".join(value)
        shown = f"a {type(value).__name__} holding {', '.join(odd)}"
    else:
        shown = type(value).__name__
    raise CalendarError(
        f"a day's hours must be text like '09:00-17:00' or a list of such texts, not {shown}",
        argument=argument,
        fix="e.g. {'mon': '09:00-17:00', 'sat': ['10:00-12:00', '13:00-14:00']}",
    )


def parse_intervals(text: str, argument: str) -> DayHours:
    """``"09:00-12:00,13:00-17:00"`` -> ((540, 720), (780, 1020)); ``""`` -> ()."""
    if text.strip().lower() in ("", "closed"):
        return ()
    out: list[Interval] = []
    for part in text.split(","):
        match = _INTERVAL_RE.match(part)
        if not match:
            raise CalendarError(
                f"cannot read interval {clip(part.strip())}",
                argument=argument,
                fix="write intervals as HH:MM-HH:MM, separated by commas",
            )
        start = _minutes(match[1], match[2], part, argument, end=False)
        end = _minutes(match[3], match[4], part, argument, end=True)
        if start == end:
            raise CalendarError(
                f"interval {clip(part.strip())} is empty",
                argument=argument,
                fix="an interval must open and close at different times",
            )
        if end < start:
            end += DAY_MIN  # overnight: closes the next day
        out.append((start, end))
    out.sort()
    for (_, prev_end), (start, _) in pairwise(out):
        if start < prev_end:
            raise CalendarError(f"intervals overlap in {clip(text)}", argument=argument)
    return tuple(out)


def _day_index(name: str, argument: str) -> int:
    key = name.strip().lower()
    for i, (short, full) in enumerate(zip(DAY_NAMES, _FULL_DAY_NAMES, strict=True)):
        if key in (short.lower(), full):
            return i
    raise CalendarError(
        f"unknown day {clip(name.strip())}", argument=argument, fix="use Mon, Tue, ... Sun or Daily"
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


def _check_week(week: Week, argument: str) -> None:
    """Refuse overlaps anywhere on the weekly circle (overnight intervals included)."""
    spans = sorted((d * DAY_MIN + s, d * DAY_MIN + e) for d, day in enumerate(week) for s, e in day)
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


def parse_week(hours: str | Mapping[Any, Any], argument: str = "hours") -> Week:
    """Read weekly hours (text or a mapping of days to intervals) into a checked week."""
    per_day: list[list[Interval]] = [[] for _ in range(7)]
    if isinstance(hours, str):
        if not hours.strip():
            raise CalendarError(
                "the weekly hours are empty",
                argument=argument,
                fix="e.g. hours='Mon-Fri 09:00-17:00'",
            )
        groups = [(_GROUP_RE.fullmatch(g), g) for group in hours.split(";") if (g := group.strip())]
        for match, group in groups:
            if match is None:
                raise CalendarError(
                    f"cannot read {clip(group)}",
                    argument=argument,
                    fix="write groups like 'Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00'",
                )
            intervals = parse_intervals(match["intervals"], argument)
            for day in _parse_days(match["days"], argument):
                per_day[day].extend(intervals)
    elif isinstance(hours, Mapping):
        for key, value in hours.items():
            if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < 7:
                days = [key]
            elif isinstance(key, str):
                days = _parse_days(key, argument)
            else:
                raise CalendarError(f"unknown day {clip(key)}", argument=argument)
            intervals = parse_intervals(intervals_text(value, argument), argument)
            for day in days:
                per_day[day].extend(intervals)
    else:
        raise CalendarError(
            f"must be a string or a mapping, not {type(hours).__name__}", argument=argument
        )
    week = tuple(tuple(sorted(day)) for day in per_day)
    _check_week(week, argument)
    return week


def _fmt_minutes(m: int) -> str:
    m %= DAY_MIN * 2
    if m > DAY_MIN:
        m -= DAY_MIN
    return f"{m // 60:02d}:{m % 60:02d}"


def fmt_day_hours(day: DayHours) -> str:
    """One day's intervals as text: ``"09:00-12:00,13:00-17:00"``, or ``"closed"``."""
    return ",".join(f"{_fmt_minutes(s)}-{_fmt_minutes(e)}" for s, e in day) or "closed"


def fmt_week(week: Week) -> str:
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
        days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
        groups.append(f"{days} {fmt_day_hours(week[day])}")
        day = last + 1
    return "; ".join(groups)
