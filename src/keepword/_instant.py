"""Turning caller-supplied times into UTC instants, refusing naive ones.

This is the one edge every public call that takes a time goes through.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from keepword.errors import InvalidArgumentError, NaiveDatetimeError

UTC = _dt.UTC
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = 1_000_000
_DAY_US = 86_400 * _MICRO


def to_utc(value: Any, argument: str) -> _dt.datetime:
    """Return ``value`` as a UTC ``datetime`` (stdlib, ``tzinfo=UTC``).

    Accepts any aware ``datetime`` (stdlib zoneinfo, pendulum, pytz-localised,
    fixed offsets).  Refuses naive datetimes with :class:`NaiveDatetimeError`
    and anything else (``date``, strings, numbers) with
    :class:`InvalidArgumentError`, both naming ``argument``.
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
    offset = value.utcoffset()
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
