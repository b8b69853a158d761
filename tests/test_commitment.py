"""A commitment's life: pure transitions, events, replay, and the values' validation."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from collections.abc import Callable
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword import commitment as kc
from keepword import transitions as kt
from keepword._ids import new_id
from keepword._json import freeze_json, thaw_json
from keepword._validate import check_identifier
from keepword.calendar import BusinessCalendar, within
from keepword.commitment import Commitment, Event, Status, replay
from keepword.errors import (
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    NaiveDatetimeError,
)
from keepword.ports import Query
from keepword.testing._commitment_strategies import (
    LEGAL,
    Operation,
    commitments,
    identifiers,
    json_objects,
    operations,
    perform,
)
from keepword.testing._time_strategies import calendars

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
ALWAYS = BusinessCalendar.always_open("UTC")
MON_10 = dt.datetime(2026, 11, 23, 10, tzinfo=NY)


def make(
    *, now: dt.datetime = MON_10, calendar: BusinessCalendar = US, due: object = None, **kw: object
) -> Commitment:
    args: dict[str, object] = {
        "id": new_id(now),
        "tenant": "shop-7",
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Email the bulk price list",
        "now": now,
        "calendar": calendar,
        "due": within(business_days=3) if due is None else due,
    }
    args.update(kw)
    c, events = kt.promise(**args)  # type: ignore[arg-type]
    assert events == c.history
    return c


def check_consistent(c: Commitment) -> None:
    assert replay(c.history, version=c.version) == c


# --------------------------------------------------------------------------- promise


def test_promise_resolves_the_design_example_deadline() -> None:
    c = make()
    assert c.due_at == dt.datetime(2026, 11, 27, 17, tzinfo=NY)
    assert c.made_at == MON_10.astimezone(dt.UTC)
    assert (c.status, c.version, c.deadline_version, c.spec) == (
        Status.OPEN,
        1,
        1,
        "business_days=3",
    )
    assert [e.kind for e in c.history] == ["promised"]
    check_consistent(c)


def test_promise_business_hours_over_a_weekend() -> None:
    fri = dt.datetime(2026, 11, 20, 16, tzinfo=NY)
    c = make(now=fri, due=within(business_hours=4))
    assert c.due_at == dt.datetime(2026, 11, 23, 12, tzinfo=NY)


def test_promise_with_an_explicit_due_has_no_spec() -> None:
    due = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    c = make(due=due)
    assert (c.due_at, c.spec) == (due, None)


def test_a_due_before_the_promise_is_refused_naming_due() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(due=MON_10 - dt.timedelta(seconds=1))
    assert err.value.argument == "due"


def test_a_naive_due_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError) as err:
        make(due=dt.datetime(2026, 12, 1))
    assert err.value.argument == "due"


@pytest.mark.parametrize("bad", ["3 days", 3, dt.date(2026, 12, 1), None.__class__])
def test_a_due_that_is_neither_spec_nor_datetime_is_refused(bad: object) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(due=bad)
    assert err.value.argument == "due"


@pytest.mark.parametrize("field", ["customer", "owner", "kind", "tenant", "id"])
@pytest.mark.parametrize("value", ["", "a\x00b", "x" * 256, "\ud800", 42])
def test_promise_refuses_bad_identifiers(field: str, value: object) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(**{field: value})  # type: ignore[arg-type]
    assert err.value.argument == field


def test_promise_accepts_a_255_character_identifier_and_hostile_text() -> None:
    c = make(customer="x" * 255, what="'; DROP TABLE x; -- \u202e" + "y" * 10_000)
    assert len(c.customer) == 255
    check_consistent(c)


def test_what_refuses_nul() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(what="a\x00")
    assert err.value.argument == "what"


@pytest.mark.parametrize("priority", [-1, True, 1.5, 2**31])
def test_priority_must_be_a_small_non_negative_int(priority: object) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(priority=priority)
    assert err.value.argument == "priority"


def test_tags_are_sorted_and_unique() -> None:
    c = make(tags=["vip", "b2b", "vip"])
    assert c.tags == ("b2b", "vip")
    with pytest.raises(InvalidArgumentError) as err:
        make(tags="vip")
    assert err.value.argument == "tags"
    with pytest.raises(InvalidArgumentError):
        make(tags=[""])


@pytest.mark.parametrize(
    "terms",
    [
        {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {1: "x"},
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": {1, 2}},
        {"x": "a\x00"},
        ["not", "a", "mapping"],
    ],
)
def test_terms_must_be_a_json_object(terms: object) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make(terms=terms)
    assert err.value.argument == "terms"


def test_terms_are_deep_frozen_but_equal_to_plain_json() -> None:
    terms = {"price": 9.5, "items": [1, {"sku": "FIG-1"}], "gift": None}
    c = make(terms=terms)
    terms["price"] = 0  # the caller's dict is not shared
    assert c.terms == {"price": 9.5, "items": [1, {"sku": "FIG-1"}], "gift": None}
    assert json.loads(json.dumps(c.terms)) == c.terms
    with pytest.raises(TypeError):
        c.terms["price"] = 1  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        c.terms["items"].append(2)
    assert thaw_json(c.terms) == {"price": 9.5, "items": [1, {"sku": "FIG-1"}], "gift": None}
    hash(c)


def test_too_deep_terms_are_refused() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(70):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    with pytest.raises(InvalidArgumentError):
        make(terms=deep)


def test_events_and_terms_pickle_and_copy_to_equal_values() -> None:
    c = make(terms={"a": [1, 2]}, tags=["x"])
    assert pickle.loads(pickle.dumps(c.history)) == c.history
    assert pickle.loads(pickle.dumps(c.terms)) == c.terms
    assert copy.deepcopy(c.history) == c.history


# --------------------------------------------------------------------------- value validators


def test_commitment_validators_name_the_field() -> None:
    c = make()
    for field, value in [
        ("version", 0),
        ("version", True),
        ("deadline_version", 0),
        ("lateness", dt.timedelta(seconds=-1)),
        ("lateness", 5),
        ("status", "done"),
        ("spec", ""),
        ("external_ref", ""),
        ("waiting_for", "a\x00"),
        ("history", ()),
        ("calendar", "UTC"),
    ]:
        with pytest.raises(InvalidArgumentError) as err:
            attrs.evolve(c, **{field: value})  # type: ignore[arg-type]
        assert err.value.argument == field, field


def test_commitment_instants_become_utc_and_naive_ones_are_refused() -> None:
    c = make()
    moved = attrs.evolve(c, kept_at=dt.datetime(2026, 11, 24, 9, tzinfo=NY))
    assert moved.kept_at is not None
    assert moved.kept_at.tzinfo is dt.UTC
    for field in ("made_at", "due_at", "kept_at", "closed_at", "breached_at", "paused_at"):
        with pytest.raises(NaiveDatetimeError) as err:
            attrs.evolve(c, **{field: dt.datetime(2026, 1, 1)})  # type: ignore[arg-type]
        assert err.value.argument == field


def test_history_must_start_with_promised_and_count_from_one() -> None:
    c = make()
    e = c.history[0]
    with pytest.raises(InvalidArgumentError):
        attrs.evolve(c, history=(attrs.evolve(e, seq=2),))
    with pytest.raises(InvalidArgumentError):
        attrs.evolve(c, history=(attrs.evolve(e, kind="kept"),))
    with pytest.raises(InvalidArgumentError):
        attrs.evolve(c, history=("promised",))


def test_event_validators() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(InvalidArgumentError) as err:
        Event(seq=0, kind="kept", at=at)
    assert err.value.argument == "seq"
    with pytest.raises(InvalidArgumentError) as err:
        Event(seq=1, kind="exploded", at=at)
    assert err.value.argument == "kind"
    with pytest.raises(NaiveDatetimeError):
        Event(seq=1, kind="kept", at=dt.datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError) as err:
        Event(seq=1, kind="kept", at=at, actor="")
    assert err.value.argument == "actor"
    with pytest.raises(InvalidArgumentError) as err:
        Event(seq=1, kind="kept", at=at, data={"x": object()})
    assert err.value.argument == "data"


def test_status_values_and_finality() -> None:
    assert [s.value for s in Status] == ["open", "paused", "kept", "broken", "cancelled"]
    assert {s for s in Status if s.is_final} == {Status.KEPT, Status.BROKEN, Status.CANCELLED}
    assert isinstance(Status.OPEN, str)


# --------------------------------------------------------------------------- transitions


def test_keep_on_time() -> None:
    c = make()
    kept, events = kt.keep(c, now=dt.datetime(2026, 11, 25, 12, tzinfo=NY), actor="alice")
    assert kept.status is Status.KEPT
    assert kept.on_time
    assert kept.lateness == dt.timedelta(0)
    assert kept.breached_at is None
    assert [e.kind for e in events] == ["kept"]
    assert events[0].actor == "alice"
    assert kept.version == 2
    assert kept.closed_at == kept.kept_at
    check_consistent(kept)


def test_keep_exactly_at_the_deadline_is_on_time() -> None:
    c = make()
    kept, _ = kt.keep(c, now=c.due_at)
    assert kept.on_time
    assert kept.breached_at is None


def test_late_keep_records_the_breach_first_and_business_lateness() -> None:
    c = make()
    # due Fri 27 Nov 17:00; kept Mon 30 Nov 10:00: one business hour late
    kept, events = kt.keep(c, now=dt.datetime(2026, 11, 30, 10, tzinfo=NY))
    assert [e.kind for e in events] == ["breached", "kept"]
    assert kept.breached_at == c.due_at
    assert kept.lateness == dt.timedelta(hours=1)
    assert not kept.on_time
    assert kept.version == 2
    check_consistent(kept)


def test_backdated_keep_before_the_deadline_is_on_time() -> None:
    c = make()
    kept, events = kt.keep(
        c, now=dt.datetime(2026, 12, 2, tzinfo=NY), kept_at=dt.datetime(2026, 11, 26, tzinfo=NY)
    )
    assert kept.on_time
    assert [e.kind for e in events] == ["kept"]


def test_keep_at_in_the_future_or_before_the_promise_is_refused_naming_at() -> None:
    """Errors name ``at``, the argument ``Tracker.keep``'s caller passed."""
    c = make()
    with pytest.raises(InvalidArgumentError) as err:
        kt.keep(c, now=MON_10, kept_at=MON_10 + dt.timedelta(hours=1))
    assert err.value.argument == "at"
    with pytest.raises(InvalidArgumentError) as err:
        kt.keep(c, now=MON_10, kept_at=MON_10 - dt.timedelta(hours=1))
    assert err.value.argument == "at"
    with pytest.raises(NaiveDatetimeError) as naive:
        kt.keep(c, now=MON_10, kept_at=MON_10.replace(tzinfo=None))
    assert naive.value.argument == "at"


