"""The Tracker: load, decide with pure transitions, save with the expected version.

Every test runs on each store of the ``store`` fixture (tests/conftest.py): memory,
SQLite, and PostgreSQL and MariaDB when their URLs are set.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import keepword as kw
from keepword.calendar import BusinessCalendar, within
from keepword.clock import FrozenClock
from keepword.commitment import Commitment, Status, replay
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    InvalidTransitionError,
    NaiveDatetimeError,
    NotFoundError,
)
from keepword.ports import Query, Store
from keepword.tracker import Tracker

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
SE = BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 08:00-16:00", country="SE")
MON_10 = dt.datetime(2026, 11, 23, 10, tzinfo=NY)


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


def consistent(c: Commitment) -> None:
    assert replay(c.history, version=c.version) == c


# --------------------------------------------------------------------------- the design example


def test_the_indicative_example_from_the_design(store: Store, clock: FrozenClock) -> None:
    cal = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    tracker = Tracker(store, calendar=cal, tenant="shop-7", clock=clock)
    c = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        due=kw.within(business_days=3),
    )
    assert c.due_at == dt.datetime(2026, 11, 27, 17, tzinfo=NY)  # Thursday is Thanksgiving
    clock.advance(days=2)
    kept = tracker.keep(c.id)
    assert kept.status is Status.KEPT
    assert kept.on_time
    assert tracker.get(c.id) == kept
    assert kept.version == 2


# --------------------------------------------------------------------------- promise


def test_promise_stores_version_one_in_the_tenant(tracker: Tracker, store: Store) -> None:
    c = promise(tracker, tags=["vip", "b2b"], priority=2, terms={"discount": 0.1})
    assert (c.version, c.tenant, c.status) == (1, "shop-7", Status.OPEN)
    assert c.made_at == MON_10
    assert c.tags == ("b2b", "vip")
    assert store.get("shop-7", c.id) == c
    consistent(c)


def test_calendar_for_picks_the_customer_calendar(store: Store, clock: FrozenClock) -> None:
    tracker = Tracker(
        store,
        calendar=US,
        tenant="shop-7",
        clock=clock,
        calendar_for=lambda customer: SE if customer.startswith("se-") else None,
    )
    swedish = promise(tracker, customer="se-1")
    american = promise(tracker, customer="us-1")
    assert swedish.calendar == SE
    assert american.calendar == US
    assert tracker.calendar_for("se-2") == SE
    # Mon 23 Nov 16:00 in Stockholm -> 3 Swedish business days later, at 16:00
    assert swedish.due_at == dt.datetime(2026, 11, 26, 16, tzinfo=ZoneInfo("Europe/Stockholm"))


def test_calendar_for_must_return_a_calendar(store: Store, clock: FrozenClock) -> None:
    tracker = Tracker(store, calendar=US, clock=clock, calendar_for=lambda _: "UTC")  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidArgumentError) as err:
        promise(tracker)
    assert err.value.argument == "calendar_for"
    assert store.count("default", Query()) == 0


def test_the_same_external_ref_returns_the_existing_commitment(
    tracker: Tracker, store: Store, clock: FrozenClock
) -> None:
    first = promise(tracker, external_ref="order-1", terms={"qty": 2})
    clock.advance(hours=1)
    again = promise(tracker, external_ref="order-1", terms={"qty": 2})
    assert again == first
    assert tracker.count() == 1
    # still the same after the commitment moved on (reassigned, renegotiated)
    tracker.reassign(first.id, owner="bob")
    assert promise(tracker, external_ref="order-1", terms={"qty": 2}).owner == "bob"


def test_the_same_external_ref_with_an_explicit_due_in_another_zone(tracker: Tracker) -> None:
    due = dt.datetime(2026, 12, 1, 12, tzinfo=NY)
    first = promise(tracker, external_ref="r", due=due)
    assert promise(tracker, external_ref="r", due=due.astimezone(dt.UTC)) == first


@pytest.mark.parametrize(
    "change",
    [
        {"customer": "acct-43"},
        {"owner": "bob"},
        {"kind": "refund"},
        {"what": "something else"},
        {"due": within(business_days=4)},
        {"due": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
        {"terms": {"qty": 3}},
    ],
)
def test_the_same_external_ref_with_another_request_conflicts(
    tracker: Tracker, change: dict[str, Any]
) -> None:
    promise(tracker, external_ref="order-1", terms={"qty": 2})
    with pytest.raises(ConflictError) as err:
        promise(tracker, **{"external_ref": "order-1", "terms": {"qty": 2}, **change})
    assert err.value.argument == "external_ref"
    assert tracker.count() == 1


def test_external_refs_are_per_tenant(store: Store, clock: FrozenClock) -> None:
    a = Tracker(store, calendar=US, tenant="a", clock=clock)
    b = Tracker(store, calendar=US, tenant="b", clock=clock)
    ca = promise(a, external_ref="r")
    cb = promise(b, external_ref="r", what="different")
    assert ca.id != cb.id


def test_promise_refuses_bad_input_and_writes_nothing(tracker: Tracker) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"customer": ""}, "customer"),
        ({"owner": "a\x00"}, "owner"),
        ({"due": MON_10 - dt.timedelta(minutes=1)}, "due"),
        ({"due": dt.datetime(2026, 12, 1)}, "due"),
        ({"priority": -1}, "priority"),
        ({"external_ref": ""}, "external_ref"),
        ({"terms": {"when": MON_10}}, "terms"),
    ]
    for bad, argument in cases:
        with pytest.raises((InvalidArgumentError, NaiveDatetimeError)) as err:
            promise(tracker, **bad)
        assert err.value.argument == argument, bad
    assert tracker.count() == 0


def test_promise_many_is_all_or_nothing(tracker: Tracker) -> None:
    items = [
        {"customer": "c1", "owner": "o", "kind": "reply", "what": "a", "due": within(hours=4)},
        {"customer": "", "owner": "o", "kind": "reply", "what": "b", "due": within(hours=4)},
    ]
    with pytest.raises(InvalidArgumentError):
        tracker.promise_many(items)
    assert tracker.count() == 0
    with pytest.raises(InvalidArgumentError) as err:
        tracker.promise_many([{"customer": "c1", "owner": "o", "kind": "k", "what": "w"}])
    assert err.value.argument == "items[0]"
    with pytest.raises(InvalidArgumentError):
        tracker.promise_many([{**items[0], "colour": "red"}])


def test_promise_many_stores_in_order_and_maps_repeated_refs(tracker: Tracker) -> None:
    base = {"owner": "o", "kind": "reply", "what": "w", "due": within(business_hours=2)}
    existing = promise(tracker, external_ref="old")
    made = tracker.promise_many(
        [
            {**base, "customer": "c1", "external_ref": "r1"},
            {**base, "customer": "c2"},
            {**base, "customer": "c1", "external_ref": "r1"},
            {
                "customer": "acct-42",
                "owner": "alice",
                "kind": "reply",
                "what": "Email the bulk price list",
                "due": within(business_days=3),
                "external_ref": "old",
            },
        ]
    )
    assert [c.customer for c in made] == ["c1", "c2", "c1", "acct-42"]
    assert made[0] == made[2]
    assert made[3] == existing
    assert tracker.count() == 3


def test_promise_many_with_a_conflicting_ref_stores_nothing(tracker: Tracker) -> None:
    base = {"owner": "o", "kind": "reply", "what": "w", "due": within(business_hours=2)}
    promise(tracker, external_ref="old")
    with pytest.raises(ConflictError):
        tracker.promise_many(
            [{**base, "customer": "c1"}, {**base, "customer": "c2", "external_ref": "old"}]
        )
    with pytest.raises(ConflictError):
        tracker.promise_many(
            [
                {**base, "customer": "c1", "external_ref": "new"},
                {**base, "customer": "c2", "external_ref": "new"},
            ]
        )
    assert tracker.count() == 1
    assert tracker.promise_many([]) == []


# --------------------------------------------------------------------------- changes


def test_changes_by_id_and_by_object(tracker: Tracker, clock: FrozenClock) -> None:
    c = promise(tracker)
    clock.set(dt.datetime(2026, 11, 24, 15, tzinfo=NY))
    paused = tracker.pause(c, reason="waiting for the customer", actor="alice")
    assert paused.status is Status.PAUSED
    assert paused.version == 2
    clock.set(dt.datetime(2026, 11, 25, 11, tzinfo=NY))
    resumed = tracker.resume(c.id)
    assert resumed.due_at == dt.datetime(2026, 11, 30, 13, tzinfo=NY)
    assert resumed.deadline_version == 2
    moved = tracker.renegotiate(resumed, due=within(business_days=5), reason="backorder")
    assert moved.deadline_version == 3
    handed = tracker.reassign(moved.id, owner="bob")
    assert handed.owner == "bob"
    kept = tracker.keep(handed, actor="bob")
    assert kept.status is Status.KEPT
    assert kept.version == 6
    assert tracker.get(c.id) == kept
    consistent(kept)
    assert [e.kind for e in kept.history] == [
        "promised",
        "paused",
        "resumed",
        "renegotiated",
        "reassigned",
        "kept",
    ]


def test_a_stale_object_conflicts_and_changes_nothing(tracker: Tracker) -> None:
    c = promise(tracker)
    tracker.reassign(c, owner="bob")
    with pytest.raises(ConflictError) as err:
        tracker.keep(c)
    assert (err.value.expected_version, err.value.actual_version) == (1, 2)
    stored = tracker.get(c.id)
    assert stored.status is Status.OPEN
    assert stored.owner == "bob"


def test_illegal_moves_raise_and_change_nothing(tracker: Tracker) -> None:
    c = tracker.cancel(promise(tracker), reason="customer withdrew")
    moves: list[Callable[[], object]] = [
        lambda: tracker.keep(c.id),
        lambda: tracker.fail(c.id, reason="x"),
        lambda: tracker.pause(c.id, reason="x"),
        lambda: tracker.resume(c.id),
        lambda: tracker.renegotiate(c.id, due=within(days=1)),
        lambda: tracker.reassign(c.id, owner="bob"),
        lambda: tracker.retarget(c.id),
    ]
    for move in moves:
        with pytest.raises(InvalidTransitionError):
            move()
    assert tracker.get(c.id) == c


def test_fail_records_the_reason(tracker: Tracker) -> None:
    broken = tracker.fail(promise(tracker).id, reason="supplier went bust")
    assert broken.status is Status.BROKEN
    assert broken.history[-1].data["reason"] == "supplier went bust"


def test_a_late_keep_by_id_records_the_breach(tracker: Tracker, clock: FrozenClock) -> None:
    c = promise(tracker)
    clock.set(dt.datetime(2026, 11, 30, 10, tzinfo=NY))
    kept = tracker.keep(c.id)
    assert not kept.on_time
    assert kept.breached_at == c.due_at
    assert kept.lateness == dt.timedelta(hours=1)
    assert "kept 1 h of business time late" in tracker.explain(kept)


def test_keep_with_a_naive_at_is_refused_and_writes_nothing(tracker: Tracker) -> None:
    c = promise(tracker)
    with pytest.raises(NaiveDatetimeError):
        tracker.keep(c.id, at=dt.datetime(2026, 11, 23, 12))
    assert tracker.get(c.id) == c


def test_retarget_uses_the_customer_calendar_by_default(store: Store, clock: FrozenClock) -> None:
    chosen = {"cal": US}
    tracker = Tracker(store, calendar=US, clock=clock, calendar_for=lambda _: chosen["cal"])
    c = promise(tracker)
    chosen["cal"] = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00")
    moved = tracker.retarget(c.id, actor="admin")
    assert moved.calendar == chosen["cal"]
    assert moved.due_at == dt.datetime(2026, 11, 26, 17, tzinfo=NY)
    assert moved.history[-1].kind == "retargeted"


def test_mark_breached_writes_only_when_there_is_a_breach(
    tracker: Tracker, clock: FrozenClock
) -> None:
    c = promise(tracker)
    assert tracker.mark_breached(c.id) == c
    clock.set(c.due_at + dt.timedelta(minutes=1))
    breached = tracker.mark_breached(c.id)
    assert breached.breached_at == c.due_at
    assert breached.version == 2
    assert tracker.mark_breached(breached) == breached


# --------------------------------------------------------------------------- races and retries


class RacingStore:
    """A store whose next ``update`` calls lose a race: someone else writes first.

    Every other method is the wrapped store's, so the races run on each backend.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.races = 0
        self.meddle: Callable[[Commitment], Commitment] | None = None
        self.updates = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        """Let a racer write first while ``races`` lasts, then write ``commitment``."""
        self.updates += 1
        if self.races:
            self.races -= 1
            stored = self.inner.get(commitment.tenant, commitment.id)
            if self.meddle is not None:
                changed = self.meddle(stored)
            else:
                changed = kw.transitions.reassign(
                    stored, now=stored.made_at, owner=f"racer-{self.updates}"
                )[0]
            self.inner.update(changed, expected_version=stored.version)
        return self.inner.update(commitment, expected_version=expected_version)


