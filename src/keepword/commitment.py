"""Commitments: one promise to one customer, its status and its full history.

The values (:class:`Status`, :class:`Event`, :class:`Commitment`) and the one
fold that changes them: :func:`apply` folds an event into a commitment and
:func:`replay` rebuilds one from its history (with the ``version`` you
supply, since storage owns versions).  The named transitions that build those
events (``keep``, ``pause``, ...) live in :mod:`keepword.transitions`.
Everything here is a pure value or a pure function.

Values are validated at the edge: identifiers are non-empty strings of at most
255 characters without a NUL byte, instants become UTC, tags are sorted and
unique, ``terms`` and event data are JSON values frozen deep down.
:func:`commitment_from_storage` and :func:`event_from_storage` validate what a
store hands back, too; only keepword's own code builds values unchecked, through
one private constructor.
"""

from __future__ import annotations

import collections
import datetime as _dt
import enum
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from keepword._instant import from_iso, to_utc
from keepword._json import FrozenDict, freeze_json, freeze_trusted
from keepword._snapshots import calendar_from, freeze_stored_data, policy_from
from keepword._validate import check_identifier
from keepword._validate import count as _count
from keepword._validate import identifier as _identifier
from keepword._validate import optional_identifier as _optional_identifier
from keepword._validate import text as _text
from keepword.calendar import BusinessCalendar
from keepword.errors import InvalidArgumentError
from keepword.escalation import MAX_PRIORITY, EscalationPolicy, plan

