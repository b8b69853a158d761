"""Hypothesis strategies for time: zones, aware datetimes near DST, hours, calendars, specs.

Every strategy builds valid values by construction (no filtering), so they stay
fast and never trip Hypothesis' health checks.  Import them from
:mod:`keepword.testing.strategies`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import strategies as st

from keepword._instant import FIRST_YEAR, LAST_YEAR
from keepword.calendar import BusinessCalendar, Within, within

__all__ = [
    "ODD_ZONES",
    "aware_datetimes",
    "boundary_datetimes",
    "calendar_kwargs",
    "calendars",
    "dst_transitions",
    "weekly_hours",
    "within_specs",
    "zones",
]

#: Zones with unusual DST rules (negative DST, 30-minute shifts, skipped days,
#: Ramadan suspensions, +05:45 offsets, a two-hour DST), plus two ordinary ones and UTC.
ODD_ZONES: tuple[str, ...] = (
    "Europe/Dublin",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Antarctica/Troll",
    "Europe/Stockholm",
    "America/New_York",
    "UTC",
)

_MORE_ZONES: tuple[str, ...] = (
    "Europe/London",
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
)

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_MIN = 1440
_WEEK_MIN = 7 * _DAY_MIN
_UTC = dt.UTC


def zones() -> st.SearchStrategy[str]:
    """IANA zone names, always including the odd-rule zones in :data:`ODD_ZONES`.

    >>> from zoneinfo import ZoneInfo
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(zones())
    ... def check(name):
    ...     assert ZoneInfo(name).key == name
    >>> check()
    """
    return st.sampled_from(ODD_ZONES + _MORE_ZONES)


_all_zones = zones  # the functions below take a ``zones`` argument that shadows the name


_SCAN_FIRST_YEAR = 1970
_SCAN_LAST_YEAR = 2060


@functools.lru_cache(maxsize=128)
def _all_transitions(zone: str) -> tuple[dt.datetime, ...]:
    tz = ZoneInfo(zone)
    step = 86_400  # no zone changes its offset twice within a day in these years
    lo = int(dt.datetime(_SCAN_FIRST_YEAR, 1, 1, tzinfo=_UTC).timestamp())
    hi = int(dt.datetime(_SCAN_LAST_YEAR + 1, 1, 1, tzinfo=_UTC).timestamp())

    def offset(ts: int) -> dt.timedelta | None:
        return dt.datetime.fromtimestamp(ts, tz).utcoffset()

    found: list[dt.datetime] = []
    previous = offset(lo)
    t = lo
    while t < hi:
        nxt = min(t + step, hi)
        current = offset(nxt)
        if current != previous:
            a, b = t, nxt  # offset(a) == previous != offset(b)
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == previous:
                    a = mid
                else:
                    b = mid
            found.append(dt.datetime.fromtimestamp(b, _UTC))
        previous = current
        t = nxt
    return tuple(found)


def dst_transitions(
    zone: str, first_year: int = 2000, last_year: int = 2037
) -> tuple[dt.datetime, ...]:
    """Every instant (UTC) in ``first_year..last_year`` at which ``zone``'s UTC offset changes.

    Found from the zone data directly: the offset is sampled once a day over
    1970-2060 (computed once per zone) and each change is narrowed down to the
    second by bisection.

    Args:
        zone: an IANA zone name.
        first_year: first calendar year (UTC) searched, at least 1970.
        last_year: last calendar year (UTC) searched, at most 2060.

    Returns:
        The transition instants, oldest first (empty for zones without DST).

    >>> dst_transitions("America/New_York", 2026, 2026)[0].isoformat()
    '2026-03-08T07:00:00+00:00'
    """
    if not _SCAN_FIRST_YEAR <= first_year <= last_year <= _SCAN_LAST_YEAR:
        raise ValueError(f"years must lie within {_SCAN_FIRST_YEAR}..{_SCAN_LAST_YEAR}, in order")
    return tuple(t for t in _all_transitions(zone) if first_year <= t.year <= last_year)


def _as_flavour(instant: dt.datetime, zone: str, flavour: int) -> dt.datetime:
    """The same instant with a different kind of ``tzinfo``."""
    if flavour == 0:
        return instant.astimezone(ZoneInfo(zone))
    if flavour == 1:
        value: dt.datetime = pendulum.instance(instant).in_timezone(zone)
        return value
    if flavour == 2:
        local = instant.astimezone(ZoneInfo(zone))
        offset = local.utcoffset()
        assert offset is not None
        return instant.astimezone(dt.timezone(offset))
    return instant.astimezone(_UTC)


@st.composite
def _near_transition(
    draw: st.DrawFn, zone: str, min_year: int, max_year: int
) -> dt.datetime | None:
    transitions = dst_transitions(zone, min_year, max_year)
    if not transitions:
        return None
    moment = draw(st.sampled_from(transitions))
    shift = draw(
        st.one_of(
            st.integers(-120, 120).map(lambda m: dt.timedelta(minutes=m)),
            st.integers(-3, 3).map(lambda s: dt.timedelta(seconds=s)),
            st.integers(-72 * 3600, 72 * 3600).map(lambda s: dt.timedelta(seconds=s)),
        )
    )
    result: dt.datetime = moment + shift
    return result


@st.composite
def _aware_datetimes(
    draw: st.DrawFn, min_year: int, max_year: int, zone_names: st.SearchStrategy[str]
) -> dt.datetime:
    zone = draw(zone_names)
    lo = dt.datetime(min_year, 1, 1, tzinfo=_UTC) + dt.timedelta(days=2)
    hi = dt.datetime(max_year, 12, 31, tzinfo=_UTC) - dt.timedelta(days=2)
    instant: dt.datetime | None = None
    if draw(st.booleans()):
        instant = draw(_near_transition(zone, min_year, max_year))
    if instant is None or not lo <= instant <= hi:
        seconds = draw(st.integers(0, int((hi - lo).total_seconds())))
        micro = draw(st.sampled_from((0, 0, 0, 1, 500_000, 999_999)))
        instant = lo + dt.timedelta(seconds=seconds, microseconds=micro)
    flavour = draw(st.sampled_from((0, 0, 1, 2, 3)))
    return _as_flavour(instant, zone, flavour)


def aware_datetimes(
    min_year: int = 2000,
    max_year: int = 2037,
    zones: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dt.datetime]:
    """Timezone-aware datetimes, often within hours of a DST transition of their zone.

    Values mix ``tzinfo`` kinds for the same instants: stdlib ``ZoneInfo``,
    pendulum, a fixed ``datetime.timezone`` offset (``+05:45`` for Kathmandu)
    and UTC.  Half of the draws start from a real transition of the drawn zone
    (found with :func:`dst_transitions`) and move a little way from it.

    Args:
        min_year: earliest year (inclusive).
        max_year: latest year (inclusive).
        zones: a strategy of IANA zone names; defaults to :func:`zones`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(aware_datetimes())
    ... def check(value):
    ...     assert value.utcoffset() is not None
    >>> check()
    """
    return _aware_datetimes(min_year, max_year, zones if zones is not None else _all_zones())


_FIRST_INSTANT = dt.datetime(FIRST_YEAR, 1, 1, tzinfo=_UTC)
_LAST_INSTANT = dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=_UTC) - dt.timedelta(microseconds=1)
_EDGE_SHIFTS = st.one_of(
    st.sampled_from(
        [
            dt.timedelta(0),
            dt.timedelta(microseconds=1),
            dt.timedelta(seconds=1),
            dt.timedelta(minutes=1),
            dt.timedelta(hours=1),
            dt.timedelta(days=1),
        ]
    ),
    st.integers(0, 3 * 86_400).map(lambda s: dt.timedelta(seconds=s)),
)
_DST_SHIFTS = st.one_of(
    st.sampled_from([dt.timedelta(microseconds=m) for m in (-1, 0, 1)]),
    st.integers(-3, 3).map(lambda s: dt.timedelta(seconds=s)),
    st.integers(-180, 180).map(lambda m: dt.timedelta(minutes=m)),
)


@st.composite
def _boundary_datetimes(draw: st.DrawFn, zone_names: st.SearchStrategy[str]) -> dt.datetime:
    zone = draw(zone_names)
    where = draw(st.sampled_from(("first", "last", "dst", "dst")))
    transitions = dst_transitions(zone, _SCAN_FIRST_YEAR, _SCAN_LAST_YEAR)
    if where == "dst" and transitions:
        instant = draw(st.sampled_from(transitions)) + draw(_DST_SHIFTS)
    elif where == "last":
        instant = _LAST_INSTANT - draw(_EDGE_SHIFTS)
    else:
        instant = _FIRST_INSTANT + draw(_EDGE_SHIFTS)
    return _as_flavour(instant, zone, draw(st.sampled_from((0, 0, 1, 2, 3))))


def boundary_datetimes(
    zones: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes at the edges keepword accepts: its first and last days, and DST changes.

    Every value lies within the years keepword computes deadlines for
    (1900-01-01 00:00 UTC to 2199-12-31 23:59:59.999999 UTC): a third start
    at that first instant and move up to three days later, a third at that
    last instant and move up to three days earlier, and the rest lie within
    three hours (often a microsecond or a second) of a real UTC-offset change
    of the drawn zone, 1970-2060.  The ``tzinfo`` is mixed as in
    :func:`aware_datetimes`, so the local wall-clock year may be 1899 or 2200
    (and offsets may be a local mean time such as ``-00:25:21``).

    Args:
        zones: a strategy of IANA zone names; defaults to :func:`zones`.

    >>> from hypothesis import given, settings
    >>> from keepword._instant import to_utc
    >>> @settings(max_examples=20)
    ... @given(boundary_datetimes())
    ... def in_range(value):
    ...     assert 1900 <= to_utc(value, "now").year <= 2199
    >>> in_range()
    """
    return _boundary_datetimes(zones if zones is not None else _all_zones())


