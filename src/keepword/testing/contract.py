"""``StoreContract``: the pytest tests every :class:`~keepword.ports.Store` must pass.

Subclass it in a test module, give it a ``store`` fixture that yields a fresh,
empty store for each test, and pytest runs every contract test against your
store:

.. code-block:: python

    import pytest
    from keepword.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self):
            s = MyStore(...)
            yield s
            s.close()

``StoreContract`` itself is not collected (its name does not start with
``Test``), so importing it never runs anything twice.
Each test pins down one sentence of a docstring in :mod:`keepword.ports`:
byte-exact round trips of hostile strings, UTC instants with microseconds,
versions and stale writes, append-only histories, tenant isolation,
external-reference deduplication, all-or-nothing ``add_many``, the ``find``
filters and ordering, an idempotent ``close``, and the tick and the outbox:
``claim_due`` (due OPEN commitments only, in order, skipping live claims,
taking expired ones), ``fire`` (each idempotency key stored once; a stale
version or a lost claim writes nothing), ``release``, ``next_action_at``, and
``pending_notices``, ``claim_notices``, ``ack_notices`` and
``release_notices`` (expired claims delivered again, acked notices never).
Lease tests use a 1.5 s lease and wait 2 s of real time, so a store may
judge leases by its database's clock (and a loaded machine does not make
them flaky).

Example counts: register a Hypothesis profile named ``"keepword-contract"``
(:data:`CONTRACT_PROFILE`) before this module is imported to size the
contract separately from your other properties (a contract example costs
database round trips); without it the loaded profile applies.
Where arithmetic or state is involved the tests use Hypothesis; each example
works in a tenant of its own, so one store serves every example of a test.

The Hypothesis tests take their settings (``max_examples`` and so on) from the
profile loaded when this module is first imported: load yours in
``conftest.py``, as usual.

Class attributes a subclass may override:

- ``threads`` (default 8): how many threads race in the concurrency tests;
  set it to ``0`` to skip them for a store that must not be shared between
  threads.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._json import thaw_json
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.escalation import EscalationPolicy, Step, after_due, at_due, before_due
from keepword.notice import Notice, NoticeState
from keepword.ports import CAPABILITIES, Fire, Query, Store, fire_one
from keepword.transitions import promise

__all__ = [
    "CONTRACT_PROFILE",
    "HOSTILE_STRINGS",
    "LADDER",
    "T0",
    "StoreContract",
    "assert_same_commitment",
    "make_commitment",
    "next_state",
    "notice_content",
    "with_status",
]

_T = TypeVar("_T")

UTC = _dt.UTC
T0 = _dt.datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
"""The instant contract commitments are made at (microseconds on purpose)."""

HOSTILE_STRINGS: tuple[str, ...] = (
    "O'Brien",
    'say "hi"',
    "'; DROP TABLE keepword_commitments; --",
    "' OR '1'='1",
    "%_*?[]^$",
    "back\\slash \\' \\\" \\x00 \\n",
    "a\nb\r\nc\td",
    "  leading and trailing  ",
    "x ",
    "аdmin",  # Cyrillic а
    "ＡＢＣ１２３",  # fullwidth
    "e\u0301",  # e + combining acute (NFD)
    "\u00e9",  # é (NFC)
    "ß",
    "ǅ",
    "İstanbul",
    "zero\u200bwidth",
    "\u202eevil",  # right-to-left override
    "👍🏽",
    "🏳️‍🌈",
    "\U0001f4a9 \U0001d54f \U00010348",
    "中文 日本語 한국어 العربية עברית",
    "\x01\x1f\x7f\u0085\u2028\u2029\ufeff\uffff",
    "$1 {0} %s %(x)s :name ?",
)
"""Strings that break careless storage: quotes, SQL and LIKE metacharacters,
escapes, whitespace at the edges, confusable and combining Unicode, emoji,
control characters, placeholders.  None holds a NUL byte (refused everywhere)."""

_CALENDAR = BusinessCalendar.always_open("UTC")

LADDER = EscalationPolicy(
    "contract-ladder",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=4), notify="director", action="reassign"),
    ],
)
"""The escalation policy the tick and outbox tests use: 2 h before, at, and 4 h after due."""


def _us_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        tz="America/New_York",
        hours="Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00",
        country="US",
        holidays={_dt.date(2026, 12, 24): "Christmas Eve (the shop's own)"},
        closures=[(_dt.date(2026, 12, 28), _dt.date(2026, 12, 31))],
        special_hours={_dt.date(2026, 11, 27): "09:00-13:00"},
    )


def _tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:12]}"


def make_commitment(
    tenant: str = "tenant-a",
    *,
    id: str | None = None,
    customer: str = "acct-42",
    owner: str = "alice",
    kind: str = "reply",
    what: str = "Email the bulk price list",
    made_at: _dt.datetime = T0,
    due_at: _dt.datetime | None = None,
    external_ref: str | None = None,
    tags: Sequence[str] = (),
    priority: int = 0,
    waiting_for: str | None = None,
    terms: Mapping[str, Any] | None = None,
    spec: str | None = None,
    calendar: BusinessCalendar | None = None,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
    policy: EscalationPolicy | None = None,
) -> Commitment:
    """A new, valid, version-1 commitment with its ``"promised"`` event, for store tests.

    Built with :func:`keepword.transitions.promise` (no tracker, no clock), so
    store tests need nothing but the store.  Every argument has a plain
    default; ``due_at`` defaults to three days after ``made_at``.  ``spec``
    overrides the stored spec string and ``data`` adds an ``"extra"`` entry to
    the promised event's data (both to test round trips; they are not replayed).
    ``policy`` (e.g. :data:`LADDER`) gives it escalation steps and a
    ``next_action_at``.

    >>> c = make_commitment("shop-7", external_ref="order-1")
    >>> c.version, c.status.value, [e.kind for e in c.history]
    (1, 'open', ['promised'])
    """
    c, _ = promise(
        id=new_id(made_at) if id is None else id,
        tenant=tenant,
        customer=customer,
        owner=owner,
        kind=kind,
        what=what,
        now=made_at,
        calendar=_CALENDAR if calendar is None else calendar,
        due=made_at + _dt.timedelta(days=3) if due_at is None else due_at,
        external_ref=external_ref,
        tags=tags,
        priority=priority,
        waiting_for=waiting_for,
        terms=terms,
        actor=actor,
        policy=policy,
    )
    if spec is not None:
        c = attrs.evolve(c, spec=spec)
    if data is not None:
        promised = c.history[0]
        extra = attrs.evolve(promised, data={**promised.data, "extra": data})
        c = attrs.evolve(c, history=(extra,))
    return c


_EVENT_FOR_STATUS = {
    Status.OPEN: "resumed",
    Status.PAUSED: "paused",
    Status.KEPT: "kept",
    Status.BROKEN: "failed",
    Status.CANCELLED: "cancelled",
}


def _hostile_commitment(text: str, **kw: Any) -> Commitment:
    """A commitment with ``text`` in every text field (tenant and identifiers included)."""
    return make_commitment(
        text,
        customer=text,
        owner=text,
        kind=text,
        what=text,
        external_ref=text,
        tags=(text, "plain"),
        waiting_for=text,
        terms={text: text, "list": [text]},
        spec=text,
        actor=text,
        data={text: [text]},
        **kw,
    )


def next_state(
    c: Commitment,
    *,
    event: str = "reassigned",
    at: _dt.datetime | None = None,
    actor: str | None = "system",
    data: Mapping[str, Any] | None = None,
    events: int = 1,
    **changes: Any,
) -> Commitment:
    """``c`` changed by ``changes``, one version up, with ``events`` new ``event`` events appended.

    The store-level view of a transition: what a store must accept from
    :meth:`~keepword.ports.Store.update` with ``expected_version=c.version``.

    >>> c = make_commitment()
    >>> d = next_state(c, owner="bob", data={"owner": "bob"})
    >>> d.version, d.owner, [e.kind for e in d.history]
    (2, 'bob', ['promised', 'reassigned'])
    """
    when = c.made_at + _dt.timedelta(hours=len(c.history)) if at is None else at
    new_events = tuple(
        Event(
            seq=len(c.history) + i + 1,
            kind=event,
            at=when,
            actor=actor,
            data={"n": len(c.history) + i + 1} if data is None else data,
        )
        for i in range(events)
    )
    return attrs.evolve(c, version=c.version + 1, history=c.history + new_events, **changes)


def with_status(c: Commitment, status: Status, *, at: _dt.datetime | None = None) -> Commitment:
    """``c`` moved to ``status`` (one version up), with the fields that status implies."""
    when = c.made_at + _dt.timedelta(hours=len(c.history)) if at is None else at
    changes: dict[str, Any] = {"status": status, "paused_at": None}
    if status is Status.PAUSED:
        changes["paused_at"] = when
    elif status.is_final:
        changes["closed_at"] = when
        if status is Status.KEPT:
            changes["kept_at"] = when
            changes["lateness"] = _dt.timedelta(0)
    return next_state(c, event=_EVENT_FOR_STATUS[status], at=when, data={}, **changes)


def _json_text(value: Any) -> str:
    return json.dumps(thaw_json(value), sort_keys=True, ensure_ascii=True)


def assert_same_commitment(got: Commitment, want: Commitment) -> None:
    """Fail unless ``got`` is exactly ``want``: equal, strings byte-exact, instants UTC.

    Stricter than ``==``: strings must match code point for code point (no
    normalisation, trimming or case folding), instants must be UTC with the
    same microsecond, and JSON must keep its types (``1`` is not ``1.0`` nor
    ``True``).
    """
    assert got == want, f"stored {got!r}\n!= given {want!r}"
    for field in attrs.fields(Commitment):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if isinstance(b, str):
            assert isinstance(a, str), f"{field.name}: {a!r} is not a str"
            assert a.encode("utf-8") == b.encode("utf-8"), f"{field.name}: {a!r} != {b!r}"
        elif isinstance(b, _dt.datetime):
            assert isinstance(a, _dt.datetime), field.name
            assert a.utcoffset() == _dt.timedelta(0), f"{field.name} is not UTC: {a!r}"
            assert (a.replace(tzinfo=None), a.microsecond) == (
                b.astimezone(UTC).replace(tzinfo=None),
                b.microsecond,
            ), f"{field.name}: {a!r} != {b!r}"
        elif field.name == "terms":
            assert _json_text(a) == _json_text(b), f"terms: {a!r} != {b!r}"
        elif field.name == "tags":
            assert tuple(a) == tuple(b), f"tags: {a!r} != {b!r}"
        elif field.name == "lateness" and b is not None:
            assert isinstance(a, _dt.timedelta), f"lateness: {a!r} is not a timedelta"
            assert a == b, f"lateness: {a!r} != {b!r}"
        elif field.name == "calendar":
            assert a == b, "calendar snapshot differs"
            assert a.to_dict() == b.to_dict(), "calendar snapshot differs"
    assert len(got.history) == len(want.history)
    for e, f in zip(got.history, want.history, strict=True):
        assert (e.seq, e.kind, e.actor) == (f.seq, f.kind, f.actor), f"event {f.seq}"
        assert e.at == f.at, f"event {f.seq}.at"
        assert e.at.utcoffset() == _dt.timedelta(0), f"event {f.seq}.at is not UTC"
        assert e.at.microsecond == f.at.microsecond, f"event {f.seq}.at microseconds"
        assert _json_text(e.data) == _json_text(f.data), f"event {f.seq}.data"


_STORE_CLOCK_FIELDS = ("state", "claimed_until", "acked_at")


def notice_content(n: Notice) -> dict[str, Any]:
    """A notice's fields but those a store sets from its own clock (state, claim, ack).

    Two stores that were given the same notices agree on this, whatever their clocks.
    """
    return {k: v for k, v in attrs.asdict(n, recurse=False).items() if k not in _STORE_CLOCK_FIELDS}


# --------------------------------------------------------------------------- strategies

_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
_identifiers = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_instants = st.datetimes(
    min_value=_dt.datetime(1971, 1, 1),
    max_value=_dt.datetime(2199, 12, 31),
    timezones=st.just(UTC),
)
_hostile = st.sampled_from(HOSTILE_STRINGS)

# One store serves every example (each in its own tenant), and every subclass
# runs the same test methods: both are by design, not health problems.
#: The Hypothesis profile the contract's tests take their settings from when it
#: is registered before this module is imported; otherwise the loaded profile.
CONTRACT_PROFILE = "keepword-contract"


def _contract_base() -> settings:
    try:
        return settings.get_profile(CONTRACT_PROFILE)
    except Exception:  # not registered: the profile loaded now
        return settings()


_settings = settings(
    _contract_base(),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
        HealthCheck.too_slow,
    ],
)


def _race(threads: int, work: Callable[[int], _T]) -> list[_T | BaseException]:
    """Run ``work(i)`` in ``threads`` threads released at once; results or exceptions."""
    barrier = threading.Barrier(threads)
    out: list[_T | BaseException] = [RuntimeError("did not run")] * threads

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = work(i)
        except BaseException as exc:  # collected and checked by the test
            out[i] = exc

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return out


# --------------------------------------------------------------------------- the contract


class StoreContract:
    """Every behaviour :mod:`keepword.ports` promises, as pytest tests.

    Subclass it as ``TestSomethingStore`` and override the ``store`` fixture
    so that it yields a fresh, empty store (function scope) and closes it
    afterwards.  Test names say the behaviour they pin down.
    """

    threads: ClassVar[int] = 8
    """Threads racing in the concurrency tests; 0 skips them."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """Override me: yield a fresh, empty store for one test, then close it."""
        pytest.fail(
            f"{type(self).__name__} must define a `store` fixture yielding a fresh, empty store"
        )
        yield  # pragma: no cover  # noqa: PT022

    # ------------------------------------------------------------ the store itself

    def test_store_satisfies_the_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.Store`` (it has every method)."""
        assert isinstance(store, Store)

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

    # ------------------------------------------------------------ the tick: claim_due

    _LONG: ClassVar[_dt.timedelta] = _dt.timedelta(hours=1)
    # long enough that the next call lands inside it on a loaded CI machine
    _SHORT: ClassVar[_dt.timedelta] = _dt.timedelta(milliseconds=1500)
    _EXPIRE: ClassVar[float] = 2.0
    """Seconds of real time after which a ``_SHORT`` lease has surely expired."""

    @staticmethod
    def _escalating(store: Store, tenant: str, due_in: _dt.timedelta, **kw: Any) -> Commitment:
        """Store a commitment under :data:`LADDER`, made at ``T0`` and due ``due_in`` later."""
        c = make_commitment(tenant, due_at=T0 + due_in, policy=LADDER, **kw)
        assert c.next_action_at == c.due_at - _dt.timedelta(hours=2)
        assert store.add(c) == (c, True)
        return c

    @staticmethod
    def _escalate(c: Commitment, now: _dt.datetime) -> tuple[Commitment, tuple[Notice, ...]]:
        new, events, notices = _t.escalate(c, now=now, new_id=lambda: new_id(now))
        assert events, "machine bug: nothing was due"
        return new, notices

    def _fire_due(
        self, store: Store, tenant: str, now: _dt.datetime, *, limit: int = 100
    ) -> list[Notice]:
        """One whole tick at ``now``: claim, escalate and fire every due commitment."""
        token, claimed = store.claim_due(tenant, now, limit=limit, lease=self._LONG, worker="w1")
        fired: list[Notice] = []
        fires: list[Fire] = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
            fired.extend(notices)
        assert store.fire_many(tenant, fires, token=token) == [f.commitment for f in fires]
        return fired

    def test_claim_due_takes_only_due_open_commitments_in_order(self, store: Store) -> None:
        """Only OPEN ones with ``next_action_at <= now``, by ``next_action_at`` then id."""
        tenant = _tenant()
        hours = _dt.timedelta(hours=1)
        soon = [self._escalating(store, tenant, 10 * hours) for _ in range(3)]  # ties
        first = self._escalating(store, tenant, 8 * hours)
        exact = self._escalating(store, tenant, 12 * hours)  # next_action_at == now
        self._escalating(store, tenant, 12 * hours + _dt.timedelta(microseconds=1))  # not yet
        store.add(make_commitment(tenant, due_at=T0 + 30 * hours))  # no policy: nothing due
        paused = self._escalating(store, tenant, 9 * hours)
        store.update(_t.pause(paused, now=T0, reason="waiting")[0], expected_version=1)
        kept = self._escalating(store, tenant, 9 * hours)
        store.update(_t.keep(kept, now=T0)[0], expected_version=1)
        now = T0 + 10 * hours
        token, claimed = store.claim_due(tenant, now, limit=100, lease=self._LONG, worker="w1")
        assert isinstance(token, str)
        assert token
        want = [first, *sorted(soon, key=lambda c: c.id), exact]
        assert [c.id for c in claimed] == [c.id for c in want]
        for got, stored in zip(claimed, want, strict=True):
            assert_same_commitment(got, stored)

    def test_claim_due_respects_limit_and_a_live_claim(self, store: Store) -> None:
        """``limit`` caps a claim; the next claim skips held ones and takes the rest."""
        tenant = _tenant()
        batch = [
            self._escalating(store, tenant, _dt.timedelta(hours=3, minutes=i)) for i in range(5)
        ]
        now = T0 + _dt.timedelta(days=1)
        t1, one = store.claim_due(tenant, now, limit=2, lease=self._LONG, worker="w1")
        t2, two = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")
        t3, three = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w3")
        assert len({t1, t2, t3}) == 3, "every claim has a fresh token"
        assert [c.id for c in one] == [c.id for c in batch[:2]]
        assert [c.id for c in two] == [c.id for c in batch[2:]]
        assert three == []

    @_settings
    @given(
        offsets=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=8),
        at=st.integers(min_value=0, max_value=8),
        limit=st.integers(min_value=1, max_value=4),
    )
    def test_claims_in_turn_take_every_due_one_once_in_order(
        self, store: Store, offsets: list[int], at: int, limit: int
    ) -> None:
        """Claims in turn partition the due commitments, in order, at most ``limit`` each."""
        tenant = _tenant()
        made = [self._escalating(store, tenant, _dt.timedelta(hours=2 + h)) for h in offsets]
        now = T0 + _dt.timedelta(hours=at)
        want = sorted(
            (c for c in made if c.next_action_at is not None and c.next_action_at <= now),
            key=lambda c: (c.next_action_at, c.id),
        )
        got: list[str] = []
        while True:
            _, claimed = store.claim_due(tenant, now, limit=limit, lease=self._LONG, worker="w")
            assert len(claimed) <= limit
            if not claimed:
                break
            got.extend(c.id for c in claimed)
            assert len(got) <= len(made), "a commitment was claimed twice"
        assert got == [c.id for c in want]

    def test_an_expired_claim_is_claimed_again(self, store: Store) -> None:
        """Once its lease has run out (store clock), the same query claims it again."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=3))
        now = T0 + _dt.timedelta(hours=2)
        _, first = store.claim_due(tenant, now, limit=10, lease=self._SHORT, worker="w1")
        assert [x.id for x in first] == [c.id]
        assert store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")[1] == []
        time.sleep(self._EXPIRE)
        _, again = store.claim_due(tenant, now, limit=10, lease=self._LONG, worker="w2")
        assert [x.id for x in again] == [c.id]

    def test_claim_due_sees_only_the_tenant(self, store: Store) -> None:
        """A tenant's claim never takes another tenant's due commitments."""
        a = self._escalating(store, "tenant-a", _dt.timedelta(hours=3))
        b = self._escalating(store, "tenant-b", _dt.timedelta(hours=3))
        now = T0 + _dt.timedelta(hours=2)
        assert [
            c.id for c in store.claim_due("tenant-a", now, limit=9, lease=self._LONG, worker="w")[1]
        ] == [a.id]
        assert store.claim_due("tenant-c", now, limit=9, lease=self._LONG, worker="w")[1] == []
        assert store.next_action_at("tenant-a") == a.next_action_at
        assert store.next_action_at("tenant-c") is None
        assert [
            c.id for c in store.claim_due("tenant-b", now, limit=9, lease=self._LONG, worker="w")[1]
        ] == [b.id]

    def test_concurrent_claims_never_share_a_commitment(self, store: Store) -> None:
        """Threads claiming at once: each due commitment goes to at most one of them."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        made = [
            self._escalating(store, tenant, _dt.timedelta(hours=3, seconds=i)) for i in range(24)
        ]
        now = T0 + _dt.timedelta(days=1)
        results = _race(
            self.threads,
            lambda i: store.claim_due(tenant, now, limit=5, lease=self._LONG, worker=f"w{i}"),
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        ids = [c.id for r in results if not isinstance(r, BaseException) for c in r[1]]
        assert len(ids) == len(set(ids)), "a commitment was claimed by two workers"
        assert set(ids) <= {c.id for c in made}
        assert len(ids) == min(len(made), 5 * self.threads)

    # ------------------------------------------------------------ the tick: fire

    def test_fire_stores_the_new_state_and_its_notices_and_frees_the_claim(
        self, store: Store
    ) -> None:
        """``fire`` writes the commitment and its notices (pending) and releases the claim."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=5))
        now = T0 + _dt.timedelta(hours=3)  # the 2-hours-before step only
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        assert len(notices) == 1
        stored = fire_one(store, new, expected_version=c.version, notices=notices, token=token)
        assert_same_commitment(stored, new)
        assert_same_commitment(store.get(tenant, c.id), new)
        pending = store.pending_notices(tenant, limit=10)
        assert [notice_content(n) for n in pending] == [notice_content(n) for n in notices]
        assert [n.state for n in pending] == [NoticeState.PENDING]
        # next step not due yet: nothing to claim; once due, claimable at once
        assert store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")[1] == []
        later = T0 + _dt.timedelta(hours=5)
        _, again = store.claim_due(tenant, later, limit=5, lease=self._LONG, worker="w")
        assert [x.id for x in again] == [c.id]

    @pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=lambda s: repr(s)[:24])
    def test_fire_many_keeps_hostile_strings_byte_exact(self, store: Store, text: str) -> None:
        """A fired batch writes hostile text in every field back exactly, notices too."""
        c = _hostile_commitment(text, due_at=T0 + _dt.timedelta(hours=1), policy=LADDER)
        store.add(c)
        now = T0 + _dt.timedelta(hours=2)  # every step of the ladder, and the breach
        token, (claimed,) = store.claim_due(text, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        assert store.fire_many(text, [Fire(new, c.version, notices)], token=token) == [new]
        assert_same_commitment(store.get(text, c.id), new)
        pending = store.pending_notices(text, limit=10)
        assert [notice_content(n) for n in pending] == [notice_content(n) for n in notices]

    def test_notices_round_trip_exactly(self, store: Store) -> None:
        """Every notice field comes back as given, hostile text included."""
        tenant = _tenant()
        text = "\u202e'; DROP TABLE x; -- e\u0301 👍🏽 %_"
        self._escalating(
            store, tenant, _dt.timedelta(hours=1), customer=text, owner=text, what=text, kind=text
        )
        now = T0 + _dt.timedelta(hours=5, microseconds=7)
        fired = self._fire_due(store, tenant, now)
        assert len(fired) == 3
        got = store.pending_notices(tenant, limit=10)
        assert [notice_content(n) for n in got] == [notice_content(n) for n in fired]
        for g, f in zip(got, fired, strict=True):
            for name in ("what", "customer", "owner", "kind", "step", "idempotency_key"):
                assert getattr(g, name).encode() == getattr(f, name).encode(), name
            for name in ("due_at", "scheduled_at", "fired_at"):
                assert getattr(g, name).utcoffset() == _dt.timedelta(0), name
            assert g.fired_at == now

    def test_firing_a_key_twice_stores_it_once(self, store: Store) -> None:
        """A notice whose ``idempotency_key`` is stored is skipped, in a batch or later."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=5))
        now = T0 + _dt.timedelta(hours=3)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        twice = [*notices, *(attrs.evolve(n, id=new_id(now), what="again") for n in notices)]
        new = fire_one(store, new, expected_version=c.version, notices=twice, token=token)
        assert [n.id for n in store.pending_notices(tenant, limit=10)] == [notices[0].id]
        later = T0 + _dt.timedelta(hours=5)
        token, (claimed,) = store.claim_due(tenant, later, limit=5, lease=self._LONG, worker="w")
        newer, more = self._escalate(claimed, later)
        retry = attrs.evolve(notices[0], id=new_id(later), fired_at=later)
        fire_one(store, newer, expected_version=new.version, notices=[retry, *more], token=token)
        got = store.pending_notices(tenant, limit=10)
        assert [n.id for n in got] == [notices[0].id, *(n.id for n in more)]
        keys = [n.idempotency_key for n in got]
        assert len(keys) == len(set(keys))

    def test_fire_with_a_stale_version_conflicts_and_writes_no_notice(self, store: Store) -> None:
        """The version moved on since the claim: ``ConflictError``, nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        moved = store.update(_t.reassign(c, now=now, owner="bob")[0], expected_version=1)
        new, notices = self._escalate(claimed, now)
        with pytest.raises(ConflictError) as info:
            fire_one(store, new, expected_version=claimed.version, notices=notices, token=token)
        assert (info.value.expected_version, info.value.actual_version) == (1, 2)
        assert_same_commitment(store.get(tenant, c.id), moved)
        assert store.pending_notices(tenant, limit=10) == []

    def test_fire_with_a_lost_claim_conflicts_and_writes_no_notice(self, store: Store) -> None:
        """A lease that expired and was taken by another worker: the first fire loses."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        stale_token, (mine,) = store.claim_due(
            tenant, now, limit=5, lease=self._SHORT, worker="frozen"
        )
        time.sleep(self._EXPIRE)
        token, (theirs,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w2")
        late, late_notices = self._escalate(mine, now)
        with pytest.raises(ConflictError):
            fire_one(
                store, late, expected_version=c.version, notices=late_notices, token=stale_token
            )
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        new, notices = self._escalate(theirs, now)
        fire_one(store, new, expected_version=c.version, notices=notices, token=token)
        assert [n.id for n in store.pending_notices(tenant, limit=10)] == [n.id for n in notices]

    def test_fire_without_the_claim_conflicts(self, store: Store) -> None:
        """Firing an unclaimed commitment, or with another claim's token, is a conflict."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        d = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        new, notices = self._escalate(c, now)
        with pytest.raises(ConflictError):
            fire_one(store, new, expected_version=1, notices=notices, token=uuid.uuid4().hex)
        token, claimed = store.claim_due(tenant, now, limit=1, lease=self._LONG, worker="w")
        other = d if claimed[0].id == c.id else c
        new, notices = self._escalate(other, now)
        with pytest.raises(ConflictError):
            fire_one(store, new, expected_version=1, notices=notices, token=token)
        assert_same_commitment(store.get(tenant, other.id), other)
        assert store.pending_notices(tenant, limit=10) == []

    def test_fire_refuses_what_update_refuses_and_keeps_the_claim(self, store: Store) -> None:
        """A skipped version or rewritten history is ``InvalidArgumentError``; nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        skipped = attrs.evolve(new, version=new.version + 1)
        forged = Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": True})
        rewritten = attrs.evolve(new, history=(forged, *new.history[1:]))
        for bad, expected in ((skipped, 1), (rewritten, 1), (new, 0)):
            with pytest.raises(InvalidArgumentError):
                fire_one(store, bad, expected_version=expected, notices=notices, token=token)
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert fire_one(store, new, expected_version=1, notices=notices, token=token) == new

    def test_fire_of_a_missing_commitment_is_not_found(self, store: Store) -> None:
        """``fire`` of a commitment the tenant does not have raises ``NotFoundError``."""
        c = make_commitment(_tenant(), due_at=T0 + _dt.timedelta(hours=1), policy=LADDER)
        new, notices = self._escalate(c, T0 + _dt.timedelta(hours=2))
        with pytest.raises(NotFoundError):
            fire_one(store, new, expected_version=1, notices=notices, token=uuid.uuid4().hex)
        assert store.pending_notices(c.tenant, limit=10) == []

    def test_fire_refuses_another_tenants_notice(self, store: Store) -> None:
        """A notice of another tenant in the batch is refused; nothing is written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        foreign = attrs.evolve(notices[0], id=new_id(now), tenant="tenant-z")
        with pytest.raises(InvalidArgumentError):
            fire_one(store, new, expected_version=1, notices=[*notices, foreign], token=token)
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert store.pending_notices("tenant-z", limit=10) == []

    def test_fire_many_writes_the_fires_that_pass_and_reports_the_others(
        self, store: Store
    ) -> None:
        """Each fire is judged alone: a stale one and a missing one are reported, not written."""
        tenant = _tenant()
        hour = _dt.timedelta(hours=1)
        made = [self._escalating(store, tenant, hour) for _ in range(3)]
        now = T0 + 2 * hour
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert sorted(c.id for c in claimed) == sorted(c.id for c in made)
        fires = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
        stale = claimed[1]
        moved = store.update(_t.reassign(stale, now=now, owner="bob")[0], expected_version=1)
        ghost_c = make_commitment(tenant, due_at=T0 + hour, policy=LADDER)
        ghost_new, ghost_notices = self._escalate(ghost_c, now)
        ghost = Fire(ghost_new, 1, ghost_notices)
        outcomes = store.fire_many(tenant, [*fires, ghost], token=token)
        assert len(outcomes) == 4
        assert outcomes[0] == fires[0].commitment
        assert outcomes[2] == fires[2].commitment
        assert isinstance(outcomes[1], ConflictError)
        assert (outcomes[1].expected_version, outcomes[1].actual_version) == (1, 2)
        assert isinstance(outcomes[3], NotFoundError)
        assert_same_commitment(store.get(tenant, stale.id), moved)
        for i in (0, 2):
            assert_same_commitment(store.get(tenant, fires[i].commitment.id), fires[i].commitment)
        written = {n.id for i in (0, 2) for n in fires[i].notices}
        assert {n.id for n in store.pending_notices(tenant, limit=50)} == written
        # the written ones' claims are free; the stale one is still this token's to release
        assert store.release(tenant, [c.id for c in claimed], token) == 1

    def test_fire_many_refuses_a_bad_batch_and_writes_nothing(self, store: Store) -> None:
        """Bad entries, another tenant, one commitment twice or a rewritten history: nothing."""
        tenant = _tenant()
        hour = _dt.timedelta(hours=1)
        self._escalating(store, tenant, hour)
        self._escalating(store, tenant, hour)
        now = T0 + 2 * hour
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        fires = []
        for c in claimed:
            new, notices = self._escalate(c, now)
            fires.append(Fire(new, c.version, notices))
        forged = Event(seq=1, kind="promised", at=T0, actor="mallory", data={"forged": True})
        first = fires[0].commitment
        rewritten = Fire(attrs.evolve(first, history=(forged, *first.history[1:])), 1)
        bad_batches: list[tuple[Any, str]] = [
            ("not fires", "fires"),
            ([fires[0], "x"], "fires[1]"),
            ([fires[0], fires[0]], "fires[1]"),
            ([rewritten, fires[1]], "commitment"),
        ]
        for batch, argument in bad_batches:
            with pytest.raises(InvalidArgumentError) as info:
                store.fire_many(tenant, batch, token=token)
            assert info.value.argument == argument
        with pytest.raises(InvalidArgumentError) as info:
            store.fire_many(_tenant(), fires, token=token)
        assert info.value.argument == "fires[0]"
        for c in claimed:
            assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        assert store.fire_many(tenant, [], token=token) == []
        assert store.fire_many(tenant, fires, token=token) == [f.commitment for f in fires]

    def test_a_fired_commitment_that_ended_is_never_claimed(self, store: Store) -> None:
        """Once kept (or after its last step), a commitment is not due any more."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        late = T0 + _dt.timedelta(days=2)
        assert len(self._fire_due(store, tenant, late)) == 3  # every step
        assert store.claim_due(tenant, late, limit=5, lease=self._LONG, worker="w")[1] == []
        d = self._escalating(store, tenant, _dt.timedelta(hours=1))
        store.update(_t.keep(d, now=T0)[0], expected_version=1)
        assert store.claim_due(tenant, late, limit=5, lease=self._LONG, worker="w")[1] == []
        assert store.get(tenant, c.id).next_action_at is None
        assert store.next_action_at(tenant) is None
        assert len(store.pending_notices(tenant, limit=10)) == 3

    # ------------------------------------------------------------ the tick: release, next_action_at

    def test_release_gives_up_only_the_tokens_claims(self, store: Store) -> None:
        """``release`` frees the token's claims at once; other tokens and tenants free nothing."""
        tenant = _tenant()
        made = [self._escalating(store, tenant, _dt.timedelta(hours=3)) for _ in range(3)]
        now = T0 + _dt.timedelta(hours=1)
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        ids = [c.id for c in claimed]
        assert sorted(ids) == sorted(c.id for c in made)
        assert store.release(tenant, ids, uuid.uuid4().hex) == 0
        assert store.release("tenant-z", ids, token) == 0
        assert store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")[1] == []
        assert store.release(tenant, ids[:2], token) == 2
        assert store.release(tenant, ids[:2], token) == 0
        _, again = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert [c.id for c in again] == ids[:2]
        assert store.release(tenant, [], token) == 0

    @staticmethod
    def _earliest(store: Store, tenant: str) -> _dt.datetime | None:
        """The reference answer: the least stored ``next_action_at`` over OPEN ones."""
        found = [
            c.next_action_at
            for c in store.find(tenant, Query(statuses={Status.OPEN}))
            if c.next_action_at is not None
        ]
        return min(found, default=None)

    def test_next_action_at_is_the_earliest_open_step(self, store: Store) -> None:
        """The minimum over OPEN commitments, claimed ones included, per tenant."""
        tenant = _tenant()
        assert store.next_action_at(tenant) is None
        plain = make_commitment(tenant, due_at=T0 + _dt.timedelta(days=9))  # no policy
        store.add(plain)
        assert store.next_action_at(tenant) == plain.next_action_at
        late = self._escalating(store, tenant, _dt.timedelta(hours=9))
        early = self._escalating(store, tenant, _dt.timedelta(hours=4, microseconds=3))
        assert store.next_action_at(tenant) == early.next_action_at
        assert store.next_action_at("tenant-z") is None
        now = T0 + _dt.timedelta(hours=3)
        token, claimed = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        assert [c.id for c in claimed] == [early.id]
        assert store.next_action_at(tenant) == early.next_action_at  # claimed still counts
        new, notices = self._escalate(claimed[0], now)
        fire_one(store, new, expected_version=1, notices=notices, token=token)
        assert new.next_action_at is not None
        assert new.next_action_at > now
        assert store.next_action_at(tenant) == self._earliest(store, tenant)
        assert store.next_action_at(tenant) == min(new.next_action_at, late.next_action_at)  # type: ignore[type-var]
        store.update(_t.cancel(new, now=now)[0], expected_version=new.version)
        assert store.next_action_at(tenant) == late.next_action_at
        store.update(_t.pause(late, now=now, reason="x")[0], expected_version=1)
        assert store.next_action_at(tenant) == plain.next_action_at
        assert store.next_action_at(tenant) == self._earliest(store, tenant)

    # ------------------------------------------------------------ the outbox

    def _outbox(self, store: Store, tenant: str, commitments: int = 2) -> list[Notice]:
        """Fire all steps of ``commitments`` commitments, a tick apart; notices oldest first."""
        fired: list[Notice] = []
        for i in range(commitments):
            self._escalating(store, tenant, _dt.timedelta(hours=1 + i))
        for i in range(commitments):
            fired += self._fire_due(store, tenant, T0 + _dt.timedelta(days=1, hours=i), limit=1)
        fired.sort(key=lambda n: (n.fired_at, n.scheduled_at, n.id))
        assert len(fired) == 3 * commitments
        return fired

    @staticmethod
    def _ids(notices: Sequence[Notice]) -> list[str]:
        return [n.id for n in notices]

    def test_pending_notices_are_oldest_first_and_reading_claims_nothing(
        self, store: Store
    ) -> None:
        """``pending_notices`` orders by fired_at, scheduled_at, id; limits; claims nothing."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 3)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        assert self._ids(store.pending_notices(tenant, limit=4)) == self._ids(fired[:4])
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        _, claimed = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert self._ids(claimed) == self._ids(fired)

    def test_claim_notices_holds_them_for_the_lease(self, store: Store) -> None:
        """Claimed notices are CLAIMED with ``claimed_until``; others skip them while it lives."""
        tenant = _tenant()
        fired = self._outbox(store, tenant)
        token, first = store.claim_notices(tenant, limit=4, lease=self._LONG, worker="w1")
        assert self._ids(first) == self._ids(fired[:4])
        assert all(n.state is NoticeState.CLAIMED for n in first)
        assert all(n.claimed_until is not None for n in first)
        assert [notice_content(n) for n in first] == [notice_content(n) for n in fired[:4]]
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[4:])
        token2, rest = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert token2 != token
        assert self._ids(rest) == self._ids(fired[4:])
        assert store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w3")[1] == []
        assert store.pending_notices(tenant, limit=100) == []

    def test_expired_notice_claims_are_delivered_again(self, store: Store) -> None:
        """A consumer that crashed before acking: after its lease the notices come back."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        crashed, _ = store.claim_notices(tenant, limit=100, lease=self._SHORT, worker="w1")
        assert store.pending_notices(tenant, limit=100) == []
        time.sleep(self._EXPIRE)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        token, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert self._ids(again) == self._ids(fired)
        assert store.ack_notices(tenant, self._ids(fired), crashed) == 0  # taken by another
        assert store.release_notices(tenant, self._ids(fired), crashed) == 0
        assert store.ack_notices(tenant, self._ids(fired), token) == len(fired)

    def test_acked_notices_are_never_delivered_again(self, store: Store) -> None:
        """Acknowledged notices leave the outbox for good, lease or no lease."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        token, claimed = store.claim_notices(tenant, limit=100, lease=self._SHORT, worker="w")
        assert store.ack_notices(tenant, self._ids(claimed[:2]), token) == 2
        assert store.ack_notices(tenant, self._ids(claimed[:2]), token) == 0  # once
        time.sleep(self._EXPIRE)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[2:])
        t2, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert self._ids(again) == self._ids(fired[2:])
        assert store.release_notices(tenant, self._ids(fired), t2) == 1
        assert store.ack_notices(tenant, self._ids(fired), token) == 0

    def test_ack_counts_only_what_the_token_holds(self, store: Store) -> None:
        """Another token, pending notices and unknown ids are left alone and not counted."""
        tenant = _tenant()
        fired = self._outbox(store, tenant)
        token, _ = store.claim_notices(tenant, limit=2, lease=self._LONG, worker="w")
        assert store.ack_notices(tenant, self._ids(fired), uuid.uuid4().hex) == 0
        assert store.ack_notices(tenant, [new_id(T0), new_id(T0)], token) == 0
        assert store.ack_notices(tenant, [], token) == 0
        assert store.ack_notices(tenant, self._ids(fired), token) == 2
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[2:])

    def test_release_notices_returns_them_to_pending_at_once(self, store: Store) -> None:
        """Released notices are pending again and claimable at once; only the token's count."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        token, claimed = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert store.release_notices(tenant, self._ids(claimed), uuid.uuid4().hex) == 0
        assert store.release_notices(tenant, self._ids(claimed[:1]), token) == 1
        pending = store.pending_notices(tenant, limit=100)
        assert self._ids(pending) == self._ids(fired[:1])
        assert pending[0].state is NoticeState.PENDING
        _, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert self._ids(again) == self._ids(fired[:1])
        assert store.ack_notices(tenant, self._ids(claimed[:1]), token) == 0

    def test_the_outbox_sees_only_the_tenant(self, store: Store) -> None:
        """Another tenant neither reads, claims, acks nor releases a tenant's notices."""
        fired = self._outbox(store, "tenant-a", 1)
        assert store.pending_notices("tenant-b", limit=100) == []
        assert store.claim_notices("tenant-b", limit=100, lease=self._LONG, worker="w")[1] == []
        token, claimed = store.claim_notices("tenant-a", limit=100, lease=self._LONG, worker="w")
        assert self._ids(claimed) == self._ids(fired)
        assert store.ack_notices("tenant-b", self._ids(fired), token) == 0
        assert store.release_notices("tenant-b", self._ids(fired), token) == 0
        assert store.ack_notices("tenant-a", self._ids(fired), token) == len(fired)

    def test_one_key_in_two_tenants_is_two_notices(self, store: Store) -> None:
        """``idempotency_key`` is unique per tenant, not store-wide."""
        a = self._escalating(store, "tenant-a", _dt.timedelta(hours=1))
        b = self._escalating(store, "tenant-b", _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        ta, (ca,) = store.claim_due("tenant-a", now, limit=5, lease=self._LONG, worker="w")
        tb, (cb,) = store.claim_due("tenant-b", now, limit=5, lease=self._LONG, worker="w")
        na, notices_a = self._escalate(ca, now)
        nb, notices_b = self._escalate(cb, now)
        # the same keys in both tenants (as if the ids were equal)
        notices_b = tuple(
            attrs.evolve(n, idempotency_key=m.idempotency_key)
            for n, m in zip(notices_b, notices_a, strict=True)
        )
        fire_one(store, na, expected_version=a.version, notices=notices_a, token=ta)
        fire_one(store, nb, expected_version=b.version, notices=notices_b, token=tb)
        assert self._ids(store.pending_notices("tenant-a", limit=9)) == self._ids(notices_a)
        assert self._ids(store.pending_notices("tenant-b", limit=9)) == self._ids(notices_b)

    def test_concurrent_notice_claims_never_share_a_notice(self, store: Store) -> None:
        """Consumers claiming at once: each notice goes to at most one of them."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        fired = self._outbox(store, tenant, 4)
        results = _race(
            self.threads,
            lambda i: store.claim_notices(tenant, limit=2, lease=self._LONG, worker=f"w{i}"),
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        ids = [n.id for r in results if not isinstance(r, BaseException) for n in r[1]]
        assert len(ids) == len(set(ids)), "a notice was claimed by two consumers"
        assert len(ids) == min(len(fired), 2 * self.threads)

    # ------------------------------------------------------------ the tick and outbox: arguments

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            (lambda s: s.claim_due("t", T0, limit=0, lease=_dt.timedelta(1), worker="w"), "limit"),
            (lambda s: s.claim_due("t", T0, limit=-1, lease=_dt.timedelta(1), worker="w"), "limit"),
            (
                lambda s: s.claim_due("t", T0, limit=True, lease=_dt.timedelta(1), worker="w"),
                "limit",
            ),
            (
                lambda s: s.claim_due("t", T0, limit="5", lease=_dt.timedelta(1), worker="w"),
                "limit",
            ),
            (lambda s: s.claim_due("t", T0, limit=5, lease=_dt.timedelta(0), worker="w"), "lease"),
            (lambda s: s.claim_due("t", T0, limit=5, lease=_dt.timedelta(-1), worker="w"), "lease"),
            (lambda s: s.claim_due("t", T0, limit=5, lease=60, worker="w"), "lease"),
            (lambda s: s.claim_notices("t", limit=0, lease=_dt.timedelta(1), worker="w"), "limit"),
            (lambda s: s.claim_notices("t", limit=5, lease=_dt.timedelta(0), worker="w"), "lease"),
            (lambda s: s.pending_notices("t", limit=0), "limit"),
            (lambda s: s.pending_notices("t", limit=None), "limit"),
            (lambda s: s.release("t", ["x"], None), "token"),
            (lambda s: s.release("t", ["x"], 7), "token"),
            (lambda s: s.ack_notices("t", ["x"], None), "token"),
            (lambda s: s.release_notices("t", ["x"], b"tok"), "token"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_tick_and_outbox_calls_name_a_bad_argument(
        self, store: Store, call: Callable[[Store], Any], argument: str
    ) -> None:
        """A non-positive ``limit`` or ``lease``, or a non-str token, is refused by name."""
        with pytest.raises(InvalidArgumentError) as info:
            call(store)
        assert info.value.argument == argument

    def test_fire_with_a_bad_token_is_refused_and_writes_nothing(self, store: Store) -> None:
        """``fire`` with a token that is not a str is ``InvalidArgumentError``; nothing written."""
        tenant = _tenant()
        c = self._escalating(store, tenant, _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        token, (claimed,) = store.claim_due(tenant, now, limit=5, lease=self._LONG, worker="w")
        new, notices = self._escalate(claimed, now)
        with pytest.raises(InvalidArgumentError) as info:
            fire_one(store, new, expected_version=1, notices=notices, token=None)  # type: ignore[arg-type]
        assert info.value.argument == "token"
        assert_same_commitment(store.get(tenant, c.id), c)
        assert store.pending_notices(tenant, limit=10) == []
        fire_one(store, new, expected_version=1, notices=notices, token=token)  # the claim held
