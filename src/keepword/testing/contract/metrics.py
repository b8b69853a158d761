"""``MetricsContract``: the tests of the ``"metrics"`` port.

Each store's scorecard equals ``MemoryStore``'s (the reference) on random
histories: Hypothesis draws commitments and what happened to each (kept on
time, late, after a renegotiated breach, on changed terms, broken,
cancelled, waived, paused, escalated, reassigned, quoted, reopened), builds them with
the pure transitions, stores them in the store under test and in a fresh
``MemoryStore``, and compares :meth:`~keepword.ports.Metrics.score_rows` for
every grouping and a few windows, then the quote quantile and the quote
record.  See :mod:`keepword.testing.contract` for how to run it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepword._ids import new_id
from keepword.calendar import within
from keepword.commitment import Commitment, replay
from keepword.errors import InvalidArgumentError, InvalidTransitionError, KeepwordError
from keepword.measures import ScoreQuery
from keepword.ports import Metrics, Store
from keepword.scorecard import GROUPINGS
from keepword.services.quoting import Quote
from keepword.stores.memory import MemoryStore
from keepword.testing.contract._support import (
    LADDER,
    T0,
    PortContract,
    _settings,
    _tenant,
    _us_calendar,
    for_port,
    requires,
)
from keepword.touchpoint import Touchpoint
from keepword.transitions import (
    Change,
    cancel,
    escalate,
    fail,
    keep,
    mark_breached,
    pause,
    promise,
    reassign,
    renegotiate,
    reopen,
    resume,
)

__all__ = ["MetricsContract", "apply_plan", "histories", "reopenings"]

_OPS = (
    "keep",
    "keep_changed",
    "fail",
    "cancel",
    "waive",
    "renegotiate",
    "pause",
    "resume",
    "tick",
    "reassign",
)

_plan = st.fixed_dictionaries(
    {
        "made": st.integers(0, 14 * 24 * 60),
        "hours": st.integers(1, 30),
        "owner": st.sampled_from(["alice", "bob", "carol"]),
        "kind": st.sampled_from(["reply", "refund"]),
        "customer": st.sampled_from(["c1", "c2", "c3", "c4"]),
        "channel": st.sampled_from([None, "email", "phone"]),
        "policy": st.booleans(),
        "quoted": st.booleans(),
        "ops": st.lists(st.tuples(st.sampled_from(_OPS), st.integers(0, 3 * 24 * 60)), max_size=5),
        "reopen": st.one_of(st.none(), st.integers(0, 10 * 24 * 60)),
    }
)


_CALENDAR = _us_calendar()  # one calendar: its timeline is built once, not per commitment


def histories(max_size: int = 12) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Plans of up to ``max_size`` commitments: when made, by whom, and what happened to each."""
    return st.lists(_plan, min_size=1, max_size=max_size)


def _step(c: Commitment, op: str, now: _dt.datetime) -> Change:
    if op == "keep":
        return keep(c, now=now)
    if op == "keep_changed":
        return keep(c, now=now, as_promised=False, deviation={"price": "45.00"})
    if op == "fail":
        return fail(c, now=now, reason="could not")
    if op == "cancel":
        return cancel(c, now=now, reason="withdrawn")
    if op == "waive":
        return _waive(c, now)
    if op == "renegotiate":
        return renegotiate(c, now=now, due=within(business_hours=6))
    if op == "pause":
        return pause(c, now=now, reason="waiting on the customer")
    if op == "resume":
        return resume(c, now=now)
    if op == "reassign":
        return reassign(c, now=now, owner="dave" if c.owner != "dave" else "alice")
    new, events, _ = escalate(c, now=now, new_id=lambda: new_id(now))
    if not events:
        return mark_breached(c, now=now)
    return new, events


def _waive(c: Commitment, now: _dt.datetime) -> Change:
    """Cancel ``c`` as a reply not needed (``waived: true`` in the event)."""
    new, events = cancel(c, now=now, reason="no reply needed")
    last = events[-1]
    waived = attrs.evolve(last, data={**last.data, "waived": True})
    history = (*c.history, waived)
    return replay(history, version=new.version), (waived,)


