"""The store state machine's data, outcomes and whole-state invariants.

Private to :mod:`keepword.testing.stateful`, kept apart for length: the
values the rules draw from, how an outcome is compared, and the invariants
checked after every step (a mixin of :class:`StoreStateMachine`).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import invariant

from keepword import commitment as _c
from keepword.calendar import BusinessCalendar, Within, within
from keepword.commitment import Commitment, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    NaiveDatetimeError,
    NotFoundError,
    StoreError,
)
from keepword.escalation import (
    EscalationPolicy,
    Step,
    after_due,
    at_due,
    before_due,
    elapsed,
)
from keepword.ports import Query, Store
from keepword.stores.memory import MemoryStore
from keepword.testing.contract._support import notice_content

_REFS = ("order-1", "order-2", "Order-1", "order-1 ", "ordér-1")
_CUSTOMERS = ("acct-42", "acct-43", "O'Brien'; DROP TABLE x; --")
_OWNERS = ("alice", "bob", "ёve", "👍🏽")
_WAITING = (None, "sku:FIG-1", "sku:fig-1")
_RESOURCES = ("sku:FIG-1", "sku:fig-1")
_KINDS = ("reply", "call", "thanks")
_TEXT = st.sampled_from(
    ("", "Email the price list", "' OR '1'='1", "100% \\ _done_", "é vs e\u0301", "🎉" * 3)
) | st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20)
_REASONS = st.sampled_from(("waiting on the customer", "out of stock; DROP", "ça ne va pas"))
_ACTORS = st.sampled_from((None, "alice", "system"))

# Escalation policies commitments are made under (None: no steps, only the breach tick).
_POLICIES: tuple[EscalationPolicy | None, ...] = (
    None,
    EscalationPolicy(
        "remind",
        steps=[Step(before_due(hours=1)), Step(at_due(), notify="manager")],
    ),
    EscalationPolicy(
        "ladder",
        steps=[
            Step(elapsed(0.5)),
            Step(before_due(business_hours=2), quiet=True, name="heads-up ' --"),
            Step(at_due(), notify="manager", action="raise_priority"),
            Step(after_due(business_hours=4), notify="director", action="reassign"),
        ],
    ),
    EscalationPolicy(
        "nag",
        steps=[Step(after_due(minutes=30), every=_dt.timedelta(hours=8), times=3)],
    ),
)
# Touchpoints: customers that differ by one code point, the kinds the aggregates
# read (and one differing by case), refs a webhook retries.
_TOUCH_CUSTOMERS = ("acct-42", "Acct-42", "acct-43", "\u00e9", "e\u0301", "O'Brien'; --")
_TOUCH_KINDS = ("thank_you", "extra_mile", "received", "Thank_you")
_TOUCH_REFS = (None, None, "mail-1", "mail-2", "Mail-1")
_LEASE = _dt.timedelta(hours=1)
"""A lease no step outlives: claims held across steps stay held."""
_CRASH_LEASE = _dt.timedelta(milliseconds=2)
_CRASH_WAIT = 0.03
"""Seconds a crashed claim's step waits: by then its lease has expired on any clock."""
_ALL = 1_000_000
_ENDINGS = frozenset({"kept", "failed", "cancelled"})

# The order matters: the first class an error is an instance of is its "kind".
_ERROR_KINDS: tuple[type[KeepwordError], ...] = (
    ConflictError,
    NotFoundError,
    InvalidTransitionError,
    NaiveDatetimeError,
    InvalidArgumentError,
    StoreError,
    KeepwordError,
)


@functools.cache
def _calendars() -> tuple[BusinessCalendar, ...]:
    # Shared by every run: a calendar caches the years it has computed.
    return (
        BusinessCalendar.always_open("UTC"),
        BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US"),
        BusinessCalendar(
            tz="Europe/Stockholm",
            hours="Mon-Fri 08:00-12:00,13:00-16:30; Sat 10:00-14:00",
            country="SE",
        ),
    )


# Strategies are built once: building one per draw costs more than drawing from it.
_SPECS: st.SearchStrategy[Within] = st.one_of(
    st.integers(0, 72).map(lambda n: within(hours=n)),
    st.integers(0, 40).map(lambda n: within(business_hours=n)),
    st.integers(0, 10).map(lambda n: within(business_days=n)),
    st.integers(0, 14).map(lambda n: within(days=n)),
)
_OFFSETS: st.SearchStrategy[_dt.timedelta] = st.builds(
    lambda days, minutes, us: _dt.timedelta(days=days, minutes=minutes, microseconds=us),
    st.integers(0, 6),
    st.integers(0, 24 * 60),
    st.integers(0, 999_999),
)
_DUES: st.SearchStrategy[Within | _dt.timedelta] = st.one_of(_SPECS, _OFFSETS)
_TAGS = st.lists(st.sampled_from(("vip", "VIP", "backorder")), max_size=2)
_TERMS = st.dictionaries(st.sampled_from(("price", "qty", "note")), _TEXT | st.integers())
_MAYBE_OFFSET = st.none() | _OFFSETS
_MAYBE_REASON = st.none() | _REASONS
_STATUS_SETS = st.frozensets(st.sampled_from(Status), min_size=1)
_LIMITS = st.none() | st.integers(1, 5)
_FILTERS = st.sets(
    st.sampled_from(("customer", "owner", "kind", "statuses", "due", "waiting_for", "ref")),
    max_size=2,
)


# Filtered queries every tenant is probed with after each step.
_PROBES = (
    Query(),
    Query(customer=_CUSTOMERS[0]),
    Query(owner=_OWNERS[0]),
    Query(kind=_KINDS[0]),
    Query(external_ref=_REFS[0]),
    Query(statuses={Status.OPEN}),
    Query(waiting_for=_WAITING[1]),
)


