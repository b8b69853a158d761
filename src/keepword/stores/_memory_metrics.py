"""The ``"metrics"`` port of :class:`~keepword.stores.memory.MemoryStore`: the reference.

Obviously right rather than fast: each figure is computed from
:func:`keepword.measures.measures_of` of every commitment in the window,
exactly as :class:`keepword.ports.Metrics` states it; every other store must
return the same values.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Iterable
from typing import Any

from keepword._instant import to_utc
from keepword._validate import check_identifier
from keepword.commitment import Commitment, Status
from keepword.errors import InvalidArgumentError
from keepword.measures import (
    Measures,
    ScoreQuery,
    held_times,
    measures_of,
    nearest_rank,
    rank_of,
    time_spans,
)
from keepword.scorecard import ScoreRow
from keepword.touchpoint import Touchpoint

__all__ = ["MemoryMetrics", "score_row"]


def _check_query(query: Any) -> ScoreQuery:
    if not isinstance(query, ScoreQuery):
        raise InvalidArgumentError(
            f"must be a ScoreQuery, not {type(query).__name__}", argument="query"
        )
    return query


def _td(value: int | None) -> _dt.timedelta | None:
    return None if value is None else _dt.timedelta(microseconds=value)


def _percentiles(values: list[int]) -> tuple[_dt.timedelta | None, _dt.timedelta | None]:
    values.sort()
    return _td(nearest_rank(values, 50)), _td(nearest_rank(values, 90))


def score_row(
    group: str | None, items: Iterable[tuple[Commitment, Measures]], query: ScoreQuery
) -> ScoreRow:
    """The :class:`ScoreRow` of ``items`` (commitments with their measures), as the port states.

    The reference computation; a store that aggregates in Python may use it.
    """
    counts = dict.fromkeys(
        ("made", "due", "open", "overdue", "renegotiations", "escalations", "not_as_promised"), 0
    )
    outcomes: dict[str | None, int] = {}
    extra = dict.fromkeys(
        ("late_beyond_tolerance", "replies", "replies_over_target", "kept_early", "quoted"),
        0,
    )
    extra["reopened"] = 0
    lateness: list[int] = []
    breach: list[int] = []
    response: list[int] = []
    spans: list[tuple[str, str, int]] = []
    for c, m in items:
        counts["made"] += 1
        counts["due"] += c.due_at <= query.due_by
        counts["open"] += not c.status.is_final
        counts["overdue"] += c.status is Status.OPEN and c.due_at < query.now
        counts["renegotiations"] += m.renegotiations
        counts["escalations"] += m.escalations
        counts["not_as_promised"] += m.as_promised is False
        outcomes[m.outcome] = outcomes.get(m.outcome, 0) + 1
        extra["quoted"] += m.quoted
        if m.outcome in ("late", "after_breach") and c.lateness is not None:
            late_us = c.lateness // _dt.timedelta(microseconds=1)
            lateness.append(late_us)
            extra["late_beyond_tolerance"] += late_us > query.tolerance_us
        if m.breach_us is not None:
            breach.append(m.breach_us)
        if m.response_us is not None:
            response.append(m.response_us)
            extra["replies"] += 1
            extra["replies_over_target"] += m.response_us > query.response_target_us
        if m.slack_us is not None and m.slack_us >= query.early_us:
            extra["kept_early"] += 1
        extra["reopened"] += m.rework
        if c.status.is_final and (c.breached_at is not None or c.status is Status.BROKEN):
            spans.extend(time_spans(c))
    on_time, late, after = (outcomes.get(k, 0) for k in ("on_time", "late", "after_breach"))
    broken = outcomes.get("broken", 0)
    kept = on_time + late + after
    extra["kept_as_promised"] = kept - counts["not_as_promised"]
    lateness_p50, lateness_p90 = _percentiles(lateness)
    breach_p50, breach_p90 = _percentiles(breach)
    response_p50, response_p90 = _percentiles(response)
    by_owner, by_pause = held_times(spans)
    return ScoreRow(
        group=group,
        made=counts["made"],
        due=counts["due"],
        kept_on_time=on_time,
        kept_late=late,
        kept_after_breach=after,
        kept_not_as_promised=counts["not_as_promised"],
        broken=broken,
        cancelled=outcomes.get("cancelled", 0),
        open=counts["open"],
        overdue=counts["overdue"],
        on_time_rate=None if kept + broken == 0 else on_time / (kept + broken),
        lateness_p50=lateness_p50,
        lateness_p90=lateness_p90,
        first_response_p50=response_p50,
        first_response_p90=response_p90,
        renegotiations=counts["renegotiations"],
        escalations=counts["escalations"],
        waived=outcomes.get("waived", 0),
        extra=extra,
        breach_p50=breach_p50,
        breach_p90=breach_p90,
        time_by_owner=by_owner,
        time_by_pause=by_pause,
    )


def group_order(group: str | None) -> tuple[bool, str]:
    """The order of scorecard rows: ``None`` first, then by code point."""
    return (group is not None, group or "")


class MemoryMetrics:
    """The scorecard's aggregates over the store's dictionaries (a mixin of ``MemoryStore``)."""

    _lock: threading.RLock
    _rows: dict[str, dict[str, Commitment]]
    _touchpoints: dict[str, list[Touchpoint]]

    def _init_metrics(self) -> None:
        # id -> (version, measures): a commitment's measures change only with its version
        self._measures: dict[str, tuple[int, Measures]] = {}

    def _measured(self, c: Commitment) -> Measures:
        found = self._measures.get(c.id)
        if found is None or found[0] != c.version:
            found = self._measures[c.id] = (c.version, measures_of(c))
        return found[1]

    def _tenant_rows(self, tenant: str) -> list[Commitment]:
        with self._lock:
            return list(self._rows.get(tenant, {}).values())

    def score_rows(self, tenant: str, query: ScoreQuery) -> tuple[list[ScoreRow], ScoreRow]:
        """The scorecard's figures per group and in total.

        See :meth:`keepword.ports.Metrics.score_rows`.
        """
        check_identifier(tenant, "tenant")
        q = _check_query(query)
        items = [(c, self._measured(c)) for c in self._tenant_rows(tenant) if q.in_window(c)]
        total = score_row(None, items, q)
        if q.by is None:
            return [], total
        groups: dict[str | None, list[tuple[Commitment, Measures]]] = {}
        for c, m in items:
            groups.setdefault(getattr(c, q.by), []).append((c, m))
        rows = [score_row(g, groups[g], q) for g in sorted(groups, key=group_order)]
        return rows, total

    def turnaround_quantile(
        self, tenant: str, *, kind: str, confidence: float, owner: str | None = None
    ) -> tuple[int, int, int | None]:
        """Kept, broken, and the turnaround at the confidence's nearest rank.

        See :meth:`keepword.ports.Metrics.turnaround_quantile`.
        """
        check_identifier(tenant, "tenant")
        check_identifier(kind, "kind")
        if owner is not None:
            check_identifier(owner, "owner")
        rank_of(1, confidence)  # checks it
        kept: list[int] = []
        broken = 0
        for c in self._tenant_rows(tenant):
            if c.kind != kind or (owner is not None and c.owner != owner):
                continue
            m = self._measured(c)
            if m.turnaround_us is not None:
                kept.append(m.turnaround_us)
            elif m.outcome == "broken":
                broken += 1
        n = len(kept) + broken
        if n == 0:
            return 0, 0, None
        rank = rank_of(n, confidence)
        kept.sort()
        return len(kept), broken, kept[rank - 1] if rank <= len(kept) else None

    def quote_record(self, tenant: str, *, kind: str) -> tuple[int, int]:
        """Closed and kept-on-time quoted commitments of ``kind``.

        See :meth:`keepword.ports.Metrics.quote_record`.
        """
        check_identifier(tenant, "tenant")
        check_identifier(kind, "kind")
        closed = on_time = 0
        for c in self._tenant_rows(tenant):
            if c.kind != kind:
                continue
            m = self._measured(c)
            if m.quoted and m.outcome in ("on_time", "late", "after_breach", "broken"):
                closed += 1
                on_time += m.outcome == "on_time"
        return closed, on_time

    def care_counts(
        self, tenant: str, *, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> dict[str, Any]:
        """The customer-care counts of a window of touchpoints.

        See :meth:`keepword.ports.Metrics.care_counts`.
        """
        check_identifier(tenant, "tenant")
        start = None if since is None else to_utc(since, "since")
        end = None if until is None else to_utc(until, "until")
        with self._lock:
            touches = [
                t
                for t in getattr(self, "_touchpoints", {}).get(tenant, ())
                if (start is None or t.at >= start) and (end is None or t.at < end)
            ]
        complaints: dict[str, int] = {}
        sales: dict[str, int] = {}
        referrals = extra_mile = 0
        thanked: set[str] = set()
        for t in touches:
            if t.kind == "occasion" and t.occasion == "complaint":
                complaints[t.channel] = complaints.get(t.channel, 0) + 1
            elif t.kind == "occasion" and t.occasion == "referral":
                referrals += 1
            elif t.kind == "occasion" and t.occasion == "sale":
                sales[t.customer] = sales.get(t.customer, 0) + 1
            elif t.kind == "thank_you" and t.counted:
                thanked.add(t.customer)
            elif t.kind == "extra_mile":
                extra_mile += 1
        return {
            "complaints_by_channel": complaints,
            "referrals": referrals,
            "repeat_customers": sum(1 for n in sales.values() if n >= 2),
            "sale_customers": len(sales),
            "thanked_sale_customers": sum(1 for c in sales if c in thanked),
            "extra_mile": extra_mile,
        }
