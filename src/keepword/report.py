"""The scorecard as one self-contained HTML page with charts (``keepword report --html``).

:func:`collect` reads what the page shows from a tracker (the scorecard of
the window, the on-time rate of each week, the lateness of each late keep);
:func:`render_html` turns it into one HTML file that needs no network: the
charting library (plotly.js) is inlined.  The charts: the on-time rate over
time (weekly windows), the lateness distribution in business hours, promises
by status per group, escalations fired per group, first-response times per
group.  Below them, the scorecard's numbers as a table; every number cell
carries ``data-group`` and ``data-field`` so the page can be checked against
:meth:`keepword.Scorecard.to_dict`, which is also embedded as JSON
(``<script id="keepword-scorecard" type="application/json">``).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from keepword.commitment import Status
from keepword.errors import KeepwordError

if TYPE_CHECKING:
    from keepword.scorecard import Scorecard, ScoreRow

__all__ = ["COLUMNS", "ReportData", "Week", "collect", "render_html", "write_html"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("made", "made"),
    ("due", "due"),
    ("kept_on_time", "kept on time"),
    ("kept_late", "kept late"),
    ("kept_after_breach", "kept after breach"),
    ("broken", "broken"),
    ("cancelled", "cancelled"),
    ("open", "open"),
    ("overdue", "overdue"),
    ("renegotiations", "renegotiated"),
    ("escalations", "escalations"),
    ("on_time_rate", "on-time rate"),
    ("lateness_p50", "lateness p50 (bh)"),
    ("lateness_p90", "lateness p90 (bh)"),
    ("first_response_p50", "first response p50 (bh)"),
    ("first_response_p90", "first response p90 (bh)"),
)
"""The scorecard's columns in tables: ``(ScoreRow field, heading)``; ``bh``: business hours."""

_STATUSES = (
    ("kept_on_time", "kept on time", "#2e7d32"),
    ("kept_late", "kept late", "#f9a825"),
    ("kept_after_breach", "kept after breach", "#ef6c00"),
    ("broken", "broken", "#c62828"),
    ("cancelled", "cancelled", "#9e9e9e"),
    ("open", "open", "#1565c0"),
)


@attrs.frozen
class Week:
    """One week of the on-time chart.

    Attributes:
        start: the week's first instant (inclusive).
        on_time_rate: its scorecard's on-time rate, or ``None`` with nothing decided.
        decided: promises kept or broken that fell due in the week.
    """

    start: _dt.datetime
    on_time_rate: float | None
    decided: int


@attrs.frozen
class ReportData:
    """Everything the report shows.

    Attributes:
        scorecard: the scorecard of the window.
        weeks: the on-time rate of each week of the window, oldest first.
        lateness_hours: the lateness of each late keep in the window, in
            business hours.
        title: the page's title.
        generated_at: when the data was read.
    """

    scorecard: Scorecard
    weeks: tuple[Week, ...] = ()
    lateness_hours: tuple[float, ...] = ()
    title: str = "keepword scorecard"
    generated_at: _dt.datetime | None = None


