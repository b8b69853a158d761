"""A Hypothesis state machine that drives any store and ``MemoryStore`` side by side.

Every step does the same thing to the store under test and to a fresh
:class:`~keepword.stores.memory.MemoryStore` (the oracle) and demands the same
outcome: the same value, or the same kind of error.
The steps are what a tracker does to a store: promise (one or a batch, with
webhook retries of one external reference), keep, fail, cancel, pause,
resume, renegotiate, reassign, retarget and breach (the pure transitions of
:mod:`keepword.commitment`), plus stale writes, malformed writes, probes
from the other tenant, queries, clock moves and, when you give a hook, a
store reopen.  Commitments are made under escalation policies, and the
tick's steps run too: ``claim_due`` + :func:`~keepword.transitions.escalate` +
``fire`` (some ticks re-send notices already fired, some hold their claim
across other steps, some crash and drop it), and the outbox's
``claim_notices``, ``ack_notices`` and ``release_notices`` (and a consumer
that crashes holding its claim).  On a store that declares the
``"touchpoints"`` port, touchpoints are added too (webhook retries of one
ref, reused ids, hostile customers) and every query of that port is asked
of both stores.
After every step the invariants check the whole state:

- both stores hold exactly the same commitments in each tenant (divergences = 0);
- every commitment's history replays to its state;
- versions only grow and histories only get longer;
- a recorded breach is never cleared;
- tenants never mix: each tenant sees only its own, the other's ids are not found;
- both stores hold the same deliverable notices, oldest first, and agree on
  ``next_action_at``;
- at most one notice per idempotency key, and none fired after its
  commitment ended;
- both stores hold the same touchpoints in each tenant, and agree on who is
  owed thanks, who is next for an extra mile and who went quiet.

Crashed claims use a lease of a few milliseconds and the step then waits
(about 30 ms of real time) until it has surely expired, by any clock.

Run it from a pytest test:

.. code-block:: python

    from keepword.testing.stateful import run_store_state_machine

    def test_my_store_behaves_like_memory_store():
        run_store_state_machine(lambda: MyStore(...))

or subclass :class:`StoreStateMachine` and expose its ``TestCase``.
The machine works in two fresh tenants of its own (random names), so
``make_store`` may hand back the same database each run.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.commitment import Commitment, Event, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    NotFoundError,
)
from keepword.notice import Notice
from keepword.ports import Query, Store, declared_ports
from keepword.stores.memory import MemoryStore
from keepword.testing._fire import fire_one
from keepword.testing._stateful_support import (
    _ACTORS,
    _CRASH_LEASE,
    _CRASH_WAIT,
    _CUSTOMERS,
    _DUES,
    _FILTERS,
    _KINDS,
    _LEASE,
    _LIMITS,
    _MAYBE_OFFSET,
    _MAYBE_REASON,
    _OWNERS,
    _POLICIES,
    _REASONS,
    _REFS,
    _RESOURCES,
    _STATUS_SETS,
    _TAGS,
    _TERMS,
    _TEXT,
    _TOUCH_CUSTOMERS,
    _TOUCH_KINDS,
    _TOUCH_REFS,
    _WAITING,
    StoreInvariants,
    _calendars,
    _describe,
    _due,
    _run,
)
from keepword.testing.contract._support import notice_content
from keepword.touchpoint import Touchpoint

__all__ = [
    "DEFAULT_SETTINGS",
    "StoreStateMachine",
    "default_settings",
    "run_store_state_machine",
    "store_state_machine",
]

MakeStore = Callable[[], Store]
"""Builds the store under test (empty, or at least empty in fresh tenants)."""

Reopen = Callable[[Store], Store]
"""Closes a store and opens it again on the same data; returns the new one."""

START = _dt.datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=_dt.UTC)
"""The instant the machine's clock starts at (Monday, inside US business hours)."""