# --------------------------------------------------------------------------- hours


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _interval_text(start: int, end: int) -> str:
    """Minutes from the start day's midnight -> ``"22:00-06:00"`` (end may pass 1440)."""
    if end <= _DAY_MIN:
        return f"{_hhmm(start)}-{_hhmm(end)}"
    return f"{_hhmm(start)}-{_hhmm(end - _DAY_MIN)}"


_minute_points = st.one_of(
    st.integers(0, 96).map(lambda q: q * 15),
    st.integers(0, _DAY_MIN),
)


@st.composite
def _day_intervals(draw: st.DrawFn, max_intervals: int = 3) -> list[tuple[int, int]]:
    """1..max_intervals disjoint same-day intervals (touching allowed), by sorted points."""
    count = draw(st.integers(1, max_intervals))
    points = sorted(
        draw(st.lists(_minute_points, min_size=2 * count, max_size=2 * count, unique=True))
    )
    pairs = [(points[i], points[i + 1]) for i in range(0, len(points), 2)]
    if draw(st.booleans()):
        # sometimes make a split shift touch: end of one == start of next
        for i in range(len(pairs) - 1):
            if draw(st.booleans()):
                pairs[i] = (pairs[i][0], pairs[i + 1][0])
    return pairs


def _days_text(days: Sequence[int], style: int) -> str:
    """Write a set of weekdays in one of the grammar's forms."""
    days = sorted(days)
    if len(days) == 7 and style == 0:
        return "Daily"
    if style == 1 and days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        return f"{_DAY_NAMES[days[0]]}-{_DAY_NAMES[days[-1]]}"
    return ",".join(_DAY_NAMES[d] for d in days)


