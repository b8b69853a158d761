"""Commitments: one promise to one customer, its status and its full history.

Everything here is a pure value or a pure function.
A transition (``keep``, ``pause``, ...) checks that the move is legal, builds
the :class:`Event` it causes and folds it into the commitment with
:func:`apply`; it returns the new commitment and the new events, and changes
nothing else.
So a commitment is always what its history says: ``replay(c.history)``
rebuilds it (with the ``version`` you supply, since storage owns versions).

Values are validated at the edge: identifiers are non-empty strings of at most
255 characters without a NUL byte, instants become UTC, tags are sorted and
unique, ``terms`` and event data are JSON values frozen deep down.
"""

from __future__ import annotations

import collections
import datetime as _dt
import enum
import functools
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, TypeAlias

import attrs

from keepword._instant import to_utc
from keepword._validate import MAX_IDENTIFIER, check_identifier, check_text
from keepword._validate import count as _count
from keepword._validate import identifier as _identifier
from keepword._validate import optional_identifier as _optional_identifier
from keepword._validate import text as _text
from keepword.calendar import BusinessCalendar, Within
from keepword.errors import InvalidArgumentError, InvalidTransitionError
from keepword.escalation import EscalationPolicy, Firing, due_now, plan
from keepword.notice import Notice, notice_from_storage

__all__ = [
    "EVENT_KINDS",
    "JSON",
    "MAX_IDENTIFIER",
    "MAX_PRIORITY",
    "Change",
    "Commitment",
    "Event",
    "FrozenDict",
    "FrozenList",
    "Status",
    "apply",
    "calendar_snapshot",
    "cancel",
    "check_identifier",
    "check_text",
    "commitment_from_storage",
    "deadline_as_set",
    "escalate",
    "event_from_storage",
    "fail",
    "firings",
    "freeze_json",
    "keep",
    "mark_breached",
    "pause",
    "policy_snapshot",
    "promise",
    "reassign",
    "recompute_due",
    "renegotiate",
    "replay",
    "resume",
    "retarget",
    "thaw_json",
]

JSON: TypeAlias = "str | int | float | bool | list[Any] | dict[str, Any] | None"
"""A JSON value: the types :func:`json.dumps` writes without help."""


MAX_PRIORITY = 2**31 - 1
"""The largest priority accepted (a signed 32-bit column in every database)."""

EVENT_KINDS = frozenset(
    {
        "promised",
        "kept",
        "failed",
        "cancelled",
        "paused",
        "resumed",
        "renegotiated",
        "reassigned",
        "retargeted",
        "breached",
        "escalated",
    }
)
"""Every ``Event.kind`` there is."""


class Status(enum.StrEnum):
    """Where a commitment is in its life.

    >>> Status.KEPT.is_final, Status("paused") is Status.PAUSED
    (True, True)
    """

    OPEN = "open"
    PAUSED = "paused"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True for ``KEPT``, ``BROKEN`` and ``CANCELLED``: nothing more can happen."""
        return self in _FINAL


_FINAL = frozenset({Status.KEPT, Status.BROKEN, Status.CANCELLED})


# --------------------------------------------------------------------------- JSON values


class FrozenDict(dict[str, Any]):
    """A JSON object that cannot be changed: a ``dict`` whose mutators raise.

    It is a real ``dict`` (so :func:`json.dumps` writes it), compares equal to
    a plain ``dict`` with the same items, and is hashable.

    >>> d = freeze_json({"b": [1, 2], "a": None}, "terms")
    >>> d == {"a": None, "b": [1, 2]}, isinstance(hash(d), int)
    (True, True)
    >>> d["c"] = 1
    Traceback (most recent call last):
    TypeError: FrozenDict is read-only
    """

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("FrozenDict is read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class FrozenList(tuple[Any, ...]):
    """A JSON array that cannot be changed: a ``tuple`` that also equals a ``list``.

    >>> freeze_json([1, [2]], "terms") == [1, [2]]
    True
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"FrozenList({list(self)!r})"


_MAX_JSON_DEPTH = 64


