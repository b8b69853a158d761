"""SQL backends for the tests, and the worker functions that run in other processes.

The PostgreSQL and MariaDB backends run when ``KEEPWORD_TEST_POSTGRES_URL``
and ``KEEPWORD_TEST_MARIADB_URL`` are set (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` and
``mysql+pymysql://root@127.0.0.1:3306/test``); otherwise they skip.
SQLite always runs, on a temporary file.

The worker functions live here, not in a test module, so that processes
started with the ``spawn`` method can import them cheaply.
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status
from keepword.errors import ConflictError, KeepwordError
from keepword.escalation import EscalationPolicy, Step, after_due, at_due, before_due
from keepword.stores.sql import SqlStore
from keepword.testing import fire_one

UTC = _dt.UTC
T0 = _dt.datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)

ENV = {"postgresql": "KEEPWORD_TEST_POSTGRES_URL", "mariadb": "KEEPWORD_TEST_MARIADB_URL"}
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql"),
    pytest.param("mariadb", id="mariadb"),
]


def backend_url(name: str, tmp_path: Path) -> str:
    """The URL to test ``name`` on, or skip with the variable to set."""
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'keepword.db'}"
    url = os.environ.get(ENV[name])
    if not url and os.environ.get("KEEPWORD_REQUIRE_SERVERS"):
        pytest.fail(f"KEEPWORD_REQUIRE_SERVERS is set but {ENV[name]} is not")
    if not url:
        pytest.skip(f"set {ENV[name]} to run the {name} tests (e.g. a throwaway database URL)")
    return url


def unique_prefix() -> str:
    """A fresh table prefix, so tests sharing a server database never meet."""
    return f"kwt{uuid.uuid4().hex[:10]}_"


def open_store(url: str, prefix: str | None = None) -> Iterator[SqlStore]:
    """Yield a store with fresh tables; check for leaked connections, then drop them.

    The tables are created and dropped through a second store, so a test may
    close the one it gets.
    """
    prefix = prefix or unique_prefix()
    admin = SqlStore(url, table_prefix=prefix)
    admin.create_schema()
    store = SqlStore(url, table_prefix=prefix)
    try:
        yield store
        checked_out = store.engine.pool.checkedout()  # type: ignore[attr-defined]
        assert checked_out == 0, f"{checked_out} connection(s) not returned to the pool"
    finally:
        store.close()
        admin.drop_schema()
        admin.close()


_CALENDAR = BusinessCalendar.always_open("UTC")


def commitment(
    tenant: str = "tenant-a",
    *,
    external_ref: str | None = None,
    made_at: _dt.datetime = T0,
    **changes: Any,
) -> Commitment:
    """A new version-1 commitment with a one-event history (built from commitment.py values)."""
    due = made_at + _dt.timedelta(days=3)
    c = Commitment(
        id=new_id(made_at),
        tenant=tenant,
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        made_at=made_at,
        due_at=due,
        status=Status.OPEN,
        version=1,
        external_ref=external_ref,
        calendar=_CALENDAR,
        history=(Event(seq=1, kind="promised", at=made_at, data={"due_at": due.isoformat()}),),
    )
    return attrs.evolve(c, **changes) if changes else c


def bump(c: Commitment, owner: str) -> Commitment:
    """``c`` reassigned to ``owner``: one version up, one event more."""
    event = Event(
        seq=len(c.history) + 1,
        kind="reassigned",
        at=c.made_at + _dt.timedelta(seconds=len(c.history)),
        actor=owner,
        data={"to": owner},
    )
    return attrs.evolve(c, owner=owner, version=c.version + 1, history=(*c.history, event))


POLICY = EscalationPolicy(
    "sql-ladder",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=4), notify="director"),
    ],
)
"""Three steps: 2 h before, at, and 4 h after the deadline."""


def escalating(
    tenant: str = "tenant-a",
    *,
    due_at: _dt.datetime,
    made_at: _dt.datetime = T0,
    policy: EscalationPolicy | None = POLICY,
) -> Commitment:
    """A new commitment promised under ``policy`` (its ``next_action_at`` set by the domain)."""
    c, _ = _t.promise(
        id=new_id(made_at),
        tenant=tenant,
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        now=made_at,
        calendar=_CALENDAR,
        due=due_at,
        policy=policy,
    )
    return c


# --------------------------------------------------------------------------- process workers


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
