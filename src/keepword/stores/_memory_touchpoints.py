"""The ``"touchpoints"`` port of :class:`~keepword.stores.memory.MemoryStore`.

Written to be obviously right (the reference every other store is compared
to), not fast: each question is answered by a walk over the tenant's
touchpoints and commitments in the order the contract in
:mod:`keepword.ports` states.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from keepword._instant import to_utc
from keepword._validate import check_identifier, check_positive, check_text
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import check_touchpoint_writes
from keepword.touchpoint import Touchpoint, pick_order

if TYPE_CHECKING:
    from keepword.stores.memory import MemoryStore

__all__ = ["MemoryTouchpoints"]


def _optional(value: Any, argument: str) -> str | None:
    return None if value is None else check_identifier(value, argument)


def _instant(value: Any, argument: str) -> _dt.datetime | None:
    return None if value is None else to_utc(value, argument)


def _limit(value: Any) -> int | None:
    return None if value is None else check_positive(value, "limit")


class MemoryTouchpoints:
    """Touchpoints in plain lists behind the store's one lock (a mixin of ``MemoryStore``)."""

    _lock: threading.RLock
    _rows: dict[str, dict[str, Commitment]]

    def _init_touchpoints(self) -> None:
        # tenant -> touchpoints in insertion order; (tenant, kind, ref) -> touchpoint;
        # touchpoint id -> tenant (ids are unique store-wide)
        self._touchpoints: dict[str, list[Touchpoint]] = {}
        self._touch_refs: dict[tuple[str, str, str], Touchpoint] = {}
        self._touch_ids: set[str] = set()

    def add_touchpoint(self, touchpoint: Touchpoint) -> tuple[Touchpoint, bool]:
        """Store a touchpoint unless its ``(tenant, kind, ref)`` is known.

        See :meth:`keepword.ports.TouchpointLog.add_touchpoint`.
        """
        if not isinstance(touchpoint, Touchpoint):
            raise InvalidArgumentError(
                f"must be a Touchpoint, not {type(touchpoint).__name__}", argument="touchpoint"
            )
        t = touchpoint
        with self._lock:
            existing = self._known(t)
            if existing is not None:
                return existing, False
            self._touch_ids.add(t.id)
            self._touchpoints.setdefault(t.tenant, []).append(t)
            if t.ref is not None:
                self._touch_refs[(t.tenant, t.kind, t.ref)] = t
            return t, True

    def _known(self, t: Touchpoint) -> Touchpoint | None:
        """The stored touchpoint of ``t``'s ref; ConflictError if ``t``'s id is stored (locked)."""
        if t.ref is not None:
            existing = self._touch_refs.get((t.tenant, t.kind, t.ref))
            if existing is not None:
                return existing
        if t.id in self._touch_ids:
            raise ConflictError(f"touchpoint id {t.id!r} is stored already", argument="touchpoint")
        return None

    def add_touchpoint_with(
        self,
        touchpoint: Touchpoint,
        *,
        add: Sequence[Commitment] = (),
        update: Sequence[tuple[Commitment, int]] = (),
    ) -> tuple[Touchpoint, bool]:
        """Store a touchpoint and its commitment writes together, or nothing.

        Under the store's lock every write is checked first (the touchpoint's
        ref and id, each new commitment's id and reference, each update as
        ``update`` checks it), then all are applied: nothing below the checks
        can fail.  See :meth:`keepword.ports.AtomicTouchpoints.add_touchpoint_with`.
        """
        t, adds, updates = check_touchpoint_writes(touchpoint, add, update)
        store = cast("MemoryStore", self)
        with self._lock:
            existing = self._known(t)
            if existing is not None:
                return existing, False
            refs: set[str] = set()
            for i, c in enumerate(adds):
                if c.external_ref is not None:
                    if (c.tenant, c.external_ref) in store._refs or c.external_ref in refs:
                        raise ConflictError(
                            f"the tenant has a commitment with external_ref "
                            f"{c.external_ref!r} already",
                            argument=f"add[{i}]",
                            fix="look the stored one up (get_by_ref) instead of adding it",
                        )
                    refs.add(c.external_ref)
                if c.id in store._tenant_of:
                    raise ConflictError(
                        f"a commitment with id {c.id!r} already exists",
                        argument=f"add[{i}]",
                        fix="give every new commitment a fresh id (keepword._ids.new_id)",
                    )
            for new, expected_version in updates:
                store._check_against(new, store._get(new.tenant, new.id), expected_version)
            for c in adds:
                store.add(c)
            for new, _ in updates:
                store._put(new)
            return self.add_touchpoint(t)

    def touchpoint_by_ref(self, tenant: str, kind: str, ref: str) -> Touchpoint | None:
        """See :meth:`keepword.ports.TouchpointLog.touchpoint_by_ref`."""
        key = (
            check_identifier(tenant, "tenant"),
            check_identifier(kind, "kind"),
            check_identifier(ref, "ref"),
        )
        with self._lock:
            return self._touch_refs.get(key)

    def touchpoint_with_commitment(
        self, tenant: str, kind: str, ref: str
    ) -> tuple[Touchpoint, Commitment | None] | None:
        """See :meth:`keepword.ports.AtomicTouchpoints.touchpoint_with_commitment`."""
        with self._lock:
            found = self.touchpoint_by_ref(tenant, kind, ref)
            if found is None:
                return None
            id = found.commitment_id
            return found, None if id is None else self._rows.get(tenant, {}).get(id)

    def touchpoints(
        self,
        tenant: str,
        *,
        customer: str | None = None,
        kind: str | None = None,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Touchpoint]:
        """See :meth:`keepword.ports.TouchpointLog.touchpoints`."""
        check_identifier(tenant, "tenant")
        customer = _optional(customer, "customer")
        kind = _optional(kind, "kind")
        start, end = _instant(since, "since"), _instant(until, "until")
        top = _limit(limit)
        with self._lock:
            rows = list(self._touchpoints.get(tenant, ()))
        found = sorted(
            (
                t
                for t in rows
                if (customer is None or t.customer == customer)
                and (kind is None or t.kind == kind)
                and (start is None or t.at >= start)
                and (end is None or t.at < end)
            ),
            key=lambda t: (t.at, t.id),
        )
        return found if top is None else found[:top]

    def _customers(self, tenant: str) -> set[str]:
        return {c.customer for c in self._rows.get(tenant, {}).values()} | {
            t.customer for t in self._touchpoints.get(tenant, ())
        }

    def thanks_by_customer(
        self, tenant: str, *, below: int, limit: int | None = None
    ) -> list[tuple[str, int, _dt.datetime | None]]:
        """See :meth:`keepword.ports.TouchpointLog.thanks_by_customer`."""
        check_identifier(tenant, "tenant")
        target = check_positive(below, "below")
        top = _limit(limit)
        with self._lock:
            counted: dict[str, int] = {}
            last: dict[str, _dt.datetime] = {}
            for t in self._touchpoints.get(tenant, ()):
                if t.kind == "thank_you" and t.counted:
                    counted[t.customer] = counted.get(t.customer, 0) + 1
                    if t.customer not in last or t.at > last[t.customer]:
                        last[t.customer] = t.at
            out = [
                (customer, counted.get(customer, 0), last.get(customer))
                for customer in sorted(self._customers(tenant))
                if counted.get(customer, 0) < target
            ]
        return out if top is None else out[:top]

    def extra_mile_candidate(
        self, tenant: str, *, eligible_since: _dt.datetime, seed: str
    ) -> str | None:
        """See :meth:`keepword.ports.TouchpointLog.extra_mile_candidate`."""
        check_identifier(tenant, "tenant")
        since = to_utc(eligible_since, "eligible_since")
        check_text(seed, "seed")  # a NUL or a lone surrogate has no md5 in any database
        with self._lock:
            touches = list(self._touchpoints.get(tenant, ()))
            rows = list(self._rows.get(tenant, {}).values())
        eligible = {c.customer for c in rows if c.made_at >= since}
        eligible |= {t.customer for t in touches if t.at >= since}
        if not eligible:
            return None
        picks: dict[str, int] = {}
        for t in touches:
            if t.kind == "extra_mile":
                picks[t.customer] = picks.get(t.customer, 0) + 1
        return min(eligible, key=lambda c: (picks.get(c, 0), pick_order(seed, c)))

    def silent_customers(
        self, tenant: str, *, quiet_since: _dt.datetime, limit: int | None = None
    ) -> list[str]:
        """See :meth:`keepword.ports.TouchpointLog.silent_customers`."""
        check_identifier(tenant, "tenant")
        cutoff = to_utc(quiet_since, "quiet_since")
        top = _limit(limit)
        with self._lock:
            last: dict[str, _dt.datetime] = {}
            for t in self._touchpoints.get(tenant, ()):
                if t.customer not in last or t.at > last[t.customer]:
                    last[t.customer] = t.at
        out = sorted(c for c, at in last.items() if at < cutoff)
        return out if top is None else out[:top]
