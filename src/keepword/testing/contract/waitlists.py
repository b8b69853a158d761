"""``WaitlistContract``: the tests of the ``"waitlists"`` port.

``serve_in_turn`` serves whole orders in ``(made_at, id)`` order (never
skipping a large early order unless ``partial``), approved exceptions first,
each unit at most once even when threads race; ``waiting`` lists the line;
the audit's questions (``served_out_of_turn``, ``renegotiated_more_than``,
``pauses``, ``waived_replies``) give exactly the reference answers of
:mod:`keepword.fairness`.  See :mod:`keepword.testing.contract` for how to
run it.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword import transitions as _t
from keepword.commitment import Commitment, Event, apply
from keepword.errors import InvalidArgumentError, KeepwordError
from keepword.fairness import out_of_turn, plan_allocation, queue_key, queue_state
from keepword.ports import Query, Store, Waitlist
from keepword.testing.contract._support import (
    T0,
    PortContract,
    _race,
    _settings,
    _tenant,
    assert_same_commitment,
    for_port,
    make_commitment,
)

__all__ = ["WaitlistContract"]

SKU = "sku:FIG-1"


def _line(store: Store, tenant: str, sizes: list[int], resource: str = SKU) -> list[Commitment]:
    """One order per size, in line in the order given.

    A second apart, except that every third shares its predecessor's instant
    (ties go by id: the ids grow in the order given).
    """
    made = []
    at = T0
    for i, n in enumerate(sizes):
        c = make_commitment(
            tenant,
            id=f"{tenant}-{resource}-{i:04d}",
            made_at=at,
            waiting_for=resource,
            terms={"quantity": n},
        )
        store.add(c)
        made.append(c)
        if i % 3 != 1:
            at += _dt.timedelta(seconds=1)
    assert made == sorted(made, key=queue_key)
    return made


def _served(c: Commitment) -> int:
    state = queue_state(c)
    return 0 if state is None else state.served


@for_port("waitlists")
class WaitlistContract(PortContract):
    """Every behaviour :class:`keepword.ports.Waitlist` promises, as pytest tests.

    Subclass it as ``TestSomethingStore`` with a ``store`` fixture, as
    :class:`~keepword.testing.contract.CommitmentRepositoryContract`.  Runs
    when the store declares ``"waitlists"``.
    """

    _AT = T0 + _dt.timedelta(days=1)

    def test_store_satisfies_the_waitlist_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.Waitlist`` (it has every method)."""
        assert isinstance(store, Waitlist)

    def test_whole_orders_in_turn_a_large_early_order_stops_the_line(self, store: Store) -> None:
        """Whole orders in ``(made_at, id)`` order; the head that does not fit stops it."""
        tenant = _tenant()
        a, b, c, d = _line(store, tenant, [2, 5, 1, 1])
        served = store.serve_in_turn(tenant, SKU, quantity=4, at=self._AT)
        assert [x.id for x in served] == [a.id]
        assert served[0].version == 2
        assert served[0].history[-1].kind == "served"
        assert served[0].history[-1].data["quantity"] == 2
        assert_same_commitment(store.get(tenant, a.id), served[0])
        assert [x.id for x in store.waiting(tenant, SKU)] == [b.id, c.id, d.id]
        assert [x.id for x in store.waiting(tenant, SKU, limit=2)] == [b.id, c.id]
        served = store.serve_in_turn(tenant, SKU, quantity=9, at=self._AT)
        assert [x.id for x in served] == [b.id, c.id, d.id]
        assert store.waiting(tenant, SKU) == []
        assert store.serve_in_turn(tenant, SKU, quantity=1, at=self._AT) == []

    def test_partial_service_serves_the_head_in_part(self, store: Store) -> None:
        """With ``partial`` the head that does not fit gets what is left, and keeps its place."""
        tenant = _tenant()
        a, b = _line(store, tenant, [5, 1])
        (served,) = store.serve_in_turn(tenant, SKU, quantity=3, at=self._AT, partial=True)
        assert served.id == a.id
        assert (served.history[-1].data["quantity"], served.history[-1].data["remaining"]) == (3, 2)
        assert [x.id for x in store.waiting(tenant, SKU)] == [a.id, b.id]
        served2 = store.serve_in_turn(tenant, SKU, quantity=3, at=self._AT, partial=True)
        assert [x.id for x in served2] == [a.id, b.id]
        assert _served(store.get(tenant, a.id)) == 5

    def test_closed_orders_leave_the_line_and_paused_ones_keep_their_place(
        self, store: Store
    ) -> None:
        """Kept, failed and cancelled orders do not wait; paused ones do; other resources apart."""
        tenant = _tenant()
        a, b, c = _line(store, tenant, [1, 1, 1])
        (other,) = _line(store, tenant, [1], resource="sku:FIG-2")
        cancelled, _ = _t.cancel(a, now=self._AT, reason="no longer wanted")
        store.update(cancelled, expected_version=1)
        paused, _ = _t.pause(b, now=self._AT, reason="address")
        store.update(paused, expected_version=1)
        assert [x.id for x in store.waiting(tenant, SKU)] == [b.id, c.id]
        assert [x.id for x in store.waiting(tenant, "sku:FIG-2")] == [other.id]
        assert [x.id for x in store.serve_in_turn(tenant, SKU, quantity=1, at=self._AT)] == [b.id]
        assert store.get(tenant, b.id).status.value == "paused"

    def test_approved_exceptions_go_first_with_their_reason(self, store: Store) -> None:
        """``first`` is served ahead, with ``ahead``, reason and actor in its history."""
        tenant = _tenant()
        a, _b, c = _line(store, tenant, [1, 1, 1])
        served = store.serve_in_turn(
            tenant, SKU, quantity=2, at=self._AT, first=[c.id], reason="medical", actor="boss"
        )
        assert [x.id for x in served] == [c.id, a.id]
        event = served[0].history[-1]
        assert (event.data["ahead"], event.data["reason"], event.actor) == (True, "medical", "boss")
        assert served[1].history[-1].data["ahead"] is False

    def test_first_that_does_not_wait_is_refused_and_nothing_is_written(self, store: Store) -> None:
        """A ``first`` commitment missing, of another resource or served: refused, no write."""
        tenant = _tenant()
        a, b = _line(store, tenant, [1, 1])
        (other,) = _line(store, tenant, [1], resource="sku:FIG-2")
        store.serve_in_turn(tenant, SKU, quantity=1, at=self._AT)
        for bad in (other.id, "no-such-id", a.id):
            with pytest.raises(InvalidArgumentError) as info:
                store.serve_in_turn(
                    tenant, SKU, quantity=2, at=self._AT, first=[bad], reason="r", actor="x"
                )
            assert info.value.argument == "first"
        assert store.get(tenant, b.id).version == 1

    @pytest.mark.parametrize(
        ("change", "argument"),
        [
            ({"quantity": 0}, "quantity"),
            ({"quantity": True}, "quantity"),
            ({"resource": "FIG 1"}, "resource"),
            ({"at": _dt.datetime(2026, 11, 24)}, "at"),
            ({"first": ["x"]}, "reason"),
            ({"first": ["x"], "reason": "r"}, "actor"),
            ({"partial": 1}, "partial"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_bad_arguments_are_named_and_nothing_is_written(
        self, store: Store, change: dict[str, Any], argument: str
    ) -> None:
        """A bad quantity, resource, naive instant, or an exception without reason or actor."""
        tenant = _tenant()
        (a,) = _line(store, tenant, [1])
        call: dict[str, Any] = {"quantity": 1, "at": self._AT, "resource": SKU, **change}
        if call.get("first") == ["x"]:
            call["first"] = [a.id]
        resource = call.pop("resource")
        with pytest.raises(KeepwordError) as info:
            store.serve_in_turn(tenant, resource, **call)
        assert info.value.argument == argument
        assert store.get(tenant, a.id).version == 1

    @given(
        sizes=st.lists(st.integers(1, 4), min_size=1, max_size=8),
        calls=st.lists(st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=4),
    )
    @_settings
    def test_allocations_follow_the_reference_plan(
        self, store: Store, sizes: list[int], calls: list[tuple[int, bool]]
    ) -> None:
        """Each allocation serves exactly what :func:`keepword.fairness.plan_allocation` says."""
        tenant = _tenant()
        line = _line(store, tenant, sizes)
        for quantity, partial in calls:
            current = store.find(tenant, Query(order="made_at"))
            waiting = [c for c in current if _served(c) < queue_state(c).quantity]  # type: ignore[union-attr]
            shares, _left = plan_allocation(waiting, quantity, partial=partial)
            served = store.serve_in_turn(
                tenant, SKU, quantity=quantity, at=self._AT, partial=partial
            )
            assert [(x.id, x.history[-1].data["quantity"]) for x in served] == [
                (s.commitment.id, s.units) for s in shares
            ]
        # served orders are a prefix of the line, each served at most what it ordered
        totals = [_served(c) for c in store.find(tenant, Query(order="made_at"))]
        started = [t > 0 for t in totals]
        assert started == sorted(started, reverse=True)
        assert all(t <= n for t, n in zip(totals, sizes_in_line(line), strict=True))
        assert store.served_out_of_turn(tenant) == []

    def test_concurrent_allocations_serve_the_head_once(self, store: Store) -> None:
        """Threads allocating at once: each order served once; together, the head of the line."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        line = _line(store, tenant, [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 1, 1] * 2)
        results = _race(
            self.threads,
            lambda i: store.serve_in_turn(tenant, SKU, quantity=1 + i % 3, at=self._AT),
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        ids = [c.id for r in results if not isinstance(r, BaseException) for c in r]
        counts = Counter(ids)
        assert all(n == 1 for n in counts.values()), "an order was served twice"
        served = [c.id for c in line if c.id in counts]
        assert served == [c.id for c in line[: len(served)]], "served out of turn"
        for c in line:
            assert _served(store.get(tenant, c.id)) == (
                sizes_in_line([c])[0] if c.id in counts else 0
            )

    def test_tenants_are_apart(self, store: Store) -> None:
        """Another tenant's line is neither served nor listed."""
        mine, theirs = _tenant(), _tenant()
        (a,) = _line(store, mine, [1])
        (b,) = _line(store, theirs, [1])
        assert [x.id for x in store.serve_in_turn(mine, SKU, quantity=5, at=self._AT)] == [a.id]
        assert [x.id for x in store.waiting(theirs, SKU)] == [b.id]
        assert store.served_out_of_turn(theirs) == []

    # ------------------------------------------------------------ the audit's questions

    def test_served_out_of_turn_matches_the_reference(self, store: Store) -> None:
        """A later order kept first and an approved exception; exactly the reference answer."""
        tenant = _tenant()
        a, b, c, d = _line(store, tenant, [1, 1, 1, 1])
        kept, _ = _t.keep(d, now=self._AT)
        store.update(kept, expected_version=1)
        store.serve_in_turn(
            tenant,
            SKU,
            quantity=1,
            at=self._AT + _dt.timedelta(hours=1),
            first=[c.id],
            reason="contract clause",
            actor="boss",
        )
        store.serve_in_turn(tenant, SKU, quantity=2, at=self._AT + _dt.timedelta(hours=2))
        everything = store.find(tenant, Query())
        want = out_of_turn(everything)
        got = store.served_out_of_turn(tenant)
        assert got == want
        assert [(o.commitment_id, o.earlier, o.ahead) for o in got] == [
            (d.id, (a.id, b.id, c.id), False),
            (c.id, (a.id, b.id), True),
        ]
        assert got[1].reason == "contract clause"
        assert got[1].actor == "boss"
        since = self._AT + _dt.timedelta(minutes=30)
        assert store.served_out_of_turn(tenant, since=since) == out_of_turn(everything, since=since)
        assert store.served_out_of_turn(tenant, until=self._AT) == []

    def test_renegotiations_pauses_and_waivers(self, store: Store) -> None:
        """Counts of renegotiations, every pause, and only the waived replies' cancels."""
        tenant = _tenant()
        a = make_commitment(tenant, kind="order")
        r1 = make_commitment(tenant, kind="reply", customer="c1")
        r2 = make_commitment(tenant, kind="reply", customer="c2")
        for c in (a, r1, r2):
            store.add(c)
        current = a
        for hours in (1, 2, 3):
            now = T0 + _dt.timedelta(hours=hours)
            new, _ = _t.renegotiate(current, now=now, due=T0 + _dt.timedelta(days=5 + hours))
            current = store.update(new, expected_version=current.version)
        paused, _ = _t.pause(current, now=T0 + _dt.timedelta(hours=4), reason="r", actor="al")
        store.update(paused, expected_version=current.version)
        at = T0 + _dt.timedelta(hours=5)
        for c, waived in ((r1, True), (r2, False)):
            event = Event(
                seq=2, kind="cancelled", at=at, actor="bob", data={"reason": "x", "waived": waived}
            )
            store.update(apply(c, event, version=2), expected_version=1)
        (r,) = store.renegotiated_more_than(tenant, 2)
        assert (r.commitment_id, r.count, r.last_at) == (a.id, 3, T0 + _dt.timedelta(hours=3))
        assert store.renegotiated_more_than(tenant, 3) == []
        assert (
            store.renegotiated_more_than(tenant, 1, since=T0 + _dt.timedelta(hours=2))[0].count == 2
        )
        (p,) = store.pauses(tenant)
        assert (p.commitment_id, p.at, p.actor) == (a.id, T0 + _dt.timedelta(hours=4), "al")
        assert store.pauses(tenant, until=T0 + _dt.timedelta(hours=4)) == []
        (w,) = store.waived_replies(tenant)
        assert (w.commitment_id, w.actor, w.customer) == (r1.id, "bob", "c1")

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            (lambda s: s.waiting("t", "nope"), "resource"),
            (lambda s: s.waiting("t", SKU, limit=0), "limit"),
            (lambda s: s.served_out_of_turn("t", since=_dt.datetime(2026, 1, 1)), "since"),
            (lambda s: s.served_out_of_turn("t", since=T0, until=T0 - _dt.timedelta(1)), "since"),
            (lambda s: s.renegotiated_more_than("t", -1), "n"),
            (lambda s: s.pauses("t", until=_dt.datetime(2026, 1, 1)), "until"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_audit_calls_name_a_bad_argument(
        self, store: Store, call: Callable[[Store], Any], argument: str
    ) -> None:
        """A bad resource, limit, window or threshold is refused by name."""
        with pytest.raises(KeepwordError) as info:
            call(store)
        assert info.value.argument == argument


def sizes_in_line(line: list[Commitment]) -> list[int]:
    """The quantity each commitment of ``line`` waits for."""
    return [queue_state(c).quantity for c in line]  # type: ignore[union-attr]