class StoreStateMachine(StoreInvariants, RuleBasedStateMachine):
    """Drives the store :meth:`make_store` builds and a ``MemoryStore`` in lockstep.

    Override :meth:`make_store` (required) and :meth:`reopen` (optional: a
    store that persists should close itself and open again on the same data)
    and, if the store must not be closed between runs, :meth:`close_store`.
    Then run ``YourMachine.TestCase`` (a ``unittest.TestCase`` pytest
    collects) or call :func:`hypothesis.stateful.run_state_machine_as_test`.

    Every operation and its outcome is written with :func:`hypothesis.note`,
    so a failure prints the shortest sequence of steps that reproduces it.

    Attributes:
        store: the store under test.
        model: the ``MemoryStore`` oracle.
        now: the machine's clock (only moves forward).
        tenants: the two tenants used, with fresh random names.
    """

    supports_reopen: ClassVar[bool] = False
    """True when :meth:`reopen` is overridden (set by :func:`store_state_machine`)."""

    def __init__(self) -> None:
        super().__init__()
        self.store: Store = self.make_store()
        self.model = MemoryStore()
        self.now = START
        run = uuid.uuid4()
        self.tenants = (f"tenant-a-{run.hex[:8]}", f"tenant-b-{run.hex[:8]}")
        self._run_bits = run.int & ((1 << 40) - 1)
        self._made = 0
        self.calendars = _calendars()
        self._tenant_choice = st.sampled_from(self.tenants)
        self._calendar_choice = st.sampled_from(self.calendars)
        # every (tenant, id) stored, and older versions kept for stale writes
        self.keys: list[tuple[str, str]] = []
        self.stale: list[Commitment] = []
        # the last state seen of each commitment, for the monotonicity invariants
        self.seen: dict[str, Commitment] = {}
        # the tick and the outbox: notices fired per commitment (to re-send),
        # the tokens of claims held across steps (keyed by id(store)), the
        # notice id seen for each (tenant, idempotency_key)
        self.fired: dict[str, list[Notice]] = {}
        self.held_ticks: list[tuple[str, dict[int, str], list[Commitment]]] = []
        self.held_notices: list[tuple[str, dict[int, str], list[str]]] = []
        self.notice_of_key: dict[tuple[str, str], str] = {}
        # the touchpoints port: every (tenant, id) stored, and the stored ones with a ref
        self.touch_keys: list[tuple[str, str]] = []
        self.touch_with_ref: list[Touchpoint] = []

    # ------------------------------------------------------------------ hooks

    def make_store(self) -> Store:
        """Build the store under test.  Override me."""
        raise NotImplementedError("subclass StoreStateMachine and override make_store()")

    def reopen(self, store: Store) -> Store:
        """Close ``store`` and open it again on the same data.  Override to enable.

        Set ``supports_reopen = True`` on the subclass when you do.
        """
        raise NotImplementedError("this machine has no reopen hook")

    def close_store(self, store: Store) -> None:
        """Release the store at the end of a run (default: ``store.close()``)."""
        store.close()

    def teardown(self) -> None:
        """Close the store under test and the oracle."""
        try:
            self.close_store(self.store)
        finally:
            self.model.close()

    # ------------------------------------------------------------------ helpers

    def both(
        self,
        label: str,
        op: Callable[[Store], Any],
        *,
        expect: type[KeepwordError] | None = None,
    ) -> Any:
        """Run ``op`` on the oracle and on the store; fail unless both did the same.

        Returns what the oracle returned (``None`` if it raised).  With
        ``expect``, the oracle must have raised that error (a check on the
        machine itself).  Errors that are not ``KeepwordError`` propagate: a
        raw driver error reaching the caller is a failure on its own.
        """
        want = _run(op, self.model)
        got = _run(op, self.store)
        note(f"{label}: oracle -> {want.kind or 'ok'}, store -> {got.kind or 'ok'}")
        if expect is not None:
            assert isinstance(want.error, expect), (
                f"machine bug: {label} should raise {expect.__name__} on MemoryStore, got {want!r}"
            )
        assert got.kind == want.kind, (
            f"divergence in {label}: MemoryStore {_describe(want)}, the store {_describe(got)}"
        )
        if want.error is not None:
            for field in ("expected_version", "actual_version"):
                wanted = getattr(want.error, field, None)
                if wanted is not None:
                    assert getattr(got.error, field, None) == wanted, (
                        f"divergence in {label}: ConflictError.{field} "
                        f"{getattr(got.error, field, None)!r} != {wanted!r}"
                    )
            return None
        assert got.value == want.value, (
            f"divergence in {label}: store returned {got.value!r}, MemoryStore {want.value!r}"
        )
        return want.value

    def new_id(self) -> str:
        """A fresh UUIDv7-style id at ``now``, ordered by creation within a run.

        Unlike :func:`keepword._ids.new_id`, ids made in the same microsecond
        sort in the order they were made (a counter replaces most random
        bits), so a replayed run orders ties the same way; 40 random bits per
        run keep ids unique across runs on a shared database.
        """
        self._made += 1
        value = int(new_id(self.now).replace("-", ""), 16)
        value = (value >> 62 << 62) | (self._run_bits << 22) | self._made
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _pick(self, data: st.DataObject) -> Commitment:
        tenant, id = data.draw(st.sampled_from(self.keys), label="commitment")
        current: Commitment = self.both(f"get({tenant!r}, {id!r})", lambda s: s.get(tenant, id))
        return current

    def _new(self, data: st.DataObject, *, tenant: str | None = None) -> Commitment:
        draw = data.draw
        c, _ = _t.promise(
            id=self.new_id(),
            tenant=draw(self._tenant_choice, label="tenant") if tenant is None else tenant,
            customer=draw(st.sampled_from(_CUSTOMERS), label="customer"),
            owner=draw(st.sampled_from(_OWNERS), label="owner"),
            kind=draw(st.sampled_from(_KINDS), label="kind"),
            what=draw(_TEXT, label="what"),
            now=self.now,
            calendar=draw(self._calendar_choice, label="calendar"),
            due=_due(draw(_DUES, label="due"), self.now),
            external_ref=draw(st.sampled_from((None, *_REFS)), label="external_ref"),
            tags=draw(_TAGS, label="tags"),
            priority=draw(st.integers(0, 3), label="priority"),
            waiting_for=draw(st.sampled_from(_WAITING), label="waiting_for"),
            terms=draw(_TERMS, label="terms"),
            actor=draw(_ACTORS, label="actor"),
            policy=draw(st.sampled_from(_POLICIES), label="policy"),
        )
        return c

    def _write(self, label: str, old: Commitment, new: Commitment) -> None:
        """Store ``new`` over ``old`` in both; remember ``old`` for stale writes."""
        if self.both(label, lambda s: s.update(new, expected_version=old.version)) is not None:
            self.stale.append(old)

    # ------------------------------------------------------------------ rules: adding

    @rule(data=st.data())
    def promise(self, data: st.DataObject) -> None:
        """Add one new commitment; a known external reference returns the existing one."""
        c = self._new(data)
        result = self.both(f"add({c.id}, ref={c.external_ref!r})", lambda s: s.add(c))
        if result is not None and result[1]:
            self.keys.append((c.tenant, c.id))

    @rule(data=st.data(), size=st.integers(0, 4), poison=st.sampled_from(("", "batch", "stored")))
    def promise_many(self, data: st.DataObject, size: int, poison: str) -> None:
        """Add a batch; a repeated or existing id must store nothing at all."""
        batch = [self._new(data) for _ in range(size)]
        if poison == "batch" and batch:
            twin = attrs.evolve(self._new(data), id=batch[0].id, external_ref=None)
            batch.append(twin)
        elif poison == "stored" and self.keys:
            _, id = data.draw(st.sampled_from(self.keys), label="existing id")
            batch.append(attrs.evolve(self._new(data), id=id, external_ref=None))
        else:
            poison = ""
        results = self.both(
            f"add_many({len(batch)} items, poison={poison or None})",
            lambda s: s.add_many(batch),
            expect=ConflictError if poison else None,
        )
        for c, created in results or ():
            if created:
                self.keys.append((c.tenant, c.id))

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data())
    def add_an_existing_id(self, data: st.DataObject) -> None:
        """A new commitment reusing a stored id (from either tenant) is a conflict."""
        _, id = data.draw(st.sampled_from(self.keys), label="existing id")
        c = attrs.evolve(self._new(data), id=id, external_ref=None)
        self.both(f"add(existing id {id}) in {c.tenant}", lambda s: s.add(c), expect=ConflictError)

    # ------------------------------------------------------------------ rules: transitions

    @precondition(lambda self: bool(self.keys))
    @rule(
        data=st.data(),
        action=st.sampled_from(
            (
                "keep",
                "fail",
                "cancel",
                "pause",
                "resume",
                "renegotiate",
                "reassign",
                "retarget",
                "breach",
            )
        ),
    )
    def transition(self, data: st.DataObject, action: str) -> None:
        """Apply one pure transition to a stored commitment and write it with its version."""
        c = self._pick(data)
        draw = data.draw
        actor = draw(_ACTORS, label="actor")
        now = self.now
        try:
            if action == "keep":
                span = max(now - c.made_at, _dt.timedelta(0))
                back = draw(
                    st.integers(0, int(span / _dt.timedelta(microseconds=1))), label="early"
                )
                new, events = _t.keep(
                    c, now=now, kept_at=now - _dt.timedelta(microseconds=back), actor=actor
                )
            elif action == "fail":
                new, events = _t.fail(c, now=now, reason=draw(_REASONS), actor=actor)
            elif action == "cancel":
                reason = draw(_MAYBE_REASON)
                new, events = _t.cancel(c, now=now, reason=reason, actor=actor)
            elif action == "pause":
                new, events = _t.pause(c, now=now, reason=draw(_REASONS), actor=actor)
            elif action == "resume":
                new, events = _t.resume(c, now=now, actor=actor)
            elif action == "renegotiate":
                due = _due(draw(_DUES, label="new due"), now)
                new, events = _t.renegotiate(c, now=now, due=due, actor=actor)
            elif action == "reassign":
                owner = draw(st.sampled_from(_OWNERS), label="new owner")
                new, events = _t.reassign(c, now=now, owner=owner, actor=actor)
            elif action == "retarget":
                calendar = draw(self._calendar_choice, label="new calendar")
                new, events = _t.retarget(c, now=now, calendar=calendar, actor=actor)
            else:
                new, events = _t.mark_breached(c, now=now, actor=actor)
        except (InvalidTransitionError, InvalidArgumentError) as exc:
            note(f"{action} refused by the domain: {exc}")
            return
        if events:
            self._write(f"update({c.id}, {action}, v{c.version})", c, new)

    @rule()
    def sweep_breaches(self) -> None:
        """Record the breach of every open commitment now past its deadline, in both tenants."""
        for tenant in self.tenants:
            overdue = self.model.find(tenant, Query(statuses={Status.OPEN}, due_before=self.now))
            for c in overdue:
                new, events = _t.mark_breached(c, now=self.now)
                if events:
                    self._write(f"tick: breach {c.id}", c, new)

    @rule(
        step=st.sampled_from(
            (
                _dt.timedelta(microseconds=1),
                _dt.timedelta(minutes=30),
                _dt.timedelta(hours=8),
                _dt.timedelta(days=1),
                _dt.timedelta(days=4),
            )
        ),
        jitter=st.integers(0, 999_999),
    )
    def advance_clock(self, step: _dt.timedelta, jitter: int) -> None:
        """Move the clock forward, from a microsecond to about four days."""
        self.now += step + _dt.timedelta(microseconds=jitter)
        note(f"now = {self.now.isoformat()}")

    # ------------------------------------------------------------------ rules: the tick

    def _claim_due(
        self, tenant: str, limit: int, lease: _dt.timedelta
    ) -> tuple[dict[int, str], list[Commitment]]:
        """``claim_due`` on both stores; the same commitments, one token each."""
        tokens: dict[int, str] = {}

        def claim(s: Store) -> list[Commitment]:
            token, claimed = s.claim_due(
                tenant, self.now, limit=limit, lease=lease, worker="machine"
            )
            tokens[id(s)] = token
            return claimed

        claimed = self.both(f"claim_due({tenant}, {self.now}, limit={limit})", claim)
        return tokens, list(claimed or ())

    def _fire(self, tokens: dict[int, str], claimed: list[Commitment], *, resend: bool) -> None:
        """Escalate each claimed commitment (as stored now) and fire it into both stores."""
        for c in claimed:
            self._fire_one(tokens, c, resend=resend)

    def _fire_one(self, tokens: dict[int, str], c: Commitment, *, resend: bool) -> None:
        new, events, notices = _t.escalate(c, now=self.now, new_id=self.new_id)
        if resend:  # a retry re-sending what was fired before: each key stays once
            again = [attrs.evolve(n, id=self.new_id()) for n in self.fired.get(c.id, ())]
            notices = (*again, *notices)
        if not events:
            self.both(f"release({c.id})", lambda s: s.release(c.tenant, [c.id], tokens[id(s)]))
            return
        fired = self.both(
            f"fire({c.id}, v{c.version}, {len(notices)} notice(s))",
            lambda s: fire_one(
                s, new, expected_version=c.version, notices=notices, token=tokens[id(s)]
            ),
        )
        if fired is not None:
            self.stale.append(c)
            self.fired.setdefault(c.id, []).extend(notices)

    @rule(
        data=st.data(),
        limit=st.integers(1, 4),
        resend=st.booleans(),
        wake=st.booleans(),
        rounds=st.integers(1, 3),
    )
    def tick(self, data: st.DataObject, limit: int, resend: bool, wake: bool, rounds: int) -> None:
        """Ticks in a tenant: claim what is due, escalate it, fire it (notices + new state).

        With ``wake``, the clock first moves to the tenant's ``next_action_at``
        (if later), as a host sleeping until ``next_wakeup()`` does; with
        ``resend``, each fire re-sends the commitment's earlier notices (each
        key must stay stored once).
        """
        tenant = data.draw(self._tenant_choice, label="tenant")
        for _ in range(rounds):
            if wake:
                self._wake(tenant)
            tokens, claimed = self._claim_due(tenant, limit, _LEASE)
            self._fire(tokens, claimed, resend=resend)

    def _wake(self, tenant: str) -> None:
        """Move the clock to the tenant's ``next_action_at`` if that is later."""
        at = self.both(f"next_action_at({tenant})", lambda s: s.next_action_at(tenant))
        if at is not None and at > self.now:
            self.now = at
            note(f"now = {self.now.isoformat()}")

    @rule(data=st.data(), limit=st.integers(1, 4), wake=st.booleans())
    def start_slow_tick(self, data: st.DataObject, limit: int, wake: bool) -> None:
        """A worker claims due commitments and holds them while other steps run."""
        tenant = data.draw(self._tenant_choice, label="tenant")
        if wake:
            self._wake(tenant)
        tokens, claimed = self._claim_due(tenant, limit, _LEASE)
        if claimed:
            self.held_ticks.append((tenant, tokens, claimed))

    @precondition(lambda self: bool(self.held_ticks))
    @rule(data=st.data(), release=st.booleans())
    def finish_slow_tick(self, data: st.DataObject, release: bool) -> None:
        """The slow worker fires what it claimed (a conflict if it changed meanwhile) or lets go."""
        i = data.draw(st.integers(0, len(self.held_ticks) - 1), label="held tick")
        tenant, tokens, claimed = self.held_ticks.pop(i)
        if release:
            ids = [c.id for c in claimed]
            self.both(f"release({ids})", lambda s: s.release(tenant, ids, tokens[id(s)]))
            return
        self._fire(tokens, claimed, resend=False)

    @rule(data=st.data(), limit=st.integers(1, 4), wake=st.booleans())
    def crashed_tick(self, data: st.DataObject, limit: int, wake: bool) -> None:
        """A worker claims due commitments and dies: the next tick takes them after the lease."""
        tenant = data.draw(self._tenant_choice, label="tenant")
        if wake:
            self._wake(tenant)
        _, claimed = self._claim_due(tenant, limit, _CRASH_LEASE)
        if claimed:
            time.sleep(_CRASH_WAIT)

    # ------------------------------------------------------------------ rules: the outbox

    def _claim_notices(
        self, tenant: str, limit: int, lease: _dt.timedelta
    ) -> tuple[dict[int, str], list[str]]:
        tokens: dict[int, str] = {}

        def claim(s: Store) -> list[dict[str, Any]]:
            token, notices = s.claim_notices(tenant, limit=limit, lease=lease, worker="consumer")
            tokens[id(s)] = token
            assert all(n.state == "claimed" for n in notices), f"claimed: {notices!r}"
            return [notice_content(n) for n in notices]

        got = self.both(f"claim_notices({tenant}, limit={limit})", claim)
        ids = [n["id"] for n in got or ()]
        self._saw(tenant, got or ())
        return tokens, ids

    @rule(data=st.data(), limit=st.integers(1, 6))
    def claim_notices(self, data: st.DataObject, limit: int) -> None:
        """A consumer claims deliverable notices (oldest first) and holds them for a while."""
        tenant = data.draw(self._tenant_choice, label="tenant")
        tokens, ids = self._claim_notices(tenant, limit, _LEASE)
        if ids:
            self.held_notices.append((tenant, tokens, ids))

    @precondition(lambda self: bool(self.held_notices))
    @rule(data=st.data(), how=st.sampled_from(("ack", "release", "ack-part", "other-tenant")))
    def ack_notices(self, data: st.DataObject, how: str) -> None:
        """The consumer acks (or releases) what it holds; a part, or from the wrong tenant."""
        i = data.draw(st.integers(0, len(self.held_notices) - 1), label="held claim")
        tenant, tokens, ids = self.held_notices.pop(i)
        if how == "ack-part":
            part = data.draw(st.lists(st.sampled_from(ids), unique=True), label="acked")
            rest = [x for x in ids if x not in part]
            if rest:
                self.held_notices.append((tenant, tokens, rest))
            ids = part
        where = tenant
        if how == "other-tenant":
            where = self.tenants[1] if tenant == self.tenants[0] else self.tenants[0]
            self.held_notices.append((tenant, tokens, ids))
        if how == "release":
            self.both(
                f"release_notices({where}, {ids})",
                lambda s: s.release_notices(where, ids, tokens[id(s)]),
            )
        else:
            self.both(
                f"ack_notices({where}, {ids})", lambda s: s.ack_notices(where, ids, tokens[id(s)])
            )

    @rule(data=st.data(), limit=st.integers(1, 6))
    def crashed_consumer(self, data: st.DataObject, limit: int) -> None:
        """A consumer claims notices and dies before acking: they come back after the lease."""
        tenant = data.draw(self._tenant_choice, label="tenant")
        _, ids = self._claim_notices(tenant, limit, _CRASH_LEASE)
        if ids:
            time.sleep(_CRASH_WAIT)

    # ------------------------------------------------------------------ rules: bad writes

    @precondition(lambda self: bool(self.stale))
    @rule(data=st.data())
    def stale_write(self, data: st.DataObject) -> None:
        """A write based on an old version loses: ConflictError, and nothing changes."""
        old = data.draw(st.sampled_from(self.stale), label="stale copy")
        event = Event(
            seq=len(old.history) + 1,
            kind="reassigned",
            at=self.now,
            actor="mallory",
            data={"old_owner": old.owner, "owner": "mallory", "reason": "stale"},
        )
        forged = attrs.evolve(
            old, version=old.version + 1, owner="mallory", history=(*old.history, event)
        )
        self.both(
            f"stale update({old.id}, v{old.version})",
            lambda s: s.update(forged, expected_version=old.version),
            expect=ConflictError,
        )

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data(), how=st.sampled_from(("skip-version", "rewrite", "truncate", "made_at")))
    def malformed_write(self, data: st.DataObject, how: str) -> None:
        """A write that skips a version, rewrites history or moves made_at is refused."""
        c = self._pick(data)
        event = Event(seq=len(c.history) + 1, kind="reassigned", at=self.now, data={})
        if how == "skip-version":
            bad = attrs.evolve(c, version=c.version + 2, history=(*c.history, event))
        elif how == "rewrite":
            forged = Event(seq=1, kind="promised", at=c.made_at, data={"forged": True})
            bad = attrs.evolve(c, version=c.version + 1, history=(forged, *c.history[1:], event))
        elif how == "truncate":
            bad = attrs.evolve(c, version=c.version + 1, history=c.history[:1])
            if len(c.history) == 1:
                return  # nothing to drop
        else:
            moved = c.made_at - _dt.timedelta(seconds=1)
            bad = attrs.evolve(c, version=c.version + 1, made_at=moved, history=(*c.history, event))
        self.both(
            f"malformed update({c.id}, {how})",
            lambda s: s.update(bad, expected_version=c.version),
            expect=InvalidArgumentError,
        )

    # ------------------------------------------------------------------ rules: reads

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data())
    def probe_from_the_other_tenant(self, data: st.DataObject) -> None:
        """The other tenant cannot read or change a commitment; its own ref is its own."""
        c = self._pick(data)
        other = self.tenants[1] if c.tenant == self.tenants[0] else self.tenants[0]
        self.both(f"get({other}, {c.id})", lambda s: s.get(other, c.id), expect=NotFoundError)
        hijack = attrs.evolve(
            c,
            tenant=other,
            version=c.version + 1,
            history=(
                *c.history,
                Event(seq=len(c.history) + 1, kind="reassigned", at=self.now, data={}),
            ),
        )
        self.both(
            f"update as {other}",
            lambda s: s.update(hijack, expected_version=c.version),
            expect=NotFoundError,
        )
        if c.external_ref is not None:
            ref = c.external_ref
            self.both(f"get_by_ref({other}, {ref!r})", lambda s: s.get_by_ref(other, ref))

    @rule(data=st.data())
    def find(self, data: st.DataObject) -> None:
        """``find`` and ``count`` agree on a random query."""
        draw = data.draw
        tenant = draw(self._tenant_choice, label="tenant")
        base = self.now - _dt.timedelta(days=3)
        after, before = (
            None if d is None else base + d
            for d in (
                draw(_MAYBE_OFFSET, label="due_after"),
                draw(_MAYBE_OFFSET, label="due_before"),
            )
        )
        if after is not None and before is not None and after > before:
            after, before = before, after
        # at most two filters, so that queries match something often
        filters = draw(_FILTERS, label="filters")
        query = Query(
            customer=draw(st.sampled_from(_CUSTOMERS)) if "customer" in filters else None,
            owner=draw(st.sampled_from(_OWNERS)) if "owner" in filters else None,
            kind=draw(st.sampled_from(_KINDS)) if "kind" in filters else None,
            statuses=draw(_STATUS_SETS) if "statuses" in filters else None,
            due_after=after if "due" in filters else None,
            due_before=before if "due" in filters else None,
            waiting_for=draw(st.sampled_from(_WAITING)) if "waiting_for" in filters else None,
            external_ref=draw(st.sampled_from(_REFS)) if "ref" in filters else None,
            limit=draw(_LIMITS, label="limit"),
            order=draw(st.sampled_from(("due_at", "made_at")), label="order"),
        )
        self.both(f"find({tenant}, {query!r})", lambda s: s.find(tenant, query))
        self.both(f"count({tenant}, ...)", lambda s: s.count(tenant, query))

    # ------------------------------------------------------------------ rules: touchpoints

    def _logs_touchpoints(self) -> bool:
        return "touchpoints" in declared_ports(self.store)

    def _touchpoint(self, data: st.DataObject, *, id: str | None = None) -> Touchpoint:
        draw = data.draw
        back = draw(st.integers(0, 3 * 24 * 60), label="minutes ago")
        return Touchpoint(
            id=self.new_id() if id is None else id,
            tenant=draw(self._tenant_choice, label="tenant"),
            customer=draw(st.sampled_from(_TOUCH_CUSTOMERS), label="customer"),
            channel=draw(st.sampled_from(("email", "card", "phone")), label="channel"),
            kind=draw(st.sampled_from(_TOUCH_KINDS), label="kind"),
            at=self.now - _dt.timedelta(minutes=back),
            actor=draw(_ACTORS, label="actor"),
            automated=draw(st.booleans(), label="automated"),
            ref=draw(st.sampled_from(_TOUCH_REFS), label="ref"),
            thread=draw(st.sampled_from((None, "thread-1")), label="thread"),
            counted=draw(st.booleans(), label="counted"),
            data=draw(st.sampled_from(({}, {"n": 1}, {"n": 1.0, "why": "' OR 1=1"})), label="data"),
        )

    @precondition(lambda self: self._logs_touchpoints())
    @rule(data=st.data())
    def add_touchpoint(self, data: st.DataObject) -> None:
        """Record a touchpoint; a known ``(tenant, kind, ref)`` returns the stored one."""
        t = self._touchpoint(data)
        result = self.both(
            f"add_touchpoint({t.id}, {t.tenant}, {t.kind}, ref={t.ref!r})",
            lambda s: s.add_touchpoint(t),
        )
        if result is not None and result[1]:
            self.touch_keys.append((t.tenant, t.id))
            if t.ref is not None:
                self.touch_with_ref.append(t)

    @precondition(lambda self: self._logs_touchpoints() and bool(self.touch_with_ref))
    @rule(data=st.data())
    def retry_a_touchpoint(self, data: st.DataObject) -> None:
        """A webhook retry: a stored ref again, under a new id, later: the stored one comes back."""
        stored = data.draw(st.sampled_from(self.touch_with_ref), label="retried")
        again = attrs.evolve(stored, id=self.new_id(), at=self.now, counted=not stored.counted)
        self.both(
            f"add_touchpoint(retry of {stored.id}, ref={stored.ref!r})",
            lambda s: s.add_touchpoint(again),
        )

    @precondition(lambda self: self._logs_touchpoints() and bool(self.touch_keys))
    @rule(data=st.data())
    def add_a_touchpoint_with_an_existing_id(self, data: st.DataObject) -> None:
        """Reusing a stored id (of either tenant) conflicts, unless the ref is known already."""
        _, id = data.draw(st.sampled_from(self.touch_keys), label="existing id")
        t = self._touchpoint(data, id=id)
        self.both(f"add_touchpoint(existing id {id}, ref={t.ref!r})", lambda s: s.add_touchpoint(t))

    @precondition(lambda self: self._logs_touchpoints())
    @rule(data=st.data(), question=st.sampled_from(("log", "ref", "thanks", "extra", "silent")))
    def ask_touchpoints(self, data: st.DataObject, question: str) -> None:
        """Ask one of the port's questions, with drawn filters, of both stores."""
        draw = data.draw
        tenant = draw(self._tenant_choice, label="tenant")
        when = self.now - _dt.timedelta(minutes=draw(st.integers(0, 4 * 24 * 60), label="ago"))
        limit = draw(_LIMITS, label="limit")
        if question == "log":
            customer = draw(st.sampled_from((None, *_TOUCH_CUSTOMERS)), label="customer")
            kind = draw(st.sampled_from((None, *_TOUCH_KINDS)), label="kind")
            since = draw(st.sampled_from((None, when)), label="since")
            until = draw(st.sampled_from((None, self.now)), label="until")
            self.both(
                f"touchpoints({tenant}, {customer!r}, {kind!r}, {since}, {until}, {limit})",
                lambda s: s.touchpoints(
                    tenant, customer=customer, kind=kind, since=since, until=until, limit=limit
                ),
            )
        elif question == "ref":
            kind = draw(st.sampled_from(_TOUCH_KINDS), label="kind")
            ref = draw(st.sampled_from([r for r in _TOUCH_REFS if r is not None]), label="ref")
            self.both(
                f"touchpoint_by_ref({tenant}, {kind}, {ref!r})",
                lambda s: s.touchpoint_by_ref(tenant, kind, ref),
            )
        elif question == "thanks":
            below = draw(st.integers(1, 4), label="below")
            self.both(
                f"thanks_by_customer({tenant}, below={below}, limit={limit})",
                lambda s: s.thanks_by_customer(tenant, below=below, limit=limit),
            )
        elif question == "extra":
            seed = draw(st.sampled_from((tenant, f"{tenant}:2026-12", "é")), label="seed")
            self.both(
                f"extra_mile_candidate({tenant}, {when}, {seed!r})",
                lambda s: s.extra_mile_candidate(tenant, eligible_since=when, seed=seed),
            )
        else:
            self.both(
                f"silent_customers({tenant}, {when}, {limit})",
                lambda s: s.silent_customers(tenant, quiet_since=when, limit=limit),
            )

    @invariant()
    def touchpoint_logs_agree(self) -> None:
        """Both stores hold the same touchpoints and answer the aggregates alike, per tenant."""
        if not self._logs_touchpoints():
            return
        for tenant in self.tenants:
            want = self.model.touchpoints(tenant)
            got = self.store.touchpoints(tenant)
            assert got == want, (
                f"divergence: {tenant}'s touchpoints {[t.id for t in got]}, "
                f"MemoryStore {[t.id for t in want]}"
            )
            for below in (1, 3):
                assert self.store.thanks_by_customer(
                    tenant, below=below
                ) == self.model.thanks_by_customer(tenant, below=below), (
                    f"divergence: thanks_by_customer({tenant}, below={below})"
                )
            since = self.now - _dt.timedelta(days=2)
            assert self.store.extra_mile_candidate(
                tenant, eligible_since=since, seed=tenant
            ) == self.model.extra_mile_candidate(tenant, eligible_since=since, seed=tenant), (
                f"divergence: extra_mile_candidate({tenant}, {since})"
            )
            assert self.store.silent_customers(
                tenant, quiet_since=since
            ) == self.model.silent_customers(tenant, quiet_since=since), (
                f"divergence: silent_customers({tenant}, {since})"
            )

    @precondition(lambda self: self.supports_reopen)
    @rule()
    def reopen_store(self) -> None:
        """Close the store and open it again: nothing is lost or changed."""
        note("reopen the store")
        old = self.store
        self.store = self.reopen(old)
        # claims are stored state: the tokens held across steps carry over
        for _, tokens, _ in [*self.held_ticks, *self.held_notices]:
            if id(old) in tokens:
                tokens[id(self.store)] = tokens.pop(id(old))

    # ------------------------------------------------------------------ rules: waitlists

    def _has_waitlists(self) -> bool:
        return "waitlists" in declared_ports(self.store)

    @precondition(lambda self: self._has_waitlists())
    @rule(
        data=st.data(),
        quantity=st.integers(1, 4),
        partial=st.booleans(),
        ahead=st.booleans(),
    )
    def allocate(self, data: st.DataObject, quantity: int, partial: bool, ahead: bool) -> None:
        """Serve units in turn (``serve_in_turn``); now and then one goes first, approved."""
        draw = data.draw
        tenant = draw(self._tenant_choice, label="tenant")
        resource = draw(st.sampled_from(_RESOURCES), label="resource")
        first: tuple[str, ...] = ()
        if ahead and self.keys:
            first = (draw(st.sampled_from(self.keys), label="first")[1],)
        at = self.now

        def serve(s: Store) -> list[Commitment]:
            return s.serve_in_turn(
                tenant,
                resource,
                quantity=quantity,
                at=at,
                partial=partial,
                first=first,
                reason="approved" if first else None,
                actor="manager" if first else None,
            )

        label = f"serve_in_turn({tenant}, {resource}, {quantity}, partial={partial}, {first})"
        self.both(label, serve)
        self.both(f"waiting({tenant}, {resource})", lambda s: s.waiting(tenant, resource))

    @precondition(lambda self: self._has_waitlists())
    @rule(data=st.data(), n=st.integers(0, 2))
    def fairness_questions(self, data: st.DataObject, n: int) -> None:
        """The audit's questions agree: out of turn, renegotiations, pauses, waivers."""
        tenant = data.draw(self._tenant_choice, label="tenant")
        since = data.draw(st.sampled_from((None, START, self.now)), label="since")
        self.both(
            f"served_out_of_turn({tenant}, since={since})",
            lambda s: s.served_out_of_turn(tenant, since=since),
        )
        self.both(
            f"renegotiated_more_than({tenant}, {n})",
            lambda s: s.renegotiated_more_than(tenant, n, since=since),
        )
        self.both(f"pauses({tenant})", lambda s: s.pauses(tenant, since=since))
        self.both(f"waived_replies({tenant})", lambda s: s.waived_replies(tenant, since=since))


