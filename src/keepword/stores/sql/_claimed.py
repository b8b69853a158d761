"""What a store's claims loaded, so a tick's fire writes only what changed.

A tick claims a batch (:meth:`SqlStore.claim_due` loads each commitment with
its history), decides, and fires the batch (:meth:`SqlStore.fire_many`).
The fire's ``UPDATE`` is guarded by the claimed version, so when it matches,
the stored row is exactly the commitment the claim loaded: the store can
write only the columns that differ from it, and check that the new history
extends the loaded one without reading the stored events again.

Nothing here is a source of truth: a fire whose commitment was not
remembered (another store object claimed it, the entry was evicted, or its
version differs) is written in full and checked against the stored events,
as before.  Entries live until the fire or the release of their claim; at
most :data:`TOKENS` claims are remembered, the oldest forgotten first.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

from keepword.commitment import Commitment

__all__ = ["TOKENS", "ClaimedRows"]

TOKENS = 16
"""How many claims (tokens) a store remembers at most."""


class ClaimedRows:
    """Commitments as claim tokens loaded them, by token and id; thread-safe.

    >>> memo = ClaimedRows()
    >>> memo.remember("t1", [])
    >>> memo.take("t1", ["c1"])
    {}
    """

    def __init__(self, tokens: int = TOKENS) -> None:
        self._tokens = tokens
        self._by_token: collections.OrderedDict[str, dict[str, Commitment]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def remember(self, token: str, commitments: Iterable[Commitment]) -> None:
        """Remember what the claim ``token`` loaded (forgetting the oldest claim if full)."""
        loaded = {c.id: c for c in commitments}
        if not loaded:
            return
        with self._lock:
            self._by_token[token] = loaded
            while len(self._by_token) > self._tokens:
                self._by_token.popitem(last=False)

    def take(self, token: str, ids: Iterable[str]) -> dict[str, Commitment]:
        """Forget ``ids`` under ``token`` and return those that were remembered."""
        with self._lock:
            loaded = self._by_token.get(token)
            if loaded is None:
                return {}
            taken = {i: c for i in ids if (c := loaded.pop(i, None)) is not None}
            if not loaded:
                del self._by_token[token]
            return taken

    def __len__(self) -> int:
        """How many commitments are remembered, over every claim."""
        with self._lock:
            return sum(len(loaded) for loaded in self._by_token.values())
