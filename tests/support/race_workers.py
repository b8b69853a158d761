"""Process entry points for the SQL store's races (claims, ticks, webhook retries, writers).

Each takes plain arguments and returns a plain ``dict``, so a ``spawn`` pool
can run it; each opens and closes its own ``SqlStore``.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.errors import ConflictError, KeepwordError
from keepword.stores.sql import SqlStore
from keepword.testing import fire_one
from tests.support.builders import T0, bump, commitment


def claim_worker(
    url: str, prefix: str, tenant: str, now: _dt.datetime, limit: int
) -> dict[str, Any]:
    """Claim due commitments (long leases, never firing) until a claim comes back empty."""
    store = SqlStore(url, table_prefix=prefix)
    claimed: list[str] = []
    errors: list[str] = []
    rounds = 0
    try:
        while True:
            rounds += 1
            try:
                _, got = store.claim_due(
                    tenant, now, limit=limit, lease=_dt.timedelta(hours=1), worker=f"p{os.getpid()}"
                )
            except Exception as error:
                errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
                continue
            if not got:
                break
            claimed.extend(c.id for c in got)
    finally:
        store.close()
    return {"claimed": claimed, "errors": errors, "rounds": rounds}


def tick_worker(
    url: str, prefix: str, tenant: str, now: _dt.datetime, limit: int
) -> dict[str, Any]:
    """Tick (claim, escalate, fire) until a claim comes back empty; count what it fired."""
    store = SqlStore(url, table_prefix=prefix)
    fired: list[str] = []
    conflicts = 0
    errors: list[str] = []
    try:
        while True:
            try:
                token, got = store.claim_due(
                    tenant,
                    now,
                    limit=limit,
                    lease=_dt.timedelta(minutes=5),
                    worker=f"p{os.getpid()}",
                )
            except Exception as error:
                errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
                continue
            if not got:
                break
            for c in got:
                new, _, notices = _t.escalate(c, now=now, new_id=lambda: new_id(now))
                try:
                    fire_one(store, new, expected_version=c.version, notices=notices, token=token)
                    fired.extend(n.idempotency_key for n in notices)
                except ConflictError:
                    conflicts += 1
                except Exception as error:
                    errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"fired": fired, "conflicts": conflicts, "errors": errors}


def webhook_worker(url: str, prefix: str, worker: int, calls: int, refs: int) -> dict[str, Any]:
    """Call ``add`` ``calls`` times with fresh commitments over ``refs`` references."""
    store = SqlStore(url, table_prefix=prefix)
    created = 0
    keepword_errors: list[str] = []
    raw_errors: list[str] = []
    try:
        for i in range(calls):
            ref = f"order-{(i * 7 + worker) % refs}"
            now = T0 + _dt.timedelta(microseconds=worker * 1_000_000 + i)
            try:
                _, stored = store.add(commitment("shop-7", external_ref=ref, made_at=now))
                created += stored
            except KeepwordError as error:
                keepword_errors.append(repr(error))
            except Exception as error:
                raw_errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"created": created, "keepword_errors": keepword_errors, "raw_errors": raw_errors}


def racing_writer(
    url: str, prefix: str, worker: int, ids: list[str], rounds: int
) -> dict[str, Any]:
    """Read-modify-write each commitment ``rounds`` times; count wins and losses per id."""
    store = SqlStore(url, table_prefix=prefix)
    wins: dict[str, int] = dict.fromkeys(ids, 0)
    conflicts = 0
    other_errors: list[str] = []
    try:
        for r in range(rounds):
            for cid in ids:
                current = store.get("shop-7", cid)
                try:
                    store.update(bump(current, f"w{worker}-r{r}"), expected_version=current.version)
                    wins[cid] += 1
                except ConflictError:
                    conflicts += 1
                except Exception as error:
                    other_errors.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
    finally:
        store.close()
    return {"wins": wins, "conflicts": conflicts, "other_errors": other_errors}
