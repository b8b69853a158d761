"""Process entry points for the allocation races: each allocates one resource over and over.

Plain arguments in, a plain ``dict`` out, so a ``spawn`` pool can run them;
each opens and closes its own ``SqlStore``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from keepword import BusinessCalendar, FrozenClock, Tracker
from keepword.stores.sql import SqlStore

T0 = _dt.datetime(2026, 11, 23, 9, 0, tzinfo=_dt.UTC)


def allocate_worker(
    url: str, prefix: str, tenant: str, resource: str, calls: list[int], partial: bool
) -> dict[str, Any]:
    """Call ``allocate(resource, n)`` for each ``n`` in ``calls``; report what each served."""
    store = SqlStore(url, table_prefix=prefix)
    clock = FrozenClock(T0 + _dt.timedelta(days=1))
    tracker = Tracker(store, calendar=BusinessCalendar(tz="UTC"), clock=clock, tenant=tenant)
    served: list[tuple[str, int]] = []
    errors: list[str] = []
    try:
        for n in calls:
            try:
                for c in tracker.allocate(resource, n, partial=partial):
                    served.append((c.id, int(c.history[-1].data["quantity"])))
            except Exception as error:
                errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"served": served, "errors": errors}
