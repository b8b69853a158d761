"""One commitment whose tick result cannot be written never stops the tick for the others.

The databases here are real: a trigger makes the store refuse the notices of
one commitment (as a database refuses a value the checks at the edge let
through, say a policy stored by an older version).  The tick writes the
rest of the batch, sets the refused commitment aside with an event in its
history, tells the host once with a ``"tick_error"`` notice, and does not
claim it again until its deadline changes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

import keepword as kw
from tests.support.tick_hooks import drop_refusal, refuse_notices_of

T0 = dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC)
POLICY = kw.EscalationPolicy(
    "ladder",
    steps=[kw.Step(kw.before_due(hours=1), notify="owner"), kw.Step(kw.at_due(), notify="lead")],
)
_SERVERS = {"postgresql": "KEEPWORD_TEST_POSTGRES_URL", "mariadb": "KEEPWORD_TEST_MARIADB_URL"}


@pytest.fixture
def store(backend_url: str) -> Iterator[kw.SqlStore]:
    store = kw.SqlStore(backend_url, table_prefix=f"kw{uuid.uuid4().hex[:8]}_")
    store.create_schema()
    try:
        yield store
    finally:
        store.drop_schema()
        store.close()
        drop_refusal(backend_url, store.table_prefix)


def test_a_commitment_that_cannot_be_written_is_set_aside_and_the_rest_fire(
    store: kw.SqlStore, backend_url: str
) -> None:
    clock = kw.FrozenClock(T0)
    tracker = kw.Tracker(
        store, calendar=kw.BusinessCalendar(tz="UTC"), clock=clock, policies=POLICY
    )
    made = [
        tracker.promise(
            customer=f"acct-{i}", owner="alice", kind="reply", what="Reply", due=kw.within(hours=2)
        )
        for i in range(7)
    ]
    poisoned = made[3]
    refuse_notices_of(backend_url, store.table_prefix, poisoned.id)

    report = tracker.tick(clock.advance(hours=3))

    assert report.commitments == 7
    assert report.set_aside == 1
    assert report.errors == 0
    fired = [n for n in report.notices if n.action != "tick_error"]
    assert sorted({n.commitment_id for n in fired}) == sorted(c.id for c in made if c != poisoned)
    assert len(fired) == 6 * 2
    (alarm,) = [n for n in report.notices if n.action == "tick_error"]
    assert alarm.kind == "tick_error"
    assert alarm.commitment_id == poisoned.id
    assert alarm.recipient == "host"
    aside = tracker.get(poisoned.id)
    assert aside.history[-1].kind == "set_aside"
    assert "poisoned" in aside.history[-1].data["error"]
    assert aside.next_action_at is None
    assert aside.status is kw.Status.OPEN

    # never retried in a loop: the next ticks do not claim it again
    again = tracker.tick(clock.advance(hours=1))
    assert (again.commitments, again.set_aside, again.notices) == (0, 0, ())
    delivered: list[kw.Notice] = []
    assert tracker.dispatch(delivered.append, limit=100).delivered == 13
    assert [n.commitment_id for n in delivered if n.action == "tick_error"] == [poisoned.id]

    # and it stays keepable, and a new deadline schedules it again
    moved = tracker.renegotiate(poisoned.id, due=kw.within(hours=4))
    assert moved.next_action_at is not None
    assert tracker.keep(moved).status is kw.Status.KEPT


def test_a_set_aside_commitment_replays_to_itself() -> None:
    from keepword import transitions as t
    from keepword._ids import new_id

    cal = kw.BusinessCalendar(tz="UTC")
    c, _ = t.promise(
        id="c-1",
        tenant="shop",
        customer="acct-1",
        owner="alice",
        kind="reply",
        what="Reply",
        now=T0,
        calendar=cal,
        due=kw.within(hours=2),
        policy=POLICY,
    )
    later = T0 + dt.timedelta(hours=3)
    new, events, (notice,) = t.set_aside(
        c,
        now=later,
        error=UnicodeEncodeError("utf-8", "\ud800", 0, 1, "x\x00"),
        new_id=lambda: new_id(later),
    )
    assert [e.kind for e in events] == ["set_aside"]
    assert new.next_action_at is None
    assert "\\ud800" in new.history[-1].data["error"]
    assert "\x00" not in new.history[-1].data["error"]
    assert kw.commitment.replay(new.history, version=new.version) == new
    # other changes keep it aside until the deadline moves
    moved, _ = t.reassign(new, now=later, owner="bob")
    paused, _ = t.pause(moved, now=later, reason="waiting")
    resumed, _ = t.resume(paused, now=later)
    assert (moved.next_action_at, resumed.next_action_at) == (None, None)
    assert kw.commitment.replay(resumed.history, version=resumed.version) == resumed
    renegotiated, _ = t.renegotiate(resumed, now=later, due=kw.within(hours=2))
    assert renegotiated.next_action_at is not None
    assert notice.idempotency_key == f"c-1:{c.deadline_version}:tick_error"