def collect(
    tracker: Any,
    *,
    since: _dt.datetime | None = None,
    until: _dt.datetime | None = None,
    by: str | None = None,
    weeks: int = 12,
    on_step: Callable[[int, int], object] | None = None,
) -> ReportData:
    """Read the report's data from ``tracker`` (a :class:`keepword.Tracker`).

    Args:
        tracker: the tracker of the tenant to report on.
        since: the window's start (default: ``weeks`` weeks before ``until``).
        until: the window's end (default: now).
        by: group the scorecard by ``"owner"``, ``"kind"``, ``"customer"``
            or ``"channel"``, or ``None``.
        weeks: how many weeks the on-time chart shows when ``since`` is not given.
        on_step: called with ``(done, total)`` as the weeks are read (a progress bar).

    Raises:
        KeepwordError: the tracker has no scorecard.
    """
    scorecard_of = getattr(tracker, "scorecard", None)
    if scorecard_of is None:
        raise KeepwordError(
            "this tracker cannot compute a scorecard",
            argument="tracker",
            fix="use a keepword.Tracker of a keepword that has Tracker.scorecard",
        )
    now = tracker.now()
    end = until or now
    start = since or (end - _dt.timedelta(weeks=weeks))
    card = scorecard_of(since=since, until=until, by=by)
    starts: list[_dt.datetime] = []
    week = start
    while week < end:
        starts.append(week)
        week += _dt.timedelta(weeks=1)
    total = len(starts) + 1
    out: list[Week] = []
    for i, first in enumerate(starts):
        last = min(first + _dt.timedelta(weeks=1), end)
        row = scorecard_of(since=first, until=last, by_due=True).total
        out.append(Week(first, row.on_time_rate, row.kept + row.broken))
        if on_step is not None:
            on_step(i + 1, total)
    late = tracker.find(statuses={Status.KEPT}, due_after=start, due_before=end)
    hours = tuple(
        c.lateness.total_seconds() / 3600 for c in late if c.lateness and c.lateness.total_seconds()
    )
    if on_step is not None:
        on_step(total, total)
    return ReportData(card, tuple(out), hours, generated_at=now)


# --------------------------------------------------------------------------- values


def cell(row: ScoreRow, field: str) -> str:
    """A scorecard value as the report shows it: counts, a percentage, business hours."""
    value = getattr(row, field)
    if value is None:
        return "-"
    if field == "on_time_rate":
        return f"{value:.1%}"
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds() / 3600:.1f}"
    return str(value)


def _label(group: str | None) -> str:
    return "(none)" if group is None else group


def _groups(card: Scorecard) -> list[ScoreRow]:
    return list(card.rows) if card.rows else [card.total]