@pytest.fixture
def racing(store: Store) -> RacingStore:
    return RacingStore(store)


def test_an_id_is_retried_three_times_after_lost_races(
    racing: RacingStore, clock: FrozenClock
) -> None:
    tracker = Tracker(racing, calendar=US, clock=clock)  # type: ignore[arg-type]
    c = promise(tracker)
    racing.races = 3
    kept = tracker.keep(c.id)
    assert kept.status is Status.KEPT
    assert kept.version == 5  # three racing writes, then ours
    racing.races = 4
    racing.updates = 0
    d = promise(tracker)
    with pytest.raises(ConflictError):
        tracker.keep(d.id)
    assert racing.updates == 4
    assert tracker.get(d.id).status is Status.OPEN


def test_a_retry_decides_again_against_the_fresh_state(
    racing: RacingStore, clock: FrozenClock
) -> None:
    tracker = Tracker(racing, calendar=US, clock=clock)  # type: ignore[arg-type]
    c = promise(tracker)
    racing.races = 1
    racing.meddle = lambda stored: kw.transitions.cancel(stored, now=stored.made_at)[0]
    with pytest.raises(InvalidTransitionError):
        tracker.keep(c.id)
    assert tracker.get(c.id).status is Status.CANCELLED


def test_an_object_is_never_retried(racing: RacingStore, clock: FrozenClock) -> None:
    tracker = Tracker(racing, calendar=US, clock=clock)  # type: ignore[arg-type]
    c = promise(tracker)
    racing.races = 1
    with pytest.raises(ConflictError):
        tracker.keep(c)
    assert racing.updates == 1