def freeze_json(value: Any, argument: str, _depth: int = 0) -> Any:
    """Check that ``value`` is a JSON value and return a deep-frozen copy.

    Objects become :class:`FrozenDict`, arrays :class:`FrozenList`; strings,
    finite numbers, booleans and ``None`` stay as they are.

    Args:
        value: the value to check.
        argument: the argument name used in errors (``"terms"``).

    Returns:
        The frozen value (equal to ``value``).

    Raises:
        InvalidArgumentError: a key is not a string; a value is not JSON (a
            datetime, a set, an object), a float is NaN or infinite, a string
            holds a NUL byte or cannot be encoded as UTF-8, or nesting is deeper
            than 64.
    """
    if _depth > _MAX_JSON_DEPTH:
        raise InvalidArgumentError("is nested too deeply (more than 64 levels)", argument=argument)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        check_text(value, argument)
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(
                f"must be JSON: {value!r} is not a finite number", argument=argument
            )
        return float(value)
    if isinstance(value, Mapping):
        if isinstance(value, FrozenDict):
            return value
        items: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgumentError(
                    f"must be JSON: object keys must be strings, not {type(key).__name__}",
                    argument=argument,
                )
            check_text(key, argument)
            items[str(key)] = freeze_json(item, argument, _depth + 1)
        return FrozenDict(items)
    if isinstance(value, (list, tuple)):
        if isinstance(value, FrozenList):
            return value
        return FrozenList(freeze_json(item, argument, _depth + 1) for item in value)
    raise InvalidArgumentError(
        f"must be JSON (str, int, float, bool, None, list, dict), not {type(value).__name__}",
        argument=argument,
        fix="convert datetimes to ISO strings and other objects to plain values",
    )


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _freeze_trusted(value: Any) -> Any:
    """Freeze JSON keepword built itself (already valid): no checks, just the types.

    Strings, numbers, booleans and ``None`` are kept without a call each.
    """
    kind = type(value)
    if kind is dict:
        return FrozenDict(
            {k: v if type(v) in _LEAVES else _freeze_trusted(v) for k, v in value.items()}
        )
    if kind is list or kind is tuple:
        return FrozenList(v if type(v) in _LEAVES else _freeze_trusted(v) for v in value)
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, dict):
        return FrozenDict({k: _freeze_trusted(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(_freeze_trusted(v) for v in value)
    return value


_SNAPSHOT_KEYS = frozenset({"calendar", "policy"})
_SHARED_SNAPSHOTS = 32
_shared: tuple[tuple[dict[str, Any], FrozenDict], ...] = ()


def _shared_snapshot(value: dict[str, Any]) -> FrozenDict:
    """The frozen copy of a stored calendar or policy snapshot, shared when seen recently.

    Thousands of stored ``"promised"`` events repeat a handful of snapshots;
    comparing a parsed one with a plain copy of each recent one is a C-level
    ``dict`` comparison, far cheaper than freezing it again node by node.
    """
    global _shared
    recent = _shared
    for plain, frozen in recent:
        if plain == value:
            return frozen
    shared: FrozenDict = _freeze_trusted(value)
    _shared = ((thaw_json(shared), shared), *recent[: _SHARED_SNAPSHOTS - 1])
    return shared


def _freeze_stored_data(data: Any) -> FrozenDict:
    """Freeze a stored event's data, sharing its calendar and policy snapshots."""
    if isinstance(data, FrozenDict) or not isinstance(data, dict):
        frozen: FrozenDict = _freeze_trusted(data)
        return frozen
    return FrozenDict(
        {
            k: v
            if type(v) in _LEAVES
            else _shared_snapshot(v)
            if k in _SNAPSHOT_KEYS and type(v) is dict
            else _freeze_trusted(v)
            for k, v in data.items()
        }
    )


@functools.lru_cache(maxsize=256)
def calendar_snapshot(calendar: BusinessCalendar) -> FrozenDict:
    """The frozen JSON snapshot of ``calendar`` (cached: equal calendars share one)."""
    frozen: FrozenDict = _freeze_trusted(calendar.to_dict())
    return frozen


@functools.lru_cache(maxsize=256)
def policy_snapshot(policy: EscalationPolicy) -> FrozenDict:
    """The frozen JSON snapshot of ``policy`` (cached: equal policies share one)."""
    frozen: FrozenDict = _freeze_trusted(policy.to_dict())
    return frozen


def thaw_json(value: Any) -> Any:
    """A plain, mutable copy (``dict``/``list``) of a frozen JSON value."""
    if isinstance(value, dict):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw_json(v) for v in value]
    return value


# --------------------------------------------------------------------------- validation helpers


def _optional_utc(value: Any, argument: str) -> _dt.datetime | None:
    return None if value is None else to_utc(value, argument)


def _json_object(value: Any, argument: str) -> FrozenDict:
    if type(value) is FrozenDict:
        return value  # frozen JSON is checked JSON: no second walk
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping, not {type(value).__name__}", argument=argument
        )
    frozen: FrozenDict = freeze_json(value, argument)
    return frozen


# attrs' mypy plugin wants named converter functions, one per field.


def _at(value: Any) -> _dt.datetime:
    return to_utc(value, "at")


def _made_at(value: Any) -> _dt.datetime:
    return to_utc(value, "made_at")


def _due_at(value: Any) -> _dt.datetime:
    return to_utc(value, "due_at")


def _kept_at(value: Any) -> _dt.datetime | None:
    return _optional_utc(value, "kept_at")


def _closed_at(value: Any) -> _dt.datetime | None:
    return _optional_utc(value, "closed_at")


def _breached_at(value: Any) -> _dt.datetime | None:
    return _optional_utc(value, "breached_at")


def _paused_at(value: Any) -> _dt.datetime | None:
    return _optional_utc(value, "paused_at")


def _next_action_at(value: Any) -> _dt.datetime | None:
    return _optional_utc(value, "next_action_at")


def _data(value: Any) -> FrozenDict:
    return _json_object(value, "data")


def _terms(value: Any) -> FrozenDict:
    return _json_object(value, "terms")


def _to_status(value: Any) -> Status:
    if isinstance(value, Status):
        return value
    try:
        return Status(value)
    except ValueError:
        raise InvalidArgumentError(
            f"must be one of {', '.join(s.value for s in Status)} (got {value!r})",
            argument="status",
        ) from None


def _to_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            "must be an iterable of strings (not a single str)", argument="tags"
        )
    tags = [check_identifier(tag, "tags") for tag in value]
    return tuple(sorted(set(tags)))


def _to_history(value: Any) -> tuple[Event, ...]:
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
        raise InvalidArgumentError("must be a sequence of Event", argument="history")
    return tuple(value)


def _check_history(
    _inst: object, _attribute: attrs.Attribute[Any], value: tuple[Event, ...]
) -> None:
    if not value:
        raise InvalidArgumentError("must hold at least the 'promised' event", argument="history")
    for position, event in enumerate(value, start=1):
        if not isinstance(event, Event):
            raise InvalidArgumentError(
                f"must hold Event values, not {type(event).__name__}", argument="history"
            )
        if event.seq != position:
            raise InvalidArgumentError(
                f"event {position} has seq {event.seq}; seqs must be 1, 2, 3, ...",
                argument="history",
            )
    if value[0].kind != "promised":
        raise InvalidArgumentError("must start with a 'promised' event", argument="history")


def _check_kind(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in EVENT_KINDS:
        raise InvalidArgumentError(
            f"must be one of {', '.join(sorted(EVENT_KINDS))} (got {value!r})",
            argument=attribute.name,
        )


def _check_calendar(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, BusinessCalendar):
        raise InvalidArgumentError(
            f"must be a BusinessCalendar, not {type(value).__name__}", argument="calendar"
        )


def _check_lateness(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, _dt.timedelta):
        raise InvalidArgumentError(
            f"must be a timedelta, not {type(value).__name__}", argument="lateness"
        )
    if value < _dt.timedelta(0):
        raise InvalidArgumentError("must not be negative", argument="lateness")


# --------------------------------------------------------------------------- values


@attrs.frozen(kw_only=True)
class Event:
    """One immutable entry in a commitment's history.

    Args:
        seq: the 1-based position in the history.
        kind: what happened, one of :data:`EVENT_KINDS`.
        at: when it happened (aware; stored as UTC).
        actor: who did it (an identifier), or ``None`` for the system.
        data: the details as a JSON object (frozen); instants as ISO strings.

    Raises:
        InvalidArgumentError: a field is invalid (named in the error).
        NaiveDatetimeError: ``at`` is naive.

    >>> import datetime as dt
    >>> e = Event(seq=1, kind="kept", at=dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC),
    ...           actor="alice", data={"on_time": True})
    >>> e.data["on_time"], e.at.tzinfo
    (True, datetime.timezone.utc)
    """

    seq: int = attrs.field(validator=_count(1))
    kind: str = attrs.field(validator=_check_kind)
    at: _dt.datetime = attrs.field(converter=_at)
    actor: str | None = attrs.field(default=None, validator=_optional_identifier)
    data: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_data, hash=False)


