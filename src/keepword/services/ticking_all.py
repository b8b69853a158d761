"""Ticking every tenant of a store with a few workers: :class:`Ticker`.

A SaaS host with thousands of tenants must not run a worker per tenant.  A
:class:`Ticker` claims due work across tenants in due order
(:meth:`keepword.ports.TickQueueAllTenants.claim_due_any`), decides each
commitment with the pure :func:`keepword.transitions.escalate` from its own
frozen calendar and policy snapshot, and writes each batch's results
(:meth:`~keepword.ports.TickQueueAllTenants.fire_many_any`), each commitment
under its own tenant.  Exactly once as :meth:`keepword.Tracker.tick`: a
notice's idempotency key is unique per tenant, and a commitment whose write
lost a race is counted in ``conflicts`` and picked up by the next tick.

Work is taken in due order whatever its tenant, so a tenant with a flood of
due work delays another tenant's step by at most the flood that fell due
before it, never by the flood that fell due after.
"""

from __future__ import annotations

import datetime as _dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, cast

from keepword._instant import to_utc
from keepword._validate import check_positive
from keepword.calendar import BusinessCalendar
from keepword.clock import Clock
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.escalation import EscalationPolicy, PolicySet
from keepword.ports import Fire, TickQueueAllTenants, require_port
from keepword.services import ticking
from keepword.services._context import Context

__all__ = ["Ticker"]

_CONTEXTS = 4096
"""How many tenants' contexts a ticker keeps (least recently used dropped)."""


