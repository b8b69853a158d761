"""Delivering: hand the notices a tick fired to the host, at least once.

keepword never sends anything itself: the host's handler (a mailer, a
webhook, a queue) delivers, and a notice is acknowledged only when the
handler returned without raising.  Hosts drop repeats by
``Notice.idempotency_key``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable

import attrs

from keepword._validate import check_identifier, check_ids, check_lease, check_positive
from keepword.notice import Notice
from keepword.services._context import Context

__all__ = ["DispatchReport", "ack", "claim", "dispatch", "pending", "release"]


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :meth:`Tracker.dispatch` did.

    Attributes:
        delivered: notices the handler took and that are now acknowledged.
        failed: ``(notice, exception)`` for each notice the handler raised on;
            they were released and will be delivered again.
    """

    delivered: int
    failed: tuple[tuple[Notice, BaseException], ...]


def pending(ctx: Context, limit: int) -> list[Notice]:
    """Notices not yet acknowledged nor under a live claim, oldest first."""
    outbox = ctx.outbox("pending_notices")
    return outbox.pending_notices(ctx.tenant, limit=check_positive(limit, "limit"))


def claim(ctx: Context, limit: int, lease: _dt.timedelta | None) -> tuple[str, list[Notice]]:
    """Claim up to ``limit`` notices for ``lease`` (default: the context's lease)."""
    outbox = ctx.outbox("claim_notices")
    return outbox.claim_notices(
        ctx.tenant,
        limit=check_positive(limit, "limit"),
        lease=ctx.lease if lease is None else check_lease(lease),
        worker=ctx.worker,
    )


def ack(ctx: Context, ids: Iterable[str], token: str) -> int:
    """Mark delivered the claimed notices ``ids`` that ``token`` still holds."""
    outbox = ctx.outbox("ack_notices")
    return outbox.ack_notices(ctx.tenant, check_ids(ids), check_identifier(token, "token"))


def release(ctx: Context, ids: Iterable[str], token: str) -> int:
    """Hand claimed notices back for delivery by someone else, at once."""
    outbox = ctx.outbox("release_notices")
    return outbox.release_notices(ctx.tenant, check_ids(ids), check_identifier(token, "token"))


def dispatch(
    ctx: Context,
    handler: Callable[[Notice], object],
    limit: int,
    lease: _dt.timedelta | None,
) -> DispatchReport:
    """Claim notices, call ``handler`` on each in order, acknowledge the ones it took."""
    outbox = ctx.outbox("dispatch")
    token, notices = claim(ctx, limit, lease)
    delivered: list[str] = []
    failed: list[tuple[Notice, BaseException]] = []
    for notice in notices:
        try:
            handler(notice)
        except Exception as exc:  # the host's failure: keep the notice for later
            failed.append((notice, exc))
        else:
            delivered.append(notice.id)
    acked = outbox.ack_notices(ctx.tenant, delivered, token) if delivered else 0
    if failed:
        outbox.release_notices(ctx.tenant, [n.id for n, _ in failed], token)
    return DispatchReport(delivered=acked, failed=tuple(failed))
