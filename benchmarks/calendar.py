"""Benchmark keepword's business-time arithmetic against other libraries.

Run from the repository root::

    python -m benchmarks.calendar            # full run (a few minutes)
    python -m benchmarks.calendar --quick    # CI smoke: proves it runs, timings meaningless

One run, one set of inputs: a calendar open Mon-Fri 09:00-17:00 in
America/New_York with US public holidays (``holidays`` package), and 200
timezone-aware start instants at random whole minutes of 2026 (fixed seed;
they fall in open and closed time alike).  Compared, each on the same starts:

* ``cal.resolve(start, within(business_hours=N))`` against businesstimedelta
  (``start + BusinessTimeDelta(rules, hours=N)``) and pandas
  (``naive_local_ts + CustomBusinessHour(n=N, ...)``);
* ``cal.between(a, b)`` against businesstimedelta ``rules.difference(a, b)``,
  where ``b`` is keepword's deadline for N business hours from ``a``;
* ``cal.resolve(start, within(business_days=N))`` against workalendar
  ``add_working_days`` and ``numpy.busday_offset`` (those two take and return
  dates, not instants).

Every spec, delta, offset and converted input is built before timing; a timed
call is only the arithmetic.  Timing: ``time.perf_counter_ns`` around batches
of calls (garbage collector off), the median over batches divided by the batch
size.  Slow cells get fewer calls so the whole run stays within a few minutes;
the "calls timed" table says how many each cell got.  Results are checked for
agreement on the starts before anything is timed.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, not as a module from the repository root
    sys.exit("run it from the repository root as a module: python -m benchmarks.calendar")

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import os
import platform
import pstats
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import businesstimedelta as btd
import holidays
import numpy as np
import pandas as pd
import pytz
from workalendar.usa import UnitedStates

import keepword.calendar
from keepword.calendar import BusinessCalendar, within

TZ = "America/New_York"
ZONE = ZoneInfo(TZ)
SEED = 20261123
HOURS_N = (1, 8, 80, 800, 4000)
DAYS_N = (1, 5, 20, 250)
HOLIDAY_YEARS = range(2025, 2036)  # starts are in 2026; N=4000 business hours reach 2028


# --------------------------------------------------------------------------- inputs


def make_starts(count: int) -> list[dt.datetime]:
    """``count`` aware instants at random whole minutes of 2026 (local year), fixed seed."""
    rng = random.Random(SEED)
    first = dt.datetime(2026, 1, 1, tzinfo=ZONE).astimezone(dt.UTC)
    last = dt.datetime(2027, 1, 1, tzinfo=ZONE).astimezone(dt.UTC)
    minutes = int((last - first).total_seconds() // 60)
    return [
        (first + dt.timedelta(minutes=rng.randrange(minutes))).astimezone(ZONE)
        for _ in range(count)
    ]


def us_holiday_dates() -> list[dt.date]:
    """The US holiday dates keepword's ``country="US"`` uses (same package, same defaults)."""
    return sorted(holidays.country_holidays("US", years=HOLIDAY_YEARS))


# --------------------------------------------------------------------------- timing


