"""Telling the customer: what to expect and by when, in their language and time zone.

A customer reads one sentence per promise ("You'll hear from us by Friday 27
November, 17:00."), never keepword's internal words: no step names, owners,
policies, escalations or breaches.  The sentence depends on where the promise
is (open, renegotiated, late, paused and why, kept, broken, cancelled), and
dates are written in the customer's time zone (the commitment's calendar's)
and language by pendulum: "today by 17:00", "tomorrow by 17:00" and "by
Friday, 17:00" within a week of ``now``, the date beyond that (or always,
without a ``now``).

The sentence templates are gettext messages in keepword's catalogs
(``keepword/locale/<lang>/LC_MESSAGES/keepword.po`` and ``.mo``), shipped in
English, Swedish and Chinese; :func:`add_locale_dir` adds a host's own.
Holiday names come from the ``holidays`` package's translations where it has
them.  A missing language or message falls back to English.

>>> import datetime as dt
>>> from keepword.calendar import BusinessCalendar, within
>>> from keepword.transitions import promise
>>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
>>> c, _ = promise(id="c-1", tenant="shop-7", customer="acct-42", owner="alice", kind="reply",
...                what="Email the bulk price list", calendar=cal, due=within(business_days=3),
...                now=dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
>>> for locale in ("en", "sv", "zh"):
...     print(tell(c, locale=locale))
You'll hear from us by Friday 27 November, 17:00.
Vi hör av oss senast fredag 27 november kl. 17:00.
我们将在11月27日（星期五）17:00前回复您。
>>> print(tell(c, locale="en", now=dt.datetime(2026, 11, 27, 14, tzinfo=dt.UTC)))
You'll hear from us today by 17:00.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum

from keepword import _locales
from keepword._instant import from_iso, to_utc
from keepword._locales import add_locale_dir, available_locales, remove_locale_dir
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status
from keepword.errors import InvalidArgumentError

__all__ = [
    "MESSAGES",
    "STAFF_ONLY_WORDS",
    "CustomerStatus",
    "PromiseStatus",
    "add_locale_dir",
    "available_locales",
    "customer_status",
    "locale_for_commitment",
    "promise_status",
    "remove_locale_dir",
    "tell",
    "tell_event",
]

STAFF_ONLY_WORDS = (
    "escalat",
    "breach",
    "step",
    "owner",
    "policy",
    "policies",
    "tenant",
    "cursor",
    "set aside",
    "set_aside",
    "deadline",
    "notice",
    "assignee",
    "internal",
)
"""Words (lower-case fragments) a customer-facing text never contains, in any language."""


def _m(context: str, message: str) -> tuple[str, str]:
    """A catalog message: ``(msgctxt, msgid)``; ``pybabel extract -k _m:1c,2`` finds them."""
    return context, message


MESSAGES: Mapping[str, tuple[str, str]] = {
    # pendulum format patterns for the dates in the sentences below
    "fmt_date": _m("pendulum date format", "dddd D MMMM"),
    "fmt_date_year": _m("pendulum date format with year", "dddd D MMMM YYYY"),
    "fmt_time": _m("pendulum time format", "HH:mm"),
    "fmt_weekday": _m("pendulum weekday format", "dddd"),
    # by when: a deadline, relative to now where natural
    "by_today": _m("by", "today by {time}"),
    "by_tomorrow": _m("by", "tomorrow by {time}"),
    "by_yesterday": _m("by", "yesterday by {time}"),
    "by_weekday": _m("by", "by {weekday}, {time}"),
    "by_date": _m("by", "by {date}, {time}"),
    # on a day: when something happened or will happen
    "on_today": _m("on", "today"),
    "on_tomorrow": _m("on", "tomorrow"),
    "on_yesterday": _m("on", "yesterday"),
    "on_next": _m("on a coming weekday", "on {weekday}"),
    "on_last": _m("on a past weekday", "on {weekday}"),
    "on_date": _m("on", "on {date}"),
    # since a day: how long something has been waiting
    "since_today": _m("since", "since today"),
    "since_yesterday": _m("since", "since yesterday"),
    "since_weekday": _m("since", "since {weekday}"),
    "since_date": _m("since", "since {date}"),
    # where a promise is now
    "open": _m("status", "You'll hear from us {by}."),
    "open_reply": _m("status", "We'll reply to your message {by}."),
    "open_renegotiated": _m("status", "As agreed, you'll hear from us {by}."),
    "open_reply_renegotiated": _m("status", "As agreed, we'll reply to your message {by}."),
    "late": _m(
        "status", "We're sorry: we promised to get back to you {by}, and we're still working on it."
    ),
    "late_reply": _m(
        "status",
        "We're sorry: we promised to reply to your message {by}, and we're still working on it.",
    ),
    "paused_customer": _m("status", "We've been waiting for your reply {since}."),
    "paused_supplier": _m("status", "We've been waiting for a delivery {since}."),
    "paused_other": _m(
        "status", "This has been on hold {since}; we'll let you know as soon as it moves again."
    ),
    "kept": _m("status", "Done {on}, as promised."),
    "kept_late": _m("status", "Done {on}. We're sorry it took longer than we said."),
    "broken": _m(
        "status",
        "We're sorry: we couldn't keep this promise. We'll be in touch about what happens next.",
    ),
    "cancelled": _m("status", "This was cancelled {on}."),
    # what happened, one sentence per event
    "event_promised": _m("event", "We promised to get back to you {by}."),
    "event_kept": _m("event", "Done {on}."),
    "event_failed": _m("event", "We couldn't keep this promise. We're sorry."),
    "event_cancelled": _m("event", "Cancelled {on}."),
    "event_paused": _m("event", "Put on hold {on}."),
    "event_resumed": _m("event", "Picked up again {on}."),
    "event_renegotiated": _m("event", "We agreed a new date: you'll hear from us {by}."),
    "event_reassigned": _m("event", "A colleague took this over {on}."),
    "event_retargeted": _m("event", "We updated the date: you'll hear from us {by}."),
    "event_breached": _m("event", "We didn't manage it {by} as promised. We're sorry."),
    "event_escalated": _m("event", "We've given this extra attention."),
    "event_set_aside": _m("event", "We're still working on this."),
    "event_served": _m("event", "Your turn came: we've set your order aside for you."),
    # a day the business is closed before the deadline
    "closed": _m("note", "We're closed {on} ({holiday})."),
}
"""Every customer-facing message: key -> ``(msgctxt, English msgid)``."""

_FORMATS = frozenset(k for k in MESSAGES if k.startswith("fmt_"))

_PLACEHOLDER = string.Formatter()

# Words in a pause's reason that say who or what it waits for.
_WAITING_ON_CUSTOMER = re.compile(r"customer|client|reply|answer|respon|you\b|info", re.I)
_WAITING_ON_SUPPLIER = re.compile(
    r"supplier|stock|deliver|shipment|vendor|\bparts?\b|courier", re.I
)

# How far ahead the status page looks for closed days before a deadline.
_NOTE_HORIZON_DAYS = 14
_MAX_NOTES = 3


def _fields(template: str) -> frozenset[str] | None:
    """The ``{name}`` fields of ``template``, or ``None`` if it is not a valid template."""
    try:
        return frozenset(name for _, name, _, _ in _PLACEHOLDER.parse(template) if name is not None)
    except ValueError:
        return None


_LITERAL = re.compile(r"\[[^\]]*\]")


def _valid_pattern(pattern: str) -> bool:
    """Whether a pendulum pattern's ``[literal]`` brackets are balanced."""
    return "[" not in (rest := _LITERAL.sub("", pattern)) and "]" not in rest