@st.composite
def _office_hours(draw: st.DrawFn) -> str:
    """Same intervals on a set of weekdays, maybe a second group (e.g. Saturday)."""
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    pairs = draw(_day_intervals())
    groups = [
        f"{_days_text(sorted(days), draw(st.integers(0, 2)))} "
        + ",".join(_interval_text(a, b) for a, b in pairs)
    ]
    others = sorted(set(range(7)) - days)
    second_group: bool = draw(st.booleans())
    if others and second_group:
        extra = draw(st.sets(st.sampled_from(others), min_size=1))
        groups.append(
            f"{_days_text(sorted(extra), draw(st.integers(0, 2)))} "
            + ",".join(_interval_text(a, b) for a, b in draw(_day_intervals(2)))
        )
    return "; ".join(groups)


@st.composite
def _overnight_shift(draw: st.DrawFn) -> str:
    """An overnight interval on some weekdays (``"Mon-Fri 22:00-06:00"``)."""
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    start = draw(st.integers(1, 95).map(lambda q: q * 15))
    end = draw(st.integers(0, start // 15 - 1).map(lambda q: q * 15))
    text = f"{_days_text(sorted(days), draw(st.integers(0, 2)))} {_hhmm(start)}-{_hhmm(end)}"
    return text


@st.composite
def _free_week(draw: st.DrawFn) -> str:
    """Intervals laid one after another around the weekly circle, any day, any length.

    Each interval starts a drawn gap after the previous one ends and lasts under
    a day (or exactly 00:00-24:00); the last one may wrap from Sunday into Monday
    but never past the first.  Disjoint by construction.
    """
    origin = draw(st.integers(0, _WEEK_MIN - 1))
    lengths = draw(st.lists(st.integers(1, _DAY_MIN - 1), min_size=1, max_size=8))
    gaps = draw(
        st.lists(st.integers(0, 3 * _DAY_MIN), min_size=len(lengths), max_size=len(lengths))
    )
    spans: list[tuple[int, int]] = []
    cursor = origin
    for i, (length, gap) in enumerate(zip(lengths, gaps, strict=True)):
        start = cursor + (gap if i else 0)
        end = start + length
        if end > origin + _WEEK_MIN:
            break
        spans.append((start, end))
        cursor = end
    per_day: dict[int, list[tuple[int, int]]] = {}
    for start, end in spans:
        day, offset = divmod(start % _WEEK_MIN, _DAY_MIN)
        per_day.setdefault(day, []).append((offset, offset + (end - start)))
    lower = draw(st.booleans())
    groups = []
    for day in sorted(per_day):
        name = _DAY_NAMES[day].lower() if lower else _DAY_NAMES[day]
        intervals = ",".join(_interval_text(a, b) for a, b in sorted(per_day[day]))
        groups.append(f"{name} {intervals}")
    return "; ".join(draw(st.permutations(groups)))


def weekly_hours() -> st.SearchStrategy[str]:
    """Weekly hours strings that ``BusinessCalendar`` accepts, valid by construction.

    Never empty and never overlapping; includes split shifts with lunch breaks,
    touching intervals, ``24:00`` ends, ``Daily``, ranges and lists of days,
    lower-case day names, and overnight intervals (also Sunday into Monday).

    >>> from keepword.calendar import BusinessCalendar
    >>> from hypothesis import given, settings
    >>> from keepword.calendar import BusinessCalendar
    >>> @settings(max_examples=20)
    ... @given(weekly_hours())
    ... def check(hours):
    ...     assert BusinessCalendar(tz="UTC", hours=hours).hours
    >>> check()
    """
    return st.one_of(
        st.just("Mon-Fri 09:00-17:00"),
        st.just("Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"),
        st.just("Mon-Fri 22:00-06:00"),
        st.just("Daily 00:00-24:00"),
        _office_hours(),
        _overnight_shift(),
        _free_week(),
    )


# --------------------------------------------------------------------------- calendars

_COUNTRIES: dict[str, tuple[str | None, ...]] = {
    "US": (None, "CA", "TX", "NY"),
    "SE": (None,),
    "GB": (None, "SCT"),
    "DE": (None, "BY", "BE"),
    "FR": (None,),
    "JP": (None,),
    "NZ": (None,),
}


def _dates(min_year: int, max_year: int) -> st.SearchStrategy[dt.date]:
    return st.dates(dt.date(min_year, 1, 1), dt.date(max_year, 12, 31))


@st.composite
def _closures(
    draw: st.DrawFn, min_year: int, max_year: int
) -> list[dt.date | tuple[dt.date, dt.date]]:
    out: list[dt.date | tuple[dt.date, dt.date]] = []
    for _ in range(draw(st.integers(0, 4))):
        first = draw(_dates(min_year, max_year))
        length = draw(st.integers(0, 20))
        if length == 0 and draw(st.booleans()):
            out.append(first)
        else:
            out.append((first, first + dt.timedelta(days=length)))
    return out


@st.composite
def _special_hours(draw: st.DrawFn, min_year: int, max_year: int) -> dict[dt.date, str]:
    days = draw(st.lists(_dates(min_year, max_year), max_size=4, unique=True))
    out: dict[dt.date, str] = {}
    for day in days:
        if draw(st.integers(0, 3)) == 0:
            out[day] = ""
        else:
            out[day] = ",".join(_interval_text(a, b) for a, b in draw(_day_intervals(2)))
    return out


@st.composite
def _calendar_kwargs(
    draw: st.DrawFn,
    min_year: int,
    max_year: int,
    zone_names: st.SearchStrategy[str],
    hours: st.SearchStrategy[str],
    with_country: bool,
) -> dict[str, Any]:
    tz = draw(zone_names)
    country: str | None = None
    subdiv: str | None = None
    if with_country and draw(st.booleans()):
        country = draw(st.sampled_from(sorted(_COUNTRIES)))
        subdiv = draw(st.sampled_from(_COUNTRIES[country]))
    holidays = draw(st.lists(_dates(min_year, max_year), max_size=6, unique=True))
    return {
        "tz": tz,
        "hours": draw(hours),
        "country": country,
        "subdiv": subdiv,
        "holidays": holidays,
        "closures": draw(_closures(min_year, max_year)),
        "special_hours": draw(_special_hours(min_year, max_year)),
    }


def calendar_kwargs(
    min_year: int = 2000,
    max_year: int = 2037,
    *,
    zones: st.SearchStrategy[str] | None = None,
    hours: st.SearchStrategy[str] | None = None,
    countries: bool = True,
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for ``BusinessCalendar(**kwargs)``, valid by construction.

    The raw spec behind :func:`calendars`, for tests that need to know it (for
    instance to build an independent model of the same calendar).  Keys: ``tz``,
    ``hours``, ``country``, ``subdiv``, ``holidays`` (a list of dates),
    ``closures`` (dates and inclusive ``(first, last)`` pairs) and
    ``special_hours`` (date to intervals, ``""`` = closed).  Arguments as for
    :func:`calendars`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(calendar_kwargs())
    ... def check(kwargs):
    ...     assert BusinessCalendar(**kwargs).tz == kwargs["tz"]
    >>> check()
    """
    return _calendar_kwargs(
        min_year,
        max_year,
        zones if zones is not None else _all_zones(),
        hours if hours is not None else weekly_hours(),
        countries,
    )


def calendars(
    min_year: int = 2000,
    max_year: int = 2037,
    *,
    zones: st.SearchStrategy[str] | None = None,
    hours: st.SearchStrategy[str] | None = None,
    countries: bool = True,
) -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars with open time, valid by construction.

    A random zone, :func:`weekly_hours`, sometimes public holidays of a country
    (and subdivision) from a short list, a few extra holidays, a few closures
    (single dates and ranges of at most three weeks) and a few special-hours
    dates (some closed), all dated within ``min_year..max_year``.  Closures are
    short and weekly hours are never empty, so no query meets a year without
    open time.

    Args:
        min_year: earliest year for holidays, closures and special hours.
        max_year: latest such year.
        zones: a strategy of zone names (default :func:`zones`).
        hours: a strategy of weekly hours strings (default :func:`weekly_hours`).
        countries: whether to draw public holidays from the ``holidays`` package.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(calendars())
    ... def check(cal):
    ...     assert BusinessCalendar.from_dict(cal.to_dict()) == cal
    >>> check()
    """
    return calendar_kwargs(min_year, max_year, zones=zones, hours=hours, countries=countries).map(
        lambda kwargs: BusinessCalendar(**kwargs)
    )


# --------------------------------------------------------------------------- specs

_SMALL_FLOATS = st.floats(0, 500, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))


def within_specs(*, max_business_days: int = 30) -> st.SearchStrategy[Within]:
    """Valid deadline specs: every ``within()`` unit, whole and fractional amounts, and zero.

    Args:
        max_business_days: the largest ``business_days`` (and ``days``) drawn.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(within_specs())
    ... def check(spec):
    ...     assert Within.parse(spec.to_string()) == spec
    >>> check()
    """
    return st.one_of(
        st.integers(0, 1000).map(lambda n: within(hours=n)),
        _SMALL_FLOATS.map(lambda x: within(hours=x)),
        st.integers(0, 10_000).map(lambda n: within(minutes=n)),
        st.integers(0, max_business_days).map(lambda n: within(days=n)),
        st.integers(0, 200).map(lambda n: within(business_hours=n)),
        _SMALL_FLOATS.map(lambda x: within(business_hours=x)),
        st.integers(0, 10_000).map(lambda n: within(business_minutes=n)),
        st.integers(0, max_business_days).map(lambda n: within(business_days=n)),
    )