@attrs.frozen(kw_only=True)
class Commitment:
    """One promise to one customer: what, by when, who owns it, and its history.

    Build new ones with :func:`promise` (or ``Tracker.promise``), change them
    with the transitions in this module; both keep ``replay(history)`` equal to
    the state.  Constructing one directly is for stores and strategies.

    Args:
        id: the commitment's id (see :func:`keepword._ids.new_id`).
        tenant, customer, owner, kind: identifiers.
        what: what was promised (any text without NUL).
        made_at: when it was promised.
        due_at: its current deadline.
        status: its :class:`Status`.
        version: 1 when first stored, +1 on every stored change.
        external_ref: the host's id for the thing promised, unique per tenant.
        tags: labels (sorted and deduplicated on the way in).
        priority: ``>= 0``; larger is more urgent.
        waiting_for: the scarce resource it waits for, e.g. ``"sku:FIG-1"``.
        terms: the agreed terms, a JSON object (frozen).
        spec: ``Within.to_string()`` of the deadline spec, ``None`` for an
            explicit due instant.
        calendar: the calendar it was made under (a snapshot).
        kept_at, closed_at, breached_at, paused_at: instants, see the guide.
        lateness: business time late, set when kept (zero when on time).
        deadline_version: 1, then +1 per renegotiation, retarget or resume that
            moves the deadline.
        policy: the escalation policy it was made under (a snapshot), or ``None``.
        escalation_cursor: how many of the current deadline's planned step
            firings have fired (see :func:`keepword.escalation.plan`).
        next_action_at: when the next step is due while OPEN, else ``None``;
            stores index it so a tick finds due work without a scan.
        history: every event so far, ``seq`` 1, 2, 3, ..., starting with
            ``"promised"``.

    Raises:
        InvalidArgumentError: a field is invalid (named in the error).
        NaiveDatetimeError: an instant is naive.
    """

    id: str = attrs.field(validator=_identifier)
    tenant: str = attrs.field(validator=_identifier)
    customer: str = attrs.field(validator=_identifier)
    owner: str = attrs.field(validator=_identifier)
    kind: str = attrs.field(validator=_identifier)
    what: str = attrs.field(validator=_text)
    made_at: _dt.datetime = attrs.field(converter=_made_at)
    due_at: _dt.datetime = attrs.field(converter=_due_at)
    status: Status = attrs.field(converter=_to_status)
    version: int = attrs.field(validator=_count(1))
    external_ref: str | None = attrs.field(default=None, validator=_optional_identifier)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_to_tags)
    priority: int = attrs.field(default=0, validator=_count(0, MAX_PRIORITY))
    waiting_for: str | None = attrs.field(default=None, validator=_optional_identifier)
    terms: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_terms, hash=False)
    spec: str | None = attrs.field(default=None, validator=_optional_identifier)
    calendar: BusinessCalendar = attrs.field(validator=_check_calendar, hash=False)
    kept_at: _dt.datetime | None = attrs.field(default=None, converter=_kept_at)
    closed_at: _dt.datetime | None = attrs.field(default=None, converter=_closed_at)
    breached_at: _dt.datetime | None = attrs.field(default=None, converter=_breached_at)
    paused_at: _dt.datetime | None = attrs.field(default=None, converter=_paused_at)
    lateness: _dt.timedelta | None = attrs.field(default=None, validator=_check_lateness)
    deadline_version: int = attrs.field(default=1, validator=_count(1))
    policy: EscalationPolicy | None = attrs.field(default=None, hash=False)
    escalation_cursor: int = attrs.field(default=0, validator=_count(0))
    next_action_at: _dt.datetime | None = attrs.field(default=None, converter=_next_action_at)
    history: tuple[Event, ...] = attrs.field(converter=_to_history, validator=_check_history)

    @property
    def on_time(self) -> bool:
        """True if it was kept, at or before its deadline."""
        return (
            self.status is Status.KEPT and self.kept_at is not None and self.kept_at <= self.due_at
        )

    @property
    def is_final(self) -> bool:
        """True once kept, broken or cancelled."""
        return self.status.is_final

    def is_overdue(self, now: _dt.datetime) -> bool:
        """True if it is still open (or paused) and ``now`` is past its deadline.

        A paused commitment's clock is stopped, so it is never overdue.

        Args:
            now: the instant to judge at (aware).

        Raises:
            NaiveDatetimeError: ``now`` is naive.
        """
        return self.status is Status.OPEN and to_utc(now, "now") > self.due_at


_FIELDS: dict[str, attrs.Attribute[Any]] = {a.name: a for a in attrs.fields(Commitment)}
_NAMES = tuple(_FIELDS)
_POSITION = {name: i for i, name in enumerate(_NAMES)}
_values_of = operator.attrgetter(*_NAMES)


def _assemble(values: Iterable[Any]) -> Commitment:
    """A :class:`Commitment` holding ``values`` (one per field, in field order), unchecked.

    The fields are set by ``map`` over ``object.__setattr__``: one C-level
    loop, the cheapest way to fill a frozen, slotted attrs instance.
    """
    new: Commitment = object.__new__(Commitment)
    collections.deque(map(object.__setattr__, itertools.repeat(new), _NAMES, values), maxlen=0)
    return new


def _checked(c: Commitment, name: str, value: Any) -> Any:
    """``value`` for field ``name`` of a state derived from ``c``, converted and validated."""
    field = _FIELDS[name]
    if field.converter is not None:
        value = field.converter(value)  # type: ignore[operator]
    if field.validator is not None:
        field.validator(c, field, value)
    return value