class _Voice:
    """One language's templates and date formats, built once per language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.pendulum_locale = _locales.pendulum_locale(lang)
        catalog = _locales.translations(lang)
        self.templates: dict[str, str] = {}
        for key, (context, english) in MESSAGES.items():
            text = catalog.pgettext(context, english)
            # a translation that is empty, or whose fields differ from English, is not used
            usable = _valid_pattern(text) if key in _FORMATS else _fields(text) == _fields(english)
            self.templates[key] = text if text.strip() and usable else english

    def say(self, key: str, **fields: str) -> str:
        return self.templates[key].format(**fields)

    def date(self, local: _dt.datetime, with_year: bool) -> str:
        return _format(
            local.date(),
            self.templates["fmt_date_year" if with_year else "fmt_date"],
            self.pendulum_locale,
        )

    def weekday(self, local: _dt.datetime) -> str:
        return _format(local.date(), self.templates["fmt_weekday"], self.pendulum_locale)

    def time(self, local: _dt.datetime) -> str:
        return _format_time(
            local.hour, local.minute, self.templates["fmt_time"], self.pendulum_locale
        )


@functools.lru_cache(maxsize=4096)
def _format(day: _dt.date, pattern: str, locale: str) -> str:
    """``day`` as pendulum writes ``pattern`` in ``locale`` (cached: dates repeat)."""
    value = pendulum.datetime(day.year, day.month, day.day)
    try:
        return value.format(pattern, locale=locale)
    except (ValueError, KeyError, IndexError):  # a broken pattern in a host's catalog
        return value.format(MESSAGES["fmt_date"][1], locale=locale)


@functools.lru_cache(maxsize=2048)
def _format_time(hour: int, minute: int, pattern: str, locale: str) -> str:
    value = pendulum.datetime(2000, 1, 1, hour, minute)
    try:
        return value.format(pattern, locale=locale)
    except (ValueError, KeyError, IndexError):
        return f"{hour:02d}:{minute:02d}"


@functools.cache
def _voice(lang: str) -> _Voice:
    return _Voice(lang)


_locales.on_clear(_voice.cache_clear)


# --------------------------------------------------------------------------- phrases


class _Phrases:
    """Dates of one commitment, said relative to ``now`` in the customer's zone."""

    def __init__(self, voice: _Voice, zone: _dt.tzinfo, now: _dt.datetime | None, year: int):
        self.voice = voice
        self.zone = zone
        self.today = None if now is None else now.astimezone(zone).date()
        self.year = year if now is None else now.astimezone(zone).year

    def _local(self, at: _dt.datetime) -> tuple[_dt.datetime, int | None]:
        local = at.astimezone(self.zone)
        offset = None if self.today is None else (local.date() - self.today).days
        return local, offset

    def _date(self, local: _dt.datetime) -> str:
        return self.voice.date(local, local.year != self.year)

    def by(self, at: _dt.datetime) -> str:
        """A deadline: "today by 17:00", "by Friday, 17:00", "by Friday 27 November, 17:00"."""
        local, offset = self._local(at)
        time = self.voice.time(local)
        if offset == 0:
            return self.voice.say("by_today", time=time)
        if offset == 1:
            return self.voice.say("by_tomorrow", time=time)
        if offset == -1:
            return self.voice.say("by_yesterday", time=time)
        if offset is not None and 2 <= offset <= 6:
            return self.voice.say("by_weekday", weekday=self.voice.weekday(local), time=time)
        return self.voice.say("by_date", date=self._date(local), time=time)

    def on(self, at: _dt.datetime) -> str:
        """A day: "today", "tomorrow", "yesterday", "on Tuesday", "on Friday 27 November"."""
        local, offset = self._local(at)
        if offset == 0:
            return self.voice.say("on_today")
        if offset == 1:
            return self.voice.say("on_tomorrow")
        if offset == -1:
            return self.voice.say("on_yesterday")
        if offset is not None and 2 <= offset <= 6:
            return self.voice.say("on_next", weekday=self.voice.weekday(local))
        if offset is not None and -6 <= offset <= -2:
            return self.voice.say("on_last", weekday=self.voice.weekday(local))
        return self.voice.say("on_date", date=self._date(local))

    def since(self, at: _dt.datetime) -> str:
        """A start: "since today", "since Tuesday", "since Friday 27 November"."""
        local, offset = self._local(at)
        if offset == 0:
            return self.voice.say("since_today")
        if offset == -1:
            return self.voice.say("since_yesterday")
        if offset is not None and -6 <= offset <= -2:
            return self.voice.say("since_weekday", weekday=self.voice.weekday(local))
        return self.voice.say("since_date", date=self._date(local))


