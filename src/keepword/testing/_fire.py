"""``fire_one``: fire one claimed commitment through ``fire_many``."""

from __future__ import annotations

from collections.abc import Sequence

from keepword.commitment import Commitment
from keepword.notice import Notice
from keepword.ports import Fire, TickQueue, check_commitment

__all__ = ["fire_one"]


def fire_one(
    store: TickQueue,
    commitment: Commitment,
    *,
    expected_version: int,
    notices: Sequence[Notice],
    token: str,
) -> Commitment:
    """Fire one claimed commitment through :meth:`~keepword.ports.TickQueue.fire_many`.

    A helper for tests and tools: the tracker fires whole batches, but a test
    usually fires one commitment and wants its error raised, not returned.
    It builds the :class:`~keepword.ports.Fire` (so bad arguments raise
    :class:`~keepword.errors.InvalidArgumentError` here, naming them), fires
    it alone, and returns the stored commitment or raises the error
    ``fire_many`` reported for it.

    Args:
        store: a store with the tick queue (``"tick_queue"`` in its ports).
        commitment: the claimed commitment's new state
            (version ``expected_version + 1``).
        expected_version: the version it was claimed at.
        notices: the notices it fires, each of this commitment and tenant.
        token: the claim token ``claim_due`` returned.

    Returns:
        The stored commitment (equal to ``commitment``).

    Raises:
        InvalidArgumentError: a malformed argument; nothing is written.
        ConflictError: the version moved on or the claim was lost; nothing
            is written.
        NotFoundError: the tenant has no such commitment.

    >>> import datetime as dt
    >>> from keepword import transitions as kt
    >>> from keepword._ids import new_id
    >>> from keepword.stores.memory import MemoryStore
    >>> from keepword.testing import LADDER, T0, make_commitment
    >>> store = MemoryStore()
    >>> _ = store.add(make_commitment("shop-7", due_at=T0 + dt.timedelta(hours=1), policy=LADDER))
    >>> now = T0 + dt.timedelta(hours=2)
    >>> lease = dt.timedelta(minutes=5)
    >>> token, (claimed,) = store.claim_due("shop-7", now, limit=1, lease=lease, worker="w")
    >>> new, _, notices = kt.escalate(claimed, now=now, new_id=lambda: new_id(now))
    >>> fire_one(store, new, expected_version=claimed.version, notices=notices, token=token) == new
    True
    """
    new = check_commitment(commitment, "commitment")
    (outcome,) = store.fire_many(new.tenant, [Fire(new, expected_version, notices)], token=token)
    if isinstance(outcome, Commitment):
        return outcome
    raise outcome
