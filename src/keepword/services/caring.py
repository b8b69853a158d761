"""Caring: occasions, thank-yous, follow-ups, keeping in touch and the extra mile.

Each function takes the :class:`~keepword.services.Context` and uses the
customer's :class:`~keepword.playbook.Playbook` to decide what is owed; the
commitments it opens are ordinary commitments (kept, paused, escalated and
measured like any other) whose deadline is computed when they open, with the
playbook rule recorded in their terms.  Touchpoints go to the store's
``"touchpoints"`` port.  Replies owed live in :mod:`keepword.services.replying`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._instant import to_utc
from keepword._validate import check_identifier
from keepword.commitment import Commitment, Status
from keepword.errors import (
    ConflictError,
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    NotFoundError,
)
from keepword.playbook import CareRule, Playbook, period_key
from keepword.ports import AtomicTouchpoints, Query, TouchpointLog
from keepword.services import keeping
from keepword.services._context import Context
from keepword.touchpoint import Touchpoint

__all__ = [
    "ExtraMile",
    "OwedThanks",
    "ThankYou",
    "Touched",
    "extra_mile",
    "followed_up",
    "keep_in_touch",
    "occurred",
    "owed_thanks",
    "thank",
    "touched",
    "touchpoints",
]

MAX_REF = 200
"""The longest host ref accepted (room is left for the prefixes keepword adds)."""

OPEN = frozenset({Status.OPEN, Status.PAUSED})

# kinds that have their own method: touched() refuses them
_OWN_METHOD = {
    "received": "received()",
    "reply": "replied()",
    "thank_you": "thank()",
    "occasion": "occurred()",
    "extra_mile": "extra_mile()",
}
# what a touchpoint of a kind keeps, oldest open first
_KEEPS: Mapping[str, str] = {
    "follow_up": "follow_up",
    "keep_in_touch": "keep_in_touch",
    "contact": "keep_in_touch",
}


# --------------------------------------------------------------------------- results


@attrs.frozen(kw_only=True)
class ThankYou:
    """What :meth:`~keepword.Tracker.thank` did.

    Attributes:
        customer: who was thanked.
        touchpoint: the recorded thank-you, or ``None`` when it was held.
        counted: whether it counts toward the playbook's target (one within
            the minimum spacing of the last counted one is recorded, not counted).
        kept: the thank-you commitment it kept (the oldest matching open one), if any.
        held: the quiet occasion that holds thank-yous right now (``"complaint"``),
            or ``None``; when held nothing is recorded and nothing is kept.
        next_allowed_at: when the next thank-you would count (``None``: at once).
        note: the outcome in words.
    """

    customer: str
    touchpoint: Touchpoint | None
    counted: bool
    kept: Commitment | None
    held: str | None
    next_allowed_at: _dt.datetime | None
    note: str


@attrs.frozen(kw_only=True)
class OwedThanks:
    """A relationship below its thank-you target (:meth:`~keepword.Tracker.owed_thanks`).

    Attributes:
        customer: the customer.
        counted: how many thank-yous counted so far.
        owed: how many more the target asks for.
        last_at: when the last counted one was, or ``None``.
        next_allowed_at: when the next one would count (``None``: now).
    """

    customer: str
    counted: int
    owed: int
    last_at: _dt.datetime | None
    next_allowed_at: _dt.datetime | None


@attrs.frozen(kw_only=True)
class Touched:
    """A touchpoint recorded by :meth:`~keepword.Tracker.touched` or ``followed_up``.

    Attributes:
        touchpoint: the stored touchpoint (the first one, for a repeated ref).
        kept: the commitment it kept (the oldest matching open one), if any.
    """

    touchpoint: Touchpoint
    kept: Commitment | None


@attrs.frozen(kw_only=True)
class ExtraMile:
    """This period's extra-mile pick (:meth:`~keepword.Tracker.extra_mile`).

    Attributes:
        period: the period's key (``"2026-12"``, ``"2026-W49"``, ``"2026-Q4"``, ``"2026"``).
        customer: the customer picked.
        commitment: the commitment opened for the gesture (the same one on every call).
        touchpoint: the touchpoint recording the pick.
    """

    period: str
    customer: str
    commitment: Commitment
    touchpoint: Touchpoint


# --------------------------------------------------------------------------- shared helpers


def log_of(ctx: Context, action: str) -> TouchpointLog:
    """The store's touchpoint log (MissingPortError naming ``action`` without one)."""
    return ctx.touchpoint_log(action)


