"""Promising: make commitments and store them, once per external reference.

A :class:`PromiseRequest` is what a host asks for, validated once when it is
built; :func:`promise` and :func:`promise_many` turn requests into stored
commitments.  A request that repeats an earlier one's ``external_ref`` (a
webhook retried) returns the stored commitment, and a different request under
the same reference is a :class:`~keepword.errors.ConflictError`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._instant import to_utc
from keepword._json import FrozenDict, freeze_json
from keepword._validate import check_count, check_identifier
from keepword._validate import identifier as _identifier
from keepword._validate import optional_identifier as _optional_identifier
from keepword._validate import text as _text
from keepword.calendar import Within
from keepword.commitment import MAX_PRIORITY, Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.fairness import check_quantity
from keepword.services._context import CommitmentOrId, Context

__all__ = ["PromiseRequest", "promise", "promise_many", "reopen"]


def _due(value: Any) -> Within | _dt.datetime:
    if isinstance(value, Within):
        return value
    if isinstance(value, _dt.datetime):
        return to_utc(value, "due")
    raise InvalidArgumentError(
        f"must be a within(...) spec or an aware datetime, not {type(value).__name__}",
        argument="due",
    )


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            "must be an iterable of strings (not a single str)", argument="tags"
        )
    return tuple(sorted({check_identifier(tag, "tags") for tag in value}))


def _priority(value: Any) -> int:
    return 0 if value is None else check_count(value, "priority", 0, MAX_PRIORITY)


def _terms(value: Any) -> FrozenDict:
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a mapping, not {type(value).__name__}", argument="terms"
        )
    frozen: FrozenDict = freeze_json(value, "terms")
    return frozen


@attrs.frozen(kw_only=True)
class PromiseRequest:
    """A promise a host asks for: the arguments of :meth:`Tracker.promise`, checked once.

    Args:
        customer: who the promise is to.
        owner: who must keep it.
        kind: what kind of promise (``"reply"``, ``"refund"``, ...).
        what: what was promised, in words.
        due: ``within(...)`` (resolved on the customer's calendar when the
            promise is made) or an aware instant (kept in UTC).
        external_ref: the host's id for the thing promised, unique in the tenant.
        tags: labels (kept sorted and unique).
        priority: ``0 <= priority < 2**31``; larger is more urgent.
        waiting_for: the scarce resource it waits for, e.g. ``"sku:FIG-1"``.
        channel: where the customer is answered or reached (``"email"``, ...).
        terms: the agreed terms, a JSON object (kept frozen).
        actor: who made the promise (checked where the event is built).
        quantity: units of ``waiting_for`` it waits for (``> 0``), kept as
            ``terms["quantity"]`` (see :mod:`keepword.fairness`).

    Raises:
        InvalidArgumentError: a field is invalid, naming it.
        NaiveDatetimeError: ``due`` is a naive datetime.

    >>> from keepword.calendar import within
    >>> r = PromiseRequest(customer="acct-42", owner="alice", kind="reply",
    ...                    what="Email the price list", due=within(business_days=3),
    ...                    tags=["vip", "b2b", "vip"])
    >>> r.tags, r.priority
    (('b2b', 'vip'), 0)
    >>> PromiseRequest(customer="", owner="alice", kind="reply", what="x", due=within(hours=1))
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: customer: must not be empty
    """

    customer: str = attrs.field(validator=_identifier)
    owner: str = attrs.field(validator=_identifier)
    kind: str = attrs.field(validator=_identifier)
    what: str = attrs.field(validator=_text)
    due: Within | _dt.datetime = attrs.field(converter=_due)
    external_ref: str | None = attrs.field(default=None, validator=_optional_identifier)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    priority: int = attrs.field(default=0, converter=_priority)
    waiting_for: str | None = attrs.field(default=None, validator=_optional_identifier)
    channel: str | None = attrs.field(default=None, validator=_optional_identifier)
    terms: FrozenDict = attrs.field(default=None, converter=_terms)
    actor: str | None = None
    quantity: int | None = None

    def __attrs_post_init__(self) -> None:
        _merge_quantity(self)

    @classmethod
    def from_mapping(cls, item: Any, argument: str) -> PromiseRequest:
        """A request from a mapping of :meth:`Tracker.promise`'s keyword arguments.

        Raises:
            InvalidArgumentError: ``item`` is not a mapping, names an unknown
                argument or misses a required one (naming ``argument``), or a
                field is invalid (naming the field).
        """
        if not isinstance(item, Mapping):
            raise InvalidArgumentError(
                f"must be a mapping of promise() arguments, not {type(item).__name__}",
                argument=argument,
            )
        unknown = sorted(map(str, set(item) - _FIELDS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown promise() argument(s): {', '.join(unknown)}", argument=argument
            )
        missing = [name for name in _REQUIRED if name not in item]
        if missing:
            raise InvalidArgumentError(
                f"missing promise() argument(s): {', '.join(missing)}", argument=argument
            )
        return cls(**item)

    def differences(self, existing: Commitment) -> list[str]:
        """The fields in which this request differs from the one ``existing`` was made from.

        Compared: customer, owner (as first promised), kind, what, due (the
        same ``within(...)`` spec, or the same explicit instant) and terms.
        """
        first = existing.history[0].data
        if isinstance(self.due, Within):
            same_due = first.get("spec") == self.due.to_string()
        else:
            same_due = first.get("spec") is None and first["due_at"] == self.due.isoformat()
        checks = (
            ("customer", first["customer"] == self.customer),
            ("owner", first["owner"] == self.owner),
            ("kind", first["kind"] == self.kind),
            ("what", first["what"] == self.what),
            ("due", same_due),
            ("terms", first["terms"] == self.terms),
        )
        return [name for name, same in checks if not same]

    def check_repeats(self, existing: Commitment) -> Commitment:
        """``existing`` if this request repeats the one it was made from, else ConflictError."""
        differs = self.differences(existing)
        if differs:
            raise ConflictError(
                f"external_ref {existing.external_ref!r} already names commitment "
                f"{existing.id} with a different {', '.join(differs)}",
                argument="external_ref",
                fix="use a new external_ref for a different promise; repeat the same "
                "request to get the existing one",
            )
        return existing


def _merge_quantity(request: PromiseRequest) -> None:
    """Check ``quantity`` and keep it in the request's terms (``terms["quantity"]``)."""
    if request.quantity is None:
        return
    stated = request.terms.get("quantity")
    units = check_quantity(request.quantity, "quantity")
    if request.waiting_for is None:
        raise InvalidArgumentError(
            "needs waiting_for: a quantity is of a resource", argument="quantity"
        )
    if stated is not None and stated != units:
        raise InvalidArgumentError(
            f"is {units} but terms['quantity'] is {stated!r}", argument="quantity"
        )
    object.__setattr__(request, "terms", freeze_json({**request.terms, "quantity": units}, "terms"))