def apply_plan(tenant: str, plan: dict[str, Any]) -> Commitment:
    """The commitment ``plan`` makes: promised, then each op in time order (illegal ones skipped).

    The result has version 1 plus one per transition that happened.
    """
    made = T0 + _dt.timedelta(minutes=plan["made"])
    spec = within(business_hours=plan["hours"])
    due: Any = spec
    if plan["quoted"]:
        due = Quote(
            unit=spec.unit,
            amount=spec.amount,
            kind=plan["kind"],
            confidence=0.9,
            quantile=_dt.timedelta(hours=plan["hours"]),
            sample=20,
        )
    c, _ = promise(
        id=new_id(made),
        tenant=tenant,
        customer=plan["customer"],
        owner=plan["owner"],
        kind=plan["kind"],
        what="a promise",
        now=made,
        calendar=_CALENDAR,
        due=due,
        channel=plan["channel"],
        policy=LADDER if plan["policy"] else None,
    )
    now = made
    for op, minutes in plan["ops"]:
        now = now + _dt.timedelta(minutes=minutes)
        try:
            c, _ = _step(c, op, now)
        except (InvalidTransitionError, InvalidArgumentError, KeepwordError):
            continue
    return c


def reopenings(
    tenant: str, plans: Sequence[dict[str, Any]], made: Sequence[Commitment]
) -> list[Commitment]:
    """The promises reopening each kept one whose plan says ``reopen`` (minutes after its keep)."""
    out = []
    for plan, c in zip(plans, made, strict=True):
        minutes = plan.get("reopen")
        if minutes is None or c.kept_at is None:
            continue
        now = max(c.kept_at, c.history[-1].at) + _dt.timedelta(minutes=minutes)
        again, _ = reopen(
            c,
            id=new_id(now),
            now=now,
            calendar=_CALENDAR,
            due=within(business_hours=plan["hours"]),
            reason="it happened again",
        )
        out.append(again)
    return out


def store_history(
    store: Store, commitments: Sequence[Commitment], *, stepwise: bool = False
) -> None:
    """Store the commitments: their first states in one ``add_many``, then each final state.

    With ``stepwise``, every state in between too: one ``update`` per event,
    as a store sees a commitment change over its life.
    """
    store.add_many([c if len(c.history) == 1 else replay(c.history[:1]) for c in commitments])
    for c in commitments:
        if stepwise:
            for n in range(2, len(c.history) + 1):
                store.update(replay(c.history[:n], version=n), expected_version=n - 1)
        elif len(c.history) > 1:
            store.update(attrs.evolve(c, version=2), expected_version=1)


_EXAMPLES = min(25, _settings.max_examples)
"""Examples of the random-history test: each stores a dozen commitments and runs a
dozen aggregate queries, so fewer than the profile's default."""


