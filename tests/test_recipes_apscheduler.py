"""The APScheduler recipe (docs/recipes/apscheduler_job.py), run deterministically.

The scheduler is started paused, so it never runs a job by itself: the test
plays the scheduler, setting a frozen clock to the job's next run time and
calling the job function.  No sleeping, no real time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import keepword as kw

pytest.importorskip("apscheduler")

from apscheduler.schedulers.background import BackgroundScheduler

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes"
if str(RECIPES) not in sys.path:
    sys.path.insert(0, str(RECIPES))
recipe: Any = importlib.import_module("apscheduler_job")

CAL = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
MONDAY_9 = dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC)  # Mon 09:00 New York
LADDER = kw.EscalationPolicy(
    "standard",
    steps=[
        kw.Step(kw.before_due(business_hours=2), notify="owner"),
        kw.Step(kw.at_due(), notify="manager"),
        kw.Step(kw.after_due(business_hours=4), notify="director"),
    ],
)


def ny(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC) + dt.timedelta(hours=5)


@pytest.fixture
def clock() -> kw.FrozenClock:
    return kw.FrozenClock(MONDAY_9)


@pytest.fixture
def tracker(clock: kw.FrozenClock) -> kw.Tracker:
    return kw.Tracker(kw.MemoryStore(), calendar=CAL, tenant="shop", clock=clock, policies=LADDER)


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def run_due_job(scheduler: BackgroundScheduler, clock: kw.FrozenClock) -> dt.datetime:
    """Play the scheduler: move the clock to the job's run time and run it."""
    job = scheduler.get_job(recipe.JOB_ID)
    assert job is not None, "the tick job did not reschedule itself"
    at: dt.datetime = job.next_run_time
    assert at >= clock.now(), "the job was scheduled in the past"
    clock.set(at)
    job.func(*job.args)
    return at


def test_the_job_sleeps_exactly_until_next_wakeup(
    scheduler: BackgroundScheduler,
    clock: kw.FrozenClock,
    tracker: kw.Tracker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recipe, "MAX_SLEEP", dt.timedelta(days=7))
    c = tracker.promise(
        customer="acct-7", owner="bob", kind="refund", what="Refund order 1001",
        due=kw.within(business_hours=4),
    )  # fmt: skip
    assert c.due_at == ny(23, 13)
    recipe.start(scheduler, tracker)
    runs = [run_due_job(scheduler, clock) for _ in range(5)]
    assert runs == [
        ny(23, 9),  # started
        ny(23, 11),  # two business hours before the deadline: the owner
        ny(23, 13),  # the deadline: the manager
        ny(23, 13) + dt.timedelta(microseconds=1),  # just past it: the breach is recorded
        ny(23, 17),  # four business hours past it: the director
    ]
    notices = tracker.pending_notices()
    assert [n.recipient for n in notices] == ["owner", "manager", "director"]
    assert all(n.fired_at == n.scheduled_at and not n.late for n in notices)
    assert tracker.get(c).breached_at == ny(23, 13)
    # nothing left to do: the job checks back after MAX_SLEEP
    assert scheduler.get_job(recipe.JOB_ID).next_run_time == ny(23, 17) + dt.timedelta(days=7)


def test_the_job_never_sleeps_longer_than_max_sleep(
    scheduler: BackgroundScheduler, clock: kw.FrozenClock, tracker: kw.Tracker
) -> None:
    tracker.promise(
        customer="acct-7", owner="bob", kind="reply", what="Reply",
        due=kw.within(business_hours=4),
    )  # fmt: skip
    recipe.start(scheduler, tracker)
    runs = [run_due_job(scheduler, clock)]
    while tracker.count() and not tracker.pending_notices():
        runs.append(run_due_job(scheduler, clock))
    gaps = {b - a for a, b in itertools.pairwise(runs)}
    assert max(gaps) <= recipe.MAX_SLEEP
    assert runs[-1] == ny(23, 11)  # the reminder fired exactly on time
    assert not tracker.pending_notices()[0].late


def test_a_promise_made_later_is_ticked_at_once_after_wake_now(
    scheduler: BackgroundScheduler,
    clock: kw.FrozenClock,
    tracker: kw.Tracker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recipe, "MAX_SLEEP", dt.timedelta(days=7))
    recipe.start(scheduler, tracker)
    run_due_job(scheduler, clock)  # nothing to do: back in a week
    assert scheduler.get_job(recipe.JOB_ID).next_run_time == MONDAY_9 + dt.timedelta(days=7)
    clock.advance(minutes=30)
    tracker.promise(
        customer="acct-1", owner="alice", kind="reply", what="Call back",
        due=kw.within(hours=1),  # its reminder (2 business hours before) is due now
    )  # fmt: skip
    recipe.wake_now(scheduler, tracker)
    assert run_due_job(scheduler, clock) == MONDAY_9 + dt.timedelta(minutes=30)
    assert [n.recipient for n in tracker.pending_notices()] == ["owner"]


def test_a_failing_tick_still_reschedules_the_job(
    scheduler: BackgroundScheduler, clock: kw.FrozenClock, tracker: kw.Tracker
) -> None:
    class Down:
        """A tracker whose database is unreachable."""

        def now(self) -> dt.datetime:
            return clock.now()

        def tick(self) -> None:
            raise kw.StoreError("the database is unreachable")

        def next_wakeup(self) -> None:
            raise kw.StoreError("the database is unreachable")

    recipe.schedule(scheduler, Down(), clock.now())
    with pytest.raises(kw.StoreError):
        run_due_job(scheduler, clock)
    assert scheduler.get_job(recipe.JOB_ID).next_run_time == MONDAY_9 + recipe.MAX_SLEEP


def test_work_left_over_is_ticked_at_once(tracker: kw.Tracker) -> None:
    assert recipe.next_run(tracker, True) == MONDAY_9
    assert recipe.next_run(tracker, False) == MONDAY_9 + recipe.MAX_SLEEP


def test_the_worker_process_schedules_the_first_tick_now(tracker: kw.Tracker) -> None:
    scheduler = recipe.worker(tracker)
    job = scheduler.get_job(recipe.JOB_ID)
    assert job.func is recipe.tick_job
    assert job.trigger.run_date == MONDAY_9
