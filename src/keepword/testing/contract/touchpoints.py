"""``TouchpointLogContract``: the tests of the ``"touchpoints"`` port.

Append-only touchpoints per tenant: byte-exact round trips, the ref that
makes a retry store nothing (also when threads race), tenants apart, the
``(at, id)`` order with filters and limits, and the three aggregate
questions customer care asks (``thanks_by_customer``,
``extra_mile_candidate``, ``silent_customers``), each checked against the
sentence of :class:`keepword.ports.TouchpointLog` that defines it; and, on
a store that has the optional :class:`keepword.ports.AtomicTouchpoints`, a
touchpoint and its commitment writes stored together or not at all.
See :mod:`keepword.testing.contract` for how to run it.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepword._ids import new_id
from keepword.commitment import Commitment
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    KeepwordError,
    NotFoundError,
)
from keepword.ports import AtomicTouchpoints, Store, TouchpointLog
from keepword.testing._hostile import HOSTILE_STRINGS
from keepword.testing.contract._support import (
    T0,
    PortContract,
    _identifiers,
    _instants,
    _json_text,
    _json_values,
    _race,
    _settings,
    _tenant,
    _text,
    for_port,
    make_commitment,
    requires,
)
from keepword.touchpoint import Touchpoint, pick_order
from keepword.transitions import keep

__all__ = ["TouchpointLogContract", "assert_same_touchpoint", "make_touchpoint"]

_HOUR = _dt.timedelta(hours=1)

# Customers whose names differ by one code point (case, padding, normalisation):
# orders and groups must treat them as the different customers they are.
_CUSTOMERS = ("acct-1", "Acct-1", "acct-1 ", "\u00e9", "e\u0301", "zz")
_KINDS = ("thank_you", "extra_mile", "reply", "Thank_you")


def make_touchpoint(
    tenant: str = "tenant-a",
    *,
    id: str | None = None,
    customer: str = "acct-42",
    channel: str = "email",
    kind: str = "thank_you",
    at: _dt.datetime = T0,
    occasion: str | None = None,
    actor: str | None = None,
    automated: bool = False,
    commitment_id: str | None = None,
    ref: str | None = None,
    thread: str | None = None,
    counted: bool = True,
    data: Mapping[str, Any] | None = None,
) -> Touchpoint:
    """A valid touchpoint with a fresh id, for store tests; every field has a plain default.

    >>> t = make_touchpoint("shop-7", customer="acct-1", ref="mail-1")
    >>> t.kind, t.counted, t.ref
    ('thank_you', True, 'mail-1')
    """
    return Touchpoint(
        id=new_id(at) if id is None else id,
        tenant=tenant,
        customer=customer,
        channel=channel,
        kind=kind,
        at=at,
        occasion=occasion,
        actor=actor,
        automated=automated,
        commitment_id=commitment_id,
        ref=ref,
        thread=thread,
        counted=counted,
        data=data,
    )


def assert_same_touchpoint(got: Touchpoint, want: Touchpoint) -> None:
    """Fail unless ``got`` is exactly ``want``: equal, strings byte-exact, ``at`` UTC to the µs.

    Stricter than ``==``: strings must match code point for code point, the
    instant must be UTC with the same microsecond, and ``data`` must keep
    its JSON types (``1`` is not ``1.0`` nor ``True``).
    """
    assert isinstance(got, Touchpoint), f"not a Touchpoint: {got!r}"
    assert got == want, f"stored {got!r}\n!= given {want!r}"
    for field in attrs.fields(Touchpoint):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if isinstance(b, str):
            assert isinstance(a, str), f"{field.name}: {a!r} is not a str"
            assert a.encode("utf-8") == b.encode("utf-8"), f"{field.name}: {a!r} != {b!r}"
        elif isinstance(b, bool):
            assert a is b, f"{field.name}: {a!r} is not {b!r}"
    assert got.at.utcoffset() == _dt.timedelta(0), f"at is not UTC: {got.at!r}"
    assert got.at.microsecond == want.at.microsecond, "at lost its microseconds"
    assert _json_text(got.data) == _json_text(want.data), f"data: {got.data!r} != {want.data!r}"


# --------------------------------------------------------------------------- the port's sentences


def _thanks(
    touchpoints: Iterable[Touchpoint], commitments: Iterable[Commitment], below: int
) -> list[tuple[str, int, _dt.datetime | None]]:
    """``thanks_by_customer`` as its docstring says it, from what was stored."""
    everyone = {t.customer for t in touchpoints} | {c.customer for c in commitments}
    out = []
    for customer in sorted(everyone):
        counted = [
            t.at
            for t in touchpoints
            if t.customer == customer and t.kind == "thank_you" and t.counted
        ]
        if len(counted) < below:
            out.append((customer, len(counted), max(counted, default=None)))
    return out


def _candidate(
    touchpoints: Sequence[Touchpoint],
    commitments: Sequence[Commitment],
    since: _dt.datetime,
    seed: str,
) -> str | None:
    """``extra_mile_candidate`` as its docstring says it, from what was stored."""
    eligible = {t.customer for t in touchpoints if t.at >= since}
    eligible |= {c.customer for c in commitments if c.made_at >= since}
    if not eligible:
        return None

    def picks(customer: str) -> int:
        return sum(1 for t in touchpoints if t.customer == customer and t.kind == "extra_mile")

    return min(eligible, key=lambda c: (picks(c), pick_order(seed, c)))


def _silent(touchpoints: Sequence[Touchpoint], quiet_since: _dt.datetime) -> list[str]:
    """``silent_customers`` as its docstring says it, from what was stored."""
    last: dict[str, _dt.datetime] = {}
    for t in touchpoints:
        last[t.customer] = max(last.get(t.customer, t.at), t.at)
    return sorted(c for c, at in last.items() if at < quiet_since)


@st.composite
def _log(draw: st.DrawFn, tenant: str) -> tuple[list[Touchpoint], list[Commitment]]:
    """A small tenant log: touchpoints of a few kinds and customers, and some commitments."""
    touchpoints = [
        make_touchpoint(
            tenant,
            id=new_id(T0),
            customer=draw(st.sampled_from(_CUSTOMERS)),
            kind=draw(st.sampled_from(_KINDS)),
            at=T0 + draw(st.integers(0, 6)) * _HOUR,
            counted=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 7)))
    ]
    commitments = [
        make_commitment(
            tenant,
            customer=draw(st.sampled_from(_CUSTOMERS)),
            made_at=T0 + draw(st.integers(0, 6)) * _HOUR,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return touchpoints, commitments


def _store_log(
    store: Store, touchpoints: Sequence[Touchpoint], commits: Sequence[Commitment]
) -> None:
    for t in touchpoints:
        assert store.add_touchpoint(t) == (t, True)
    for c in commits:
        assert store.add(c) == (c, True)


@for_port("touchpoints")
class TouchpointLogContract(PortContract):
    """Every behaviour :class:`keepword.ports.TouchpointLog` promises, as pytest tests.

    Subclass it (or :class:`~keepword.testing.contract.StoreContract`) as
    ``TestSomethingStore`` with a ``store`` fixture, as
    :class:`~keepword.testing.contract.CommitmentRepositoryContract`.  Runs
    when the store declares ``"touchpoints"``; skipped, naming the port,
    otherwise.  The aggregate tests also store commitments (relationships
    and eligibility count them), so they need ``"commitments"`` too.
    """

    # ------------------------------------------------------------ the store itself

    def test_store_satisfies_the_touchpoint_log_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.TouchpointLog`` (it has every method)."""
        assert isinstance(store, TouchpointLog)

    def test_a_new_tenant_has_no_touchpoints(self, store: Store) -> None:
        """An unknown tenant has no touchpoints, refs, relationships or silent customers."""
        tenant = _tenant()
        assert store.touchpoints(tenant) == []
        assert store.touchpoint_by_ref(tenant, "reply", "mail-1") is None
        assert store.thanks_by_customer(tenant, below=7) == []
        assert store.extra_mile_candidate(tenant, eligible_since=T0, seed="s") is None
        assert store.silent_customers(tenant, quiet_since=T0 + _HOUR) == []

    # ------------------------------------------------------------ round trips

    def test_add_stores_and_returns_the_touchpoint(self, store: Store) -> None:
        """``add_touchpoint`` returns ``(stored, True)``; the tenant's touchpoints hold it."""
        t = make_touchpoint(_tenant())
        assert store.add_touchpoint(t) == (t, True)
        (got,) = store.touchpoints(t.tenant)
        assert_same_touchpoint(got, t)

    def test_every_touchpoint_field_round_trips_exactly(self, store: Store) -> None:
        """Every field, the optional ones set, comes back exactly (data with its JSON types)."""
        t = make_touchpoint(
            _tenant(),
            customer="acct-42",
            channel="flowers",
            kind="received",
            at=T0 + _dt.timedelta(microseconds=1),
            occasion="first_purchase",
            actor="alice",
            automated=True,
            commitment_id=new_id(T0),
            ref="mail-<1@example.com>",
            thread="thread-9",
            counted=False,
            data={"n": 1, "f": 1.0, "b": True, "none": None, "list": [1, "2", 3.5, {"k": []}]},
        )
        store.add_touchpoint(t)
        got = store.touchpoint_by_ref(t.tenant, "received", t.ref or "")
        assert got is not None
        assert_same_touchpoint(got, t)
        assert_same_touchpoint(store.touchpoints(t.tenant)[0], t)

    def test_an_instant_from_another_zone_comes_back_utc(self, store: Store) -> None:
        """``at`` made in another zone is the same instant, in UTC, with its microseconds."""
        from zoneinfo import ZoneInfo

        local = _dt.datetime(2026, 3, 8, 3, 30, 0, 999_999, tzinfo=ZoneInfo("America/New_York"))
        t = make_touchpoint(_tenant(), at=local)
        store.add_touchpoint(t)
        (got,) = store.touchpoints(t.tenant)
        assert got.at == local
        assert got.at.utcoffset() == _dt.timedelta(0)
        assert got.at.microsecond == 999_999

    @_settings
    @given(
        customer=_identifiers,
        channel=_identifiers,
        kind=_identifiers,
        ref=_identifiers,
        thread=st.none() | _identifiers,
        at=_instants,
        data=st.dictionaries(_text, _json_values, max_size=5),
        flags=st.tuples(st.booleans(), st.booleans()),
    )
    def test_arbitrary_touchpoints_round_trip_byte_exact(
        self,
        store: Store,
        customer: str,
        channel: str,
        kind: str,
        ref: str,
        thread: str | None,
        at: _dt.datetime,
        data: dict[str, Any],
        flags: tuple[bool, bool],
    ) -> None:
        """Arbitrary identifiers, instants and JSON data round-trip byte-exact and are found."""
        t = make_touchpoint(
            _tenant(),
            customer=customer,
            channel=channel,
            kind=kind,
            at=at,
            ref=ref,
            thread=thread,
            automated=flags[0],
            counted=flags[1],
            data=data,
        )
        assert store.add_touchpoint(t) == (t, True)
        got = store.touchpoint_by_ref(t.tenant, kind, ref)
        assert got is not None
        assert_same_touchpoint(got, t)
        (found,) = store.touchpoints(t.tenant, customer=customer, kind=kind)
        assert_same_touchpoint(found, t)

    @pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=lambda s: repr(s)[:24])
    def test_hostile_strings_in_touchpoints_round_trip_or_are_refused(
        self, store: Store, text: str
    ) -> None:
        """Hostile text in every field round-trips byte-exact; a refusal is a KeepwordError."""
        t = make_touchpoint(
            text,
            customer=text,
            channel=text,
            kind=text,
            occasion=text,
            actor=text,
            commitment_id=text,
            ref=text,
            thread=text,
            data={text: [text]},
        )
        try:
            store.add_touchpoint(t)
        except KeepwordError:
            assert store.touchpoints(text) == [], "a refused touchpoint was stored"
            return
        got = store.touchpoint_by_ref(text, text, text)
        assert got is not None
        assert_same_touchpoint(got, t)
        assert [x.id for x in store.touchpoints(text, customer=text, kind=text)] == [t.id]
        assert store.thanks_by_customer(text, below=1) == [(text, 0, None)]
        assert store.extra_mile_candidate(text, eligible_since=T0, seed=text) == text
        assert store.silent_customers(text, quiet_since=T0 + _HOUR) == [text]

    # ------------------------------------------------------------ ids and refs

    def test_adding_a_known_ref_returns_the_stored_one_and_stores_nothing(
        self, store: Store
    ) -> None:
        """The same ``(tenant, kind, ref)`` again returns ``(existing, False)``, storing nothing."""
        tenant = _tenant()
        first = make_touchpoint(tenant, kind="received", ref="mail-1", customer="acct-1")
        retry = make_touchpoint(
            tenant, kind="received", ref="mail-1", customer="acct-2", at=T0 + _HOUR
        )
        assert store.add_touchpoint(first) == (first, True)
        got, created = store.add_touchpoint(retry)
        assert created is False
        assert_same_touchpoint(got, first)
        assert store.touchpoints(tenant) == [first]

    def test_a_ref_is_unique_per_tenant_and_kind_only(self, store: Store) -> None:
        """One ref under another kind, or in another tenant, is another touchpoint."""
        a, b = _tenant(), _tenant()
        received = make_touchpoint(a, kind="received", ref="mail-1")
        reply = make_touchpoint(a, kind="reply", ref="mail-1")
        elsewhere = make_touchpoint(b, kind="received", ref="mail-1")
        for t in (received, reply, elsewhere):
            assert store.add_touchpoint(t) == (t, True)
        assert store.touchpoint_by_ref(a, "received", "mail-1") == received
        assert store.touchpoint_by_ref(a, "reply", "mail-1") == reply
        assert store.touchpoint_by_ref(b, "received", "mail-1") == elsewhere
        assert store.touchpoint_by_ref(b, "reply", "mail-1") is None

    def test_touchpoints_without_a_ref_are_never_deduplicated(self, store: Store) -> None:
        """Touchpoints with no ref are all stored, however alike."""
        tenant = _tenant()
        same = [make_touchpoint(tenant) for _ in range(3)]
        for t in same:
            assert store.add_touchpoint(t) == (t, True)
        assert len(store.touchpoints(tenant)) == 3

    @pytest.mark.parametrize(
        ("ref", "other"),
        [
            ("mail-1", "Mail-1"),
            ("mail-1", "mail-1 "),
            ("\u00e9", "e\u0301"),
            ("straße", "strasse"),
            ("a", "\u0430"),
        ],
        ids=["case", "trailing-space", "nfd-nfc", "eszett", "confusable"],
    )
    def test_touchpoint_refs_differing_by_one_code_point_are_different(
        self, store: Store, ref: str, other: str
    ) -> None:
        """Refs differing by case, padding or normalisation are different refs."""
        tenant = _tenant()
        a = make_touchpoint(tenant, ref=ref)
        b = make_touchpoint(tenant, ref=other)
        assert store.add_touchpoint(a) == (a, True)
        assert store.add_touchpoint(b) == (b, True)
        assert store.touchpoint_by_ref(tenant, "thank_you", ref) == a
        assert store.touchpoint_by_ref(tenant, "thank_you", other) == b

    def test_an_existing_id_conflicts_and_keeps_the_first(self, store: Store) -> None:
        """An id stored already (in any tenant) is ``ConflictError``; nothing is stored."""
        a, b = _tenant(), _tenant()
        first = make_touchpoint(a)
        store.add_touchpoint(first)
        for tenant in (a, b):
            twin = make_touchpoint(tenant, id=first.id, customer="other", ref="fresh-ref")
            with pytest.raises(ConflictError):
                store.add_touchpoint(twin)
        assert store.touchpoints(a) == [first]
        assert store.touchpoints(b) == []
        assert store.touchpoint_by_ref(a, "thank_you", "fresh-ref") is None

    def test_concurrent_adds_of_one_touchpoint_ref_store_exactly_one(self, store: Store) -> None:
        """Threads adding one ref at once store one; the others get it back, no error."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        candidates = [
            make_touchpoint(tenant, kind="received", ref="webhook-7", customer=f"acct-{i}")
            for i in range(self.threads)
        ]
        results = _race(self.threads, lambda i: store.add_touchpoint(candidates[i]))
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        pairs = [r for r in results if not isinstance(r, BaseException)]
        winners = [t for t, created in pairs if created]
        assert len(winners) == 1, pairs
        assert all(t == winners[0] for t, _ in pairs)
        assert store.touchpoints(tenant) == winners

    # ------------------------------------------------------------ tenants

    @requires("commitments")
    def test_tenants_never_see_each_others_touchpoints(self, store: Store) -> None:
        """Another tenant, even one differing by one code point, sees none of a tenant's log."""
        tenant = _tenant()
        other = tenant.upper()
        store.add(make_commitment(tenant, customer="acct-c"))
        store.add_touchpoint(make_touchpoint(tenant, kind="received", ref="mail-1"))
        store.add_touchpoint(make_touchpoint(tenant, kind="extra_mile", customer="acct-e"))
        assert store.touchpoints(other) == []
        assert store.touchpoint_by_ref(other, "received", "mail-1") is None
        assert store.thanks_by_customer(other, below=7) == []
        assert store.extra_mile_candidate(other, eligible_since=T0, seed="s") is None
        assert store.silent_customers(other, quiet_since=T0 + _HOUR) == []
        mine = make_touchpoint(other, kind="received", ref="mail-1")
        assert store.add_touchpoint(mine) == (mine, True)
        assert len(store.touchpoints(tenant)) == 2

    # ------------------------------------------------------------ order, filters, limit

    @_settings
    @given(
        data=st.data(),
        customer=st.none() | st.sampled_from(_CUSTOMERS[:3]),
        kind=st.none() | st.sampled_from(_KINDS[:2]),
        since=st.none() | st.integers(0, 6),
        until=st.none() | st.integers(0, 6),
        limit=st.none() | st.integers(1, 4),
    )
    def test_touchpoints_are_filtered_and_in_at_id_order(
        self,
        store: Store,
        data: st.DataObject,
        customer: str | None,
        kind: str | None,
        since: int | None,
        until: int | None,
        limit: int | None,
    ) -> None:
        """Filters all apply (``since`` inclusive, ``until`` not); ``(at, id)`` order; limit."""
        tenant = _tenant()
        stored = [
            make_touchpoint(
                tenant,
                id=data.draw(st.sampled_from("abcdefgh")) + new_id(T0),
                customer=data.draw(st.sampled_from(_CUSTOMERS[:3])),
                kind=data.draw(st.sampled_from(_KINDS[:2])),
                at=T0 + data.draw(st.integers(0, 6)) * _HOUR,
            )
            for _ in range(data.draw(st.integers(0, 8), label="size"))
        ]
        for t in stored:
            store.add_touchpoint(t)
        start = None if since is None else T0 + since * _HOUR
        end = None if until is None else T0 + until * _HOUR
        want = sorted(
            (
                t
                for t in stored
                if (customer is None or t.customer == customer)
                and (kind is None or t.kind == kind)
                and (start is None or t.at >= start)
                and (end is None or t.at < end)
            ),
            key=lambda t: (t.at, t.id),
        )
        got = store.touchpoints(
            tenant, customer=customer, kind=kind, since=start, until=end, limit=limit
        )
        assert [t.id for t in got] == [t.id for t in want[:limit]]

    def test_touchpoint_by_ref_of_an_unknown_ref_is_none(self, store: Store) -> None:
        """An unknown ref (or a known one under another kind) is ``None``."""
        tenant = _tenant()
        store.add_touchpoint(make_touchpoint(tenant, kind="reply", ref="mail-1"))
        assert store.touchpoint_by_ref(tenant, "reply", "mail-2") is None
        assert store.touchpoint_by_ref(tenant, "received", "mail-1") is None

    # ------------------------------------------------------------ thanks_by_customer

    @requires("commitments")
    @_settings
    @given(data=st.data(), below=st.integers(1, 4), limit=st.none() | st.integers(1, 3))
    def test_thanks_by_customer_lists_relationships_below_the_target(
        self, store: Store, data: st.DataObject, below: int, limit: int | None
    ) -> None:
        """Per relationship, by customer: counted thank-yous and the last one, below the target."""
        tenant = _tenant()
        touchpoints, commitments = data.draw(_log(tenant), label="log")
        _store_log(store, touchpoints, commitments)
        want = _thanks(touchpoints, commitments, below)
        assert store.thanks_by_customer(tenant, below=below, limit=limit) == want[:limit]

    @requires("commitments")
    def test_a_customer_with_only_commitments_is_a_relationship(self, store: Store) -> None:
        """A customer with commitments and no touchpoint is listed with 0 and no last thank-you."""
        tenant = _tenant()
        store.add(make_commitment(tenant, customer="acct-b"))
        store.add(make_commitment(tenant, customer="acct-b"))
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-a", at=T0 + _HOUR))
        assert store.thanks_by_customer(tenant, below=7) == [
            ("acct-a", 1, T0 + _HOUR),
            ("acct-b", 0, None),
        ]
        assert store.thanks_by_customer(tenant, below=1) == [("acct-b", 0, None)]

    def test_uncounted_thank_yous_and_other_kinds_are_not_counted(self, store: Store) -> None:
        """``counted=False`` thank-yous and touchpoints of other kinds count for nothing."""
        tenant = _tenant()
        store.add_touchpoint(make_touchpoint(tenant, counted=False, at=T0 + 2 * _HOUR))
        store.add_touchpoint(make_touchpoint(tenant, kind="reply", at=T0 + 3 * _HOUR))
        store.add_touchpoint(make_touchpoint(tenant, kind="Thank_you", at=T0 + 3 * _HOUR))
        assert store.thanks_by_customer(tenant, below=1) == [("acct-42", 0, None)]
        store.add_touchpoint(make_touchpoint(tenant, at=T0))
        assert store.thanks_by_customer(tenant, below=2) == [("acct-42", 1, T0)]
        assert store.thanks_by_customer(tenant, below=1) == []

    # ------------------------------------------------------------ extra_mile_candidate

    @requires("commitments")
    @_settings
    @given(data=st.data(), since=st.integers(0, 7), seed=_text)
    def test_extra_mile_candidate_is_least_picked_then_first_by_pick_order(
        self, store: Store, data: st.DataObject, since: int, seed: str
    ) -> None:
        """Eligible since the instant; fewest extra-mile touchpoints (ever), then smallest md5."""
        tenant = _tenant()
        touchpoints, commitments = data.draw(_log(tenant), label="log")
        _store_log(store, touchpoints, commitments)
        start = T0 + since * _HOUR
        want = _candidate(touchpoints, commitments, start, seed)
        assert store.extra_mile_candidate(tenant, eligible_since=start, seed=seed) == want

    @requires("commitments")
    def test_picks_before_the_window_count_but_do_not_make_eligible(self, store: Store) -> None:
        """An old extra-mile pick still counts; an old customer alone is not eligible."""
        tenant = _tenant()
        later = T0 + 48 * _HOUR
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-a", kind="extra_mile"))
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-old", at=T0))
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-a", at=later))
        store.add(make_commitment(tenant, customer="acct-b", made_at=later))
        # acct-a was picked once (before the window): acct-b, never picked, comes first
        assert store.extra_mile_candidate(tenant, eligible_since=later, seed="x") == "acct-b"
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-b", kind="extra_mile"))
        seeds = [f"{tenant}:{n}" for n in range(8)]
        for seed in seeds:  # both picked once: the smaller md5 wins
            want = min(("acct-a", "acct-b"), key=functools.partial(pick_order, seed))
            assert store.extra_mile_candidate(tenant, eligible_since=later, seed=seed) == want
        assert store.extra_mile_candidate(tenant, eligible_since=later + _HOUR, seed="x") is None

    # ------------------------------------------------------------ silent_customers

    @_settings
    @given(data=st.data(), quiet=st.integers(0, 7), limit=st.none() | st.integers(1, 3))
    def test_silent_customers_last_heard_of_before_the_instant(
        self, store: Store, data: st.DataObject, quiet: int, limit: int | None
    ) -> None:
        """Customers whose last touchpoint of any kind is before ``quiet_since``, by customer."""
        tenant = _tenant()
        touchpoints, _ = data.draw(_log(tenant), label="log")
        _store_log(store, touchpoints, [])
        cutoff = T0 + quiet * _HOUR
        want = _silent(touchpoints, cutoff)
        assert store.silent_customers(tenant, quiet_since=cutoff, limit=limit) == want[:limit]

    @requires("commitments")
    def test_a_customer_never_touched_is_not_silent(self, store: Store) -> None:
        """Commitments alone do not make a customer silent: nothing was ever said to them."""
        tenant = _tenant()
        store.add(make_commitment(tenant, customer="acct-c", made_at=T0))
        store.add_touchpoint(make_touchpoint(tenant, customer="acct-t", at=T0))
        assert store.silent_customers(tenant, quiet_since=T0 + _HOUR) == ["acct-t"]
        assert store.silent_customers(tenant, quiet_since=T0) == []  # at == cutoff: not before

    # ------------------------------------------------------------ arguments

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            (lambda s: s.add_touchpoint({"id": "x"}), "touchpoint"),
            (lambda s: s.touchpoint_by_ref("t", "reply", ""), "ref"),
            (lambda s: s.touchpoint_by_ref("", "reply", "r"), "tenant"),
            (lambda s: s.touchpoints("t", customer=""), "customer"),
            (lambda s: s.touchpoints("t", kind=7), "kind"),
            (lambda s: s.touchpoints("t", since=_dt.datetime(2026, 1, 1)), "since"),
            (lambda s: s.touchpoints("t", until="2026-01-01"), "until"),
            (lambda s: s.touchpoints("t", limit=0), "limit"),
            (lambda s: s.thanks_by_customer("t", below=0), "below"),
            (lambda s: s.thanks_by_customer("t", below=True), "below"),
            (lambda s: s.thanks_by_customer("t", below=7, limit=-1), "limit"),
            (lambda s: s.extra_mile_candidate("t", eligible_since=T0, seed=None), "seed"),
            (lambda s: s.extra_mile_candidate("t", eligible_since=T0, seed="a\x00"), "seed"),
            (lambda s: s.extra_mile_candidate("t", eligible_since=T0, seed="\ud800"), "seed"),
            (
                lambda s: s.extra_mile_candidate("t", eligible_since=T0.date(), seed="s"),
                "eligible_since",
            ),
            (lambda s: s.silent_customers("t", quiet_since=None), "quiet_since"),
            (lambda s: s.silent_customers("t", quiet_since=T0, limit=0), "limit"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_touchpoint_calls_name_a_bad_argument(
        self, store: Store, call: Callable[[Store], Any], argument: str
    ) -> None:
        """A bad argument is a ``KeepwordError`` naming it (naive: ``NaiveDatetimeError``)."""
        with pytest.raises(KeepwordError) as info:
            call(store)
        assert info.value.argument == argument

    # ------------------------------------------------------------ with commitments, atomically

    @staticmethod
    def _atomic(store: Store) -> AtomicTouchpoints:
        if not isinstance(store, AtomicTouchpoints):  # pragma: no cover - both shipped stores are
            pytest.skip(
                "the store is not AtomicTouchpoints (optional): customer care writes a "
                "touchpoint and its commitments one after the other"
            )
        return store

    @staticmethod
    def _nothing_of(store: Store, t: Touchpoint, *commitments: Commitment) -> None:
        """Neither ``t`` nor any of ``commitments`` is stored."""
        assert store.touchpoint_by_ref(t.tenant, t.kind, t.ref or "") is None
        assert all(x.id != t.id for x in store.touchpoints(t.tenant))
        for c in commitments:
            with pytest.raises(NotFoundError):
                store.get(c.tenant, c.id)

    @requires("commitments")
    def test_a_touchpoint_and_a_new_commitment_are_stored_together(self, store: Store) -> None:
        """``add_touchpoint_with(t, add=[c])`` stores both; the read returns them together."""
        atomic = self._atomic(store)
        tenant = _tenant()
        c = make_commitment(tenant, external_ref="reply:mail-1")
        t = make_touchpoint(tenant, kind="received", ref="mail-1", commitment_id=c.id)
        assert atomic.add_touchpoint_with(t, add=[c]) == (t, True)
        assert store.get(tenant, c.id) == c
        assert store.get_by_ref(tenant, "reply:mail-1") == c
        assert_same_touchpoint(store.touchpoints(tenant)[0], t)
        assert atomic.touchpoint_with_commitment(tenant, "received", "mail-1") == (t, c)

    @requires("commitments")
    def test_a_touchpoint_and_the_new_states_it_causes_are_stored_together(
        self, store: Store
    ) -> None:
        """``update=[(new, version)]`` writes each new state as ``update`` would, with ``t``."""
        atomic = self._atomic(store)
        tenant = _tenant()
        a, b = make_commitment(tenant), make_commitment(tenant, customer="acct-7")
        store.add_many([a, b])
        kept_a, _ = keep(a, now=T0 + _HOUR, actor="alice")
        kept_b, _ = keep(b, now=T0 + _HOUR)
        t = make_touchpoint(tenant, kind="reply", ref="mail-1", commitment_id=a.id)
        got = atomic.add_touchpoint_with(t, update=[(kept_a, 1), (kept_b, 1)])
        assert got == (t, True)
        assert store.get(tenant, a.id) == kept_a
        assert store.get(tenant, b.id) == kept_b
        assert store.touchpoints(tenant) == [t]
        assert atomic.touchpoint_with_commitment(tenant, "reply", "mail-1") == (t, kept_a)

    @requires("commitments")
    def test_a_known_touchpoint_ref_writes_nothing_at_all(self, store: Store) -> None:
        """A stored ``(tenant, kind, ref)``: ``(existing, False)``, and no commitment is written."""
        atomic = self._atomic(store)
        tenant = _tenant()
        first = make_touchpoint(tenant, kind="received", ref="mail-1")
        store.add_touchpoint(first)
        old = make_commitment(tenant)
        store.add(old)
        new = make_commitment(tenant, external_ref="reply:mail-1")
        kept, _ = keep(old, now=T0 + _HOUR)
        again = make_touchpoint(tenant, kind="received", ref="mail-1", commitment_id=new.id)
        got, created = atomic.add_touchpoint_with(again, add=[new], update=[(kept, 1)])
        assert created is False
        assert_same_touchpoint(got, first)
        assert store.touchpoints(tenant) == [first]
        assert store.get(tenant, old.id) == old
        assert store.get_by_ref(tenant, "reply:mail-1") is None

    @requires("commitments")
    def test_a_failure_after_the_first_writes_leaves_nothing_half_written(
        self, store: Store
    ) -> None:
        """A stale update after the touchpoint and a new commitment: ConflictError, nothing stored.

        (Written in the order the arguments come, the touchpoint and the new
        commitment would be in the store when the stale version is found.)
        """
        atomic = self._atomic(store)
        tenant = _tenant()
        old = make_commitment(tenant)
        store.add(old)
        moved, _ = keep(old, now=T0 + _HOUR)
        store.update(moved, expected_version=1)  # someone else kept it meanwhile
        stale, _ = keep(old, now=T0 + 2 * _HOUR)
        new = make_commitment(tenant, external_ref="reply:mail-1")
        t = make_touchpoint(tenant, kind="received", ref="mail-1", commitment_id=new.id)
        with pytest.raises(ConflictError):
            atomic.add_touchpoint_with(t, add=[new], update=[(stale, 1)])
        self._nothing_of(store, t, new)
        assert store.get(tenant, old.id) == moved
        assert atomic.add_touchpoint_with(t, add=[new]) == (t, True)  # and it can be retried

    @requires("commitments")
    def test_a_known_external_ref_or_id_conflicts_and_writes_nothing(self, store: Store) -> None:
        """An ``add`` whose reference or id is stored is ConflictError (not mapped): nothing."""
        atomic = self._atomic(store)
        tenant = _tenant()
        stored = make_commitment(tenant, external_ref="reply:mail-1")
        store.add(stored)
        same_ref = make_commitment(tenant, external_ref="reply:mail-1")
        same_id = make_commitment(tenant, id=stored.id, external_ref="reply:mail-2")
        for i, c in enumerate((same_ref, same_id)):
            t = make_touchpoint(tenant, kind="received", ref=f"m-{i}", commitment_id=c.id)
            with pytest.raises(ConflictError):
                atomic.add_touchpoint_with(t, add=[c])
            self._nothing_of(store, t)
        assert store.get(tenant, stored.id) == stored
        assert store.get_by_ref(tenant, "reply:mail-2") is None

    @requires("commitments")
    def test_an_update_of_a_missing_commitment_is_not_found_and_writes_nothing(
        self, store: Store
    ) -> None:
        """An ``update`` of a commitment the tenant does not have: NotFoundError, nothing stored."""
        atomic = self._atomic(store)
        tenant = _tenant()
        ghost = make_commitment(tenant)
        kept, _ = keep(ghost, now=T0 + _HOUR)
        new = make_commitment(tenant)
        t = make_touchpoint(tenant, kind="reply", ref="mail-1")
        with pytest.raises(NotFoundError):
            atomic.add_touchpoint_with(t, add=[new], update=[(kept, 1)])
        self._nothing_of(store, t, new)

    @requires("commitments")
    def test_an_existing_touchpoint_id_conflicts_and_writes_nothing(self, store: Store) -> None:
        """The touchpoint's id stored already (another ref): ConflictError, no commitment stored."""
        atomic = self._atomic(store)
        tenant = _tenant()
        first = make_touchpoint(tenant, ref="one")
        store.add_touchpoint(first)
        twin = make_touchpoint(tenant, id=first.id, ref="two")
        new = make_commitment(tenant)
        with pytest.raises(ConflictError):
            atomic.add_touchpoint_with(twin, add=[new])
        with pytest.raises(NotFoundError):
            store.get(tenant, new.id)
        assert store.touchpoints(tenant) == [first]

    def test_bad_writes_name_their_argument_and_write_nothing(self, store: Store) -> None:
        """Another tenant's commitment, one twice, a bad version: InvalidArgumentError naming it."""
        atomic = self._atomic(store)
        tenant = _tenant()
        c = make_commitment(tenant)
        kept, _ = keep(c, now=T0 + _HOUR)
        t = make_touchpoint(tenant, kind="reply", ref="mail-1")
        cases: list[tuple[dict[str, Any], str]] = [
            ({"add": [make_commitment(tenant + "x")]}, "add[0]"),
            ({"add": [kept]}, "add[0]"),
            ({"add": [c, c]}, "add[1]"),
            ({"add": [c], "update": [(kept, 1)]}, "update[0]"),
            ({"update": [(kept, 2)]}, "update[0]"),
            ({"update": [kept]}, "update[0]"),
            ({"add": c}, "add"),
        ]
        for kwargs, argument in cases:
            with pytest.raises(InvalidArgumentError) as info:
                atomic.add_touchpoint_with(t, **kwargs)
            assert info.value.argument == argument, kwargs
        with pytest.raises(InvalidArgumentError) as info:
            atomic.add_touchpoint_with(c, add=[])  # type: ignore[arg-type]
        assert info.value.argument == "touchpoint"
        assert store.touchpoint_by_ref(tenant, "reply", "mail-1") is None

    @requires("commitments")
    def test_concurrent_calls_with_one_ref_store_one_touchpoint_and_its_commitment(
        self, store: Store
    ) -> None:
        """Threads adding one message and its reply: one of each stored, the others get it back."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        atomic = self._atomic(store)
        tenant = _tenant()
        replies = [
            make_commitment(tenant, external_ref="reply:webhook-7") for _ in range(self.threads)
        ]
        touches = [
            make_touchpoint(
                tenant, kind="received", ref="webhook-7", customer=f"acct-{i}", commitment_id=c.id
            )
            for i, c in enumerate(replies)
        ]
        results = _race(
            self.threads, lambda i: atomic.add_touchpoint_with(touches[i], add=[replies[i]])
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        pairs = [r for r in results if not isinstance(r, BaseException)]
        winners = [t for t, created in pairs if created]
        assert len(winners) == 1, pairs
        assert all(t == winners[0] for t, _ in pairs)
        assert store.touchpoints(tenant) == winners
        found = atomic.touchpoint_with_commitment(tenant, "received", "webhook-7")
        assert found is not None
        assert found[1] is not None
        assert found[1].id == winners[0].commitment_id
        assert store.get_by_ref(tenant, "reply:webhook-7") == found[1]

    @requires("commitments")
    def test_touchpoint_with_commitment_reads_what_is_there(self, store: Store) -> None:
        """No touchpoint: ``None``; one naming no commitment, or an unknown one: ``(t, None)``."""
        atomic = self._atomic(store)
        tenant = _tenant()
        assert atomic.touchpoint_with_commitment(tenant, "received", "none") is None
        alone = make_touchpoint(tenant, kind="received", ref="alone")
        lost = make_touchpoint(tenant, kind="received", ref="lost", commitment_id="no-such-id")
        for t in (alone, lost):
            store.add_touchpoint(t)
        assert atomic.touchpoint_with_commitment(tenant, "received", "alone") == (alone, None)
        assert atomic.touchpoint_with_commitment(tenant, "received", "lost") == (lost, None)
        other = make_commitment(tenant + "x")
        store.add(other)
        elsewhere = make_touchpoint(tenant, kind="received", ref="x", commitment_id=other.id)
        store.add_touchpoint(elsewhere)
        assert atomic.touchpoint_with_commitment(tenant, "received", "x") == (elsewhere, None)
