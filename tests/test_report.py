"""keepword report: the scorecard as a table, JSON, and one self-contained HTML page with charts.

The report reads ``Tracker.scorecard`` of a simulated shop; the command-line
test drives it with :class:`keepword.Scorecard` values computed plainly
(:func:`demo_scorecard`), so the command's plumbing is tested on its own.  The HTML page
is opened in Debian's headless ``chromium`` where it is installed (skipped,
naming it, where it is not; a failure under ``KEEPWORD_REQUIRE_SERVERS``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from keepword import FrozenClock, MemoryStore, Query, Scorecard, ScoreRow, SqlStore, Tracker
from keepword.cli import main
from keepword.commitment import Commitment, Status
from keepword.demo import SHOP_CALENDAR, SHOP_POLICIES, simulate
from keepword.report import COLUMNS, ReportData, Week, cell, collect, render_html, write_html

START = dt.datetime(2026, 9, 1, 8, tzinfo=SHOP_CALENDAR.zone)


def _quantile(values: list[dt.timedelta], q: float) -> dt.timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(group: str | None, cs: Iterable[Commitment], now: dt.datetime) -> ScoreRow:
    cs = list(cs)
    kept = [c for c in cs if c.status is Status.KEPT]
    late = [c.lateness for c in kept if c.lateness]
    on_time = sum(1 for c in kept if not c.lateness)
    broken = sum(1 for c in cs if c.status is Status.BROKEN)
    decided = len(kept) + broken
    replies = [c.kept_at - c.made_at for c in kept if c.kind == "reply" and c.kept_at]
    return ScoreRow(
        group=group,
        made=len(cs),
        due=sum(1 for c in cs if c.due_at <= now),
        kept_on_time=on_time,
        kept_late=len(late),
        broken=broken,
        cancelled=sum(1 for c in cs if c.status is Status.CANCELLED),
        open=sum(1 for c in cs if not c.status.is_final),
        overdue=sum(1 for c in cs if not c.status.is_final and c.due_at < now),
        on_time_rate=on_time / decided if decided else None,
        lateness_p50=_quantile(late, 0.5),  # type: ignore[arg-type]
        lateness_p90=_quantile(late, 0.9),  # type: ignore[arg-type]
        first_response_p50=_quantile(replies, 0.5),
        first_response_p90=_quantile(replies, 0.9),
        renegotiations=sum(1 for c in cs for e in c.history if e.kind == "renegotiated"),
        escalations=sum(c.escalation_cursor for c in cs),
    )


def demo_scorecard(
    commitments: Iterable[Commitment],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    by: str | None = None,
    by_due: bool = False,
    now: dt.datetime,
) -> Scorecard:
    """A scorecard of ``commitments``, computed plainly (a stand-in for Tracker.scorecard)."""
    chosen = [
        c
        for c in commitments
        if (since is None or (c.due_at if by_due else c.made_at) >= since)
        and (until is None or (c.due_at if by_due else c.made_at) < until)
    ]
    groups: dict[str, list[Commitment]] = defaultdict(list)
    if by is not None:
        for c in chosen:
            groups[getattr(c, by)].append(c)
    rows = tuple(_row(g, groups[g], now) for g in sorted(groups))
    return Scorecard(
        since=since, until=until, by=by, by_due=by_due, rows=rows, total=_row(None, chosen, now)
    )


@pytest.fixture(scope="module")
def shop() -> tuple[MemoryStore, dt.datetime]:
    """A simulated shop's 60 days in a MemoryStore, and the instant it ended."""
    store = MemoryStore()
    result = simulate(
        lambda clock: Tracker(
            store, calendar=SHOP_CALENDAR, tenant="demo-shop", clock=clock, policies=SHOP_POLICIES
        ),
        days=60,
        seed=11,
    )
    assert result.commitments
    return store, START + dt.timedelta(days=60)


