"""Measuring: the scorecard, where a breached promise's time went, and service levels.

The commitment figures are aggregated in the store (the ``"metrics"`` port,
:class:`keepword.ports.Metrics`); the customer-care figures (complaints,
referrals, repeat business, rework, thank-you coverage, follow-ups,
extra-mile gestures) come from the ``"touchpoints"`` port when the store has
it, and are left out of the scorecard when it has not.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sized
from typing import Any, cast

import attrs

from keepword._instant import td_us
from keepword._validate import check_identifier
from keepword.commitment import Commitment, Status
from keepword.errors import InvalidArgumentError
from keepword.measures import ScoreQuery, time_spans
from keepword.ports import Metrics, Query, TouchpointLog, declared_ports, require_port
from keepword.scorecard import (
    BreachReport,
    Scorecard,
    ScoreRow,
    ServiceLevel,
    ServiceThresholds,
)
from keepword.services._context import CommitmentOrId, Context
from keepword.touchpoint import Touchpoint
from keepword.transitions import REWORK_BUSINESS_DAYS, _open_between, within_rework

__all__ = [
    "REWORK_BUSINESS_DAYS",
    "WRITTEN_CHANNELS",
    "breach_report",
    "care_measures",
    "fairness_findings",
    "scorecard",
    "service_level",
]

WRITTEN_CHANNELS = frozenset({"email", "letter", "chat", "web", "form", "sms", "social", "review"})
"""Channels whose complaints count as written; any other channel counts as spoken."""


def fairness_findings(found: Any) -> int | None:
    """How many findings an audit's result holds, or ``None`` if it cannot say.

    The result counts when it is sized (a list of findings) or has sized
    ``findings`` (a :class:`~keepword.fairness.FairnessReport`).
    """
    found = getattr(found, "findings", found)
    return len(found) if isinstance(found, Sized) else None


def _metrics(ctx: Context, action: str) -> Metrics:
    require_port(ctx.store, "metrics", action)
    return cast(Metrics, ctx.store)


def _touchpoints(ctx: Context) -> TouchpointLog | None:
    if "touchpoints" not in declared_ports(ctx.store):
        return None
    return cast(TouchpointLog, ctx.store)


def _thresholds(value: Any) -> ServiceThresholds:
    if value is None:
        return ServiceThresholds()
    if not isinstance(value, ServiceThresholds):
        raise InvalidArgumentError(
            f"must be a ServiceThresholds, not {type(value).__name__}", argument="thresholds"
        )
    return value


def _query(
    ctx: Context,
    *,
    by: Any,
    since: Any,
    until: Any,
    by_due: Any,
    thresholds: ServiceThresholds,
) -> ScoreQuery:
    return ScoreQuery(
        by=by,
        since=since,
        until=until,
        by_due=by_due,
        now=ctx.now(),
        tolerance_us=td_us(thresholds.late_tolerance),
        response_target_us=td_us(thresholds.reply_target),
        early_us=td_us(thresholds.early_margin),
    )


def scorecard(
    ctx: Context,
    *,
    since: _dt.datetime | None = None,
    until: _dt.datetime | None = None,
    by: str | None = None,
    by_due: bool = False,
    thresholds: ServiceThresholds | None = None,
    audit: Callable[[_dt.datetime | None, _dt.datetime | None], Any] | None = None,
) -> Scorecard:
    """How well the tenant's promises of a window were kept, per group and in total.

    A promise counts in the window by when it was made (``by_due=True``: by
    when it fell due), ``since`` inclusive, ``until`` exclusive.  The on-time
    rate is kept on time / (kept + broken), where kept counts on-time, late
    and after-breach keeps alike.  ``extra["reopened"]`` counts promises that
    reopen a kept one within the rework window; ``total.extra["rework"]`` is
    they plus, with the touchpoints port, the complaints within that window
    after a keep.  With the touchpoints port, ``total.extra`` also holds the
    customer-care measures (see :func:`care_measures`); with
    ``by="customer"``, ``service_levels`` holds each customer's level.

    ``audit``, when given, is called with the window's ``since`` and
    ``until`` once they are checked; the number of findings it returns is
    ``total.extra["fairness_findings"]`` (see :func:`fairness_findings`).

    Raises:
        InvalidArgumentError: a bad ``by``, ``since``, ``until`` or ``by_due``.
        MissingPortError: the store has no ``"metrics"`` port.
    """
    levels = _thresholds(thresholds)
    q = _query(ctx, by=by, since=since, until=until, by_due=by_due, thresholds=levels)
    rows, total = _metrics(ctx, "scorecard").score_rows(ctx.tenant, q)
    extra = dict(total.extra)
    log = _touchpoints(ctx)
    if log is not None:
        extra.update(care_measures(ctx, log, q.since, q.until))
    extra["rework"] = extra.get("reopened", 0) + extra.get("rework_complaints", 0)
    found = None if audit is None else fairness_findings(audit(q.since, q.until))
    if found is not None:
        extra["fairness_findings"] = found
    total = attrs.evolve(total, extra=extra)
    service_levels: tuple[tuple[str, ServiceLevel, str], ...] = ()
    if q.by == "customer":
        service_levels = tuple(
            (row.group, *_level_of(ctx, row, row.group, q.since, q.until, levels))
            for row in rows
            if row.group is not None
        )
    return Scorecard(
        since=q.since,
        until=q.until,
        by=q.by,
        by_due=q.by_due,
        rows=tuple(rows),
        total=total,
        service_levels=service_levels,
    )


def care_measures(
    ctx: Context,
    log: TouchpointLog,
    since: _dt.datetime | None,
    until: _dt.datetime | None,
) -> dict[str, Any]:
    """The customer-care measures of a window, from the touchpoint log.

    - ``complaints_written``, ``complaints_spoken``: ``"complaint"``
      occasions, by channel (written: :data:`WRITTEN_CHANNELS`).
    - ``referrals``: ``"referral"`` occasions.
    - ``repeat_customers``: customers with two or more ``"sale"`` occasions.
    - ``rework_complaints``: complaints within
      :data:`~keepword.transitions.REWORK_BUSINESS_DAYS` business days (on the
      kept promise's calendar) after a keep for the same customer; the
      scorecard's ``rework`` adds them to the promises reopened within that
      window (``reopened``, see :meth:`keepword.Tracker.reopen`).
    - ``thank_you_coverage``: the share of customers with a sale in the
      window who were thanked (a counted ``"thank_you"``) in it, or ``None``.
    - ``extra_mile``: extra-mile gestures.
    """
    counts = _metrics(ctx, "scorecard").care_counts(ctx.tenant, since=since, until=until)
    by_channel: dict[str, int] = counts["complaints_by_channel"]
    complaints = (
        [
            t
            for t in log.touchpoints(ctx.tenant, kind="occasion", since=since, until=until)
            if t.occasion == "complaint"
        ]
        if by_channel
        else []
    )
    sale_customers = counts["sale_customers"]
    return {
        "complaints_written": sum(n for ch, n in by_channel.items() if ch in WRITTEN_CHANNELS),
        "complaints_spoken": sum(n for ch, n in by_channel.items() if ch not in WRITTEN_CHANNELS),
        "referrals": counts["referrals"],
        "repeat_customers": counts["repeat_customers"],
        "rework_complaints": _rework(ctx, complaints),
        "thank_you_coverage": (
            None if not sale_customers else counts["thanked_sale_customers"] / sale_customers
        ),
        "extra_mile": counts["extra_mile"],
    }


def _rework(ctx: Context, complaints: Iterable[Touchpoint]) -> int:
    """How many complaints came within the rework window after a keep for that customer."""
    count = 0
    for complaint in complaints:
        kept = ctx.store.find(
            ctx.tenant,
            Query(customer=complaint.customer, statuses=[Status.KEPT], order="made_at"),
        )
        for c in kept:
            if within_rework(c, complaint.at):
                count += 1
                break
    return count


# --------------------------------------------------------------------------- service levels


def service_level(
    ctx: Context,
    customer: str,
    *,
    since: _dt.datetime | None = None,
    until: _dt.datetime | None = None,
    thresholds: ServiceThresholds | None = None,
) -> tuple[ServiceLevel, str]:
    """The service level ``customer`` received in the window, and the rule that decided it.

    See :class:`~keepword.scorecard.ServiceThresholds` for the rules.  The
    promises counted are those made in the window.

    Raises:
        InvalidArgumentError: a bad ``customer``, window or ``thresholds``.
        MissingPortError: the store has no ``"metrics"`` port.
    """
    customer = check_identifier(customer, "customer")
    levels = _thresholds(thresholds)
    q = _query(ctx, by="customer", since=since, until=until, by_due=False, thresholds=levels)
    rows, _ = _metrics(ctx, "service_level").score_rows(ctx.tenant, q)
    row = next((r for r in rows if r.group == customer), ScoreRow(group=customer))
    return _level_of(ctx, row, customer, q.since, q.until, levels)


def _level_of(
    ctx: Context,
    row: ScoreRow,
    customer: str,
    since: _dt.datetime | None,
    until: _dt.datetime | None,
    t: ServiceThresholds,
) -> tuple[ServiceLevel, str]:
    """The level of one customer's scorecard row (and touchpoints), with its rule."""
    late = row.extra.get("late_beyond_tolerance", 0)
    overdue = _overdue_beyond(ctx, customer, since, until, t.late_tolerance)
    if row.broken or late or overdue:
        parts = []
        if row.broken:
            parts.append(f"{row.broken} broken")
        if late:
            parts.append(f"{late} kept late beyond the tolerance")
        if overdue:
            parts.append(f"{overdue} overdue beyond the tolerance")
        return ServiceLevel.NOT_MET, "not met: " + ", ".join(parts)
    met = f"met: all {row.kept} kept, none broken or late" if row.kept else "met: nothing broken"
    slow = row.extra.get("replies_over_target", 0)
    if slow:
        return (
            ServiceLevel.MET,
            f"{met}; not exceeded: {_n(slow, 'reply', 'replies')} slower than the target",
        )
    log = _touchpoints(ctx)
    if log is None:
        return ServiceLevel.MET, f"{met}; not exceeded: no touchpoint log to see follow-ups"
    touches = log.touchpoints(ctx.tenant, customer=customer, since=since, until=until)
    missing = _sales_without_follow_up(touches, until or ctx.now(), t.follow_up_within)
    if missing:
        return (
            ServiceLevel.MET,
            f"{met}; not exceeded: {_n(missing, 'sale', 'sales')} without a follow-up",
        )
    exceeded = "exceeded: replies within target, every sale followed up"
    early = row.extra.get("kept_early", 0)
    if row.kept == 0 or early <= t.early_share * row.kept:
        return (
            ServiceLevel.EXCEEDED,
            f"{exceeded}; not delighted: {early} of {row.kept} kept early",
        )
    thanks = sum(1 for x in touches if x.kind == "thank_you" and x.counted)
    if thanks < t.thanks_target:
        return (
            ServiceLevel.EXCEEDED,
            f"{exceeded}; not delighted: thanked {thanks} of {t.thanks_target} times",
        )
    delighted = f"delighted: {early} of {row.kept} kept early, thanked {thanks} times"
    if not any(x.kind == "extra_mile" for x in touches):
        return ServiceLevel.DELIGHTED, f"{delighted}; not amazed: no extra-mile gesture"
    return ServiceLevel.AMAZED, f"amazed: {delighted} and an extra-mile gesture"


def _n(count: int, one: str, many: str) -> str:
    """``count`` with its noun: ``"1 reply"``, ``"2 replies"``."""
    return f"{count} {one if count == 1 else many}"


def _overdue_beyond(
    ctx: Context,
    customer: str,
    since: _dt.datetime | None,
    until: _dt.datetime | None,
    tolerance: _dt.timedelta,
) -> int:
    """How many of the customer's open promises made in the window are overdue beyond tolerance."""
    now = ctx.now()
    overdue = ctx.store.find(
        ctx.tenant,
        Query(customer=customer, statuses=[Status.OPEN], due_before=now, order="due_at"),
    )
    count = 0
    for c in overdue:
        if (since is not None and c.made_at < since) or (until is not None and c.made_at >= until):
            continue
        if c.due_at < now and _open_between(c.calendar, c.due_at, now) > tolerance:
            count += 1
    return count


def _sales_without_follow_up(
    touches: list[Touchpoint], end: _dt.datetime, within: _dt.timedelta
) -> int:
    """Sales with no follow-up within ``within`` after them (those still in time aside)."""
    follow_ups = [t.at for t in touches if t.kind == "follow_up"]
    missing = 0
    for sale in touches:
        if sale.kind != "occasion" or sale.occasion != "sale":
            continue
        deadline = sale.at + within
        if any(sale.at <= at <= deadline for at in follow_ups):
            continue
        if deadline < end:
            missing += 1
    return missing


# --------------------------------------------------------------------------- breach report


def breach_report(ctx: Context, commitment: CommitmentOrId) -> BreachReport:
    """Where one promise's time went: business time per owner (clock running) and per pause.

    Adds up :func:`keepword.measures.time_spans`: the owner changes at each
    ``"reassigned"`` event and each escalation that reassigned it; a pause
    runs from its ``"paused"`` event to the next ``"resumed"``; an open
    promise's last span runs to now.  Business time on the commitment's own
    calendar.  Owners and reasons come in the order they first held it.

    Raises:
        NotFoundError: not in this tenant.
    """
    c = _loaded(ctx, commitment)
    now = ctx.now()
    owners: dict[str, int] = {}
    pauses: dict[str, int] = {}
    for kind, holder, us in time_spans(c, end=None if c.closed_at is not None else now):
        held = owners if kind == "owner" else pauses
        held[holder] = held.get(holder, 0) + us
    breach = None
    if c.breached_at is not None:
        stop = c.kept_at if c.kept_at is not None else c.closed_at or now
        breach = _open_between(c.calendar, c.breached_at, stop)
    return BreachReport(
        commitment_id=c.id,
        status=c.status.value,
        breached_at=c.breached_at,
        breach=breach,
        owners=tuple((o, _dt.timedelta(microseconds=us)) for o, us in owners.items()),
        pauses=tuple((r, _dt.timedelta(microseconds=us)) for r, us in pauses.items()),
    )


def _loaded(ctx: Context, commitment: CommitmentOrId) -> Commitment:
    if isinstance(commitment, Commitment):
        ctx.check_tenant(commitment)
        return ctx.store.get(ctx.tenant, commitment.id)
    return ctx.store.get(ctx.tenant, ctx.id_of(commitment))
