"""``OutboxContract``: the tests of the ``"outbox"`` port.

``pending_notices``, ``claim_notices``, ``ack_notices`` and
``release_notices``: oldest first, expired claims delivered again, acked
notices never, tenants apart.  The notices are fired through the tick queue,
so these tests need the ``"tick_queue"`` port too and are skipped, naming
whichever is missing, on a store without both.
See :mod:`keepword.testing.contract` for how to run it.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest

from keepword._ids import new_id
from keepword.errors import InvalidArgumentError
from keepword.notice import Notice, NoticeState
from keepword.ports import Outbox, Store
from keepword.testing._fire import fire_one
from keepword.testing.contract._support import (
    T0,
    PortContract,
    TickHelpers,
    _race,
    _tenant,
    for_port,
    notice_content,
)

__all__ = ["OutboxContract"]


@for_port("outbox", "tick_queue")
class OutboxContract(TickHelpers, PortContract):
    """Every behaviour :class:`keepword.ports.Outbox` promises, as pytest tests.

    Subclass it as ``TestSomethingStore`` with a ``store`` fixture, as
    :class:`~keepword.testing.contract.CommitmentRepositoryContract`.  Runs
    when the store declares ``"outbox"`` and ``"tick_queue"`` (which fills
    the outbox).  Lease tests wait 2 s of real time.
    """

    def test_store_satisfies_the_outbox_protocol(self, store: Store) -> None:
        """The store is a ``keepword.ports.Outbox`` (it has every method)."""
        assert isinstance(store, Outbox)

    def _outbox(self, store: Store, tenant: str, commitments: int = 2) -> list[Notice]:
        """Fire all steps of ``commitments`` commitments, a tick apart; notices oldest first."""
        fired: list[Notice] = []
        for i in range(commitments):
            self._escalating(store, tenant, _dt.timedelta(hours=1 + i))
        for i in range(commitments):
            fired += self._fire_due(store, tenant, T0 + _dt.timedelta(days=1, hours=i), limit=1)
        fired.sort(key=lambda n: (n.fired_at, n.scheduled_at, n.id))
        assert len(fired) == 3 * commitments
        return fired

    @staticmethod
    def _ids(notices: Sequence[Notice]) -> list[str]:
        return [n.id for n in notices]

    def test_pending_notices_are_oldest_first_and_reading_claims_nothing(
        self, store: Store
    ) -> None:
        """``pending_notices`` orders by fired_at, scheduled_at, id; limits; claims nothing."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 3)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        assert self._ids(store.pending_notices(tenant, limit=4)) == self._ids(fired[:4])
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        _, claimed = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert self._ids(claimed) == self._ids(fired)

    def test_claim_notices_holds_them_for_the_lease(self, store: Store) -> None:
        """Claimed notices are CLAIMED with ``claimed_until``; others skip them while it lives."""
        tenant = _tenant()
        fired = self._outbox(store, tenant)
        token, first = store.claim_notices(tenant, limit=4, lease=self._LONG, worker="w1")
        assert self._ids(first) == self._ids(fired[:4])
        assert all(n.state is NoticeState.CLAIMED for n in first)
        assert all(n.claimed_until is not None for n in first)
        assert [notice_content(n) for n in first] == [notice_content(n) for n in fired[:4]]
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[4:])
        token2, rest = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert token2 != token
        assert self._ids(rest) == self._ids(fired[4:])
        assert store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w3")[1] == []
        assert store.pending_notices(tenant, limit=100) == []

    def test_expired_notice_claims_are_delivered_again(self, store: Store) -> None:
        """A consumer that crashed before acking: after its lease the notices come back."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        crashed, _ = store.claim_notices(tenant, limit=100, lease=self._SHORT, worker="w1")
        assert store.pending_notices(tenant, limit=100) == []
        time.sleep(self._EXPIRE)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired)
        token, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert self._ids(again) == self._ids(fired)
        assert store.ack_notices(tenant, self._ids(fired), crashed) == 0  # taken by another
        assert store.release_notices(tenant, self._ids(fired), crashed) == 0
        assert store.ack_notices(tenant, self._ids(fired), token) == len(fired)

    def test_acked_notices_are_never_delivered_again(self, store: Store) -> None:
        """Acknowledged notices leave the outbox for good, lease or no lease."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        token, claimed = store.claim_notices(tenant, limit=100, lease=self._SHORT, worker="w")
        assert store.ack_notices(tenant, self._ids(claimed[:2]), token) == 2
        assert store.ack_notices(tenant, self._ids(claimed[:2]), token) == 0  # once
        time.sleep(self._EXPIRE)
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[2:])
        t2, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert self._ids(again) == self._ids(fired[2:])
        assert store.release_notices(tenant, self._ids(fired), t2) == 1
        assert store.ack_notices(tenant, self._ids(fired), token) == 0

    def test_ack_counts_only_what_the_token_holds(self, store: Store) -> None:
        """Another token, pending notices and unknown ids are left alone and not counted."""
        tenant = _tenant()
        fired = self._outbox(store, tenant)
        token, _ = store.claim_notices(tenant, limit=2, lease=self._LONG, worker="w")
        assert store.ack_notices(tenant, self._ids(fired), uuid.uuid4().hex) == 0
        assert store.ack_notices(tenant, [new_id(T0), new_id(T0)], token) == 0
        assert store.ack_notices(tenant, [], token) == 0
        assert store.ack_notices(tenant, self._ids(fired), token) == 2
        assert self._ids(store.pending_notices(tenant, limit=100)) == self._ids(fired[2:])

    def test_release_notices_returns_them_to_pending_at_once(self, store: Store) -> None:
        """Released notices are pending again and claimable at once; only the token's count."""
        tenant = _tenant()
        fired = self._outbox(store, tenant, 1)
        token, claimed = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w")
        assert store.release_notices(tenant, self._ids(claimed), uuid.uuid4().hex) == 0
        assert store.release_notices(tenant, self._ids(claimed[:1]), token) == 1
        pending = store.pending_notices(tenant, limit=100)
        assert self._ids(pending) == self._ids(fired[:1])
        assert pending[0].state is NoticeState.PENDING
        _, again = store.claim_notices(tenant, limit=100, lease=self._LONG, worker="w2")
        assert self._ids(again) == self._ids(fired[:1])
        assert store.ack_notices(tenant, self._ids(claimed[:1]), token) == 0

    def test_the_outbox_sees_only_the_tenant(self, store: Store) -> None:
        """Another tenant neither reads, claims, acks nor releases a tenant's notices."""
        fired = self._outbox(store, "tenant-a", 1)
        assert store.pending_notices("tenant-b", limit=100) == []
        assert store.claim_notices("tenant-b", limit=100, lease=self._LONG, worker="w")[1] == []
        token, claimed = store.claim_notices("tenant-a", limit=100, lease=self._LONG, worker="w")
        assert self._ids(claimed) == self._ids(fired)
        assert store.ack_notices("tenant-b", self._ids(fired), token) == 0
        assert store.release_notices("tenant-b", self._ids(fired), token) == 0
        assert store.ack_notices("tenant-a", self._ids(fired), token) == len(fired)

    def test_one_key_in_two_tenants_is_two_notices(self, store: Store) -> None:
        """``idempotency_key`` is unique per tenant, not store-wide."""
        a = self._escalating(store, "tenant-a", _dt.timedelta(hours=1))
        b = self._escalating(store, "tenant-b", _dt.timedelta(hours=1))
        now = T0 + _dt.timedelta(hours=2)
        ta, (ca,) = store.claim_due("tenant-a", now, limit=5, lease=self._LONG, worker="w")
        tb, (cb,) = store.claim_due("tenant-b", now, limit=5, lease=self._LONG, worker="w")
        na, notices_a = self._escalate(ca, now)
        nb, notices_b = self._escalate(cb, now)
        # the same keys in both tenants (as if the ids were equal)
        notices_b = tuple(
            attrs.evolve(n, idempotency_key=m.idempotency_key)
            for n, m in zip(notices_b, notices_a, strict=True)
        )
        fire_one(store, na, expected_version=a.version, notices=notices_a, token=ta)
        fire_one(store, nb, expected_version=b.version, notices=notices_b, token=tb)
        assert self._ids(store.pending_notices("tenant-a", limit=9)) == self._ids(notices_a)
        assert self._ids(store.pending_notices("tenant-b", limit=9)) == self._ids(notices_b)

    def test_concurrent_notice_claims_never_share_a_notice(self, store: Store) -> None:
        """Consumers claiming at once: each notice goes to at most one of them."""
        if self.threads <= 0:
            pytest.skip("threads = 0: this store is not shared between threads")
        tenant = _tenant()
        fired = self._outbox(store, tenant, 4)
        results = _race(
            self.threads,
            lambda i: store.claim_notices(tenant, limit=2, lease=self._LONG, worker=f"w{i}"),
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == [], errors
        ids = [n.id for r in results if not isinstance(r, BaseException) for n in r[1]]
        assert len(ids) == len(set(ids)), "a notice was claimed by two consumers"
        assert len(ids) == min(len(fired), 2 * self.threads)

    # ------------------------------------------------------------ arguments

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            (lambda s: s.claim_notices("t", limit=0, lease=_dt.timedelta(1), worker="w"), "limit"),
            (lambda s: s.claim_notices("t", limit=5, lease=_dt.timedelta(0), worker="w"), "lease"),
            (lambda s: s.pending_notices("t", limit=0), "limit"),
            (lambda s: s.pending_notices("t", limit=None), "limit"),
            (lambda s: s.ack_notices("t", ["x"], None), "token"),
            (lambda s: s.release_notices("t", ["x"], b"tok"), "token"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_outbox_calls_name_a_bad_argument(
        self, store: Store, call: Callable[[Store], Any], argument: str
    ) -> None:
        """A non-positive ``limit`` or ``lease``, or a non-str token, is refused by name."""
        with pytest.raises(InvalidArgumentError) as info:
            call(store)
        assert info.value.argument == argument
