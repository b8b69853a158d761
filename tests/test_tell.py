"""Telling the customer: golden texts, relative days, locales, and the status page on every store.

The Thanksgiving example: 3 business days from Mon 23 Nov 2026 10:00 in New
York on a US calendar (Mon-Fri 09:00-17:00) is due Fri 27 Nov 17:00, because
Thu 26 Nov is Thanksgiving Day.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import keepword as kw
from keepword.calendar import BusinessCalendar, within
from keepword.clock import FrozenClock
from keepword.commitment import Commitment
from keepword.errors import InvalidArgumentError, NotFoundError
from keepword.escalation import EscalationPolicy, Step, at_due, before_due
from keepword.explain import explain
from keepword.ports import Store
from keepword.telling import STAFF_ONLY_WORDS, tell
from keepword.tracker import Tracker
from keepword.transitions import promise as make_promise

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
SE = BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE")
CN = BusinessCalendar(tz="Asia/Shanghai", hours="Mon-Fri 09:00-18:00", country="CN")
MON_10 = dt.datetime(2026, 11, 23, 10, tzinfo=NY)

GOLDEN = {
    "en": "You'll hear from us by Friday 27 November, 17:00.",
    "sv": "Vi hör av oss senast fredag 27 november kl. 17:00.",
    "zh": "我们将在11月27日（星期五）17:00前回复您。",
}


def thanksgiving(**kw_: Any) -> Commitment:
    args: dict[str, Any] = {
        "id": "c-1",
        "tenant": "shop-7",
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Email the bulk price list",
        "calendar": US,
        "due": within(business_days=3),
        "now": MON_10,
    }
    args.update(kw_)
    c, _ = make_promise(**args)
    return c


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MON_10)


@pytest.fixture
def tracker(store: Store, clock: FrozenClock) -> Tracker:
    return Tracker(store, calendar=US, tenant="shop-7", clock=clock)


def promise(tracker: Tracker, **kw_: Any) -> Commitment:
    args: dict[str, Any] = {
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Email the bulk price list",
        "due": within(business_days=3),
    }
    args.update(kw_)
    return tracker.promise(**args)


# --------------------------------------------------------------------------- golden texts


@pytest.mark.parametrize("locale", sorted(GOLDEN))
def test_the_thanksgiving_promise_in_three_languages(locale: str) -> None:
    c = thanksgiving()
    assert c.due_at == dt.datetime(2026, 11, 27, 17, tzinfo=NY)
    assert tell(c, locale=locale) == GOLDEN[locale]
    assert explain(c, audience="customer", locale=locale) == GOLDEN[locale]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MON_10, ("by Friday, 17:00", "senast fredag kl. 17:00", "在星期五17:00前")),
        (
            dt.datetime(2026, 11, 26, 12, tzinfo=NY),
            ("tomorrow by 17:00", "senast i morgon kl. 17:00", "在明天17:00前"),
        ),
        (
            dt.datetime(2026, 11, 27, 9, tzinfo=NY),
            ("today by 17:00", "senast i dag kl. 17:00", "在今天17:00前"),
        ),
        (
            dt.datetime(2026, 11, 19, 9, tzinfo=NY),
            (
                "by Friday 27 November, 17:00",
                "senast fredag 27 november kl. 17:00",
                "在11月27日（星期五）17:00前",
            ),
        ),
        (
            dt.datetime(2025, 12, 30, 9, tzinfo=NY),
            (
                "by Friday 27 November 2026, 17:00",
                "senast fredag 27 november 2026 kl. 17:00",
                "在2026年11月27日（星期五）17:00前",
            ),
        ),
    ],
)
def test_relative_days_are_said_from_now_in_the_customers_zone(
    now: dt.datetime, expected: tuple[str, str, str]
) -> None:
    c = thanksgiving()
    for locale, phrase in zip(("en", "sv", "zh"), expected, strict=True):
        assert phrase in tell(c, locale=locale, now=now)


def test_today_is_the_customers_today_not_utc() -> None:
    # 23:30 in New York on Thu 26 Nov is already Friday in UTC: still "tomorrow" for the customer
    late_thursday = dt.datetime(2026, 11, 26, 23, 30, tzinfo=NY)
    assert tell(thanksgiving(), locale="en", now=late_thursday) == (
        "You'll hear from us tomorrow by 17:00."
    )


# --------------------------------------------------------------------------- the tracker


def test_tracker_explains_to_the_customer_from_its_clock(
    tracker: Tracker, clock: FrozenClock
) -> None:
    c = promise(tracker)
    assert tracker.explain(c, audience="customer") == "You'll hear from us by Friday, 17:00."
    assert tracker.explain(c.id, audience="customer", locale="sv") == (
        "Vi hör av oss senast fredag kl. 17:00."
    )
    assert (
        tracker.explain(c.id, audience="customer", locale="zh") == "我们将在星期五17:00前回复您。"
    )
    clock.set(dt.datetime(2026, 11, 27, 9, tzinfo=NY))
    assert tracker.explain(c.id, audience="customer") == "You'll hear from us today by 17:00."
    # staff text is unchanged by the audience switch, and English whatever the locale
    staff = (
        "3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; "
        "due Fri 27 Nov 17:00 EST"
    )
    assert tracker.explain(c.id) == staff
    assert tracker.explain(c.id, audience="staff", locale="sv") == staff


def test_locale_for_picks_each_customers_language(store: Store, clock: FrozenClock) -> None:
    languages = {"acct-sv": "sv-SE", "acct-zh": "zh_CN", "acct-de": "de"}
    tracker = Tracker(store, calendar=US, tenant="shop-7", clock=clock, locale_for=languages.get)
    said = {
        customer: tracker.explain(promise(tracker, customer=customer), audience="customer")
        for customer in ("acct-sv", "acct-zh", "acct-de", "acct-en")
    }
    assert said == {
        "acct-sv": "Vi hör av oss senast fredag kl. 17:00.",
        "acct-zh": "我们将在星期五17:00前回复您。",
        "acct-de": "You'll hear from us by Friday, 17:00.",  # no German catalog: English
        "acct-en": "You'll hear from us by Friday, 17:00.",  # None: the US calendar's English
    }
    assert tracker.locale_for("acct-sv") == "sv"
    assert tracker.locale_for("acct-de") == "en"


def test_the_default_locale_follows_the_customers_calendar(
    store: Store, clock: FrozenClock
) -> None:
    calendars = {"acct-se": SE, "acct-cn": CN}
    tracker = Tracker(store, calendar=US, tenant="shop-7", clock=clock, calendar_for=calendars.get)
    assert tracker.locale_for("acct-se") == "sv"
    assert tracker.locale_for("acct-cn") == "zh"
    assert tracker.locale_for("acct-us") == "en"
    c = promise(tracker, customer="acct-se", due=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC))
    # 15:00 UTC is 16:00 in Stockholm: the customer's zone, not the host's
    assert (
        tracker.explain(c, audience="customer")
        == "Vi hör av oss senast tisdag 1 december kl. 16:00."
    )


def test_bad_audience_locale_and_locale_for_are_named(store: Store, clock: FrozenClock) -> None:
    tracker = Tracker(store, calendar=US, tenant="shop-7", clock=clock)
    c = promise(tracker)
    with pytest.raises(InvalidArgumentError) as err:
        tracker.explain("no-such-id", audience="boss")  # type: ignore[arg-type]
    assert err.value.argument == "audience"
    for bad in ("", "english please", "s", 42, "sv_SE_x_y_z_w"):
        with pytest.raises(InvalidArgumentError) as err:
            tracker.explain(c, audience="customer", locale=bad)  # type: ignore[arg-type]
        assert err.value.argument == "locale"
    with pytest.raises(InvalidArgumentError) as err:
        tracker.status_for("acct-42", locale="??")
    assert err.value.argument == "locale"
    with pytest.raises(InvalidArgumentError) as err:
        tracker.status_for("acct-42", kept_within=dt.timedelta(0))
    assert err.value.argument == "kept_within"
    with pytest.raises(InvalidArgumentError) as err:
        tracker.status_for("")
    assert err.value.argument == "customer"
    weird = Tracker(store, calendar=US, tenant="shop-7", clock=clock, locale_for=lambda _: 42)  # type: ignore[arg-type, return-value]
    with pytest.raises(InvalidArgumentError) as err:
        weird.explain(c, audience="customer")
    assert err.value.argument == "locale_for"
    with pytest.raises(InvalidArgumentError) as err:
        Tracker(store, calendar=US, locale_for="sv")  # type: ignore[arg-type]
    assert err.value.argument == "locale_for"
    other = Tracker(store, calendar=US, tenant="shop-8", clock=clock)
    with pytest.raises(NotFoundError):
        other.explain(c.id, audience="customer")


# --------------------------------------------------------------------------- one sentence per state


def test_every_state_has_its_own_sentence(tracker: Tracker, clock: FrozenClock) -> None:
    tue = dt.datetime(2026, 11, 24, 11, tzinfo=NY)
    thu = dt.datetime(2026, 11, 26, 11, tzinfo=NY)

    waiting = promise(tracker)
    supplier = promise(tracker)
    other = promise(tracker)
    renegotiated = promise(tracker)
    message = promise(tracker, external_ref="msg-1")
    by_email = promise(tracker, channel="email")
    clock.set(tue)
    tracker.pause(waiting, reason="waiting for the customer's answer")
    tracker.pause(supplier, reason="supplier out of stock")
    tracker.pause(other, reason="on hold")
    tracker.renegotiate(renegotiated, due=dt.datetime(2026, 12, 4, 12, tzinfo=NY), reason="x")
    clock.set(thu)

    def say(c: Commitment, locale: str = "en") -> str:
        return tracker.explain(c.id, audience="customer", locale=locale)

    assert say(waiting) == "We've been waiting for your reply since Tuesday."
    assert say(waiting, "sv") == "Vi har väntat på ditt svar sedan i tisdags."
    assert say(waiting, "zh") == "我们自星期二起一直在等待您的回复。"
    assert say(supplier) == "We've been waiting for a delivery since Tuesday."
    assert say(other).startswith("This has been on hold since Tuesday")
    assert say(renegotiated) == "As agreed, you'll hear from us by Friday 4 December, 12:00."
    assert say(message) == "We'll reply to your message tomorrow by 17:00."
    assert say(by_email, "sv") == "Vi svarar på ditt meddelande senast i morgon kl. 17:00."

    kept = tracker.keep(promise(tracker))
    assert say(kept) == "Done today, as promised."
    cancelled = tracker.cancel(promise(tracker), reason="customer withdrew")
    assert say(cancelled) == "This was cancelled today."
    broken = tracker.fail(promise(tracker), reason="supplier went bust")
    assert say(broken).startswith("We're sorry: we couldn't keep this promise.")

    clock.set(dt.datetime(2026, 11, 30, 10, tzinfo=NY))  # the next Monday: Friday has passed
    late = say(message)
    assert late == (
        "We're sorry: we promised to reply to your message by Friday 27 November, 17:00, "
        "and we're still working on it."
    )
    assert say(kept) == "Done on Thursday, as promised."
    assert say(kept, "sv") == "Klart i torsdags, som utlovat."
    late_kept = tracker.keep(message)
    assert say(late_kept) == "Done today. We're sorry it took longer than we said."


def test_customer_words_never_leak_internal_ones(tracker: Tracker, clock: FrozenClock) -> None:
    policy = EscalationPolicy(
        "standard",
        steps=[
            Step(before_due(hours=2), notify="owner", name="remind-owner"),
            Step(at_due(), notify="manager", action="reassign"),
        ],
    )
    tracked = Tracker(tracker.store, calendar=US, tenant="shop-7", clock=clock, policies=policy)
    c = promise(tracked, owner="bob-the-owner")
    clock.set(dt.datetime(2026, 11, 30, 10, tzinfo=NY))
    tracked.tick()
    c = tracked.get(c.id)
    assert {"breached", "escalated"} <= {e.kind for e in c.history}
    for locale in ("en", "sv", "zh"):
        text = tracked.explain(c, audience="customer", locale=locale)
        page = json.dumps(
            tracked.status_for("acct-42", locale=locale).to_dict(), ensure_ascii=False
        )
        for said in (text, page):
            assert "bob-the-owner" not in said
            assert "manager" not in said
            assert "remind-owner" not in said
            assert not [w for w in STAFF_ONLY_WORDS if w in said.lower()]


# --------------------------------------------------------------------------- staff


def test_staff_hear_pauses_renegotiations_and_the_next_step(
    store: Store, clock: FrozenClock
) -> None:
    policy = EscalationPolicy(
        "standard", steps=[Step(before_due(hours=2), notify="owner", name="remind-owner")]
    )
    tracker = Tracker(store, calendar=US, tenant="shop-7", clock=clock, policies=policy)
    c = promise(tracker)
    assert tracker.explain(c).endswith(
        "due Fri 27 Nov 17:00 EST; "
        "next step of policy standard: remind-owner at Fri 27 Nov 15:00 EST"
    )
    clock.set(dt.datetime(2026, 11, 24, 10, tzinfo=NY))
    tracker.pause(c, reason="waiting for customer")
    assert tracker.explain(c.id).endswith(
        "paused since Tue 24 Nov 10:00 (waiting for customer): the clock is stopped"
    )
    clock.set(dt.datetime(2026, 11, 24, 14, tzinfo=NY))
    tracker.resume(c.id)
    text = tracker.explain(c.id)
    assert "paused Tue 24 Nov 10:00 to Tue 24 Nov 14:00 (waiting for customer)" in text
    tracker.renegotiate(c.id, due=within(business_days=1), reason="customer asked")
    tracker.renegotiate(c.id, due=within(business_days=2), reason="more time")
    text = tracker.explain(c.id)
    assert text.startswith("renegotiated 2 times, last Tue 24 Nov 14:00 (more time); ")
    assert "next step of policy standard: remind-owner" in text


def test_staff_see_only_the_last_few_pauses(tracker: Tracker, clock: FrozenClock) -> None:
    c = promise(tracker)
    at = MON_10
    for _ in range(5):
        at += dt.timedelta(minutes=30)
        clock.set(at)
        tracker.pause(c.id, reason="waiting")
        at += dt.timedelta(minutes=10)
        clock.set(at)
        tracker.resume(c.id)
    text = tracker.explain(c.id)
    assert "2 earlier pauses" in text
    assert text.count("paused Mon 23 Nov") == 3


# --------------------------------------------------------------------------- the status page


def test_status_for_lists_one_customers_promises_and_nobody_elses(
    store: Store, clock: FrozenClock
) -> None:
    shop = Tracker(store, calendar=US, tenant="shop-7", clock=clock)
    rival = Tracker(store, calendar=US, tenant="shop-8", clock=clock)
    clock.set(MON_10 - dt.timedelta(days=45))
    old = shop.keep(promise(shop, what="An old promise"))
    clock.set(MON_10 - dt.timedelta(days=1))
    recent = promise(shop, what="A recent one", due=dt.datetime(2026, 11, 23, 9, tzinfo=NY))
    recent = shop.keep(recent)
    clock.set(MON_10)
    open_ = promise(shop, what="Email the bulk price list")
    reply = promise(
        shop, what="Answer the question", external_ref="msg-7", due=within(business_hours=4)
    )
    paused = promise(shop, what="Fix the invoice")
    shop.pause(paused, reason="need the customer's order number")
    promise(shop, customer="acct-99", what="Someone else's")
    promise(rival, what="Another shop's promise to the same id")
    cancelled = shop.cancel(promise(shop, what="Withdrawn"), reason="changed their mind")

    page = shop.status_for("acct-42")
    assert page.customer == "acct-42"
    assert page.locale == "en"
    assert [p.id for p in page.open] == [open_.id]
    assert [p.id for p in page.replies] == [reply.id]
    assert [p.id for p in page.paused] == [paused.id]
    assert [p.id for p in page.kept] == [recent.id]
    assert old.id not in json.dumps(page.to_dict())
    assert cancelled.id not in json.dumps(page.to_dict())

    assert page.open[0].sentence == "You'll hear from us by Friday, 17:00."
    assert page.open[0].notes == ("We're closed on Thursday (Thanksgiving Day).",)
    assert page.open[0].due == "2026-11-27T17:00:00-05:00"
    assert page.replies[0].sentence == "We'll reply to your message today by 14:00."
    assert page.paused[0].sentence == "We've been waiting for your reply since today."
    assert page.paused[0].waiting_for_you is True
    assert page.paused[0].due is None
    assert page.kept[0].sentence == "Done yesterday, as promised."

    data = json.loads(json.dumps(page.to_dict()))
    assert set(data) == {
        "customer",
        "locale",
        "as_of",
        "replies",
        "open",
        "paused",
        "kept",
        "kept_since",
    }
    assert set(data["open"][0]) == {
        "id",
        "ref",
        "kind",
        "channel",
        "what",
        "status",
        "sentence",
        "due",
        "since",
        "kept_at",
        "waiting_for_you",
        "notes",
    }
    assert "alice" not in json.dumps(data)

    other = rival.status_for("acct-42")
    assert [p.what for p in other.open] == ["Another shop's promise to the same id"]
    assert (other.replies, other.paused, other.kept) == ((), (), ())
    assert shop.status_for("acct-nobody").to_dict()["open"] == []

    longer = shop.status_for("acct-42", kept_within=dt.timedelta(days=60))
    assert {p.id for p in longer.kept} == {old.id, recent.id}
    assert [p.id for p in longer.kept] == [recent.id, old.id]  # latest first


def test_status_for_speaks_the_customers_language(store: Store, clock: FrozenClock) -> None:
    shop = Tracker(store, calendar=US, tenant="shop-7", clock=clock, locale_for=lambda _: "sv")
    promise(shop)
    page = shop.status_for("acct-42")
    assert page.locale == "sv"
    assert page.open[0].sentence == "Vi hör av oss senast fredag kl. 17:00."
    assert page.open[0].notes == ("Vi har stängt på torsdag (Thanksgiving Day).",)
    zh = shop.status_for("acct-42", locale="zh")
    assert zh.locale == "zh"
    assert zh.open[0].sentence == "我们将在星期五17:00前回复您。"


def test_holiday_names_come_translated_where_holidays_has_them(clock: FrozenClock) -> None:
    clock.set(dt.datetime(2026, 12, 22, 9, tzinfo=dt.UTC))
    shop = Tracker(kw.MemoryStore(), calendar=SE, tenant="shop-7", clock=clock)
    promise(shop, due=within(business_days=3))
    swedish = shop.status_for("acct-42")
    assert swedish.locale == "sv"
    assert "Juldagen" in " ".join(swedish.open[0].notes)
    english = shop.status_for("acct-42", locale="en")
    assert "Christmas Day" in " ".join(english.open[0].notes)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("waiting for the customer", "We've been waiting for your reply since today."),
        ("Asked the client for photos", "We've been waiting for your reply since today."),
        ("need more info", "We've been waiting for your reply since today."),
        ("supplier backorder", "We've been waiting for a delivery since today."),
        ("out of stock", "We've been waiting for a delivery since today."),
        ("spare parts on the way", "We've been waiting for a delivery since today."),
        (
            "department party",
            "This has been on hold since today; we'll let you know as soon as it moves again.",
        ),
        ("x", "This has been on hold since today; we'll let you know as soon as it moves again."),
    ],
)
def test_a_pause_says_who_it_waits_for_from_its_reason(reason: str, expected: str) -> None:
    from keepword.transitions import pause

    c, _ = pause(thanksgiving(), now=MON_10 + dt.timedelta(hours=1), reason=reason)
    assert tell(c, locale="en", now=MON_10 + dt.timedelta(hours=2)) == expected


def test_the_pure_explain_checks_now_and_audience() -> None:
    c = thanksgiving()
    with pytest.raises(kw.NaiveDatetimeError):
        explain(c, audience="customer", now=dt.datetime(2026, 11, 23, 10))
    with pytest.raises(kw.NaiveDatetimeError):
        explain(c, now=dt.datetime(2026, 11, 23, 10))
    with pytest.raises(InvalidArgumentError) as err:
        explain(c, audience="Customer")  # type: ignore[arg-type]
    assert err.value.argument == "audience"
    with pytest.raises(InvalidArgumentError) as err:
        explain(c, locale="")
    assert err.value.argument == "locale"
