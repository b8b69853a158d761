"""The repository contract's tests of tenants, ``add_many`` and ``find``.

A part of :class:`~keepword.testing.contract.CommitmentRepositoryContract`,
kept in a module of its own for length.
"""

from __future__ import annotations

import datetime as _dt

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.ports import Query, Store
from keepword.testing.contract._support import (
    T0,
    _settings,
    _tenant,
    assert_same_commitment,
    for_port,
    make_commitment,
    next_state,
    with_status,
)

__all__ = ["RepositoryQueryTests"]


@for_port("commitments")
class RepositoryQueryTests:
    """Tenant isolation, all-or-nothing ``add_many``, the ``find`` filters and ordering."""

    threads: int
    # ------------------------------------------------------------ tenants

    def _twins(self, store: Store) -> tuple[Commitment, Commitment]:
        """Tenants A and B, each with a commitment of identical ref, customer and owner."""
        a = make_commitment("tenant-a", external_ref="order-1", what="A's")
        b = make_commitment("tenant-b", external_ref="order-1", what="B's")
        assert store.add(a) == (a, True)
        assert store.add(b) == (b, True)
        return a, b

    def test_tenants_with_identical_refs_get_their_own(self, store: Store) -> None:
        """Tenants with the same reference each get their own commitment."""
        a, b = self._twins(store)
        assert store.get_by_ref("tenant-a", "order-1") == a
        assert store.get_by_ref("tenant-b", "order-1") == b

    def test_another_tenants_id_is_not_found(self, store: Store) -> None:
        """``get`` with another tenant's id raises ``NotFoundError``."""
        a, b = self._twins(store)
        with pytest.raises(NotFoundError):
            store.get("tenant-b", a.id)
        with pytest.raises(NotFoundError):
            store.get("tenant-a", b.id)
        with pytest.raises(NotFoundError):
            store.get("tenant-c", a.id)

    def test_find_and_count_see_only_the_tenant(self, store: Store) -> None:
        """``find`` and ``count`` see only the tenant's rows, whatever the filter."""
        a, b = self._twins(store)
        for query in (
            Query(),
            Query(customer="acct-42"),
            Query(owner="alice"),
            Query(kind="reply"),
            Query(external_ref="order-1"),
            Query(statuses={Status.OPEN}),
        ):
            assert store.find("tenant-a", query) == [a], query
            assert store.find("tenant-b", query) == [b], query
            assert store.count("tenant-a", query) == 1
            assert store.count("tenant-b", query) == 1
            assert store.find("tenant-c", query) == []
            assert store.count("tenant-c", query) == 0

    def test_updating_another_tenants_commitment_is_not_found(self, store: Store) -> None:
        """An update claiming another tenant's id raises ``NotFoundError``; neither changes."""
        a, b = self._twins(store)
        hijack = next_state(attrs.evolve(a, tenant="tenant-b"), what="B was here")
        with pytest.raises(NotFoundError):
            store.update(hijack, expected_version=1)
        assert_same_commitment(store.get("tenant-a", a.id), a)
        assert_same_commitment(store.get("tenant-b", b.id), b)

    def test_a_ref_retry_in_another_tenant_creates_its_own(self, store: Store) -> None:
        """A known reference in a third tenant creates a new commitment."""
        a, _ = self._twins(store)
        c = make_commitment("tenant-c", external_ref="order-1")
        assert store.add(c) == (c, True)
        assert store.get_by_ref("tenant-a", "order-1") == a

    @pytest.mark.parametrize(
        ("one", "other"),
        [("shop", "Shop"), ("shop", "shop "), ("e\u0301", "\u00e9"), ("shop", "ѕhop")],
        ids=["case", "trailing-space", "nfd-nfc", "confusable"],
    )
    def test_tenants_differing_by_one_code_point_are_isolated(
        self, store: Store, one: str, other: str
    ) -> None:
        """Tenants whose names differ by case, padding or normalisation are isolated."""
        a = make_commitment(one, external_ref="order-1")
        b = make_commitment(other, external_ref="order-1")
        assert store.add(a)[1] is True
        assert store.add(b)[1] is True
        assert store.find(one, Query()) == [a]
        assert store.find(other, Query()) == [b]
        with pytest.raises(NotFoundError):
            store.get(other, a.id)

    # ------------------------------------------------------------ add_many

    def test_add_many_stores_all_in_order(self, store: Store) -> None:
        """``add_many`` stores every item and answers in order."""
        batch = [make_commitment(external_ref=f"order-{i}") for i in range(5)]
        assert store.add_many(batch) == [(c, True) for c in batch]
        for c in batch:
            assert_same_commitment(store.get(c.tenant, c.id), c)

    def test_add_many_of_nothing_is_nothing(self, store: Store) -> None:
        """``add_many([])`` returns ``[]``."""
        assert store.add_many([]) == []
        assert store.count("tenant-a", Query()) == 0

    def test_add_many_with_a_repeated_id_stores_nothing(self, store: Store) -> None:
        """A batch repeating an id raises ``ConflictError`` and stores nothing at all."""
        first = make_commitment(external_ref="order-1")
        batch = [
            first,
            make_commitment(external_ref="order-2"),
            make_commitment(id=first.id, what="same id again"),
        ]
        with pytest.raises(ConflictError):
            store.add_many(batch)
        assert store.count("tenant-a", Query()) == 0
        assert store.get_by_ref("tenant-a", "order-1") is None
        assert store.get_by_ref("tenant-a", "order-2") is None

    def test_add_many_with_an_existing_id_stores_nothing(self, store: Store) -> None:
        """A batch with an already stored id raises ``ConflictError`` and stores nothing."""
        old = make_commitment()
        store.add(old)
        batch = [make_commitment(external_ref="order-1"), make_commitment(id=old.id)]
        with pytest.raises(ConflictError):
            store.add_many(batch)
        assert store.find("tenant-a", Query()) == [old]
        assert store.get_by_ref("tenant-a", "order-1") is None

    def test_add_many_with_a_bad_version_stores_nothing(self, store: Store) -> None:
        """A batch with a version-2 item is refused whole."""
        batch = [make_commitment(), next_state(make_commitment())]
        with pytest.raises(InvalidArgumentError):
            store.add_many(batch)
        assert store.count("tenant-a", Query()) == 0

    def test_add_many_maps_a_repeated_ref_to_the_first(self, store: Store) -> None:
        """A reference repeated in a batch maps to the batch's first item."""
        first = make_commitment(external_ref="order-1", what="first")
        second = make_commitment(external_ref="order-1", what="second")
        other = make_commitment(external_ref="order-2")
        assert store.add_many([first, other, second]) == [
            (first, True),
            (other, True),
            (first, False),
        ]
        assert store.count("tenant-a", Query()) == 2

    def test_add_many_returns_existing_refs(self, store: Store) -> None:
        """A batch item with a stored reference returns the stored one."""
        old = make_commitment(external_ref="order-1")
        store.add(old)
        new = make_commitment(external_ref="order-2")
        assert store.add_many([make_commitment(external_ref="order-1"), new]) == [
            (old, False),
            (new, True),
        ]
        assert store.count("tenant-a", Query()) == 2

    def test_add_many_spans_tenants(self, store: Store) -> None:
        """One batch may hold several tenants' commitments."""
        a = make_commitment("tenant-a", external_ref="order-1")
        b = make_commitment("tenant-b", external_ref="order-1")
        assert store.add_many([a, b]) == [(a, True), (b, True)]
        assert store.find("tenant-a", Query()) == [a]
        assert store.find("tenant-b", Query()) == [b]

    @_settings
    @given(
        size=st.integers(min_value=1, max_value=8),
        refs=st.lists(st.sampled_from(["r1", "r2", "r3", None]), min_size=8, max_size=8),
        clash=st.one_of(st.none(), st.integers(min_value=0, max_value=7)),
    )
    @example(size=3, refs=["r1", None, "r2", None, None, None, None, None], clash=2)
    def test_add_many_is_all_or_nothing(
        self, store: Store, size: int, refs: list[str | None], clash: int | None
    ) -> None:
        """Random batches: all stored with the right mapping, or nothing on a conflict."""
        tenant = _tenant()
        batch = [make_commitment(tenant, external_ref=refs[i]) for i in range(size)]
        if clash is not None and clash < size and clash > 0:
            # a later item repeats an earlier item's id; make it not a ref duplicate
            batch[clash] = make_commitment(tenant, id=batch[0].id, external_ref=None)
            with pytest.raises(ConflictError):
                store.add_many(batch)
            assert store.count(tenant, Query()) == 0
            return
        results = store.add_many(batch)
        first_of: dict[str, Commitment] = {}
        for c, (got, created) in zip(batch, results, strict=True):
            if c.external_ref is not None and c.external_ref in first_of:
                assert (got, created) == (first_of[c.external_ref], False)
            else:
                assert (got, created) == (c, True)
                if c.external_ref is not None:
                    first_of[c.external_ref] = c
        assert store.count(tenant, Query()) == sum(created for _, created in results)

    # ------------------------------------------------------------ find and count

    def _population(self, store: Store, tenant: str) -> list[Commitment]:
        """Nine commitments in ``tenant`` with ties in due_at and every status."""
        base = T0
        specs = [
            # customer, owner, kind, due offset (hours), status, waiting_for, made offset
            ("c1", "alice", "reply", 5, Status.OPEN, None, 0),
            ("c1", "bob", "reply", 5, Status.KEPT, "sku:1", 1),
            ("c2", "alice", "call", 1, Status.PAUSED, "sku:1", 2),
            ("c2", "bob", "call", 9, Status.BROKEN, None, 3),
            ("c3", "alice", "thanks", 5, Status.CANCELLED, "sku:2", 4),
            ("c3", "carol", "reply", 0, Status.OPEN, None, 5),
            ("c1", "carol", "thanks", 12, Status.OPEN, "sku:2", 6),
            ("c2", "alice", "reply", 1, Status.OPEN, None, 7),
            ("c3", "bob", "call", 12, Status.KEPT, None, 8),
        ]
        out = []
        for i, (cust, owner, kind, due_h, status, waiting, made_h) in enumerate(specs):
            made = base + _dt.timedelta(hours=made_h, microseconds=i)
            c = make_commitment(
                tenant,
                customer=cust,
                owner=owner,
                kind=kind,
                made_at=made,
                due_at=base + _dt.timedelta(hours=24 + due_h),
                waiting_for=waiting,
                external_ref=f"ref-{i}",
            )
            store.add(c)
            if status is not Status.OPEN:
                c = store.update(with_status(c, status), expected_version=1)
            out.append(c)
        return out

    @pytest.mark.parametrize(
        "query",
        [
            Query(),
            Query(customer="c1"),
            Query(owner="alice"),
            Query(kind="call"),
            Query(statuses={Status.OPEN}),
            Query(statuses={Status.KEPT, Status.BROKEN, Status.CANCELLED}),
            Query(statuses=Status.PAUSED),
            Query(waiting_for="sku:1"),
            Query(external_ref="ref-3"),
            Query(due_after=T0 + _dt.timedelta(hours=29)),
            Query(due_before=T0 + _dt.timedelta(hours=29)),
            Query(due_after=T0 + _dt.timedelta(hours=25), due_before=T0 + _dt.timedelta(hours=36)),
            Query(due_after=T0 + _dt.timedelta(hours=29), due_before=T0 + _dt.timedelta(hours=29)),
            Query(customer="c2", owner="alice", statuses={Status.OPEN, Status.PAUSED}),
            Query(limit=1),
            Query(limit=4),
            Query(limit=100),
            Query(order="made_at"),
            Query(order="made_at", limit=3, owner="bob"),
            Query(customer="nobody"),
        ],
        ids=lambda q: ",".join(
            f"{k}={v}" for k, v in attrs.asdict(q, recurse=False).items() if v not in (None,)
        )[:60],
    )
    def test_find_filters_orders_and_limits(self, store: Store, query: Query) -> None:
        """Each filter, combinations, ordering and ``limit`` match the reference semantics."""
        population = self._population(store, "tenant-a")
        self._population(store, "tenant-b")  # identical twins in another tenant
        want = sorted((c for c in population if query.matches(c)), key=query.sort_key)
        total = len(want)
        if query.limit is not None:
            want = want[: query.limit]
        got = store.find("tenant-a", query)
        assert [c.id for c in got] == [c.id for c in want]
        assert got == want
        assert store.count("tenant-a", query) == total

    def test_due_after_is_inclusive_and_due_before_exclusive(self, store: Store) -> None:
        """``due_after`` is inclusive and ``due_before`` exclusive, to the microsecond."""
        at = T0 + _dt.timedelta(days=2, microseconds=1)
        c = make_commitment(due_at=at)
        store.add(c)
        assert store.find("tenant-a", Query(due_after=at)) == [c]
        assert store.find("tenant-a", Query(due_before=at)) == []
        assert store.find("tenant-a", Query(due_before=at + _dt.timedelta(microseconds=1))) == [c]
        assert store.find("tenant-a", Query(due_after=at + _dt.timedelta(microseconds=1))) == []

    def test_equal_deadlines_are_ordered_by_id(self, store: Store) -> None:
        """Ties in ``due_at`` (or ``made_at``) are ordered by id."""
        due = T0 + _dt.timedelta(days=1)
        batch = [make_commitment(due_at=due, made_at=T0) for _ in range(6)]
        for c in reversed(batch):
            store.add(c)
        assert [c.id for c in store.find("tenant-a", Query())] == sorted(c.id for c in batch)
        got = [c.id for c in store.find("tenant-a", Query(order="made_at"))]
        assert got == sorted(c.id for c in batch)

    def test_count_ignores_limit(self, store: Store) -> None:
        """``count`` ignores ``limit``."""
        self._population(store, "tenant-a")
        assert store.count("tenant-a", Query(limit=2)) == 9
        assert len(store.find("tenant-a", Query(limit=2))) == 2

    def test_find_sees_updates(self, store: Store) -> None:
        """``find`` filters on the latest stored state."""
        c = make_commitment()
        store.add(c)
        store.update(with_status(c, Status.KEPT), expected_version=1)
        assert store.find("tenant-a", Query(statuses={Status.OPEN})) == []
        assert store.count("tenant-a", Query(statuses={Status.KEPT})) == 1

    @_settings
    @given(
        rows=st.lists(
            st.tuples(
                st.sampled_from(["c1", "c2"]),
                st.sampled_from(["alice", "bob"]),
                st.integers(min_value=0, max_value=4),
                st.integers(min_value=0, max_value=4),
                st.sampled_from(list(Status)),
                st.sampled_from([None, "sku:1"]),
            ),
            max_size=10,
        ),
        data=st.data(),
    )
    def test_find_agrees_with_the_reference_semantics(
        self,
        store: Store,
        rows: list[tuple[str, str, int, int, Status, str | None]],
        data: st.DataObject,
    ) -> None:
        """Random rows and queries: ``find`` and ``count`` follow ``Query.matches``."""
        tenant = _tenant()
        population = []
        for customer, owner, due_h, made_h, status, waiting in rows:
            c = make_commitment(
                tenant,
                customer=customer,
                owner=owner,
                made_at=T0 + _dt.timedelta(hours=made_h),
                due_at=T0 + _dt.timedelta(hours=10 + due_h),
                waiting_for=waiting,
            )
            store.add(c)
            if status is not Status.OPEN:
                c = store.update(with_status(c, status), expected_version=1)
            population.append(c)
        instants = st.sampled_from([None] + [T0 + _dt.timedelta(hours=10 + h) for h in range(6)])
        after = data.draw(instants, label="due_after")
        before = data.draw(instants, label="due_before")
        if after is not None and before is not None and after > before:
            after, before = before, after
        query = Query(
            customer=data.draw(st.sampled_from([None, "c1", "c2"]), label="customer"),
            owner=data.draw(st.sampled_from([None, "alice", "bob"]), label="owner"),
            statuses=data.draw(
                st.none() | st.frozensets(st.sampled_from(list(Status)), min_size=1),
                label="statuses",
            ),
            due_after=after,
            due_before=before,
            waiting_for=data.draw(st.sampled_from([None, "sku:1"]), label="waiting_for"),
            limit=data.draw(st.none() | st.integers(min_value=1, max_value=12), label="limit"),
            order=data.draw(st.sampled_from(["due_at", "made_at"]), label="order"),
        )
        want = sorted((c for c in population if query.matches(c)), key=query.sort_key)
        assert store.count(tenant, query) == len(want)
        if query.limit is not None:
            want = want[: query.limit]
        assert [c.id for c in store.find(tenant, query)] == [c.id for c in want]