def _hours(value: _dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


# --------------------------------------------------------------------------- charts


def _figures(data: ReportData) -> list[tuple[str, Any]]:
    """The charts, as ``(id, plotly figure)``."""
    import plotly.graph_objects as go

    card = data.scorecard
    rows = _groups(card)
    labels = [_label(r.group) if card.rows else "all" for r in rows]
    layout = {
        "template": "plotly_white",
        "height": 360,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
    }
    figures: list[tuple[str, Any]] = []

    weekly = go.Figure(
        go.Scatter(
            x=[w.start.date().isoformat() for w in data.weeks],
            y=[
                None if w.on_time_rate is None else round(100 * w.on_time_rate, 1)
                for w in data.weeks
            ],
            customdata=[w.decided for w in data.weeks],
            mode="lines+markers",
            name="on-time rate",
            hovertemplate="week of %{x}: %{y}% on time (%{customdata} decided)<extra></extra>",
        )
    )
    weekly.update_layout(
        title="On-time rate by week (promises due that week)",
        yaxis={"title": "% kept on time", "range": [0, 105]},
        **layout,
    )
    figures.append(("chart-on-time", weekly))

    lateness = go.Figure(
        go.Histogram(
            x=list(data.lateness_hours), nbinsx=20, name="late keeps", marker_color="#f9a825"
        )
    )
    lateness.update_layout(
        title=f"Lateness of late keeps, business hours ({len(data.lateness_hours)} late)",
        xaxis={"title": "business hours late"},
        yaxis={"title": "promises"},
        bargap=0.05,
        **layout,
    )
    figures.append(("chart-lateness", lateness))

    status = go.Figure(
        [
            go.Bar(name=name, x=labels, y=[getattr(r, field) for r in rows], marker_color=colour)
            for field, name, colour in _STATUSES
        ]
    )
    status.update_layout(
        title=f"Promises by status per {card.by or 'group'}", barmode="stack", **layout
    )
    figures.append(("chart-status", status))

    escalations = go.Figure(
        go.Bar(
            x=labels, y=[r.escalations for r in rows], name="escalations", marker_color="#6a1b9a"
        )
    )
    escalations.update_layout(
        title=f"Escalation steps fired per {card.by or 'group'}",
        yaxis={"title": "steps fired"},
        **layout,
    )
    figures.append(("chart-escalations", escalations))

    response = go.Figure(
        [
            go.Bar(name="median", x=labels, y=[_hours(r.first_response_p50) for r in rows]),
            go.Bar(
                name="90th percentile", x=labels, y=[_hours(r.first_response_p90) for r in rows]
            ),
        ]
    )
    response.update_layout(
        title=f"First-response time per {card.by or 'group'}, business hours",
        barmode="group",
        yaxis={"title": "business hours"},
        **layout,
    )
    figures.append(("chart-first-response", response))

    total = card.total
    held = [(owner, _hours(spent)) for owner, spent in total.time_by_owner[:10]]
    held += [(f"paused: {why}", _hours(spent)) for why, spent in total.time_by_pause[:5]]
    went = go.Figure(
        go.Bar(
            x=[hours for _, hours in reversed(held)],
            y=[name for name, _ in reversed(held)],
            orientation="h",
            marker_color="#c62828",
        )
    )
    went.update_layout(
        title="Where the time of late and broken promises went, business hours",
        xaxis={"title": "business hours held"},
        **layout,
    )
    figures.append(("chart-time-went", went))
    return figures


# --------------------------------------------------------------------------- the page

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0; }
.sub { color: #666; margin-top: 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
.chart { border: 1px solid #e0e0e0; border-radius: 6px; padding: 4px; min-width: 0; }
table { border-collapse: collapse; margin-top: 16px; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
"""


def render_html(data: ReportData) -> str:
    """The report as one HTML document that needs no network to open."""
    card = data.scorecard
    charts: list[str] = []
    for i, (name, figure) in enumerate(_figures(data)):
        charts.append(
            '<div class="chart">'
            + figure.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                div_id=name,
                default_width="100%",
                config={"displaylogo": False, "responsive": True, "displayModeBar": False},
            )
            + "</div>"
        )
    since = card.since.strftime("%Y-%m-%d %H:%M %Z") if card.since else "the beginning"
    until = card.until.strftime("%Y-%m-%d %H:%M %Z") if card.until else "now"
    window = f"from {since} to {until}"
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in COLUMNS)
    lines = [f"<tr><th>{html.escape(card.by or 'group')}</th>{head}</tr>"]
    for row in card.rows:
        lines.append(_table_row(row, _label(row.group), "row"))
    lines.append(_table_row(card.total, "total", "total"))
    embedded = json.dumps(card.to_dict()).replace("</", "<\\/")
    generated = f", read {data.generated_at:%Y-%m-%d %H:%M %Z}" if data.generated_at else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(data.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1>"
        f'<p class="sub">Window: {html.escape(window)}{html.escape(generated)}. '
        "Durations are business hours on each promise's own calendar.</p>"
        f'<div class="charts">{"".join(charts)}</div>'
        f'<h2>Scorecard</h2><table id="scorecard">{"".join(lines)}</table>'
        f'<script id="keepword-scorecard" type="application/json">{embedded}</script>'
        "</body></html>\n"
    )


def _table_row(row: ScoreRow, label: str, kind: str) -> str:
    group = "" if kind == "total" else html.escape(_label(row.group), quote=True)
    cells = "".join(
        f'<td data-group="{group}" data-kind="{kind}" data-field="{field}">'
        f"{html.escape(cell(row, field))}</td>"
        for field, _ in COLUMNS
    )
    return f'<tr class="{kind}"><td>{html.escape(label)}</td>{cells}</tr>'


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8); returns the path.

    Raises:
        OSError: the file cannot be written.
    """
    target = Path(path)
    target.write_text(render_html(data), encoding="utf-8")
    return target
