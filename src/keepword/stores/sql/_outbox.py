"""``SqlStore``'s :class:`~keepword.ports.Outbox`: the notices a tick fired, claimed and acked.

Notices have no deadline: whether one is deliverable depends only on its
state and, for a claimed one, on its lease, judged by the database's clock
(:func:`keepword.stores.sql._dialect.db_now`), like every lease.  The same
clock stamps ``acked_at``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepword._validate import check_identifier, check_lease, check_positive
from keepword.notice import Notice, NoticeState
from keepword.stores.sql import _dialect, _rows
from keepword.stores.sql._base import SqlStoreBase, chunks, new_token

__all__ = ["SqlOutbox"]

_PENDING, _CLAIMED, _ACKED = (
    NoticeState.PENDING.value,
    NoticeState.CLAIMED.value,
    NoticeState.ACKED.value,
)


def _notice_fields(notice: Notice) -> dict[str, Any]:
    return {f.name: getattr(notice, f.name) for f in attrs.fields(Notice)}


class SqlOutbox(SqlStoreBase):
    """The transactional outbox of ``SqlStore`` (port ``"outbox"``)."""

    def _deliverable(self, tenant: str, db_now: _dt.datetime) -> sa.Select[Any]:
        """The tenant's notices pending or under a lease expired by ``db_now``, oldest first."""
        n = self._n
        return (
            sa.select(n)
            .where(
                n.c.tenant == tenant,
                sa.or_(
                    n.c.state == _PENDING,
                    sa.and_(n.c.state == _CLAIMED, n.c.claimed_until <= db_now),
                ),
            )
            .order_by(n.c.fired_at, n.c.scheduled_at, n.c.id)
        )

    def pending_notices(self, tenant: str, *, limit: int) -> list[Notice]:
        """Notices not yet acknowledged and not under a live claim (by the database clock).

        Oldest first (``fired_at``, ``scheduled_at``, id); claims nothing.
        See :meth:`keepword.ports.Outbox.pending_notices`.
        """
        check_identifier(tenant, "tenant")
        count = check_positive(limit, "limit")

        def read(conn: Connection) -> list[Notice]:
            stmt = self._deliverable(tenant, _dialect.db_now(conn)).limit(count)
            return [_rows.notice_from_row(r) for r in conn.execute(stmt).mappings()]

        return self._run("pending_notices", read, write=False)

    def claim_notices(
        self, tenant: str, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Notice]]:
        """Claim up to ``limit`` deliverable notices until the database clock plus ``lease``.

        ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE ... SET state =
        'claimed'`` in one write transaction (SQLite: ``BEGIN IMMEDIATE``).
        Whether an earlier claim has expired is judged by the database clock too.
        See :meth:`keepword.ports.Outbox.claim_notices`.
        """
        check_identifier(tenant, "tenant")
        count = check_positive(limit, "limit")
        length = check_lease(lease)
        token = new_token(check_identifier(worker, "worker"))
        n = self._n

        index = f"ix_{self._prefix}notices_state"
        order = (n.c.fired_at, n.c.scheduled_at, n.c.id)
        pending = sa.select(n).where(n.c.tenant == tenant, n.c.state == _PENDING)
        pending = self._claiming(pending.order_by(*order).limit(count), n, index)

        def attempt(conn: Connection) -> list[Notice]:
            db_now = _dialect.db_now(conn)
            # Two ordered range scans of (tenant, state, fired_at, scheduled_at, id),
            # each stopping after ``limit`` rows, rather than one scan of both states
            # and a sort: InnoDB keeps a lock on every row such a sort read, and the
            # other consumers would skip them all.
            expired = sa.select(n).where(
                n.c.tenant == tenant, n.c.state == _CLAIMED, n.c.claimed_until <= db_now
            )
            expired = self._claiming(expired.order_by(*order).limit(count), n, index)
            found = [
                _rows.notice_from_row(r)
                for stmt in (expired, pending)
                for r in conn.execute(stmt).mappings()
            ]
            found.sort(key=lambda x: (x.fired_at, x.scheduled_at, x.id))
            del found[count:]
            if not found:
                return []
            until = db_now + length
            for chunk in chunks([x.id for x in found]):
                conn.execute(
                    sa.update(n)
                    .where(n.c.tenant == tenant, self._one_of(n.c.id, chunk))
                    .values(state=_CLAIMED, claim_token=token, claimed_until=until)
                )
            return [
                Notice(
                    **{**_notice_fields(x), "state": NoticeState.CLAIMED, "claimed_until": until}
                )
                for x in found
            ]

        claimed = self._run("claim_notices", attempt, write=True, read_committed=True)
        return token, claimed

    def _settle(
        self, operation: str, tenant: str, ids: Sequence[str], token: str, ack: bool
    ) -> int:
        held = self._held(tenant, ids, token)
        if held is None:
            return 0
        wanted, claim = held
        n = self._n

        def attempt(conn: Connection) -> int:
            values: dict[str, Any] = {"claim_token": None, "claimed_until": None}
            if ack:
                values.update(state=_ACKED, acked_at=_dialect.db_now(conn))
            else:
                values.update(state=_PENDING)
            done = 0
            for chunk in chunks(sorted(set(wanted))):
                done += conn.execute(
                    sa.update(n)
                    .where(
                        n.c.tenant == tenant,
                        self._one_of(n.c.id, chunk),
                        n.c.state == _CLAIMED,
                        n.c.claim_token == claim,
                    )
                    .values(**values)
                ).rowcount
            return done

        return self._run(operation, attempt, write=True, read_committed=True)

    def ack_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Mark delivered the notices in ``ids`` that ``token`` still holds; returns how many.

        "Still holds" is judged by the token alone: a notice whose lease ran
        out is acknowledged unless another consumer claimed it since.
        ``acked_at`` is the database clock's reading.
        See :meth:`keepword.ports.Outbox.ack_notices`.
        """
        return self._settle("ack_notices", tenant, ids, token, ack=True)

    def release_notices(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Return the notices in ``ids`` that ``token`` holds to pending; returns how many.

        See :meth:`keepword.ports.Outbox.release_notices`.
        """
        return self._settle("release_notices", tenant, ids, token, ack=False)