def check_ref(value: Any, argument: str = "ref") -> str:
    """A host ref: an identifier of at most :data:`MAX_REF` characters."""
    ref = check_identifier(value, argument)
    if len(ref) > MAX_REF:
        raise InvalidArgumentError(
            f"must be at most {MAX_REF} characters (got {len(ref)})", argument=argument
        )
    return ref


def optional(value: Any, argument: str) -> str | None:
    """``None``, or ``value`` checked as an identifier naming ``argument``."""
    return None if value is None else check_identifier(value, argument)


def check_bool(value: Any, argument: str) -> bool:
    """``value`` if it is a bool, else InvalidArgumentError naming ``argument``."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(value).__name__}", argument=argument
        )
    return value


def when(at: Any, now: _dt.datetime) -> _dt.datetime:
    """``at`` in UTC (default ``now``); it may not be in the future."""
    if at is None:
        return now
    instant = to_utc(at, "at")
    if instant > now:
        raise InvalidArgumentError(
            f"must not be in the future ({instant.isoformat()} > now {now.isoformat()})",
            argument="at",
        )
    return instant


def record(ctx: Context, log: TouchpointLog, **fields: Any) -> tuple[Touchpoint, bool]:
    """Store a new touchpoint of this tenant (a fresh id); ``(stored, created)``."""
    return log.add_touchpoint(touchpoint(ctx, **fields))


def together(log: TouchpointLog) -> AtomicTouchpoints | None:
    """``log`` if it writes a touchpoint with its commitments in one transaction, else ``None``.

    Without it (a store of the ``"touchpoints"`` port that lacks
    :class:`~keepword.ports.AtomicTouchpoints`) the services write the
    commitments, then the touchpoint, as separate calls.
    """
    return log if isinstance(log, AtomicTouchpoints) else None


def by_ref(
    ctx: Context, log: TouchpointLog, kind: str, ref: str, *, named: bool
) -> tuple[Touchpoint, Commitment | None] | None:
    """The tenant's touchpoint of ``kind`` with ``ref``, and (``named``) the commitment it names.

    One read where the store is :class:`~keepword.ports.AtomicTouchpoints`,
    else the touchpoint, then the commitment.  The commitment is ``None``
    when the touchpoint names none or it is not stored (see
    :func:`named_by`), or when ``named`` is false.
    """
    atomic = together(log) if named else None
    if atomic is not None:
        return atomic.touchpoint_with_commitment(ctx.tenant, kind, ref)
    seen = log.touchpoint_by_ref(ctx.tenant, kind, ref)
    if seen is None or not named or seen.commitment_id is None:
        return None if seen is None else (seen, None)
    try:
        return seen, ctx.store.get(ctx.tenant, seen.commitment_id)
    except NotFoundError:
        return seen, None


def named_by(seen: Touchpoint, commitment: Commitment | None) -> Commitment:
    """``commitment``: the one ``seen`` names (it names one), as :func:`by_ref` read it.

    Raises:
        NotFoundError: it is not stored.
    """
    if commitment is None:
        raise NotFoundError("commitment", seen.commitment_id or "", argument="id")
    return commitment


def touchpoint(ctx: Context, **fields: Any) -> Touchpoint:
    """A new touchpoint of this tenant (a fresh id), not stored: every field checked."""
    return Touchpoint(id=new_id(ctx.now()), tenant=ctx.tenant, **fields)


def keep_and_record(
    ctx: Context,
    log: TouchpointLog,
    owed: list[Commitment],
    decide: keeping.Decide,
    fields_of: Callable[[list[Commitment]], dict[str, Any]],
    *,
    first_only: bool = False,
) -> tuple[Touchpoint, bool, list[Commitment]]:
    """Apply ``decide`` to ``owed`` and store the touchpoint ``fields_of(kept)`` describes.

    In one transaction where the store is
    :class:`~keepword.ports.AtomicTouchpoints`; when that write meets a
    change made meanwhile (:class:`~keepword.errors.ConflictError`), or the
    store cannot, one by one (each change as :func:`quietly` applies it, then
    the touchpoint).  ``first_only``: stop at the first commitment ``decide``
    accepts.  A touchpoint whose ref is stored already writes nothing.

    Returns:
        ``(touchpoint, created, the commitments decided)``; not created: the
        stored touchpoint, and nothing was changed by this call.
    """
    atomic = together(log)
    if atomic is not None:
        decided: list[tuple[Commitment, int | None]] = []
        now = ctx.now()
        for c in owed:
            try:
                new, events = decide(c, now)
            except InvalidTransitionError:  # refused: left out, as quietly() leaves it
                continue
            decided.append((new, c.version) if events else (c, None))
            if first_only:
                break
        kept = [c for c, _ in decided]
        try:
            stored, created = atomic.add_touchpoint_with(
                touchpoint(ctx, **fields_of(kept)),
                update=[(c, version) for c, version in decided if version is not None],
            )
        except ConflictError:  # someone changed one meanwhile: one by one below
            pass
        else:
            return stored, created, kept if created else []
    kept = []
    for c in owed:
        done = quietly(ctx, c, decide)
        if done is not None:
            kept.append(done)
            if first_only:
                break
    stored, created = record(ctx, log, **fields_of(kept))
    return stored, created, kept


def build(
    ctx: Context,
    book: Playbook,
    rule: CareRule,
    *,
    customer: str,
    occasion: str,
    at: _dt.datetime,
    on: _dt.date | None = None,
    external_ref: str | None = None,
    actor: str | None = None,
    **terms: Any,
) -> Commitment:
    """The commitment ``rule`` opens for ``customer`` at ``at`` (not stored).

    Made at ``at`` (the occasion), due per the rule on the customer's
    calendar, with the playbook's stamp (name, version, fingerprint, rule) in
    its terms.

    Raises:
        InvalidArgumentError: ``on`` missing for a ``before`` rule, or its
            deadline already past (naming ``on``); an unknown policy name.
    """
    calendar = ctx.calendar_of(customer)
    due: Any = rule.due
    if rule.due is None:
        due = rule.deadline(at, on, calendar)
        if due < at:
            raise InvalidArgumentError(
                f"{rule.describe()} {on} was {due.isoformat()}, already past",
                argument="on",
                fix="give a date far enough ahead, or record the occasion earlier",
            )
    kind = rule.kind
    if rule.policy is not None:
        policy = _policy_named(ctx, rule.policy)
    else:
        policy = ctx.policy_of(customer, kind=kind, tags=(), priority=0)
    stamp = book.stamp(rule, occasion=occasion, **terms)
    if on is not None:
        stamp["on"] = on.isoformat()
    new, _ = _t.promise(
        id=new_id(ctx.now()),
        tenant=ctx.tenant,
        customer=customer,
        owner=rule.owner_for(customer, occasion, book.default_owner),
        kind=kind,
        what=rule.what,
        now=at,
        calendar=calendar,
        due=due,
        external_ref=external_ref,
        channel=rule.channel,
        terms=stamp,
        actor=actor,
        policy=policy,
    )
    return new


def _policy_named(ctx: Context, name: str) -> Any:
    for policy in ctx.policies.policies if ctx.policies is not None else ():
        if policy.name == name:
            return policy
    raise InvalidArgumentError(
        f"the playbook names escalation policy {name!r}, which the tracker does not have",
        argument="policy",
        fix="give the tracker that policy, or change the playbook rule",
    )


def open_commitments(ctx: Context, customer: str, kind: str) -> list[Commitment]:
    """The customer's open or paused commitments of ``kind``, oldest first.

    Oldest by ``made_at``; among those made at one instant, the one due first
    (then by id).
    """
    query = Query(customer=customer, kind=kind, statuses=OPEN, order="made_at")
    return sorted(ctx.store.find(ctx.tenant, query), key=lambda c: (c.made_at, c.due_at, c.id))


def last_pause_reason(c: Commitment) -> str | None:
    """Why a paused commitment was paused (its last ``"paused"`` event's reason)."""
    for event in reversed(c.history):
        if event.kind == "paused":
            reason = event.data.get("reason")
            return reason if isinstance(reason, str) else None
    return None


def quietly(ctx: Context, commitment: Commitment, decide: keeping.Decide) -> Commitment | None:
    """Apply a change someone else may have made first: ``None`` if it no longer applies.

    Written over the version just read (no second read); after a lost race
    the current state is loaded and decided afresh.
    """
    try:
        return keeping.change(ctx, commitment, decide)
    except ConflictError:
        pass
    except InvalidTransitionError:
        return None
    try:
        return keeping.change(ctx, commitment.id, decide)
    except (InvalidTransitionError, ConflictError):
        return None


def held_reason(opening: str) -> str:
    """The pause reason of a commitment held while ``opening`` (a complaint) is open."""
    return f"held while a {opening} is open"


def occasion_history(ctx: Context, log: TouchpointLog, customer: str) -> list[Touchpoint]:
    """The customer's occasion touchpoints in the order they were recorded.

    By ``at``, then by the ``seq`` each records (how many occasions the
    customer had before it), since ids made at one instant are unordered.
    """
    found = log.touchpoints(ctx.tenant, customer=customer, kind="occasion")
    return sorted(found, key=lambda t: (t.at, _seq(t)))


def _seq(t: Touchpoint) -> int:
    seq = t.data.get("seq", 0)
    return seq if isinstance(seq, int) else 0


def quiet_now(book: Playbook, history: list[Touchpoint], then: str | None = None) -> str | None:
    """The quiet occasion (``"complaint"``) holding thank-yous after ``history`` (and ``then``)."""
    if not book.quiet:
        return None
    occasions = [t.occasion for t in history if t.occasion is not None]
    if then is not None:
        occasions.append(then)
    return book.is_quiet(occasions)


# --------------------------------------------------------------------------- occasions


def occurred(
    ctx: Context,
    customer: Any,
    occasion: Any,
    *,
    at: Any = None,
    ref: Any = None,
    on: Any = None,
    channel: Any = None,
    actor: Any = None,
) -> list[Commitment]:
    """Record an occasion and open what the customer's playbook names for it.

    Raises:
        KeepwordError: the playbook has no rule for ``occasion``.
        InvalidArgumentError: a bad argument, naming it (nothing is written).
        ConflictError: ``ref`` was recorded for another customer or occasion.
    """
    log = log_of(ctx, "occurred")
    customer = check_identifier(customer, "customer")
    book = ctx.playbook_of(customer)
    rules = book.rules_for(occasion)
    occasion = str(occasion)
    ref = None if ref is None else check_ref(ref)
    channel = "other" if channel is None else book.check_channel(channel)
    actor = optional(actor, "actor")
    if on is not None and (not isinstance(on, _dt.date) or isinstance(on, _dt.datetime)):
        raise InvalidArgumentError(
            f"must be a date, not {type(on).__name__}", argument="on", fix="e.g. date(2027, 3, 1)"
        )
    instant = when(at, ctx.now())
    if ref is not None:
        seen = log.touchpoint_by_ref(ctx.tenant, "occasion", ref)
        if seen is not None:
            return _repeat_occasion(ctx, seen, customer, occasion)
    history = occasion_history(ctx, log, customer)
    quiet_before = quiet_now(book, history)
    built = [
        build(
            ctx,
            book,
            rule,
            customer=customer,
            occasion=occasion,
            at=instant,
            on=on,
            external_ref=None if ref is None else f"occasion:{ref}:{i}",
            actor=actor,
            occasion_ref=ref,
        )
        for i, rule in enumerate(rules)
    ]
    opened = [stored for stored, _ in ctx.store.add_many(built)] if built else []
    touch, created = record(
        ctx,
        log,
        customer=customer,
        channel=channel,
        kind="occasion",
        at=instant,
        occasion=occasion,
        actor=actor,
        ref=ref,
        commitment_id=opened[0].id if opened else None,
        data={
            "opened": [c.id for c in opened],
            "on": None if on is None else on.isoformat(),
            "seq": len(history),
        },
    )
    if not created:
        return _repeat_occasion(ctx, touch, customer, occasion)
    _hold_or_release(ctx, book, customer, quiet_before, quiet_now(book, history, occasion))
    return [ctx.store.get(ctx.tenant, c.id) for c in opened]


def _repeat_occasion(
    ctx: Context, seen: Touchpoint, customer: str, occasion: str
) -> list[Commitment]:
    if seen.customer != customer or seen.occasion != occasion:
        raise ConflictError(
            f"ref {seen.ref!r} was recorded as {seen.occasion!r} for customer {seen.customer!r}",
            argument="ref",
            fix="use a new ref for a different occasion; repeat the same call to get its "
            "commitments",
        )
    ids = seen.data.get("opened", ())
    return [ctx.store.get(ctx.tenant, id) for id in ids]


def _hold_or_release(
    ctx: Context,
    book: Playbook,
    customer: str,
    quiet_before: str | None,
    quiet_after: str | None,
) -> None:
    """Apply the quiet rules after an occasion: hold thank-yous, or release them."""
    if quiet_after is not None:
        reason = held_reason(quiet_after)
        for kind in sorted(book.quiet_kinds):
            for c in open_commitments(ctx, customer, kind):
                if c.status is Status.OPEN:
                    quietly(ctx, c, lambda c, now: _t.pause(c, now=now, reason=reason))
    if quiet_before is not None and quiet_after != quiet_before:
        reason = held_reason(quiet_before)
        for kind in sorted(book.quiet_kinds):
            for c in open_commitments(ctx, customer, kind):
                if c.status is Status.PAUSED and last_pause_reason(c) == reason:
                    quietly(ctx, c, lambda c, now: _t.resume(c, now=now))


# --------------------------------------------------------------------------- thank-yous


def thank(
    ctx: Context,
    customer: Any,
    *,
    channel: Any,
    occasion: Any = None,
    at: Any = None,
    actor: Any = None,
) -> ThankYou:
    """Record a thank-you and keep the oldest matching open thank-you commitment.

    Held (nothing recorded) while a quiet occasion of the playbook is open.
    """
    log = log_of(ctx, "thank")
    customer = check_identifier(customer, "customer")
    book = ctx.playbook_of(customer)
    channel = book.check_channel(channel)
    occasion = optional(occasion, "occasion")
    actor = optional(actor, "actor")
    instant = when(at, ctx.now())
    calendar = ctx.calendar_of(customer)
    previous = [
        t.at
        for t in log.touchpoints(ctx.tenant, customer=customer, kind="thank_you")
        if t.counted and t.at <= instant
    ]
    last = max(previous, default=None)
    next_at = book.next_thanks_at(last, calendar)
    held = quiet_now(book, occasion_history(ctx, log, customer))
    if held is not None:
        return ThankYou(
            customer=customer,
            touchpoint=None,
            counted=False,
            kept=None,
            held=held,
            next_allowed_at=next_at,
            note=f"held: a {held} is open; thank-yous wait until it is resolved "
            f"({book.quiet[held]})",
        )
    counted = next_at is None or instant >= next_at
    candidates = [
        c
        for c in open_commitments(ctx, customer, "thank_you")
        if c.made_at <= instant and (occasion is None or c.terms.get("occasion") == occasion)
    ]
    kept = None
    for c in candidates:
        kept = quietly(ctx, c, lambda c, now: _t.keep(c, now=now, kept_at=instant, actor=actor))
        if kept is not None:
            break
    touch, _ = record(
        ctx,
        log,
        customer=customer,
        channel=channel,
        kind="thank_you",
        at=instant,
        occasion=occasion,
        actor=actor,
        counted=counted,
        commitment_id=None if kept is None else kept.id,
    )
    after = book.next_thanks_at(instant if counted else last, calendar)
    note = (
        "counted toward the target"
        if counted
        else f"recorded, not counted: within the minimum spacing of the last one "
        f"(counts again from {next_at.isoformat() if next_at else 'now'})"
    )
    return ThankYou(
        customer=customer,
        touchpoint=touch,
        counted=counted,
        kept=kept,
        held=None,
        next_allowed_at=after,
        note=note,
    )


def owed_thanks(ctx: Context, limit: Any = None) -> list[OwedThanks]:
    """Every relationship below the playbook's thank-you target, by customer (one query).

    The target is the tracker's playbook's; each customer's spacing is their
    own playbook's.
    """
    log = log_of(ctx, "owed_thanks")
    target = ctx.playbook.thank_you_target
    if target == 0:
        return []
    rows = log.thanks_by_customer(ctx.tenant, below=target, limit=limit)
    out = []
    for customer, counted, last in rows:
        book = ctx.playbook_of(customer)
        if counted >= book.thank_you_target:
            continue
        out.append(
            OwedThanks(
                customer=customer,
                counted=counted,
                owed=book.thank_you_target - counted,
                last_at=last,
                next_allowed_at=book.next_thanks_at(last, ctx.calendar_of(customer)),
            )
        )
    return out


# --------------------------------------------------------------------------- touchpoints


def touchpoints(ctx: Context, customer: Any, *, kind: Any = None) -> list[Touchpoint]:
    """The customer's touchpoints in order (``(at, id)``)."""
    log = log_of(ctx, "touchpoints")
    return log.touchpoints(
        ctx.tenant, customer=check_identifier(customer, "customer"), kind=optional(kind, "kind")
    )


def touched(
    ctx: Context,
    customer: Any,
    *,
    kind: Any = "contact",
    channel: Any,
    at: Any = None,
    actor: Any = None,
    ref: Any = None,
    occasion: Any = None,
    data: Any = None,
) -> Touched:
    """Record a touchpoint; a follow-up keeps the oldest open follow-up, a contact a keep-in-touch.

    Raises:
        InvalidArgumentError: a kind with its own method (``"thank_you"``:
            use ``thank()``), or another bad argument (nothing is written).
    """
    log = log_of(ctx, "touched")
    customer = check_identifier(customer, "customer")
    kind = check_identifier(kind, "kind")
    if kind in _OWN_METHOD:
        raise InvalidArgumentError(
            f"a {kind!r} touchpoint is recorded by {_OWN_METHOD[kind]}",
            argument="kind",
            fix=f"call tracker.{_OWN_METHOD[kind]}",
        )
    book = ctx.playbook_of(customer)
    channel = book.check_channel(channel)
    actor = optional(actor, "actor")
    occasion = optional(occasion, "occasion")
    ref = None if ref is None else check_ref(ref)
    instant = when(at, ctx.now())
    probe = Touchpoint(  # every field checked before anything is written
        id="probe",
        tenant=ctx.tenant,
        customer=customer,
        channel=channel,
        kind=kind,
        at=instant,
        data=data,
    )
    if ref is not None:
        found = by_ref(ctx, log, kind, ref, named=True)
        if found is not None:
            return _repeat_touch(found, customer)
    keeps = _KEEPS.get(kind)
    candidates = [] if keeps is None else open_commitments(ctx, customer, keeps)
    candidates = [c for c in candidates if c.made_at <= instant]

    def keep(c: Commitment, now: _dt.datetime) -> _t.Change:
        return _t.keep(c, now=now, kept_at=instant, actor=actor)

    fields: dict[str, Any] = {
        "customer": customer,
        "channel": channel,
        "kind": kind,
        "at": instant,
        "occasion": occasion,
        "actor": actor,
        "ref": ref,
        "data": probe.data,
    }
    touch, created, kept = keep_and_record(
        ctx,
        log,
        candidates,  # the oldest one it may keep
        keep,
        lambda kept: {**fields, "commitment_id": kept[0].id if kept else None},
        first_only=True,
    )
    if created:
        return Touched(touchpoint=touch, kept=kept[0] if kept else None)
    return _repeat_touch((touch, None), customer, ctx)


def _repeat_touch(
    found: tuple[Touchpoint, Commitment | None], customer: str, read: Context | None = None
) -> Touched:
    """The first call's result; ``read``: the commitment is still to be read (in that context)."""
    seen, kept = found
    if seen.customer != customer:
        raise ConflictError(
            f"ref {seen.ref!r} was recorded for customer {seen.customer!r}", argument="ref"
        )
    if read is not None and seen.commitment_id is not None:
        kept = read.store.get(read.tenant, seen.commitment_id)
    return Touched(
        touchpoint=seen, kept=None if seen.commitment_id is None else named_by(seen, kept)
    )


def followed_up(
    ctx: Context,
    customer: Any,
    *,
    channel: Any,
    at: Any = None,
    actor: Any = None,
    ref: Any = None,
    data: Any = None,
) -> Touched:
    """Record a follow-up touchpoint and keep the customer's oldest open follow-up."""
    return touched(
        ctx, customer, kind="follow_up", channel=channel, at=at, actor=actor, ref=ref, data=data
    )


# --------------------------------------------------------------------------- keeping in touch


def keep_in_touch(ctx: Context, *, at: Any = None, limit: Any = None) -> list[Commitment]:
    """Open a keep-in-touch commitment for each customer silent past the longest silence.

    One per customer and silence: the commitment's ``external_ref`` names the
    customer's last touchpoint, so calling again opens nothing new until the
    customer is touched and falls silent again.  Returns the ones opened now.
    """
    log = log_of(ctx, "keep_in_touch")
    book = ctx.playbook
    instant = when(at, ctx.now())
    if book.longest_silence is None or book.keep_in_touch is None:
        return []
    opened: list[Commitment] = []
    for customer in log.silent_customers(
        ctx.tenant, quiet_since=instant - book.longest_silence, limit=limit
    ):
        history = log.touchpoints(ctx.tenant, customer=customer)
        if not history:  # pragma: no cover - a silent customer has a touchpoint
            continue
        last = history[-1]
        own = ctx.playbook_of(customer)
        rule = own.keep_in_touch or book.keep_in_touch
        c = build(
            ctx,
            own,
            rule,
            customer=customer,
            occasion="keep_in_touch",
            at=instant,
            external_ref=f"keep_in_touch:{last.id}",
            silent_since=last.at.isoformat(),
        )
        stored, created = ctx.store.add(c)
        if created:
            opened.append(stored)
    return opened


# --------------------------------------------------------------------------- the extra mile


def _a_year_before(instant: _dt.datetime, zone: Any) -> _dt.datetime:
    local = instant.astimezone(zone)
    try:
        earlier = local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        earlier = local.replace(year=local.year - 1, day=28)
    return to_utc(earlier.astimezone(_dt.UTC), "at")


def extra_mile(
    ctx: Context, *, period: Any = "month", at: Any = None, actor: Any = None
) -> ExtraMile | None:
    """This period's extra-mile pick, and its commitment (``None``: nobody is eligible).

    The pick is recorded as a touchpoint of kind ``"extra_mile"`` with ref
    ``"extra_mile:<period key>"``, unique in the tenant: concurrent callers
    all get the first pick, and the commitment, opened under the same
    ``external_ref``, is opened once.
    """
    log = log_of(ctx, "extra_mile")
    book = ctx.playbook
    if not isinstance(period, str):
        raise InvalidArgumentError(f"must be a str, not {type(period).__name__}", argument="period")
    actor = optional(actor, "actor")
    instant = when(at, ctx.now())
    key = period_key(period, instant, ctx.calendar)
    rule = book.extra_mile
    if rule is None:
        raise KeepwordError(
            f"the playbook {book.name!r} has no extra_mile rule",
            argument="playbook",
            fix="set Playbook(extra_mile=CareRule(...))",
        )
    ref = f"extra_mile:{key}"
    touch = log.touchpoint_by_ref(ctx.tenant, "extra_mile", ref)
    if touch is None:
        candidate = log.extra_mile_candidate(
            ctx.tenant,
            eligible_since=_a_year_before(instant, ctx.calendar.zone),
            seed=f"{ctx.tenant}:{key}",
        )
        if candidate is None:
            return None
        touch, _ = record(
            ctx,
            log,
            customer=candidate,
            channel=rule.channel or "gesture",
            kind="extra_mile",
            at=instant,
            actor=actor,
            ref=ref,
            data={"period": period, "key": key},
        )
    c = build(
        ctx,
        book,
        rule,
        customer=touch.customer,
        occasion="extra_mile",
        at=touch.at,
        external_ref=ref,
        actor=actor,
        period=key,
    )
    stored, _ = ctx.store.add(c)
    return ExtraMile(period=key, customer=touch.customer, commitment=stored, touchpoint=touch)