def test_fail_and_cancel_close_the_commitment() -> None:
    c = make()
    now = MON_10 + dt.timedelta(hours=1)
    broken, _ = kt.fail(c, now=now, reason="out of stock")
    assert broken.status is Status.BROKEN
    assert broken.closed_at == now
    assert broken.history[-1].data == {"reason": "out of stock"}
    cancelled, _ = kt.cancel(c, now=now)
    assert cancelled.status is Status.CANCELLED
    assert cancelled.history[-1].data["reason"] is None
    with pytest.raises(InvalidArgumentError) as err:
        kt.fail(c, now=now, reason=" ")
    assert err.value.argument == "reason"


@pytest.mark.parametrize(
    ("final", "action"),
    [
        (lambda c: kt.keep(c, now=MON_10)[0], "keep"),
        (lambda c: kt.fail(c, now=MON_10, reason="no")[0], "fail"),
        (lambda c: kt.cancel(c, now=MON_10)[0], "cancel"),
    ],
)
def test_nothing_moves_a_closed_commitment(
    final: Callable[[Commitment], Commitment], action: str
) -> None:
    closed = final(make())
    moves: list[Callable[[], object]] = [
        lambda: kt.keep(closed, now=MON_10),
        lambda: kt.fail(closed, now=MON_10, reason="x"),
        lambda: kt.cancel(closed, now=MON_10),
        lambda: kt.pause(closed, now=MON_10, reason="x"),
        lambda: kt.resume(closed, now=MON_10),
        lambda: kt.renegotiate(closed, now=MON_10, due=within(days=1)),
        lambda: kt.reassign(closed, now=MON_10, owner="bob"),
        lambda: kt.retarget(closed, now=MON_10, calendar=ALWAYS),
    ]
    for move in moves:
        with pytest.raises(InvalidTransitionError) as err:
            move()
        assert err.value.commitment_id == closed.id
    assert kt.mark_breached(closed, now=MON_10 + dt.timedelta(days=30)) == (closed, ())