def _tracker(store: Any, now: dt.datetime) -> Tracker:
    return Tracker(store, calendar=SHOP_CALENDAR, tenant="demo-shop", clock=FrozenClock(now))


def test_collect_reads_the_scorecard_the_weeks_and_the_lateness(
    shop: tuple[MemoryStore, dt.datetime],
) -> None:
    store, now = shop
    tracker = _tracker(store, now)
    steps: list[tuple[int, int]] = []
    data = collect(tracker, by="owner", weeks=6, on_step=lambda d, t: steps.append((d, t)))
    groups = [r.group for r in data.scorecard.rows]
    assert groups == sorted(set(groups))
    assert {"alice", "bob", "carol"} <= set(groups)
    assert len(data.weeks) == 6
    assert [w.start for w in data.weeks] == [now - dt.timedelta(weeks=6 - i) for i in range(6)]
    assert steps[-1] == (7, 7)
    assert all(w.on_time_rate is None or 0 <= w.on_time_rate <= 1 for w in data.weeks)
    assert data.lateness_hours
    assert all(h > 0 for h in data.lateness_hours)


def test_collect_needs_a_store_with_the_metrics_port() -> None:
    from keepword.errors import MissingPortError

    class NoMetrics(MemoryStore):
        ports = frozenset({"commitments", "tick_queue", "outbox"})

    with pytest.raises(MissingPortError, match="metrics"):
        collect(Tracker(NoMetrics(), calendar=SHOP_CALENDAR))


def _cells(page: str) -> dict[tuple[str, str, str], str]:
    found = re.findall(
        r'<td data-group="([^"]*)" data-kind="(\w+)" data-field="(\w+)">([^<]*)</td>', page
    )
    return {(html.unescape(g), k, f): html.unescape(v) for g, k, f, v in found}


def _expected(card: Scorecard) -> dict[tuple[str, str, str], str]:
    out = {}
    for row in card.rows:
        for field, _ in COLUMNS:
            out[(row.group or "(none)", "row", field)] = cell(row, field)
    for field, _ in COLUMNS:
        out[("", "total", field)] = cell(card.total, field)
    return out


def test_the_page_is_one_file_with_every_chart_and_the_scorecards_numbers(
    shop: tuple[MemoryStore, dt.datetime],
) -> None:
    store, now = shop
    data = collect(_tracker(store, now), by="owner", weeks=8)
    page = render_html(data)
    for chart in (
        "chart-on-time",
        "chart-lateness",
        "chart-status",
        "chart-escalations",
        "chart-first-response",
        "chart-time-went",
    ):
        assert f'id="{chart}"' in page
    assert not re.search(r"<script[^>]+src=", page), "every script is inline"
    assert "<link" not in page
    assert len(page) > 1_000_000  # plotly.js itself is in the page
    assert _cells(page) == _expected(data.scorecard)
    embedded = re.search(
        r'<script id="keepword-scorecard" type="application/json">(.*?)</script>', page
    )
    assert embedded is not None
    assert json.loads(embedded.group(1)) == json.loads(json.dumps(data.scorecard.to_dict()))


@settings(max_examples=30, deadline=None)
@given(
    groups=st.lists(
        st.tuples(
            st.text(
                st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=1,
                max_size=12,
            ),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            st.one_of(st.none(), st.floats(0, 1)),
            st.one_of(st.none(), st.integers(0, 10**9).map(lambda s: dt.timedelta(seconds=s))),
        ),
        max_size=5,
        unique_by=lambda g: g[0],
    )
)
def test_any_scorecards_numbers_reach_the_page_exactly(
    groups: list[tuple[str, int, int, float | None, dt.timedelta | None]],
) -> None:
    rows = tuple(
        ScoreRow(group=g, made=m, kept_on_time=k, on_time_rate=r, lateness_p50=p)
        for g, m, k, r, p in sorted(groups)
    )
    total = ScoreRow(made=sum(r.made for r in rows), kept_on_time=sum(r.kept_on_time for r in rows))
    card = Scorecard(by="owner", rows=rows, total=total)
    page = render_html(ReportData(card, weeks=(Week(START, 0.5, 2),), lateness_hours=(1.5,)))
    assert _cells(page) == _expected(card)


