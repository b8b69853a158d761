"""Clocks: the only place in keepword that reads the time.

The :class:`~keepword.Tracker` owns a clock; stores and domain functions are
handed ``now``.  Tests use :class:`FrozenClock` and move it by hand.

>>> import datetime as dt
>>> clock = FrozenClock(dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
>>> clock.advance(hours=2).isoformat()
'2026-11-23T12:00:00+00:00'
"""

from __future__ import annotations

import datetime as _dt
import threading
from typing import Protocol, runtime_checkable

from keepword._instant import to_utc
from keepword.errors import InvalidArgumentError

__all__ = ["Clock", "FrozenClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` returning an aware UTC datetime."""

    def now(self) -> _dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> _dt.datetime:
        """The current instant from the operating system, in UTC."""
        return _dt.datetime.now(_dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that only moves when told to; thread-safe.

    Args:
        at: the starting instant (aware).  Defaults to 2026-01-01 00:00 UTC.
    """

    def __init__(self, at: _dt.datetime | None = None):
        start = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC) if at is None else to_utc(at, "at")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> _dt.datetime:
        """The instant the clock is set to."""
        with self._lock:
            return self._now

    def set(self, at: _dt.datetime) -> _dt.datetime:
        """Move the clock to ``at`` (it may go backwards: clocks do) and return it."""
        value = to_utc(at, "at")
        with self._lock:
            self._now = value
            return value

    def advance(
        self,
        delta: _dt.timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> _dt.datetime:
        """Move the clock forward by ``delta`` plus the given units; return the new instant."""
        step = (delta or _dt.timedelta()) + _dt.timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        if step < _dt.timedelta(0):
            raise InvalidArgumentError(
                "cannot advance a clock backwards", argument="delta", fix="use set() to go back"
            )
        with self._lock:
            self._now = self._now + step
            return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self.now().isoformat()})"