@dataclass
class Cell:
    """Per-call times (ns) of one library call, one sample per timed batch."""

    samples: list[float] = field(default_factory=list)  # wall time, perf_counter_ns
    cpu_samples: list[float] = field(default_factory=list)  # this thread's CPU time
    calls: int = 0
    pos: int = 0  # where the next batch starts in the inputs

    @property
    def median_ns(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median_ns(self) -> float:
        return statistics.median(self.cpu_samples)


def measure(
    cell: Cell,
    fn: Callable[[Any], object],
    args: Sequence[Any],
    *,
    budget_s: float,
    batch_s: float,
    max_batches: int,
    min_batches: int,
) -> None:
    """Time batches of ``fn(arg)`` on ``args`` and add per-call samples to ``cell``.

    A batch is ``batch`` consecutive args (cycling through ``args``, continuing
    where the cell's previous round stopped), as many as take about ``batch_s``
    (at least one, at most all of ``args``): every library gets batches of about
    the same duration, so preemption by other processes hits them alike.  Then
    as many batches as fit ``budget_s``, between ``min_batches`` and ``max_batches``.
    """
    n = len(args)
    for a in args[: min(n, 3)]:  # warm caches (keepword builds its year tables here)
        fn(a)
    probe = args[: min(n, 10)]
    t0 = time.perf_counter_ns()
    for a in probe:
        fn(a)
    est_s = max((time.perf_counter_ns() - t0) / len(probe) / 1e9, 1e-8)
    batch = max(1, min(n, int(batch_s / est_s)))
    batches = max(min_batches, min(max_batches, int(budget_s / (batch * est_s))))
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(batches):
            chunk = [args[(cell.pos + k) % n] for k in range(batch)]
            cell.pos = (cell.pos + batch) % n
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            for a in chunk:
                fn(a)
            t1 = time.perf_counter_ns()
            c1 = time.thread_time_ns()
            cell.samples.append((t1 - t0) / batch)
            cell.cpu_samples.append((c1 - c0) / batch)
    finally:
        if gc_was_enabled:
            gc.enable()
    cell.calls += batch * batches


# --------------------------------------------------------------------------- report


def machine_info() -> list[str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libs = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "keepword",
            "businesstimedelta",
            "pandas",
            "numpy",
            "workalendar",
            "holidays",
            "pytz",
        )
    )
    return [
        f"date (UTC): {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, CPU {cpu}",
        f"OS: {platform.system()} {platform.release()}",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        f"libraries: {libs}",
        f"keepword source: {keepword_source()}",
        f"load average at start (1/5/15 min): {load_average()}",
    ]


