"""Playbooks: what good customer care owes, as data.

A :class:`Playbook` says how fast each channel is answered, which
commitments each occasion of a relationship opens (a thank-you after the
first purchase, a follow-up call after a sale, a reminder before a renewal),
how many thank-yous a relationship deserves and how far apart they must be to
count, when thank-yous are held (while a complaint is open), which pause
reasons mean "waiting on the customer", and how long a customer may go
without hearing from the business.  :data:`DEFAULT_PLAYBOOK` is a sensible
start a host can read, copy and change with :func:`attrs.evolve`.

A playbook is frozen into each commitment it opens: the deadline is computed
when the commitment is made and the rule (with the playbook's name and
version) is recorded in its terms, so editing a playbook never moves an open
commitment's deadline.  No I/O here.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_text
from keepword.calendar import BusinessCalendar, Within, within
from keepword.errors import InvalidArgumentError, KeepwordError

__all__ = ["DEFAULT_PLAYBOOK", "CareRule", "Playbook", "period_key"]

OwnerRule = str | Callable[[str, str], str] | None
"""Who owns a commitment a rule opens: a fixed owner, ``(customer, occasion) -> owner``,
or ``None`` for the playbook's ``default_owner``."""


def _identifier(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_identifier(value, attribute.name)


def _optional_identifier(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_identifier(value, attribute.name)


def _text(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_text(value, attribute.name)
    if not value.strip():
        raise InvalidArgumentError("must not be empty", argument=attribute.name)


def _optional_within(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Within):
        raise InvalidArgumentError(
            f"must be a within(...) spec or None, not {type(value).__name__}",
            argument=attribute.name,
            fix="e.g. within(business_days=2)",
        )


def _owner(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None or callable(value):
        return
    check_identifier(value, attribute.name)


def _before(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be a whole number of business days, not {type(value).__name__}",
            argument=attribute.name,
        )
    if not 0 <= value <= 2000:
        raise InvalidArgumentError(
            f"must be between 0 and 2000 business days (got {value})", argument=attribute.name
        )


def _owner_name(owner: OwnerRule) -> str | None:
    if owner is None or isinstance(owner, str):
        return owner
    return f"<{getattr(owner, '__qualname__', type(owner).__name__)}>"


@attrs.frozen(kw_only=True)
class CareRule:
    """One commitment an occasion opens (a thank-you, a follow-up, a reminder).

    Exactly one of ``due`` and ``before`` is given: ``due`` counts from the
    occasion (``within(business_days=2)`` after a first purchase), ``before``
    counts backwards from the date the host gives with the occasion
    (``before=30``: due at the close of the 30th business day before
    ``on=``, a contract's renewal say).

    Attributes:
        kind: the commitment's kind (``"thank_you"``, ``"follow_up"``, ...).
        what: what is promised, in words.
        due: a ``within(...)`` spec counted from the occasion, or ``None``.
        before: business days before the occasion's ``on`` date, or ``None``.
        owner: a fixed owner, ``(customer, occasion) -> owner``, or ``None``
            for the playbook's ``default_owner``.
        policy: the name of the escalation policy it runs under (one of the
            tracker's policies), or ``None`` for the usual matching.
        channel: where it is kept (``"card"``, ``"phone"``, ...), or ``None``.

    Raises:
        InvalidArgumentError: naming the field that is wrong.

    >>> rule = CareRule(kind="follow_up", what="Call to ask how it went",
    ...                 due=within(business_days=7), channel="phone")
    >>> rule.to_dict()["due"]
    'business_days=7'
    >>> CareRule(kind="thank_you", what="Send a card")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: due: give exactly one of due= and before= ...
    """

    kind: str = attrs.field(validator=_identifier)
    what: str = attrs.field(validator=_text)
    due: Within | None = attrs.field(default=None, validator=_optional_within)
    before: int | None = attrs.field(default=None, validator=_before)
    owner: OwnerRule = attrs.field(default=None, validator=_owner)
    policy: str | None = attrs.field(default=None, validator=_optional_identifier)
    channel: str | None = attrs.field(default=None, validator=_optional_identifier)

    def __attrs_post_init__(self) -> None:
        if (self.due is None) == (self.before is None):
            raise InvalidArgumentError(
                "give exactly one of due= and before=",
                argument="due",
                fix="due=within(...) after the occasion, or before=N business days before on=",
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (what a commitment records in its terms)."""
        return {
            "kind": self.kind,
            "what": self.what,
            "due": None if self.due is None else self.due.to_string(),
            "before": self.before,
            "owner": _owner_name(self.owner),
            "policy": self.policy,
            "channel": self.channel,
        }

    def describe(self) -> str:
        """The deadline in words: ``"2 business days after"``, ``"30 business days before"``."""
        if self.due is not None:
            return f"{self.due} after"
        return f"{self.before} business day{'' if self.before == 1 else 's'} before"

    def owner_for(self, customer: str, occasion: str, default: OwnerRule) -> str:
        """The owner of the commitment this rule opens for ``customer``.

        Raises:
            InvalidArgumentError: the owner rule returned something that is
                not an identifier (naming ``owner``).
        """
        rule = self.owner if self.owner is not None else default
        if rule is None:
            raise InvalidArgumentError(
                "the rule has no owner and the playbook no default_owner", argument="owner"
            )
        chosen = rule if isinstance(rule, str) else rule(customer, occasion)
        return check_identifier(chosen, "owner")

    def deadline(
        self, at: _dt.datetime, on: _dt.date | None, calendar: BusinessCalendar
    ) -> _dt.datetime:
        """The deadline this rule gives for an occasion at ``at`` (and date ``on``).

        Raises:
            InvalidArgumentError: a ``before`` rule without ``on`` (naming ``on``).

        >>> import datetime as dt
        >>> cal = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
        >>> rule = CareRule(kind="renewal", what="Remind", before=2)
        >>> rule.deadline(dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.date(2026, 12, 14), cal)
        datetime.datetime(2026, 12, 10, 17, 0, tzinfo=datetime.timezone.utc)
        """
        if self.due is not None:
            return to_utc(calendar.resolve(at, self.due), "due")
        if on is None:
            raise InvalidArgumentError(
                f"a {self.kind!r} rule counts business days before a date: give on=",
                argument="on",
                fix="e.g. occurred(customer, 'renewal_due', on=date(2027, 3, 1))",
            )
        return business_days_before(calendar, on, self.before or 0)


def business_days_before(calendar: BusinessCalendar, on: _dt.date, days: int) -> _dt.datetime:
    """The close of the ``days``-th business day before date ``on`` (counted backwards).

    ``days=0`` is the close of the last business day on or before ``on``.

    Raises:
        CalendarError: the date falls outside the supported years.
    """
    day = on if days == 0 else on - _dt.timedelta(days=1)
    counted = 0
    while True:
        if calendar.is_business_day(day):
            if counted == max(days - 1, 0):
                break
            counted += 1
        day -= _dt.timedelta(days=1)
    midnight = _dt.datetime.combine(day, _dt.time(0), tzinfo=calendar.zone)
    return to_utc(calendar.next_close(midnight), "on")


# --------------------------------------------------------------------------- converters


def _name(value: Any) -> str:
    return check_identifier(value, "name")


def _version(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"must be an int >= 1, not {value!r}", argument="version")
    return value


def _targets(value: Any) -> Mapping[str, Within]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping of channel -> within(...), not {type(value).__name__}",
            argument="response_targets",
        )
    out: dict[str, Within] = {}
    for channel, spec in value.items():
        check_identifier(channel, "response_targets")
        if not isinstance(spec, Within):
            raise InvalidArgumentError(
                f"the target for {channel!r} must be a within(...) spec, not {type(spec).__name__}",
                argument="response_targets",
                fix="e.g. {'email': within(business_hours=4)}",
            )
        out[channel] = spec
    return _FrozenMap(sorted(out.items()))


def _channels(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            "must be an iterable of channel names (not a single str), or None",
            argument="channels",
        )
    channels = frozenset(check_identifier(c, "channels") for c in value)
    if not channels:
        raise InvalidArgumentError(
            "must name at least one channel (None allows every channel)", argument="channels"
        )
    return channels


def _rules(value: Any, argument: str) -> tuple[CareRule, ...]:
    if isinstance(value, CareRule):
        return (value,)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f"must be a CareRule or a list of them, not {type(value).__name__}",
            argument=argument,
        )
    rules = tuple(value)
    for rule in rules:
        if not isinstance(rule, CareRule):
            raise InvalidArgumentError(
                f"must hold CareRule values, not {type(rule).__name__}", argument=argument
            )
    return rules


def _occasions(value: Any) -> Mapping[str, tuple[CareRule, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping of occasion -> rules, not {type(value).__name__}",
            argument="occasions",
        )
    out = {
        check_identifier(name, "occasions"): _rules(rules, f"occasions[{name!r}]")
        for name, rules in value.items()
    }
    return _FrozenMap(sorted(out.items()))


def _spacing(value: Any) -> _dt.timedelta | Within:
    if isinstance(value, Within):
        return value
    if isinstance(value, _dt.timedelta):
        if value < _dt.timedelta(0):
            raise InvalidArgumentError(
                f"must not be negative (got {value})", argument="thank_you_spacing"
            )
        return value
    raise InvalidArgumentError(
        f"must be a timedelta or a within(...) spec, not {type(value).__name__}",
        argument="thank_you_spacing",
        fix="e.g. timedelta(days=30) or within(business_days=20)",
    )


def _target(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be an int, not {type(value).__name__}", argument="thank_you_target"
        )
    if value < 0:
        raise InvalidArgumentError(
            f"must not be negative (got {value})", argument="thank_you_target"
        )
    return value


def _quiet(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping of opening occasion -> closing occasion, not "
            f"{type(value).__name__}",
            argument="quiet",
        )
    out = {check_identifier(k, "quiet"): check_identifier(v, "quiet") for k, v in value.items()}
    return _FrozenMap(sorted(out.items()))


def _reasons(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            "must be an iterable of pause reasons (not a single str)",
            argument="waiting_reasons",
        )
    return frozenset(check_identifier(r, "waiting_reasons") for r in value)


def _bool(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(value).__name__}", argument=attribute.name
        )


def _silence(value: Any) -> _dt.timedelta | None:
    if value is None:
        return None
    if not isinstance(value, _dt.timedelta):
        raise InvalidArgumentError(
            f"must be a timedelta or None, not {type(value).__name__}",
            argument="longest_silence",
        )
    if value <= _dt.timedelta(0):
        raise InvalidArgumentError(f"must be positive (got {value})", argument="longest_silence")
    return value


def _rule(value: Any, argument: str) -> CareRule | None:
    if value is not None and not isinstance(value, CareRule):
        raise InvalidArgumentError(
            f"must be a CareRule or None, not {type(value).__name__}", argument=argument
        )
    if value is not None and value.due is None:
        raise InvalidArgumentError(
            "must count from when it opens (due=within(...)), not before= a date",
            argument=argument,
        )
    return value


def _keep_in_touch_rule(value: Any) -> CareRule | None:
    return _rule(value, "keep_in_touch")


def _extra_mile_rule(value: Any) -> CareRule | None:
    return _rule(value, "extra_mile")


def _quiet_kinds(value: Any) -> frozenset[str]:
    return _kinds(value, "quiet_kinds")


class _FrozenMap(dict[str, Any]):
    """A read-only dict (hashable by content) for a playbook's mappings."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("a playbook's mappings are read-only; use attrs.evolve")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


# --------------------------------------------------------------------------- the playbook


@attrs.frozen(kw_only=True)
class Playbook:
    """What customer care owes, per channel and per occasion of a relationship.

    Attributes:
        name: the playbook's name (recorded in every commitment it opens).
        response_targets: channel -> ``within(...)``: how soon a message on
            that channel is answered, counted in the customer's business time.
        default_response: the target for a channel not listed (``None``: a
            message on such a channel is refused, naming ``channel``).
        channels: the only channels accepted for messages and touchpoints,
            or ``None`` for any.
        occasions: occasion -> the :class:`CareRule` values it opens (an empty
            tuple: a known occasion that opens nothing).  Any host-defined
            name may be added.
        default_owner: the owner rule for replies and for rules without one
            (a fixed owner or ``(customer, occasion) -> owner``).
        reply_what: what a reply commitment promises, ``{ref}`` replaced by
            the message's ref.
        thank_you_target: how many counted thank-yous a relationship deserves.
        thank_you_spacing: how far a thank-you must be after the last counted
            one to count (a ``timedelta``, or ``within(...)`` on the customer's
            calendar).
        quiet: opening occasion -> closing occasion: while the opening one is
            the latest of the two, thank-yous are held (``thank()`` records
            nothing, and open thank-you commitments are paused until the
            closing occasion).
        quiet_kinds: the commitment kinds held while quiet.
        waiting_reasons: the pause reasons that mean "waiting on the
            customer": a message from the customer resumes those commitments.
        cancel_follow_ups_on_message: whether a message from the customer
            cancels their pending follow-ups (they wrote first).
        longest_silence: how long a customer may go without a touchpoint
            before a keep-in-touch commitment opens (``None``: never).
        keep_in_touch: the rule of that commitment (counted from when it opens).
        extra_mile: the rule of the extra-mile gesture's commitment.

    Raises:
        InvalidArgumentError: naming the field that is wrong.

    >>> book = Playbook(name="shop", response_targets={"email": within(business_hours=4)})
    >>> book.response_target("email")
    Within(unit='business_hours', amount=4)
    >>> Playbook(thank_you_target=-1)
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: thank_you_target: must not be negative (got -1)
    """

    name: str = attrs.field(default="default", converter=_name)
    version: int = attrs.field(default=1, converter=_version)
    response_targets: Mapping[str, Within] = attrs.field(factory=dict, converter=_targets)
    default_response: Within | None = attrs.field(
        factory=lambda: within(business_days=1), validator=_optional_within
    )
    channels: frozenset[str] | None = attrs.field(default=None, converter=_channels)
    occasions: Mapping[str, tuple[CareRule, ...]] = attrs.field(factory=dict, converter=_occasions)
    default_owner: OwnerRule = attrs.field(default="care-team", validator=_owner)
    reply_what: str = attrs.field(default="Reply to message {ref}", validator=_text)
    thank_you_target: int = attrs.field(default=7, converter=_target)
    thank_you_spacing: _dt.timedelta | Within = attrs.field(
        default=_dt.timedelta(days=30), converter=_spacing
    )
    quiet: Mapping[str, str] = attrs.field(factory=dict, converter=_quiet)
    quiet_kinds: frozenset[str] = attrs.field(
        default=frozenset({"thank_you"}), converter=_quiet_kinds
    )
    waiting_reasons: frozenset[str] = attrs.field(
        default=frozenset({"waiting_on_customer"}), converter=_reasons
    )
    cancel_follow_ups_on_message: bool = attrs.field(default=True, validator=_bool)
    longest_silence: _dt.timedelta | None = attrs.field(default=None, converter=_silence)
    keep_in_touch: CareRule | None = attrs.field(default=None, converter=_keep_in_touch_rule)
    extra_mile: CareRule | None = attrs.field(default=None, converter=_extra_mile_rule)

    # ----------------------------------------------------------------- questions

    def check_channel(self, channel: Any, argument: str = "channel") -> str:
        """``channel`` if it is an identifier the playbook accepts, else InvalidArgumentError."""
        name = check_identifier(channel, argument)
        if self.channels is not None and name not in self.channels:
            raise InvalidArgumentError(
                f"{name!r} is not one of the playbook's channels "
                f"({', '.join(sorted(self.channels))})",
                argument=argument,
            )
        return name

    def response_target(self, channel: str) -> Within:
        """How soon a message on ``channel`` must be answered.

        Raises:
            InvalidArgumentError: the channel is not accepted, or has no target
                and there is no ``default_response`` (naming ``channel``).
        """
        channel = self.check_channel(channel)
        spec = self.response_targets.get(channel, self.default_response)
        if spec is None:
            raise InvalidArgumentError(
                f"the playbook has no response target for channel {channel!r}",
                argument="channel",
                fix="add it to response_targets, or set default_response",
            )
        return spec

    def rules_for(self, occasion: Any) -> tuple[CareRule, ...]:
        """The rules ``occasion`` opens.

        Raises:
            KeepwordError: the playbook has no rule for the occasion.
        """
        occasion = check_identifier(occasion, "occasion")
        rules = self.occasions.get(occasion)
        if rules is None:
            raise KeepwordError(
                f"the playbook {self.name!r} has no rule for occasion {occasion!r}",
                argument="occasion",
                fix="add it to the playbook's occasions (an empty list records it and "
                f"opens nothing); known: {', '.join(sorted(self.occasions))}",
            )
        return rules

    def next_thanks_at(
        self, last: _dt.datetime | None, calendar: BusinessCalendar
    ) -> _dt.datetime | None:
        """When a thank-you after one counted at ``last`` counts again (``None``: at once)."""
        if last is None:
            return None
        if isinstance(self.thank_you_spacing, Within):
            return to_utc(calendar.resolve(last, self.thank_you_spacing), "thank_you_spacing")
        return last + self.thank_you_spacing

    def is_quiet(self, occasions: Iterable[str]) -> str | None:
        """The quiet opening occasion in force after ``occasions`` (in order), or ``None``."""
        closers = {v: k for k, v in self.quiet.items()}
        open_now: set[str] = set()
        for occasion in occasions:
            if occasion in self.quiet:
                open_now.add(occasion)
            elif occasion in closers:
                open_now.discard(closers[occasion])
        return min(open_now) if open_now else None

    # ----------------------------------------------------------------- snapshots

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description of the whole playbook (owner callables by name)."""
        return {
            "name": self.name,
            "version": self.version,
            "response_targets": {k: v.to_string() for k, v in self.response_targets.items()},
            "default_response": None
            if self.default_response is None
            else self.default_response.to_string(),
            "channels": None if self.channels is None else sorted(self.channels),
            "occasions": {k: [r.to_dict() for r in v] for k, v in self.occasions.items()},
            "default_owner": _owner_name(self.default_owner),
            "reply_what": self.reply_what,
            "thank_you_target": self.thank_you_target,
            "thank_you_spacing": self.thank_you_spacing.to_string()
            if isinstance(self.thank_you_spacing, Within)
            else f"seconds={int(self.thank_you_spacing.total_seconds())}",
            "quiet": dict(self.quiet),
            "quiet_kinds": sorted(self.quiet_kinds),
            "waiting_reasons": sorted(self.waiting_reasons),
            "cancel_follow_ups_on_message": self.cancel_follow_ups_on_message,
            "longest_silence": None
            if self.longest_silence is None
            else f"seconds={int(self.longest_silence.total_seconds())}",
            "keep_in_touch": None if self.keep_in_touch is None else self.keep_in_touch.to_dict(),
            "extra_mile": None if self.extra_mile is None else self.extra_mile.to_dict(),
        }

    @property
    def fingerprint(self) -> str:
        """A short fingerprint of the playbook's content (changes with any edit)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def stamp(self, rule: CareRule | None = None, **extra: Any) -> dict[str, Any]:
        """What a commitment it opens records in its terms: name, version, fingerprint, rule."""
        out: dict[str, Any] = {
            "playbook": self.name,
            "playbook_version": self.version,
            "playbook_fingerprint": self.fingerprint,
        }
        if rule is not None:
            out["rule"] = rule.to_dict()
        out.update(extra)
        return out

    def table(self) -> list[tuple[str, str, str, str, str]]:
        """The occasions as rows ``(occasion, kind, what, deadline, channel)``, sorted.

        The documentation's default-playbook table is checked against this.
        """
        rows: list[tuple[str, str, str, str, str]] = []
        for occasion, rules in sorted(self.occasions.items()):
            if not rules:
                rows.append((occasion, "-", "(recorded, opens nothing)", "-", "-"))
            for r in rules:
                rows.append((occasion, r.kind, r.what, r.describe(), r.channel or "-"))
        return rows


def _kinds(value: Any, argument: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            "must be an iterable of kinds (not a single str)", argument=argument
        )
    return frozenset(check_identifier(k, argument) for k in value)


def period_key(period: str, at: _dt.datetime, calendar: BusinessCalendar) -> str:
    """The key of the ``period`` containing ``at`` in the calendar's zone.

    ``"month"`` -> ``"2026-12"``, ``"week"`` -> ``"2026-W49"`` (ISO weeks),
    ``"quarter"`` -> ``"2026-Q4"``, ``"year"`` -> ``"2026"``.

    Raises:
        InvalidArgumentError: an unknown period (naming ``period``).

    >>> import datetime as dt
    >>> cal = BusinessCalendar(tz="Pacific/Auckland")
    >>> period_key("month", dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC), cal)  # Dec 1 there
    '2026-12'
    >>> period_key("week", dt.datetime(2026, 12, 7, tzinfo=dt.UTC), cal)
    '2026-W50'
    """
    local = to_utc(at, "at").astimezone(calendar.zone)
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "quarter":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if period == "year":
        return f"{local.year:04d}"
    raise InvalidArgumentError(
        f"unknown period {period!r}",
        argument="period",
        fix="use 'week', 'month', 'quarter' or 'year'",
    )


DEFAULT_PLAYBOOK = Playbook(
    name="default",
    version=1,
    response_targets={
        "email": within(business_hours=4),
        "chat": within(business_minutes=15),
        "phone": within(business_hours=2),
        "social": within(business_hours=2),
        "letter": within(business_days=5),
    },
    default_response=within(business_days=1),
    occasions={
        "first_contact": (
            CareRule(
                kind="thank_you",
                what="Thank them for getting in touch",
                due=within(business_days=1),
                channel="email",
            ),
        ),
        "first_purchase": (
            CareRule(
                kind="thank_you",
                what="Send a handwritten thank-you card",
                due=within(business_days=2),
                channel="card",
            ),
            CareRule(
                kind="follow_up",
                what="Call to ask how the first order went",
                due=within(business_days=7),
                channel="phone",
            ),
        ),
        "sale": (
            CareRule(
                kind="follow_up",
                what="Follow up on the sale",
                due=within(business_days=3),
                channel="email",
            ),
        ),
        "delivered": (
            CareRule(
                kind="follow_up",
                what="Check the delivery arrived well",
                due=within(business_days=2),
                channel="email",
            ),
        ),
        "referral": (
            CareRule(
                kind="thank_you",
                what="Thank them for the referral",
                due=within(business_days=2),
                channel="card",
            ),
        ),
        "renewal": (
            CareRule(
                kind="thank_you",
                what="Thank them for renewing",
                due=within(business_days=2),
                channel="email",
            ),
        ),
        "renewal_due": (
            CareRule(
                kind="renewal", what="Remind them the contract renews", before=30, channel="email"
            ),
        ),
        "complaint": (
            CareRule(
                kind="complaint",
                what="Resolve the complaint",
                due=within(business_days=5),
                channel="phone",
            ),
        ),
        "complaint_resolved": (
            CareRule(
                kind="follow_up",
                what="Check they are happy with the resolution",
                due=within(business_days=5),
                channel="phone",
            ),
        ),
        "public_praise": (
            CareRule(
                kind="thank_you",
                what="Thank them for the kind words",
                due=within(business_days=1),
                channel="email",
            ),
        ),
        "maintenance_contract": (
            CareRule(
                kind="thank_you",
                what="Thank them for their trust",
                due=within(business_days=2),
                channel="letter",
            ),
            CareRule(
                kind="follow_up",
                what="Schedule the first maintenance visit",
                due=within(business_days=10),
                channel="phone",
            ),
        ),
    },
    default_owner="care-team",
    thank_you_target=7,
    thank_you_spacing=_dt.timedelta(days=30),
    quiet={"complaint": "complaint_resolved"},
    quiet_kinds=frozenset({"thank_you"}),
    waiting_reasons=frozenset({"waiting_on_customer", "waiting on customer"}),
    cancel_follow_ups_on_message=True,
    longest_silence=_dt.timedelta(days=90),
    keep_in_touch=CareRule(
        kind="keep_in_touch", what="Get back in touch", due=within(business_days=5), channel="phone"
    ),
    extra_mile=CareRule(
        kind="extra_mile",
        what="Go the extra mile for them",
        due=within(business_days=10),
        channel="gift",
    ),
)
"""The playbook a :class:`~keepword.Tracker` uses unless given another.

Email answered within 4 business hours (chat 15 business minutes, phone and
social 2 business hours, letters 5 business days, anything else 1 business
day); seven thank-yous per relationship at least 30 days apart; thank-yous
held while a complaint is open; a customer's message resumes what waits on
them and cancels pending follow-ups; nobody goes 90 days without hearing from
the business.  The occasions are listed in ``docs/customer-care.md``.
"""
