"""Replying: the reply owed for every message a customer sends.

:func:`received` records the message as a touchpoint and opens a reply
commitment (kind ``"reply"``, ``external_ref`` ``"reply:" + ref``) due by the
playbook's response target for the channel, counted in the customer's
business time from when the message arrived.  :func:`replied` keeps it and
every earlier open reply on the same thread; :func:`no_reply_needed` waives
it on the record.  An automated message (an out-of-office, a bounce, an
auto-reply) is recorded and owes, keeps, resumes and cancels nothing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._validate import check_identifier, check_text
from keepword.calendar import Within
from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.playbook import Playbook
from keepword.ports import Query
from keepword.services import keeping
from keepword.services._context import Context
from keepword.services.caring import (
    OPEN,
    by_ref,
    check_bool,
    check_ref,
    keep_and_record,
    last_pause_reason,
    log_of,
    named_by,
    open_commitments,
    optional,
    quietly,
    record,
    together,
    touchpoint,
    when,
)
from keepword.touchpoint import Touchpoint

__all__ = ["no_reply_needed", "received", "replied"]


def _reply_ref(ref: str) -> str:
    return f"reply:{ref}"


def _new_reply(
    ctx: Context,
    book: Playbook,
    *,
    customer: str,
    channel: str,
    ref: str,
    thread: str | None,
    at: _dt.datetime,
    spec: Within,
) -> Commitment:
    """The reply commitment owed for message ``ref`` (not stored)."""
    owner_rule = book.default_owner
    if owner_rule is None:
        raise InvalidArgumentError("the playbook has no default_owner", argument="owner")
    owner = owner_rule if isinstance(owner_rule, str) else owner_rule(customer, "reply")
    new, _ = _t.promise(
        id=new_id(ctx.now()),
        tenant=ctx.tenant,
        customer=customer,
        owner=check_identifier(owner, "owner"),
        kind="reply",
        what=book.reply_what.replace("{ref}", ref),
        now=at,
        calendar=ctx.calendar_of(customer),
        due=spec,
        external_ref=_reply_ref(ref),
        channel=channel,
        terms=book.stamp(ref=ref, thread=thread, target=spec.to_string()),
        policy=ctx.policy_of(customer, kind="reply", tags=(), priority=0),
    )
    return new


def _open_reply(ctx: Context, new: Commitment, customer: str, ref: str) -> Commitment:
    """Store the reply ``new`` (the stored one for a known ref), owed to ``customer``."""
    stored, _ = ctx.store.add(new)  # a known external_ref gives the stored one
    if stored.customer != customer:
        raise ConflictError(
            f"message {ref!r} was received from customer {stored.customer!r}",
            argument="ref",
            fix="message refs are unique per tenant; use the message's own id",
        )
    return stored


def _check_same(seen: Touchpoint, customer: str) -> None:
    if seen.customer != customer:
        raise ConflictError(
            f"message {seen.ref!r} was received from customer {seen.customer!r}",
            argument="ref",
            fix="message refs are unique per tenant; use the message's own id",
        )


def received(
    ctx: Context,
    customer: Any,
    *,
    channel: Any,
    ref: Any,
    thread: Any = None,
    at: Any = None,
    automated: Any = False,
) -> Commitment | None:
    """Record a message from ``customer`` and open the reply it is owed.

    Returns:
        The reply commitment (the same one for a repeated ``ref``), or
        ``None`` for an automated message.

    Raises:
        InvalidArgumentError: a bad argument, naming it (nothing is written).
        ConflictError: ``ref`` was received from another customer.
    """
    log = log_of(ctx, "received")
    customer = check_identifier(customer, "customer")
    book = ctx.playbook_of(customer)
    channel = book.check_channel(channel)
    ref = check_ref(ref)
    thread = optional(thread, "thread")
    automated = check_bool(automated, "automated")
    instant = when(at, ctx.now())
    spec = book.response_target(channel)
    fields: dict[str, Any] = {
        "customer": customer,
        "channel": channel,
        "kind": "received",
        "at": instant,
        "ref": ref,
        "thread": thread,
        "automated": automated,
    }
    if automated:  # owes nothing: the touchpoint alone (a known ref gives the stored one)
        touch, created = record(ctx, log, **fields)
        return None if created else _again(ctx, book, touch, customer, spec)
    waiting = _waiting(ctx, book, customer)  # read first: the reply opened below is not among them
    atomic = together(log)

    def build() -> Commitment:
        return _new_reply(
            ctx,
            book,
            customer=customer,
            channel=channel,
            ref=ref,
            thread=thread,
            at=instant,
            spec=spec,
        )

    if atomic is not None:  # the message and its reply in one transaction
        reply = build()
        try:
            touch, created = atomic.add_touchpoint_with(
                touchpoint(ctx, **fields, commitment_id=reply.id), add=[reply]
            )
        except ConflictError:  # a reply stored alone, or a race: the steps below sort it out
            pass
        else:
            if not created:
                return _again(ctx, book, touch, customer, spec)
            _customer_wrote(ctx, book, waiting, instant, ref)
            return reply
    seen = log.touchpoint_by_ref(ctx.tenant, "received", ref)
    if seen is not None:
        return _again(ctx, book, seen, customer, spec)
    reply = _open_reply(ctx, build(), customer, ref)
    touch, created = record(ctx, log, **fields, commitment_id=reply.id)
    if not created:
        return _again(ctx, book, touch, customer, spec)
    _customer_wrote(ctx, book, waiting, instant, ref)
    return reply  # what the customer's message changed is their other commitments


def _again(
    ctx: Context, book: Playbook, seen: Touchpoint, customer: str, spec: Within
) -> Commitment | None:
    """A repeated message: the reply it was first owed (opened now if a crash left none)."""
    _check_same(seen, customer)
    if seen.automated:
        return None
    new = _new_reply(
        ctx,
        book,
        customer=customer,
        channel=seen.channel,
        ref=seen.ref or "",
        thread=seen.thread,
        at=seen.at,
        spec=spec,
    )
    return _open_reply(ctx, new, customer, seen.ref or "")


def _waiting(ctx: Context, book: Playbook, customer: str) -> list[Commitment]:
    """The customer's open commitments a message of theirs may change (one read; none to read
    when the playbook has no rule for it)."""
    if not book.waiting_reasons and not book.cancel_follow_ups_on_message:
        return []
    query = Query(customer=customer, statuses=OPEN, order="made_at")
    return ctx.store.find(ctx.tenant, query)  # one read for both rules


def _customer_wrote(
    ctx: Context,
    book: Playbook,
    waiting: list[Commitment],
    at: _dt.datetime,
    ref: str,
) -> None:
    """Resume what waits on the customer; cancel pending follow-ups if the playbook says so."""
    why = f"the customer wrote first (message {ref})"
    for c in waiting:
        if c.status is Status.PAUSED and last_pause_reason(c) in book.waiting_reasons:
            quietly(ctx, c, lambda c, now: _t.resume(c, now=now))
        elif book.cancel_follow_ups_on_message and c.kind == "follow_up" and c.made_at <= at:
            quietly(ctx, c, lambda c, now: _t.cancel(c, now=now, reason=why))


def _message(
    ctx: Context, ref: Any, *, named: bool = False
) -> tuple[Touchpoint, Commitment | None]:
    """Message ``ref`` and (``named``) the reply it opened, in one read where the store can."""
    log = log_of(ctx, "replied")
    found = by_ref(ctx, log, "received", check_ref(ref), named=named)
    if found is None:
        raise NotFoundError("message", ref, argument="ref")
    return found


def replied(
    ctx: Context,
    ref: Any,
    *,
    automated: Any = False,
    at: Any = None,
    actor: Any = None,
) -> list[Commitment]:
    """Record a reply to message ``ref``; a person's reply keeps what the thread owes.

    Keeps the reply owed for the message and every open one received earlier
    on the same thread (no thread: the message alone).  An automated reply is
    recorded and keeps nothing.

    Returns:
        The commitments this call kept (none for an automated reply, or for a
        repeated call).

    Raises:
        NotFoundError: no message ``ref`` was received (naming ``ref``).
        InvalidArgumentError: ``at`` is before the message arrived, or another
            bad argument (nothing is written).
    """
    message, own = _message(ctx, ref, named=automated is False)
    automated = check_bool(automated, "automated")
    actor = optional(actor, "actor")
    instant = when(at, ctx.now())
    if instant < message.at:
        raise InvalidArgumentError(
            f"must not be before the message arrived ({message.at.isoformat()})", argument="at"
        )
    log = log_of(ctx, "replied")
    owed: list[Commitment] = []
    if not automated:
        if message.thread is None:  # the message alone: its own reply, by id
            mine = [] if message.commitment_id is None else [named_by(message, own)]
        else:
            mine = open_commitments(ctx, message.customer, "reply")
        owed = [
            c
            for c in mine
            if c.status in OPEN
            and (
                c.external_ref == _reply_ref(message.ref or "")
                or (
                    message.thread is not None
                    and c.terms.get("thread") == message.thread
                    and c.made_at <= message.at
                )
            )
        ]

    def keep(c: Commitment, now: _dt.datetime) -> _t.Change:
        return _t.keep(c, now=now, kept_at=instant, actor=actor)

    fields: dict[str, Any] = {
        "customer": message.customer,
        "channel": message.channel,
        "kind": "reply",
        "at": instant,
        "actor": actor,
        "automated": automated,
        "ref": ("auto:" if automated else "") + (message.ref or ""),
        "thread": message.thread,
        "commitment_id": message.commitment_id,
    }
    _, _, kept = keep_and_record(
        ctx, log, owed, keep, lambda kept: {**fields, "data": {"kept": [c.id for c in kept]}}
    )
    return kept


def no_reply_needed(ctx: Context, ref: Any, *, reason: Any, actor: Any) -> Commitment:
    """Close the reply owed for message ``ref`` as waived, on the record.

    The reply is cancelled with ``{"reason": reason, "waived": true}`` in its
    history: left out of response-time figures, and listed by actor in audits.

    Raises:
        NotFoundError: no message ``ref``, or it owes no reply (automated).
        InvalidArgumentError: no reason or no actor (naming it).
        InvalidTransitionError: the reply is already kept or closed.
    """
    message, _ = _message(ctx, ref)
    why = check_text(reason, "reason")
    if not why.strip():
        raise InvalidArgumentError("must say why no reply is needed", argument="reason")
    who = check_identifier(actor, "actor")
    owed = ctx.store.get_by_ref(ctx.tenant, _reply_ref(message.ref or ""))
    if owed is None:
        raise NotFoundError("reply owed for message", message.ref or "", argument="ref")
    return keeping.change(
        ctx, owed, lambda c, now: _t.cancel(c, now=now, reason=why, actor=who, waived=True)
    )