def keepword_source() -> str:
    """Which keepword was measured: the git commit and a hash of calendar.py."""
    path = Path(keepword.calendar.__file__)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", str(path)],
            cwd=path.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        head = f"git {head}{' (calendar.py modified)' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        head = "git unknown"
    return f"{head}, calendar.py sha256 {digest}"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def us(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    v = cell.median_ns / 1000
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if i else (":" + "-" * (w + 1)) for i, w in enumerate(widths)
    )
    sep += "|"
    return [line(header), sep, *(line(r) for r in rows)]


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI smoke run: few starts and repetitions"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of keepword resolve(business_hours=1)",
    )
    opts = parser.parse_args(argv)

    if opts.quick:
        n_starts, n_check, rounds, budget, slow_budget = 20, 10, 1, 0.02, 0.05
        batch_s, max_b, min_b = 0.0005, 5, 3
    else:
        n_starts, n_check, rounds, budget, slow_budget = 200, 200, 3, 1.5, 12
        batch_s, max_b, min_b = 0.002, 200, 5

    print(
        "keepword calendar benchmark" + (" (--quick: timings NOT meaningful)" if opts.quick else "")
    )
    for line in machine_info():
        print(line)
    print(f"command: python -m benchmarks.calendar{' --quick' if opts.quick else ''}")
    print()

    starts = make_starts(n_starts)
    hdates = us_holiday_dates()

    # ---- the libraries, set up once
    cal = BusinessCalendar(tz=TZ, hours="Mon-Fri 09:00-17:00", country="US")
    ptz = pytz.timezone(TZ)
    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=dt.time(9),
                end_time=dt.time(17),
                working_days=[0, 1, 2, 3, 4],
                tz=ptz,
            ),
            btd.HolidayRule(frozenset(hdates), tz=ptz),
        ]
    )
    naive_ts = [pd.Timestamp(s.replace(tzinfo=None)) for s in starts]  # naive local wall time
    wcal = UnitedStates()

    class UnitedStatesJuneteenth(UnitedStates):  # only to explain disagreements
        include_juneteenth = True

    wcal_j = UnitedStatesJuneteenth()
    np_holidays = np.array(hdates, dtype="datetime64[D]")
    local_dates = [s.date() for s in starts]  # starts are already in the calendar's zone
    np_dates = [np.datetime64(d, "D") for d in local_dates]

    # cold cost: the first query on a fresh calendar builds its year tables
    cold = []
    for _ in range(3 if opts.quick else 7):
        fresh = BusinessCalendar(tz=TZ, hours="Mon-Fri 09:00-17:00", country="US")
        t0 = time.perf_counter_ns()
        fresh.resolve(starts[0], within(business_hours=1))
        cold.append(time.perf_counter_ns() - t0)

    specs_h = {n: within(business_hours=n) for n in HOURS_N}
    specs_d = {n: within(business_days=n) for n in DAYS_N}
    deltas = {n: btd.BusinessTimeDelta(rules, hours=n) for n in HOURS_N}
    offsets = {
        n: pd.offsets.CustomBusinessHour(n=n, start="09:00", end="17:00", holidays=hdates)
        for n in HOURS_N
    }
    ends = {n: [cal.resolve(s, specs_h[n]) for s in starts] for n in HOURS_N}

    # ---- agreement on the same inputs
    print("Agreement (same starts; disagreements / compared)")
    check = range(min(n_check, n_starts))
    notes: list[str] = []

    def report(label: str, bad: list[str], total: int, ties: int | None = None) -> None:
        extra = "" if ties is None else f" ({ties} of them a tie: zero open time between)"
        print(f"  {label}: {len(bad)} / {total}{extra}")
        for b in bad[:3]:
            print(f"      e.g. {b}")

    for n in HOURS_N:
        bad_btd, bad_pd, bad_between = [], [], []
        ties_btd = ties_pd = 0
        for i in check:
            s, k = starts[i], ends[n][i]
            b = s + deltas[n]
            if b != k:
                bad_btd.append(f"{s.isoformat()}: keepword {k.isoformat()} btd {b.isoformat()}")
                ties_btd += cal.between(k, b) == dt.timedelta(0)
            p = (naive_ts[i] + offsets[n]).to_pydatetime()
            if p != k.replace(tzinfo=None):
                bad_pd.append(f"{s.isoformat()}: keepword {k.isoformat()} pandas {p.isoformat()}")
                ties_pd += cal.between(k, p.replace(tzinfo=ZONE)) == dt.timedelta(0)
            kb = cal.between(s, k)
            bb = rules.difference(s, k).timedelta
            if kb != bb or kb != dt.timedelta(hours=n):
                bad_between.append(f"{s.isoformat()}..{k.isoformat()}: keepword {kb} btd {bb}")
        report(
            f"business_hours={n:<4} keepword vs businesstimedelta", bad_btd, len(check), ties_btd
        )
        report(f"business_hours={n:<4} keepword vs pandas (wall time)", bad_pd, len(check), ties_pd)
        report(f"between N={n:<4}        keepword vs businesstimedelta", bad_between, len(check))
    for n in DAYS_N:
        bad_w, bad_wj, bad_np, bad_np_open = [], [], [], []
        for i in check:
            s = starts[i]
            k = cal.resolve(s, specs_d[n]).date()
            w = wcal.add_working_days(local_dates[i], n)
            npd = np.busday_offset(np_dates[i], n, roll="forward", holidays=np_holidays)
            npd = npd.astype(dt.date)
            if w != k:
                bad_w.append(f"{s.isoformat()}: keepword {k} workalendar {w}")
            wj = wcal_j.add_working_days(local_dates[i], n)
            if wj != k:
                bad_wj.append(f"{s.isoformat()}: keepword {k} workalendar+Juneteenth {wj}")
            if npd != k:
                bad_np.append(f"{s.isoformat()} ({s:%a}): keepword {k} numpy {npd}")
                if cal.is_business_day(local_dates[i]):
                    bad_np_open.append(s.isoformat())
        report(f"business_days={n:<3} keepword vs workalendar (date)", bad_w, len(check))
        report(
            f"business_days={n:<3} keepword vs workalendar, include_juneteenth=True (date)",
            bad_wj,
            len(check),
        )
        report(f"business_days={n:<3} keepword vs numpy (date)", bad_np, len(check))
        if bad_np:
            notes.append(
                f"numpy business_days={n}: {len(bad_np)} disagreements, "
                f"{len(bad_np_open)} of them from a start on a business day"
            )
    hol_w = {d for y in (2026, 2027) for d, _ in wcal.holidays(y)}
    hol_k = {d for d in hdates if d.year in (2026, 2027)}
    print(
        "  holiday dates 2026-2027 only in holidays pkg:",
        sorted(str(d) for d in hol_k - hol_w),
        "| only in workalendar:",
        sorted(str(d) for d in hol_w - hol_k),
    )
    for note in notes:
        print("  " + note)
    print()

    # ---- timing: every cell in each of `rounds` rounds, so that load from other
    # processes that comes and goes is spread over all libraries alike
    sizing = {"batch_s": batch_s, "max_batches": max_b, "min_batches": min_b}
    fast = {"budget_s": budget / rounds, **sizing}
    slow = {"budget_s": slow_budget / rounds, **sizing}
    idx = list(range(n_starts))
    kw_res = {n: Cell() for n in HOURS_N}
    kw_res_spec = {n: Cell() for n in HOURS_N}
    kw_btw = {n: Cell() for n in HOURS_N}
    bt_add = {n: Cell() for n in HOURS_N}
    bt_diff = {n: Cell() for n in HOURS_N}
    pd_add = {n: Cell() for n in HOURS_N}
    pd_new = {n: Cell() for n in HOURS_N}
    kw_day = {n: Cell() for n in DAYS_N}
    wk_day = {n: Cell() for n in DAYS_N}
    np_day = {n: Cell() for n in DAYS_N}
    for _ in range(rounds):
        for n in HOURS_N:
            spec, delta, off, e = specs_h[n], deltas[n], offsets[n], ends[n]
            measure(kw_res[n], lambda i, spec=spec: cal.resolve(starts[i], spec), idx, **fast)
            measure(
                kw_res_spec[n],
                lambda i, n=n: cal.resolve(starts[i], within(business_hours=n)),
                idx,
                **fast,
            )
            measure(kw_btw[n], lambda i, e=e: cal.between(starts[i], e[i]), idx, **fast)
            measure(bt_add[n], lambda i, delta=delta: starts[i] + delta, idx, **slow)
            measure(bt_diff[n], lambda i, e=e: rules.difference(starts[i], e[i]), idx, **slow)
            measure(pd_add[n], lambda i, off=off: naive_ts[i] + off, idx, **slow)
            measure(
                pd_new[n],
                lambda i, n=n: (
                    naive_ts[i]
                    + pd.offsets.CustomBusinessHour(
                        n=n, start="09:00", end="17:00", holidays=hdates
                    )
                ),
                idx,
                **slow,
            )
        for n in DAYS_N:
            spec = specs_d[n]
            measure(kw_day[n], lambda i, spec=spec: cal.resolve(starts[i], spec), idx, **fast)
            measure(wk_day[n], lambda i, n=n: wcal.add_working_days(local_dates[i], n), idx, **slow)
            measure(
                np_day[n],
                lambda i, n=n: np.busday_offset(
                    np_dates[i], n, roll="forward", holidays=np_holidays
                ),
                idx,
                **fast,
            )

    print("Median time per call, microseconds (lower is better)")
    print()
    rows = [
        [
            f"{n:,}",
            us(kw_res[n]),
            us(kw_res_spec[n]),
            us(bt_add[n]),
            us(pd_add[n]),
            us(pd_new[n]),
            us(kw_btw[n]),
            us(bt_diff[n]),
        ]
        for n in HOURS_N
    ]
    for line in table(
        [
            "business hours N",
            "keepword resolve",
            "keepword resolve + within()",
            "businesstimedelta add",
            "pandas CBH (naive)",
            "pandas CBH + building the offset",
            "keepword between",
            "businesstimedelta difference",
        ],
        rows,
    ):
        print(line)
    print()
    rows = [[f"{n:,}", us(kw_day[n]), us(wk_day[n]), us(np_day[n])] for n in DAYS_N]
    for line in table(
        [
            "business days N",
            "keepword resolve (instant)",
            "workalendar add_working_days (date)",
            "numpy busday_offset (date)",
        ],
        rows,
    ):
        print(line)
    print()
    print(
        f"Batches / calls timed per cell, in {rounds} round(s); slow cells capped by a time budget"
    )
    print()

    def calls(c: Cell) -> str:
        return f"{len(c.samples)} / {c.calls:,}"

    rows = [
        [
            f"{n:,}",
            calls(kw_res[n]),
            calls(kw_res_spec[n]),
            calls(bt_add[n]),
            calls(pd_add[n]),
            calls(pd_new[n]),
            calls(kw_btw[n]),
            calls(bt_diff[n]),
        ]
        for n in HOURS_N
    ]
    for line in table(
        [
            "business hours N",
            "kw resolve",
            "kw + within()",
            "btd add",
            "pandas",
            "pandas + offset",
            "kw between",
            "btd difference",
        ],
        rows,
    ):
        print(line)
    rows = [[f"{n:,}", calls(kw_day[n]), calls(wk_day[n]), calls(np_day[n])] for n in DAYS_N]
    print()
    for line in table(["business days N", "kw resolve", "workalendar", "numpy"], rows):
        print(line)
    print()
    cold_ms = statistics.median(cold) / 1e6
    print(
        f"keepword cold first call (fresh calendar, builds year tables): "
        f"median {cold_ms:.2f} ms over {len(cold)} calendars; not in the medians above"
    )
    print()

    # ---- ratios and targets
    def ratio(a: Cell, b: Cell) -> float:
        return a.median_ns / b.median_ns

    def cpu_ratio(a: Cell, b: Cell) -> float:
        return a.cpu_median_ns / b.cpu_median_ns

    checks = [
        ("keepword resolve N=4000 / N=1", kw_res[4000], kw_res[1], "<=", 1.3),
        ("businesstimedelta / keepword, resolve N=1", bt_add[1], kw_res[1], ">=", 15),
        ("businesstimedelta / keepword, resolve N=4000", bt_add[4000], kw_res[4000], ">=", 1000),
        ("pandas / keepword, resolve N=1", pd_add[1], kw_res[1], ">=", 10),
    ]
    info = [
        ("keepword between N=4000 / N=1", ratio(kw_btw[4000], kw_btw[1])),
        *[
            (f"businesstimedelta / keepword, between N={n}", ratio(bt_diff[n], kw_btw[n]))
            for n in HOURS_N
        ],
        *[(f"pandas / keepword, resolve N={n}", ratio(pd_add[n], kw_res[n])) for n in HOURS_N],
        (
            "pandas / keepword, N=1, both building spec/offset per call",
            ratio(pd_new[1], kw_res_spec[1]),
        ),
        ("pandas / keepword resolve + within(), N=1", ratio(pd_add[1], kw_res_spec[1])),
        ("keepword business_days N=250 / N=1", ratio(kw_day[250], kw_day[1])),
        *[
            (f"workalendar / keepword, business_days N={n}", ratio(wk_day[n], kw_day[n]))
            for n in DAYS_N
        ],
        *[(f"numpy / keepword, business_days N={n}", ratio(np_day[n], kw_day[n])) for n in DAYS_N],
    ]
    print("Targets" + (" (--quick run: not meaningful)" if opts.quick else ""))
    print()
    rows = []
    for name, a, b, op, target in checks:
        value = ratio(a, b)
        ok = value <= target if op == "<=" else value >= target
        rows.append(
            [
                name,
                f"{value:,.2f}x",
                f"{op} {target:,}x",
                "PASS" if ok else "FAIL",
                f"{cpu_ratio(a, b):,.2f}x",
            ]
        )
    for line in table(
        ["ratio", "measured (wall)", "target", "result", "cross-check: CPU time"], rows
    ):
        print(line)
    print()
    print("result: wall-clock medians (perf_counter_ns); the CPU-time column uses")
    print("thread_time_ns medians of the same batches, which preemption does not inflate.")
    print()
    print("Other ratios (no target)")
    print()
    for line in table(["ratio", "measured"], [[k, f"{v:,.2f}x"] for k, v in info]):
        print(line)

    print()
    print(f"load average at end (1/5/15 min): {load_average()}")

    if opts.profile:
        print()
        print(
            f"cProfile: {100 * len(starts):,} x keepword resolve(start, within(business_hours=1))"
        )
        spec = specs_h[1]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(100):
            for s in starts:
                cal.resolve(s, spec)
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
