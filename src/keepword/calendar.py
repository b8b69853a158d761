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
import functools
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import holidays as _holidays

from keepword._hours import (
    DAY_NAMES,
    clip,
    fmt_day_hours,
    fmt_week,
    intervals_text,
    parse_intervals,
    parse_week,
)
from keepword._instant import SPAN_US, amount_us, check_number, shown, to_utc
from keepword._timeline import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_CLOSED_DAYS,
    MINUTE_US,
    US,
    Timeline,
    open_before,
)
from keepword._validate import MAX_IDENTIFIER, check_text
from keepword.errors import CalendarError, InvalidArgumentError, KeepwordError

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_CLOSED_DAYS", "BusinessCalendar", "Within", "within"]


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
_HOUR_US: Final = 3600 * US
_DAY_US: Final = 86_400 * US
# Each unit's longest possible elapsed length: n business hours take at least n hours,
# n business days at least n days.  An amount this long leaves the supported years.
_UNIT_US: Final = {
    "hours": _HOUR_US,
    "minutes": MINUTE_US,
    "days": _DAY_US,
    "business_hours": _HOUR_US,
    "business_minutes": MINUTE_US,
    "business_days": _DAY_US,
}
# Amounts below these fit in the supported years (a margin of one unit keeps floats exact).
_LIMITS: Final = {unit: SPAN_US // unit_us - 1 for unit, unit_us in _UNIT_US.items()}
_UNIT_WORDS: Final = {
    "hours": ("hour", "hours"),
    "minutes": ("minute", "minutes"),
    "days": ("day", "days"),
    "business_hours": ("business hour", "business hours"),
    "business_minutes": ("business minute", "business minutes"),
    "business_days": ("business day", "business days"),
}


def _check_amount(unit: str, amount: object) -> int | float:
    fast = type(amount) is int or (type(amount) is float and unit not in _INTEGER_UNITS)
    if fast and 0 <= amount < _LIMITS.get(unit, 0):  # type: ignore[operator]
        return amount  # type: ignore[return-value]  # the common case: nothing to refuse
    value = check_number(amount, unit)
    if value < 0:
        raise InvalidArgumentError(
            f"must not be negative (got {shown(value)})",
            argument=unit,
            fix="a deadline lies after the promise; use a positive amount",
        )
    if unit in _INTEGER_UNITS and not isinstance(value, int):
        raise InvalidArgumentError(
            f"must be a whole number (an int), not {value!r}",
            argument=unit,
            fix="use business_hours= or hours= for fractions of a day",
        )
    if unit in _UNIT_US:  # refuse at once what cannot fit in the supported years
        amount_us(value, _UNIT_US[unit], unit)
    return value


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

    An amount at least as long as the supported years 1900-2199 (109,573
    days, 2,629,752 hours, 157,785,120 minutes, in any unit, business ones
    included) can never resolve inside them and is refused here, before any
    calendar computes.

    Raises:
        InvalidArgumentError: no unit, two units, a negative, ``bool``, NaN or
            infinite amount, a fractional ``days``/``business_days``, or an
            amount longer than the supported years; it names the unit.

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
    raise CalendarError(
        f"{clip(value)} is not a date", argument=argument, fix="use datetime.date(...)"
    )


# An IANA name: ASCII components separated by "/", none starting with a dot.
_ZONE_PART: Final = r"[A-Za-z0-9_+-][A-Za-z0-9_+.-]*"
_ZONE_NAME: Final = re.compile(rf"{_ZONE_PART}(?:/{_ZONE_PART})*")


def _conv_tz(value: object) -> str:
    name = getattr(value, "key", value)
    if not isinstance(name, str) or not name.strip():
        raise CalendarError(
            f"must be an IANA time zone name, not {clip(value)}",
            argument="tz",
            fix="e.g. tz='America/New_York'",
        )
    # The shape is checked first: ZoneInfo reads files, and a name that is a
    # directory, too long, or not a relative path would raise an OS error.
    if len(name) <= MAX_IDENTIFIER and _ZONE_NAME.fullmatch(name):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    raise CalendarError(
        f"unknown time zone {clip(name)}",
        argument="tz",
        fix="use an IANA name like 'Europe/Stockholm'; zoneinfo.available_timezones() lists them",
    )


def _conv_hours(value: object) -> str:
    if isinstance(value, str | Mapping):
        return fmt_week(parse_week(value))
    raise CalendarError(
        f"must be a string or a mapping, not {type(value).__name__}", argument="hours"
    )


@functools.cache
def _supported() -> dict[str, dict[str, str]]:
    """Country codes ``holidays`` supports -> their subdivisions (upper case -> as listed)."""
    return {
        code.upper(): {sub.upper(): sub for sub in subdivisions}
        for code, subdivisions in _holidays.list_supported_countries().items()
    }


def _code(value: object, argument: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{clip(value)} is not a {what} code", argument=argument)
    return value.strip().upper()


def _conv_country(value: object) -> str | None:
    if value is None:
        return None
    code = _code(value, "country", "country")
    if code not in _supported() or not str(value).isascii():  # "ıt".upper() is "IT"
        raise CalendarError(
            f"unknown country code {clip(value)}",
            argument="country",
            fix="use an ISO 3166 code the holidays package supports, e.g. 'US' or 'SE'; "
            "holidays.list_supported_countries() lists them",
        )
    return code


def _conv_subdiv(value: object) -> str | None:
    # Checked against the country in BusinessCalendar.__attrs_post_init__.
    return None if value is None else _code(value, "subdiv", "subdivision")


def _check_subdiv(country: str | None, subdiv: str) -> str:
    """The subdivision as the ``holidays`` package spells it, or a CalendarError."""
    if country is None:
        raise CalendarError(
            "a subdivision needs a country", argument="subdiv", fix="pass country= too"
        )
    known = _supported()[country]
    if subdiv in known:
        return known[subdiv]
    some = ", ".join(sorted(known.values())[:12]) + (", ..." if len(known) > 12 else "")
    raise CalendarError(
        f"country {country} has no subdivision {clip(subdiv)}",
        argument="subdiv",
        fix=f"use one of {some}" if known else "leave subdiv out for this country",
    )


def _holiday_name(value: object) -> str:
    if not isinstance(value, str):
        raise CalendarError(
            f"a holiday's name must be a str, not {type(value).__name__}",
            argument="holidays",
            fix="e.g. holidays={date(2026, 12, 24): 'Christmas Eve'}",
        )
    try:
        return check_text(value, "holidays")
    except InvalidArgumentError as exc:
        raise CalendarError(exc.message, argument="holidays", fix=exc.fix) from None


def _conv_holidays(value: object) -> tuple[tuple[_dt.date, str], ...]:
    if isinstance(value, Mapping):
        items = [(_as_date(k, "holidays"), _holiday_name(v)) for k, v in value.items()]
    elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = []
        for item in value:
            if isinstance(item, tuple | list) and len(item) == 2:
                items.append((_as_date(item[0], "holidays"), _holiday_name(item[1])))
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
                raise CalendarError(
                    f"{clip(item)} is not a (first, last) pair", argument="closures"
                )
            first, last = _as_date(item[0], "closures"), _as_date(item[1], "closures")
            if last < first:
                raise CalendarError(
                    f"closure {clip(item)} ends before it starts", argument="closures"
                )
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
        day = parse_intervals(intervals_text(hours, "special_hours"), "special_hours")
        out.append((_as_date(key, "special_hours"), fmt_day_hours(day) if day else ""))
    return tuple(sorted(out))


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
        CalendarError: naming the argument: an unknown or malformed zone name
            (checked before any file is read), a country or subdivision that
            ``holidays.list_supported_countries()`` does not list; hours that
            are empty, unreadable, zero-length, overlapping or not text (a
            day's hours are a text or a list of texts); dates that are not
            dates; holiday names that are not text, or hold NUL or a lone
            surrogate.
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
    _state: Timeline = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        week = parse_week(self.hours)
        if self.subdiv is not None:
            object.__setattr__(self, "subdiv", _check_subdiv(self.country, self.subdiv))
        country_holidays = None
        if self.country is not None:
            try:
                country_holidays = _holidays.country_holidays(self.country, subdiv=self.subdiv)
            except (NotImplementedError, LookupError, TypeError, AttributeError) as exc:
                argument = "subdiv" if "subdivision" in str(exc) else "country"
                raise CalendarError(
                    f"the holidays package refused {self.country} {self.subdiv or ''}".strip(),
                    argument=argument,
                    fix="see holidays.list_supported_countries()",
                ) from None
        object.__setattr__(self, "_state", Timeline(self, week, country_holidays))

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
        except KeepwordError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise CalendarError(
                f"not a calendar snapshot ({type(exc).__name__})",
                argument="data",
                fix="pass what BusinessCalendar.to_dict() returned",
            ) from None

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

        Raises:
            InvalidArgumentError: ``delta`` is not a timedelta, or an amount is
                not a finite number.
            CalendarError: naming the amount, when the result would leave
                the years 1900-2199 (an amount longer than they are is
                refused before computing).

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
        >>> mon = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        >>> cal.add(mon, business_hours=8).isoformat()
        '2026-11-23T17:00:00+00:00'
        >>> cal.add(mon, business_hours=-1).isoformat()
        '2026-11-20T16:00:00+00:00'
        """
        if delta is None and business_minutes is None and business_hours is not None:
            argument = "business_hours"  # the common case
            total = amount_us(business_hours, _HOUR_US, argument, CalendarError)
        else:
            total, argument = _business_delta_us(delta, business_hours, business_minutes)
        us = self._state.instant(start, "start")
        return self._state.out(self._state.add_us(us, total, argument), argument)

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
        return _dt.timedelta(microseconds=open_before(t, ub) - open_before(t, ua))

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
        return state.out(state.next_open_us(us), "at")

    def next_close(self, at: _dt.datetime) -> _dt.datetime:
        """When the open stretch containing ``at`` (or the next one) closes."""
        state = self._state
        us = state.instant(at, "at")
        return state.out(state.next_close_us(state.next_open_us(us)), "at")

    def is_business_day(self, day: _dt.date) -> bool:
        """Whether any open interval starts on local date ``day``."""
        day = _as_date(day, "day")
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise CalendarError(
                f"{day.isoformat()} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
                argument="day",
            )
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
    text = f"{DAY_NAMES[value.weekday()]} {value.day} {value.strftime('%b')}"
    if with_year:
        text += f" {value.year}"
    return f"{text} {value.hour:02d}:{value.minute:02d}"


def _business_delta_us(
    delta: _dt.timedelta | None, business_hours: float | None, business_minutes: float | None
) -> tuple[int, str]:
    """The amount of open time ``add`` moves by, and the argument that contributes most."""
    parts: list[tuple[int, str]] = []
    if delta is not None:
        if not isinstance(delta, _dt.timedelta):
            raise InvalidArgumentError(
                f"must be a timedelta, not {type(delta).__name__}", argument="delta"
            )
        parts.append((amount_us(delta, 1, "delta", CalendarError), "delta"))
    for name, value, unit in (
        ("business_hours", business_hours, _HOUR_US),
        ("business_minutes", business_minutes, MINUTE_US),
    ):
        if value is not None:
            parts.append((amount_us(value, unit, name, CalendarError), name))
    if not parts:
        return 0, "delta"
    return sum(us for us, _ in parts), max(parts, key=lambda part: abs(part[0]))[1]
