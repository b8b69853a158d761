"""``keepword tick``: tick once, or run as a worker.

The worker ticks in batches, then sleeps until the next step is due
(``next_wakeup()``), at most ``--max-sleep`` seconds.  On PostgreSQL it also
``LISTEN``\\ s on the store's channel (:func:`keepword.stores.sql._commitments.notify_channel`)
so a promise made by another process wakes it at once.  SIGTERM or SIGINT
lets the current batch finish (its unfired claims are released, as every
batch releases them) and the worker exits 0.  A database that stays lost
through ``--retries`` attempts ends the worker with exit code 1.
"""

from __future__ import annotations

import datetime as _dt
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from rich.table import Table

from keepword.cli._app import common, console, main, options
from keepword.errors import KeepwordError, StoreError
from keepword.services.ticking import BATCH, TickReport

__all__ = ["Waker", "tick"]

LOG = sys.stdout


@main.command()
@click.option("--once", is_flag=True, help="Tick once, print what fired, and exit.")
@click.option("--all-tenants", is_flag=True, help="Tick every tenant's due work, in due order.")
@click.option(
    "--limit",
    default=500,
    show_default=True,
    type=click.IntRange(1),
    help="With --once: at most this many commitments.",
)
@click.option(
    "--max-sleep",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.05),
    help="The worker sleeps at most this many seconds between ticks.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The worker's one line per batch.",
)
@click.option(
    "--retries",
    default=3,
    show_default=True,
    type=click.IntRange(0),
    help="Attempts after the database fails before the worker gives up (exit 1).",
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print what fired as JSON.")
@common
def tick(
    once: bool,
    all_tenants: bool,
    limit: int,
    max_sleep: float,
    log_format: str,
    retries: int,
    as_json: bool,
) -> None:
    """Fire every escalation step whose time has come (once, or as a worker)."""
    opts = options()
    store = opts.store()
    try:
        runner: Any
        if all_tenants:
            from keepword.services.ticking_all import Ticker

            cfg = opts.config
            runner = Ticker(store, calendar=cfg.calendar, policies=cfg.policies)
            scope = "*"
        else:
            runner = opts.tracker(store)
            scope = opts.tenant_name
        if once:
            report = runner.tick(limit=limit)
            _print_report(report, as_json)
            return
        _work(runner, store, scope, max_sleep, log_format, retries)
    finally:
        store.close()


def _print_report(report: TickReport, as_json: bool) -> None:
    from keepword.cli._commands import notice_to_json

    if as_json:
        click.echo(
            json.dumps(
                {
                    "at": report.at.isoformat(),
                    "commitments": report.commitments,
                    "fired": report.fired,
                    "late": report.late,
                    "breaches": report.breaches,
                    "conflicts": report.conflicts,
                    "set_aside": report.set_aside,
                    "more": report.more,
                    "notices": [notice_to_json(n) for n in report.notices],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    out = console()
    if report.notices:
        table = Table(title=f"Fired at {report.at:%Y-%m-%d %H:%M:%S %Z}")
        for column in ("due", "tenant", "customer", "kind", "step", "to", "action", "late"):
            table.add_column(column)
        for n in report.notices:
            table.add_row(
                f"{n.due_at:%Y-%m-%d %H:%M %Z}",
                n.tenant,
                n.customer,
                n.kind,
                n.step,
                n.recipient,
                n.action,
                "late" if n.late else "",
            )
        out.print(table)
    more = " (more due: tick again)" if report.more else ""
    out.print(
        f"{report.commitments} due commitments, {report.fired} notices fired "
        f"({report.late} late), {report.breaches} breaches, {report.conflicts} conflicts{more}"
    )


# --------------------------------------------------------------------------- the worker


class Waker:
    """Sleeps until a deadline, a stop request, or (PostgreSQL) a NOTIFY on the channel.

    Args:
        url: the SQLAlchemy URL of the database (``LISTEN`` only on
            ``postgresql+psycopg``).
        channel: the channel to ``LISTEN`` on.
        stop: set to end every wait at once.
        tenant: wake only for this tenant's promises (``None``: any).
        log: ``log(event, **fields)`` for a line when listening fails.
    """

    def __init__(
        self,
        url: Any,
        channel: str,
        stop: threading.Event,
        tenant: str | None,
        log: Callable[..., None],
    ):
        self.stop = stop
        self.log = log
        self.tenant = tenant
        self.listening = False
        self._conn: Any = None
        if url.get_backend_name() == "postgresql":
            try:
                import psycopg
                from psycopg import sql

                conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._conn = psycopg.connect(conninfo, autocommit=True)
                self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                self.listening = True
            except Exception as exc:  # polling still works: say so once
                self.log("polling", reason=f"cannot LISTEN on {channel}: {exc}")
                self.close()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; ``True`` when woken early by a NOTIFY."""
        end = time.monotonic() + max(seconds, 0.0)
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            if self._conn is None:
                self.stop.wait(min(left, 0.5))
                continue
            try:
                for note in self._conn.notifies(timeout=min(left, 0.5), stop_after=1):
                    if self.tenant is None or note.payload == self.tenant:
                        return True
            except Exception as exc:  # the listening connection died: poll; the tick reports
                self.log("polling", reason=f"{type(exc).__name__}: {exc}")
                self.close()
        return False

    def close(self) -> None:
        """Stop listening."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken: nothing to close
                pass
            finally:
                self._conn = None
                self.listening = False


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _log_text(text: str) -> None:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    LOG.write(f"{stamp} {text}\n")
    LOG.flush()


def _logger(log_format: str, scope: str) -> Callable[..., None]:
    def log(event: str, **fields: Any) -> None:
        if log_format == "json":
            stamp = _dt.datetime.now(_dt.UTC).isoformat()
            record = {"ts": stamp, "event": event, "tenant": scope, **fields}
            LOG.write(json.dumps(record, default=str) + "\n")
            LOG.flush()
            return
        shown = " ".join(f"{k}={v}" for k, v in fields.items())
        _log_text(f"{event} tenant={scope} {shown}".rstrip())

    return log


def _work(
    runner: Any, store: Any, scope: str, max_sleep: float, log_format: str, retries: int
) -> None:
    """Tick in batches and sleep in between until SIGTERM/SIGINT (see the module docstring)."""
    from keepword.stores.sql._commitments import notify_channel

    log = _logger(log_format, scope)
    with _stop_on_signals() as stop:
        waker = Waker(
            store.engine.url,
            notify_channel(store.table_prefix),
            stop,
            None if scope == "*" else scope,
            log,
        )
        log("start", worker=runner.worker, listen=waker.listening, max_sleep=max_sleep)
        failures = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    report = runner.tick(limit=BATCH)
                    wake = runner.next_wakeup()
                except StoreError as exc:
                    failures += 1
                    log("error", attempt=failures, error=str(exc))
                    if failures > retries:
                        raise KeepwordError(
                            f"lost the database after {failures} attempts: {exc}",
                            argument="--url",
                            fix="check that the database is up and reachable, then restart",
                        ) from None
                    waker.wait(min(max_sleep, 2.0**failures))
                    continue
                failures = 0
                now = _dt.datetime.now(_dt.UTC)
                log(
                    "tick",
                    commitments=report.commitments,
                    fired=report.fired,
                    late=report.late,
                    breaches=report.breaches,
                    conflicts=report.conflicts,
                    set_aside=report.set_aside,
                    errors=report.errors,
                    more=report.more,
                    ms=round((time.monotonic() - started) * 1000, 1),
                    next=wake.isoformat() if wake else None,
                )
                if report.more:
                    continue
                if wake is None:
                    sleep = max_sleep
                else:
                    sleep = min(max((wake - now).total_seconds(), 0.0), max_sleep)
                    if sleep == 0.0 and report.commitments == 0:
                        sleep = min(0.25, max_sleep)  # due but claimed elsewhere: no hot loop
                if sleep > 0:
                    waker.wait(sleep)
        finally:
            waker.close()
            log("stop", reason="signal" if stop.is_set() else "error")