class Ticker:
    """Fire every tenant's due escalation steps, in due order, exactly once.

    Args:
        store: a store with the tick queue and
            :class:`~keepword.ports.TickQueueAllTenants` (``MemoryStore``,
            ``SqlStore``).
        calendar: the default calendar of each tenant's context (a tick
            fires from each commitment's own calendar snapshot; this one is
            only the context's default).
        policies: each tenant's policies (a tick fires from each
            commitment's own policy snapshot).
        calendar_for: optionally ``tenant -> BusinessCalendar | None``: a
            tenant's default calendar.
        clock: where "now" comes from (default: the system clock).
        late_after: how late a step may fire before it is flagged late.
        lease: how long a claim holds.

    >>> import datetime as dt
    >>> from keepword import BusinessCalendar, FrozenClock, MemoryStore, Tracker, within
    >>> from keepword import EscalationPolicy, Step, at_due
    >>> store, clock = MemoryStore(), FrozenClock(dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC))
    >>> policy = EscalationPolicy("p", steps=[Step(at_due(), notify="manager")])
    >>> for tenant in ("shop-1", "shop-2"):
    ...     t = Tracker(store, calendar=BusinessCalendar(tz="UTC"), tenant=tenant, clock=clock,
    ...                 policies=policy)
    ...     _ = t.promise(customer="c", owner="o", kind="reply", what="Reply",
    ...                   due=within(hours=1))
    >>> report = Ticker(store, clock=clock).tick(clock.advance(hours=2))
    >>> sorted(n.tenant for n in report.notices)
    ['shop-1', 'shop-2']
    """

    def __init__(
        self,
        store: Any,
        *,
        calendar: BusinessCalendar | None = None,
        policies: PolicySet | Sequence[EscalationPolicy] | EscalationPolicy | None = None,
        calendar_for: Callable[[str], BusinessCalendar | None] | None = None,
        clock: Clock | None = None,
        late_after: _dt.timedelta = _dt.timedelta(minutes=5),
        lease: _dt.timedelta = _dt.timedelta(seconds=60),
    ):
        base = Context(
            store=store,
            calendar=calendar if calendar is not None else BusinessCalendar(tz="UTC"),
            clock=clock,
            policies=policies,
            late_after=late_after,
            lease=lease,
        )
        require_port(base.store, "tick_queue", "Ticker")
        if not isinstance(base.store, TickQueueAllTenants):
            raise InvalidArgumentError(
                f"{type(store).__name__} cannot claim due work across tenants",
                argument="store",
                fix="use a store with claim_due_any (MemoryStore, SqlStore), "
                "or tick each tenant with Tracker.tick",
            )
        if calendar_for is not None and not callable(calendar_for):
            raise InvalidArgumentError("must be callable or None", argument="calendar_for")
        self._base = base
        self._queue = cast(TickQueueAllTenants, base.store)
        self._calendar_for = calendar_for
        self._contexts: OrderedDict[str, Context] = OrderedDict()

    def __repr__(self) -> str:
        return f"Ticker(store={self._base.store!r})"

    @property
    def worker(self) -> str:
        """This process's worker id for claims."""
        return self._base.worker

    def now(self) -> _dt.datetime:
        """The current instant per the clock, in UTC."""
        return self._base.now()

    def context(self, tenant: str) -> Context:
        """The context ``tenant``'s commitments are handled in (kept for reuse)."""
        ctx = self._contexts.get(tenant)
        if ctx is not None:
            self._contexts.move_to_end(tenant)
            return ctx
        calendar = self._calendar_for(tenant) if self._calendar_for is not None else None
        ctx = Context(
            store=self._base.store,
            calendar=calendar if calendar is not None else self._base.calendar,
            tenant=tenant,
            clock=self._base.clock,
            policies=self._base.policies,
            late_after=self._base.late_after,
            lease=self._base.lease,
        )
        self._contexts[tenant] = ctx
        if len(self._contexts) > _CONTEXTS:
            self._contexts.popitem(last=False)
        return ctx

    def tick(self, now: _dt.datetime | None = None, *, limit: int = 500) -> ticking.TickReport:
        """Fire every tenant's due steps at ``now``, for up to ``limit`` commitments.

        Args:
            now: the tick's instant (default: the clock's).
            limit: at most this many commitments this call (``> 0``); the
                report's ``more`` says whether due work remains.

        Returns:
            A :class:`~keepword.services.ticking.TickReport` over every
            tenant (each notice carries its tenant).
        """
        at = self.now() if now is None else to_utc(now, "now")
        limit = check_positive(limit, "limit")
        base, queue = self._base, self._queue
        tally = ticking._Tally()
        while tally.processed < limit:
            token, claimed = queue.claim_due_any(
                at,
                limit=min(limit - tally.processed, ticking.BATCH),
                lease=base.lease,
                worker=base.worker,
            )
            fresh = [c for c in claimed if c.id not in tally.seen]
            seen_again = [c for c in claimed if c.id in tally.seen]
            self._release(seen_again, token)
            if not fresh:
                break
            self._fire(at, fresh, token, tally)
        more = False
        if tally.processed >= limit:
            wake = queue.next_action_at_any()
            more = wake is not None and wake <= at
        return ticking.TickReport(
            at=at,
            notices=tuple(tally.notices),
            commitments=tally.processed,
            breaches=tally.breaches,
            conflicts=tally.conflicts,
            more=more,
            set_aside=tally.set_aside,
            errors=tally.errors,
        )

    def next_wakeup(self) -> _dt.datetime | None:
        """When the next step is due in any tenant (``None``: nothing scheduled)."""
        return self._queue.next_action_at_any()

    # ------------------------------------------------------------------ internals

    def _release(self, commitments: list[Commitment], token: str) -> None:
        by_tenant: dict[str, list[str]] = {}
        for c in commitments:
            by_tenant.setdefault(c.tenant, []).append(c.id)
        for tenant, ids in by_tenant.items():
            self._queue.release(tenant, ids, token)  # type: ignore[attr-defined]

    def _fire(
        self, at: _dt.datetime, batch: list[Commitment], token: str, tally: ticking._Tally
    ) -> None:
        """Escalate one claimed batch, write what fired, release the rest."""
        idle, fires, breached = ticking.escalate_batch(batch, at, self._base.late_after, tally)
        outcomes = self._write(fires, token)
        claimed = {c.id: c for c in batch}
        for fire, outcome, breaches in zip(fires, outcomes, breached, strict=True):
            if isinstance(outcome, Commitment):
                tally.breaches += breaches
                tally.notices.extend(fire.notices)
            elif isinstance(outcome, ticking._Unwritable):
                c = claimed[fire.commitment.id]
                ctx = self.context(c.tenant)
                ticking._set_aside(ctx, ctx.tick_queue("tick"), at, c, outcome.error, token, tally)
            else:
                tally.conflicts += 1
                idle.append(claimed[fire.commitment.id])
        self._release(idle, token)

    def _write(self, fires: list[Fire], token: str) -> list[object]:
        """Write ``fires`` together; on a failure, tenant by tenant to isolate the bad one."""
        if not fires:
            return []
        try:
            return list(self._queue.fire_many_any(fires, token=token))
        except ConflictError:
            pass  # e.g. a reused notice id: judge tenant by tenant
        except Exception:  # the isolation boundary, as Tracker.tick's
            pass
        outcomes: dict[str, object] = {}
        groups: dict[str, list[Fire]] = {}
        for fire in fires:
            groups.setdefault(fire.commitment.tenant, []).append(fire)
        for tenant, mine in groups.items():
            queue = self.context(tenant).tick_queue("tick")
            for fire, outcome in zip(mine, ticking._write(queue, tenant, mine, token), strict=True):
                outcomes[fire.commitment.id] = outcome
        return [outcomes[f.commitment.id] for f in fires]
