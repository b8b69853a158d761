"""A minimal storage adapter on plain dicts passes the contracts of the ports it declares.

``DictRepository`` is the commitment repository alone; ``DictStore`` adds the
tick queue.  Neither has an outbox, so the outbox contract is reported as
skipped, with a reason that names the port.  Both are small on purpose: they
show an integrator how little a store needs (docs/storage-adapter.md), and
other tests use them as partial stores
(``from test_minimal_adapter import DictRepository, DictStore``).
"""

from __future__ import annotations

import datetime as _dt
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from keepword._validate import check_identifier, check_ids, check_lease, check_positive
from keepword.clock import Clock, SystemClock
from keepword.commitment import Commitment, Status
from keepword.errors import ConflictError, InvalidArgumentError, NotFoundError
from keepword.notice import Notice
from keepword.ports import (
    Fire,
    Query,
    check_fires,
    check_new_commitment,
    check_query,
    check_write,
    version_conflict,
)
from keepword.testing import StoreContract

pytest_plugins = ["pytester"]

_IMMUTABLE = ("id", "tenant", "made_at", "external_ref")


class DictRepository:
    """The commitment repository on a dict, behind one lock: nothing else."""

    ports: frozenset[str] = frozenset({"commitments"})
    capabilities: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rows: dict[str, Commitment] = {}  # id -> commitment (ids are unique store-wide)

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        """Store a new commitment unless its tenant already has its external reference."""
        return self.add_many([commitment])[0]

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        """Store new commitments, all or nothing: staged in a copy, published at the end."""
        items = [check_new_commitment(c, f"commitments[{i}]") for i, c in enumerate(commitments)]
        with self.lock:
            staged, out = dict(self.rows), []
            for c in items:
                existing = c.external_ref and self._by_ref(staged, c.tenant, c.external_ref)
                if existing:
                    out.append((existing, False))
                    continue
                if c.id in staged:
                    raise ConflictError(f"a commitment with id {c.id!r} exists", argument="id")
                staged[c.id] = c
                out.append((c, True))
            self.rows = staged
            return out

    @staticmethod
    def _by_ref(rows: dict[str, Commitment], tenant: str, ref: str) -> Commitment | None:
        return next((c for c in rows.values() if (c.tenant, c.external_ref) == (tenant, ref)), None)

    def get(self, tenant: str, id: str) -> Commitment:
        """The tenant's commitment ``id``; another tenant's is not found."""
        found = self.rows.get(check_identifier(id, "id"))
        if found is None or found.tenant != check_identifier(tenant, "tenant"):
            raise NotFoundError("commitment", id, argument="id")
        return found

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        """The tenant's commitment with this external reference, or ``None``."""
        return self._by_ref(self.rows, tenant, check_identifier(external_ref, "external_ref"))

    def checked(self, new: Commitment, expected_version: int) -> Commitment:
        """``new`` if it may replace the stored commitment at ``expected_version``."""
        stored = self.get(new.tenant, new.id)
        if stored.version != expected_version:
            raise version_conflict(new.id, expected_version, stored.version)
        changed = [f for f in _IMMUTABLE if getattr(new, f) != getattr(stored, f)]
        if changed or new.history[: len(stored.history)] != stored.history:
            raise InvalidArgumentError("rewrites the stored commitment", argument="commitment")
        return new

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        """Replace a stored commitment iff nobody changed it since ``expected_version``."""
        new = check_write(commitment, expected_version)
        with self.lock:
            self.rows[new.id] = self.checked(new, expected_version)
            return new

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        """The tenant's commitments matching ``query``, in its order, at most its limit."""
        return self._matching(tenant, query)[: query.limit]

    def count(self, tenant: str, query: Query) -> int:
        """How many of the tenant's commitments match ``query``."""
        return len(self._matching(tenant, query))

    def _matching(self, tenant: str, query: Query) -> list[Commitment]:
        q = check_query(query)
        rows = list(self.rows.values())
        return sorted((c for c in rows if c.tenant == tenant and q.matches(c)), key=q.sort_key)

    def close(self) -> None:
        """Nothing to release."""