def test_pause_then_resume_moves_the_deadline_by_paused_business_time() -> None:
    c = make()  # due Fri 27 Nov 17:00
    paused, events = kt.pause(c, now=dt.datetime(2026, 11, 24, 15, tzinfo=NY), reason="customer")
    assert paused.status is Status.PAUSED
    assert paused.paused_at is not None
    assert events[0].data == {"reason": "customer"}
    # resumed Wed 25 Nov 11:00: 2 + 2 = 4 business hours paused
    resumed, _ = kt.resume(paused, now=dt.datetime(2026, 11, 25, 11, tzinfo=NY))
    assert resumed.status is Status.OPEN
    assert resumed.paused_at is None
    assert resumed.due_at == dt.datetime(2026, 11, 30, 13, tzinfo=NY)
    assert resumed.deadline_version == 2
    assert resumed.version == 3
    check_consistent(resumed)


def test_a_pause_while_closed_does_not_move_the_deadline() -> None:
    c = make()
    paused, _ = kt.pause(c, now=dt.datetime(2026, 11, 24, 18, tzinfo=NY), reason="night")
    resumed, _ = kt.resume(paused, now=dt.datetime(2026, 11, 25, 8, tzinfo=NY))
    assert resumed.due_at == c.due_at
    assert resumed.deadline_version == 1


