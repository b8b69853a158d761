"""``CommitmentRepositoryContract``: the tests of the ``"commitments"`` port.

Add and get, byte-exact round trips, versions and stale writes, append-only
histories, external references, tenants, ``add_many`` and ``find``; see
:mod:`keepword.testing.contract` for how to run it.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword._ids import new_id
from keepword.commitment import Commitment, Event, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.ports import CAPABILITIES, PORTS, CommitmentRepository, Query, Store, declared_ports
from keepword.testing._hostile import HOSTILE_STRINGS
from keepword.testing.contract._repository_queries import RepositoryQueryTests
from keepword.testing.contract._support import (
    T0,
    UTC,
    PortContract,
    _hostile_commitment,
    _identifiers,
    _instants,
    _json_values,
    _race,
    _settings,
    _tenant,
    _text,
    _us_calendar,
    assert_same_commitment,
    for_port,
    make_commitment,
    next_state,
)

__all__ = ["CommitmentRepositoryContract"]


@for_port("commitments")
class CommitmentRepositoryContract(RepositoryQueryTests, PortContract):
    """Every behaviour :class:`keepword.ports.CommitmentRepository` promises, as pytest tests.

    Subclass it as ``TestSomethingStore`` and override the ``store`` fixture
    so that it yields a fresh, empty store (function scope) and closes it
    afterwards.  Runs when the store declares ``"commitments"`` in its
    ``ports``; skipped, naming the port, otherwise.  Test names say the
    behaviour they pin down.
    """

    # ------------------------------------------------------------ the store itself

    def test_store_satisfies_the_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.CommitmentRepository`` and declares it."""
        assert isinstance(store, CommitmentRepository)
        assert "commitments" in declared_ports(store)

    def test_ports_are_a_frozenset_of_known_names(self, store: Store) -> None:
        """``ports`` is a frozenset drawn from ``PORTS``, with ``"commitments"`` in it."""
        assert isinstance(store.ports, frozenset)
        assert store.ports <= PORTS, store.ports - PORTS

    def test_capabilities_are_a_frozenset_of_known_names(self, store: Store) -> None:
        """``capabilities`` is a frozenset drawn from ``CAPABILITIES``."""
        assert isinstance(store.capabilities, frozenset)
        assert store.capabilities <= CAPABILITIES, store.capabilities - CAPABILITIES

    def test_close_is_idempotent(self, store: Store) -> None:
        """``close()`` may be called twice."""
        store.close()
        store.close()

    def test_a_new_store_is_empty(self, store: Store) -> None:
        """A fresh store finds, counts and resolves nothing."""
        assert store.find("tenant-a", Query()) == []
        assert store.count("tenant-a", Query()) == 0
        assert store.get_by_ref("tenant-a", "order-1") is None

    # ------------------------------------------------------------ add and get

    def test_add_stores_and_returns_the_commitment(self, store: Store) -> None:
        """``add`` returns ``(c, True)`` and ``get`` gives ``c`` back at version 1."""
        c = make_commitment()
        stored, created = store.add(c)
        assert created is True
        assert_same_commitment(stored, c)
        assert_same_commitment(store.get(c.tenant, c.id), c)
        assert store.get(c.tenant, c.id).version == 1

    def test_every_field_round_trips_exactly(self, store: Store) -> None:
        """Every field, optional ones set, comes back exactly."""
        c = make_commitment(
            external_ref="order-1",
            tags=("vip", "backorder", "a"),
            priority=2**31 - 1,
            waiting_for="sku:FIG-1",
            terms={"price": 12.5, "qty": 3, "free": True, "note": None, "list": [1, "2", 3.0]},
            spec="business_days=3",
            calendar=_us_calendar(),
            actor="alice",
        )
        c = next_state(c, event="breached", at=c.due_at, data={}, breached_at=c.due_at)
        kept = T0 + _dt.timedelta(days=4, microseconds=1)
        c = attrs.evolve(
            c,
            version=1,
            status=Status.KEPT,
            kept_at=kept,
            closed_at=kept,
            lateness=_dt.timedelta(hours=5, microseconds=7),
            deadline_version=3,
        )
        store.add(c)
        assert_same_commitment(store.get(c.tenant, c.id), c)

    @pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=lambda s: repr(s)[:24])
    def test_hostile_strings_round_trip_byte_exact(self, store: Store, text: str) -> None:
        """Hostile text in every text field round-trips and is found by exact match."""
        c = _hostile_commitment(text)
        store.add(c)
        assert_same_commitment(store.get(text, c.id), c)
        got = store.get_by_ref(text, text)
        assert got is not None
        assert_same_commitment(got, c)
        for query in (
            Query(customer=text),
            Query(owner=text),
            Query(kind=text),
            Query(waiting_for=text),
            Query(external_ref=text),
        ):
            assert [x.id for x in store.find(text, query)] == [c.id], query
            assert store.count(text, query) == 1, query

    def test_a_ten_kilobyte_what_round_trips(self, store: Store) -> None:
        """A 10 kB ``what`` (and ``terms`` value) comes back whole."""
        what = ("Ünïcødé ' \" ; -- 👍🏽 \\ %_ " * 400)[:10_240]
        c = make_commitment(what=what, terms={"long": what})
        store.add(c)
        assert_same_commitment(store.get(c.tenant, c.id), c)

    def test_long_identifiers_round_trip(self, store: Store) -> None:
        """255-character identifiers of multi-byte characters round-trip."""
        ident = ("é👍" * 200)[:255]
        c = make_commitment(ident, customer=ident, owner=ident, kind=ident, external_ref=ident)
        store.add(c)
        assert_same_commitment(store.get(ident, c.id), c)
        assert store.get_by_ref(ident, ident) == c

    @_settings
    @given(
        what=_text,
        customer=_identifiers,
        owner=_identifiers,
        ref=_identifiers,
        tags=st.lists(_identifiers, max_size=4),
        terms=st.dictionaries(_text, _json_values, max_size=5),
        priority=st.integers(min_value=0, max_value=2**31 - 1),
    )
    def test_arbitrary_values_round_trip_byte_exact(
        self,
        store: Store,
        what: str,
        customer: str,
        owner: str,
        ref: str,
        tags: list[str],
        terms: dict[str, Any],
        priority: int,
    ) -> None:
        """Arbitrary text, tags, priorities and JSON terms round-trip byte-exact."""
        tenant = _tenant()
        c = make_commitment(
            tenant,
            customer=customer,
            owner=owner,
            what=what,
            external_ref=ref,
            tags=tags,
            terms=terms,
            priority=priority,
            data={"terms": terms},
        )
        assert store.add(c) == (c, True)
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.get_by_ref(tenant, ref) == c
        assert [x.id for x in store.find(tenant, Query(customer=customer, owner=owner))] == [c.id]

    @_settings
    @given(
        made=_instants,
        due_delta=st.timedeltas(min_value=_dt.timedelta(0), max_value=_dt.timedelta(days=3650)),
        at=_instants,
    )
    def test_instants_come_back_utc_with_microseconds(
        self, store: Store, made: _dt.datetime, due_delta: _dt.timedelta, at: _dt.datetime
    ) -> None:
        """Every instant comes back aware, in UTC, with its microseconds."""
        due = min(
            made + min(due_delta, _dt.timedelta(days=3650)), _dt.datetime(2199, 12, 31, tzinfo=UTC)
        )
        c = make_commitment(_tenant(), made_at=made, due_at=due)
        store.add(c)
        d = next_state(c, event="paused", at=at, status=Status.PAUSED, paused_at=at)
        d = next_state(d, event="kept", at=at, status=Status.KEPT, kept_at=at, closed_at=at)
        d = attrs.evolve(d, version=2, breached_at=due, lateness=abs(at - due))
        store.update(d, expected_version=1)
        assert_same_commitment(store.get(c.tenant, c.id), d)

    def test_instants_given_in_other_zones_are_stored_as_the_same_instant(
        self, store: Store
    ) -> None:
        """An instant made in another zone is the same UTC instant after storing."""
        from zoneinfo import ZoneInfo

        local = _dt.datetime(2026, 3, 8, 3, 30, 0, 999_999, tzinfo=ZoneInfo("America/New_York"))
        c = make_commitment(made_at=local, due_at=local + _dt.timedelta(days=1))
        store.add(c)
        got = store.get(c.tenant, c.id)
        assert got.made_at == local
        assert got.made_at.utcoffset() == _dt.timedelta(0)
        assert got.made_at.microsecond == 999_999

    def test_calendar_snapshot_round_trips_by_value(self, store: Store) -> None:
        """The calendar snapshot comes back equal by value."""
        cal = _us_calendar()
        c = make_commitment(calendar=cal, spec="business_days=3")
        store.add(c)
        got = store.get(c.tenant, c.id)
        assert got.calendar == cal
        assert got.calendar.to_dict() == cal.to_dict()

    def test_add_refuses_a_version_other_than_1(self, store: Store) -> None:
        """``add`` of a version-2 commitment is ``InvalidArgumentError``; nothing stored."""
        c = next_state(make_commitment())
        with pytest.raises(InvalidArgumentError):
            store.add(c)
        with pytest.raises(NotFoundError):
            store.get(c.tenant, c.id)

    def test_add_with_an_existing_id_conflicts_and_keeps_the_first(self, store: Store) -> None:
        """A second ``add`` with an existing id is ``ConflictError``; the first stays."""
        first = make_commitment(what="first")
        store.add(first)
        again = make_commitment(id=first.id, what="second", owner="bob")
        with pytest.raises(ConflictError):
            store.add(again)
        assert_same_commitment(store.get(first.tenant, first.id), first)
        assert store.count(first.tenant, Query()) == 1

    def test_an_id_is_unique_across_tenants(self, store: Store) -> None:
        """An id taken in tenant A is a conflict in tenant B, and B still cannot read A's."""
        a = make_commitment("tenant-a")
        store.add(a)
        with pytest.raises(ConflictError):
            store.add(make_commitment("tenant-b", id=a.id))
        with pytest.raises(NotFoundError):
            store.get("tenant-b", a.id)
        assert_same_commitment(store.get("tenant-a", a.id), a)

    def test_get_of_a_missing_id_raises_not_found(self, store: Store) -> None:
        """``get`` of an unknown id raises ``NotFoundError`` (a ``LookupError``)."""
        store.add(make_commitment())
        with pytest.raises(NotFoundError) as info:
            store.get("tenant-a", new_id(T0))
        assert isinstance(info.value, LookupError)

    def test_get_by_ref_of_a_missing_ref_is_none(self, store: Store) -> None:
        """``get_by_ref`` of an unknown reference is ``None``."""
        store.add(make_commitment(external_ref="order-1"))
        assert store.get_by_ref("tenant-a", "order-2") is None

    # ------------------------------------------------------------ external references

    def test_adding_an_existing_ref_returns_the_existing_commitment(self, store: Store) -> None:
        """A retry with a known reference returns ``(existing, False)``; nothing is stored."""
        first = make_commitment(external_ref="order-1", what="first")
        store.add(first)
        retry = make_commitment(external_ref="order-1", what="a different payload", owner="bob")
        existing, created = store.add(retry)
        assert created is False
        assert_same_commitment(existing, first)
        assert store.count("tenant-a", Query()) == 1
        with pytest.raises(NotFoundError):
            store.get("tenant-a", retry.id)

    def test_an_existing_ref_is_returned_as_last_updated(self, store: Store) -> None:
        """The existing commitment a retry returns is its latest stored state."""
        first = make_commitment(external_ref="order-1")
        store.add(first)
        changed = next_state(first, owner="bob")
        store.update(changed, expected_version=1)
        existing, created = store.add(make_commitment(external_ref="order-1"))
        assert created is False
        assert_same_commitment(existing, changed)

    def test_commitments_without_a_ref_are_never_deduplicated(self, store: Store) -> None:
        """Commitments without an external reference are all stored."""
        for _ in range(3):
            assert store.add(make_commitment())[1] is True
        assert store.count("tenant-a", Query()) == 3

    @pytest.mark.parametrize(
        ("ref", "other"),
        [
            ("Order-1", "order-1"),
            ("order-1", "order-1 "),
            ("e\u0301", "\u00e9"),
            ("straße", "strasse"),
            ("ǅ", "ǆ"),
            ("a", "а"),
        ],
        ids=["case", "trailing-space", "nfd-nfc", "eszett", "titlecase", "confusable"],
    )
    def test_refs_differing_by_one_code_point_are_different(
        self, store: Store, ref: str, other: str
    ) -> None:
        """References differing by case, padding or normalisation are different references."""
        a = make_commitment(external_ref=ref)
        b = make_commitment(external_ref=other)
        assert store.add(a)[1] is True
        assert store.add(b)[1] is True
        assert store.get_by_ref("tenant-a", ref) == a
        assert store.get_by_ref("tenant-a", other) == b
        assert [c.id for c in store.find("tenant-a", Query(external_ref=other))] == [b.id]

    def test_concurrent_adds_of_one_ref_store_exactly_one(self, store: Store) -> None:
        """Threads adding one reference at once store one; the others get it back, no error."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        candidates = [make_commitment(external_ref="webhook-7") for _ in range(self.threads)]
        results = _race(self.threads, lambda i: store.add(candidates[i]))
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        pairs = [r for r in results if not isinstance(r, BaseException)]
        winners = [c for c, created in pairs if created]
        assert len(winners) == 1
        assert all(c == winners[0] for c, _ in pairs)
        assert store.count("tenant-a", Query()) == 1

    # ------------------------------------------------------------ update and versions

    def test_update_with_the_right_version_stores_the_new_state(self, store: Store) -> None:
        """``update`` with the stored version stores and returns the new state."""
        c = make_commitment()
        store.add(c)
        d = next_state(c, owner="bob", data={"from": "alice", "to": "bob"})
        returned = store.update(d, expected_version=1)
        assert_same_commitment(returned, d)
        got = store.get(c.tenant, c.id)
        assert_same_commitment(got, d)
        assert got.version == 2

    def test_every_mutable_field_can_change(self, store: Store) -> None:
        """Every field but id, tenant, made_at and external_ref can change."""
        c = make_commitment(external_ref="order-1", waiting_for="sku:1", tags=("a",))
        store.add(c)
        later = T0 + _dt.timedelta(days=9, microseconds=3)
        d = next_state(
            c,
            event="renegotiated",
            customer="acct-43",
            owner="bob",
            what="something else",
            due_at=later,
            status=Status.PAUSED,
            tags=("b", "c"),
            priority=7,
            waiting_for=None,
            terms={"new": [1, 2]},
            spec="hours=24",
            calendar=_us_calendar(),
            paused_at=later,
            breached_at=T0,
            deadline_version=2,
        )
        d = attrs.evolve(d, kind="call")
        store.update(d, expected_version=1)
        assert_same_commitment(store.get(c.tenant, c.id), d)
        assert store.get_by_ref("tenant-a", "order-1") == d

    def test_an_update_may_append_no_events(self, store: Store) -> None:
        """An update may append no events (the version still goes up)."""
        c = make_commitment()
        store.add(c)
        d = next_state(c, events=0, priority=3)
        store.update(d, expected_version=1)
        assert_same_commitment(store.get(c.tenant, c.id), d)

    def test_an_update_may_append_several_events(self, store: Store) -> None:
        """An update may append several events; all are kept."""
        c = make_commitment()
        store.add(c)
        d = next_state(c, events=3, event="breached", breached_at=c.due_at)
        store.update(d, expected_version=1)
        assert [e.seq for e in store.get(c.tenant, c.id).history] == [1, 2, 3, 4]

    def test_a_stale_update_conflicts_and_changes_nothing(self, store: Store) -> None:
        """A write based on an old version raises ``ConflictError(1, 2)`` and changes nothing."""
        c = make_commitment()
        store.add(c)
        mine = next_state(c, owner="bob")
        theirs = next_state(c, owner="carol", event="reassigned", data={"to": "carol"})
        store.update(mine, expected_version=1)
        with pytest.raises(ConflictError) as info:
            store.update(theirs, expected_version=1)
        assert (info.value.expected_version, info.value.actual_version) == (1, 2)
        assert_same_commitment(store.get(c.tenant, c.id), mine)

    def test_an_update_from_the_future_conflicts(self, store: Store) -> None:
        """An expected version above the stored one is a conflict too."""
        c = make_commitment()
        store.add(c)
        ahead = attrs.evolve(next_state(next_state(c)), version=4)
        with pytest.raises(ConflictError) as info:
            store.update(ahead, expected_version=3)
        assert (info.value.expected_version, info.value.actual_version) == (3, 1)
        assert_same_commitment(store.get(c.tenant, c.id), c)

    def test_concurrent_updates_of_one_version_have_one_winner(self, store: Store) -> None:
        """Threads updating one version at once: one wins, the others get ``ConflictError``."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        c = make_commitment()
        store.add(c)
        candidates = [next_state(c, owner=f"owner-{i}") for i in range(self.threads)]
        results = _race(self.threads, lambda i: store.update(candidates[i], expected_version=1))
        winners = [r for r in results if isinstance(r, Commitment)]
        losers = [r for r in results if isinstance(r, ConflictError)]
        assert len(winners) == 1, results
        assert len(losers) == self.threads - 1, results
        assert_same_commitment(store.get(c.tenant, c.id), winners[0])

    def test_update_of_a_missing_commitment_raises_not_found(self, store: Store) -> None:
        """``update`` of an unknown id raises ``NotFoundError`` and creates nothing."""
        ghost = next_state(make_commitment())
        with pytest.raises(NotFoundError):
            store.update(ghost, expected_version=1)
        with pytest.raises(NotFoundError):
            store.get(ghost.tenant, ghost.id)

    def test_update_must_raise_the_version_by_exactly_one(self, store: Store) -> None:
        """A new version other than expected + 1 is ``InvalidArgumentError``."""
        c = make_commitment()
        store.add(c)
        for version in (1, 3):
            bad = attrs.evolve(next_state(c, owner="bob"), version=version)
            with pytest.raises(InvalidArgumentError):
                store.update(bad, expected_version=1)
        assert_same_commitment(store.get(c.tenant, c.id), c)

    def test_update_refuses_a_rewritten_history(self, store: Store) -> None:
        """A history whose past events changed is refused; nothing changes."""
        c = make_commitment()
        store.add(c)
        d = next_state(c, owner="bob")
        store.update(d, expected_version=1)
        forged = Event(seq=2, kind="kept", at=T0, actor="mallory", data={})
        rewritten = next_state(d, owner="carol")
        rewritten = attrs.evolve(
            rewritten, history=(rewritten.history[0], forged, rewritten.history[2])
        )
        with pytest.raises(InvalidArgumentError):
            store.update(rewritten, expected_version=2)
        assert_same_commitment(store.get(c.tenant, c.id), d)

    def test_update_refuses_a_shortened_history(self, store: Store) -> None:
        """A history with events dropped is refused; nothing changes."""
        c = make_commitment()
        store.add(c)
        d = next_state(c, owner="bob")
        store.update(d, expected_version=1)
        shortened = attrs.evolve(d, version=3, owner="carol", history=d.history[:1])
        with pytest.raises(InvalidArgumentError):
            store.update(shortened, expected_version=2)
        assert_same_commitment(store.get(c.tenant, c.id), d)

    @pytest.mark.parametrize(
        "change",
        [
            {"made_at": T0 + _dt.timedelta(seconds=1)},
            {"external_ref": "order-2"},
            {"external_ref": None},
        ],
        ids=["made_at", "external_ref", "external_ref-dropped"],
    )
    def test_update_refuses_to_change_an_immutable_field(
        self, store: Store, change: dict[str, Any]
    ) -> None:
        """Changing ``made_at`` or ``external_ref`` is refused; the reference still resolves."""
        c = make_commitment(external_ref="order-1")
        store.add(c)
        with pytest.raises(InvalidArgumentError):
            store.update(next_state(c, **change), expected_version=1)
        assert_same_commitment(store.get(c.tenant, c.id), c)
        assert store.get_by_ref("tenant-a", "order-1") == c

    @_settings
    @given(
        steps=st.lists(
            st.tuples(
                st.sampled_from(
                    ["paused", "resumed", "renegotiated", "reassigned", "breached", "retargeted"]
                ),
                st.integers(min_value=0, max_value=3),
                st.dictionaries(_text, _json_values, max_size=3),
            ),
            max_size=8,
        )
    )
    def test_history_is_appended_never_rewritten(
        self, store: Store, steps: list[tuple[str, int, dict[str, Any]]]
    ) -> None:
        """Over many updates each stored history extends every earlier one."""
        c = make_commitment(_tenant())
        store.add(c)
        seen = [c]
        for kind, events, data in steps:
            d = next_state(seen[-1], event=kind, events=events, data=data)
            assert store.update(d, expected_version=seen[-1].version) == d
            seen.append(d)
            got = store.get(c.tenant, c.id)
            assert_same_commitment(got, d)
            for earlier in seen:
                assert got.history[: len(earlier.history)] == earlier.history
        final = store.get(c.tenant, c.id)
        assert final.version == 1 + len(steps)
        assert [e.seq for e in final.history] == list(range(1, len(final.history) + 1))
        assert len(final.history) == 1 + sum(n for _, n, _ in steps)

    @_settings
    @given(writes=st.lists(st.booleans(), min_size=1, max_size=12))
    def test_versions_count_successful_writes(self, store: Store, writes: list[bool]) -> None:
        """Each successful update adds one to the version; each stale one adds nothing."""
        c = make_commitment(_tenant())
        store.add(c)
        current = c
        for fresh in writes:
            if fresh:
                current = store.update(next_state(current), expected_version=current.version)
                continue
            # a stale write: from the past when there is one, else from the future
            stale = current.version - 1 if current.version > 1 else current.version + 1
            with pytest.raises(ConflictError) as info:
                store.update(
                    attrs.evolve(next_state(current), version=stale + 1), expected_version=stale
                )
            assert info.value.actual_version == current.version
        assert store.get(c.tenant, c.id).version == 1 + sum(writes)
