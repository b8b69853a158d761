"""Plain words for a commitment's deadline: why it is due when it is, and how it ended.

Two audiences.
Staff read why the deadline falls where it does (the calendar's reasoning,
renegotiations, pauses, how it ended and the escalation policy's next step),
in English.
The customer reads what to expect and by when, in their own language and
time zone, with no internal words (see :mod:`keepword.telling`).

Pure: reads a :class:`~keepword.commitment.Commitment` and its calendar
snapshot (and, for relative words like "tomorrow", the ``now`` it is given),
nothing else.

>>> import datetime as dt
>>> from keepword.calendar import BusinessCalendar, within
>>> from keepword.transitions import promise
>>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
>>> c, _ = promise(id="c-1", tenant="shop-7", customer="acct-42", owner="alice", kind="reply",
...                what="Email the bulk price list", calendar=cal, due=within(business_days=3),
...                now=dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
>>> print(explain(c))
3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; due Fri 27 Nov 17:00 EST
>>> print(explain(c, audience="customer", locale="sv"))
Vi hör av oss senast fredag 27 november kl. 17:00.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

from keepword._instant import from_iso, to_utc
from keepword.calendar import Within
from keepword.commitment import Commitment, Event, Status
from keepword.errors import InvalidArgumentError
from keepword.transitions import deadline_as_set, firings

__all__ = [
    "AUDIENCES",
    "Audience",
    "check_audience",
    "explain",
    "format_duration",
    "format_instant",
]

Audience = Literal["staff", "customer"]
"""Who reads an explanation."""

AUDIENCES: tuple[Audience, ...] = ("staff", "customer")
"""Every audience :func:`explain` writes for."""

_SHOWN_PAUSES = 3


def check_audience(value: Any) -> Audience:
    """``value`` if it is an audience, else :class:`InvalidArgumentError` naming ``audience``."""
    if value == "staff":
        return "staff"
    if value == "customer":
        return "customer"
    raise InvalidArgumentError(
        f"must be 'staff' or 'customer', not {value!r}"[:120],
        argument="audience",
        fix="staff read why the deadline is where it is; customers read what to expect",
    )


def explain(
    c: Commitment,
    *,
    audience: Audience = "staff",
    locale: str | None = None,
    now: _dt.datetime | None = None,
) -> str:
    """Say in plain words why ``c`` is due when it is (staff) or what to expect (customer).

    For staff, one line in English: the calendar's explanation of the
    deadline spec from when it was set (the promise or the last
    renegotiation, with how many there were and why), the pauses that moved
    it, then how it ended, or, while it is open, the escalation policy's next
    step.

    For the customer, one sentence in ``locale`` (default: the language of
    the calendar's country, else English) and the calendar's time zone, with
    no internal words; see :func:`keepword.telling.tell`.

    Args:
        c: the commitment.
        audience: ``"staff"`` or ``"customer"``.
        locale: the customer's language (``"sv"``, ``"zh_CN"``, ...); staff
            text is always English.
        now: the instant relative words ("today", "tomorrow", "by Friday")
            are judged from; ``None`` writes dates in full.

    Raises:
        InvalidArgumentError: an unknown ``audience`` or a malformed ``locale``.
        NaiveDatetimeError: ``now`` is naive.
    """
    if check_audience(audience) == "customer":
        from keepword.telling import tell  # the customer's words live beside their catalogs

        return tell(c, locale=locale, now=now)
    if locale is not None:
        from keepword._locales import check_locale

        check_locale(locale)
    if now is not None:
        to_utc(now, "now")
    return _staff(c)


def _staff(c: Commitment) -> str:
    zone = c.calendar.zone
    anchor, base_due = deadline_as_set(c, c.calendar)
    if c.spec is not None:
        parts = [c.calendar.explain(anchor.at, Within.parse(c.spec))]
    else:
        parts = [f"a fixed deadline: due {format_instant(base_due, zone)}"]
    if anchor.kind == "renegotiated":
        parts.insert(0, _renegotiated(c, anchor, zone))
    reopens = c.history[0].data.get("reopens")
    if isinstance(reopens, Mapping):
        parts.insert(0, _reopens(reopens, zone))
    if c.due_at != base_due:
        parts.append(f"moved by pauses and recalculations to {format_instant(c.due_at, zone)}")
    parts.extend(_pauses(c.history[anchor.seq :], zone))
    ending = _ending(c, zone)
    if ending:
        parts.append(ending)
    step = _next_step(c, zone)
    if step:
        parts.append(step)
    return "; ".join(parts)


def _reopens(reopens: Mapping[str, Any], zone: _dt.tzinfo) -> str:
    """What a reopening promise says of the keep it reopens."""
    kept = f"reopens {reopens.get('id')}"
    kept_at = reopens.get("kept_at")
    if isinstance(kept_at, str):
        kept += f", kept {format_instant(from_iso(kept_at, 'data'), zone, tz=False)}"
    if reopens.get("reason"):
        kept += f" ({reopens['reason']})"
    return kept + (": rework" if reopens.get("rework") is True else "")


def _renegotiated(c: Commitment, anchor: Event, zone: _dt.tzinfo) -> str:
    times = sum(1 for e in c.history if e.kind == "renegotiated")
    text = f"renegotiated {format_instant(anchor.at, zone, tz=False)}"
    if times > 1:
        text = f"renegotiated {times} times, last {format_instant(anchor.at, zone, tz=False)}"
    reason = anchor.data.get("reason")
    return f"{text} ({reason})" if reason else text


def _pauses(events: tuple[Event, ...], zone: _dt.tzinfo) -> list[str]:
    """One phrase per completed pause since the deadline was set (the last few)."""
    done: list[str] = []
    reason = None
    for event in events:
        if event.kind == "paused":
            reason = event.data.get("reason")
        elif event.kind == "resumed":
            start = from_iso(event.data["paused_at"], "data")
            text = (
                f"paused {format_instant(start, zone, tz=False)} to "
                f"{format_instant(event.at, zone, tz=False)}"
            )
            done.append(f"{text} ({reason})" if reason else text)
    if len(done) > _SHOWN_PAUSES:
        hidden = len(done) - _SHOWN_PAUSES
        done = [f"{hidden} earlier pause{'s' if hidden > 1 else ''}", *done[-_SHOWN_PAUSES:]]
    return done


def _next_step(c: Commitment, zone: _dt.tzinfo) -> str | None:
    """The policy's next planned step while open, as ``"next step: <label> at <when>"``."""
    if c.status is not Status.OPEN or c.policy is None or c.next_action_at is None:
        return None
    planned = firings(c)
    if c.escalation_cursor >= len(planned):
        return None
    firing = planned[c.escalation_cursor]
    return (
        f"next step of policy {c.policy.name}: {firing.step.label} "
        f"at {format_instant(firing.at, zone)}"
    )


def _ending(c: Commitment, zone: _dt.tzinfo) -> str | None:
    if c.status is Status.PAUSED:
        since = (
            "" if c.paused_at is None else f" since {format_instant(c.paused_at, zone, tz=False)}"
        )
        reason = next(
            (e.data.get("reason") for e in reversed(c.history) if e.kind == "paused"), None
        )
        why = f" ({reason})" if reason else ""
        return f"paused{since}{why}: the clock is stopped"
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
