"""Benchmark what telling a customer costs against explaining to staff.

Run from the repository root::

    python -m benchmarks.tell            # full run (about half a minute)
    python -m benchmarks.tell --quick    # CI smoke: proves it runs, timings meaningless

The inputs: a calendar open Mon-Fri 09:00-17:00 in America/New_York with US
public holidays, and 200 open commitments promised at random whole minutes of
2026 (fixed seed) with ``within(business_days=3)``, the Thanksgiving example's
spec.  Timed, on the same commitments:

* staff: ``explain(c)`` (the calendar's reasoning, in English);
* customer: ``explain(c, audience="customer", locale=L, now=...)`` for English,
  Swedish and Chinese, ``now`` one hour after the promise (so "by Friday, 17:00"
  style relative days are in play), and with ``now=None`` (dates in full).

Catalogs, pendulum's locale data and formatted dates are cached after first
use, as in a long-running host: one untimed pass warms them.  One more cell
clears the formatted-date caches before every call, to show pendulum's own cost.  Timing:
``time.perf_counter_ns`` around batches over all commitments (garbage
collector off), the median over batches divided by the batch size.  The
target: a customer explanation in English costs at most 3x the staff one.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.tell")

import argparse
import datetime as dt
import gc
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from zoneinfo import ZoneInfo

from keepword import telling
from keepword.calendar import BusinessCalendar, within
from keepword.commitment import Commitment
from keepword.explain import explain
from keepword.transitions import promise

ZONE = ZoneInfo("America/New_York")
SEED = 20261123
TARGET_RATIO = 3.0


def make_commitments(count: int) -> list[Commitment]:
    """``count`` open commitments promised at random minutes of 2026, due in 3 business days."""
    cal = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
    rng = random.Random(SEED)
    first = dt.datetime(2026, 1, 1, tzinfo=ZONE).astimezone(dt.UTC)
    made = []
    for i in range(count):
        at = first + dt.timedelta(minutes=rng.randrange(360 * 24 * 60))
        c, _ = promise(
            id=f"c-{i}",
            tenant="shop-7",
            customer=f"acct-{i % 17}",
            owner="alice",
            kind="reply",
            what="Email the bulk price list",
            calendar=cal,
            due=within(business_days=3),
            now=at,
        )
        made.append(c)
    return made


def per_call_ns(
    call: Callable[[Commitment], object], items: Sequence[Commitment], rounds: int
) -> float:
    """The median time of one call, in nanoseconds, over ``rounds`` batches of every item."""
    for c in items:  # warm every cache, as a long-running host has
        call(c)
    samples = []
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.perf_counter_ns()
            for c in items:
                call(c)
            samples.append((time.perf_counter_ns() - start) / len(items))
    finally:
        gc.enable()
    return statistics.median(samples)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tell", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: few commitments")
    opts = parser.parse_args(argv)
    count, rounds = (20, 3) if opts.quick else (200, 25)
    items = make_commitments(count)
    hour = dt.timedelta(hours=1)

    cells: list[tuple[str, Callable[[Commitment], object]]] = [
        ("staff, English", lambda c: explain(c)),
    ]
    for locale in ("en", "sv", "zh"):
        cells.append(
            (
                f"customer, {locale}, relative to now",
                lambda c, loc=locale: explain(  # type: ignore[misc]
                    c, audience="customer", locale=loc, now=c.made_at + hour
                ),
            )
        )
        cells.append(
            (
                f"customer, {locale}, dates in full",
                lambda c, loc=locale: explain(c, audience="customer", locale=loc),  # type: ignore[misc]
            )
        )

    def cold(c: Commitment) -> object:
        telling._format.cache_clear()  # every date formatted afresh by pendulum
        telling._format_time.cache_clear()
        return explain(c, audience="customer", locale="en", now=c.made_at + hour)

    cells.append(("customer, en, no formatted-date cache", cold))

    print("keepword tell benchmark" + (" (--quick: timings NOT meaningful)" if opts.quick else ""))
    print(f"command: python -m benchmarks.tell{' --quick' if opts.quick else ''}")
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"pendulum {version('pendulum')}, holidays {version('holidays')}"
    )
    print(f"{count} commitments, {rounds} timed batches each, median per call")
    print()
    results = {name: per_call_ns(call, items, rounds) for name, call in cells}
    staff = results["staff, English"]
    width = max(len(name) for name in results)
    print(f"{'explanation':<{width}}  {'us/call':>8}  {'x staff':>8}")
    for name, ns in results.items():
        print(f"{name:<{width}}  {ns / 1000:>8.1f}  {ns / staff:>8.2f}")
    print()
    ratio = results["customer, en, relative to now"] / staff
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"Target: customer (English) <= {TARGET_RATIO:g}x staff: {ratio:.2f}x {verdict}"
        + (" (--quick run: not meaningful)" if opts.quick else "")
    )


if __name__ == "__main__":
    main()