def _due(drawn: Within | _dt.timedelta, now: _dt.datetime) -> Within | _dt.datetime:
    return now + drawn if isinstance(drawn, _dt.timedelta) else drawn


@attrs.frozen
class _Outcome:
    """What one call did: returned ``value``, or raised ``error``."""

    value: Any = None
    error: BaseException | None = None

    @property
    def kind(self) -> str | None:
        if self.error is None:
            return None
        for cls in _ERROR_KINDS:
            if isinstance(self.error, cls):
                return cls.__name__
        return type(self.error).__name__


def _describe(outcome: _Outcome) -> str:
    if outcome.error is not None:
        return f"raised {outcome.error!r}"
    return f"returned {outcome.value!r}"


def _run(op: Callable[[Store], Any], store: Store) -> _Outcome:
    try:
        return _Outcome(value=op(store))
    except KeepwordError as exc:
        return _Outcome(error=exc)


class StoreInvariants:
    """The whole-state checks the store state machine runs after every step."""

    store: Store
    model: MemoryStore
    tenants: tuple[str, str]
    seen: dict[str, Commitment]
    notice_of_key: dict[tuple[str, str], str]

    def _saw(self, tenant: str, notices: Any) -> None:
        """Record each notice's key: a second notice id for one key is a duplicate."""
        for n in notices:
            key = (tenant, n["idempotency_key"])
            first = self.notice_of_key.setdefault(key, n["id"])
            assert first == n["id"], (
                f"two notices for idempotency key {key[1]!r} in {tenant}: {first} and {n['id']}"
            )

    @invariant()
    def stores_agree(self) -> None:
        """Both stores hold the same commitments, tenant by tenant, in the same order."""
        for tenant in self.tenants:
            want = self.model.find(tenant, Query())
            got = self.store.find(tenant, Query())
            assert [c.id for c in got] == [c.id for c in want], (
                f"divergence: {tenant} holds {[c.id for c in got]}, "
                f"MemoryStore {[c.id for c in want]}"
            )
            for g, w in zip(got, want, strict=True):
                assert g == w, f"divergence in {w.id}:\n store {g!r}\n model {w!r}"
            assert self.store.count(tenant, Query()) == len(want)
            for w in want:
                assert self.store.get(tenant, w.id) == w, f"divergence: get({w.id})"

    @invariant()
    def tenants_never_mix(self) -> None:
        """Each tenant sees only its own, whatever the filter; the other's ids are not found."""
        a, b = self.tenants
        for tenant, other in ((a, b), (b, a)):
            for query in _PROBES:
                got = self.store.find(tenant, query)
                strangers = [c.id for c in got if c.tenant != tenant]
                assert not strangers, f"find({tenant}, {query!r}) returns {other}'s {strangers}"
                assert self.store.count(tenant, query) == self.model.count(tenant, query), (
                    f"divergence: count({tenant}, {query!r})"
                )
            for c in self.store.find(tenant, Query()):
                try:
                    leaked = self.store.get(other, c.id)
                except NotFoundError:
                    continue
                raise AssertionError(f"{other} can read {tenant}'s {c.id}: {leaked!r}")

    @invariant()
    def histories_replay_to_state(self) -> None:
        """Every commitment is what its history says."""
        for tenant in self.tenants:
            for c in self.store.find(tenant, Query()):
                assert _c.replay(c.history, version=c.version) == c, (
                    f"{c.id}: state differs from the replay of its history"
                )

    @invariant()
    def versions_grow_and_breaches_stay(self) -> None:
        """Versions and histories only grow; a recorded breach is never cleared."""
        for tenant in self.tenants:
            for c in self.store.find(tenant, Query()):
                before = self.seen.get(c.id)
                if before is not None:
                    assert c.version >= before.version, f"{c.id}: version went back"
                    assert c.history[: len(before.history)] == before.history, (
                        f"{c.id}: history rewritten"
                    )
                    if before.breached_at is not None:
                        assert c.breached_at == before.breached_at, f"{c.id}: breach cleared"
                self.seen[c.id] = c

    @invariant()
    def outboxes_agree(self) -> None:
        """Both stores hold the same deliverable notices, oldest first, and the same next step."""
        for tenant in self.tenants:
            want = [notice_content(n) for n in self.model.pending_notices(tenant, limit=_ALL)]
            got = [notice_content(n) for n in self.store.pending_notices(tenant, limit=_ALL)]
            assert [n["id"] for n in got] == [n["id"] for n in want], (
                f"divergence: {tenant}'s pending notices {[n['id'] for n in got]}, "
                f"MemoryStore {[n['id'] for n in want]}"
            )
            assert got == want, f"divergence in {tenant}'s pending notices"
            self._saw(tenant, got)
            keys = [n["idempotency_key"] for n in got]
            assert len(keys) == len(set(keys)), f"{tenant}: two pending notices share a key"
            want_at = self.model.next_action_at(tenant)
            assert self.store.next_action_at(tenant) == want_at, (
                f"divergence: next_action_at({tenant}) {self.store.next_action_at(tenant)!r}, "
                f"MemoryStore {want_at!r}"
            )

    @invariant()
    def no_notice_after_the_end(self) -> None:
        """No notice was fired after its commitment ended (kept, failed or cancelled)."""
        for tenant in self.tenants:
            for n in self.store.pending_notices(tenant, limit=_ALL):
                c = self.store.get(tenant, n.commitment_id)
                if not c.status.is_final:
                    continue
                ended = next(e for e in reversed(c.history) if e.kind in _ENDINGS)
                assert n.fired_at <= ended.at, (
                    f"notice {n.id} fired at {n.fired_at}, after {c.id} ended at {ended.at}"
                )