def test_resume_with_a_clock_that_went_backwards_never_shortens() -> None:
    c = make()
    paused, _ = kt.pause(c, now=dt.datetime(2026, 11, 24, 15, tzinfo=NY), reason="x")
    resumed, _ = kt.resume(paused, now=dt.datetime(2026, 11, 24, 11, tzinfo=NY))
    assert resumed.due_at == c.due_at


def test_pause_needs_a_reason_and_an_open_commitment() -> None:
    c = make()
    with pytest.raises(InvalidArgumentError) as err:
        kt.pause(c, now=MON_10, reason="")
    assert err.value.argument == "reason"
    paused, _ = kt.pause(c, now=MON_10, reason="waiting")
    with pytest.raises(InvalidTransitionError):
        kt.pause(paused, now=MON_10, reason="again")
    with pytest.raises(InvalidTransitionError):
        kt.resume(c, now=MON_10)
    with pytest.raises(InvalidTransitionError):
        kt.renegotiate(paused, now=MON_10, due=within(days=1))


def test_keeping_a_paused_commitment_resumes_it_first() -> None:
    c = make()
    paused, _ = kt.pause(c, now=dt.datetime(2026, 11, 24, 15, tzinfo=NY), reason="x")
    kept, events = kt.keep(paused, now=dt.datetime(2026, 11, 25, 11, tzinfo=NY))
    assert [e.kind for e in events] == ["resumed", "kept"]
    assert kept.status is Status.KEPT
    assert kept.paused_at is None
    assert kept.on_time
    check_consistent(kept)


def test_renegotiate_sets_a_new_deadline_version() -> None:
    c = make()
    now = dt.datetime(2026, 11, 25, 10, tzinfo=NY)
    moved, events = kt.renegotiate(c, now=now, due=within(business_days=5), reason="backorder")
    assert moved.due_at == dt.datetime(2026, 12, 3, 17, tzinfo=NY)  # Thu 26 is a holiday
    assert moved.spec == "business_days=5"
    assert moved.deadline_version == 2
    assert events[0].data["old_due_at"] == c.due_at.isoformat()
    assert moved.breached_at is None
    check_consistent(moved)


def test_renegotiating_after_the_deadline_records_the_breach_which_stays() -> None:
    c = make()
    now = dt.datetime(2026, 11, 30, 10, tzinfo=NY)
    moved, events = kt.renegotiate(c, now=now, due=now + dt.timedelta(days=2))
    assert [e.kind for e in events] == ["breached", "renegotiated"]
    assert moved.breached_at == c.due_at
    assert moved.spec is None
    kept, _ = kt.keep(moved, now=now + dt.timedelta(days=1))
    # kept by the new deadline, but after the breach: never laundered into "on time"
    assert not kept.on_time
    assert kept.kept_after_breach
    assert kept.history[-1].data["after_breach"] is True
    assert kept.breached_at == c.due_at
    check_consistent(kept)


def test_renegotiate_to_the_past_is_refused() -> None:
    c = make()
    with pytest.raises(InvalidArgumentError) as err:
        kt.renegotiate(c, now=MON_10, due=MON_10 - dt.timedelta(minutes=1))
    assert err.value.argument == "due"


def test_reassign_changes_the_owner_and_keeps_the_history() -> None:
    c = make()
    moved, events = kt.reassign(c, now=MON_10, owner="bob", reason="vacation", actor="lead")
    assert moved.owner == "bob"
    assert events[0].data["old_owner"] == "alice"
    assert moved.history[:1] == c.history
    with pytest.raises(InvalidArgumentError) as err:
        kt.reassign(moved, now=MON_10, owner="bob")
    assert err.value.argument == "owner"
    with pytest.raises(InvalidArgumentError):
        kt.reassign(moved, now=MON_10, owner="")