def test_threads_racing_on_one_commitment_lose_no_write(tracker: Tracker) -> None:
    c = promise(tracker)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for j in range(20):
            try:
                tracker.reassign(c.id, owner=f"owner-{i}-{j}")
            except ConflictError as exc:  # four lost races in a row
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = tracker.get(c.id)
    consistent(final)
    assert final.version == 1 + 160 - len(errors)


# --------------------------------------------------------------------------- tenants


def test_another_tenant_sees_nothing(store: Store, clock: FrozenClock) -> None:
    a = Tracker(store, calendar=US, tenant="a", clock=clock)
    b = Tracker(store, calendar=US, tenant="b", clock=clock)
    c = promise(a, external_ref="r")
    for call in (
        lambda: b.get(c.id),
        lambda: b.get(c),
        lambda: b.keep(c.id),
        lambda: b.keep(c),
        lambda: b.cancel(c),
        lambda: b.explain(c.id),
        lambda: b.explain(c),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert b.find() == []
    assert b.count() == 0
    assert a.get(c.id) == c


# --------------------------------------------------------------------------- reading


def test_find_due_and_overdue(tracker: Tracker, clock: FrozenClock) -> None:
    soon = promise(tracker, due=within(business_hours=2), owner="alice")
    later = promise(tracker, due=within(business_days=5), owner="bob")
    kept = tracker.keep(promise(tracker, due=within(business_hours=1)).id)
    assert [c.id for c in tracker.find(owner="bob")] == [later.id]
    assert tracker.find(statuses={Status.KEPT}) == [kept]
    assert [c.id for c in tracker.due()] == [soon.id, later.id]
    assert [c.id for c in tracker.due(within=within(business_hours=2))] == [soon.id]
    assert [c.id for c in tracker.due(within=dt.timedelta(hours=1))] == []
    assert [c.id for c in tracker.due(until=soon.due_at)] == [soon.id]  # inclusive
    assert tracker.overdue() == []
    clock.set(soon.due_at)
    assert tracker.overdue() == []  # due now is not overdue yet
    clock.advance(seconds=1)
    assert [c.id for c in tracker.overdue()] == [soon.id]
    assert tracker.overdue(owner="bob") == []
    assert tracker.count(statuses="open") == 2
    assert len(tracker.find(limit=1)) == 1


def test_reading_refuses_bad_filters(tracker: Tracker) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        tracker.find(colour="red")
    assert err.value.argument == "colour"
    with pytest.raises(InvalidArgumentError):
        tracker.find(limit=0)
    with pytest.raises(InvalidArgumentError):
        tracker.due(within=within(hours=1), until=MON_10)
    with pytest.raises(NaiveDatetimeError):
        tracker.due(until=dt.datetime(2026, 12, 1))
    with pytest.raises(InvalidArgumentError):
        tracker.get(42)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        tracker.get("no-such-id")


def test_explain_says_why(tracker: Tracker, clock: FrozenClock) -> None:
    c = promise(tracker)
    assert tracker.explain(c.id) == (
        "3 business days from Mon 23 Nov 10:00; Thu 26 Nov is Thanksgiving Day; "
        "due Fri 27 Nov 17:00 EST"
    )
    clock.set(dt.datetime(2026, 11, 24, 15, tzinfo=NY))
    tracker.pause(c.id, reason="waiting")
    clock.set(dt.datetime(2026, 11, 25, 11, tzinfo=NY))
    resumed = tracker.resume(c.id)
    assert "moved by pauses and recalculations to Mon 30 Nov 13:00 EST" in tracker.explain(resumed)
    fixed = promise(tracker, due=dt.datetime(2026, 12, 1, 12, tzinfo=NY))
    assert tracker.explain(fixed) == "a fixed deadline: due Tue 1 Dec 12:00 EST"
    clock.set(dt.datetime(2026, 12, 1, 12, tzinfo=NY))
    kept = tracker.keep(fixed)
    assert tracker.explain(kept).endswith("kept on time")


def test_the_constructor_checks_its_arguments(store: Store) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        Tracker(object(), calendar=US)  # type: ignore[arg-type]
    assert err.value.argument == "store"
    with pytest.raises(InvalidArgumentError) as err:
        Tracker(store, calendar="UTC")  # type: ignore[arg-type]
    assert err.value.argument == "calendar"
    with pytest.raises(InvalidArgumentError) as err:
        Tracker(store, calendar=US, tenant="")
    assert err.value.argument == "tenant"
    with pytest.raises(InvalidArgumentError) as err:
        Tracker(store, calendar=US, clock=object())  # type: ignore[arg-type]
    assert err.value.argument == "clock"
    tracker = Tracker(store, calendar=US)
    assert tracker.tenant == "default"
    assert tracker.now().tzinfo is dt.UTC