def store_state_machine(
    make_store: MakeStore,
    *,
    reopen: Reopen | None = None,
    close: bool = True,
    name: str = "StoreStateMachine",
) -> type[StoreStateMachine]:
    """A :class:`StoreStateMachine` subclass for the store ``make_store`` builds.

    Args:
        make_store: builds the store under test, once per run.
        reopen: closes a store and opens it again on the same data (enables
            the "reopen" step).
        close: close the store at the end of each run (``False`` when
            ``make_store`` hands back one shared store).
        name: the class name (shows in reports).

    Returns:
        The machine class; its ``TestCase`` attribute is a test case pytest
        collects (``TestMyStore = store_state_machine(MyStore).TestCase``).
    """

    def _make(self: StoreStateMachine) -> Store:
        return make_store()

    def _reopen(self: StoreStateMachine, store: Store) -> Store:
        assert reopen is not None
        return reopen(store)

    def _close(self: StoreStateMachine, store: Store) -> None:
        if close:
            store.close()

    namespace: dict[str, Any] = {
        "make_store": _make,
        "close_store": _close,
        "supports_reopen": reopen is not None,
        "__doc__": f"{StoreStateMachine.__doc__}\n\nBuilt by store_state_machine({name!r}).",
    }
    if reopen is not None:
        namespace["reopen"] = _reopen
    machine: type[StoreStateMachine] = type(name, (StoreStateMachine,), namespace)
    return machine


def default_settings() -> settings:
    """The settings :func:`run_store_state_machine` uses unless given others.

    No deadline, 40 steps a run, and ``max_examples`` (and the rest) from the
    Hypothesis profile loaded when this is called.
    """
    return settings(
        settings.default,
        deadline=None,
        stateful_step_count=40,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


DEFAULT_SETTINGS = default_settings()
""":func:`default_settings` as of this module's import (a base for your own settings)."""


def run_store_state_machine(
    make_store: MakeStore,
    *,
    reopen: Reopen | None = None,
    close: bool = True,
    settings: settings | None = None,
) -> None:
    """Run the store state machine against ``make_store``'s store; raise on any divergence.

    Args:
        make_store: builds the store under test, once per run.
        reopen: closes a store and opens it again on the same data.
        close: close the store after each run.
        settings: Hypothesis settings (default :func:`default_settings`).

    Raises:
        AssertionError: the store diverged from ``MemoryStore`` or broke an
            invariant; the message and the notes show the shortest steps.
    """
    machine = store_state_machine(make_store, reopen=reopen, close=close)
    run_state_machine_as_test(machine, settings=settings or default_settings())
