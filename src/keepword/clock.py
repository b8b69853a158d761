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

from keepword._instant import (
    FIRST_YEAR,
    HI_US,
    LAST_YEAR,
    LO_US,
    amount_us,
    from_us,
    td_us,
    to_us,
    to_utc,
)
from keepword.errors import InvalidArgumentError

__all__ = ["Clock", "FrozenClock", "SystemClock"]

_UNIT_US = (
    ("days", 86_400_000_000),
    ("hours", 3_600_000_000),
    ("minutes", 60_000_000),
    ("seconds", 1_000_000),
)


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

    It stays inside the years keepword computes deadlines for (1900-2199, in
    UTC): an instant outside them, or a move that would leave them, raises
    :class:`~keepword.errors.InvalidArgumentError` naming the argument, and
    the clock keeps its time.

    Args:
        at: the starting instant (aware).  Defaults to 2026-01-01 00:00 UTC.

    >>> import datetime as dt
    >>> FrozenClock(dt.datetime(2199, 12, 31, tzinfo=dt.UTC)).advance(days=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: days: would move the clock to 2200-01-01T00:00:00+00:00...
    """

    def __init__(self, at: _dt.datetime | None = None):
        start = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC) if at is None else _supported(at, "at")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> _dt.datetime:
        """The instant the clock is set to."""
        with self._lock:
            return self._now

    def set(self, at: _dt.datetime) -> _dt.datetime:
        """Move the clock to ``at`` (it may go backwards: clocks do) and return it.

        Raises:
            NaiveDatetimeError: ``at`` has no zone.
            InvalidArgumentError: ``at`` is not a datetime, or is outside 1900-2199.
        """
        value = _supported(at, "at")
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
        """Move the clock forward by ``delta`` plus the given units; return the new instant.

        Raises:
            InvalidArgumentError: an amount that is not a number (or ``delta``
                not a ``timedelta``), a ``bool``, NaN or infinite; a step that
                goes backwards; or one that would leave the years 1900-2199.
                The error names the argument, and the clock does not move.
        """
        if delta is not None and not isinstance(delta, _dt.timedelta):
            raise InvalidArgumentError(
                f"must be a datetime.timedelta, not {type(delta).__name__}",
                argument="delta",
                fix="e.g. advance(timedelta(hours=2)) or advance(hours=2)",
            )
        parts = [(amount_us(delta, 1, "delta"), "delta")] if delta is not None else []
        units = {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
        parts += [(amount_us(units[name], unit_us, name), name) for name, unit_us in _UNIT_US]
        # each part is a checked, bounded number: timedelta rounds them as it always has
        step = td_us(
            (delta or _dt.timedelta())
            + _dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        )
        if step < 0:
            raise InvalidArgumentError(
                "cannot advance a clock backwards",
                argument=min(parts)[1],
                fix="use set() to go back",
            )
        with self._lock:
            moved = to_us(self._now) + step
            if moved >= HI_US:
                raise InvalidArgumentError(
                    f"would move the clock to {from_us(moved).isoformat()} "
                    f"past the supported years {FIRST_YEAR}-{LAST_YEAR}",
                    argument=max(parts)[1],
                    fix="advance by less, or set() an earlier instant first",
                )
            self._now = from_us(moved)
            return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self.now().isoformat()})"


def _supported(at: object, argument: str) -> _dt.datetime:
    """``at`` as a UTC instant inside the supported years, or a named error."""
    value = to_utc(at, argument)
    if not LO_US <= to_us(value) < HI_US:
        raise InvalidArgumentError(
            f"{value.isoformat()} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}",
            argument=argument,
            fix="use an instant in those years, e.g. today",
        )
    return value
