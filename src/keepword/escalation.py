"""Escalation policies: what happens as a deadline nears and passes.

Pure functions over values: given a commitment's window (made, due), its
calendar and its policy, :func:`plan` lists every step firing for the current
deadline in the order they fire.  Nothing here reads a clock or a store.

Every value is checked where it is built (a :class:`Trigger`, a
:class:`Step`, a :class:`Match`, an :class:`EscalationPolicy`, a
:class:`PolicySet`): text follows the rules of every stored string (no NUL,
no lone surrogate), and every offset and repeat interval is finite and at
most :data:`MAX_SPAN` (100 years), so a policy that was accepted can always
be planned.  Where a calendar cannot place a firing (it would fall outside the
years 1900-2199, or the calendar has no open time for a year around it), the
step's offset is measured in real time instead: a plan never raises.

>>> import datetime as dt
>>> from keepword.calendar import BusinessCalendar
>>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
>>> policy = EscalationPolicy("standard", steps=[
...     Step(before_due(hours=2), notify="owner"),
...     Step(at_due(), notify="manager"),
...     Step(after_due(business_hours=4), notify="director"),
... ])
>>> made = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
>>> due = dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC)
>>> [(f.step.notify, f.at.strftime("%a %H:%M")) for f in plan(policy, made, due, cal)]
[('owner', 'Mon 15:00'), ('manager', 'Mon 17:00'), ('director', 'Tue 13:00')]
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from keepword._instant import to_utc
from keepword._offsets import MAX_SPAN, UNIT_MINUTES, bounded, check_span, shift
from keepword._validate import check_count, check_identifier, check_ids, check_text
from keepword.calendar import BusinessCalendar, Within, within
from keepword.errors import CalendarError, InvalidArgumentError

__all__ = [
    "ACTIONS",
    "MAX_PRIORITY",
    "MAX_SPAN",
    "MAX_TIMES",
    "EscalationPolicy",
    "Firing",
    "Match",
    "PolicySet",
    "Step",
    "Trigger",
    "after_due",
    "at_due",
    "before_due",
    "elapsed",
    "plan",
]

#: What a step does besides notifying its recipient.
ACTIONS: Final = ("notify", "reassign", "raise_priority")
_TRIGGER_KINDS: Final = ("before_due", "at_due", "after_due", "elapsed")
#: Repeats are bounded: at most this many firings per step and deadline.
MAX_TIMES: Final = 1000
#: The largest priority accepted (a signed 32-bit column in every database).
MAX_PRIORITY: Final = 2**31 - 1


# --------------------------------------------------------------------------- triggers


def _offset(name: str, **units: float | None) -> Within:
    given = {u: v for u, v in units.items() if v is not None}
    if not given:
        raise InvalidArgumentError(
            f"{name}() needs one unit",
            argument=name,
            fix=f"e.g. {name}(hours=2) or {name}(business_hours=4)",
        )
    if len(given) > 1:
        raise InvalidArgumentError(
            f"{name}() takes one unit, got {', '.join(sorted(given))}", argument=name
        )
    ((unit, amount),) = given.items()
    if unit in UNIT_MINUTES and isinstance(amount, (int, float)) and not isinstance(amount, bool):
        check_span(unit, amount, unit)  # before Within's own, wider bound
    return Within(unit, amount)  # the Trigger checks its unit and bound


@attrs.frozen(cache_hash=True)
class Trigger:
    """When a step fires, relative to a commitment's deadline or window.

    Build one with :func:`before_due`, :func:`at_due`, :func:`after_due` or
    :func:`elapsed`.
    """

    kind: str = attrs.field()
    offset: Within | None = None
    fraction: float | None = None
    business: bool = False

    def __attrs_post_init__(self) -> None:
        offset, fraction = self.offset, self.fraction
        if not isinstance(self.kind, str) or self.kind not in _TRIGGER_KINDS:
            raise InvalidArgumentError(
                f"unknown trigger kind {self.kind!r}",
                argument="kind",
                fix=f"use one of {', '.join(_TRIGGER_KINDS)}",
            )
        if self.kind in ("before_due", "after_due"):
            if not isinstance(offset, Within):
                raise InvalidArgumentError(
                    f"must be a within(...) offset, not {type(offset).__name__}",
                    argument="offset",
                    fix=f"use {self.kind}(hours=2) or {self.kind}(business_hours=4)",
                )
            if offset.unit == "business_days":
                raise InvalidArgumentError(
                    "business_days cannot offset a trigger",
                    argument="business_days",
                    fix="use business_hours= (e.g. 8 for one working day)",
                )
            bounded(offset, offset.unit)
        elif offset is not None:
            raise InvalidArgumentError(f"{self.kind} takes no offset", argument="offset")
        if self.kind == "elapsed":
            _check_fraction(fraction)
            if not isinstance(self.business, bool):
                raise InvalidArgumentError(
                    f"must be a bool, not {type(self.business).__name__}", argument="business"
                )
        elif fraction is not None:
            raise InvalidArgumentError(f"{self.kind} takes no fraction", argument="fraction")

    @property
    def is_breach(self) -> bool:
        """True for triggers at or after the deadline: they announce a breach."""
        return self.kind in ("at_due", "after_due")

    def at(
        self, made_at: _dt.datetime, due_at: _dt.datetime, calendar: BusinessCalendar
    ) -> _dt.datetime:
        """When (UTC) this trigger fires for a promise made at ``made_at`` and due ``due_at``."""
        if self.kind == "at_due":
            return due_at
        if self.kind == "elapsed":
            assert self.fraction is not None
            if self.business:
                try:
                    window = calendar.between(made_at, due_at)
                    return to_utc(calendar.add(made_at, window * self.fraction), "at")
                except CalendarError:
                    pass  # outside the calendar's years: the window in real time
            return made_at + (due_at - made_at) * self.fraction
        assert self.offset is not None
        return shift(calendar, due_at, self.offset, -1 if self.kind == "before_due" else 1)

    def to_string(self) -> str:
        """A compact form: ``before_due(business_hours=4)``."""
        if self.kind == "at_due":
            return "at_due()"
        if self.kind == "elapsed":
            suffix = ", business=True" if self.business else ""
            return f"elapsed({self.fraction!r}{suffix})"
        assert self.offset is not None
        return f"{self.kind}({self.offset.to_string()})"

    @classmethod
    def parse(cls, text: str) -> Trigger:
        """Read the form written by :meth:`to_string`.

        Raises:
            InvalidArgumentError: naming ``trigger``, when ``text`` is not that form.
        """
        kind, _, rest = check_text(text, "trigger").partition("(")
        args = rest.rstrip(")").strip()
        try:
            if kind == "at_due":
                return at_due()
            if kind == "elapsed":
                fraction, _, flag = args.partition(",")
                return elapsed(float(fraction), business="True" in flag)
            if kind in ("before_due", "after_due"):
                return cls(kind, Within.parse(args))
        except (InvalidArgumentError, ValueError) as exc:
            raise InvalidArgumentError(
                f"cannot read trigger {text!r} ({exc})", argument="trigger"
            ) from None
        raise InvalidArgumentError(f"cannot read trigger {text!r}", argument="trigger")

    def __str__(self) -> str:
        if self.kind == "at_due":
            return "at the deadline"
        if self.kind == "elapsed":
            clock = "business time" if self.business else "the window"
            return f"after {self.fraction:.0%} of {clock}"
        where = "before" if self.kind == "before_due" else "after"
        return f"{self.offset} {where} the deadline"


def before_due(
    *,
    hours: float | None = None,
    minutes: float | None = None,
    days: int | None = None,
    business_hours: float | None = None,
    business_minutes: float | None = None,
) -> Trigger:
    """Fire this long before the deadline, in real or business time.

    >>> str(before_due(business_hours=4))
    '4 business hours before the deadline'
    """
    return Trigger(
        "before_due",
        _offset(
            "before_due",
            hours=hours,
            minutes=minutes,
            days=days,
            business_hours=business_hours,
            business_minutes=business_minutes,
        ),
    )


def at_due() -> Trigger:
    """Fire at the deadline itself (the first tick past it)."""
    return Trigger("at_due")


def after_due(
    *,
    hours: float | None = None,
    minutes: float | None = None,
    days: int | None = None,
    business_hours: float | None = None,
    business_minutes: float | None = None,
) -> Trigger:
    """Fire this long after the deadline, in real or business time."""
    return Trigger(
        "after_due",
        _offset(
            "after_due",
            hours=hours,
            minutes=minutes,
            days=days,
            business_hours=business_hours,
            business_minutes=business_minutes,
        ),
    )


def elapsed(fraction: float, *, business: bool = False) -> Trigger:
    """Fire once ``fraction`` of the promise window has passed.

    Args:
        fraction: in (0, 1]; ``0.5`` is half way between made and due.
        business: measure the window in the calendar's open time.

    Raises:
        InvalidArgumentError: ``fraction`` outside (0, 1], or not a number.
    """
    return Trigger("elapsed", fraction=_check_fraction(fraction), business=bool(business))


def _check_fraction(fraction: object) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise InvalidArgumentError(
            f"must be a number, not {type(fraction).__name__}", argument="fraction"
        )
    if not math.isfinite(fraction) or not 0 < fraction <= 1:
        raise InvalidArgumentError(
            f"must be in (0, 1], got {fraction!r}",
            argument="fraction",
            fix="0.5 fires half way through the promise window",
        )
    return float(fraction)


# --------------------------------------------------------------------------- steps


def _to_every(value: object) -> Within | None:
    if value is None or isinstance(value, Within):
        return value
    if isinstance(value, _dt.timedelta):
        if value <= _dt.timedelta(0):
            raise InvalidArgumentError(f"must be positive (got {value})", argument="every")
        minutes = value / _dt.timedelta(minutes=1)
        check_span("minutes", minutes, "every")
        return within(minutes=minutes)
    if isinstance(value, str):
        try:
            return Within.parse(value)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(exc.message, argument="every", fix=exc.fix) from None
    raise InvalidArgumentError(
        f"must be a timedelta or within(...), not {type(value).__name__}",
        argument="every",
        fix="e.g. every=within(business_hours=2)",
    )


def _check_recipient(notify: object) -> None:
    check_identifier(notify, "notify")
    assert isinstance(notify, str)
    if not notify.strip():
        raise InvalidArgumentError(
            "must name a recipient", argument="notify", fix="e.g. notify='owner'"
        )


def _check_repeats(every: Within | None, times: object) -> int:
    """The number of firings of a step repeating ``every``, checked against its bounds."""
    if every is not None and times is None:
        raise InvalidArgumentError(
            "a repeating step needs times=",
            argument="times",
            fix="repeats are bounded: e.g. every=timedelta(hours=2), times=3",
        )
    count = check_count(1 if times is None else times, "times", 1, MAX_TIMES)
    if every is None:
        if count > 1:
            raise InvalidArgumentError("times > 1 needs every=", argument="every")
        return count
    if every.amount <= 0:
        raise InvalidArgumentError(f"must be positive (got {every})", argument="every")
    if every.unit == "business_days":
        raise InvalidArgumentError("use business_hours for repeats", argument="every")
    bounded(every, "every")
    bounded(every, "every", count - 1)
    return count


@attrs.frozen(cache_hash=True)
class Step:
    """One rung of an escalation ladder.

    Args:
        trigger: when it fires (:func:`before_due`, :func:`at_due`, ...).
        notify: the recipient: ``"owner"``, ``"manager"``, a role or an address
            the host understands (an identifier: it may become the owner).
        action: ``"notify"``, ``"reassign"`` (the recipient becomes the owner)
            or ``"raise_priority"``.
        every: repeat interval (a ``timedelta`` or ``within(business_hours=...)``);
            needs ``times``.
        times: how many times the step fires in all (1 without ``every``).
        quiet: hold a reminder to business hours (the next opening); breach
            steps (at or after the deadline) are never held.
        name: a label for reports (an identifier); defaults to the trigger and
            recipient.

    Raises:
        InvalidArgumentError: ``every`` without ``times`` (unbounded), ``times``
            outside 1..1000, ``every`` not positive or its repeats spanning more
            than 100 years, an unknown action, ``quiet`` on a breach step, a
            ``notify`` or ``name`` that is not an identifier (empty, longer than
            255 characters, a NUL byte or a lone surrogate).
    """

    trigger: Trigger = attrs.field()
    notify: str = attrs.field(default="owner", kw_only=True)
    action: str = attrs.field(default="notify", kw_only=True)
    every: Within | None = attrs.field(default=None, kw_only=True, converter=_to_every)
    times: int | None = attrs.field(default=None, kw_only=True)
    quiet: bool = attrs.field(default=False, kw_only=True)
    name: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.trigger, Trigger):
            raise InvalidArgumentError(
                f"must be a trigger, not {type(self.trigger).__name__}",
                argument="trigger",
                fix="use before_due(...), at_due(), after_due(...) or elapsed(...)",
            )
        _check_recipient(self.notify)
        if not isinstance(self.action, str) or self.action not in ACTIONS:
            raise InvalidArgumentError(
                f"unknown action {self.action!r}",
                argument="action",
                fix=f"use one of {', '.join(ACTIONS)}",
            )
        times = _check_repeats(self.every, self.times)
        if not isinstance(self.quiet, bool):
            raise InvalidArgumentError(
                f"must be a bool, not {type(self.quiet).__name__}", argument="quiet"
            )
        if self.quiet and self.trigger.is_breach:
            raise InvalidArgumentError(
                "a breach step is never held to business hours",
                argument="quiet",
                fix="use quiet only on before_due(...) and elapsed(...) steps",
            )
        if self.name is not None:
            check_identifier(self.name, "name")
        object.__setattr__(self, "times", times)

    @property
    def label(self) -> str:
        """The step's name, or a description of it."""
        return self.name or f"{self.trigger.to_string()} -> {self.notify}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot."""
        return {
            "trigger": self.trigger.to_string(),
            "notify": self.notify,
            "action": self.action,
            "every": self.every.to_string() if self.every else None,
            "times": self.times,
            "quiet": self.quiet,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Rebuild a step from :meth:`to_dict` output."""
        return cls(
            Trigger.parse(data["trigger"]),
            notify=data["notify"],
            action=data["action"],
            every=data.get("every"),
            times=data.get("times"),
            quiet=data.get("quiet", False),
            name=data.get("name"),
        )


def _frozen_strings(value: object, argument: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset(check_ids(value, argument))


def _kinds(value: object) -> frozenset[str]:
    return _frozen_strings(value, "kinds")


def _tags(value: object) -> frozenset[str]:
    return _frozen_strings(value, "tags")


def _tiers(value: object) -> frozenset[str]:
    return _frozen_strings(value, "tiers")


def _min_priority(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_count(value, "min_priority", 0, MAX_PRIORITY)


@attrs.frozen(kw_only=True, cache_hash=True)
class Match:
    """Which commitments a policy applies to; every given criterion must hold.

    Args:
        kinds: the commitment's kind is one of these (a list of identifiers).
        tags: the commitment carries all of these tags (a list of identifiers).
        min_priority: the commitment's priority is at least this (an int,
            ``0 <= min_priority < 2**31``), or ``None``.
        tiers: the customer's tier is one of these (a list of identifiers).

    Raises:
        InvalidArgumentError: a single string where a list is expected (wrap
            it in a list), an item that is not an identifier, or a
            ``min_priority`` that is not an int in range; the field is named.

    >>> Match(kinds="reply")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: kinds: must be a sequence of ids, not one string ...
    """

    kinds: frozenset[str] = attrs.field(factory=frozenset, converter=_kinds)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    min_priority: int | None = attrs.field(default=None, validator=_min_priority)
    tiers: frozenset[str] = attrs.field(factory=frozenset, converter=_tiers)

    @property
    def is_empty(self) -> bool:
        """True when the match accepts every commitment."""
        return not (self.kinds or self.tags or self.tiers) and self.min_priority is None

    def fits(
        self, *, kind: str, tags: Iterable[str] = (), priority: int = 0, tier: str | None = None
    ) -> bool:
        """Whether a commitment with these attributes matches."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.tags and not self.tags.issubset(tags):
            return False
        if self.min_priority is not None and priority < self.min_priority:
            return False
        return not (self.tiers and tier not in self.tiers)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot."""
        return {
            "kinds": sorted(self.kinds),
            "tags": sorted(self.tags),
            "min_priority": self.min_priority,
            "tiers": sorted(self.tiers),
        }


def _to_match(value: object) -> Match:
    if value is None:
        return Match()
    if isinstance(value, Match):
        return value
    if isinstance(value, Mapping):
        try:
            return Match(**value)
        except TypeError as exc:
            raise InvalidArgumentError(str(exc), argument="match") from None
    raise InvalidArgumentError("must be a Match or a mapping", argument="match")


def _to_steps(value: object) -> tuple[Step, ...]:
    if isinstance(value, Step):
        return (value,)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f"must be a list of Step, not {type(value).__name__}", argument="steps"
        )
    steps = tuple(value)
    for i, step in enumerate(steps):
        if not isinstance(step, Step):
            raise InvalidArgumentError(
                f"must be a Step, not {type(step).__name__}",
                argument=f"steps[{i}]",
                fix="build it with Step(trigger, notify=...)",
            )
    return steps


def _policy_name(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    check_identifier(value, "name")
    if not value.strip():
        raise InvalidArgumentError("must be a non-empty name", argument="name")


@attrs.frozen(cache_hash=True)
class EscalationPolicy:
    """A named ladder of steps and the commitments it applies to.

    The policy's :attr:`version` is a fingerprint of its content: editing a
    policy gives a new version, and commitments keep the snapshot they were
    made under.

    Args:
        name: an identifier, unique in a :class:`PolicySet`.
        steps: a list of :class:`Step` (or one).
        match: a :class:`Match` or a mapping of its fields.

    Raises:
        InvalidArgumentError: the name is not an identifier, a step is not a
            :class:`Step`, or the match is invalid (the field is named).
    """

    name: str = attrs.field(validator=_policy_name)
    steps: tuple[Step, ...] = attrs.field(factory=tuple, converter=_to_steps, kw_only=True)
    match: Match = attrs.field(factory=Match, converter=_to_match, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (what a commitment records)."""
        return {
            "name": self.name,
            "steps": [s.to_dict() for s in self.steps],
            "match": self.match.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscalationPolicy:
        """Rebuild a policy from :meth:`to_dict` output."""
        return cls(
            data["name"],
            steps=[Step.from_dict(s) for s in data.get("steps", ())],
            match=_to_match(data.get("match")),
        )

    @property
    def version(self) -> str:
        """A short fingerprint of the policy's content."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _to_policies(value: Iterable[EscalationPolicy]) -> tuple[EscalationPolicy, ...]:
    if isinstance(value, (EscalationPolicy, str, bytes, Mapping)) or not isinstance(
        value, Iterable
    ):
        raise InvalidArgumentError(
            f"must be a list of EscalationPolicy, not {type(value).__name__}",
            argument="policies",
            fix="wrap a single policy in a list",
        )
    policies = tuple(value)
    for i, policy in enumerate(policies):
        if not isinstance(policy, EscalationPolicy):
            raise InvalidArgumentError(
                f"must be an EscalationPolicy, not {type(policy).__name__}",
                argument=f"policies[{i}]",
            )
    return policies


@attrs.frozen
class PolicySet:
    """Policies tried in order; the first whose match fits a new commitment wins.

    A policy with an empty match accepts everything, so it may only come last
    (the default).

    Raises:
        InvalidArgumentError: an item that is not an :class:`EscalationPolicy`,
            a catch-all policy before the last place, or two policies with one
            name.
    """

    policies: tuple[EscalationPolicy, ...] = attrs.field(converter=_to_policies)

    def __attrs_post_init__(self) -> None:
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise InvalidArgumentError(
                f"policy names must be unique ({', '.join(map(repr, twice))} repeats)",
                argument="policies",
            )
        for policy in self.policies[:-1]:
            if policy.match.is_empty:
                raise InvalidArgumentError(
                    f"policy {policy.name!r} matches everything but is not last",
                    argument="policies",
                    fix="move the catch-all policy to the end, or give it a match",
                )

    def select(
        self, *, kind: str, tags: Iterable[str] = (), priority: int = 0, tier: str | None = None
    ) -> EscalationPolicy | None:
        """The first policy that fits, or ``None``."""
        tags = tuple(tags)
        for policy in self.policies:
            if policy.match.fits(kind=kind, tags=tags, priority=priority, tier=tier):
                return policy
        return None


# --------------------------------------------------------------------------- plans


@attrs.frozen
class Firing:
    """One planned firing of a step for one deadline.

    ``at`` is when it is due (after holding a quiet reminder to business hours).
    """

    at: _dt.datetime
    step_index: int
    repeat: int
    step: Step = attrs.field(eq=False)

    def key(self, commitment_id: str, deadline_version: int) -> str:
        """The idempotency key: one notice per commitment, step, repeat and deadline."""
        return f"{commitment_id}:{deadline_version}:{self.step_index}:{self.repeat}"


@functools.lru_cache(maxsize=4096)
def plan(
    policy: EscalationPolicy | None,
    made_at: _dt.datetime,
    due_at: _dt.datetime,
    calendar: BusinessCalendar,
) -> tuple[Firing, ...]:
    """Every firing of ``policy`` for a promise made at ``made_at`` and due ``due_at``.

    Ordered by time, then by the step's position in the policy, then repeat:
    the order a tick fires them in.  Plans are cached: a tick asks for the
    same commitment's plan several times, and a plan is an immutable tuple.

    A plan never raises for a valid policy: where ``calendar`` cannot place a
    firing (outside the years 1900-2199, or no open time for a year around
    it), the step's offset counts in real time (a business hour as an hour)
    and a quiet reminder is not held.
    """
    if policy is None:
        return ()
    made_at, due_at = to_utc(made_at, "made_at"), to_utc(due_at, "due_at")
    firings: list[Firing] = []
    for index, step in enumerate(policy.steps):
        first = step.trigger.at(made_at, due_at, calendar)
        times = step.times or 1
        for repeat in range(times):
            at = first if repeat == 0 else shift(calendar, first, _times(step, repeat), 1)
            if step.quiet:
                at = _held(calendar, at)
            firings.append(Firing(at=at, step_index=index, repeat=repeat, step=step))
    firings.sort(key=lambda f: (f.at, f.step_index, f.repeat))
    return tuple(firings)


def _held(calendar: BusinessCalendar, at: _dt.datetime) -> _dt.datetime:
    """``at``, or the next opening when the business is closed then (kept where unknown)."""
    try:
        return at if calendar.is_open(at) else to_utc(calendar.next_open(at), "at")
    except CalendarError:
        return at


def _times(step: Step, repeat: int) -> Within:
    assert step.every is not None
    return Within(step.every.unit, step.every.amount * repeat)


def due_now(
    firings: Sequence[Firing], cursor: int, now: _dt.datetime
) -> tuple[list[Firing], int, _dt.datetime | None]:
    """The firings from ``cursor`` on that are due at ``now``.

    Returns:
        ``(due, new_cursor, next_at)``: the firings to fire in order, the cursor
        after them, and when the next one is due (``None`` when none is left).
    """
    now = to_utc(now, "now")
    end = cursor
    while end < len(firings) and firings[end].at <= now:
        end += 1
    due = list(firings[cursor:end])
    return due, end, firings[end].at if end < len(firings) else None