_FIELDS = frozenset(a.name for a in attrs.fields(PromiseRequest))
_REQUIRED = tuple(a.name for a in attrs.fields(PromiseRequest) if a.default is attrs.NOTHING)


def build(ctx: Context, request: PromiseRequest, now: _dt.datetime) -> Commitment:
    """The new commitment (version 1) ``request`` makes at ``now``; nothing is stored."""
    new, _ = _t.promise(
        id=new_id(now),
        tenant=ctx.tenant,
        customer=request.customer,
        owner=request.owner,
        kind=request.kind,
        what=request.what,
        now=now,
        calendar=ctx.calendar_of(request.customer),
        due=request.due,
        external_ref=request.external_ref,
        tags=request.tags,
        priority=request.priority,
        waiting_for=request.waiting_for,
        channel=request.channel,
        terms=request.terms,
        actor=request.actor,
        policy=ctx.policy_of(
            request.customer, kind=request.kind, tags=request.tags, priority=request.priority
        ),
    )
    return new


def promise(ctx: Context, request: PromiseRequest) -> Commitment:
    """Store the commitment ``request`` makes, or return the one its ``external_ref`` names.

    Raises:
        ConflictError: ``external_ref`` names a commitment made from another request.
        InvalidArgumentError: ``due`` is before now (see :func:`keepword.transitions.promise`).
    """
    if request.external_ref is not None:
        existing = ctx.store.get_by_ref(ctx.tenant, request.external_ref)
        if existing is not None:
            return request.check_repeats(existing)
    stored, created = ctx.store.add(build(ctx, request, ctx.now()))
    return stored if created else request.check_repeats(stored)


def promise_many(ctx: Context, requests: list[PromiseRequest]) -> list[Commitment]:
    """Store the commitments ``requests`` make in one atomic write: all or none.

    An item whose ``external_ref`` is stored already, or repeats an earlier
    item's, gives that commitment (and must repeat its request).
    """
    now = ctx.now()
    built: list[Commitment] = []
    first_by_ref: dict[str, Commitment] = {}
    for request in requests:
        new = build(ctx, request, now)
        ref = request.external_ref
        if ref is not None:
            earlier = first_by_ref.get(ref)
            if earlier is not None:
                request.check_repeats(earlier)
            else:
                existing = ctx.store.get_by_ref(ctx.tenant, ref)
                if existing is not None:
                    request.check_repeats(existing)
                first_by_ref[ref] = new
        built.append(new)
    results = ctx.store.add_many(built)
    return [
        stored if created else request.check_repeats(stored)
        for request, (stored, created) in zip(requests, results, strict=True)
    ]


def reopen(
    ctx: Context,
    commitment: CommitmentOrId,
    *,
    due: Any,
    reason: str,
    owner: str | None = None,
    what: str | None = None,
    actor: str | None = None,
) -> Commitment:
    """Store a new promise reopening a kept one (see :func:`keepword.transitions.reopen`).

    The kept promise is read from the store (a stale object is fine: a kept
    promise never changes).  The new one runs on the customer's calendar and
    escalation policy, as :func:`promise` would choose them.

    Raises:
        NotFoundError: the kept promise is not in this tenant.
        InvalidTransitionError: it is not kept.
        InvalidArgumentError: a bad ``due``, ``reason``, ``owner`` or ``what``.
    """
    if isinstance(commitment, Commitment):
        ctx.check_tenant(commitment)
    kept = ctx.store.get(ctx.tenant, ctx.id_of(commitment))
    now = ctx.now()
    new, _ = _t.reopen(
        kept,
        id=new_id(now),
        now=now,
        calendar=ctx.calendar_of(kept.customer),
        due=_due(due),
        reason=reason,
        owner=owner,
        what=what,
        actor=actor,
        policy=ctx.policy_of(kept.customer, kind=kept.kind, tags=kept.tags, priority=kept.priority),
    )
    stored, _ = ctx.store.add(new)
    return stored
