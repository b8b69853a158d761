"""keepword's tick as one APScheduler job that reschedules itself at ``next_wakeup()``.

The docs page docs/recipes/apscheduler.md shows this file;
tests/test_recipes_apscheduler.py runs it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

import keepword as kw

# --8<-- [start:job]
JOB_ID = "keepword-tick"
log = logging.getLogger("keepword.tick")

# The longest the job sleeps: a promise made meanwhile may need an earlier
# tick than the one planned (or call wake_now() right after promising).
MAX_SLEEP = dt.timedelta(minutes=5)


def next_run(tracker: kw.Tracker, more: bool) -> dt.datetime:
    """When to tick next: at once if work is left, else at ``next_wakeup()``, capped."""
    now = tracker.now()
    if more:
        return now
    latest = now + MAX_SLEEP
    try:
        wakeup = tracker.next_wakeup()
    except Exception:  # the database is unreachable: try again after a while
        log.exception("next_wakeup failed; ticking again in %s", MAX_SLEEP)
        return latest
    return latest if wakeup is None else max(now, min(wakeup, latest))


def tick_job(scheduler: BaseScheduler, tracker: kw.Tracker) -> None:
    """Tick once, then schedule the next run of this same job."""
    more = False
    try:
        report = tracker.tick()
        more = report.more
        log.info("fired %d notices, recorded %d breaches", report.fired, report.breaches)
    finally:
        # Even if the tick raised (say the database was down), the job comes back.
        schedule(scheduler, tracker, next_run(tracker, more))


def schedule(scheduler: BaseScheduler, tracker: kw.Tracker, at: dt.datetime) -> None:
    """(Re)schedule the one tick job to run at ``at``."""
    scheduler.add_job(
        tick_job,
        trigger="date",
        run_date=at,
        args=[scheduler, tracker],
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,  # a late run still runs: missed steps catch up in order
        coalesce=True,
    )


def start(scheduler: BaseScheduler, tracker: kw.Tracker) -> None:
    """Schedule the first tick now; each run schedules the next."""
    schedule(scheduler, tracker, tracker.now())


def wake_now(scheduler: BaseScheduler, tracker: kw.Tracker) -> None:
    """Tick as soon as possible: call it after making a promise that may be due soon."""
    schedule(scheduler, tracker, tracker.now())


# --8<-- [end:job]


# --8<-- [start:main]
def worker(tracker: kw.Tracker) -> BlockingScheduler:
    """A scheduler process whose only job is the tick."""
    scheduler = BlockingScheduler(timezone=dt.UTC)
    start(scheduler, tracker)
    return scheduler


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    calendar = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    store = kw.SqlStore(os.environ["KEEPWORD_URL"])
    worker(kw.Tracker(store, calendar=calendar, tenant=os.environ["KEEPWORD_TENANT"])).start()
# --8<-- [end:main]
