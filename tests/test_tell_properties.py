"""Promise texts that cannot break: every state, event and deadline form in every shipped locale.

For any commitment state (open, renegotiated, late, paused for each reason,
kept on time or late, broken, cancelled), any event kind, any distance from
``now`` (today, tomorrow, a weekday, a date, another year) and every shipped
language: a sentence comes out, every placeholder is filled, a translated
sentence holds no English word but names, and no customer text holds a
staff-only word.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepword import _locales
from keepword.calendar import BusinessCalendar, within
from keepword.commitment import EVENT_KINDS, Commitment, Event, Status
from keepword.telling import (
    MESSAGES,
    STAFF_ONLY_WORDS,
    _status_key,
    promise_status,
    tell,
    tell_event,
)
from keepword.transitions import cancel, fail, keep, pause, promise, renegotiate

SHIPPED = ("en", "sv", "zh")

CALENDARS = (
    BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US"),
    BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE"),
    BusinessCalendar(tz="Asia/Shanghai", hours="Mon-Fri 09:00-18:00", country="CN"),
    BusinessCalendar(tz="Pacific/Auckland", hours="Mon-Sat 08:00-20:00", country="NZ"),
)

START = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
ENGLISH_WORDS = frozenset(
    word.lower()
    for _, english in MESSAGES.values()
    for word in _WORD.findall(re.sub(r"\{\w+\}", " ", english))
    if not english.startswith(("d", "H"))  # the pendulum patterns are not words
)


def _check(text: str, lang: str, names: tuple[str, ...] = ()) -> None:
    assert text.strip(), "an empty sentence"
    assert "{" not in text
    assert "}" not in text
    assert "%(" not in text
    lowered = text.lower()
    assert not [w for w in STAFF_ONLY_WORDS if w in lowered], text
    if lang != "en":
        for name in names:
            text = text.replace(name, " ")
        left = [w for w in _WORD.findall(text) if w.lower() in ENGLISH_WORDS]
        assert not left, f"English words {left} in {text!r}"
    if lang == "zh":
        for name in names:
            text = text.replace(name, " ")
        assert not _WORD.findall(text), f"Latin letters in {text!r}"


def _opened(cal: BusinessCalendar, **kw: Any) -> Commitment:
    args: dict[str, Any] = {
        "id": "c-1",
        "tenant": "shop-7",
        "customer": "acct-42",
        "owner": "owner-alice",
        "kind": "reply",
        "what": "Email the bulk price list",
        "calendar": cal,
        "due": within(business_days=3),
        "now": START,
    }
    args.update(kw)
    c, _ = promise(**args)
    return c


_HOUR = dt.timedelta(hours=1)
Build = Callable[[BusinessCalendar], Commitment]

SCENARIOS: dict[str, Build] = {
    "open": lambda cal: _opened(cal),
    "open_reply": lambda cal: _opened(cal, external_ref="msg-1"),
    "open_renegotiated": lambda cal: renegotiate(
        _opened(cal), now=START + _HOUR, due=within(business_days=5), reason="asked"
    )[0],
    "open_reply_renegotiated": lambda cal: renegotiate(
        _opened(cal, external_ref="msg-1"), now=START + _HOUR, due=within(business_days=5)
    )[0],
    "paused_customer": lambda cal: pause(_opened(cal), now=START + _HOUR, reason="customer")[0],
    "paused_supplier": lambda cal: pause(_opened(cal), now=START + _HOUR, reason="no stock")[0],
    "paused_other": lambda cal: pause(_opened(cal), now=START + _HOUR, reason="on hold")[0],
    "kept": lambda cal: keep(_opened(cal), now=START + _HOUR)[0],
    "kept_late": lambda cal: keep(_opened(cal), now=START + dt.timedelta(days=20))[0],
    "broken": lambda cal: fail(_opened(cal), now=START + _HOUR, reason="gone")[0],
    "cancelled": lambda cal: cancel(_opened(cal), now=START + _HOUR)[0],
}
STATUS_KEYS = {
    "open",
    "open_reply",
    "open_renegotiated",
    "open_reply_renegotiated",
    "late",
    "late_reply",
    "paused_customer",
    "paused_supplier",
    "paused_other",
    "kept",
    "kept_late",
    "broken",
    "cancelled",
}


def _event(kind: str, at: dt.datetime, due: dt.datetime) -> Event:
    data: dict[str, Any] = {}
    if kind in ("promised", "renegotiated", "retargeted", "breached"):
        data["due_at"] = due.isoformat()
    if kind in ("paused", "failed", "cancelled", "renegotiated", "reassigned"):
        data["reason"] = "internal reason for owner-alice"
    return Event(seq=2, kind=kind, at=at, data=data)


# how far ``now`` is from the promise: the same day, the next, within a week, beyond, a year on
OFFSETS = st.one_of(
    st.integers(min_value=-3 * 24 * 60, max_value=40 * 24 * 60).map(
        lambda m: dt.timedelta(minutes=m)
    ),
    st.integers(min_value=300, max_value=800).map(lambda d: dt.timedelta(days=d)),
)


@settings(max_examples=300, deadline=None)
@given(
    lang=st.sampled_from(SHIPPED),
    cal=st.sampled_from(CALENDARS),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    offset=st.none() | OFFSETS,
)
def test_every_state_says_something_whole_in_every_locale(
    lang: str, cal: BusinessCalendar, scenario: str, offset: dt.timedelta | None
) -> None:
    c = SCENARIOS[scenario](cal)
    now = None if offset is None else START + offset
    _check(tell(c, locale=lang, now=now), lang)
    status = promise_status(c, locale=lang, now=now)
    _check(status.sentence, lang)
    holiday_names = tuple(
        name
        for day in range(60)
        for name in [
            _locales.holiday_name(
                cal.country or "US", None, START.date() + dt.timedelta(days=day), lang
            )
        ]
        if name
    )
    for note in status.notes:
        _check(note, lang, names=holiday_names)
    assert "owner-alice" not in repr(status.to_dict())


@settings(max_examples=300, deadline=None)
@given(
    lang=st.sampled_from(SHIPPED),
    cal=st.sampled_from(CALENDARS),
    kind=st.sampled_from(sorted(EVENT_KINDS)),
    at=OFFSETS,
    due=OFFSETS,
    offset=st.none() | OFFSETS,
)
def test_every_event_kind_is_told_in_every_locale(
    lang: str,
    cal: BusinessCalendar,
    kind: str,
    at: dt.timedelta,
    due: dt.timedelta,
    offset: dt.timedelta | None,
) -> None:
    c = _opened(cal)
    now = None if offset is None else START + offset
    text = tell_event(c, _event(kind, START + at, START + due), locale=lang, now=now)
    _check(text, lang)
    assert "internal reason" not in text


@pytest.mark.parametrize("lang", SHIPPED)
@pytest.mark.parametrize("day", [-8, -3, -1, 0, 1, 3, 8, 400])
def test_every_deadline_form_in_every_locale(lang: str, day: int) -> None:
    for cal in CALENDARS:
        c = _opened(cal)
        now = c.due_at - dt.timedelta(days=day)
        open_text = tell(c, locale=lang, now=now)
        _check(open_text, lang)
        if day < 0:
            assert tell(c, locale=lang, now=now) != tell(c, locale=lang, now=START)  # late
        for kind in sorted(EVENT_KINDS):
            _check(tell_event(c, _event(kind, now, c.due_at), locale=lang, now=now), lang)


def test_the_scenarios_cover_every_status_template_and_every_status() -> None:
    late = START + dt.timedelta(days=30)
    built = [build(CALENDARS[0]) for build in SCENARIOS.values()]
    keys = {_status_key(c, now) for c in built for now in (START + _HOUR, late)}
    assert keys == STATUS_KEYS
    assert {c.status for c in built} == set(Status)
    # every message is a status, an event, a phrase or a format
    events = {f"event_{kind}" for kind in EVENT_KINDS}
    assert events <= set(MESSAGES)
    phrases = {k for k in MESSAGES if k.startswith(("by_", "on_", "since_", "fmt_"))}
    assert set(MESSAGES) == STATUS_KEYS | events | phrases | {"closed"}


@pytest.mark.parametrize("lang", ["sv", "zh"])
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    catalog = _locales.translations(lang)
    placeholder = re.compile(r"\{(\w+)\}")
    for key, (context, english) in MESSAGES.items():
        translated = catalog.pgettext(context, english)
        assert translated.strip(), key
        if not key.startswith("fmt_"):
            assert translated != english, f"{key} is not translated"
        assert sorted(placeholder.findall(translated)) == sorted(placeholder.findall(english)), key