def _phrases(c: Commitment, lang: str, now: _dt.datetime | None) -> _Phrases:
    zone = c.calendar.zone
    return _Phrases(_voice(lang), zone, now, c.made_at.astimezone(zone).year)


# --------------------------------------------------------------------------- the sentences


def locale_for_commitment(c: Commitment, locale: str | None = None) -> str:
    """The language ``c``'s customer is told in: ``locale`` if given, else the calendar's country's.

    Either resolves to the most specific language with a catalog, else English.

    Raises:
        InvalidArgumentError: ``locale`` is not a language tag.

    >>> from keepword.calendar import BusinessCalendar
    >>> from keepword.transitions import promise
    >>> import datetime as dt
    >>> se = BusinessCalendar(tz="Europe/Stockholm", country="SE")
    >>> c, _ = promise(id="c-1", tenant="t", customer="k", owner="o", kind="call", what="Call",
    ...                calendar=se, due=dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC),
    ...                now=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    >>> locale_for_commitment(c), locale_for_commitment(c, "zh-CN"), locale_for_commitment(c, "de")
    ('sv', 'zh', 'en')
    """
    if locale is None:
        return _locales.resolve(_locales.default_locale(c.calendar.country))
    return _locales.resolve(_locales.check_locale(locale))


def _now(now: _dt.datetime | None) -> _dt.datetime | None:
    return None if now is None else to_utc(now, "now")


