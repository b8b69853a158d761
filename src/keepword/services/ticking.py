"""Ticking: fire every escalation step whose time has come, in order, exactly once.

One tick claims due commitments in batches (other workers skip them),
decides each with the pure :func:`keepword.transitions.escalate`, writes each
batch's results with their notices in one transaction, and releases what it
did not fire.  A notice's idempotency key is unique in the store, so ticking
twice, from many processes, or again after a crash never writes a notice
twice.

A commitment whose result cannot be written (a store that refuses a value the
checks at the edge let through, say a policy stored by an older version) is
isolated: the batch is written again one commitment at a time, and the one
that still fails is set aside (:func:`keepword.transitions.set_aside`): an
event in its history, no further ticks until its deadline changes, and one
``"tick_error"`` notice for the host.  The rest of the batch fires.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.commitment import Commitment
from keepword.errors import ConflictError
from keepword.notice import Notice
from keepword.ports import Fire, TickQueue
from keepword.services._context import Context

__all__ = ["BATCH", "TickReport", "next_wakeup", "tick"]

BATCH = 100
"""How many commitments one claim takes at most."""


@attrs.frozen(kw_only=True)
class TickReport:
    """What one :meth:`Tracker.tick` did.

    Attributes:
        at: the tick's instant.
        notices: the notices it wrote, in the order they fired.
        commitments: how many due commitments it looked at.
        breaches: how many deadlines it recorded as broken.
        conflicts: how many writes lost a race (the next tick retries them).
        more: due work remains (``limit`` was reached): tick again.
        set_aside: how many commitments were set aside because their result
            could not be written (each also has a ``"tick_error"`` notice in
            ``notices``).
        errors: how many could not even be set aside (left claimed until
            their lease runs out; never a hot loop).
    """

    at: _dt.datetime
    notices: tuple[Notice, ...]
    commitments: int
    breaches: int
    conflicts: int
    more: bool
    set_aside: int = 0
    errors: int = 0

    @property
    def fired(self) -> int:
        """How many notices this tick wrote."""
        return len(self.notices)

    @property
    def late(self) -> int:
        """How many notices fired late (missed ticks catching up)."""
        return sum(1 for n in self.notices if n.late)


@attrs.define
class _Tally:
    """What a tick has done so far."""

    notices: list[Notice] = attrs.Factory(list)
    processed: int = 0
    breaches: int = 0
    conflicts: int = 0
    set_aside: int = 0
    errors: int = 0
    seen: set[str] = attrs.Factory(set)


def tick(ctx: Context, at: _dt.datetime, limit: int) -> TickReport:
    """Fire what is due at ``at`` for up to ``limit`` commitments (see the module docstring).

    Raises:
        MissingPortError: the store has no tick queue.
    """
    queue = ctx.tick_queue("tick")
    tally = _Tally()
    while tally.processed < limit:
        token, claimed = queue.claim_due(
            ctx.tenant,
            at,
            limit=min(limit - tally.processed, BATCH),
            lease=ctx.lease,
            worker=ctx.worker,
        )
        fresh = [c for c in claimed if c.id not in tally.seen]
        if not fresh:
            if claimed:
                queue.release(ctx.tenant, [c.id for c in claimed], token)
            break
        _fire_batch(ctx, queue, at, fresh, token, tally)
    more = False
    if tally.processed >= limit:  # stopped at the limit: is due work left?
        wake = queue.next_action_at(ctx.tenant)
        more = wake is not None and wake <= at
    return TickReport(
        at=at,
        notices=tuple(tally.notices),
        commitments=tally.processed,
        breaches=tally.breaches,
        conflicts=tally.conflicts,
        more=more,
        set_aside=tally.set_aside,
        errors=tally.errors,
    )


def escalate_batch(
    batch: list[Commitment], at: _dt.datetime, late_after: _dt.timedelta, tally: _Tally
) -> tuple[list[Commitment], list[Fire], list[int]]:
    """Escalate each claimed commitment of ``batch`` at ``at``, counting it in ``tally``.

    Returns ``(idle, fires, breaches)``: the commitments with nothing due,
    one :class:`Fire` per commitment that changed, and per fire how many
    breaches it records.  Nothing is written: the tenant's tick and the
    cross-tenant :class:`~keepword.services.ticking_all.Ticker` both write
    what this decides.
    """
    idle: list[Commitment] = []
    fires: list[Fire] = []
    breached: list[int] = []
    for c in batch:
        tally.seen.add(c.id)
        tally.processed += 1
        new, events, notices = _t.escalate(
            c, now=at, new_id=lambda: new_id(at), late_after=late_after
        )
        if not events:
            idle.append(c)
            continue
        fires.append(Fire(new, c.version, notices))
        breached.append(sum(1 for e in events if e.kind == "breached"))
    return idle, fires, breached


def _fire_batch(
    ctx: Context,
    queue: TickQueue,
    at: _dt.datetime,
    batch: list[Commitment],
    token: str,
    tally: _Tally,
) -> None:
    """Escalate one claimed batch, write what fired, release the rest."""
    quiet, fires, breached = escalate_batch(batch, at, ctx.late_after, tally)
    idle = [c.id for c in quiet]
    outcomes = _write(queue, ctx.tenant, fires, token)
    for fire, outcome, breaches in zip(fires, outcomes, breached, strict=True):
        if isinstance(outcome, Commitment):
            tally.breaches += breaches
            tally.notices.extend(fire.notices)
        elif isinstance(outcome, _Unwritable):
            claimed = next(c for c in batch if c.id == fire.commitment.id)
            _set_aside(ctx, queue, at, claimed, outcome.error, token, tally)
        else:  # the version moved on or another worker took the claim
            tally.conflicts += 1
            idle.append(fire.commitment.id)
    if idle:
        queue.release(ctx.tenant, idle, token)


@attrs.frozen
class _Unwritable:
    """A fire the store could not write even alone, and why."""

    error: BaseException


def _write(queue: TickQueue, tenant: str, fires: list[Fire], token: str) -> list[object]:
    """Write ``fires``: all together, else one by one to find what cannot be written.

    Each entry is the stored commitment, ``None`` for a lost race, or an
    :class:`_Unwritable` for a fire the store refused alone.
    """
    try:
        return list(queue.fire_many(tenant, fires, token=token))
    except ConflictError:  # e.g. a reused notice id: the whole batch wrote nothing
        return [None] * len(fires)
    except Exception as exc:  # the isolation boundary: find what cannot be written
        if len(fires) == 1:
            return [_Unwritable(exc)]
    return [outcome for fire in fires for outcome in _write(queue, tenant, [fire], token)]


def _set_aside(
    ctx: Context,
    queue: TickQueue,
    at: _dt.datetime,
    claimed: Commitment,
    error: BaseException,
    token: str,
    tally: _Tally,
) -> None:
    """Record that ``claimed`` was set aside, with its notice for the host, or count an error."""
    new, _, notices = _t.set_aside(claimed, now=at, error=error, new_id=lambda: new_id(at))
    try:
        (outcome,) = queue.fire_many(ctx.tenant, [Fire(new, claimed.version, notices)], token=token)
    except Exception:  # not even that can be written: the lease will run out, no hot loop
        tally.errors += 1
        return
    if isinstance(outcome, Commitment):
        tally.set_aside += 1
        tally.notices.extend(notices)
    else:
        tally.conflicts += 1


def next_wakeup(ctx: Context) -> _dt.datetime | None:
    """When the next step is due anywhere in the tenant (``None``: nothing scheduled)."""
    return ctx.tick_queue("next_wakeup").next_action_at(ctx.tenant)
