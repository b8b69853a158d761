"""Time-ordered identifiers (UUIDv7 layout, RFC 9562).

The time comes from the caller (the tracker's clock), the randomness from
:mod:`secrets`, so ids sort by creation time in every store and tests that
freeze the clock still get unique ids.

>>> import datetime as dt
>>> t = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
>>> a = new_id(t)
>>> b = new_id(t + dt.timedelta(microseconds=250))
>>> len(a), a[14], a < b
(36, '7', True)
"""

from __future__ import annotations

import datetime as _dt
import secrets

from keepword._instant import to_us, to_utc
from keepword.errors import InvalidArgumentError

__all__ = ["new_id"]

_MAX_MS = (1 << 48) - 1


def new_id(now: _dt.datetime) -> str:
    """A new 36-character lowercase UUIDv7-style id for an object made at ``now``.

    The 48-bit millisecond timestamp comes first, then the sub-millisecond
    fraction in 12 bits (RFC 9562 method 3), then 62 random bits: ids made at
    later microseconds sort later as strings; ids made in the same
    microsecond are unique but unordered.

    Args:
        now: the creation instant (aware).

    Returns:
        The id, e.g. ``"019ab0a4-2e00-7000-8a1b-0c2d3e4f5a6b"``.

    Raises:
        NaiveDatetimeError: ``now`` is naive.
        InvalidArgumentError: ``now`` is before 1970 or not a datetime.
    """
    us = to_us(to_utc(now, "now"))
    if us < 0:
        raise InvalidArgumentError("must not be before 1970-01-01 UTC", argument="now")
    ms, sub_us = divmod(us, 1000)
    if ms > _MAX_MS:  # pragma: no cover - beyond year 10889, datetime stops at 9999
        raise InvalidArgumentError("is too far in the future for an id", argument="now")
    rand_a = sub_us * 4096 // 1000  # 0..4091, monotonic in the microsecond
    rand_b = secrets.randbits(62)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