def _derive(c: Commitment, **changes: Any) -> Commitment:
    """``attrs.evolve`` for transitions: converts and validates only the changed fields.

    Every validator of :class:`Commitment` judges one field alone, so the
    unchanged ones (already checked when ``c`` was built) need no second look;
    a tick builds several states per commitment, and this keeps it cheap.
    """
    values = list(_values_of(c))
    for name, value in changes.items():
        values[_POSITION[name]] = _checked(c, name, value)
    return _assemble(values)


def _refine(fresh: Commitment, **changes: Any) -> Commitment:
    """:func:`_derive` into ``fresh`` itself, for a state this module has just built.

    Only for a value no one else holds yet (a transition's intermediate
    state): a frozen value that has been returned is never changed.  Saves
    a copy of every field when a transition sets a few more after folding.
    """
    for name, value in changes.items():
        object.__setattr__(fresh, name, _checked(fresh, name, value))
    return fresh


def event_from_storage(
    *, seq: int, kind: str, at: _dt.datetime, actor: str | None, data: Any
) -> Event:
    """Rebuild an :class:`Event` a store wrote, without checking it again.

    For store authors: ``data`` is the parsed JSON object as stored (it is
    frozen here); ``at`` must be an aware UTC instant.  The event was
    validated when it was first made, so loading skips the validators.
    """
    event: Event = object.__new__(Event)
    for name, value in (
        ("seq", seq),
        ("kind", kind),
        ("at", at),
        ("actor", actor),
        ("data", _freeze_stored_data(data)),
    ):
        object.__setattr__(event, name, value)
    return event


def commitment_from_storage(**fields: Any) -> Commitment:
    """Rebuild a :class:`Commitment` a store wrote, without checking it again.

    For store authors: every field by name, each already of its final type
    (UTC instants, a :class:`Status`, a tuple of tags, a tuple of events, a
    calendar and a policy), except ``terms``, which is frozen here.  A state
    built by keepword was validated when it was made; loading it again skips
    the validators, so a tick that loads many commitments stays cheap.

    Raises:
        InvalidArgumentError: a field is missing or unknown.
    """
    if fields.keys() != _FIELDS.keys():
        missing = sorted(_FIELDS.keys() - fields.keys())
        unknown = sorted(fields.keys() - _FIELDS.keys())
        raise InvalidArgumentError(
            f"needs every Commitment field (missing {missing}, unknown {unknown})",
            argument="fields",
        )
    fields["terms"] = _freeze_trusted(fields["terms"])
    return _assemble(fields[name] for name in _NAMES)


# --------------------------------------------------------------------------- event helpers

_ZERO = _dt.timedelta(0)
_ONE_US = _dt.timedelta(microseconds=1)


def _iso(value: _dt.datetime) -> str:
    return value.isoformat()


def _instant(value: Any) -> _dt.datetime:
    return to_utc(_dt.datetime.fromisoformat(value), "data")