def _is_message_reply(c: Commitment) -> bool:
    """A reply owed on a customer's message: kind ``"reply"`` with its channel or reference."""
    return c.kind == "reply" and (c.channel is not None or c.external_ref is not None)


def _is_late(c: Commitment, now: _dt.datetime | None) -> bool:
    """Open and past its current deadline (by ``now``, or by a recorded breach of it)."""
    if c.status is not Status.OPEN:
        return False
    if now is not None and now > c.due_at:
        return True
    for event in reversed(c.history):
        if event.kind == "breached":
            return True
        if event.kind in ("renegotiated", "retargeted", "resumed", "promised"):
            return False
    return False  # pragma: no cover - a history starts with 'promised'


def _renegotiated(c: Commitment) -> bool:
    for event in reversed(c.history):
        if event.kind == "renegotiated":
            return True
        if event.kind == "promised":
            return False
    return False  # pragma: no cover


def _pause_reason(c: Commitment) -> str | None:
    return next((e.data.get("reason") for e in reversed(c.history) if e.kind == "paused"), None)


def _waiting_on(reason: str | None) -> str:
    """``"customer"``, ``"supplier"`` or ``"other"``: who a pause waits for, from its reason."""
    if reason:
        if _WAITING_ON_CUSTOMER.search(reason):
            return "customer"
        if _WAITING_ON_SUPPLIER.search(reason):
            return "supplier"
    return "other"


def _status_key(c: Commitment, now: _dt.datetime | None) -> str:
    reply = _is_message_reply(c)
    if c.status is Status.OPEN:
        if _is_late(c, now):
            return "late_reply" if reply else "late"
        key = "open_reply" if reply else "open"
        return f"{key}_renegotiated" if _renegotiated(c) else key
    if c.status is Status.PAUSED:
        return f"paused_{_waiting_on(_pause_reason(c))}"
    if c.status is Status.KEPT:
        return "kept" if c.on_time else "kept_late"
    return c.status.value  # broken, cancelled


def _sentence(c: Commitment, key: str, p: _Phrases) -> str:
    if key.startswith(("open", "late")):
        return p.voice.say(key, by=p.by(c.due_at))
    if key.startswith("paused"):
        return p.voice.say(key, since=p.since(c.paused_at or c.history[-1].at))
    if key.startswith("kept"):
        return p.voice.say(key, on=p.on(c.kept_at or c.history[-1].at))
    if key == "cancelled":
        return p.voice.say(key, on=p.on(c.closed_at or c.history[-1].at))
    return p.voice.say(key)


def tell(c: Commitment, *, locale: str | None = None, now: _dt.datetime | None = None) -> str:
    """What the customer can expect from ``c``, in one sentence of their language.

    Args:
        c: the commitment.
        locale: the customer's language (``"en"``, ``"sv"``, ``"zh"``, ``"sv_SE"``,
            ...); by default the language of the calendar's country, else
            English.  A language without a catalog is told in English.
        now: the instant "today", "tomorrow" and "by Friday" are judged from;
            ``None`` writes every date in full.

    Raises:
        InvalidArgumentError: ``locale`` is not a language tag.
        NaiveDatetimeError: ``now`` is naive.
    """
    now = _now(now)
    p = _phrases(c, locale_for_commitment(c, locale), now)
    return _sentence(c, _status_key(c, now), p)


