"""Plain words for a commitment's deadline: why it is due when it is, and how it ended.

Pure: reads a :class:`~keepword.commitment.Commitment` and its calendar
snapshot, nothing else.

>>> import datetime as dt
>>> from keepword.calendar import BusinessCalendar, within
>>> from keepword.transitions import promise
>>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
>>> c, _ = promise(id="c-1", tenant="shop-7", customer="acct-42", owner="alice", kind="reply",
...                what="Email the bulk price list", calendar=cal, due=within(business_days=3),
...                now=dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
>>> print(explain(c))
3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; due Fri 27 Nov 17:00 EST
"""

from __future__ import annotations

import datetime as _dt

from keepword.calendar import Within
from keepword.commitment import Commitment, Status
from keepword.transitions import deadline_as_set

__all__ = ["explain", "format_duration", "format_instant"]


def explain(c: Commitment) -> str:
    """Why ``c`` is due when it is, in one line of plain words.

    The calendar's explanation of the deadline spec from when it was set
    (the promise or the last renegotiation), then how pauses moved it, then
    how it ended.
    """
    zone = c.calendar.zone
    anchor, base_due = deadline_as_set(c, c.calendar)
    if c.spec is not None:
        parts = [c.calendar.explain(anchor.at, Within.parse(c.spec))]
    else:
        parts = [f"a fixed deadline: due {format_instant(base_due, zone)}"]
    if anchor.kind == "renegotiated":
        parts.insert(0, f"renegotiated {format_instant(anchor.at, zone, tz=False)}")
    if c.due_at != base_due:
        parts.append(f"moved by pauses and recalculations to {format_instant(c.due_at, zone)}")
    ending = _ending(c, zone)
    if ending:
        parts.append(ending)
    return "; ".join(parts)


def _ending(c: Commitment, zone: _dt.tzinfo) -> str | None:
    if c.status is Status.PAUSED:
        return "paused: the clock is stopped"
    if c.status is Status.KEPT:
        if c.on_time:
            return "kept on time"
        if c.kept_after_breach:
            return (
                f"kept after breach: {format_duration(c.lateness)} of business time "
                "past the deadline it missed"
            )
        return f"kept {format_duration(c.lateness)} of business time late"
    if c.status is Status.BROKEN:
        return "broken"
    if c.status is Status.CANCELLED:
        return "cancelled"
    if c.breached_at is not None:
        return f"missed its deadline of {format_instant(c.breached_at, zone)}"
    return None


def format_instant(value: _dt.datetime, zone: _dt.tzinfo, *, tz: bool = True) -> str:
    """``value`` in ``zone`` as ``"Fri 27 Nov 17:00 EST"`` (without the zone if ``tz=False``).

    >>> import zoneinfo
    >>> format_instant(_dt.datetime(2026, 11, 27, 22, tzinfo=_dt.UTC),
    ...                zoneinfo.ZoneInfo("America/New_York"))
    'Fri 27 Nov 17:00 EST'
    """
    local = value.astimezone(zone)
    text = f"{local.strftime('%a')} {local.day} {local.strftime('%b')} {local:%H:%M}"
    return f"{text} {local.strftime('%Z')}" if tz else text


def format_duration(delta: _dt.timedelta | None) -> str:
    """A duration in hours and minutes, as ``"2 h 30 min"``, ``"2 h"`` or ``"45 min"``.

    >>> format_duration(_dt.timedelta(hours=2, minutes=30))
    '2 h 30 min'
    """
    seconds = 0 if delta is None else int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"