def _us(delta: _dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _check_calendar_arg(calendar: Any) -> BusinessCalendar:
    if not isinstance(calendar, BusinessCalendar):
        raise InvalidArgumentError(
            f"must be a BusinessCalendar, not {type(calendar).__name__}", argument="calendar"
        )
    return calendar


def _calendar_from(data: Any) -> BusinessCalendar:
    """The calendar a snapshot describes; equal snapshots share one (immutable) calendar."""
    if isinstance(data, FrozenDict):
        return _calendar_of_snapshot(data)
    plain = thaw_json(data)
    return _cached_calendar(json.dumps(plain, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _calendar_of_snapshot(snapshot: FrozenDict) -> BusinessCalendar:
    return _cached_calendar(json.dumps(snapshot, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _cached_calendar(snapshot: str) -> BusinessCalendar:
    return BusinessCalendar.from_dict(json.loads(snapshot))


def _resolve_due(
    due: Any, start: _dt.datetime, calendar: BusinessCalendar
) -> tuple[_dt.datetime, str | None]:
    """The instant and the spec string (``None`` for an explicit instant) of ``due``."""
    if isinstance(due, _dt.datetime):
        return to_utc(due, "due"), None
    if isinstance(due, Within):
        return to_utc(calendar.resolve(start, due), "due"), due.to_string()
    raise InvalidArgumentError(
        f"must be a within(...) spec or an aware datetime, not {type(due).__name__}",
        argument="due",
        fix="e.g. due=within(business_days=3)",
    )


def _optional_reason(reason: Any) -> str | None:
    return None if reason is None else check_text(reason, "reason")


def _required_reason(reason: Any) -> str:
    text = check_text(reason, "reason")
    if not text.strip():
        raise InvalidArgumentError("must say why", argument="reason")
    return text


def _actor(actor: Any) -> str | None:
    return None if actor is None else check_identifier(actor, "actor")


def _require(c: Commitment, action: str, *allowed: Status) -> None:
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    if c.status not in allowed:
        raise InvalidTransitionError(action, c.status.value, c.id)


class _Draft:
    """Events being added to a commitment by one transition."""

    def __init__(self, c: Commitment, actor: str | None):
        self.original = c
        self.current = c
        self.actor = actor
        self.events: list[Event] = []

    def emit(
        self, kind: str, at: _dt.datetime, data: Mapping[str, Any], *, built: bool = False
    ) -> None:
        """Add an event; ``built``: its fields are keepword's own (a UTC ``at``, an
        event kind, JSON data of ints and strings), so they skip the checks."""
        seq = len(self.current.history) + 1
        if built:
            event = event_from_storage(seq=seq, kind=kind, at=at, actor=self.actor, data=data)
        else:
            event = Event(seq=seq, kind=kind, at=at, actor=self.actor, data=data)
        self.current = apply(self.current, event)
        self.events.append(event)

    def done(self) -> tuple[Commitment, tuple[Event, ...]]:
        if not self.events:
            return self.original, ()
        # every emit built self.current afresh (apply returns a new state): refine it
        return _refine(self.current, version=self.original.version + 1), tuple(self.events)


def _breached_this_deadline(c: Commitment) -> bool:
    for event in reversed(c.history):
        if event.kind == "breached" and event.data.get("deadline_version") == c.deadline_version:
            return True
    return False


def _breach_if_missed(draft: _Draft, now: _dt.datetime, late_at: _dt.datetime) -> None:
    """Record a breach of the current deadline if ``late_at`` is past it and none was recorded."""
    c = draft.current
    if late_at > c.due_at and not _breached_this_deadline(c):
        draft.emit(
            "breached",
            now,
            {"due_at": _iso(c.due_at), "deadline_version": c.deadline_version},
            built=True,
        )


def _resume_data(c: Commitment, now: _dt.datetime) -> dict[str, Any]:
    paused_at = c.paused_at if c.paused_at is not None else now  # a hand-built value: no shift
    paused = max(c.calendar.between(paused_at, now), _ZERO) if now > paused_at else _ZERO
    due = c.due_at if paused == _ZERO else to_utc(c.calendar.add(c.due_at, paused), "due")
    due = max(due, c.due_at)  # a pause never shortens a deadline
    return {
        "paused_at": _iso(paused_at),
        "paused_us": _us(paused),
        "old_due_at": _iso(c.due_at),
        "due_at": _iso(due),
    }


# --------------------------------------------------------------------------- apply and replay


def apply(c: Commitment | None, event: Event) -> Commitment:
    """Fold one event into a commitment: the only place state changes.

    Args:
        c: the state before the event, or ``None`` for the ``"promised"`` event.
        event: the next event; its ``seq`` must be ``len(c.history) + 1``.

    Returns:
        The state after the event, with ``event`` appended to the history.
        The version is left alone (a new commitment gets version 1).

    Raises:
        InvalidArgumentError: the event does not follow ``c`` (wrong ``seq``,
            a second ``"promised"``, or a first event that is not
            ``"promised"``).
    """
    if not isinstance(event, Event):
        raise InvalidArgumentError(
            f"must be an Event, not {type(event).__name__}", argument="event"
        )
    d = event.data
    if c is None:
        if event.kind != "promised" or event.seq != 1:
            raise InvalidArgumentError(
                "a history must start with the 'promised' event, seq 1", argument="event"
            )
        calendar = _calendar_from(d["calendar"])
        policy = _policy_from(d.get("policy"))
        return _first_state(event, calendar, policy, Commitment)
    if event.seq != len(c.history) + 1:
        raise InvalidArgumentError(
            f"event seq {event.seq} does not follow a history of {len(c.history)}",
            argument="event",
        )
    return _schedule(_fold(c, event), before=c)


def _first_state(
    event: Event,
    calendar: BusinessCalendar,
    policy: EscalationPolicy | None,
    build: Callable[..., Commitment],
) -> Commitment:
    """The state a ``"promised"`` event makes, built by ``build``.

    ``apply`` builds it with :class:`Commitment` (every field validated: the
    event may come from anywhere); :func:`promise`, whose every value is
    already checked, with :func:`commitment_from_storage`.
    """
    d = event.data
    made_at, due_at = event.at, _instant(d["due_at"])
    return build(
        id=d["id"],
        tenant=d["tenant"],
        customer=d["customer"],
        owner=d["owner"],
        kind=d["kind"],
        what=d["what"],
        made_at=made_at,
        due_at=due_at,
        status=Status.OPEN,
        version=1,
        external_ref=d.get("external_ref"),
        tags=tuple(d.get("tags", ())),
        priority=d.get("priority", 0),
        waiting_for=d.get("waiting_for"),
        terms=d.get("terms") or FrozenDict(),
        spec=d.get("spec"),
        calendar=calendar,
        kept_at=None,
        closed_at=None,
        breached_at=None,
        paused_at=None,
        lateness=None,
        deadline_version=1,
        policy=policy,
        escalation_cursor=0,
        next_action_at=_next_action(policy, made_at, due_at, calendar, 0, False),
        history=(event,),
    )


def _fold(c: Commitment, event: Event) -> Commitment:
    """The state after ``event`` (which :func:`apply` checked follows ``c``), before scheduling."""
    new = _derive(c, **_folded(c, event))
    # apply() checked the event's type and seq, and c's history was valid: the
    # longer history needs no second look (checking it would cost O(len) per event).
    object.__setattr__(new, "history", (*c.history, event))
    return new


def _folded(c: Commitment, event: Event) -> dict[str, Any]:
    """The fields ``event`` changes in ``c`` (the history aside)."""
    d = event.data
    kind = event.kind
    if kind == "escalated":
        return {
            "escalation_cursor": d["cursor"],
            "owner": d.get("owner", c.owner),
            "priority": d.get("priority", c.priority),
        }
    if kind == "kept":
        kept_at = _instant(d["kept_at"])
        return {
            "status": Status.KEPT,
            "kept_at": kept_at,
            "closed_at": kept_at,
            "paused_at": None,
            "lateness": _dt.timedelta(microseconds=d["lateness_us"]),
        }
    if kind in ("failed", "cancelled"):
        status = Status.BROKEN if kind == "failed" else Status.CANCELLED
        return {"status": status, "closed_at": event.at, "paused_at": None}
    if kind == "paused":
        return {"status": Status.PAUSED, "paused_at": event.at}
    if kind in ("resumed", "renegotiated", "retargeted"):
        due = _instant(d["due_at"])
        bump = kind == "renegotiated" or due != c.due_at
        changes: dict[str, Any] = {
            "due_at": due,
            "deadline_version": c.deadline_version + (1 if bump else 0),
        }
        if kind == "resumed":
            changes.update(status=Status.OPEN, paused_at=None)
        elif kind == "renegotiated":
            changes.update(spec=d.get("spec"))
        else:
            changes.update(calendar=_calendar_from(d["calendar"]))
        return changes
    if kind == "reassigned":
        return {"owner": d["owner"]}
    if kind == "breached":
        breached_at = c.breached_at if c.breached_at is not None else _instant(d["due_at"])
        return {"breached_at": breached_at}
    raise InvalidArgumentError(  # pragma: no cover - Event validates kind
        f"cannot apply a {kind!r} event", argument="event"
    )


def _policy_from(data: Any) -> EscalationPolicy | None:
    if data is None:
        return None
    if isinstance(data, FrozenDict):
        return _cached_policy(data)
    return EscalationPolicy.from_dict(data)


@functools.lru_cache(maxsize=256)
def _cached_policy(snapshot: FrozenDict) -> EscalationPolicy:
    return EscalationPolicy.from_dict(snapshot)


def firings(c: Commitment) -> tuple[Firing, ...]:
    """Every planned step firing for ``c``'s current deadline, in firing order."""
    return _firings(c.policy, c.made_at, c.due_at, c.calendar)


@functools.lru_cache(maxsize=4096)
def _firings(
    policy: EscalationPolicy | None,
    made_at: _dt.datetime,
    due_at: _dt.datetime,
    calendar: BusinessCalendar,
) -> tuple[Firing, ...]:
    return plan(policy, made_at, due_at, calendar)


def _next_action(
    policy: EscalationPolicy | None,
    made_at: _dt.datetime,
    due_at: _dt.datetime,
    calendar: BusinessCalendar,
    cursor: int,
    breached: bool,
) -> _dt.datetime | None:
    """When an OPEN commitment next needs a tick: its next step, or the breach check."""
    nxt = None
    if policy is not None:
        planned = _firings(policy, made_at, due_at, calendar)
        nxt = planned[cursor].at if cursor < len(planned) else None
    if not breached:
        # the first tick past the deadline records the breach
        breach_check = due_at + _ONE_US
        nxt = breach_check if nxt is None else min(nxt, breach_check)
    return nxt


def _schedule(c: Commitment, *, before: Commitment | None = None) -> Commitment:
    """Set the escalation cursor and ``next_action_at`` that follow from ``c``'s state.

    ``c`` is the state :func:`_fold` has just built (no one holds it yet), so
    it is refined in place.
    """
    cursor = c.escalation_cursor
    if before is not None and c.deadline_version != before.deadline_version:
        cursor = 0  # a new deadline: every step is scheduled afresh
    nxt = None
    if c.status is Status.OPEN:
        nxt = _next_action(
            c.policy, c.made_at, c.due_at, c.calendar, cursor, _breached_this_deadline(c)
        )
    if cursor == c.escalation_cursor and nxt == c.next_action_at:
        return c
    return _refine(c, escalation_cursor=cursor, next_action_at=nxt)


def replay(events: Iterable[Event], *, version: int = 1) -> Commitment:
    """Rebuild a commitment from its history.

    Args:
        events: the full history, starting with the ``"promised"`` event.
        version: the version to give the result (storage owns versions).

    Returns:
        The commitment the history describes; for any commitment ``c`` built
        by this module, ``replay(c.history, version=c.version) == c``.

    Raises:
        InvalidArgumentError: the history is empty or out of order.
    """
    c: Commitment | None = None
    for event in events:
        c = apply(c, event)
    if c is None:
        raise InvalidArgumentError("must hold at least the 'promised' event", argument="events")
    return c if c.version == version else _derive(c, version=version)


# --------------------------------------------------------------------------- transitions

Change = tuple["Commitment", tuple[Event, ...]]
"""What a transition returns: the new commitment and the events it appended."""


def promise(
    *,
    id: str,
    tenant: str,
    customer: str,
    owner: str,
    kind: str,
    what: str,
    now: _dt.datetime,
    calendar: BusinessCalendar,
    due: Within | _dt.datetime,
    external_ref: str | None = None,
    tags: Iterable[str] = (),
    priority: int = 0,
    waiting_for: str | None = None,
    terms: Mapping[str, Any] | None = None,
    actor: str | None = None,
    policy: EscalationPolicy | None = None,
) -> Change:
    """Make a new commitment (version 1) and its ``"promised"`` event.

    Args:
        id: the new commitment's id (see :func:`keepword._ids.new_id`).
        tenant, customer, owner, kind: identifiers.
        what: what is promised.
        now: when the promise is made (``made_at``).
        calendar: the calendar the deadline runs on (kept as a snapshot).
        due: a ``within(...)`` spec resolved from ``now`` on ``calendar``, or
            an explicit aware instant.
        external_ref, tags, priority, waiting_for, terms: see :class:`Commitment`.
        actor: who made the promise.
        policy: the escalation policy chosen for it (kept as a snapshot, with
            its name and version recorded in the event).

    Returns:
        ``(commitment, (promised_event,))``.

    Raises:
        InvalidArgumentError: a field is invalid, or ``due`` is before ``now``.
        NaiveDatetimeError: ``now`` or ``due`` is naive.
        CalendarError: the calendar cannot resolve the deadline.

    >>> import datetime as dt
    >>> from keepword.calendar import BusinessCalendar, within
    >>> cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    >>> c, events = promise(id="c1", tenant="shop", customer="acct-42", owner="alice",
    ...     kind="reply", what="Email the price list", calendar=cal, due=within(business_days=3),
    ...     now=dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
    >>> c.status, c.due_at.isoformat(), c.spec, [e.kind for e in events]
    (<Status.OPEN: 'open'>, '2026-11-27T22:00:00+00:00', 'business_days=3', ['promised'])
    """
    now = to_utc(now, "now")
    calendar = _check_calendar_arg(calendar)
    due_at, spec = _resolve_due(due, now, calendar)
    if due_at < now:
        raise InvalidArgumentError(
            f"must not be before the promise is made ({due_at.isoformat()} < {now.isoformat()})",
            argument="due",
        )
    if terms is not None and not isinstance(terms, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping, not {type(terms).__name__}", argument="terms"
        )
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise InvalidArgumentError(
            f"must be an int, not {type(priority).__name__}", argument="priority"
        )
    if not 0 <= priority <= MAX_PRIORITY:
        raise InvalidArgumentError(
            f"must be between 0 and {MAX_PRIORITY} (got {priority})", argument="priority"
        )
    data = {
        "id": check_identifier(id, "id"),
        "tenant": check_identifier(tenant, "tenant"),
        "customer": check_identifier(customer, "customer"),
        "owner": check_identifier(owner, "owner"),
        "kind": check_identifier(kind, "kind"),
        "what": check_text(what, "what"),
        "due_at": _iso(due_at),
        "external_ref": None
        if external_ref is None
        else check_identifier(external_ref, "external_ref"),
        "tags": list(_to_tags(tags)),
        "priority": priority,
        "waiting_for": None
        if waiting_for is None
        else check_identifier(waiting_for, "waiting_for"),
        "terms": freeze_json(terms if terms is not None else {}, "terms"),
        "spec": spec,
        "calendar": calendar_snapshot(calendar),
    }
    if policy is not None:
        if not isinstance(policy, EscalationPolicy):
            raise InvalidArgumentError(
                f"must be an EscalationPolicy, not {type(policy).__name__}", argument="policy"
            )
        data["policy"] = policy_snapshot(policy)
        data["policy_version"] = policy.version
    # every value above is checked, frozen or built by keepword: no second walk
    data["tags"] = FrozenList(data["tags"])
    event = Event(seq=1, kind="promised", at=now, actor=_actor(actor), data=FrozenDict(data))
    return _first_state(event, calendar, policy, commitment_from_storage), (event,)


def keep(
    c: Commitment,
    *,
    now: _dt.datetime,
    kept_at: _dt.datetime | None = None,
    actor: str | None = None,
) -> Change:
    """Mark a commitment kept.

    It is kept on time iff ``kept_at <= due_at``.
    A late keep first records a ``"breached"`` event (unless this deadline's
    breach is already recorded) and sets ``lateness`` to the business time
    between the deadline and ``kept_at``; an on-time keep has zero lateness.
    A paused commitment is resumed first (its deadline moves as usual).

    Args:
        c: an open or paused commitment.
        now: when this is recorded.
        kept_at: when it was kept (default ``now``); not after ``now`` and not
            before ``made_at``.
        actor: who kept it.

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
        InvalidArgumentError: ``kept_at`` is in the future or before ``made_at``.
    """
    _require(c, "keep", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    at = now if kept_at is None else to_utc(kept_at, "kept_at")
    if at > now:
        raise InvalidArgumentError("must not be in the future", argument="kept_at")
    if at < c.made_at:
        raise InvalidArgumentError("must not be before the promise was made", argument="kept_at")
    draft = _Draft(c, _actor(actor))
    if c.status is Status.PAUSED:
        draft.emit("resumed", now, _resume_data(c, now))
    _breach_if_missed(draft, now, at)
    due = draft.current.due_at
    lateness = max(draft.current.calendar.between(due, at), _ZERO) if at > due else _ZERO
    draft.emit(
        "kept",
        now,
        {"kept_at": _iso(at), "on_time": at <= due, "lateness_us": _us(lateness)},
    )
    return draft.done()


def fail(c: Commitment, *, now: _dt.datetime, reason: str, actor: str | None = None) -> Change:
    """Declare that a commitment cannot be kept (it becomes ``BROKEN``).

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
        InvalidArgumentError: ``reason`` is empty.
    """
    _require(c, "fail", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    draft.emit("failed", now, {"reason": _required_reason(reason)})
    return draft.done()


def cancel(
    c: Commitment, *, now: _dt.datetime, reason: str | None = None, actor: str | None = None
) -> Change:
    """Cancel a commitment: the customer withdrew it, or it no longer applies.

    Raises:
        InvalidTransitionError: it is already kept, broken or cancelled.
    """
    _require(c, "cancel", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    draft.emit("cancelled", now, {"reason": _optional_reason(reason)})
    return draft.done()


def pause(c: Commitment, *, now: _dt.datetime, reason: str, actor: str | None = None) -> Change:
    """Stop a commitment's clock (waiting on the customer, say).

    If the deadline has already passed, its breach is recorded first.

    Raises:
        InvalidTransitionError: it is not open.
        InvalidArgumentError: ``reason`` is empty.
    """
    _require(c, "pause", Status.OPEN)
    now = to_utc(now, "now")
    why = _required_reason(reason)
    draft = _Draft(c, _actor(actor))
    _breach_if_missed(draft, now, now)
    draft.emit("paused", now, {"reason": why})
    return draft.done()


def resume(c: Commitment, *, now: _dt.datetime, actor: str | None = None) -> Change:
    """Restart a paused commitment's clock.

    The deadline moves later by the business time (on the commitment's
    calendar) that passed while it was paused; if that moves it, the
    ``deadline_version`` goes up by one.

    Raises:
        InvalidTransitionError: it is not paused.
    """
    _require(c, "resume", Status.PAUSED)
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    draft.emit("resumed", now, _resume_data(c, now))
    return draft.done()


def renegotiate(
    c: Commitment,
    *,
    now: _dt.datetime,
    due: Within | _dt.datetime,
    reason: str | None = None,
    actor: str | None = None,
) -> Change:
    """Agree a new deadline; the commitment stays open, ``deadline_version`` + 1.

    A ``within(...)`` spec is resolved from ``now`` on the commitment's
    calendar.  If the old deadline had already passed, its breach is recorded
    first: a breach is never cleared.

    Raises:
        InvalidTransitionError: it is not open.
        InvalidArgumentError: the new deadline is before ``now`` (or before
            ``made_at``).
    """
    _require(c, "renegotiate", Status.OPEN)
    now = to_utc(now, "now")
    due_at, spec = _resolve_due(due, now, c.calendar)
    floor = max(now, c.made_at)
    if due_at < floor:
        raise InvalidArgumentError(
            f"must not be in the past ({due_at.isoformat()} < {floor.isoformat()})",
            argument="due",
        )
    why = _optional_reason(reason)
    draft = _Draft(c, _actor(actor))
    _breach_if_missed(draft, now, now)
    draft.emit(
        "renegotiated",
        now,
        {"old_due_at": _iso(c.due_at), "due_at": _iso(due_at), "spec": spec, "reason": why},
    )
    return draft.done()


def reassign(
    c: Commitment,
    *,
    now: _dt.datetime,
    owner: str,
    reason: str | None = None,
    actor: str | None = None,
) -> Change:
    """Give a commitment a new single owner; its history travels with it.

    Raises:
        InvalidTransitionError: it is kept, broken or cancelled.
        InvalidArgumentError: ``owner`` is invalid or already the owner.
    """
    _require(c, "reassign", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    new_owner = check_identifier(owner, "owner")
    if new_owner == c.owner:
        raise InvalidArgumentError(f"{owner!r} already owns it", argument="owner")
    draft = _Draft(c, _actor(actor))
    draft.emit(
        "reassigned",
        now,
        {"old_owner": c.owner, "owner": new_owner, "reason": _optional_reason(reason)},
    )
    return draft.done()


def _anchor(c: Commitment) -> Event:
    for event in reversed(c.history):
        if event.kind in ("renegotiated", "promised"):
            return event
    raise AssertionError("a history starts with 'promised'")  # pragma: no cover


def deadline_as_set(c: Commitment, calendar: BusinessCalendar) -> tuple[Event, _dt.datetime]:
    """The event that last set ``c``'s deadline, and the deadline it set on ``calendar``.

    The event is the promise or the last renegotiation; the deadline is its
    spec resolved from that event's instant (an explicit instant stays as it
    was), before any pause moved it.
    """
    anchor = _anchor(c)
    if c.spec is not None:
        return anchor, to_utc(calendar.resolve(anchor.at, Within.parse(c.spec)), "due")
    return anchor, _instant(anchor.data["due_at"])


def recompute_due(c: Commitment, calendar: BusinessCalendar) -> _dt.datetime:
    """The deadline ``c`` would have had on ``calendar``.

    The deadline spec is resolved again from when it was set (the promise or
    the last renegotiation; an explicit instant stays as it was), then every
    completed pause since is added again, measured on ``calendar``.
    """
    anchor, due = deadline_as_set(c, calendar)
    for event in c.history[anchor.seq :]:
        if event.kind == "resumed":
            paused_at = _instant(event.data["paused_at"])
            paused = calendar.between(paused_at, event.at) if event.at > paused_at else _ZERO
            if paused > _ZERO:
                due = max(due, to_utc(calendar.add(due, paused), "due"))
    return due


def retarget(
    c: Commitment,
    *,
    now: _dt.datetime,
    calendar: BusinessCalendar,
    actor: str | None = None,
) -> Change:
    """Move a commitment onto ``calendar`` and recompute its deadline, on purpose.

    The event records the old and new deadline and calendar.  The
    ``deadline_version`` goes up iff the deadline moves.  If the old deadline
    had already passed, its breach is recorded first.

    Raises:
        InvalidTransitionError: it is kept, broken or cancelled.
        CalendarError: ``calendar`` cannot resolve the deadline.
    """
    _require(c, "retarget", Status.OPEN, Status.PAUSED)
    now = to_utc(now, "now")
    calendar = _check_calendar_arg(calendar)
    due_at = recompute_due(c, calendar)
    draft = _Draft(c, _actor(actor))
    if c.status is Status.OPEN:
        _breach_if_missed(draft, now, now)
    draft.emit(
        "retargeted",
        now,
        {
            "old_due_at": _iso(c.due_at),
            "due_at": _iso(due_at),
            "old_calendar": c.calendar.to_dict(),
            "calendar": calendar.to_dict(),
        },
    )
    return draft.done()


def mark_breached(c: Commitment, *, now: _dt.datetime, actor: str | None = None) -> Change:
    """Record the breach of an open commitment's deadline, the first time ``now`` is past it.

    Returns ``(c, ())`` unchanged when there is nothing to record: it is not
    open, not overdue, or this deadline's breach is already recorded.
    ``breached_at`` keeps the first deadline ever missed.
    """
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    now = to_utc(now, "now")
    draft = _Draft(c, _actor(actor))
    if c.status is Status.OPEN:
        _breach_if_missed(draft, now, now)
    return draft.done()


def escalate(
    c: Commitment,
    *,
    now: _dt.datetime,
    new_id: Callable[[], str],
    late_after: _dt.timedelta = _dt.timedelta(minutes=5),
) -> tuple[Commitment, tuple[Event, ...], tuple[Notice, ...]]:
    """Fire every escalation step of ``c`` that is due at ``now``, in order.

    The first tick past the deadline records the breach.  Each fired step
    becomes a :class:`~keepword.notice.Notice` (keyed by commitment, deadline
    version, step and repeat, so it is written at most once) and its action is
    applied: ``reassign`` makes the recipient the owner, ``raise_priority``
    adds one to the priority.  One ``"escalated"`` event records the new
    cursor.  A clock that went backwards fires nothing: steps fire only at or
    before ``now`` and the cursor never moves back.

    Args:
        c: the commitment (only an OPEN one has steps to fire).
        now: the tick's instant.
        new_id: makes the id of each notice.
        late_after: a step fired longer than this after it was due is flagged
            late (missed ticks catching up).

    Returns:
        ``(new_commitment, events, notices)``; ``(c, (), ())`` when nothing is due.
    """
    if not isinstance(c, Commitment):
        raise InvalidArgumentError(
            f"must be a Commitment, not {type(c).__name__}", argument="commitment"
        )
    now = to_utc(now, "now")
    if c.status is not Status.OPEN:
        return c, (), ()
    draft = _Draft(c, None)
    _breach_if_missed(draft, now, now)
    planned = firings(c)
    due, cursor, _ = due_now(planned, c.escalation_cursor, now)
    if not due:
        new, events = draft.done()
        return new, events, ()
    owner, priority = c.owner, c.priority
    notices = []
    for firing in due:
        step = firing.step
        if step.action == "reassign":
            owner = step.notify
        elif step.action == "raise_priority":
            priority = min(priority + 1, MAX_PRIORITY)
        notices.append(
            notice_from_storage(
                id=new_id(),
                tenant=c.tenant,
                idempotency_key=firing.key(c.id, c.deadline_version),
                commitment_id=c.id,
                deadline_version=c.deadline_version,
                step_index=firing.step_index,
                repeat=firing.repeat,
                step=step.label,
                recipient=step.notify,
                action=step.action,
                customer=c.customer,
                owner=owner,
                kind=c.kind,
                what=c.what,
                due_at=c.due_at,
                scheduled_at=firing.at,
                fired_at=now,
                late=now - firing.at > late_after,
                breach=step.trigger.is_breach,
            )
        )
    data: dict[str, Any] = {
        "cursor": cursor,
        "deadline_version": c.deadline_version,
        "fired": [n.idempotency_key for n in notices],
    }
    if owner != c.owner:
        data["owner"] = owner
    if priority != c.priority:
        data["priority"] = priority
    draft.emit("escalated", now, data, built=True)
    new, events = draft.done()
    return new, events, tuple(notices)
