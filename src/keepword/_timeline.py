"""The business-time engine behind :class:`~keepword.calendar.BusinessCalendar`.

Open time is precomputed per year as a flat list of merged open intervals
(UTC microseconds) with prefix sums of open time, grown lazily over the years
a query touches; ``add`` and ``between`` are binary searches, so 4 business
hours cost the same as 4,000.  Wall times become instants by the one DST rule
stated in :mod:`keepword.calendar`.  Pure arithmetic, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import threading
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import attrs

from keepword._hours import DAY_MIN, DAY_NAMES, DayHours, Week, fmt_day_hours, parse_intervals
from keepword._instant import (
    EPOCH,
    FIRST_YEAR,
    HI_US,
    LAST_YEAR,
    LO_US,
    SPAN_US,
    from_us,
    to_us,
    to_utc,
)
from keepword.errors import CalendarError, KeepwordError

if TYPE_CHECKING:
    from keepword.calendar import BusinessCalendar, Within

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_CLOSED_DAYS",
    "MINUTE_US",
    "US",
    "Tables",
    "Timeline",
    "open_before",
    "scaled",
]

#: A stretch with no open time longer than this is treated as "never open".
MAX_CLOSED_DAYS: Final = 366

US = 1_000_000
MINUTE_US = 60 * US
_WEEK_MIN = 7 * DAY_MIN
_MAX_CLOSED_US = MAX_CLOSED_DAYS * 86_400 * US


@attrs.frozen
class Tables:
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


def scaled(amount: float, unit_us: int) -> int:
    """``amount`` units of ``unit_us`` microseconds, refusing what no calendar can reach."""
    if type(amount) is int and -1_000_000_000 < amount < 1_000_000_000:
        return amount * unit_us
    if not abs(amount) < SPAN_US / unit_us:  # also NaN
        raise _horizon("spec")
    return round(amount * unit_us)


class Timeline:
    """The lazily grown tables of one calendar; shared safely between threads."""

    def __init__(self, cal: BusinessCalendar, week: Week, country_holidays: Any) -> None:
        self.week = week
        self.zone = ZoneInfo(cal.tz)
        self.country_holidays = country_holidays
        self.extra_holidays = dict(cal.holidays)
        self.closures = cal.closures
        self.closure_firsts = [a for a, _ in cal.closures]
        self.special = {d: parse_intervals(h, "special_hours") for d, h in cal.special_hours}
        weekly = sum(e - s for day in week for s, e in day)
        # DST can lengthen a day by an hour or so: keep a generous margin
        self.max_open_rate = min(1.0, weekly / _WEEK_MIN * 1.05 + 0.01)
        self.special_us = (
            sum(e - s for day in self.special.values() for s, e in day) + 7 * DAY_MIN
        ) * MINUTE_US
        # business days accrue no faster than the weekly business days plus special days
        self.days_per_week = sum(1 for day in week if day)
        self.special_days = sum(1 for day in self.special.values() if day)
        self.years: dict[int, _Year] = {}
        self.lock = threading.Lock()
        self.tables: Tables | None = None

    # ---- conversions ------------------------------------------------------

    def instant(self, value: object, argument: str) -> int:
        """Microseconds since the epoch of an aware instant, refusing naive or out-of-range ones."""
        try:
            if isinstance(value, _dt.datetime) and value.utcoffset() is not None:
                us = to_us(value)  # aware arithmetic: no intermediate datetimes
            else:
                us = to_us(to_utc(value, argument))  # raises the right error
        except KeepwordError:
            raise
        except (ArithmeticError, ValueError, TypeError):
            # near the ends of the datetime range, or a tzinfo that fails: to_utc
            # gives the exact instant or a named error
            us = to_us(to_utc(value, argument))
        if not LO_US <= us < HI_US:
            raise CalendarError(
                f"{value!r} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
                argument=argument,
            )
        return us

    def out(self, us: int, argument: str = "spec") -> _dt.datetime:
        """The aware datetime, in the calendar's zone, of ``us`` microseconds since the epoch."""
        if not LO_US <= us < HI_US:
            raise _horizon(argument)
        seconds, micro = divmod(us, US)
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
        """Whether a closure covers local date ``day``."""
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
        """The name of the holiday on ``day`` (extra holidays first), or ``None``."""
        if day in self.extra_holidays:
            return self.extra_holidays[day]
        if self.country_holidays is not None:
            name = self.country_holidays.get(day)
            if name:
                return str(name)
        return None

    def plan(self, day: _dt.date) -> DayHours:
        """The intervals of ``day``: closure, else special hours, else holiday, else the week."""
        if self.closures and self.closed_by_closure(day):
            return ()
        if day in self.special:
            return self.special[day]
        if self.holiday_name(day) is not None:
            return ()
        return self.week[day.weekday()]

    def day_note(self, day: _dt.date) -> str | None:
        """Why ``day`` differs from its weekday's usual hours, in words, or ``None``."""
        weekly = self.week[day.weekday()]
        label = f"{DAY_NAMES[day.weekday()]} {day.day} {day.strftime('%b')}"
        if self.closures and self.closed_by_closure(day):
            return f"{label} is closed" if weekly else None
        if day in self.special:
            hours = self.special[day]
            return f"{label} has special hours {fmt_day_hours(hours)}" if hours != weekly else None
        name = self.holiday_name(day)
        if name is not None and weekly:
            return f"{label} is {name}"
        return None

    def day_intervals(self, day: _dt.date) -> tuple[list[int], list[int]]:
        """The open intervals starting on ``day`` as instants (starts, ends)."""
        starts, ends = [], []
        for s, e in self.plan(day):
            a, b = self.local_us(day, s), self.local_us(day, e)
            if b > a:  # an interval swallowed by a DST gap is closed
                starts.append(a)
                ends.append(b)
        return starts, ends

    def build_year(self, year: int) -> _Year:
        """The open intervals and business days of one calendar year."""
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

    def ensure(self, first: int, last: int) -> Tables:
        """Tables covering the years ``first..last`` at least, built under the lock."""
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
            t = Tables(
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

    def covering(self, lo_us: int, hi_us: int) -> Tables:
        """Tables that cover ``[lo_us, hi_us]`` with a day's margin either side."""
        t = self.tables
        if t is not None and t.lo_us <= lo_us and hi_us < t.hi_us:
            return t
        return self.ensure(_year_of(lo_us) - 1, _year_of(hi_us) + 1)

    def grow(self, t: Tables, forward: bool, argument: str) -> Tables:
        """Load one more year in a direction (never past the supported years)."""
        if forward:
            if t.last > LAST_YEAR:
                raise _horizon(argument)
            return self.ensure(t.first, t.last + 1)
        if t.first < FIRST_YEAR:
            raise _horizon(argument)
        return self.ensure(t.first - 1, t.last)

    def add_us(self, us: int, delta: int, argument: str = "spec") -> int:
        """``us`` plus ``delta`` microseconds of open time (negative counts back).

        ``argument`` names the caller's amount in the error raised when the
        result would leave the supported years.
        """
        if abs(delta) > 30 * 86_400 * US:
            # Open time accrues no faster than the weekly hours allow (plus any special
            # hours): refuse at once what cannot be reached inside the supported years.
            room = (HI_US - us) if delta > 0 else (us - LO_US)
            if abs(delta) > room * self.max_open_rate + self.special_us:
                raise _horizon(argument)
        t = self.tables
        if t is None or not t.lo_us <= us < t.hi_us:
            t = self.covering(us, us)
        if delta == 0:
            i = bisect_right(t.starts, us) - 1
            if i >= 0 and us <= t.ends[i]:
                return us  # open, or exactly at a close
            return self.next_open_us(us, argument)
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
                    t = self.grow(t, True, argument)
                    continue
                if _crosses_long_gap(t, i + 1, j):
                    raise _never_open(us)
                return t.starts[j] + (target - t.cum[j])
            j = bisect_right(t.cum, target) - 1
            if j < 0 or target < 0:
                first = t.starts[0] if t.starts else _year_start_us(t.last + 1)
                if min(first, us) - _year_start_us(t.first) > _MAX_CLOSED_US:
                    raise _never_open(_year_start_us(t.first))
                t = self.grow(t, False, argument)
                continue
            inside = i >= 0 and us < t.ends[i]
            if _crosses_long_gap(t, j + 1, i if inside else i + 1):
                raise _never_open(us)
            return t.starts[j] + (target - t.cum[j])

    def next_open_us(self, us: int, argument: str = "at") -> int:
        """The earliest open instant at or after ``us``."""
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
            t = self.grow(t, True, argument)

    def next_close_us(self, us: int, argument: str = "at") -> int:
        """The close of the open stretch containing ``us`` (which must be open)."""
        t = self.covering(us, us)
        while True:
            i = bisect_right(t.starts, us) - 1
            if t.ends[i] < _year_start_us(t.last):
                return t.ends[i]
            if t.ends[i] - us > _MAX_CLOSED_US:
                raise CalendarError("the calendar never closes within a year", argument=argument)
            t = self.grow(t, True, argument)

    def business_day_close(self, us: int, n: int) -> int:
        """Close of business on the ``n``-th business day after ``us``'s local date (0: today's)."""
        local = from_us(us).astimezone(self.zone).date().toordinal()
        if n > MAX_CLOSED_DAYS:
            # refuse at once what the business days left in the supported years cannot reach
            weeks_left = (_LAST_ORD - local) // 7 + 1
            if n > weeks_left * self.days_per_week + self.special_days:
                raise _horizon("spec")
        t = self.covering(us, us)
        while True:
            idx = bisect_right(t.bd_ord, local)
            if n == 0 and idx > 0 and t.bd_ord[idx - 1] == local and us < t.bd_close[idx - 1]:
                return t.bd_close[idx - 1]
            target = idx + max(n, 1) - 1
            if target >= len(t.bd_ord):
                last = t.bd_ord[-1] if t.bd_ord else _year_start_ord(t.first)
                if _year_start_ord(t.last + 1) - max(last, local) > MAX_CLOSED_DAYS:
                    raise _never_open(us)
                t = self.grow(t, True, "spec")
                continue
            k = bisect_left(t.bd_gaps, max(idx, 1))
            if k < len(t.bd_gaps) and t.bd_gaps[k] <= target:
                raise _never_open(us)
            if idx == 0 and t.bd_ord[0] - _year_start_ord(t.first) > MAX_CLOSED_DAYS:
                raise _never_open(us)
            return t.bd_close[target]

    def resolve_us(self, us: int, spec: Within) -> int:
        """The deadline ``spec`` gives from ``us``, in microseconds since the epoch."""
        unit, amount = spec.unit, spec.amount
        if unit == "business_hours":  # the common case first
            return self.add_us(us, scaled(amount, 3600 * US))
        if unit == "hours":
            return us + scaled(amount, 3600 * US)
        if unit == "minutes":
            return us + scaled(amount, MINUTE_US)
        if unit == "business_minutes":
            return self.add_us(us, scaled(amount, MINUTE_US))
        if unit == "business_days":
            return self.business_day_close(us, int(amount))
        # calendar days, same wall time
        if amount == 0:
            return us
        local = from_us(us).astimezone(self.zone)
        try:
            day = local.date() + _dt.timedelta(days=int(amount))
        except OverflowError:
            raise _horizon("spec") from None
        if day.year > LAST_YEAR:
            raise _horizon("spec")
        minutes = local.hour * 60 + local.minute
        rest = local.second * US + local.microsecond
        return self.local_us(day, minutes) + rest


def _year_start_us(year: int) -> int:
    """UTC midnight of 1 January ``year`` (clamped to the datetime range)."""
    year = min(max(year, 1), 9999)
    return to_us(_dt.datetime(year, 1, 1, tzinfo=_dt.UTC))


def _year_start_ord(year: int) -> int:
    return _dt.date(min(max(year, 1), 9999), 1, 1).toordinal()


def open_before(t: Tables, us: int) -> int:
    """Open microseconds before ``us``, counted from the tables' origin."""
    i = bisect_right(t.starts, us) - 1
    if i < 0:
        return 0
    return t.cum[i] + min(us - t.starts[i], t.ends[i] - t.starts[i])


def _crosses_long_gap(t: Tables, lo: int, hi: int) -> bool:
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


_LAST_ORD: Final = _dt.date(LAST_YEAR + 1, 1, 1).toordinal()


def _horizon(argument: str) -> CalendarError:
    return CalendarError(
        f"the result falls outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
        argument=argument,
        fix="use a smaller amount or an instant nearer today",
    )


def _never_open(since_us: int) -> CalendarError:
    since = from_us(since_us).isoformat()
    return CalendarError(
        f"the calendar has no open time for more than {MAX_CLOSED_DAYS} days after {since}",
        argument="calendar",
        fix="check the hours, closures and holidays",
    )