def tell_event(
    c: Commitment, event: Event, *, locale: str | None = None, now: _dt.datetime | None = None
) -> str:
    """One event of ``c``'s history, said to the customer (see :func:`tell`).

    Every event kind has a sentence; the internal ones (an escalation, a
    step set aside, a new owner) are said without internal words.

    Raises:
        InvalidArgumentError: ``locale`` is not a language tag, or ``event``
            is not an :class:`Event`.
        NaiveDatetimeError: ``now`` is naive.
    """
    if not isinstance(event, Event):
        raise InvalidArgumentError(
            f"must be an Event, not {type(event).__name__}", argument="event"
        )
    p = _phrases(c, locale_for_commitment(c, locale), _now(now))
    key = f"event_{event.kind}"
    if event.kind in ("promised", "renegotiated", "retargeted", "breached"):
        due = event.data.get("due_at")
        return p.voice.say(key, by=p.by(from_iso(due, "data") if due else c.due_at))
    if "{on}" in MESSAGES[key][1]:
        return p.voice.say(key, on=p.on(event.at))
    return p.voice.say(key)


def _closed_days(c: Commitment, lang: str, p: _Phrases, start: _dt.datetime) -> tuple[str, ...]:
    """Notes on public holidays (closed on a usual working weekday) between ``start`` and due."""
    cal = c.calendar
    zone = cal.zone
    first = start.astimezone(zone).date()
    last = c.due_at.astimezone(zone).date()
    if last < first or (last - first).days > _NOTE_HORIZON_DAYS:
        return ()
    extra = dict(cal.holidays)
    notes: list[str] = []
    day = first
    while day <= last and len(notes) < _MAX_NOTES:
        name = _closed_for_holiday(cal, day, lang, extra)
        if name is not None:
            noon = _dt.datetime.combine(day, _dt.time(12), tzinfo=zone)
            notes.append(p.voice.say("closed", on=p.on(noon), holiday=name))
        day += _dt.timedelta(days=1)
    return tuple(notes)


def _closed_for_holiday(
    cal: BusinessCalendar, day: _dt.date, lang: str, extra: Mapping[_dt.date, str]
) -> str | None:
    if not cal._state.week[day.weekday()] or cal.is_business_day(day):
        return None
    if day in extra:
        return extra[day]
    if cal.country is None:
        return None
    return _locales.holiday_name(cal.country, cal.subdiv, day, lang)


# --------------------------------------------------------------------------- the status page


