"""``keepword demo``, ``explain``, ``config check``, ``db``, ``due`` and ``outbox drain``."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import sys
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table

from keepword.calendar import BusinessCalendar, Within
from keepword.cli._app import common, console, group, main, options, progress
from keepword.errors import KeepwordError

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with instants as ISO text and durations as seconds, for ``json.dumps``."""
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value  # an enum
    return value


# --------------------------------------------------------------------------- explain

_SPEC = re.compile(r"^\s*[a-z_]+\s*=\s*[-+0-9.eE]+\s*$")


@main.command()
@click.argument("spec_or_id")
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
@click.option(
    "--audience",
    type=click.Choice(["staff", "customer"]),
    default=None,
    help="Explain a stored commitment for staff or for the customer.",
)
@click.option("--locale", default=None, help="Language of a stored commitment's explanation.")
@common
def explain(
    spec_or_id: str,
    tz: str,
    hours: str,
    country: str | None,
    subdiv: str | None,
    start: str | None,
    audience: str | None,
    locale: str | None,
) -> None:
    """Say why a deadline falls where it does.

    SPEC_OR_ID is a deadline spec such as business_days=3 (explained on the
    calendar --tz/--hours/--country give, from --start), or the id of a
    stored commitment (needs --url).
    """
    out = console()
    if not _SPEC.match(spec_or_id):
        _explain_stored(spec_or_id, audience, locale)
        return
    try:
        cal = BusinessCalendar(tz=tz, hours=hours, country=country, subdiv=subdiv)
        if start is None:
            made = _dt.datetime.now(cal.zone)
        else:
            made = _dt.datetime.fromisoformat(start)
            if made.tzinfo is None:
                made = made.replace(tzinfo=cal.zone)
        out.print(cal.explain(made, Within.parse(spec_or_id)), soft_wrap=True)
    except (KeepwordError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None


def _explain_stored(commitment_id: str, audience: str | None, locale: str | None) -> None:
    opts = options()
    store = opts.store()
    try:
        tracker = opts.tracker(store)
        kwargs: dict[str, str] = {}
        if audience is not None:
            kwargs["audience"] = audience
        if locale is not None:
            kwargs["locale"] = locale
        explain: Any = tracker.explain  # audience= and locale= where the tracker has them
        if kwargs:
            import inspect

            accepted = inspect.signature(explain).parameters
            for name in kwargs:
                if name not in accepted:
                    raise KeepwordError(
                        "this keepword explains a commitment in one wording only",
                        argument=f"--{name}",
                        fix=f"leave out --{name}, or upgrade keepword",
                    )
        text = explain(commitment_id, **kwargs)
    finally:
        store.close()
    console().print(text, soft_wrap=True)


# --------------------------------------------------------------------------- demo


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
@common
def demo(days: int, seed: int, db_path: Path, timeline_rows: int) -> None:
    """Simulate a small shop's promises for DAYS days on an embedded SQLite file."""
    from keepword.demo import SHOP_CALENDAR, SHOP_POLICIES, render, simulate
    from keepword.stores.sql import SqlStore
    from keepword.tracker import Tracker

    folder = db_path.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise KeepwordError(
            f"cannot write the demo database in {folder}",
            argument="--db",
            fix="pass --db with a path in a writable directory",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = SqlStore(f"sqlite:///{db_path}")
    store.create_schema()
    try:
        with progress(f"Simulating {days} days", total=days) as advance:
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
                on_day=lambda day: advance(),
            )
    finally:
        store.close()
    render(console(), result, db_path=str(db_path), timeline_rows=timeline_rows)


# --------------------------------------------------------------------------- config

config_group = group("config", "Check a keepword.toml config file.")


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@common
def config_check(path: Path | None) -> None:
    """Validate a config file (PATH or --config) and print what it resolved."""
    opts = options()
    if path is not None:
        opts.config_path = path
    if opts.config_path is None:
        raise click.UsageError("give the file: keepword config check keepword.toml")
    cfg = opts.config
    out = console()
    now = _dt.datetime.now(_dt.UTC)
    cals = Table(title=f"Calendars in {cfg.path}")
    for column in ("name", "zone", "hours", "holidays", "next opening", "then closes"):
        cals.add_column(column)
    for name, cal in cfg.calendars.items():
        opens = cal.next_open(now)
        closes = cal.next_close(opens)
        where = f"{cal.country}{'-' + cal.subdiv if cal.subdiv else ''}" if cal.country else "-"
        marker = " (default)" if name == cfg.default_calendar else ""
        cals.add_row(
            name + marker,
            cal.tz,
            cal.hours,
            where,
            f"{opens.astimezone(cal.zone):%a %d %b %Y %H:%M %Z}",
            f"{closes.astimezone(cal.zone):%a %d %b %H:%M}",
        )
    if not cfg.calendars:
        out.print("No [calendars]: the default is UTC, Mon-Fri 09:00-17:00.")
    else:
        out.print(cals)
    if cfg.policies is None:
        out.print("No [[policies]]: promises get no escalation steps.")
        return
    pols = Table(title="Escalation policies (the first that fits a promise wins)")
    for column in ("policy", "applies to", "step", "when", "target", "action", "repeats"):
        pols.add_column(column)
    for policy in cfg.policies.policies:
        match = policy.match.to_dict()
        fits = "; ".join(
            f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in match.items()
            if v not in (None, [], ())
        )
        for i, step in enumerate(policy.steps):
            repeats = f"{step.times}x every {step.every}" if step.every else ""
            pols.add_row(
                policy.name if i == 0 else "",
                (fits or "everything") if i == 0 else "",
                step.label,
                str(step.trigger) + (" (quiet)" if step.quiet else ""),
                step.notify,
                step.action,
                repeats,
            )
    out.print(pols)


# --------------------------------------------------------------------------- db

db = group("db", "Manage keepword's tables in a database.")


@db.command()
@click.option("--revision", default="head", show_default=True)
@common
def upgrade(revision: str) -> None:
    """Create or migrate keepword's tables up to REVISION (Alembic)."""
    from keepword.cli._app import check_url
    from keepword.stores.sql import migrate

    opts = options()
    url = opts.database_url()
    check_url(url, existing=False)
    with progress("Migrating") as advance:
        migrate.upgrade(
            url, table_prefix=opts.table_prefix, schema=opts.schema_name, revision=revision
        )
        advance()
        at = migrate.current(url, table_prefix=opts.table_prefix, schema=opts.schema_name)
    click.echo(f"keepword tables ({opts.table_prefix}*) at revision {at}")


@db.command()
@common
def current() -> None:
    """Print the revision keepword's tables are at."""
    from keepword.cli._app import check_url
    from keepword.stores.sql import migrate

    opts = options()
    url = opts.database_url()
    check_url(url, existing=True)
    at = migrate.current(url, table_prefix=opts.table_prefix, schema=opts.schema_name)
    click.echo(at or "not migrated")


@db.command()
@common
def history() -> None:
    """List keepword's migrations, newest first, marking the one the tables are at."""
    from alembic.script import ScriptDirectory

    from keepword.cli._app import check_url
    from keepword.stores.sql import migrate

    opts = options()
    at: str | None = None
    if opts.url or opts.config.url:
        url = opts.database_url()
        check_url(url, existing=True)
        at = migrate.current(url, table_prefix=opts.table_prefix, schema=opts.schema_name)
    scripts = ScriptDirectory.from_config(migrate.alembic_config(table_prefix=opts.table_prefix))
    for script in scripts.walk_revisions():
        mark = "  <- current" if script.revision == at else ""
        doc = (script.doc or "").strip().splitlines()[0] if script.doc else ""
        click.echo(f"{script.revision}  {doc}{mark}")


# --------------------------------------------------------------------------- due

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_within(text: str) -> Within | _dt.timedelta:
    """``4h``, ``30m``, ``2d``, ``1w`` (real time) or a spec such as ``business_hours=4``.

    Raises:
        click.BadParameter: neither form.
    """
    found = _DURATION.match(text)
    if found:
        return _dt.timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])
    try:
        return Within.parse(text)
    except KeepwordError:
        raise click.BadParameter(
            f"{text!r}: write 30m, 4h, 2d, 1w or a spec such as business_hours=4",
            param_hint="--within",
        ) from None


