"""Keeping: every change to a stored commitment (keep, fail, pause, renegotiate, ...).

:func:`change` loads, decides with a pure transition, and writes with the
version it read.  Given the commitment object, its version is the one
expected in the store, so a stale object raises
:class:`~keepword.errors.ConflictError` and writes nothing.  Given an id, the
current state is loaded and the decision retried (afresh, so an illegal move
still raises :class:`~keepword.errors.InvalidTransitionError`) up to
:data:`MAX_RETRIES` times after a lost race.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from keepword.commitment import Commitment
from keepword.errors import ConflictError
from keepword.services._context import CommitmentOrId, Context
from keepword.transitions import Change

__all__ = ["MAX_RETRIES", "Decide", "change"]

MAX_RETRIES = 3
"""How many times a change addressed by id is retried after a lost race."""

Decide = Callable[[Commitment, _dt.datetime], Change]
"""A pure transition with its arguments bound: ``(commitment, now) -> (new, events)``."""


def change(ctx: Context, commitment: CommitmentOrId, decide: Decide) -> Commitment:
    """Apply ``decide`` to the stored commitment and write the result, if it changed anything.

    Returns:
        The stored commitment: the new state, or the current one unchanged
        when ``decide`` emitted no event (nothing is written then).

    Raises:
        ConflictError: a stale commitment object, or more than
            :data:`MAX_RETRIES` lost races for an id.
        NotFoundError: no such commitment in the tenant.
    """
    if isinstance(commitment, Commitment):
        ctx.check_tenant(commitment)
        return _write(ctx, commitment, decide)
    id = ctx.id_of(commitment)
    for attempt in range(MAX_RETRIES + 1):
        try:
            return _write(ctx, ctx.store.get(ctx.tenant, id), decide)
        except ConflictError:
            if attempt == MAX_RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _write(ctx: Context, current: Commitment, decide: Decide) -> Commitment:
    new, events = decide(current, ctx.now())
    if not events:
        return current
    return ctx.store.update(new, expected_version=current.version)