__all__ = [
    "EVENT_KINDS",
    "MAX_PRIORITY",
    "Commitment",
    "Event",
    "Status",
    "apply",
    "commitment_from_storage",
    "event_from_storage",
    "replay",
]

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
        "set_aside",
        "served",
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
    """``value`` as sorted, unique identifiers, read once (a generator is consumed here)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f"must be an iterable of identifiers, not {type(value).__name__}",
            argument="tags",
            fix="pass a list, e.g. tags=['vip']",
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


def _check_policy(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, EscalationPolicy):
        raise InvalidArgumentError(
            f"must be an EscalationPolicy or None, not {type(value).__name__}", argument="policy"
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

    Build new ones with :func:`keepword.transitions.promise` (or
    ``Tracker.promise``), change them with the transitions in
    :mod:`keepword.transitions`; both keep ``replay(history)`` equal to the
    state.  Stores rebuild stored ones with :func:`commitment_from_storage`.

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
        channel: where the customer is answered or reached (``"email"``,
            ``"phone"``, ...), or ``None``; the scorecard groups by it.
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
    channel: str | None = attrs.field(default=None, validator=_optional_identifier)
    terms: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_terms, hash=False)
    spec: str | None = attrs.field(default=None, validator=_optional_identifier)
    calendar: BusinessCalendar = attrs.field(validator=_check_calendar, hash=False)
    kept_at: _dt.datetime | None = attrs.field(default=None, converter=_kept_at)
    closed_at: _dt.datetime | None = attrs.field(default=None, converter=_closed_at)
    breached_at: _dt.datetime | None = attrs.field(default=None, converter=_breached_at)
    paused_at: _dt.datetime | None = attrs.field(default=None, converter=_paused_at)
    lateness: _dt.timedelta | None = attrs.field(default=None, validator=_check_lateness)
    deadline_version: int = attrs.field(default=1, validator=_count(1))
    policy: EscalationPolicy | None = attrs.field(default=None, validator=_check_policy, hash=False)
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


# ------------------------------------------------------------------------ the trusted constructor

_FIELDS: dict[str, attrs.Attribute[Any]] = {a.name: a for a in attrs.fields(Commitment)}
_NAMES = tuple(_FIELDS)
_POSITION = {name: i for i, name in enumerate(_NAMES)}
_values_of = operator.attrgetter(*_NAMES)
_STATUS, _MADE_AT, _DUE_AT, _VERSION = (
    _POSITION[n] for n in ("status", "made_at", "due_at", "version")
)
_CALENDAR, _POLICY, _HISTORY = (_POSITION[n] for n in ("calendar", "policy", "history"))
_DEADLINE, _CURSOR, _NEXT = (
    _POSITION[n] for n in ("deadline_version", "escalation_cursor", "next_action_at")
)
_EVENT_NAMES = ("seq", "kind", "at", "actor", "data")


def _assemble(values: Iterable[Any]) -> Commitment:
    """A :class:`Commitment` holding ``values`` (one per field, in field order), unchecked.

    The only place a commitment is built without its validators.  The fields
    are set by ``map`` over ``object.__setattr__`` on a new instance no one
    else holds: one C-level loop, the cheapest way to fill a frozen, slotted
    attrs instance.  Nothing changes a commitment after this returns it.
    """
    new: Commitment = object.__new__(Commitment)
    collections.deque(map(object.__setattr__, itertools.repeat(new), _NAMES, values), maxlen=0)
    return new


def _trusted_commitment(**fields: Any) -> Commitment:
    """The private constructor for trusted code: a :class:`Commitment` of ``fields``, unchecked.

    For keepword's own code only: :func:`keepword.transitions.promise`, whose
    every value is checked before it gets here, and the SQL store's row reader,
    which reads back what keepword wrote.  Every field by name, each already
    of its final type (UTC instants, a :class:`Status`, a tuple of tags, a
    tuple of events, a calendar and a policy), except ``terms``, which is
    frozen here.  Anything else goes through :func:`commitment_from_storage`.

    Raises:
        InvalidArgumentError: a field is missing or unknown.
    """
    _check_names(fields)
    fields["terms"] = freeze_trusted(fields["terms"])
    return _assemble(fields[name] for name in _NAMES)


def _trusted_event(*, seq: int, kind: str, at: _dt.datetime, actor: str | None, data: Any) -> Event:
    """The private constructor for trusted code: an :class:`Event` of these fields, unchecked.

    For keepword's own code only: the transitions' breach and escalation
    events (a UTC ``at``, an event kind, data of ints and strings) and the SQL
    store's row reader; ``data`` is frozen here, sharing calendar and policy
    snapshots.  Anything else goes through :func:`event_from_storage`.
    """
    event: Event = object.__new__(Event)
    values = (seq, kind, at, actor, freeze_stored_data(data))
    collections.deque(
        map(object.__setattr__, itertools.repeat(event), _EVENT_NAMES, values), maxlen=0
    )
    return event


def _check_names(fields: Mapping[str, Any]) -> None:
    if fields.keys() != _FIELDS.keys():
        missing = sorted(_FIELDS.keys() - fields.keys())
        unknown = sorted(fields.keys() - _FIELDS.keys())
        raise InvalidArgumentError(
            f"needs every Commitment field (missing {missing}, unknown {unknown})",
            argument="fields",
        )


def _checked(c: Commitment, name: str, value: Any) -> Any:
    """``value`` for field ``name`` of a state derived from ``c``, converted and validated."""
    field = _FIELDS[name]
    if field.converter is not None:
        value = field.converter(value)  # type: ignore[operator]
    if field.validator is not None:
        field.validator(c, field, value)
    return value


def _derive(c: Commitment, **changes: Any) -> Commitment:
    """``attrs.evolve`` for the fold: converts and validates only the changed fields.

    Every validator of :class:`Commitment` judges one field alone, so the
    unchanged ones (already checked when ``c`` was built) need no second look;
    a tick builds several states per commitment, and this keeps it cheap.
    """
    values = list(_values_of(c))
    for name, value in changes.items():
        values[_POSITION[name]] = _checked(c, name, value)
    return _assemble(values)


# --------------------------------------------------------------------------- from storage


def event_from_storage(
    *, seq: int, kind: str, at: _dt.datetime, actor: str | None, data: Any
) -> Event:
    """Rebuild an :class:`Event` a store wrote, checking every field.

    For store authors: ``data`` is the parsed JSON object as stored (it is
    checked and frozen here); ``at`` must be aware.

    Raises:
        InvalidArgumentError: a field is invalid (named in the error).
        NaiveDatetimeError: ``at`` is naive.
    """
    return Event(seq=seq, kind=kind, at=at, actor=actor, data=data)


def commitment_from_storage(**fields: Any) -> Commitment:
    """Rebuild a :class:`Commitment` a store wrote, checking every field.

    For store authors: every field by name, as :class:`Commitment` takes them
    (the history as :class:`Event` values, e.g. from :func:`event_from_storage`).
    Each field is converted and validated as the constructor does, and the
    state must be the one its history describes: ``replay(history, version=version)``
    must give the same value, field by field, so a store cannot hand back a
    commitment whose status, deadline or owner contradicts its own history.

    Raises:
        InvalidArgumentError: a field is missing, unknown, invalid, or
            contradicts the history (the field is named in the error).
        NaiveDatetimeError: an instant is naive.
    """
    _check_names(fields)
    c = Commitment(**fields)
    expected = replay(c.history, version=c.version)
    for name in _NAMES:
        want, got = getattr(expected, name), getattr(c, name)
        if want != got:
            raise InvalidArgumentError(
                f"contradicts the history, which gives {want!r} (got {got!r})", argument=name
            )
    return c


# --------------------------------------------------------------------------- apply and replay

_ONE_US = _dt.timedelta(microseconds=1)


def apply(c: Commitment | None, event: Event, *, version: int | None = None) -> Commitment:
    """Fold one event into a commitment: the only place state changes.

    Args:
        c: the state before the event, or ``None`` for the ``"promised"`` event.
        event: the next event; its ``seq`` must be ``len(c.history) + 1``.
        version: the version to give the result; by default ``c``'s (a new
            commitment gets version 1), since storage owns versions.

    Returns:
        The state after the event, with ``event`` appended to the history.

    Raises:
        InvalidArgumentError: the event does not follow ``c`` (wrong ``seq``,
            a second ``"promised"``, or a first event that is not
            ``"promised"``), or ``version`` is not a positive int.
    """
    if not isinstance(event, Event):
        raise InvalidArgumentError(
            f"must be an Event, not {type(event).__name__}", argument="event"
        )
    if c is None:
        if event.kind != "promised" or event.seq != 1:
            raise InvalidArgumentError(
                "a history must start with the 'promised' event, seq 1", argument="event"
            )
        d = event.data
        first = _first_state(
            event, calendar_from(d["calendar"]), policy_from(d.get("policy")), Commitment
        )
        return first if version is None or version == 1 else _derive(first, version=version)
    if event.seq != len(c.history) + 1:
        raise InvalidArgumentError(
            f"event seq {event.seq} does not follow a history of {len(c.history)}",
            argument="event",
        )
    return _fold(c, event, c.version if version is None else version)


def _first_state(
    event: Event,
    calendar: BusinessCalendar,
    policy: EscalationPolicy | None,
    build: Callable[..., Commitment],
) -> Commitment:
    """The state a ``"promised"`` event makes, built by ``build``.

    :func:`apply` builds it with :class:`Commitment` (every field validated:
    the event may come from anywhere); :func:`keepword.transitions.promise`,
    whose every value is already checked, with :func:`_trusted_commitment`.
    """
    d = event.data
    made_at, due_at = event.at, from_iso(d["due_at"], "data")
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
        channel=d.get("channel"),
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


def _fold(c: Commitment, event: Event, version: int) -> Commitment:
    """The state after ``event`` (which :func:`apply` checked follows ``c``), scheduled.

    Only the fields the event changes are converted and validated (each
    validator judges one field alone); the longer history needs no second
    look, since ``apply`` checked the event's type and seq and ``c``'s history
    was valid (checking it again would cost O(len) per event).  The escalation
    cursor and ``next_action_at`` that follow from the new state are set
    before the value is built, once.
    """
    values = list(_values_of(c))
    for name, value in _folded(c, event).items():
        values[_POSITION[name]] = _checked(c, name, value)
    if version != c.version:
        values[_VERSION] = _checked(c, "version", version)
    history = values[_HISTORY] = (*c.history, event)
    deadline_version = values[_DEADLINE]
    if deadline_version != c.deadline_version:
        values[_CURSOR] = 0  # a new deadline: every step is scheduled afresh
    values[_NEXT] = None
    if values[_STATUS] is Status.OPEN and not _still_set_aside(c, event, deadline_version):
        values[_NEXT] = _next_action(
            values[_POLICY],
            values[_MADE_AT],
            values[_DUE_AT],
            values[_CALENDAR],
            values[_CURSOR],
            _breach_recorded(history, deadline_version),
        )
    return _assemble(values)


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
        kept_at = from_iso(d["kept_at"], "data")
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
        due = from_iso(d["due_at"], "data")
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
            changes.update(calendar=calendar_from(d["calendar"]))
        return changes
    if kind == "reassigned":
        return {"owner": d["owner"]}
    if kind == "set_aside":
        return {}  # only the schedule changes: see _set_aside
    if kind == "served":
        return {}  # units handed out: the state is unchanged (see keepword.fairness)
    if kind == "breached":
        breached_at = c.breached_at if c.breached_at is not None else from_iso(d["due_at"], "data")
        return {"breached_at": breached_at}
    raise InvalidArgumentError(  # pragma: no cover - Event validates kind
        f"cannot apply a {kind!r} event", argument="event"
    )


def _breach_recorded(history: tuple[Event, ...], deadline_version: int) -> bool:
    """Whether ``history`` records the breach of deadline ``deadline_version``."""
    for event in reversed(history):
        if event.kind == "breached" and event.data.get("deadline_version") == deadline_version:
            return True
    return False


def _still_set_aside(c: Commitment, event: Event, deadline_version: int) -> bool:
    """Whether deadline ``deadline_version`` is set aside once ``event`` follows ``c``.

    O(1) on the tick's path: an open, scheduled ``c`` is not set aside, and an
    event that keeps its deadline cannot set it aside (only a ``"set_aside"``
    event does); only a paused or unscheduled ``c`` needs its history read.
    """
    if event.kind == "set_aside":
        return bool(event.data.get("deadline_version") == deadline_version)
    if deadline_version != c.deadline_version:
        return False  # a new deadline: set-aside events name the old one
    if c.status is Status.OPEN and c.next_action_at is not None:
        return False
    return _set_aside(c.history, deadline_version)


def _set_aside(history: tuple[Event, ...], deadline_version: int) -> bool:
    """Whether the tick set this deadline aside: it could not write what fired.

    A set-aside commitment is not scheduled again (no hot retry loop) until
    its deadline changes (a renegotiation, a resume that moves it, a
    retarget); it can still be kept, failed, cancelled or paused.
    """
    for event in reversed(history):
        if event.kind == "set_aside" and event.data.get("deadline_version") == deadline_version:
            return True
    return False


def _breached_this_deadline(c: Commitment) -> bool:
    """Whether ``c``'s history records the breach of its current deadline."""
    return _breach_recorded(c.history, c.deadline_version)


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
        planned = plan(policy, made_at, due_at, calendar)
        nxt = planned[cursor].at if cursor < len(planned) else None
    if not breached:
        # the first tick past the deadline records the breach
        breach_check = due_at + _ONE_US
        nxt = breach_check if nxt is None else min(nxt, breach_check)
    return nxt


def replay(events: Iterable[Event], *, version: int = 1) -> Commitment:
    """Rebuild a commitment from its history.

    Args:
        events: the full history, starting with the ``"promised"`` event.
        version: the version to give the result (storage owns versions).

    Returns:
        The commitment the history describes; for any commitment ``c`` built
        by keepword, ``replay(c.history, version=c.version) == c``.

    Raises:
        InvalidArgumentError: the history is empty or out of order.
    """
    c: Commitment | None = None
    for event in events:
        c = apply(c, event)
    if c is None:
        raise InvalidArgumentError("must hold at least the 'promised' event", argument="events")
    return c if c.version == version else _derive(c, version=version)