def _iso_local(value: _dt.datetime | None, zone: _dt.tzinfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat()


@attrs.frozen(kw_only=True)
class PromiseStatus:
    """One promise as its customer sees it: plain values, no internal fields.

    Attributes:
        id: the commitment's id (for the host's links).
        ref: the host's own reference for the thing promised, or ``None``.
        kind: the host's kind of promise (``"reply"``, ``"refund"``, ...).
        channel: where the customer is answered (``"email"``, ``"phone"``, ...), or ``None``.
        what: what was promised, the host's own text, as given.
        status: ``"open"``, ``"late"`` (open, past its deadline), ``"paused"``,
            ``"kept"``, ``"broken"`` or ``"cancelled"``.
        sentence: the customer-facing sentence in the customer's language.
        due: the deadline in the customer's zone (ISO 8601) while open or late.
        since: when it was paused (ISO 8601, customer's zone) while paused.
        kept_at: when it was kept (ISO 8601, customer's zone) once kept.
        waiting_for_you: ``True`` when a pause waits for the customer's reply.
        notes: further sentences, e.g. the public holidays before the deadline.
    """

    id: str
    ref: str | None
    kind: str
    channel: str | None
    what: str
    status: str
    sentence: str
    due: str | None = None
    since: str | None = None
    kept_at: str | None = None
    waiting_for_you: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` takes it as is)."""
        data = attrs.asdict(self, recurse=False)
        data["notes"] = list(self.notes)
        return data


@attrs.frozen(kw_only=True)
class CustomerStatus:
    """What a customer's status page shows: their promises, as data.

    Attributes:
        customer: the customer's id.
        locale: the language the sentences are in (``"en"``, ``"sv"``, ...).
        as_of: when this was read (ISO 8601, UTC).
        replies: replies owed on the customer's open messages, soonest first.
        open: the other open promises (late ones included), soonest first.
        paused: promises on hold, each saying why.
        kept: promises kept since ``kept_since``, latest first.
        kept_since: how far back ``kept`` looks (ISO 8601, UTC).
    """

    customer: str
    locale: str
    as_of: str
    replies: tuple[PromiseStatus, ...] = ()
    open: tuple[PromiseStatus, ...] = ()
    paused: tuple[PromiseStatus, ...] = ()
    kept: tuple[PromiseStatus, ...] = ()
    kept_since: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` takes it as is)."""
        return {
            "customer": self.customer,
            "locale": self.locale,
            "as_of": self.as_of,
            "replies": [item.to_dict() for item in self.replies],
            "open": [item.to_dict() for item in self.open],
            "paused": [item.to_dict() for item in self.paused],
            "kept": [item.to_dict() for item in self.kept],
            "kept_since": self.kept_since,
        }


def promise_status(
    c: Commitment, *, locale: str | None = None, now: _dt.datetime | None = None
) -> PromiseStatus:
    """``c`` as its customer sees it (see :class:`PromiseStatus`).

    Raises:
        InvalidArgumentError: ``locale`` is not a language tag.
        NaiveDatetimeError: ``now`` is naive.
    """
    now = _now(now)
    lang = locale_for_commitment(c, locale)
    p = _phrases(c, lang, now)
    key = _status_key(c, now)
    zone = c.calendar.zone
    status = "late" if key.startswith("late") else c.status.value
    notes: tuple[str, ...] = ()
    if c.status is Status.OPEN and status == "open":
        notes = _closed_days(c, lang, p, now or c.made_at)
    return PromiseStatus(
        id=c.id,
        ref=c.external_ref,
        kind=c.kind,
        channel=c.channel,
        what=c.what,
        status=status,
        sentence=_sentence(c, key, p),
        due=_iso_local(c.due_at, zone) if c.status is Status.OPEN else None,
        since=_iso_local(c.paused_at, zone) if c.status is Status.PAUSED else None,
        kept_at=_iso_local(c.kept_at, zone) if c.status is Status.KEPT else None,
        waiting_for_you=key == "paused_customer",
        notes=notes,
    )


def customer_status(
    customer: str,
    commitments: Iterable[Commitment],
    *,
    now: _dt.datetime,
    locale: str | None = None,
    kept_within: _dt.timedelta = _dt.timedelta(days=30),
) -> CustomerStatus:
    """One customer's status page from their commitments (others' are left out).

    Args:
        customer: the customer's id; commitments of anyone else are ignored.
        commitments: the customer's commitments (any statuses).
        now: the instant to judge "today", lateness and "recently" from.
        locale: the customer's language; by default each promise's calendar's
            country's (the page's ``locale`` is the first promise's).
        kept_within: how far back a kept promise still shows.

    Raises:
        InvalidArgumentError: ``locale`` is not a language tag, or
            ``kept_within`` is not a positive timedelta.
        NaiveDatetimeError: ``now`` is naive.
    """
    now = to_utc(now, "now")
    if not isinstance(kept_within, _dt.timedelta) or kept_within <= _dt.timedelta(0):
        raise InvalidArgumentError("must be a positive timedelta", argument="kept_within")
    if locale is not None:
        locale = _locales.check_locale(locale)
    mine = [c for c in commitments if c.customer == customer]
    replies: list[PromiseStatus] = []
    open_: list[PromiseStatus] = []
    paused: list[PromiseStatus] = []
    kept: list[tuple[_dt.datetime, PromiseStatus]] = []
    since = now - kept_within
    for c in sorted(mine, key=lambda c: (c.due_at, c.id)):
        if c.status is Status.KEPT:
            if c.kept_at is not None and c.kept_at >= since:
                kept.append((c.kept_at, promise_status(c, locale=locale, now=now)))
            continue
        if c.status.is_final:
            continue
        item = promise_status(c, locale=locale, now=now)
        if c.status is Status.PAUSED:
            paused.append(item)
        elif _is_message_reply(c):
            replies.append(item)
        else:
            open_.append(item)
    if locale is not None:
        page_locale = _locales.resolve(locale)
    elif mine:
        page_locale = locale_for_commitment(mine[0])
    else:
        page_locale = _locales.ENGLISH
    kept.sort(key=lambda pair: (pair[0], pair[1].id), reverse=True)
    return CustomerStatus(
        customer=customer,
        locale=page_locale,
        as_of=now.isoformat(),
        replies=tuple(replies),
        open=tuple(open_),
        paused=tuple(paused),
        kept=tuple(item for _, item in kept),
        kept_since=since.isoformat(),
    )