@main.command()
@click.option("--within", "within_", default=None, help="Due within: 4h, 2d, business_hours=4.")
@click.option("--owner", default=None, help="Only this owner's promises.")
@click.option("--overdue", is_flag=True, help="Only promises whose deadline has passed.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@common
def due(within_: str | None, owner: str | None, overdue: bool, limit: int, as_json: bool) -> None:
    """List open promises that fall due (soonest first), overdue ones included."""
    spec = parse_within(within_) if within_ is not None else None
    opts = options()
    store = opts.store()
    try:
        tracker = opts.tracker(store)
        filters: dict[str, Any] = {"limit": limit}
        if owner is not None:
            filters["owner"] = owner
        found = tracker.overdue(**filters) if overdue else tracker.due(within=spec, **filters)
        now = tracker.now()
    finally:
        store.close()
    if as_json:
        rows = [
            {
                "id": c.id,
                "customer": c.customer,
                "owner": c.owner,
                "kind": c.kind,
                "what": c.what,
                "due_at": c.due_at.isoformat(),
                "status": c.status.value,
                "overdue": c.due_at < now,
                "external_ref": c.external_ref,
            }
            for c in found
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Due in tenant {opts.tenant_name} ({len(found)})")
    for column in ("due", "in", "owner", "customer", "kind", "what", "id"):
        table.add_column(column, no_wrap=column in ("due", "id"))
    for c in found:
        local = c.due_at.astimezone(c.calendar.zone)
        left = c.due_at - now
        when = f"[red]{_span(-left)} ago[/]" if left < _dt.timedelta(0) else _span(left)
        table.add_row(
            f"{local:%a %d %b %Y %H:%M %Z}", when, c.owner, c.customer, c.kind, c.what, c.id
        )
    console().print(table)


def _span(delta: _dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes // 1440}d"


# --------------------------------------------------------------------------- outbox

outbox = group("outbox", "Deliver the notices the tick fired.")


@outbox.command()
@click.option(
    "--to",
    "fmt",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="Output format.",
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--max", "most", default=None, type=click.IntRange(1), help="Stop after this many.")
@click.option(
    "--lease",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds a claimed batch is held before another drain may take it.",
)
@common
def drain(fmt: str, file: Path, batch: int, most: int | None, lease: float) -> None:
    """Claim pending notices, append them to FILE as JSON lines, fsync, then acknowledge.

    At least once: a notice is acknowledged only after its line is on disk,
    so a crash between the write and the acknowledgement writes it again on
    the next drain (drop repeats by idempotency_key).  '-' writes to stdout.
    """
    opts = options()
    store = opts.store()
    written = 0
    try:
        tracker = opts.tracker(store)
        stream: IO[str] = (
            sys.stdout if str(file) == "-" else open(file, "a", encoding="utf-8")  # noqa: SIM115
        )
        try:
            while most is None or written < most:
                size = batch if most is None else min(batch, most - written)
                token, notices = tracker.claim_notices(size, lease=_dt.timedelta(seconds=lease))
                if not notices:
                    break
                try:
                    for notice in notices:
                        stream.write(json.dumps(notice_to_json(notice), ensure_ascii=False) + "\n")
                    stream.flush()
                    with contextlib.suppress(OSError, ValueError):  # a pipe cannot be synced
                        os.fsync(stream.fileno())
                except BaseException:
                    tracker.release_notices([n.id for n in notices], token)
                    raise
                written += tracker.ack_notices([n.id for n in notices], token)
        finally:
            if str(file) != "-":
                stream.close()
    finally:
        store.close()
    if not opts.quiet and str(file) != "-":
        click.echo(f"{written} notices written to {file} and acknowledged", err=True)


def notice_to_json(notice: Any) -> dict[str, Any]:
    """A notice as a JSON-ready mapping (instants in ISO form)."""
    import attrs

    data = attrs.asdict(notice, recurse=False)
    return {k: jsonable(v) for k, v in data.items() if k not in ("claimed_until", "acked_at")}
