"""The hostile strategies draw what keepword accepts, or what it must refuse.

Every value a valid strategy draws is accepted by the pure constructor
(``keepword.transitions.promise``) and by ``Tracker.promise`` on a
MemoryStore, and read back unchanged; every value an invalid strategy draws
is refused with an ``InvalidArgumentError`` naming the argument.  A SQLite
``SqlStore`` reads hostile values back byte-exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keepword as kw
from keepword import transitions as kt
from keepword._ids import new_id
from keepword._instant import to_utc
from keepword._json import MAX_JSON_DEPTH
from keepword.clock import FrozenClock
from keepword.commitment import MAX_PRIORITY, Commitment, replay
from keepword.errors import InvalidArgumentError
from keepword.stores.memory import MemoryStore
from keepword.testing.strategies import (
    boundary_datetimes,
    boundary_ints,
    boundary_priorities,
    commitments,
    deep_terms,
    hostile_identifiers,
    hostile_texts,
    invalid_identifiers,
    invalid_texts,
)

T0 = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)
DUE = T0 + dt.timedelta(days=2)
CAL = kw.BusinessCalendar(tz="UTC", hours="Daily 00:00-24:00")
GOOD: dict[str, Any] = {
    "customer": "acct-42",
    "owner": "alice",
    "kind": "reply",
    "what": "Email the price list",
    "due": DUE,
}
IDENTIFIER_FIELDS = ("customer", "owner", "kind", "external_ref", "waiting_for", "actor")
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _promise(**changes: Any) -> Commitment:
    """A promise made with the pure constructor, ``GOOD`` overridden by ``changes``."""
    args = {"tenant": "default", "now": T0, "calendar": CAL, **GOOD, **changes}
    c, _ = kt.promise(id=new_id(T0), **args)  # ids are time-ordered from 1970: any id will do
    return c


def _field(c: Commitment, field: str) -> Any:
    """The stored value of a promise argument (``actor`` lives on the first event)."""
    return c.history[0].actor if field == "actor" else getattr(c, field)


def _tracker() -> kw.Tracker:
    return kw.Tracker(MemoryStore(), calendar=CAL, clock=FrozenClock(T0))


def _refused(argument: str, call: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert info.value.argument == argument, str(info.value)


# --------------------------------------------------------------------------- accepted


@QUICK
@given(field=st.sampled_from(IDENTIFIER_FIELDS), value=hostile_identifiers())
def test_hostile_identifiers_are_accepted_and_kept(field: str, value: str) -> None:
    assert 1 <= len(value) <= 255
    c = _promise(**{field: value})
    assert _field(c, field) == value
    t = _tracker()
    stored = t.promise(**{**GOOD, field: value})
    assert _field(t.get(stored.id), field) == value


@QUICK
@given(tag=hostile_identifiers(), tenant=hostile_identifiers())
def test_hostile_identifiers_are_accepted_as_tags_and_tenants(tag: str, tenant: str) -> None:
    c = _promise(tags=[tag], tenant=tenant)
    assert c.tags == (tag,)
    assert c.tenant == tenant
    t = kw.Tracker(MemoryStore(), calendar=CAL, clock=FrozenClock(T0), tenant=tenant)
    stored = t.promise(**GOOD, tags=[tag])
    assert t.get(stored.id).tags == (tag,)


@QUICK
@given(what=hostile_texts(), reason=hostile_texts())
def test_hostile_texts_are_accepted_and_kept(what: str, reason: str) -> None:
    c = _promise(what=what)
    assert c.what == what
    t = _tracker()
    stored = t.promise(**{**GOOD, "what": what})
    assert t.get(stored.id).what == what
    cancelled, _ = kt.cancel(c, now=T0, reason=reason)
    assert cancelled.history[-1].data.get("reason") == reason


@QUICK
@given(terms=deep_terms())
def test_deep_terms_are_accepted_and_one_level_more_is_refused(terms: dict[str, Any]) -> None:
    c = _promise(terms=terms)
    assert c.terms == terms
    t = _tracker()
    assert t.get(t.promise(**GOOD, terms=terms).id).terms == terms
    deeper: Any = terms
    for _ in range(MAX_JSON_DEPTH):
        deeper = {"k": deeper}
    _refused("terms", lambda: _promise(terms=deeper))


def test_deep_terms_reach_the_depth_limit() -> None:
    def depth(value: Any) -> int:
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        return 0

    seen: set[int] = set()

    @settings(max_examples=60, deadline=None)
    @given(deep_terms())
    def record(terms: dict[str, Any]) -> None:
        seen.add(depth(terms))
        _promise(terms=terms)

    record()
    assert MAX_JSON_DEPTH in seen
    assert max(seen) == MAX_JSON_DEPTH


@QUICK
@given(priority=boundary_ints())
def test_boundary_priorities_are_accepted_inside_the_range_and_refused_outside(
    priority: int,
) -> None:
    if 0 <= priority <= MAX_PRIORITY:
        assert _promise(priority=priority).priority == priority
        assert _tracker().promise(**GOOD, priority=priority).priority == priority
    else:
        _refused("priority", lambda: _promise(priority=priority))
        _refused("priority", lambda: _tracker().promise(**GOOD, priority=priority))


def test_boundary_priorities_include_both_ends() -> None:
    drawn: set[int] = set()

    @settings(max_examples=80, deadline=None)
    @given(boundary_priorities())
    def record(p: int) -> None:
        drawn.add(p)

    record()
    assert {0, MAX_PRIORITY} <= drawn
    assert all(0 <= p <= MAX_PRIORITY for p in drawn)


@QUICK
@given(moment=boundary_datetimes())
def test_boundary_datetimes_are_accepted_as_promise_instants(moment: dt.datetime) -> None:
    utc = to_utc(moment, "now")
    assert (
        dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
        <= utc
        <= dt.datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    )
    c = _promise(now=moment, due=moment)
    assert c.made_at == utc
    assert c.due_at == utc
    assert replay(c.history, version=c.version) == c


@settings(max_examples=25, deadline=None)
@given(c=commitments(version=1, max_moves=0))
def test_hostile_commitments_round_trip_through_the_memory_store(c: Commitment) -> None:
    store = MemoryStore()
    _stored, created = store.add(c)
    assert created
    assert store.get(c.tenant, c.id) == c


# --------------------------------------------------------------------------- refused


@QUICK
@given(field=st.sampled_from(IDENTIFIER_FIELDS[:3]), value=invalid_identifiers())
def test_invalid_identifiers_are_refused_naming_the_argument(field: str, value: str) -> None:
    _refused(field, lambda: _promise(**{field: value}))
    _refused(field, lambda: _tracker().promise(**{**GOOD, field: value}))


@QUICK
@given(value=invalid_texts())
def test_invalid_texts_are_refused_naming_the_argument(value: str) -> None:
    _refused("what", lambda: _promise(what=value))
    _refused("what", lambda: _tracker().promise(**{**GOOD, "what": value}))
    _refused("reason", lambda: kt.cancel(_promise(), now=T0, reason=value))


@QUICK
@given(value=invalid_texts())
def test_invalid_texts_are_refused_inside_terms(value: str) -> None:
    _refused("terms", lambda: _tracker().promise(**GOOD, terms={"note": [value]}))


# --------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="module")
def sqlite_store() -> Iterator[kw.SqlStore]:
    store = kw.SqlStore("sqlite://")
    store.create_schema()
    try:
        yield store
    finally:
        store.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=hostile_identifiers(),
    what=hostile_texts(),
    tag=hostile_identifiers(),
    terms=deep_terms(max_depth=6),
    priority=boundary_priorities(),
)
def test_sqlite_reads_hostile_values_back_byte_exact(
    sqlite_store: kw.SqlStore,
    who: str,
    what: str,
    tag: str,
    terms: dict[str, Any],
    priority: int,
) -> None:
    t = kw.Tracker(sqlite_store, calendar=CAL, clock=FrozenClock(T0), tenant=who)
    made = t.promise(
        customer=who,
        owner=who,
        kind="reply",
        what=what,
        due=DUE,
        tags=[tag],
        terms=terms,
        priority=priority,
    )
    back = t.get(made.id)
    assert back == made
    assert back.customer.encode("utf-8") == who.encode("utf-8")
    assert back.what.encode("utf-8") == what.encode("utf-8")
    assert [x.encode("utf-8") for x in back.tags] == [tag.encode("utf-8")]
    assert back.terms == terms
    assert back.priority == priority
