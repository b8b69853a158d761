"""Edge values on every store: the same answer, or the same named error, on all four.

MemoryStore, SQLite, and PostgreSQL and MariaDB when their URLs are set
(``tests/conftest.py``).  The rules are decided once, in
``keepword._validate``: a limit beyond ``2**63 - 1`` is no limit; a lease
is at most 366 days; an expected version no row can be at is a version
conflict; terms as deep as keepword accepts are stored and read back equal.
A stored row that cannot be read back does not stop a tenant's claims.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

import keepword
from keepword import transitions as _t
from keepword._ids import new_id
from keepword._json import freeze_json
from keepword._validate import MAX_LEASE, MAX_LIMIT, check_lease, check_positive
from keepword.commitment import Commitment
from keepword.errors import ConflictError, InvalidArgumentError
from keepword.ports import Fire, Query, Store
from keepword.stores.sql import SqlStore
from keepword.testing import fire_one
from tests.support.backends import open_store
from tests.support.builders import T0, commitment, escalating

UTC = _dt.UTC
TENANT = "tenant-a"
SECOND = _dt.timedelta(seconds=1)
BIG = 2**63
"""One more than the largest integer a SQL ``LIMIT`` or ``BIGINT`` holds."""

MARIADB_DEEPEST_TERMS = 30
"""The most nested objects and arrays (the terms mapping counted) MariaDB stores in ``terms``.