class DictStore(DictRepository):
    """The repository and the tick queue; leases judged by ``clock``.  No outbox."""

    ports: frozenset[str] = frozenset({"commitments", "tick_queue"})

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self.clock = clock or SystemClock()
        self.claims: dict[str, tuple[str, _dt.datetime]] = {}  # id -> (token, until)
        self.fired: dict[tuple[str, str], Notice] = {}  # (tenant, key) -> notice; never read

    def claim_due(
        self, tenant: str, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        """Claim the due OPEN commitments whose claim is free or expired, in order."""
        check_positive(limit, "limit")
        check_lease(lease)
        token = uuid.uuid4().hex
        with self.lock:
            clock = self.clock.now()
            due = [
                c
                for c in self.find(tenant, Query(statuses={Status.OPEN}))
                if c.next_action_at is not None
                and c.next_action_at <= now
                and self.claims.get(c.id, ("", clock))[1] <= clock
            ]
            due.sort(key=lambda c: (c.next_action_at, c.id))
            for c in due[:limit]:
                self.claims[c.id] = (token, clock + lease)
            return token, due[:limit]

    def fire_many(
        self, tenant: str, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        """Write the fires whose version and claim still hold; report the others."""
        batch = check_fires(tenant, fires)
        check_identifier(token, "token")
        with self.lock:
            outcomes = [self._judge(fire, token) for fire in batch]
            for fire, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Commitment):
                    self.rows[outcome.id] = outcome
                    del self.claims[outcome.id]
                    for n in fire.notices:
                        self.fired.setdefault((tenant, n.idempotency_key), n)
            return outcomes

    def _judge(self, fire: Fire, token: str) -> Commitment | ConflictError | NotFoundError:
        try:
            self.checked(fire.commitment, fire.expected_version)
        except (ConflictError, NotFoundError) as error:
            return error
        if self.claims.get(fire.commitment.id, ("",))[0] != token:
            return ConflictError("the claim was lost or never held", argument="token")
        return fire.commitment

    def release(self, tenant: str, ids: Sequence[str], token: str) -> int:
        """Free the claims ``token`` holds on the tenant's ``ids``."""
        wanted = check_ids(ids)
        check_identifier(token, "token")
        with self.lock:
            mine = [
                i
                for i in wanted
                if self.claims.get(i, ("",))[0] == token and self.rows[i].tenant == tenant
            ]
            for i in mine:
                del self.claims[i]
            return len(mine)

    def next_action_at(self, tenant: str) -> _dt.datetime | None:
        """The earliest step of the tenant's OPEN commitments, claimed or not."""
        steps = [c.next_action_at for c in self.find(tenant, Query(statuses={Status.OPEN}))]
        return min((s for s in steps if s is not None), default=None)


class TestDictStore(StoreContract):
    """The repository and tick-queue contracts run; the outbox contract is skipped."""

    @pytest.fixture
    def store(self) -> Iterator[DictStore]:
        s = DictStore()
        yield s
        s.close()


_PARTIAL = """
import pytest

from keepword.testing import {contract}
from test_minimal_adapter import {cls}


class TestPartial({contract}):
    @pytest.fixture
    def store(self):
        yield {cls}()
"""


def _run(pytester: pytest.Pytester, contract: str, cls: str) -> dict[str, list[str]]:
    """Run ``contract`` against ``cls`` in a fresh session: the skip reasons, by outcome."""
    pytester.syspathinsert(Path(__file__).parent)
    pytester.makepyfile(test_partial=_PARTIAL.format(contract=contract, cls=cls))
    passed, skipped, failed = pytester.inline_run("-p", "no:cacheprovider").listoutcomes()
    return {
        "passed": [r.nodeid for r in passed],
        "failed": [r.nodeid for r in failed],
        "skipped": [r.nodeid for r in skipped],
        "reasons": [str(r.longrepr[2]) for r in skipped if isinstance(r.longrepr, tuple)],
    }


def test_the_outbox_contract_is_skipped_naming_the_outbox(pytester: pytest.Pytester) -> None:
    outcomes = _run(pytester, "OutboxContract", "DictStore")
    assert outcomes["passed"] == outcomes["failed"] == []
    assert len(outcomes["reasons"]) == len(outcomes["skipped"]) >= 10
    for reason in outcomes["reasons"]:
        assert "does not declare the 'outbox' port" in reason, reason
        assert "'tick_queue'" not in reason.split("(")[0], reason


def test_tick_tests_that_read_the_outbox_are_skipped_naming_it(pytester: pytest.Pytester) -> None:
    outcomes = _run(pytester, "TickQueueContract", "DictStore")
    assert outcomes["failed"] == []
    assert any("test_claim_due_takes_only_due_open_commitments" in p for p in outcomes["passed"])
    assert any("test_firing_a_key_twice_stores_it_once" in s for s in outcomes["skipped"])
    assert len(outcomes["reasons"]) == len(outcomes["skipped"])
    for reason in outcomes["reasons"]:
        assert "does not declare the 'outbox' port" in reason, reason


def test_a_repository_alone_skips_the_tick_queue_naming_it(pytester: pytest.Pytester) -> None:
    outcomes = _run(pytester, "TickQueueContract", "DictRepository")
    assert outcomes["passed"] == outcomes["failed"] == []
    assert len(outcomes["reasons"]) == len(outcomes["skipped"]) >= 10
    for reason in outcomes["reasons"]:
        assert "does not declare the" in reason, reason
        assert "'tick_queue'" in reason, reason
