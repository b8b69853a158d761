"""The context every service runs in: one store, one tenant, one clock, the calendars and policies.

The :class:`~keepword.Tracker` builds one :class:`Context` and hands it to
each service; services hold no state of their own.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, cast

import attrs

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_lease
from keepword.calendar import BusinessCalendar
from keepword.clock import Clock, SystemClock
from keepword.commitment import Commitment
from keepword.errors import InvalidArgumentError, NotFoundError
from keepword.escalation import EscalationPolicy, PolicySet
from keepword.playbook import DEFAULT_PLAYBOOK, Playbook
from keepword.ports import CommitmentRepository, Outbox, TickQueue, TouchpointLog, require_port

__all__ = ["CommitmentOrId", "Context"]

CommitmentOrId = Commitment | str
"""A commitment, or its id: what every per-commitment call accepts."""


def _store(value: Any) -> CommitmentRepository:
    if not isinstance(value, CommitmentRepository) or "commitments" not in value.ports:
        raise InvalidArgumentError(
            f"must implement keepword.ports.CommitmentRepository and declare the "
            f"'commitments' port, not {type(value).__name__}",
            argument="store",
            fix="MemoryStore and SqlStore do; an adapter sets ports = {'commitments', ...}",
        )
    return value


def _calendar(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, BusinessCalendar):
        raise InvalidArgumentError(
            f"must be a BusinessCalendar, not {type(value).__name__}", argument=attribute.name
        )


def _clock(value: Any) -> Clock:
    clock = SystemClock() if value is None else value
    if not isinstance(clock, Clock):
        raise InvalidArgumentError(
            f"must have a now() method, not {type(clock).__name__}", argument="clock"
        )
    return clock


def _optional_callable(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not callable(value):
        raise InvalidArgumentError("must be callable or None", argument=attribute.name)


def _policies(value: Any) -> PolicySet | None:
    if value is None or isinstance(value, PolicySet):
        return value
    if isinstance(value, EscalationPolicy):
        return PolicySet([value])
    return PolicySet(value)


def _playbook(value: Any) -> Playbook:
    if value is None:
        return DEFAULT_PLAYBOOK
    if not isinstance(value, Playbook):
        raise InvalidArgumentError(
            f"must be a Playbook, not {type(value).__name__}", argument="playbook"
        )
    return value


def _tenant(value: Any) -> str:
    return check_identifier(value, "tenant")


def _late_after(value: Any) -> _dt.timedelta:
    return check_lease(value, "late_after")


def _lease(value: Any) -> _dt.timedelta:
    return check_lease(value, "lease")


class _WorkerId:
    """A worker id for claims, made afresh in each process (a fork gets its own)."""

    def __init__(self) -> None:
        self._pid = -1
        self._id = ""

    def __str__(self) -> str:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._id = f"{socket.gethostname()}:{self._pid}:{uuid.uuid4().hex[:12]}"
        return self._id


@attrs.frozen(kw_only=True)
class Context:
    """What a service needs to know: where, for whom, and when.

    Args:
        store: a store with at least the commitment repository.
        calendar: the default business calendar for new commitments.
        tenant: the tenant every call is confined to.
        clock: where "now" comes from (default: :class:`SystemClock`).
        calendar_for: ``customer -> BusinessCalendar | None``, or ``None``.
        policies: the escalation policies new promises are matched against.
        tier_for: ``customer -> tier | None``, or ``None``.
        late_after: how late a step may fire before it is flagged late.
        lease: how long a claim (of due work or of notices) holds.
        playbook: the customer-care playbook (default :data:`DEFAULT_PLAYBOOK`).
        playbook_for: ``customer -> Playbook | None``, or ``None``.
        locale_for: ``customer -> language tag | None`` (``"sv"``, ``"zh_CN"``),
            the language a customer is told in (``None``: the language of
            the customer's calendar's country, else English), or ``None``.

    Raises:
        InvalidArgumentError: naming the field that is wrong.
    """

    store: CommitmentRepository = attrs.field(converter=_store)
    calendar: BusinessCalendar = attrs.field(validator=_calendar)
    tenant: str = attrs.field(default="default", converter=_tenant)
    clock: Clock = attrs.field(default=None, converter=_clock)
    calendar_for: Callable[[str], BusinessCalendar | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    policies: PolicySet | None = attrs.field(default=None, converter=_policies)
    tier_for: Callable[[str], str | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    late_after: _dt.timedelta = attrs.field(default=_dt.timedelta(minutes=5), converter=_late_after)
    lease: _dt.timedelta = attrs.field(default=_dt.timedelta(seconds=60), converter=_lease)
    playbook: Playbook = attrs.field(default=None, converter=_playbook)
    playbook_for: Callable[[str], Playbook | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    locale_for: Callable[[str], str | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    _worker: _WorkerId = attrs.field(factory=_WorkerId, init=False, eq=False, repr=False)

    def now(self) -> _dt.datetime:
        """The current instant per the clock, in UTC."""
        return to_utc(self.clock.now(), "clock.now()")

    @property
    def worker(self) -> str:
        """This process's worker id for claims: fresh per context and per process."""
        return str(self._worker)

    def calendar_of(self, customer: str) -> BusinessCalendar:
        """The calendar a new promise to ``customer`` runs on.

        Raises:
            InvalidArgumentError: ``calendar_for`` returned something other
                than a calendar or ``None``.
        """
        if self.calendar_for is None:
            return self.calendar
        chosen = self.calendar_for(customer)
        if chosen is None:
            return self.calendar
        if not isinstance(chosen, BusinessCalendar):
            raise InvalidArgumentError(
                f"returned {type(chosen).__name__}, not a BusinessCalendar",
                argument="calendar_for",
            )
        return chosen

    def policy_of(
        self, customer: str, *, kind: str, tags: tuple[str, ...], priority: int
    ) -> EscalationPolicy | None:
        """The escalation policy a new promise with these attributes gets, if any."""
        if self.policies is None:
            return None
        tier = self.tier_for(customer) if self.tier_for is not None else None
        return self.policies.select(kind=kind, tags=tags, priority=priority, tier=tier)

    def tick_queue(self, action: str) -> TickQueue:
        """The store as a tick queue, or :class:`MissingPortError` naming ``action``."""
        require_port(self.store, "tick_queue", action)
        return cast(TickQueue, self.store)

    def outbox(self, action: str) -> Outbox:
        """The store as an outbox, or :class:`MissingPortError` naming ``action``."""
        require_port(self.store, "outbox", action)
        return cast(Outbox, self.store)

    def id_of(self, commitment: CommitmentOrId) -> str:
        """The id of ``commitment`` (given it or its id), checked to be in this tenant."""
        if isinstance(commitment, Commitment):
            self.check_tenant(commitment)
            return commitment.id
        if isinstance(commitment, str):
            return check_identifier(commitment, "commitment")
        raise InvalidArgumentError(
            f"must be a Commitment or its id, not {type(commitment).__name__}",
            argument="commitment",
        )

    def check_tenant(self, commitment: Commitment) -> None:
        """Raise :class:`NotFoundError` if ``commitment`` is another tenant's."""
        if commitment.tenant != self.tenant:
            raise NotFoundError("commitment", commitment.id, argument="commitment")

    def playbook_of(self, customer: str) -> Playbook:
        """The playbook for ``customer``: ``playbook_for(customer)`` or the default one.

        Raises:
            InvalidArgumentError: ``playbook_for`` returned something other
                than a playbook or ``None``.
        """
        if self.playbook_for is None:
            return self.playbook
        chosen = self.playbook_for(customer)
        if chosen is None:
            return self.playbook
        if not isinstance(chosen, Playbook):
            raise InvalidArgumentError(
                f"returned {type(chosen).__name__}, not a Playbook", argument="playbook_for"
            )
        return chosen

    def touchpoint_log(self, action: str) -> TouchpointLog:
        """The store as a touchpoint log, or :class:`MissingPortError` naming ``action``."""
        require_port(self.store, "touchpoints", action)
        return cast(TouchpointLog, self.store)

    def locale_of(self, customer: str) -> str:
        """The language ``customer`` is told in: ``locale_for``'s choice, else their calendar's.

        The calendar's country gives the default (``SE`` -> ``sv``); either
        resolves to the most specific language with a catalog, else English.

        Raises:
            InvalidArgumentError: ``locale_for`` returned something other than
                a language tag or ``None``.
        """
        from keepword import _locales

        chosen = None if self.locale_for is None else self.locale_for(customer)
        if chosen is None:
            return _locales.resolve(_locales.default_locale(self.calendar_of(customer).country))
        return _locales.resolve(_locales.check_locale(chosen, "locale_for"))