Measured: the ``promised`` event's data holds the terms one level down, and
MariaDB refuses JSON nested 32 containers deep; 31 levels of terms are refused.
"""


@pytest.fixture
def sql_store(backend_url: str) -> Iterator[SqlStore]:
    """A fresh SqlStore on each SQL backend (the ``store`` fixture is tests/conftest.py's)."""
    yield from open_store(backend_url)


NOW = T0 + _dt.timedelta(hours=2)
"""When :func:`_due`'s commitments have their first step due, and no other."""


def _due(store: Store, count: int) -> list[Commitment]:
    """``count`` escalating commitments whose first step (2 hours before the deadline) is due."""
    made = [escalating(TENANT, due_at=T0 + _dt.timedelta(hours=3, minutes=i)) for i in range(count)]
    store.add_many(made)
    return made


def _with_pending_notices(store: Store, count: int) -> None:
    """Fire ``count`` commitments once each, leaving one pending notice per commitment."""
    _due(store, count)
    token, claimed = store.claim_due(TENANT, NOW, limit=count, lease=SECOND * 60, worker="w")
    for c in claimed:
        assert c.next_action_at is not None
        new, _, notices = _t.escalate(c, now=c.next_action_at, new_id=lambda: new_id(T0))
        fire_one(store, new, expected_version=c.version, notices=notices, token=token)


# --------------------------------------------------------------------------- the rules


def test_a_limit_beyond_what_sql_holds_is_clamped_not_refused() -> None:
    assert check_positive(BIG, "limit") == MAX_LIMIT
    assert check_positive(2**200, "limit") == MAX_LIMIT
    assert check_positive(MAX_LIMIT, "limit") == MAX_LIMIT
    with pytest.raises(InvalidArgumentError, match="must be > 0") as caught:
        check_positive(-(2**70), "batch")
    assert caught.value.argument == "batch"


def test_a_lease_is_bounded_by_a_year_and_a_day_naming_the_argument() -> None:
    assert check_lease(MAX_LEASE) == MAX_LEASE
    for too_long in (MAX_LEASE + _dt.timedelta(microseconds=1), _dt.timedelta.max):
        with pytest.raises(InvalidArgumentError, match="at most 366 days") as caught:
            check_lease(too_long, "late_after")
        assert caught.value.argument == "late_after"
        assert caught.value.fix


# --------------------------------------------------------------------------- limits


def test_a_huge_find_limit_is_no_limit(store: Store) -> None:
    _due(store, 3)
    everything = store.find(TENANT, Query())
    for limit in (MAX_LIMIT, BIG, 2**70):
        assert store.find(TENANT, Query(limit=limit)) == everything


def test_a_huge_claim_limit_claims_everything_due(store: Store) -> None:
    made = _due(store, 3)
    _, claimed = store.claim_due(TENANT, NOW, limit=BIG, lease=SECOND * 60, worker="w")
    assert sorted(c.id for c in claimed) == sorted(c.id for c in made)


def test_huge_notice_limits_return_every_notice(store: Store) -> None:
    _with_pending_notices(store, 2)
    pending = store.pending_notices(TENANT, limit=BIG)
    assert len(pending) == 2
    _, claimed = store.claim_notices(TENANT, limit=BIG, lease=SECOND * 60, worker="w")
    assert sorted(n.id for n in claimed) == sorted(n.id for n in pending)


# --------------------------------------------------------------------------- leases


@pytest.mark.parametrize(
    "lease", [_dt.timedelta.max, MAX_LEASE + SECOND], ids=["timedelta.max", "a year and a day+1s"]
)
def test_a_lease_beyond_a_year_is_refused_and_claims_nothing(
    store: Store, lease: _dt.timedelta
) -> None:
    _with_pending_notices(store, 1)
    _due(store, 1)
    now = NOW
    with pytest.raises(InvalidArgumentError, match="366 days") as caught:
        store.claim_due(TENANT, now, limit=10, lease=lease, worker="w")
    assert caught.value.argument == "lease"
    with pytest.raises(InvalidArgumentError, match="366 days") as caught:
        store.claim_notices(TENANT, limit=10, lease=lease, worker="w")
    assert caught.value.argument == "lease"
    # nothing was claimed: a claim with a fair lease still gets everything
    _, due = store.claim_due(TENANT, now, limit=10, lease=SECOND * 60, worker="w")
    assert len(due) == 1
    _, notices = store.claim_notices(TENANT, limit=10, lease=SECOND * 60, worker="w")
    assert len(notices) == 1


def test_the_longest_lease_is_accepted(store: Store) -> None:
    _with_pending_notices(store, 1)
    _, notices = store.claim_notices(TENANT, limit=10, lease=MAX_LEASE, worker="w")
    assert len(notices) == 1
    assert store.pending_notices(TENANT, limit=10) == []


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize("expected", [2**31, BIG], ids=["2**31", "2**63"])
def test_an_expected_version_no_row_can_be_at_is_a_version_conflict(
    store: Store, expected: int
) -> None:
    c = commitment(TENANT)
    store.add(c)
    with pytest.raises(ConflictError) as caught:
        store.update(attrs.evolve(c, version=expected + 1), expected_version=expected)
    assert caught.value.argument == "expected_version"
    outcome = store.fire_many(
        TENANT, [Fire(attrs.evolve(c, version=expected + 1), expected)], token="tok"
    )
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    assert store.get(TENANT, c.id) == c


@pytest.mark.parametrize("field", ["deadline_version", "escalation_cursor"])
def test_a_counter_no_database_integer_holds_is_a_named_error_not_an_overflow(
    sql_store: SqlStore, field: str
) -> None:
    c = attrs.evolve(commitment(TENANT), **{field: BIG})
    with pytest.raises(InvalidArgumentError, match="refused a value") as caught:
        sql_store.add(c)
    assert caught.value.argument == "value"
    assert sql_store.count(TENANT, Query()) == 0


# --------------------------------------------------------------------------- JSON depth


def _nested_terms(levels: int) -> dict[str, Any]:
    """Terms of ``levels`` nested objects and arrays, the terms mapping the first.

    The innermost is an empty array: a container, which is what a JSON depth
    limit counts (a scalar inside the innermost container adds no level).
    """
    value: Any = []
    for _ in range(levels - 2):
        value = {"k": value}
    return {"deep": value}


def _deepest_terms_keepword_accepts() -> int:
    """The most nested levels of terms that ``freeze_json`` accepts (found, not assumed)."""
    levels = 1
    while levels < 1000:
        try:
            freeze_json(_nested_terms(levels + 1), "terms")
        except InvalidArgumentError:
            return levels
        levels += 1
    raise AssertionError("freeze_json accepts terms nested 1000 levels deep")


def _promise_with(store: Store, terms: dict[str, Any]) -> Commitment:
    tracker = keepword.Tracker(
        store,
        tenant=TENANT,
        clock=keepword.FrozenClock(T0),
        calendar=keepword.BusinessCalendar.always_open("UTC"),
    )
    return tracker.promise(
        customer="acct-1", owner="o", kind="reply", what="deep", due=T0 + SECOND * 3600, terms=terms
    )


_DEEPEST = _deepest_terms_keepword_accepts()


@pytest.mark.parametrize(
    "levels", [MARIADB_DEEPEST_TERMS, MARIADB_DEEPEST_TERMS + 1], ids=["mariadb-max", "one-more"]
)
def test_deep_terms_are_stored_whole_or_refused_whole(
    store: Store, request: pytest.FixtureRequest, levels: int
) -> None:
    """Stored and read back equal where keepword and the database take them; else refused whole.

    MariaDB holds 30 levels and refuses 31 (as an InvalidArgumentError, nothing
    written), whatever keepword's own limit is.
    """
    mariadb = "mariadb" in request.node.callspec.id
    stored = levels <= _DEEPEST and not (mariadb and levels > MARIADB_DEEPEST_TERMS)
    terms = _nested_terms(levels)
    if stored:
        made = _promise_with(store, terms)
        back = store.get(TENANT, made.id)
        assert back.terms == terms
        assert back.history[0].data["terms"] == terms
    else:
        with pytest.raises(InvalidArgumentError):
            _promise_with(store, terms)
        assert store.count(TENANT, Query()) == 0  # nothing half-written


def test_the_deepest_terms_keepword_accepts_round_trip_on_every_store(
    store: Store, request: pytest.FixtureRequest
) -> None:
    assert _DEEPEST <= MARIADB_DEEPEST_TERMS, "the domain's JSON depth limit must fit MariaDB"
    terms = _nested_terms(_DEEPEST)
    made = _promise_with(store, terms)
    assert store.get(TENANT, made.id).terms == terms


# --------------------------------------------------------------------------- unreadable rows


def _corrupt_calendar(store: SqlStore, id: str) -> None:
    """Overwrite a commitment's calendar snapshot by hand with JSON no calendar is made of."""
    table = store.metadata.tables[f"{store.table_prefix}commitments"]
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.tenant == TENANT, table.c.id == id)
            .values(calendar={"not": "a calendar"})
        )


