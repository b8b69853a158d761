"""Customer care through the Tracker: replies owed, occasions, thank-yous, follow-ups, silence.

Every test runs on each store of the ``store`` fixture (tests/conftest.py): memory,
SQLite, and PostgreSQL and MariaDB when their URLs are set.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from keepword import (
    DEFAULT_PLAYBOOK,
    BusinessCalendar,
    CareRule,
    ConflictError,
    EscalationPolicy,
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    NaiveDatetimeError,
    NotFoundError,
    Playbook,
    Status,
    Step,
    at_due,
    within,
)
from keepword.clock import FrozenClock
from keepword.commitment import Commitment, replay
from keepword.ports import Query, Store
from keepword.tracker import Tracker

UTC = dt.UTC
WEEKDAYS = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
SAT_10 = dt.datetime(2026, 12, 5, 10, tzinfo=UTC)
MON_10 = dt.datetime(2026, 12, 7, 10, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MON_10)


@pytest.fixture
def tracker(store: Store, clock: FrozenClock) -> Tracker:
    return Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock)


def everything(tracker: Tracker) -> list[Commitment]:
    return tracker.store.find(tracker.tenant, Query())


def consistent(c: Commitment) -> Commitment:
    assert replay(c.history, version=c.version) == c
    return c


# --------------------------------------------------------------------------- replies owed


def test_received_saturday_is_due_monday_after_four_business_hours(
    tracker: Tracker, clock: FrozenClock
) -> None:
    clock.set(SAT_10)
    reply = tracker.received("acct-1", channel="email", ref="msg-1")
    assert reply is not None
    assert reply.kind == "reply"
    assert reply.channel == "email"
    assert reply.external_ref == "reply:msg-1"
    assert reply.due_at == dt.datetime(2026, 12, 7, 13, tzinfo=UTC)
    assert reply.terms["ref"] == "msg-1"
    assert reply.terms["thread"] is None
    assert reply.terms["playbook"] == "default"
    consistent(reply)
    story = tracker.touchpoints("acct-1")
    assert [(t.kind, t.ref, t.commitment_id) for t in story] == [("received", "msg-1", reply.id)]
    assert story[0].tenant == "shop"


def test_received_in_the_past_counts_from_the_message(tracker: Tracker) -> None:
    reply = tracker.received("acct-1", channel="chat", ref="c1", at=MON_10 - dt.timedelta(hours=1))
    assert reply is not None
    assert reply.made_at == MON_10 - dt.timedelta(hours=1)
    assert reply.due_at == dt.datetime(2026, 12, 7, 9, 15, tzinfo=UTC)


def test_same_ref_returns_the_same_commitment(tracker: Tracker) -> None:
    first = tracker.received("acct-1", channel="email", ref="msg-1", thread="t1")
    again = tracker.received("acct-1", channel="email", ref="msg-1", thread="t1")
    assert first is not None
    assert again is not None
    assert again.id == first.id
    assert len(everything(tracker)) == 1
    assert len(tracker.touchpoints("acct-1")) == 1
    with pytest.raises(ConflictError) as info:
        tracker.received("acct-2", channel="email", ref="msg-1")
    assert info.value.argument == "ref"


def test_automated_inbound_owes_nothing(tracker: Tracker) -> None:
    assert tracker.received("acct-1", channel="email", ref="ooo-1", automated=True) is None
    assert everything(tracker) == []
    (touch,) = tracker.touchpoints("acct-1")
    assert touch.automated
    assert touch.kind == "received"
    assert tracker.received("acct-1", channel="email", ref="ooo-1", automated=True) is None


def test_replied_keeps_the_thread_up_to_the_message(tracker: Tracker, clock: FrozenClock) -> None:
    a = tracker.received("acct-1", channel="email", ref="m1", thread="t")
    clock.advance(minutes=10)
    b = tracker.received("acct-1", channel="email", ref="m2", thread="t")
    other = tracker.received("acct-1", channel="email", ref="x1", thread="other")
    clock.advance(minutes=10)
    c = tracker.received("acct-1", channel="email", ref="m3", thread="t")
    clock.advance(minutes=10)
    kept = tracker.replied("m2", actor="alice")
    assert a is not None
    assert b is not None
    assert c is not None
    assert other is not None
    assert sorted(k.id for k in kept) == sorted([a.id, b.id])
    assert all(k.status is Status.KEPT and k.history[-1].actor == "alice" for k in kept)
    assert tracker.get(c.id).status is Status.OPEN
    assert tracker.get(other.id).status is Status.OPEN
    reply_touch = tracker.touchpoints("acct-1", kind="reply")[0]
    assert reply_touch.actor == "alice"
    assert reply_touch.commitment_id == b.id


def test_no_thread_means_the_message_alone(tracker: Tracker, clock: FrozenClock) -> None:
    a = tracker.received("acct-1", channel="email", ref="m1")
    b = tracker.received("acct-1", channel="email", ref="m2")
    assert a is not None
    assert b is not None
    clock.advance(minutes=5)
    assert [k.id for k in tracker.replied("m2")] == [b.id]
    assert tracker.get(a.id).status is Status.OPEN


def test_automated_reply_keeps_nothing(tracker: Tracker, clock: FrozenClock) -> None:
    a = tracker.received("acct-1", channel="email", ref="m1")
    clock.advance(minutes=1)
    assert tracker.replied("m1", automated=True) == []
    assert a is not None
    assert tracker.get(a.id).status is Status.OPEN
    (auto,) = tracker.touchpoints("acct-1", kind="reply")
    assert auto.automated
    clock.advance(minutes=1)
    assert [k.id for k in tracker.replied("m1")] == [a.id]


def test_new_message_after_a_reply_owes_a_new_reply(tracker: Tracker, clock: FrozenClock) -> None:
    tracker.received("acct-1", channel="email", ref="m1", thread="t")
    clock.advance(minutes=5)
    tracker.replied("m1")
    clock.advance(minutes=5)
    again = tracker.received("acct-1", channel="email", ref="m2", thread="t")
    assert again is not None
    assert again.status is Status.OPEN
    assert again.due_at == MON_10 + dt.timedelta(minutes=10, hours=4)


def test_replied_to_unknown_ref(tracker: Tracker) -> None:
    with pytest.raises(NotFoundError) as info:
        tracker.replied("nope")
    assert info.value.argument == "ref"
    assert "nope" in str(info.value)


def test_replied_before_the_message_is_refused(tracker: Tracker) -> None:
    tracker.received("acct-1", channel="email", ref="m1")
    with pytest.raises(InvalidArgumentError) as info:
        tracker.replied("m1", at=MON_10 - dt.timedelta(minutes=1))
    assert info.value.argument == "at"
    assert tracker.touchpoints("acct-1", kind="reply") == []


def test_no_reply_needed_is_waived_on_the_record(tracker: Tracker) -> None:
    owed = tracker.received("acct-1", channel="email", ref="m1")
    assert owed is not None
    for kwargs, argument in (
        ({"reason": "", "actor": "alice"}, "reason"),
        ({"reason": "solved", "actor": ""}, "actor"),
        ({"reason": "solved", "actor": None}, "actor"),
    ):
        with pytest.raises(InvalidArgumentError) as info:
            tracker.no_reply_needed("m1", **kwargs)
        assert info.value.argument == argument
    waived = consistent(tracker.no_reply_needed("m1", reason="thanks, solved!", actor="alice"))
    assert waived.status is Status.CANCELLED
    last = waived.history[-1]
    assert last.kind == "cancelled"
    assert last.actor == "alice"
    assert dict(last.data) == {"reason": "thanks, solved!", "waived": True}
    with pytest.raises(InvalidTransitionError):
        tracker.no_reply_needed("m1", reason="again", actor="alice")
    with pytest.raises(NotFoundError):
        tracker.no_reply_needed("unknown", reason="x", actor="alice")
    tracker.received("acct-1", channel="email", ref="auto", automated=True)
    with pytest.raises(NotFoundError):
        tracker.no_reply_needed("auto", reason="x", actor="alice")


def test_customer_message_resumes_what_waits_on_them(tracker: Tracker, clock: FrozenClock) -> None:
    waiting = tracker.promise(
        customer="acct-1", owner="alice", kind="refund", what="Refund", due=within(business_hours=8)
    )
    other = tracker.promise(
        customer="acct-1", owner="alice", kind="refund", what="Other", due=within(business_hours=8)
    )
    tracker.pause(waiting.id, reason="waiting_on_customer")
    tracker.pause(other.id, reason="supplier")
    clock.advance(hours=2)
    tracker.received("acct-1", channel="email", ref="auto", automated=True)
    assert tracker.get(waiting.id).status is Status.PAUSED  # automated resumes nothing
    tracker.received("acct-1", channel="email", ref="m1")
    resumed = consistent(tracker.get(waiting.id))
    assert resumed.status is Status.OPEN
    assert resumed.due_at == waiting.due_at + dt.timedelta(hours=2)
    assert tracker.get(other.id).status is Status.PAUSED


def test_customer_message_cancels_pending_follow_ups(tracker: Tracker, clock: FrozenClock) -> None:
    (follow_up,) = tracker.occurred("acct-1", "sale", ref="order-1")
    clock.advance(hours=1)
    tracker.received("acct-1", channel="email", ref="ooo", automated=True)
    assert tracker.get(follow_up.id).status is Status.OPEN
    tracker.received("acct-1", channel="email", ref="m1")
    cancelled = consistent(tracker.get(follow_up.id))
    assert cancelled.status is Status.CANCELLED
    assert "wrote first" in cancelled.history[-1].data["reason"]


def test_follow_ups_stay_when_the_playbook_says_so(store: Store, clock: FrozenClock) -> None:
    book = attrs.evolve(DEFAULT_PLAYBOOK, cancel_follow_ups_on_message=False)
    tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=book)
    (follow_up,) = tracker.occurred("acct-1", "sale", ref="order-1")
    tracker.received("acct-1", channel="email", ref="m1")
    assert tracker.get(follow_up.id).status is Status.OPEN


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"customer": "", "channel": "email", "ref": "m"}, "customer"),
        ({"customer": "a", "channel": "", "ref": "m"}, "channel"),
        ({"customer": "a", "channel": "email", "ref": ""}, "ref"),
        ({"customer": "a", "channel": "email", "ref": "m" * 201}, "ref"),
        ({"customer": "a", "channel": "email", "ref": "m", "thread": ""}, "thread"),
        ({"customer": "a", "channel": "email", "ref": "m", "automated": "no"}, "automated"),
        ({"customer": "a", "channel": "email", "ref": "m", "at": MON_10 + dt.timedelta(1)}, "at"),
    ],
)
def test_bad_received_writes_nothing(
    tracker: Tracker, kwargs: dict[str, Any], argument: str
) -> None:
    kwargs = dict(kwargs)  # the parameter is shared by every backend's run
    customer = kwargs.pop("customer")
    with pytest.raises(InvalidArgumentError) as info:
        tracker.received(customer, **kwargs)
    assert info.value.argument == argument
    assert everything(tracker) == []
    assert tracker.store.touchpoints(tracker.tenant) == []  # type: ignore[attr-defined]


def test_naive_at_is_refused(tracker: Tracker) -> None:
    with pytest.raises(NaiveDatetimeError):
        tracker.received("a", channel="email", ref="m", at=dt.datetime(2026, 12, 7, 9))
    with pytest.raises(NaiveDatetimeError):
        tracker.thank("a", channel="card", at=dt.datetime(2026, 12, 7, 9))


def test_restricted_channels(store: Store, clock: FrozenClock) -> None:
    book = Playbook(channels={"email"}, response_targets={"email": within(business_hours=1)})
    tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=book)
    with pytest.raises(InvalidArgumentError) as info:
        tracker.received("a", channel="fax", ref="m")
    assert info.value.argument == "channel"
    with pytest.raises(InvalidArgumentError):
        tracker.thank("a", channel="fax")
    assert everything(tracker) == []


def test_playbook_for_a_customer(store: Store, clock: FrozenClock) -> None:
    vip = attrs.evolve(
        DEFAULT_PLAYBOOK, name="vip", response_targets={"email": within(business_hours=1)}
    )
    tracker = Tracker(
        store,
        calendar=WEEKDAYS,
        tenant="shop",
        clock=clock,
        playbook_for=lambda c: vip if c.startswith("vip-") else None,
    )
    fast = tracker.received("vip-1", channel="email", ref="m1")
    slow = tracker.received("acct-1", channel="email", ref="m2")
    assert fast is not None
    assert slow is not None
    assert fast.due_at == MON_10 + dt.timedelta(hours=1)
    assert slow.due_at == MON_10 + dt.timedelta(hours=4)
    assert fast.terms["playbook"] == "vip"
    with pytest.raises(InvalidArgumentError) as info:
        Tracker(store, calendar=WEEKDAYS, playbook="vip")  # type: ignore[arg-type]
    assert info.value.argument == "playbook"


# --------------------------------------------------------------------------- occasions


def test_occurred_opens_what_the_playbook_names(tracker: Tracker) -> None:
    opened = tracker.occurred("acct-1", "first_purchase", ref="order-1")
    assert [(c.kind, c.channel) for c in opened] == [("thank_you", "card"), ("follow_up", "phone")]
    assert opened[0].due_at == dt.datetime(2026, 12, 9, 17, tzinfo=UTC)
    assert opened[1].due_at == dt.datetime(2026, 12, 16, 17, tzinfo=UTC)
    assert opened[0].terms["rule"]["due"] == "business_days=2"
    assert opened[0].terms["occasion"] == "first_purchase"
    again = tracker.occurred("acct-1", "first_purchase", ref="order-1")
    assert [c.id for c in again] == [c.id for c in opened]
    assert len(everything(tracker)) == 2
    (touch,) = tracker.touchpoints("acct-1")
    assert touch.kind == "occasion"
    assert touch.occasion == "first_purchase"
    with pytest.raises(ConflictError):
        tracker.occurred("acct-1", "sale", ref="order-1")


def test_unknown_occasion_is_an_error_and_writes_nothing(tracker: Tracker) -> None:
    with pytest.raises(KeepwordError) as info:
        tracker.occurred("acct-1", "birthday")
    assert info.value.argument == "occasion"
    assert everything(tracker) == []
    assert tracker.touchpoints("acct-1") == []


def test_follow_up_after_sale_skips_holidays(store: Store) -> None:
    clock = FrozenClock(dt.datetime(2026, 11, 24, 15, tzinfo=UTC))  # Tue 10:00 New York
    tracker = Tracker(store, calendar=US, tenant="shop", clock=clock)
    (follow_up,) = tracker.occurred("acct-1", "sale")
    local = follow_up.due_at.astimezone(US.zone)
    # 3 business days from Tue 24 Nov: Wed, (Thanksgiving Thu skipped), Fri, Mon
    assert (local.date(), local.hour) == (dt.date(2026, 11, 30), 17)


def test_renewal_due_counts_backwards(tracker: Tracker) -> None:
    (reminder,) = tracker.occurred("acct-1", "renewal_due", on=dt.date(2027, 3, 1), ref="r1")
    # 30 business days before Mon 1 Mar 2027 on Mon-Fri: Mon 18 Jan 2027, at close
    assert reminder.due_at == dt.datetime(2027, 1, 18, 17, tzinfo=UTC)
    assert reminder.terms["on"] == "2027-03-01"
    with pytest.raises(InvalidArgumentError) as info:
        tracker.occurred("acct-1", "renewal_due")
    assert info.value.argument == "on"
    with pytest.raises(InvalidArgumentError) as info:
        tracker.occurred("acct-1", "renewal_due", on=dt.date(2026, 12, 10))
    assert info.value.argument == "on"
    with pytest.raises(InvalidArgumentError) as info:
        tracker.occurred("acct-1", "renewal_due", on=MON_10)  # type: ignore[arg-type]
    assert info.value.argument == "on"
    assert len(everything(tracker)) == 1


def test_editing_the_playbook_never_moves_an_open_deadline(
    store: Store, clock: FrozenClock
) -> None:
    old = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock)
    (follow_up,) = old.occurred("acct-1", "sale", ref="o1")
    slower = attrs.evolve(
        DEFAULT_PLAYBOOK,
        version=2,
        occasions={
            **DEFAULT_PLAYBOOK.occasions,
            "sale": CareRule(kind="follow_up", what="Follow up", due=within(business_days=10)),
        },
    )
    new = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=slower)
    assert new.get(follow_up.id).due_at == follow_up.due_at
    assert new.occurred("acct-1", "sale", ref="o1")[0].due_at == follow_up.due_at
    (later,) = new.occurred("acct-1", "sale", ref="o2")
    assert later.due_at > follow_up.due_at
    assert later.terms["playbook_version"] == 2
    assert follow_up.terms["playbook_version"] == 1
    assert later.terms["playbook_fingerprint"] != follow_up.terms["playbook_fingerprint"]


def test_rule_owner_and_policy(store: Store, clock: FrozenClock) -> None:
    policy = EscalationPolicy("care", steps=[Step(at_due(), notify="manager")])
    book = Playbook(
        occasions={
            "sale": CareRule(
                kind="follow_up",
                what="Call",
                due=within(business_days=1),
                owner=lambda customer, occasion: f"am-{customer}",
                policy="care",
            ),
            "gift": CareRule(kind="k", what="x", due=within(days=1), policy="missing"),
        }
    )
    tracker = Tracker(
        store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=book, policies=[policy]
    )
    (c,) = tracker.occurred("acct-1", "sale")
    assert c.owner == "am-acct-1"
    assert c.policy is not None
    assert c.policy.name == "care"
    with pytest.raises(InvalidArgumentError) as info:
        tracker.occurred("acct-1", "gift")
    assert info.value.argument == "policy"


def test_occasion_that_opens_nothing_is_recorded(store: Store, clock: FrozenClock) -> None:
    book = Playbook(occasions={"visit": ()})
    tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=book)
    assert tracker.occurred("acct-1", "visit", ref="v1") == []
    assert tracker.occurred("acct-1", "visit", ref="v1") == []
    assert [t.occasion for t in tracker.touchpoints("acct-1")] == ["visit"]


# --------------------------------------------------------------------------- thank-yous


def test_thank_keeps_the_oldest_matching_commitment(tracker: Tracker, clock: FrozenClock) -> None:
    (first,) = [c for c in tracker.occurred("acct-1", "first_purchase") if c.kind == "thank_you"]
    clock.advance(hours=1)
    (referral,) = tracker.occurred("acct-1", "referral")
    clock.advance(hours=1)
    result = tracker.thank("acct-1", channel="card", occasion="referral", actor="bob")
    assert result.kept is not None
    assert result.kept.id == referral.id
    assert result.counted
    assert result.held is None
    assert result.touchpoint is not None
    assert result.touchpoint.actor == "bob"
    assert result.touchpoint.commitment_id == referral.id
    assert tracker.get(first.id).status is Status.OPEN
    clock.advance(days=31)
    later = tracker.thank("acct-1", channel="lunch")
    assert later.kept is not None
    assert later.kept.id == first.id
    assert later.kept.lateness is not None
    assert later.kept.lateness > dt.timedelta(0)


def test_thanks_within_spacing_are_recorded_not_counted(
    tracker: Tracker, clock: FrozenClock
) -> None:
    first = tracker.thank("acct-1", channel="card")
    assert first.counted
    assert first.next_allowed_at == MON_10 + dt.timedelta(days=30)
    clock.advance(days=3)
    second = tracker.thank("acct-1", channel="flowers")
    assert not second.counted
    assert "not counted" in second.note
    assert second.touchpoint is not None
    assert not second.touchpoint.counted
    assert second.next_allowed_at == MON_10 + dt.timedelta(days=30)
    clock.advance(days=27)
    assert tracker.thank("acct-1", channel="gift").counted
    (owed,) = tracker.owed_thanks()
    assert (owed.customer, owed.counted, owed.owed) == ("acct-1", 2, 5)
    assert owed.next_allowed_at == MON_10 + dt.timedelta(days=60)


def test_thank_you_held_while_a_complaint_is_open(tracker: Tracker, clock: FrozenClock) -> None:
    (card,) = tracker.occurred("acct-1", "referral")
    tracker.occurred("acct-1", "complaint", ref="cmp-1")
    assert tracker.get(card.id).status is Status.PAUSED
    clock.advance(hours=2)
    held = tracker.thank("acct-1", channel="card")
    assert held.held == "complaint"
    assert held.touchpoint is None
    assert held.kept is None
    assert "complaint_resolved" in held.note
    assert tracker.touchpoints("acct-1", kind="thank_you") == []
    (late_card,) = tracker.occurred("acct-1", "public_praise")
    assert tracker.get(late_card.id).status is Status.PAUSED
    clock.advance(hours=1)
    tracker.received("acct-1", channel="email", ref="m1")  # a message does not end the hold
    assert tracker.get(card.id).status is Status.PAUSED
    tracker.occurred("acct-1", "complaint_resolved", ref="cmp-1-done")
    released = consistent(tracker.get(card.id))
    assert released.status is Status.OPEN
    assert released.due_at > card.due_at  # moved by the business time held
    assert tracker.get(late_card.id).status is Status.OPEN
    assert tracker.thank("acct-1", channel="card").kept is not None


def test_owed_thanks_lists_relationships_below_target(store: Store, clock: FrozenClock) -> None:
    tracker = Tracker(
        store,
        calendar=WEEKDAYS,
        tenant="shop",
        clock=clock,
        playbook=attrs.evolve(DEFAULT_PLAYBOOK, thank_you_target=2),
    )
    tracker.promise(customer="acct-a", owner="o", kind="k", what="x", due=within(days=1))
    tracker.thank("acct-b", channel="card")
    clock.advance(days=31)
    tracker.thank("acct-b", channel="card")
    tracker.thank("acct-c", channel="card")
    rows = tracker.owed_thanks()
    assert [(r.customer, r.counted, r.owed) for r in rows] == [("acct-a", 0, 2), ("acct-c", 1, 1)]
    assert rows[0].next_allowed_at is None
    assert rows[0].last_at is None
    assert [r.customer for r in tracker.owed_thanks(limit=1)] == ["acct-a"]
    zero = Tracker(
        store,
        calendar=WEEKDAYS,
        tenant="shop",
        clock=clock,
        playbook=attrs.evolve(DEFAULT_PLAYBOOK, thank_you_target=0),
    )
    assert zero.owed_thanks() == []


# --------------------------------------------------------------------------- follow-ups, touches


def test_followed_up_keeps_the_oldest_open_follow_up(tracker: Tracker, clock: FrozenClock) -> None:
    (a,) = tracker.occurred("acct-1", "sale", ref="o1")
    clock.advance(hours=1)
    (b,) = tracker.occurred("acct-1", "sale", ref="o2")
    clock.advance(hours=1)
    done = tracker.followed_up("acct-1", channel="phone", actor="carol", ref="call-1")
    assert done.kept is not None
    assert done.kept.id == a.id
    assert done.touchpoint.kind == "follow_up"
    assert done.touchpoint.commitment_id == a.id
    again = tracker.followed_up("acct-1", channel="phone", actor="carol", ref="call-1")
    assert again.touchpoint.id == done.touchpoint.id
    assert tracker.get(b.id).status is Status.OPEN
    touched = tracker.touched("acct-1", kind="follow_up", channel="email")
    assert touched.kept is not None
    assert touched.kept.id == b.id
    with pytest.raises(InvalidArgumentError) as info:
        tracker.touched("acct-1", kind="thank_you", channel="card")
    assert info.value.argument == "kind"


def test_keep_in_touch_after_the_longest_silence(tracker: Tracker, clock: FrozenClock) -> None:
    tracker.touched("acct-1", channel="phone")
    tracker.touched("acct-2", channel="phone")
    clock.advance(days=60)
    tracker.touched("acct-2", channel="email")
    clock.advance(days=31)
    (opened,) = tracker.keep_in_touch()
    assert opened.customer == "acct-1"
    assert opened.kind == "keep_in_touch"
    assert tracker.keep_in_touch() == []  # once per silence
    clock.advance(days=1)
    assert tracker.keep_in_touch() == []
    contact = tracker.touched("acct-1", channel="phone", kind="contact")
    assert contact.kept is not None
    assert contact.kept.id == opened.id
    clock.advance(days=91)
    assert sorted(c.customer for c in tracker.keep_in_touch()) == ["acct-1", "acct-2"]


def test_keep_in_touch_off_without_a_longest_silence(store: Store, clock: FrozenClock) -> None:
    book = attrs.evolve(DEFAULT_PLAYBOOK, longest_silence=None)
    tracker = Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock, playbook=book)
    tracker.touched("acct-1", channel="phone")
    clock.advance(days=400)
    assert tracker.keep_in_touch() == []


# --------------------------------------------------------------------------- the extra mile


def test_extra_mile_picks_once_per_period(tracker: Tracker, clock: FrozenClock) -> None:
    assert tracker.extra_mile() is None  # nobody eligible
    for customer in ("acct-1", "acct-2", "acct-3"):
        tracker.touched(customer, channel="email")
    pick = tracker.extra_mile(actor="dana")
    assert pick is not None
    assert pick.period == "2026-12"
    assert pick.commitment.kind == "extra_mile"
    assert pick.commitment.customer == pick.customer
    assert pick.commitment.external_ref == "extra_mile:2026-12"
    assert pick.touchpoint.ref == "extra_mile:2026-12"
    assert pick.touchpoint.actor == "dana"
    clock.advance(days=3)
    same = tracker.extra_mile()
    assert same == pick
    picks = [pick.customer]
    for month in (1, 2):
        clock.set(dt.datetime(2027, month, 5, 10, tzinfo=UTC))
        nxt = tracker.extra_mile()
        assert nxt is not None
        picks.append(nxt.customer)
    assert sorted(picks) == ["acct-1", "acct-2", "acct-3"]
    assert len([c for c in everything(tracker) if c.kind == "extra_mile"]) == 3
    week = tracker.extra_mile("week")
    assert week is not None
    assert week.period == "2027-W05"
    with pytest.raises(InvalidArgumentError) as info:
        tracker.extra_mile("decade")
    assert info.value.argument == "period"


def test_other_tenants_are_invisible(store: Store, clock: FrozenClock) -> None:
    a = Tracker(store, calendar=WEEKDAYS, tenant="a", clock=clock)
    b = Tracker(store, calendar=WEEKDAYS, tenant="b", clock=clock)
    a.received("acct-1", channel="email", ref="m1")
    with pytest.raises(NotFoundError):
        b.replied("m1")
    assert b.touchpoints("acct-1") == []
    assert b.extra_mile() is None
    assert b.received("acct-1", channel="email", ref="m1") is not None  # its own message


def test_complaint_resolved_at_the_same_instant_releases(tracker: Tracker) -> None:
    (card,) = tracker.occurred("acct-1", "referral")
    tracker.occurred("acct-1", "complaint")
    tracker.occurred("acct-1", "complaint_resolved")
    assert tracker.get(card.id).status is Status.OPEN
    assert tracker.thank("acct-1", channel="card").held is None
