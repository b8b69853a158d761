"""Turning caller-supplied times and amounts of time into UTC microseconds, refusing bad ones.

This is the one edge every public call that takes a time goes through, and
the one place that says which instants keepword supports: the years
:data:`FIRST_YEAR` to :data:`LAST_YEAR`, in UTC.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Final

from keepword.errors import InvalidArgumentError, KeepwordError, NaiveDatetimeError

__all__ = [
    "EPOCH",
    "FIRST_YEAR",
    "HI_US",
    "LAST_YEAR",
    "LO_US",
    "SPAN_US",
    "UTC",
    "amount_us",
    "check_number",
    "from_iso",
    "from_us",
    "shown",
    "td_us",
    "to_us",
    "to_utc",
]

UTC = _dt.UTC
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = 1_000_000
_DAY_US = 86_400 * _MICRO

#: First and last calendar years keepword computes deadlines for (UTC).
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2199


def to_utc(value: Any, argument: str) -> _dt.datetime:
    """Return ``value`` as a UTC ``datetime`` (stdlib, ``tzinfo=UTC``).

    Accepts any aware ``datetime`` (stdlib zoneinfo, pendulum, pytz-localised,
    fixed offsets).  Refuses naive datetimes with :class:`NaiveDatetimeError`
    and anything else (``date``, strings, numbers, a ``tzinfo`` whose
    ``utcoffset()`` fails) with :class:`InvalidArgumentError`, both naming
    ``argument``.
    """
    if type(value) is _dt.datetime and value.tzinfo is UTC:
        return value  # already a UTC instant: the common case, no copy
    if not isinstance(value, _dt.datetime):
        if isinstance(value, _dt.date):
            raise InvalidArgumentError(
                f"must be a timezone-aware datetime, not a date ({value!r})",
                argument=argument,
                fix="pass a datetime with a zone, e.g. midnight in your calendar's zone",
            )
        raise InvalidArgumentError(
            f"must be a timezone-aware datetime, not {type(value).__name__}",
            argument=argument,
        )
    offset = _offset(value, argument)
    if offset is None:
        raise NaiveDatetimeError(argument, value)
    try:
        naive = value.replace(tzinfo=None) - offset
    except OverflowError:
        raise InvalidArgumentError(
            "is too close to the end of the datetime range", argument=argument
        ) from None
    return _dt.datetime(
        naive.year,
        naive.month,
        naive.day,
        naive.hour,
        naive.minute,
        naive.second,
        naive.microsecond,
        tzinfo=UTC,
    )


def _offset(value: _dt.datetime, argument: str) -> _dt.timedelta | None:
    """``value.utcoffset()``, with a broken ``tzinfo`` reported as a named error."""
    try:
        return value.utcoffset()
    except KeepwordError:
        raise
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise InvalidArgumentError(
            f"has a tzinfo whose utcoffset() fails ({type(exc).__name__})",
            argument=argument,
            fix="use a zoneinfo.ZoneInfo or datetime.timezone",
        ) from None


def to_us(value: _dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    d = value - EPOCH
    return d.days * _DAY_US + d.seconds * _MICRO + d.microseconds


def from_us(us: int) -> _dt.datetime:
    """The UTC datetime ``us`` microseconds after the Unix epoch."""
    return EPOCH + _dt.timedelta(microseconds=us)


def td_us(delta: _dt.timedelta) -> int:
    """A timedelta in whole microseconds (exact)."""
    return delta.days * _DAY_US + delta.seconds * _MICRO + delta.microseconds


def from_iso(value: Any, argument: str) -> _dt.datetime:
    """The UTC instant an ISO 8601 string with an offset names (as event data stores them)."""
    return to_utc(_dt.datetime.fromisoformat(value), argument)


#: The supported instants are ``LO_US <= us < HI_US`` (microseconds since the epoch).
LO_US: Final = to_us(_dt.datetime(FIRST_YEAR, 1, 1, tzinfo=UTC))
HI_US: Final = to_us(_dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC))
#: The length of the supported years: no amount of time this long fits inside them.
SPAN_US: Final = HI_US - LO_US


def check_number(value: Any, argument: str) -> int | float:
    """Return ``value`` if it is a finite ``int`` or ``float`` (not a ``bool``).

    >>> check_number(float("nan"), "hours")
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: hours: must be finite, not nan
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(
            f"must be a number, not {type(value).__name__}",
            argument=argument,
            fix=f"pass an int or a float, e.g. {argument}=3",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgumentError(f"must be finite, not {value!r}", argument=argument)
    return value


def amount_us(
    value: Any,
    unit_us: int,
    argument: str,
    error: type[KeepwordError] = InvalidArgumentError,
) -> int:
    """``value`` units of ``unit_us`` microseconds, exactly (floats rounded to the microsecond).

    ``value`` is a number, or a ``timedelta`` (then ``unit_us`` is ignored).
    Refuses what :func:`check_number` refuses, and with ``error`` any
    magnitude at least as long as the supported years: no instant inside them
    is that far from another, so the amount cannot give a supported result.

    >>> amount_us(1.5, 3_600_000_000, "hours")
    5400000000
    >>> amount_us(10**6, 86_400_000_000, "days")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: days: must be shorter than the 300 supported years ...
    """
    kind = type(value)
    total: int
    if kind is int:  # the common cases first: no call, no isinstance
        total = value * unit_us
    elif kind is float and -SPAN_US < value * unit_us < SPAN_US:  # NaN and inf fail
        total = round(value * unit_us)
    elif isinstance(value, _dt.timedelta):
        total = td_us(value)
    else:
        check_number(value, argument)  # refuses bool, NaN, inf and non-numbers
        if isinstance(value, int):
            total = int(value) * unit_us
        else:
            scaled = float(value) * unit_us
            total = round(scaled) if -SPAN_US < scaled < SPAN_US else SPAN_US
    if not -SPAN_US < total < SPAN_US:
        raise error(
            f"must be shorter than the {LAST_YEAR - FIRST_YEAR + 1} supported years "
            f"{FIRST_YEAR}-{LAST_YEAR} (got {shown(value)})",
            argument=argument,
            fix="use a smaller amount",
        )
    return total


def shown(value: object) -> str:
    """``repr(value)``, shortened for integers too long to print whole.

    >>> shown(10**400)
    'about 1e400'
    """
    if isinstance(value, int) and not -(10**15) < value < 10**15:
        sign = "-" if value < 0 else ""
        return f"about {sign}1e{int(math.log10(abs(value)))}"
    return repr(value)