def _claim_token_of(store: SqlStore, id: str) -> Any:
    table = store.metadata.tables[f"{store.table_prefix}commitments"]
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(table.c.claim_token).where(table.c.tenant == TENANT, table.c.id == id)
        ).scalar_one()


def test_a_row_that_cannot_be_read_back_is_skipped_logged_and_kept(
    sql_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    bad, good, later = _due(sql_store, 3)  # due in this order
    _corrupt_calendar(sql_store, bad.id)
    now = NOW
    with caplog.at_level(logging.ERROR, logger="keepword.stores.sql"):
        token, claimed = sql_store.claim_due(TENANT, now, limit=2, lease=SECOND * 60, worker="w")
    # the batch is filled past the bad row, which is left claimed, untouched
    assert [c.id for c in claimed] == [good.id, later.id]
    reports = [r for r in caplog.records if bad.id in r.getMessage()]
    assert len(reports) == 1
    assert TENANT in reports[0].getMessage()
    assert _claim_token_of(sql_store, bad.id) is not None
    # the other commitments fire as usual
    for c in claimed:
        assert c.next_action_at is not None
        new, _, notices = _t.escalate(c, now=c.next_action_at, new_id=lambda: new_id(T0))
        fire_one(sql_store, new, expected_version=c.version, notices=notices, token=token)
    # within the lease the bad row is not claimed, nor reported, again: no hot loop
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="keepword.stores.sql"):
        _, again = sql_store.claim_due(TENANT, now, limit=2, lease=SECOND * 60, worker="w")
    assert again == []
    assert not [r for r in caplog.records if bad.id in r.getMessage()]


def test_a_claim_of_only_unreadable_rows_comes_back_empty_without_raising(
    sql_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    (bad,) = _due(sql_store, 1)
    _corrupt_calendar(sql_store, bad.id)
    with caplog.at_level(logging.ERROR, logger="keepword.stores.sql"):
        _, claimed = sql_store.claim_due(TENANT, NOW, limit=5, lease=SECOND * 60, worker="w")
    assert claimed == []
    assert any(bad.id in r.getMessage() for r in caplog.records)
    assert sql_store.next_action_at(TENANT) == bad.next_action_at  # still due, not lost
