"""The integrator's kit fails stores with the bugs it exists to catch.

Each broken store below is a ``MemoryStore`` with one classic storage bug.
The whole ``StoreContract`` runs against each in a fresh pytest session
(``pytester``) and must report failures, including the tests named for that
bug; the state machine runs against each and must raise.  A control run with
the real ``MemoryStore`` must pass, so the failures come from the bugs, not
from the harness.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import Phase, settings

import keepword.testing
from keepword.commitment import Commitment
from keepword.errors import ConflictError, NotFoundError
from keepword.ports import Fire, Query
from keepword.stores.memory import MemoryStore
from keepword.testing.stateful import DEFAULT_SETTINGS, run_store_state_machine
from keepword.touchpoint import Touchpoint

pytest_plugins = ["pytester"]


class LostUpdateStore(MemoryStore):
    """Ignores ``expected_version``: the last writer wins and the other write is lost."""

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        with self._lock:
            self._get(commitment.tenant, commitment.id)
            self._rows[commitment.tenant][commitment.id] = commitment
            return commitment


class TenantLeakInGetStore(MemoryStore):
    """``get`` forgot the tenant filter: any tenant reads any id."""

    def get(self, tenant: str, id: str) -> Commitment:
        with self._lock:
            owner = self._tenant_of.get(id)
            if owner is None:
                raise NotFoundError("commitment", id, argument="id")
            return self._rows[owner][id]


class TenantLeakInFindStore(MemoryStore):
    """``find`` by customer forgot the tenant filter (the one query that forgot it)."""

    def find(self, tenant: str, query: Query) -> list[Commitment]:
        if query.customer is None:
            return super().find(tenant, query)
        with self._lock:
            tenants = list(self._rows)
        everyone: list[Commitment] = []
        for t in tenants:
            everyone.extend(MemoryStore.find(self, t, attrs.evolve(query, limit=None)))
        everyone.sort(key=query.sort_key)
        return everyone if query.limit is None else everyone[: query.limit]


class NonAtomicAddManyStore(MemoryStore):
    """``add_many`` adds one by one: a conflict half-way leaves the first half stored."""

    def add_many(self, commitments: Sequence[Commitment]) -> list[tuple[Commitment, bool]]:
        return [self.add(c) for c in commitments]


class DropsEventsStore(MemoryStore):
    """Keeps only the first of several events appended by one update."""

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        with self._lock:
            known = len(self._get(commitment.tenant, commitment.id).history)
            trimmed = attrs.evolve(commitment, history=commitment.history[: known + 1])
            return super().update(trimmed, expected_version=expected_version)


class CaseInsensitiveRefStore(MemoryStore):
    """Matches external references case-insensitively (a database collation's habit)."""

    def get_by_ref(self, tenant: str, external_ref: str) -> Commitment | None:
        for c in self.find(tenant, Query()):
            if c.external_ref is not None and c.external_ref.casefold() == external_ref.casefold():
                return c
        return None

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        with self._lock:
            if commitment.external_ref is not None:
                existing = self.get_by_ref(commitment.tenant, commitment.external_ref)
                if existing is not None:
                    return existing, False
            return super().add(commitment)


class SecondsOnlyStore(MemoryStore):
    """Drops microseconds from deadlines (a ``DATETIME`` column without fractions)."""

    def add(self, commitment: Commitment) -> tuple[Commitment, bool]:
        return super().add(_seconds(commitment))

    def update(self, commitment: Commitment, *, expected_version: int) -> Commitment:
        return super().update(_seconds(commitment), expected_version=expected_version)


def _seconds(c: Commitment) -> Commitment:
    return attrs.evolve(c, due_at=c.due_at.replace(microsecond=0))


class DuplicateNoticesStore(MemoryStore):
    """``fire_many`` ignores the unique (tenant, idempotency_key): re-sent notices are stored."""

    def fire_many(
        self, tenant: str, fires: Sequence[Fire], *, token: str
    ) -> list[Commitment | ConflictError | NotFoundError]:
        with self._lock:
            keys = {(tenant, n.idempotency_key) for f in fires for n in f.notices}
            saved = {k: self._notice_keys.pop(k) for k in keys if k in self._notice_keys}
            try:
                return super().fire_many(tenant, fires, token=token)
            finally:
                for k, v in saved.items():
                    self._notice_keys.setdefault(k, v)


class ClaimWithoutLockStore(MemoryStore):
    """``claim_due`` ignores live claims (no ``SKIP LOCKED``): two workers get one commitment."""

    def claim_due(
        self, tenant: str, now: _dt.datetime, *, limit: int, lease: _dt.timedelta, worker: str
    ) -> tuple[str, list[Commitment]]:
        with self._lock:
            held, self._claims = self._claims, {}
            try:
                return super().claim_due(tenant, now, limit=limit, lease=lease, worker=worker)
            finally:
                self._claims = {**held, **self._claims}


class ForgetsTouchpointRefStore(MemoryStore):
    """``add_touchpoint`` forgets the ref it stored: a webhook retry is stored a second time."""

    def add_touchpoint(self, touchpoint: Touchpoint) -> tuple[Touchpoint, bool]:
        with self._lock:
            if isinstance(touchpoint, Touchpoint) and touchpoint.ref is not None:
                self._touch_refs.pop((touchpoint.tenant, touchpoint.kind, touchpoint.ref), None)
            return super().add_touchpoint(touchpoint)


class CountsUncountedThanksStore(MemoryStore):
    """``thanks_by_customer`` counts every thank-you, the ones sent too soon after another too."""

    def thanks_by_customer(
        self, tenant: str, *, below: int, limit: int | None = None
    ) -> list[tuple[str, int, _dt.datetime | None]]:
        with self._lock:
            saved = self._touchpoints.get(tenant)
            if saved is not None:
                self._touchpoints[tenant] = [attrs.evolve(t, counted=True) for t in saved]
            try:
                return super().thanks_by_customer(tenant, below=below, limit=limit)
            finally:
                if saved is not None:
                    self._touchpoints[tenant] = saved


class PicksByNameStore(MemoryStore):
    """``extra_mile_candidate`` ignores the seed: the least-picked customer first by name."""

    def extra_mile_candidate(
        self, tenant: str, *, eligible_since: _dt.datetime, seed: str
    ) -> str | None:
        first = super().extra_mile_candidate(tenant, eligible_since=eligible_since, seed=seed)
        if first is None:
            return None
        picks: dict[str, int] = {}
        for t in self.touchpoints(tenant, kind="extra_mile"):
            picks[t.customer] = picks.get(t.customer, 0) + 1
        eligible = {t.customer for t in self.touchpoints(tenant, since=eligible_since)}
        eligible |= {c.customer for c in self.find(tenant, Query()) if c.made_at >= eligible_since}
        return min(eligible, key=lambda c: (picks.get(c, 0), c))


class ServesOutOfOrderStore(MemoryStore):
    """Serves the line newest first: a later order gets the stock before an earlier one."""

    def _line(self, tenant: str, resource: str) -> list[Commitment]:
        return list(reversed(super()._line(tenant, resource)))


class ServesTwiceStore(MemoryStore):
    """Reads the line, lets go of its lock, then writes: two racing allocations serve one order."""

    def serve_in_turn(
        self,
        tenant: str,
        resource: str,
        *,
        quantity: int,
        at: _dt.datetime,
        partial: bool = False,
        first: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[Commitment]:
        from keepword.stores._memory_waitlists import serve_plan

        with self._lock:
            line = self._line(tenant, resource)
        time.sleep(0.02)  # another allocation reads the same head meanwhile
        with self._lock:
            plan = serve_plan(iter(line), [], resource, quantity, at, partial, reason, actor)
            for _old, new in plan:
                self._put(new)
            return [new for _old, new in plan]


BROKEN: dict[str, type[MemoryStore]] = {
    "lost-update": LostUpdateStore,
    "tenant-leak-get": TenantLeakInGetStore,
    "tenant-leak-find": TenantLeakInFindStore,
    "non-atomic-add-many": NonAtomicAddManyStore,
    "drops-events": DropsEventsStore,
    "case-insensitive-refs": CaseInsensitiveRefStore,
    "seconds-only": SecondsOnlyStore,
    "duplicate-notices": DuplicateNoticesStore,
    "claim-without-lock": ClaimWithoutLockStore,
    "forgets-touchpoint-ref": ForgetsTouchpointRefStore,
    "counts-uncounted-thanks": CountsUncountedThanksStore,
    "picks-by-name": PicksByNameStore,
    "serves-out-of-order": ServesOutOfOrderStore,
}

RACE_ONLY: dict[str, type[MemoryStore]] = {"serves-twice": ServesTwiceStore}
"""Bugs only a race shows: the contract's concurrency tests must catch them (a sequential
state machine cannot)."""

MUST_FAIL: dict[str, set[str]] = {
    "lost-update": {
        "test_a_stale_update_conflicts_and_changes_nothing",
        "test_concurrent_updates_of_one_version_have_one_winner",
        "test_update_refuses_a_rewritten_history",
    },
    "tenant-leak-get": {
        "test_another_tenants_id_is_not_found",
        "test_tenants_differing_by_one_code_point_are_isolated",
    },
    "tenant-leak-find": {"test_find_and_count_see_only_the_tenant"},
    "non-atomic-add-many": {
        "test_add_many_with_a_repeated_id_stores_nothing",
        "test_add_many_with_an_existing_id_stores_nothing",
        "test_add_many_is_all_or_nothing",
    },
    "drops-events": {
        "test_an_update_may_append_several_events",
        "test_history_is_appended_never_rewritten",
    },
    "case-insensitive-refs": {"test_refs_differing_by_one_code_point_are_different"},
    "seconds-only": {
        "test_add_stores_and_returns_the_commitment",
        "test_instants_come_back_utc_with_microseconds",
    },
    "duplicate-notices": {"test_firing_a_key_twice_stores_it_once"},
    "claim-without-lock": {
        "test_claim_due_respects_limit_and_a_live_claim",
        "test_claims_in_turn_take_every_due_one_once_in_order",
        "test_an_expired_claim_is_claimed_again",
        "test_release_gives_up_only_the_tokens_claims",
        "test_concurrent_claims_never_share_a_commitment",
    },
    "forgets-touchpoint-ref": {
        "test_adding_a_known_ref_returns_the_stored_one_and_stores_nothing",
        "test_concurrent_adds_of_one_touchpoint_ref_store_exactly_one",
    },
    "counts-uncounted-thanks": {
        "test_uncounted_thank_yous_and_other_kinds_are_not_counted",
        "test_thanks_by_customer_lists_relationships_below_the_target",
    },
    "picks-by-name": {
        "test_picks_before_the_window_count_but_do_not_make_eligible",
        "test_extra_mile_candidate_is_least_picked_then_first_by_pick_order",
    },
    "serves-out-of-order": {
        "test_whole_orders_in_turn_a_large_early_order_stops_the_line",
        "test_allocations_follow_the_reference_plan",
        "test_concurrent_allocations_serve_the_head_once",
    },
    "serves-twice": {"test_concurrent_allocations_serve_the_head_once"},
}

_QUICK_PROFILE = "keepword-kit-check"
# Failing examples are not shrunk: these runs only need to see a failure.
settings.register_profile(
    _QUICK_PROFILE,
    max_examples=50,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    print_blob=False,
)

_CONTRACT = "keepword.testing.contract"

CONTRACT_MODULE = """
import pytest

from keepword.testing import StoreContract
from test_kit_catches_bugs import {cls}


class TestStore(StoreContract):
    @pytest.fixture
    def store(self):
        s = {cls}()
        yield s
        s.close()
"""


def _run_contract(pytester: pytest.Pytester, cls: type[MemoryStore]) -> dict[str, set[str]]:
    """Run the whole contract against ``cls`` in a fresh session; test names by outcome."""
    pytester.syspathinsert(Path(__file__).parent)
    module = CONTRACT_MODULE.format(cls=cls.__name__)
    if cls is MemoryStore:
        module = module.replace("from test_kit_catches_bugs import MemoryStore", "")
        module = "from keepword.stores.memory import MemoryStore\n" + module
    pytester.makepyfile(test_contract_run=module)
    # The contract's Hypothesis settings are fixed when its module is imported,
    # so the inner session imports it afresh, under the quick profile.
    previous = settings.get_current_profile_name()
    saved = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if name == _CONTRACT or name.startswith(f"{_CONTRACT}.")
    }
    try:
        recorder = pytester.inline_run(
            "-p", "no:cacheprovider", "-q", f"--hypothesis-profile={_QUICK_PROFILE}"
        )
    finally:
        settings.load_profile(previous)
        for name in [n for n in sys.modules if n == _CONTRACT or n.startswith(f"{_CONTRACT}.")]:
            del sys.modules[name]
        sys.modules.update(saved)
        if _CONTRACT in saved:
            keepword.testing.contract = saved[_CONTRACT]  # type: ignore[attr-defined]
    passed, skipped, failed = recorder.listoutcomes()
    outcomes: dict[str, set[str]] = {"passed": set(), "skipped": set(), "failed": set()}
    for name, reports in (("passed", passed), ("skipped", skipped), ("failed", failed)):
        for report in reports:
            outcomes[name].add(report.nodeid.split("::")[-1].split("[")[0])
    return outcomes


def test_the_contract_passes_the_real_memory_store(pytester: pytest.Pytester) -> None:
    outcomes = _run_contract(pytester, MemoryStore)
    assert outcomes["failed"] == set()
    assert len(outcomes["passed"]) > 50


@pytest.mark.parametrize("bug", sorted([*BROKEN, *RACE_ONLY]))
def test_the_contract_fails_a_broken_store(pytester: pytest.Pytester, bug: str) -> None:
    outcomes = _run_contract(pytester, {**BROKEN, **RACE_ONLY}[bug])
    missed = MUST_FAIL[bug] - outcomes["failed"]
    assert not missed, f"{bug}: these contract tests passed a broken store: {sorted(missed)}"


_FAST = settings(
    DEFAULT_SETTINGS,
    max_examples=300,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    print_blob=False,
)


_ATTEMPTS = 5
"""Runs of the state machine a broken store must not pass every time."""


def _failure_of(run: Callable[[], None]) -> BaseException | None:
    try:
        run()
    except BaseException as exc:  # Hypothesis may wrap the failure in a group
        return exc
    return None


def _holds_assertion(exc: BaseException) -> bool:
    if isinstance(exc, AssertionError):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_holds_assertion(e) for e in exc.exceptions)
    return False


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_the_state_machine_catches_a_broken_store(bug: str) -> None:
    # Each attempt draws fresh random programs: a bug that needs two commitments waiting for
    # one resource (serves-out-of-order) is missed by one run of 300 now and then, and a
    # replay of a found failure may end in Hypothesis' FlakyStrategyDefinition instead.
    failure = None
    for _ in range(_ATTEMPTS):
        failure = _failure_of(lambda: run_store_state_machine(BROKEN[bug], settings=_FAST))
        if failure is not None and _holds_assertion(failure):
            break
    assert failure is not None, f"the state machine passed the {bug} store {_ATTEMPTS} times"
    assert _holds_assertion(failure), f"{bug}: failed with {failure!r}, not a divergence"


def test_the_state_machine_catches_a_store_that_forgets_on_reopen() -> None:
    def reopen(store: MemoryStore) -> MemoryStore:
        store.close()
        return MemoryStore()  # everything lost

    failure = _failure_of(
        lambda: run_store_state_machine(MemoryStore, reopen=reopen, settings=_FAST)  # type: ignore[arg-type]
    )
    assert failure is not None
    assert _holds_assertion(failure)


def test_broken_stores_differ_from_memory_store_only_by_their_bug() -> None:
    """Sanity: each broken store still stores and reads a plain commitment."""
    from keepword.testing import make_commitment

    for cls in [*BROKEN.values(), *RACE_ONLY.values()]:
        store = cls()
        c = make_commitment(made_at=_dt.datetime(2026, 11, 23, 10, tzinfo=_dt.UTC))
        store.add(c)
        assert store.get(c.tenant, c.id) == c