@for_port("metrics", "commitments")
class MetricsContract(PortContract):
    """Every behaviour :class:`keepword.ports.Metrics` promises, as pytest tests.

    Subclass it (or :class:`~keepword.testing.contract.StoreContract`) with a
    ``store`` fixture; runs when the store declares ``"metrics"``.
    """

    def test_store_satisfies_the_metrics_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.Metrics`` (it has every method)."""
        assert isinstance(store, Metrics)

    @settings(_settings, max_examples=_EXAMPLES)
    @given(
        plans=histories(),
        now_minutes=st.integers(0, 20 * 24 * 60),
        window=st.one_of(
            st.none(), st.tuples(st.integers(0, 14 * 24 * 60), st.integers(0, 14 * 24 * 60))
        ),
        by_due=st.booleans(),
        confidence=st.sampled_from([0.5, 0.75, 0.9, 0.95, 1.0]),
        stepwise=st.booleans(),
    )
    def test_the_scorecard_equals_the_reference_on_random_histories(
        self,
        store: Store,
        plans: list[dict[str, Any]],
        now_minutes: int,
        window: tuple[int, int] | None,
        by_due: bool,
        confidence: float,
        stepwise: bool,
    ) -> None:
        """``score_rows`` (every grouping), the quantile and the quote record equal the reference.

        The reference is a ``MemoryStore`` holding the same commitments; the
        store under test gets them whole or one event at a time (``stepwise``),
        and where the time went must not depend on which.
        """
        tenant = _tenant()
        commitments = [apply_plan(tenant, plan) for plan in plans]
        commitments += reopenings(tenant, plans, commitments)
        reference = MemoryStore()
        store_history(reference, commitments)
        store_history(store, commitments, stepwise=stepwise)
        now = T0 + _dt.timedelta(minutes=now_minutes)
        since = until = None
        if window is not None:
            lo, hi = sorted(window)
            since, until = T0 + _dt.timedelta(minutes=lo), T0 + _dt.timedelta(minutes=hi)
        for by in (None, *GROUPINGS):
            q = ScoreQuery(
                by=by,
                since=since,
                until=until,
                by_due=by_due,
                now=now,
                tolerance_us=30 * 60_000_000,
                response_target_us=2 * 3_600_000_000,
                early_us=3_600_000_000,
            )
            assert store.score_rows(tenant, q) == reference.score_rows(tenant, q), by
        for kind in ("reply", "refund"):
            for owner in (None, "alice"):
                got = store.turnaround_quantile(
                    tenant, kind=kind, confidence=confidence, owner=owner
                )
                want = reference.turnaround_quantile(
                    tenant, kind=kind, confidence=confidence, owner=owner
                )
                assert got == want, (kind, owner)
            assert store.quote_record(tenant, kind=kind) == reference.quote_record(
                tenant, kind=kind
            )

    @requires("touchpoints")
    @settings(_settings, max_examples=_EXAMPLES)
    @given(
        touches=st.lists(
            st.tuples(
                st.sampled_from(["occasion", "thank_you", "extra_mile", "reply"]),
                st.sampled_from([None, "sale", "complaint", "referral"]),
                st.sampled_from(["c1", "c2", "c3"]),
                st.sampled_from(["email", "phone"]),
                st.integers(0, 10 * 24 * 60),
                st.booleans(),
            ),
            max_size=15,
        ),
        window=st.one_of(
            st.none(), st.tuples(st.integers(0, 10 * 24 * 60), st.integers(0, 10 * 24 * 60))
        ),
    )
    def test_care_counts_equal_the_reference(
        self,
        store: Store,
        touches: list[tuple[str, str | None, str, str, int, bool]],
        window: tuple[int, int] | None,
    ) -> None:
        """``care_counts`` equals ``MemoryStore``'s on random touchpoints (needs "touchpoints")."""
        tenant = _tenant()
        reference = MemoryStore()
        for kind, occasion, customer, channel, minutes, counted in touches:
            t = Touchpoint(
                id=new_id(T0),
                tenant=tenant,
                customer=customer,
                channel=channel,
                kind=kind,
                at=T0 + _dt.timedelta(minutes=minutes),
                occasion=occasion if kind == "occasion" else None,
                counted=counted,
            )
            store.add_touchpoint(t)
            reference.add_touchpoint(t)
        since = until = None
        if window is not None:
            lo, hi = sorted(window)
            since, until = T0 + _dt.timedelta(minutes=lo), T0 + _dt.timedelta(minutes=hi)
        got = store.care_counts(tenant, since=since, until=until)
        assert got == reference.care_counts(tenant, since=since, until=until)

    def test_tenants_are_apart(self, store: Store) -> None:
        """One tenant's commitments never count in another's scorecard."""
        a, b = _tenant(), _tenant()
        plan = {
            "made": 0,
            "hours": 2,
            "owner": "alice",
            "kind": "reply",
            "customer": "c1",
            "channel": None,
            "policy": False,
            "quoted": False,
            "ops": [("keep", 30)],
        }
        store_history(store, [apply_plan(a, plan)])
        q = ScoreQuery(by="owner", now=T0 + _dt.timedelta(days=1))
        rows, total = store.score_rows(a, q)
        assert [r.group for r in rows] == ["alice"]
        assert total.kept_on_time == 1
        rows, total = store.score_rows(b, q)
        assert rows == []
        assert total.made == 0

    def test_bad_arguments_are_refused(self, store: Store) -> None:
        """A bad tenant, query, kind or confidence raises InvalidArgumentError naming it."""
        q = ScoreQuery(now=T0)
        with pytest.raises(InvalidArgumentError) as err:
            store.score_rows("", q)
        assert err.value.argument == "tenant"
        with pytest.raises(InvalidArgumentError) as err:
            store.score_rows("t", "by owner")  # type: ignore[arg-type]
        assert err.value.argument == "query"
        with pytest.raises(InvalidArgumentError) as err:
            store.turnaround_quantile("t", kind="reply", confidence=1.5)
        assert err.value.argument == "confidence"
        with pytest.raises(InvalidArgumentError) as err:
            store.quote_record("t", kind="")
        assert err.value.argument == "kind"
