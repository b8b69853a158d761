"""The end of ``keepword demo``: the scorecard by owner, service levels and quotes.

Reads the demo shop's store back (aggregated in the database through the
``"metrics"`` port) at the end of the simulated period and prints three
tables: the scorecard by owner, each customer's service level with the rule
that decided it, and a quote per kind of promise the shop made.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from keepword.calendar import BusinessCalendar
from keepword.clock import FrozenClock
from keepword.commitment import Commitment
from keepword.errors import KeepwordError
from keepword.explain import format_duration
from keepword.stores.sql import SqlStore
from keepword.tracker import Tracker

__all__ = ["show"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _span(value: _dt.timedelta | None) -> str:
    return "-" if value is None else format_duration(value)


def show(
    console: Any,
    url: str,
    commitments: Sequence[Commitment],
    *,
    calendar: BusinessCalendar,
    tenant: str,
) -> None:
    """Print the scorecard by owner, every customer's service level and a quote per kind.

    Args:
        console: a ``rich`` console.
        url: the demo store's database URL.
        commitments: the simulated commitments (for the period's end and the kinds).
        calendar: the shop's calendar.
        tenant: the shop's tenant.
    """
    if not commitments:
        return
    end = max(c.closed_at or c.made_at for c in commitments)
    store = SqlStore(url)
    try:
        tracker = Tracker(store, calendar=calendar, tenant=tenant, clock=FrozenClock(end))
        _scorecard(console, tracker)
        _levels(console, tracker)
        _quotes(console, tracker, sorted({c.kind for c in commitments}))
    finally:
        store.close()


def _scorecard(console: Any, tracker: Tracker) -> None:
    card = tracker.scorecard(by="owner")
    table = Table(title="Scorecard by owner (aggregated in the database)")
    columns = (
        "owner",
        "made",
        "on time",
        "late",
        "after breach",
        "broken",
        "open",
        "on-time rate",
        "lateness p50",
        "lateness p90",
        "first reply p50",
        "renegotiated",
        "escalations",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "owner" else "right")
    for row in (*card.rows, card.total):
        table.add_row(
            "total" if row is card.total else str(row.group),
            str(row.made),
            str(row.kept_on_time),
            str(row.kept_late),
            str(row.kept_after_breach),
            str(row.broken),
            str(row.open),
            _pct(row.on_time_rate),
            _span(row.lateness_p50),
            _span(row.lateness_p90),
            _span(row.first_response_p50),
            str(row.renegotiations),
            str(row.escalations),
        )
    console.print(table)


def _levels(console: Any, tracker: Tracker) -> None:
    card = tracker.scorecard(by="customer")
    table = Table(title="Service level per customer")
    table.add_column("customer")
    table.add_column("level")
    table.add_column("rule")
    for customer, level, rule in card.service_levels:
        table.add_row(customer, str(level), rule)
    console.print(table)


def _quotes(console: Any, tracker: Tracker, kinds: Sequence[str]) -> None:
    table = Table(title="Quotes: the tightest deadline history keeps 9 times in 10")
    for column in ("kind", "quote", "from", "90th percentile"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind in kinds:
        try:
            q = tracker.quote(kind, confidence=0.9)
        except KeepwordError as exc:
            table.add_row(kind, "-", str(exc.message), "-")
            continue
        table.add_row(kind, str(q), f"{q.sample} promises", format_duration(q.quantile))
    console.print(table)