def test_retarget_recomputes_from_the_promise_and_records_both() -> None:
    c = make()  # due Fri 27 Nov 17:00 (Thanksgiving skipped)
    no_holidays = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00")
    moved, events = kt.retarget(c, now=MON_10 + dt.timedelta(hours=1), calendar=no_holidays)
    assert moved.due_at == dt.datetime(2026, 11, 26, 17, tzinfo=NY)
    assert moved.calendar == no_holidays
    assert moved.deadline_version == 2
    data = events[0].data
    assert data["old_due_at"] == c.due_at.isoformat()
    assert data["due_at"] == moved.due_at.isoformat()
    assert BusinessCalendar.from_dict(thaw_json(data["old_calendar"])) == US
    check_consistent(moved)
    same, _ = kt.retarget(moved, now=MON_10 + dt.timedelta(hours=2), calendar=no_holidays)
    assert same.deadline_version == 2


def test_retarget_keeps_completed_pauses() -> None:
    c = make()
    paused, _ = kt.pause(c, now=dt.datetime(2026, 11, 24, 15, tzinfo=NY), reason="x")
    resumed, _ = kt.resume(paused, now=dt.datetime(2026, 11, 25, 11, tzinfo=NY))
    again, _ = kt.retarget(resumed, now=dt.datetime(2026, 11, 25, 12, tzinfo=NY), calendar=US)
    assert again.due_at == resumed.due_at
    assert again.deadline_version == resumed.deadline_version


def test_mark_breached_records_once_per_deadline() -> None:
    c = make()
    assert kt.mark_breached(c, now=c.due_at) == (c, ())
    later = c.due_at + dt.timedelta(seconds=1)
    breached, events = kt.mark_breached(c, now=later)
    assert [e.kind for e in events] == ["breached"]
    assert breached.breached_at == c.due_at
    assert kt.mark_breached(breached, now=later + dt.timedelta(days=1)) == (breached, ())
    assert breached.is_overdue(later)
    assert not c.is_overdue(c.due_at)
    # a second missed deadline is recorded too, but breached_at keeps the first
    moved, _ = kt.renegotiate(breached, now=later, due=later + dt.timedelta(hours=1))
    again, events = kt.mark_breached(moved, now=later + dt.timedelta(hours=2))
    assert [e.kind for e in events] == ["breached"]
    assert again.breached_at == c.due_at


def test_a_paused_commitment_is_never_overdue() -> None:
    c = make()
    paused, _ = kt.pause(c, now=MON_10, reason="x")
    assert not paused.is_overdue(c.due_at + dt.timedelta(days=9))
    assert kt.mark_breached(paused, now=c.due_at + dt.timedelta(days=9)) == (paused, ())


def test_apply_refuses_events_out_of_order() -> None:
    c = make()
    stray = Event(seq=5, kind="kept", at=MON_10, data={"kept_at": MON_10.isoformat()})
    with pytest.raises(InvalidArgumentError):
        kc.apply(c, stray)
    with pytest.raises(InvalidArgumentError):
        kc.apply(None, stray)
    with pytest.raises(InvalidArgumentError):
        replay([])


def test_errors_are_keepword_errors_and_builtins() -> None:
    c, _ = kt.cancel(make(), now=MON_10)
    with pytest.raises(InvalidTransitionError) as err:
        kt.keep(c, now=MON_10)
    assert isinstance(err.value, KeepwordError)
    assert isinstance(err.value, ValueError)


# --------------------------------------------------------------------------- properties