def test_report_prints_the_table_and_json_and_writes_the_page(
    tmp_path: Path, shop: tuple[MemoryStore, dt.datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, now = shop
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    sql = SqlStore(url)
    sql.create_schema()
    sql.close()  # the tables only: the scorecard comes from the shop below
    everything = store.find("demo-shop", Query())

    def scorecard(
        self: Tracker, since: Any = None, until: Any = None, by: Any = None, by_due: bool = False
    ) -> Scorecard:
        return demo_scorecard(everything, since=since, until=until, by=by, by_due=by_due, now=now)

    monkeypatch.setattr(Tracker, "scorecard", scorecard, raising=False)
    args = ["report", "--url", url, "--tenant", "demo-shop", "--by", "owner"]
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 0, table.output
    for text in ("alice", "bob", "carol", "total", "on-time", "1st reply p50 bh"):
        assert text in table.output
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    expected = demo_scorecard(everything, by="owner", now=now).to_dict()
    assert json.loads(as_json.stdout) == json.loads(json.dumps(expected))
    page = tmp_path / "report.html"
    written = CliRunner().invoke(main, [*args, "--html", str(page), "--since", "2026-09-01"])
    assert written.exit_code == 0, written.output
    assert _cells(page.read_text()) == _expected(
        demo_scorecard(
            everything, since=dt.datetime(2026, 9, 1, tzinfo=dt.UTC), by="owner", now=now
        )
    )
    bad = CliRunner().invoke(main, [*args, "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "--since" in bad.output


# --------------------------------------------------------------------------- the browser


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("KEEPWORD_REQUIRE_SERVERS"):
            pytest.fail("KEEPWORD_REQUIRE_SERVERS is set but chromium is not installed")
        pytest.skip("install Debian's chromium to open the HTML report in a real browser")
    return found


def _run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def write_demo_report(path: Path, store: MemoryStore, now: dt.datetime) -> ReportData:
    """The demo shop's report, grouped by owner, written to ``path``."""
    data = collect(_tracker(store, now), by="owner", weeks=8)
    write_html(data, path)
    return data


@pytest.mark.slow
def test_the_page_renders_in_a_real_browser(
    tmp_path: Path, shop: tuple[MemoryStore, dt.datetime]
) -> None:
    """Headless chromium: nothing on the console, every chart drawn, the numbers the scorecard's."""
    store, now = shop
    page = tmp_path / "report.html"
    data = write_demo_report(page, store, now)
    dom = _run_chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    charts = re.findall(
        r'<div id="(chart-[a-z-]+)" class="plotly-graph-div[^"]*js-plotly-plot', dom.stdout
    )
    assert sorted(charts) == sorted(
        [
            "chart-on-time",
            "chart-lateness",
            "chart-status",
            "chart-escalations",
            "chart-first-response",
            "chart-time-went",
        ]
    ), charts
    for chart in charts:
        start = dom.stdout.index(f'<div id="{chart}"')
        end = dom.stdout.find('<div id="chart-', start + 10)
        body = dom.stdout[start : end if end > 0 else None]
        assert '<svg class="main-svg"' in body, chart
        bars = re.findall(r'<path d="M[^"]+Z"', body)  # a drawn bar: a closed shape
        lines = re.findall(r'<path class="(?:js-line|point)[^"]*"[^>]* d="M', body)
        assert bars or lines, f"{chart} has no drawn marks"
    assert _cells(dom.stdout) == _expected(data.scorecard)
    shot = tmp_path / "report.png"
    taken = _run_chromium("--window-size=1280,2200", f"--screenshot={shot}", page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
