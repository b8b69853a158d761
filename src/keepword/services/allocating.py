"""Allocating: serve a scarce resource first come, first served, and list who still waits.

:func:`allocate` checks its arguments, then asks the store's ``"waitlists"``
port to serve in turn (:meth:`keepword.ports.Waitlist.serve_in_turn`), which
holds the per-resource order under concurrency; a lost race with another
writer of one of the commitments is retried afresh up to
:data:`~keepword.services.keeping.MAX_RETRIES` times.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from keepword import fairness
from keepword._instant import to_utc
from keepword._validate import check_identifier, check_positive, check_text
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.fairness import WaitingEntry
from keepword.ports import Waitlist, require_port
from keepword.services._context import Context
from keepword.services.keeping import MAX_RETRIES

__all__ = ["allocate", "waitlist"]


def _waitlists(ctx: Context, action: str) -> Waitlist:
    require_port(ctx.store, "waitlists", action)
    return cast(Waitlist, ctx.store)


def allocate(
    ctx: Context,
    resource: Any,
    quantity: Any,
    *,
    at: Any = None,
    first: Iterable[Commitment | str] | None = None,
    reason: Any = None,
    actor: Any = None,
    partial: Any = False,
) -> list[Commitment]:
    """Serve ``quantity`` units of ``resource`` to who waits for it, in turn.

    Returns:
        The served commitments' new states, in the order served.

    Raises:
        InvalidArgumentError: a bad ``resource``, ``quantity``, ``first``
            (another tenant's commitment, one not waiting), ``partial``, or
            ``first`` without ``reason`` and ``actor``; nothing is written.
        NaiveDatetimeError: ``at`` is naive.
        MissingPortError: the store has no ``"waitlists"`` port.
    """
    fairness.check_resource(resource)
    fairness.check_quantity(quantity)
    when = ctx.now() if at is None else to_utc(at, "at")
    if not isinstance(partial, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(partial).__name__}", argument="partial"
        )
    if first is not None and not isinstance(first, (str, bytes, Commitment)):
        first = list(first)
        for item in first:
            if isinstance(item, Commitment):
                ctx.check_tenant(item)
    ids = fairness.check_first(first)
    if reason is not None:
        check_text(reason, "reason")
    if actor is not None:
        check_identifier(actor, "actor")
    if ids and (reason is None or not str(reason).strip()):
        raise InvalidArgumentError(
            "must say why these go first", argument="reason", fix="e.g. reason='medical need'"
        )
    if ids and actor is None:
        raise InvalidArgumentError("must name who approved the exception", argument="actor")
    store = _waitlists(ctx, "allocate")
    for attempt in range(MAX_RETRIES + 1):
        try:
            return store.serve_in_turn(
                ctx.tenant,
                resource,
                quantity=quantity,
                at=when,
                partial=partial,
                first=ids,
                reason=reason,
                actor=actor,
            )
        except ConflictError:
            if attempt == MAX_RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def waitlist(ctx: Context, resource: Any, *, limit: Any = None) -> list[WaitingEntry]:
    """Who still waits for ``resource``, in line order, each with its position (1 = next).

    Raises:
        InvalidArgumentError: a bad ``resource`` or ``limit``.
        MissingPortError: the store has no ``"waitlists"`` port.
    """
    fairness.check_resource(resource)
    if limit is not None:
        check_positive(limit, "limit")
    line = _waitlists(ctx, "waitlist").waiting(ctx.tenant, resource, limit=limit)
    out: list[WaitingEntry] = []
    for position, c in enumerate(line, start=1):
        state = fairness.queue_state(c)
        assert state is not None  # it waits for resource
        out.append(
            WaitingEntry(
                position=position,
                commitment=c,
                quantity=state.quantity,
                remaining=state.quantity - state.served,
            )
        )
    return out
