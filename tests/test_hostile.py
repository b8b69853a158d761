"""Hostile input through the Tracker, on every store: a named KeepwordError, and nothing written.

Each row is one bad call and the argument its error must name.  Before and
after the call the test reads the tenant's whole state back (every
commitment with its history, every pending notice): a refused call leaves it
exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

import keepword as kw

T0 = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)  # Mon 10:00 in New York
CAL = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
POLICY = kw.EscalationPolicy("p", steps=[kw.Step(kw.at_due(), notify="manager")])
NAIVE = dt.datetime(2026, 11, 24, 12)
FAR = dt.datetime(2300, 1, 1, tzinfo=dt.UTC)
GOOD = {
    "customer": "acct-42",
    "owner": "alice",
    "kind": "reply",
    "what": "Email the price list",
    "due": kw.within(business_days=3),
}


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _promise(**changes: Any) -> Callable[[kw.Tracker, kw.Commitment], object]:
    return lambda t, c: t.promise(**{**GOOD, **changes})


CASES: list[tuple[str, Callable[[kw.Tracker, kw.Commitment], object], str | None]] = [
    ("empty customer", _promise(customer=""), "customer"),
    ("surrogate customer", _promise(customer="\ud800"), "customer"),
    ("long customer", _promise(customer="x" * 256), "customer"),
    ("owner None", _promise(owner=None), "owner"),
    ("NUL in what", _promise(what="a\x00b"), "what"),
    ("naive due", _promise(due=NAIVE), "due"),
    ("due as text", _promise(due="tomorrow"), "due"),
    ("due past 2199", _promise(due=FAR), "due"),
    ("tags as int", _promise(tags=5), "tags"),
    ("tags as one str", _promise(tags="vip"), "tags"),
    ("NUL tag", _promise(tags=["a\x00"]), "tags"),
    ("negative priority", _promise(priority=-1), "priority"),
    ("bool priority", _promise(priority=True), "priority"),
    ("huge priority", _promise(priority=2**31), "priority"),
    ("terms as list", _promise(terms=[1]), "terms"),
    ("terms too deep", _promise(terms=_deep(40)), "terms"),
    ("NaN in terms", _promise(terms={"price": float("nan")}), "terms"),
    ("long external_ref", _promise(external_ref="r" * 256), "external_ref"),
    ("empty waiting_for", _promise(waiting_for=""), "waiting_for"),
    ("unknown argument", lambda t, c: t.promise_many([{**GOOD, "bogus": 1}]), "items[0]"),
    ("missing argument", lambda t, c: t.promise_many([{"customer": "a"}]), "items[0]"),
    ("items as text", lambda t, c: t.promise_many("abc"), "items"),  # type: ignore[arg-type]
    (
        "second item bad",
        lambda t, c: t.promise_many([GOOD, {**GOOD, "customer": ""}]),
        "customer",
    ),
    ("keep at naive", lambda t, c: t.keep(c, at=NAIVE), "at"),
    ("keep in the future", lambda t, c: t.keep(c, at=t.now() + dt.timedelta(days=1)), "at"),
    ("keep empty id", lambda t, c: t.keep(""), "commitment"),
    ("keep an int", lambda t, c: t.keep(5), "commitment"),  # type: ignore[arg-type]
    ("keep an unknown id", lambda t, c: t.keep("nope"), None),
    ("pause NUL reason", lambda t, c: t.pause(c, reason="a\x00"), "reason"),
    ("renegotiate past 2199", lambda t, c: t.renegotiate(c, due=FAR), "due"),
    ("renegotiate naive", lambda t, c: t.renegotiate(c, due=NAIVE), "due"),
    ("reassign empty owner", lambda t, c: t.reassign(c, owner=""), "owner"),
    ("retarget to a str", lambda t, c: t.retarget(c, calendar="UTC"), "calendar"),  # type: ignore[arg-type]
    ("find limit 0", lambda t, c: t.find(limit=0), "limit"),
    ("find unknown filter", lambda t, c: t.find(owenr="alice"), "owenr"),
    ("find bad status", lambda t, c: t.find(statuses="lost"), "statuses"),
    ("find naive bound", lambda t, c: t.find(due_after=NAIVE), "due_after"),
    ("count bad order", lambda t, c: t.count(order="owner"), "order"),
    ("due negative", lambda t, c: t.due(within=-dt.timedelta(seconds=1)), "within"),
    ("due as text", lambda t, c: t.due(within="soon"), "within"),  # type: ignore[arg-type]
    ("due naive until", lambda t, c: t.due(until=NAIVE), "until"),
    ("due past 2199", lambda t, c: t.due(within=kw.within(days=100_000)), "within"),
    ("tick limit 0", lambda t, c: t.tick(limit=0), "limit"),
    ("tick naive now", lambda t, c: t.tick(NAIVE), "now"),
    ("claim limit 0", lambda t, c: t.claim_notices(0), "limit"),
    ("claim zero lease", lambda t, c: t.claim_notices(lease=dt.timedelta(0)), "lease"),
    ("ack ids as int", lambda t, c: t.ack_notices(5, "tok"), "ids"),  # type: ignore[arg-type]
    ("ack one str", lambda t, c: t.ack_notices("abc", "tok"), "ids"),
    ("ack empty token", lambda t, c: t.ack_notices(["a"], ""), "token"),
    ("release NUL id", lambda t, c: t.release_notices(["\x00"], "tok"), "ids[0]"),
    ("dispatch limit 0", lambda t, c: t.dispatch(print, limit=0), "limit"),
]


def _state(tracker: kw.Tracker) -> tuple[object, ...]:
    """Everything the tenant has, as stored."""
    commitments = tuple((c, c.history) for c in tracker.find(order="made_at"))
    return commitments, tuple(tracker.pending_notices(limit=1000))


@pytest.mark.parametrize(
    ("call", "argument"), [(c, a) for _, c, a in CASES], ids=[n for n, _, _ in CASES]
)
def test_a_bad_call_names_its_argument_and_writes_nothing(
    store: kw.Store, call: Callable[[kw.Tracker, kw.Commitment], object], argument: str | None
) -> None:
    clock = kw.FrozenClock(T0)
    tracker = kw.Tracker(store, calendar=CAL, tenant="shop-7", clock=clock, policies=POLICY)
    c = tracker.promise(**GOOD, external_ref="mail-1", tags=["vip"], terms={"price": 10})
    tracker.tick(clock.advance(days=5))
    before = _state(tracker)

    with pytest.raises(kw.KeepwordError) as caught:
        call(tracker, tracker.get(c.id))

    if argument is not None:
        assert caught.value.argument == argument, str(caught.value)
    assert _state(tracker) == before


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: kw.Tracker(s, calendar="UTC"), "calendar"),
        (lambda s: kw.Tracker(s, calendar=CAL, tenant=""), "tenant"),
        (lambda s: kw.Tracker(s, calendar=CAL, tenant="a\x00"), "tenant"),
        (lambda s: kw.Tracker(s, calendar=CAL, clock=5), "clock"),
        (lambda s: kw.Tracker(s, calendar=CAL, policies=["x"]), "policies[0]"),
        (lambda s: kw.Tracker(s, calendar=CAL, lease=dt.timedelta(0)), "lease"),
        (lambda s: kw.Tracker(s, calendar=CAL, late_after=5), "late_after"),
        (lambda s: kw.Tracker(s, calendar=CAL, calendar_for=5), "calendar_for"),
        (lambda s: kw.Tracker(object(), calendar=CAL), "store"),
    ],
    ids=[
        "calendar",
        "empty tenant",
        "NUL tenant",
        "clock",
        "policies",
        "lease",
        "late_after",
        "calendar_for",
        "store",
    ],
)
def test_a_bad_tracker_names_its_argument(
    store: kw.Store, build: Callable[[kw.Store], object], argument: str
) -> None:
    with pytest.raises(kw.KeepwordError) as caught:
        build(store)
    assert caught.value.argument == argument, str(caught.value)


def test_due_within_the_largest_timedelta_lists_every_open_commitment(store: kw.Store) -> None:
    tracker = kw.Tracker(store, calendar=CAL, tenant="shop-7", clock=kw.FrozenClock(T0))
    c = tracker.promise(**GOOD)
    assert [x.id for x in tracker.due(within=dt.timedelta.max)] == [c.id]
