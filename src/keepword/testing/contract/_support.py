"""What the per-port store contracts share: sample values, assertions, settings, the port check.

Public helpers (``make_commitment``, ``next_state``, ``with_status``,
``assert_same_commitment``, ``notice_content``, ``T0``, ``LADDER``) are
exported from :mod:`keepword.testing`; the rest is private to the contracts.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._json import thaw_json
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status
from keepword.escalation import EscalationPolicy, Step, after_due, at_due, before_due
from keepword.notice import Notice
from keepword.ports import PORTS, Fire, Store, declared_ports
from keepword.transitions import promise

__all__ = [
    "CONTRACT_PROFILE",
    "LADDER",
    "T0",
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
    """A tenant name no other test uses (each example works in a tenant of its own)."""
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
    :meth:`~keepword.ports.CommitmentRepository.update` with ``expected_version=c.version``.

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


# --------------------------------------------------------------------------- declared ports

_PORTS_ATTRIBUTE = "keepword_ports"


def requires(*ports: str) -> Callable[[_T], _T]:
    """Mark a contract test as needing ``ports`` (besides its own contract's port).

    A test that needs two ports (a tick that fires into the outbox) lives in
    the contract of the port it pins down and is skipped, naming the missing
    port, when the store does not declare either.
    """
    unknown = set(ports) - PORTS
    if unknown:
        raise ValueError(f"unknown ports {sorted(unknown)}; known: {sorted(PORTS)}")

    def mark(test: _T) -> _T:
        known: frozenset[str] = getattr(test, _PORTS_ATTRIBUTE, frozenset())
        setattr(test, _PORTS_ATTRIBUTE, known | frozenset(ports))
        return test

    return mark


def for_port(*ports: str) -> Callable[[type[_T]], type[_T]]:
    """Class decorator: every ``test_*`` method defined in the class needs ``ports``."""

    def mark(cls: type[_T]) -> type[_T]:
        for name, member in vars(cls).items():
            if name.startswith("test_") and callable(member):
                requires(*ports)(member)
        return cls

    return mark


def missing_ports(store: object, needed: frozenset[str]) -> list[str]:
    """The ports in ``needed`` that ``store`` does not declare, sorted."""
    return sorted(needed - declared_ports(store))


class PortContract:
    """The base of every per-port contract: the ``store`` fixture to override, the port check.

    Before each test an autouse fixture compares the ports the test needs
    with :func:`keepword.ports.declared_ports` of the store, and skips the
    test, naming each missing port, when the store does not declare them.
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

    @pytest.fixture(autouse=True)
    def _skip_undeclared_ports(self, request: pytest.FixtureRequest, store: object) -> None:
        needed: frozenset[str] = getattr(request.function, _PORTS_ATTRIBUTE, frozenset())
        missing = missing_ports(store, needed)
        if missing:
            names = " and ".join(repr(p) for p in missing)
            pytest.skip(
                f"the store does not declare the {names} port{'s' if len(missing) > 1 else ''} "
                f"(its ports: {sorted(declared_ports(store))})"
            )


class TickHelpers:
    """Escalating commitments and whole ticks, for the tick-queue and outbox contracts."""

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
