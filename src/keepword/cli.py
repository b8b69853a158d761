"""The ``keepword`` command line."""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from keepword.calendar import BusinessCalendar, Within
from keepword.errors import KeepwordError

__all__ = ["main"]


def _console() -> Console:
    """A console that does not squeeze tables into 80 columns when piped."""
    return Console() if sys.stdout.isatty() else Console(width=132)


@click.group()
@click.version_option(package_name="keepword")
def main() -> None:
    """keepword: keep your word to your customers."""


@main.command()
@click.argument("spec")
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the business.")
@click.option(
    "--hours", default="Mon-Fri 09:00-17:00", show_default=True, help="Weekly opening hours."
)
@click.option("--country", default=None, help="Country code for public holidays (e.g. US).")
@click.option("--subdiv", default=None, help="Subdivision for holidays (e.g. CA).")
@click.option(
    "--start",
    default=None,
    help="When the promise is made, local ISO time in --tz (default: now).",
)
def explain(
    spec: str, tz: str, hours: str, country: str | None, subdiv: str | None, start: str | None
) -> None:
    """Say when a promise made at START with SPEC (e.g. business_days=3) is due, and why."""
    console = _console()
    try:
        cal = BusinessCalendar(tz=tz, hours=hours, country=country, subdiv=subdiv)
        if start is None:
            made = _dt.datetime.now(cal.zone)
        else:
            made = _dt.datetime.fromisoformat(start)
            if made.tzinfo is None:
                made = made.replace(tzinfo=cal.zone)
        console.print(cal.explain(made, Within.parse(spec)), soft_wrap=True)
    except (KeepwordError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@click.option(
    "--db",
    "db_path",
    default="keepword-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file for the demo shop (replaced on every run).",
)
@click.option("--timeline", "timeline_rows", default=25, show_default=True, type=int)
def demo(days: int, seed: int, db_path: Path, timeline_rows: int) -> None:
    """Simulate a small shop's promises for DAYS days on an embedded SQLite file."""
    from keepword._demo_measuring import show as show_measuring
    from keepword.demo import SHOP_CALENDAR, SHOP_POLICIES, simulate, summarize
    from keepword.stores.sql import SqlStore
    from keepword.tracker import Tracker

    console = _console()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = SqlStore(f"sqlite:///{db_path}")
    store.create_schema()
    try:
        result = simulate(
            lambda clock: Tracker(
                store,
                calendar=SHOP_CALENDAR,
                tenant="demo-shop",
                clock=clock,
                policies=SHOP_POLICIES,
            ),
            days=days,
            seed=seed,
        )
    finally:
        store.close()
    console.rule(f"[bold]keepword demo[/]: a small shop, {days} days, stored in {db_path}")
    console.print(f"Example promise: {result.example}", soft_wrap=True)
    console.print()
    shown = result.timeline[:timeline_rows]
    for at, text in shown:
        local = at.astimezone(SHOP_CALENDAR.zone)
        console.print(f"[dim]{local:%a %d %b %H:%M}[/]  {text}", soft_wrap=True)
    if len(result.timeline) > len(shown):
        console.print(f"[dim]... and {len(result.timeline) - len(shown)} more events[/]")
    table = Table(title="Promises by owner")
    columns = (
        "owner",
        "made",
        "kept on time",
        "kept late",
        "broken",
        "cancelled",
        "open",
        "breached",
        "on-time rate",
    )
    headers = {"kept on time": "on time", "kept late": "late", "on-time rate": "on-time"}
    for column in columns:
        table.add_column(
            headers.get(column, column), justify="left" if column == "owner" else "right"
        )
    for row in summarize(result.commitments):
        table.add_row(
            *(f"{row[c]:.1%}" if c == "on-time rate" else str(row.get(c, 0)) for c in columns)
        )
    console.print(table)
    fired = Table(title="Reminders and escalations fired (all delivered through the outbox)")
    for column in ("step", "recipient", "action", "fired", "late"):
        fired.add_column(column, justify="left" if column in ("step", "recipient") else "right")
    counts: dict[tuple[str, str, str], list[int]] = {}
    for notice in result.notices:
        tally = counts.setdefault((notice.step, notice.recipient, notice.action), [0, 0])
        tally[0] += 1
        tally[1] += notice.late
    for (step, recipient, action), (n, late) in sorted(counts.items()):
        fired.add_row(step, recipient, action, str(n), str(late))
    console.print(fired)
    console.print(f"{result.delivered} notices delivered and acknowledged.")
    show_measuring(
        console,
        f"sqlite:///{db_path}",
        result.commitments,
        calendar=SHOP_CALENDAR,
        tenant="demo-shop",
    )


@main.group()
def db() -> None:
    """Manage keepword's tables in a database."""


_URL = click.option(
    "--url", required=True, envvar="KEEPWORD_DATABASE_URL", help="SQLAlchemy database URL."
)
_PREFIX = click.option("--prefix", default="keepword_", show_default=True, help="Table prefix.")
_SCHEMA = click.option("--schema", default=None, help="Database schema (PostgreSQL).")


@db.command()
@_URL
@_PREFIX
@_SCHEMA
@click.option("--revision", default="head", show_default=True)
def upgrade(url: str, prefix: str, schema: str | None, revision: str) -> None:
    """Create or migrate keepword's tables up to REVISION (Alembic)."""
    from keepword.stores.sql import migrate

    try:
        migrate.upgrade(url, table_prefix=prefix, schema=schema, revision=revision)
        at = migrate.current(url, table_prefix=prefix, schema=schema)
    except KeepwordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"keepword tables ({prefix}*) at revision {at}")


@db.command()
@_URL
@_PREFIX
@_SCHEMA
def current(url: str, prefix: str, schema: str | None) -> None:
    """Print the revision keepword's tables are at."""
    from keepword.stores.sql import migrate

    try:
        at = migrate.current(url, table_prefix=prefix, schema=schema)
    except KeepwordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(at or "not migrated")
