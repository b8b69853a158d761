"""Escalation offsets in time: their bound, and moving an instant by one on a calendar.

Private to :mod:`keepword.escalation`: every step offset and repeat interval
is at most :data:`MAX_SPAN`, and :func:`shift` never raises for one (where a
calendar cannot place the result, the offset is measured in real time).
"""

from __future__ import annotations

import datetime as _dt
from typing import Final

from keepword._instant import to_utc
from keepword.calendar import BusinessCalendar, Within
from keepword.errors import CalendarError, InvalidArgumentError

__all__ = ["MAX_SPAN", "UNIT_MINUTES", "apply_offset", "bounded", "check_span", "shift"]

#: The longest offset, repeat interval or span of repeats a step may have (100 years).
MAX_SPAN: Final = _dt.timedelta(days=36_600)
UNIT_MINUTES: Final = {
    "minutes": 1,
    "business_minutes": 1,
    "hours": 60,
    "business_hours": 60,
    "days": 1440,
    "business_days": 1440,
}
MAX_SPAN_MINUTES: Final = MAX_SPAN // _dt.timedelta(minutes=1)


def span_minutes(spec: Within) -> float:
    """``spec``'s length in minutes, counting business time as real time."""
    return spec.amount * UNIT_MINUTES[spec.unit]


def bounded(spec: Within, argument: str, times: int = 1) -> Within:
    """``spec`` if ``times`` of it span at most :data:`MAX_SPAN`, else raise naming ``argument``."""
    check_span(spec.unit, spec.amount, argument, times)
    return spec


def check_span(unit: str, amount: float, argument: str, times: int = 1) -> None:
    """Raise naming ``argument`` unless ``times`` x ``amount`` ``unit`` span at most 100 years."""
    if amount * UNIT_MINUTES[unit] * times > MAX_SPAN_MINUTES:
        limit = MAX_SPAN_MINUTES // UNIT_MINUTES[unit]
        what = f"{amount!r} {unit}" if times == 1 else f"{times} x {amount!r}"
        raise InvalidArgumentError(
            f"must span at most 100 years ({limit} {unit}; got {what})",
            argument=argument,
            fix="escalation offsets and repeats are bounded to 100 years",
        )


def real_time(spec: Within) -> _dt.timedelta:
    """``spec`` as real time (a business hour counts as an hour): the fallback of :func:`shift`."""
    return _dt.timedelta(minutes=span_minutes(spec))


def shift(cal: BusinessCalendar, at: _dt.datetime, spec: Within, sign: int) -> _dt.datetime:
    """:func:`apply_offset`, measured in real time where the calendar cannot place the result."""
    try:
        return apply_offset(cal, at, spec, sign)
    except (CalendarError, OverflowError):
        try:
            return at + real_time(spec) * sign
        except OverflowError:
            return at


def apply_offset(cal: BusinessCalendar, at: _dt.datetime, spec: Within, sign: int) -> _dt.datetime:
    """``at`` moved by ``spec`` (forwards for sign=1, backwards for -1), in UTC."""
    amount = spec.amount * sign
    if spec.unit == "hours":
        return at + _dt.timedelta(hours=amount)
    if spec.unit == "minutes":
        return at + _dt.timedelta(minutes=amount)
    if spec.unit == "business_hours":
        return to_utc(cal.add(at, business_hours=amount), "at")
    if spec.unit == "business_minutes":
        return to_utc(cal.add(at, business_minutes=amount), "at")
    # calendar days at the same wall time (backwards: resolve forward from the earlier day)
    if sign > 0:
        return to_utc(cal.resolve(at, spec), "at")
    local = at.astimezone(cal.zone)
    back = local - _dt.timedelta(days=int(spec.amount))
    return to_utc(back.replace(tzinfo=None).replace(tzinfo=cal.zone, fold=0), "at")
