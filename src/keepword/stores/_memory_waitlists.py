"""The ``"waitlists"`` port of :class:`~keepword.stores.memory.MemoryStore`.

Written to be obviously right (the reference every other store is compared
to), not fast: the line is the tenant's commitments sorted by
``(made_at, id)``, and the audit's questions are walks over them, under the
store's one lock (which is also what makes an allocation atomic and
serialized).
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from keepword import fairness
from keepword._instant import to_utc
from keepword._validate import check_count, check_identifier, check_positive
from keepword.commitment import Commitment, Event
from keepword.errors import InvalidArgumentError
from keepword.fairness import OutOfTurn, PauseRecord, Renegotiations, WaiverRecord
from keepword.transitions import serve

__all__ = ["MemoryWaitlists", "check_serve_args"]


def check_serve_args(
    tenant: Any,
    resource: Any,
    quantity: Any,
    at: Any,
    partial: Any,
    first: Any,
    reason: Any,
    actor: Any,
) -> tuple[str, str, int, _dt.datetime, bool, tuple[str, ...]]:
    """The checked arguments of ``serve_in_turn`` (shared by the stores).

    Raises:
        InvalidArgumentError: naming the first bad argument.
        NaiveDatetimeError: ``at`` is naive.
    """
    check_identifier(tenant, "tenant")
    fairness.check_resource(resource)
    fairness.check_quantity(quantity)
    when = to_utc(at, "at")
    if not isinstance(partial, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(partial).__name__}", argument="partial"
        )
    ids = fairness.check_first(first)
    if ids:
        if reason is None or not isinstance(reason, str) or not reason.strip():
            raise InvalidArgumentError("an approved exception needs a reason", argument="reason")
        if actor is None:
            raise InvalidArgumentError("an approved exception needs an actor", argument="actor")
    if actor is not None:
        check_identifier(actor, "actor")
    return tenant, resource, quantity, when, partial, ids


def serve_plan(
    waiting: Iterator[Commitment],
    first: Sequence[Commitment],
    resource: str,
    quantity: int,
    at: _dt.datetime,
    partial: bool,
    reason: str | None,
    actor: str | None,
) -> list[tuple[Commitment, Commitment]]:
    """``(stored, served)`` pairs for one allocation: the plan, each share applied by ``serve``."""
    shares, _left = fairness.plan_allocation(waiting, quantity, partial=partial, first=first)
    out: list[tuple[Commitment, Commitment]] = []
    for share in shares:
        new, _events = serve(
            share.commitment,
            now=at,
            resource=resource,
            quantity=share.units,
            partial=partial,
            ahead=share.ahead,
            reason=reason if share.ahead else None,
            actor=actor,
        )
        out.append((share.commitment, new))
    return out


def check_first_waiting(
    tenant: str, resource: str, ids: Sequence[str], get: Callable[[str], Commitment | None]
) -> list[Commitment]:
    """The commitments ``ids`` (approved exceptions), each found and waiting for ``resource``."""
    out: list[Commitment] = []
    for id in ids:
        c = get(id)
        if c is None or c.tenant != tenant:
            raise InvalidArgumentError(
                f"commitment {id!r} is not one of tenant {tenant!r}'s", argument="first"
            )
        if not fairness.is_waiting(c, resource):
            raise InvalidArgumentError(
                f"commitment {id!r} is not waiting for {resource!r}", argument="first"
            )
        out.append(c)
    return out


def _in(at: _dt.datetime, since: _dt.datetime | None, until: _dt.datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


class MemoryWaitlists:
    """Waitlists over the store's commitments (a mixin of ``MemoryStore``)."""

    _lock: threading.RLock
    _rows: dict[str, dict[str, Commitment]]

    def _put(self, new: Commitment) -> None:  # pragma: no cover - MemoryStore's
        raise NotImplementedError

    def _init_waitlists(self) -> None:
        # (tenant, resource) -> when its last allocation that served anyone ran
        self._last_served: dict[tuple[str, str], _dt.datetime] = {}

    def _tenant_rows(self, tenant: str) -> list[Commitment]:
        return list(self._rows.get(tenant, {}).values())

    def _line(self, tenant: str, resource: str) -> list[Commitment]:
        line = [c for c in self._tenant_rows(tenant) if fairness.is_waiting(c, resource)]
        line.sort(key=fairness.queue_key)
        return line

    def serve_in_turn(
        self,
        tenant: str,
        resource: str,
        *,
        quantity: int,
        at: _dt.datetime,
        partial: bool = False,
        first: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        """Serve units in turn under the store's lock.

        See :meth:`keepword.ports.Waitlist.serve_in_turn`.
        """
        tenant, resource, quantity, when, partial, ids = check_serve_args(
            tenant, resource, quantity, at, partial, first, reason, actor
        )
        with self._lock:
            last = self._last_served.get((tenant, resource))
            at = when if last is None or when >= last else last
            rows = self._rows.get(tenant, {})
            chosen = check_first_waiting(tenant, resource, ids, rows.get)
            plan = serve_plan(
                iter(self._line(tenant, resource)),
                chosen,
                resource,
                quantity,
                at,
                partial,
                reason,
                actor,
            )
            for _old, new in plan:
                self._put(new)
            if plan:
                self._last_served[(tenant, resource)] = at
            return [new for _old, new in plan]

    def waiting(self, tenant: str, resource: str, *, limit: int | None = None) -> list[Commitment]:
        """The line for ``resource``.  See :meth:`keepword.ports.Waitlist.waiting`."""
        check_identifier(tenant, "tenant")
        fairness.check_resource(resource)
        if limit is not None:
            check_positive(limit, "limit")
        with self._lock:
            line = self._line(tenant, resource)
        return line if limit is None else line[:limit]

    def served_out_of_turn(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[OutOfTurn]:
        """See :meth:`keepword.ports.Waitlist.served_out_of_turn`."""
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        with self._lock:
            rows = self._tenant_rows(tenant)
        return fairness.out_of_turn(rows, since=lo, until=hi)

    def _events(
        self, tenant: str, kind: str, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> list[tuple[Commitment, Event]]:
        with self._lock:
            rows = self._tenant_rows(tenant)
        found = [
            (c, e) for c in rows for e in c.history if e.kind == kind and _in(e.at, since, until)
        ]
        found.sort(key=lambda pair: (pair[1].at, pair[0].id, pair[1].seq))
        return found

    def renegotiated_more_than(
        self,
        tenant: str,
        n: int,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[Renegotiations]:
        """See :meth:`keepword.ports.Waitlist.renegotiated_more_than`."""
        check_identifier(tenant, "tenant")
        check_count(n, "n", 0)
        lo, hi = fairness.check_window(since, until)
        counts: dict[str, tuple[Commitment, int, _dt.datetime]] = {}
        for c, e in self._events(tenant, "renegotiated", lo, hi):
            _c, k, _last = counts.get(c.id, (c, 0, e.at))
            counts[c.id] = (c, k + 1, e.at)
        return [
            Renegotiations(commitment_id=id, customer=c.customer, count=k, last_at=last)
            for id, (c, k, last) in sorted(counts.items())
            if k > n
        ]

    def pauses(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[PauseRecord]:
        """See :meth:`keepword.ports.Waitlist.pauses`."""
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        return [
            PauseRecord(commitment_id=c.id, customer=c.customer, at=e.at, actor=e.actor)
            for c, e in self._events(tenant, "paused", lo, hi)
        ]

    def waived_replies(
        self,
        tenant: str,
        *,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
    ) -> list[WaiverRecord]:
        """See :meth:`keepword.ports.Waitlist.waived_replies`."""
        check_identifier(tenant, "tenant")
        lo, hi = fairness.check_window(since, until)
        return [
            WaiverRecord(commitment_id=c.id, customer=c.customer, at=e.at, actor=e.actor)
            for c, e in self._events(tenant, "cancelled", lo, hi)
            if c.kind == "reply" and e.data.get("waived") is True
        ]
