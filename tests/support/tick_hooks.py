"""Sabotage for the tick workers: crash points, a self-freezing worker, a claim log, a broken tick.

Installed by :func:`tests.support.tick_workers.tick_worker` and
:func:`~tests.support.tick_workers.consume_worker` from their spec (see that
module's docstring for the named crash points).  Each hook wraps the
methods of ``SqlStore`` in the worker's own process, which nothing else shares.
One more is the parent's: :func:`refuse_notices_of` poisons one commitment in
the database itself, for every worker at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import time
import uuid
from typing import Any

import attrs
import sqlalchemy as sa

from keepword.commitment import Commitment
from keepword.errors import ConflictError
from keepword.stores.sql import SqlStore


def write_json(path: str, data: Any) -> None:
    """Write ``data`` to ``path`` as JSON, whole or not at all (a temporary file, renamed)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- hooks


def die() -> None:
    """Kill this process with ``SIGKILL`` (no cleanup, no result file)."""
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # pragma: no cover - never reached


class HitCounter:
    """Counts the times a point is reached; :meth:`hit` is true exactly at the ``after``-th."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0

    def hit(self) -> bool:
        """Count one more arrival; true if this is the ``after``-th."""
        self.seen += 1
        return self.seen == self.after


def install_kill(store: SqlStore, prefix: str, point: str, after: int) -> None:
    """Make this process ``SIGKILL`` itself the ``after``-th time it reaches ``point``."""
    counter = HitCounter(after)
    cls = type(store)
    if point == "after_claim":
        original_claim = cls.claim_due

        def claim_due(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            token, claimed = original_claim(self, *args, **kwargs)
            if claimed and counter.hit():
                die()
            return token, claimed

        cls.claim_due = claim_due  # type: ignore[method-assign]
    elif point == "after_commit":
        original_fire = cls.fire_many

        def fire_many(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            result = original_fire(self, *args, **kwargs)
            if counter.hit():
                die()
            return result

        cls.fire_many = fire_many  # type: ignore[method-assign]
    elif point == "before_commit":
        wrote: list[bool] = [False]
        # Wrap the notices' write itself: on PostgreSQL it is a driver-level COPY,
        # which SQLAlchemy's statement events never see.
        original_insert = cls._insert_notices

        def insert_notices(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            result = original_insert(self, *args, **kwargs)
            wrote[0] = True
            return result

        cls._insert_notices = insert_notices  # type: ignore[method-assign]

        def on_commit(conn: Any) -> None:
            if wrote[0] and counter.hit():
                die()
            wrote[0] = False

        def on_rollback(conn: Any) -> None:
            wrote[0] = False

        sa.event.listen(store.engine, "commit", on_commit)
        sa.event.listen(store.engine, "rollback", on_rollback)
    else:
        raise ValueError(f"unknown kill point {point!r}")


class Freeze:
    """Stop this process with SIGSTOP after its n-th non-empty claim; watch its later fires."""

    def __init__(self, store: SqlStore, after: int, flag: str) -> None:
        self.batch: set[str] = set()
        self.accepted = 0
        self.rejected = 0
        self.frozen_at: float | None = None
        self.resumed_at: float | None = None
        counter = HitCounter(after)
        cls = type(store)
        original_claim, original_fire = cls.claim_due, cls.fire_many
        me = self

        def claim_due(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            token, claimed = original_claim(self, *args, **kwargs)
            if claimed and not me.batch and counter.hit():
                me.batch = {c.id for c in claimed}
                me.frozen_at = time.time()
                write_json(flag, {"ids": sorted(me.batch), "token": token, "pid": os.getpid()})
                os.kill(os.getpid(), signal.SIGSTOP)
                me.resumed_at = time.time()
            return token, claimed

        def fire_many(self: SqlStore, tenant: str, fires: Any, **kwargs: Any) -> Any:
            outcomes = original_fire(self, tenant, fires, **kwargs)
            for fire, outcome in zip(fires, outcomes, strict=True):
                if fire.commitment.id in me.batch:
                    if isinstance(outcome, ConflictError):
                        me.rejected += 1
                    else:
                        me.accepted += 1
            return outcomes

        cls.claim_due = claim_due  # type: ignore[method-assign]
        cls.fire_many = fire_many  # type: ignore[method-assign]


class ClaimLog:
    """Record every claim (token, commitment id, version) and release, for double-claim counts."""

    def __init__(self, store: SqlStore) -> None:
        self.claims: list[tuple[str, str, int, float]] = []
        self.released: list[tuple[str, str, float]] = []
        cls = type(store)
        original_claim, original_release = cls.claim_due, cls.release
        log = self

        def claim_due(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            token, claimed = original_claim(self, *args, **kwargs)
            at = time.time()
            log.claims.extend((token, c.id, c.version, at) for c in claimed)
            return token, claimed

        def release(self: SqlStore, tenant: str, ids: Any, token: str) -> Any:
            ids = list(ids)
            at = time.time()
            log.released.extend((token, i, at) for i in ids)
            return original_release(self, tenant, ids, token)

        cls.claim_due = claim_due  # type: ignore[method-assign]
        cls.release = release  # type: ignore[method-assign]


def install_broken(store: SqlStore, prefix: str) -> None:
    """A deliberately broken tick: no claim or lock, notices written apart under fresh keys.

    ``claim_due`` just reads the due rows (two workers get the same ones);
    ``fire_many`` inserts each fire's notices in a transaction of their own with a fresh
    idempotency key each (so the unique constraint cannot help), then applies
    the state change with the ordinary version check, losing quietly.
    """
    from keepword.stores.sql import _rows

    cls = type(store)
    commitments = store.metadata.tables[f"{prefix}commitments"]
    notices = store.metadata.tables[f"{prefix}notices"]

    def claim_due(
        self: SqlStore, tenant: str, now: dt.datetime, *, limit: int, **_: Any
    ) -> tuple[str, list[Commitment]]:
        query = (
            sa.select(commitments.c.id)
            .where(commitments.c.tenant == tenant)
            .where(commitments.c.status == "open")
            .where(commitments.c.next_action_at <= now)
            .order_by(commitments.c.next_action_at, commitments.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        return uuid.uuid4().hex, [self.get(tenant, i) for i in ids]

    def fire_many(self: SqlStore, tenant: str, fires: Any, **_: Any) -> Any:
        outcomes = []
        for fire in fires:
            rows = [
                _rows.notice_to_row(
                    attrs.evolve(n, idempotency_key=f"{n.idempotency_key}:{uuid.uuid4().hex[:8]}")
                )
                for n in fire.notices
            ]
            if rows:
                with self.engine.begin() as conn:
                    conn.execute(sa.insert(notices), rows)
            with contextlib.suppress(ConflictError):  # losing quietly
                self.update(fire.commitment, expected_version=fire.expected_version)
            outcomes.append(fire.commitment)
        return outcomes

    def release(self: SqlStore, tenant: str, ids: Any, token: str) -> int:
        return 0

    cls.claim_due = claim_due  # type: ignore[method-assign]
    cls.fire_many = fire_many  # type: ignore[method-assign]
    cls.release = release  # type: ignore[method-assign]


# --------------------------------------------------------------------------- a poisoned commitment


def refuse_notices_of(url: str, prefix: str, commitment_id: str) -> None:
    """Make the database itself refuse the step notices of one commitment (a trigger).

    Every process writing to ``{prefix}notices`` then fails on that
    commitment's step notices, as a database refuses a value the checks at the
    edge let through; its ``"tick_error"`` notice is still accepted.  The
    trigger goes with the table; on PostgreSQL its function stays until
    :func:`drop_refusal`.
    """
    table = f"{prefix}notices"
    when = f"NEW.commitment_id = '{commitment_id}' AND NEW.action <> 'tick_error'"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_poison BEFORE INSERT ON {table} WHEN {when} "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            elif engine.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    f"CREATE FUNCTION {table}_poison() RETURNS trigger AS $$ BEGIN "
                    f"IF {when} THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; "
                    "END $$ LANGUAGE plpgsql"
                )
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_poison BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {table}_poison()"
                )
            else:
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_poison BEFORE INSERT ON {table} FOR EACH ROW "
                    f"BEGIN IF {when} THEN SIGNAL SQLSTATE '45000' "
                    "SET MESSAGE_TEXT = 'poisoned'; END IF; END"
                )
    finally:
        engine.dispose()


def drop_refusal(url: str, prefix: str) -> None:
    """Drop what :func:`refuse_notices_of` left behind its table (PostgreSQL's function)."""
    engine = sa.create_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            return
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {prefix}notices_poison() CASCADE")
    finally:
        engine.dispose()
