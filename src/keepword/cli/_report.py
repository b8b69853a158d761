"""``keepword report``: the scorecard as a table, JSON, or a self-contained HTML page."""

from __future__ import annotations

import datetime as _dt
import json

import click
from rich.table import Table

from keepword.cli._app import common, console, main, options, progress
from keepword.errors import KeepwordError

__all__ = ["report"]

_SHORT = {
    "kept_on_time": "on time",
    "kept_late": "late",
    "kept_after_breach": "after breach",
    "renegotiations": "reneg.",
    "escalations": "escal.",
    "on_time_rate": "on-time",
    "lateness_p50": "late p50 bh",
    "lateness_p90": "late p90 bh",
    "first_response_p50": "1st reply p50 bh",
    "first_response_p90": "1st reply p90 bh",
}
"""Short headings for the terminal table (``bh``: business hours)."""


def parse_instant(text: str | None, name: str) -> _dt.datetime | None:
    """An ISO date or datetime (UTC when no zone is given), or ``None``."""
    if text is None:
        return None
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: write an ISO date or time, e.g. 2026-11-01 or 2026-11-01T09:00+01:00",
            param_hint=name,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


@main.command()
@click.option("--since", default=None, help="Window start (ISO date/time; default: 12 weeks ago).")
@click.option("--until", default=None, help="Window end, exclusive (default: now).")
@click.option(
    "--by",
    type=click.Choice(["owner", "kind", "customer", "channel"]),
    default=None,
    help="Group the scorecard.",
)
@click.option(
    "--html",
    "html_path",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Also write a self-contained HTML page with charts to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scorecard as JSON.")
@common
def report(
    since: str | None, until: str | None, by: str | None, html_path: str | None, as_json: bool
) -> None:
    """The scorecard: how well promises were kept, as a table, JSON or an HTML page."""
    from keepword import report as _report

    start = parse_instant(since, "--since")
    end = parse_instant(until, "--until")
    if start is not None and end is not None and start >= end:
        raise click.BadParameter("must be after --since", param_hint="--until")
    opts = options()
    store = opts.store()
    try:
        tracker = opts.tracker(store)
        if html_path is None:
            if not hasattr(tracker, "scorecard"):
                raise KeepwordError(
                    "this keepword cannot compute a scorecard",
                    fix="upgrade keepword to a version with Tracker.scorecard",
                )
            with progress("Computing the scorecard") as advance:
                card = tracker.scorecard(since=start, until=end, by=by)
                advance()
            data = None
        else:
            with progress("Reading the scorecard and its weeks") as advance:
                data = _report.collect(
                    tracker,
                    since=start,
                    until=end,
                    by=by,
                    on_step=lambda done, total: advance(1, total=total),
                )
            card = data.scorecard
    finally:
        store.close()
    if data is not None and html_path is not None:
        _report.write_html(data, html_path)
    if as_json:
        click.echo(json.dumps(card.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_table(card, opts.tenant_name)
    if html_path is not None and not opts.quiet:
        click.echo(f"report written to {html_path}", err=True)


def _print_table(card: object, tenant: str) -> None:
    from keepword.report import COLUMNS, cell

    rows = getattr(card, "rows", ())
    total = card.total  # type: ignore[attr-defined]
    by = getattr(card, "by", None)
    table = Table(title=f"Scorecard of tenant {tenant}")
    table.add_column(by or "group")
    for field, _ in COLUMNS:
        table.add_column(_SHORT.get(field, field), justify="right")
    for row in rows:
        table.add_row(
            "(none)" if row.group is None else row.group, *(cell(row, f) for f, _ in COLUMNS)
        )
    table.add_row("[bold]total[/]", *(f"[bold]{cell(total, f)}[/]" for f, _ in COLUMNS))
    console().print(table)