@given(
    c=commitments(max_moves=2),
    ops=st.lists(operations(), max_size=12),
)
def test_random_moves_keep_the_history_and_the_invariants(
    c: Commitment, ops: list[Operation]
) -> None:
    check_consistent(c)
    now = c.history[-1].at
    for op in ops:
        now = now + op.advance
        before = c
        try:
            after, events = perform(c, op, now)
        except InvalidTransitionError:
            assert op.name not in LEGAL[c.status]
            assert c == before
            continue
        except InvalidArgumentError as exc:  # reassign to the same owner
            refused: InvalidArgumentError | None = exc
        else:
            refused = None
        if refused is not None:
            assert op.name == "reassign"
            assert refused.argument == "owner"
            assert c == before
            continue
        assert op.name in LEGAL[before.status] or op.name == "mark_breached"
        # history only grows, by exactly the returned events, state == replay(history)
        assert after.history[: len(before.history)] == before.history
        assert after.history[len(before.history) :] == events
        check_consistent(after)
        # versions and deadline versions never go down; a move with events bumps version by 1
        assert after.version == before.version + (1 if events else 0)
        assert after.deadline_version >= before.deadline_version
        # a breach is never cleared or rewritten
        if before.breached_at is not None:
            assert after.breached_at == before.breached_at
        # a pause never shortens a deadline
        if op.name == "resume" or (op.name == "keep" and before.status is Status.PAUSED):
            assert after.due_at >= before.due_at
        if after.due_at != before.due_at:
            assert after.deadline_version > before.deadline_version
        # the deadline is always what the spec, the anchor and the pauses say
        assert kt.recompute_due(after, after.calendar) == after.due_at
        # closing fields are coherent
        assert (after.closed_at is not None) == after.status.is_final
        assert (after.paused_at is not None) == (after.status is Status.PAUSED)
        if after.status is Status.KEPT:
            assert after.lateness is not None
            assert after.lateness >= dt.timedelta(0)
            if after.on_time:
                assert after.lateness == dt.timedelta(0)
            else:
                assert after.breached_at is not None
        c = after


@given(c=commitments(calendars=calendars(2019, 2032), max_moves=4))
def test_commitments_on_any_calendar_keep_their_invariants(c: Commitment) -> None:
    check_consistent(c)
    assert kt.recompute_due(c, c.calendar) == c.due_at
    assert c.due_at >= c.made_at


@given(c=commitments())
def test_drawn_commitments_replay_to_themselves(c: Commitment) -> None:
    check_consistent(c)
    assert replay(c.history) == attrs.evolve(c, version=1)
    hash(c)


@given(c=commitments(version=1, statuses=frozenset({Status.KEPT})))
def test_the_status_filter_and_forced_version(c: Commitment) -> None:
    assert c.version == 1
    assert c.status is Status.KEPT or len(c.history) > 1


@given(value=identifiers())
def test_drawn_identifiers_are_accepted(value: str) -> None:
    assert check_identifier(value, "x") == value


@given(terms=json_objects())
def test_json_terms_round_trip_through_json(terms: dict[str, object]) -> None:
    frozen = freeze_json(terms, "terms")
    assert frozen == terms
    assert json.loads(json.dumps(frozen)) == frozen
    hash(frozen)


# --------------------------------------------------------------------------- ids and queries


@given(
    a=st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9000, 1, 1)),
    step=st.integers(1, 10**12),
)
def test_ids_sort_by_time(a: dt.datetime, step: int) -> None:
    t = a.replace(tzinfo=dt.UTC)
    first, second = new_id(t), new_id(t + dt.timedelta(microseconds=step))
    assert first < second
    assert len(first) == 36
    assert first == first.lower()
    assert new_id(t) != new_id(t)


def test_ids_refuse_naive_and_pre_epoch_times() -> None:
    with pytest.raises(NaiveDatetimeError):
        new_id(dt.datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError):
        new_id(dt.datetime(1969, 12, 31, tzinfo=dt.UTC))


def test_query_validation() -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert Query(due_after=t, due_before=t).due_after == t
    for kwargs, argument in [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": True}, "limit"),
        ({"due_after": t, "due_before": t - dt.timedelta(1)}, "due_after"),
        ({"statuses": []}, "statuses"),
        ({"statuses": ["done"]}, "statuses"),
        ({"order": "id"}, "order"),
        ({"customer": ""}, "customer"),
    ]:
        with pytest.raises(InvalidArgumentError) as err:
            Query(**kwargs)  # type: ignore[arg-type]
        assert err.value.argument == argument, kwargs
    with pytest.raises(NaiveDatetimeError):
        Query(due_before=dt.datetime(2026, 1, 1))
    assert Query(statuses=["open", Status.KEPT]).statuses == frozenset({Status.OPEN, Status.KEPT})


def test_query_matches_and_sorts() -> None:
    c = make()
    assert Query(customer="acct-42", statuses=Status.OPEN).matches(c)
    assert not Query(due_before=c.due_at).matches(c)
    assert Query(due_after=c.due_at).matches(c)
    assert Query(order="made_at").sort_key(c) == (c.made_at, c.id)
