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

from keepword.calendar import BusinessCalendar, within
from keepword.clock import FrozenClock
from keepword.commitment import Commitment
from keepword.errors import KeepwordError
from keepword.explain import format_duration
from keepword.stores.sql import SqlStore
from keepword.tracker import Tracker
from keepword.transitions import REWORK_BUSINESS_DAYS

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
        _reopen(console, tracker, commitments)
        _scorecard(console, tracker)
        _time_went(console, tracker)
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


def _reopen(console: Any, tracker: Tracker, commitments: Sequence[Commitment]) -> None:
    """Two customers call back: the last two promises kept were not really done."""
    kept = sorted(
        (c for c in commitments if c.kept_at is not None and c.kind != "extra_mile"),
        key=lambda c: (c.kept_at, c.id),
    )[-2:]
    for c in kept:
        again = tracker.reopen(
            c.id, due=within(business_days=1), reason="the customer says it is not done"
        )
        console.print(
            f"Reopened for {again.customer}: {again.what!r}, kept "
            f"{c.kept_at:%a %d %b %H:%M}, is due again {again.due_at:%a %d %b %H:%M} UTC"
        )


def _time_went(console: Any, tracker: Tracker) -> None:
    total = tracker.scorecard().total
    table = Table(title="Where the time of late and broken promises went (business time)")
    for column in ("held by", "who or why", "time"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for held, rows in (("owner", total.time_by_owner), ("pause", total.time_by_pause)):
        for holder, spent in rows[:5]:
            table.add_row(held, holder, format_duration(spent))
    console.print(table)
    console.print(
        f"Rework: {total.extra.get('rework', 0)} "
        f"({total.extra.get('reopened', 0)} promises reopened within "
        f"{REWORK_BUSINESS_DAYS} business days of their keep"
        + (
            f", {total.extra['rework_complaints']} complaints soon after a keep)"
            if "rework_complaints" in total.extra
            else ")"
        )
    )


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
