"""``SqlStore``'s :class:`~keepword.ports.Metrics`: the scorecard as ``GROUP BY`` queries.

Every figure is aggregated in the database over the columns of
:data:`~keepword.stores.sql._schema.MEASURE_COLUMNS`, which each write of a
commitment row fills from :func:`keepword.measures.measures_of`; no row is
loaded into Python.

- Counts and sums: one ``SELECT ... GROUP BY`` with ``SUM(CASE ...)``.
- Percentiles (nearest-rank, see :mod:`keepword.measures`), exact, in two
  phases that sort only a few values (:meth:`SqlMetrics._percentiles_two_phase`):
  the counting query also reads each measure's least and greatest value;
  phase 1 counts the values per group, measure and bucket (the range cut into
  equal integer widths) in one query, a ``GROUP BY`` per measure under
  ``UNION ALL`` (on SQLite over a CTE that reads the table once); Python finds, from those counts,
  the bucket holding each wanted rank (per group, and in total from the
  buckets summed over the groups) and the rank within it; phase 2 ranks with
  ``ROW_NUMBER()`` only the values of those buckets and returns one value per
  wanted rank.  With more than :data:`HISTOGRAM_GROUPS` groups (phase 1's
  rows grow with the groups), or fewer than :data:`TWO_PHASE_ROWS` rows in
  the window (where one query costs less than three), one query serves: on PostgreSQL
  the ordered-set aggregate ``percentile_disc`` (the first value whose
  cumulative distribution reaches ``p``: exactly the nearest rank); on SQLite
  and MariaDB/MySQL a window: ``ROW_NUMBER()`` and ``COUNT(*)`` over each
  group, keeping the smallest value whose ``row_number * 100 >= p * n``.
- A quote's quantile: the count of the sample, then the value at the exact
  rank with ``ORDER BY ... LIMIT 1 OFFSET rank - 1``.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepword._instant import to_utc
from keepword._validate import check_identifier
from keepword.measures import ScoreQuery, held_times, rank_of
from keepword.scorecard import ScoreRow
from keepword.stores._memory_metrics import _check_query, group_order
from keepword.stores.sql import _schema
from keepword.stores.sql._base import SqlStoreBase

__all__ = ["HISTOGRAM_GROUPS", "SORT_MEMORY", "TWO_PHASE_ROWS", "SqlMetrics"]

_KEPT = ("on_time", "late", "after_breach")
_TOTAL = object()
"""The key of the totals among per-group results."""

SORT_MEMORY = "64MB"
"""PostgreSQL's ``work_mem`` for a scorecard's percentile query (its transaction only)."""
_PERCENTS = (50, 90)
HISTOGRAM_GROUPS = 100
"""Most groups for which the percentiles are computed in two phases (see the module)."""
TWO_PHASE_ROWS = 50_000
"""Fewest rows in the window for the two phases: below, one query costs less than three."""
_HISTOGRAM_ROWS = 12_288
"""About the most rows phase 1 returns: the buckets per measure are this over 3 x the groups."""
_MIN_BUCKETS, _MAX_BUCKETS = 64, 4096

Measure = tuple[str, sa.ColumnElement[Any], sa.ColumnElement[bool]]
"""A duration measure: its name, its value column, and which rows count."""
Pcts = tuple[dict[str, dict[Any, tuple[Any, Any]]], dict[str, tuple[Any, Any]]]
"""Percentiles ``(per measure: per group: (p50, p90), per measure: the total's (p50, p90))``."""
_EXTRA = (
    "late_beyond_tolerance",
    "replies",
    "replies_over_target",
    "kept_early",
    "quoted",
    "reopened",
)
_COUNTS = (
    "made",
    "due",
    "kept_on_time",
    "kept_late",
    "kept_after_breach",
    "kept_not_as_promised",
    "broken",
    "cancelled",
    "waived",
    "open",
    "overdue",
    "renegotiations",
    "escalations",
    *_EXTRA,
)


def _td(value: Any) -> _dt.timedelta | None:
    return None if value is None else _dt.timedelta(microseconds=int(value))


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


class SqlMetrics(SqlStoreBase):
    """The scorecard's aggregates of ``SqlStore`` (port ``"metrics"``)."""

    def _score_window(self, tenant: str, q: ScoreQuery) -> list[sa.ColumnElement[bool]]:
        c = self._c
        at = c.c.due_at if q.by_due else c.c.made_at
        where = [c.c.tenant == tenant]
        if q.since is not None:
            where.append(at >= q.since)
        if q.until is not None:
            where.append(at < q.until)
        return where

    def _count_columns(self, q: ScoreQuery) -> list[sa.ColumnElement[Any]]:
        c = self._c
        outcome = c.c.outcome
        return [
            sa.func.count().label("made"),
            _count_if(c.c.due_at <= q.due_by).label("due"),
            _count_if(outcome == "on_time").label("kept_on_time"),
            _count_if(outcome == "late").label("kept_late"),
            _count_if(outcome == "after_breach").label("kept_after_breach"),
            _count_if(c.c.kept_as_promised == sa.false()).label("kept_not_as_promised"),
            _count_if(outcome == "broken").label("broken"),
            _count_if(outcome == "cancelled").label("cancelled"),
            _count_if(outcome == "waived").label("waived"),
            _count_if(c.c.status.in_(("open", "paused"))).label("open"),
            _count_if(sa.and_(c.c.status == "open", c.c.due_at < q.now)).label("overdue"),
            sa.func.coalesce(sa.func.sum(c.c.renegotiations), 0).label("renegotiations"),
            sa.func.coalesce(sa.func.sum(c.c.escalations_fired), 0).label("escalations"),
            _count_if(
                sa.and_(outcome.in_(("late", "after_breach")), c.c.lateness_us > q.tolerance_us)
            ).label("late_beyond_tolerance"),
            _count_if(c.c.response_us.is_not(None)).label("replies"),
            _count_if(c.c.response_us > q.response_target_us).label("replies_over_target"),
            _count_if(c.c.slack_us >= q.early_us).label("kept_early"),
            _count_if(c.c.quoted == sa.true()).label("quoted"),
            _count_if(c.c.rework == sa.true()).label("reopened"),
        ]

    def _percentiles(
        self,
        conn: Connection,
        where: Sequence[sa.ColumnElement[bool]],
        group: sa.ColumnElement[Any] | None,
        measures: Sequence[Measure],
        ranges: Mapping[str, tuple[int, int]],
        groups: int,
        rows: int,
    ) -> Pcts:
        """The (p50, p90) of each measure per group and in total.

        Each measure is ``(name, value column, condition)``; rows meeting the
        condition with a value count.  ``ranges`` holds each measure's least
        and greatest value (a measure without values is absent), ``groups``
        how many groups there are, ``rows`` how many rows the window holds.
        Returns ``(per group, total)``.
        """
        if not ranges:
            return {name: {} for name, _, _ in measures}, {}
        if groups <= HISTOGRAM_GROUPS and rows >= TWO_PHASE_ROWS:
            return self._percentiles_two_phase(conn, where, group, measures, ranges, groups)
        if self._engine.dialect.name == "postgresql":
            return self._percentiles_pg(conn, where, group, measures)
        return self._percentiles_windows(conn, where, group, measures)

    def _percentiles_two_phase(
        self,
        conn: Connection,
        where: Sequence[sa.ColumnElement[bool]],
        group: sa.ColumnElement[Any] | None,
        measures: Sequence[Measure],
        ranges: Mapping[str, tuple[int, int]],
        groups: int,
    ) -> Pcts:
        """Exact nearest ranks from bucket counts, then ranking only the buckets that hold them.

        Phase 1 returns at most about :data:`_HISTOGRAM_ROWS` rows (buckets
        per measure shrink as groups grow); phase 2 one row per wanted rank.
        Each bucket is ``(value - least) // width`` in integers, the same
        expression in both phases, and grows with the value, so the counts of
        the buckets below one are the counts of the values below its values.
        """
        buckets = max(_MIN_BUCKETS, min(_MAX_BUCKETS, _HISTOGRAM_ROWS // (3 * max(1, groups))))
        key = None if group is None else self._group_key(group)
        used = [(i, m) for i, m in enumerate(measures) if m[0] in ranges]
        cut_of = {i: _cut(ranges[name], buckets) for i, (name, _, _) in used}
        bucket_of = {i: _bucket(value, *cut_of[i]) for i, (_, value, _) in used}
        # phase 1: the count of values per (measure, group, bucket)
        parts = []
        cut: sa.ColumnElement[Any]
        if self._engine.dialect.name == "sqlite":
            # one read of the table into a narrow CTE (SQLite materializes a CTE read
            # three times), then a GROUP BY per measure: 0.8 s against 1.2 s at a million
            # rows; PostgreSQL's three branches run side by side and its CTE costs more
            narrow = (
                sa.select(
                    (sa.null() if key is None else key).label("g"),
                    *(
                        sa.case((sa.and_(condition, value.is_not(None)), bucket_of[i])).label(
                            f"b{i}"
                        )
                        for i, (_, value, condition) in used
                    ),
                )
                .where(
                    *where,
                    sa.or_(*(sa.and_(cond, v.is_not(None)) for _, (_, v, cond) in used)),
                )
                .cte("narrow")
            )
            for i, _ in used:
                cut = narrow.c[f"b{i}"]
                parts.append(
                    sa.select(
                        _int(i).label("m"), narrow.c.g, cut.label("b"), sa.func.count().label("n")
                    )
                    .where(cut.is_not(None))
                    .group_by(narrow.c.g, cut)
                )
        else:
            for i, (_, value, condition) in used:
                cut = bucket_of[i]
                keys = [cut] if key is None else [key, cut]
                parts.append(
                    sa.select(
                        _int(i).label("m"),
                        (sa.null() if key is None else key).label("g"),
                        cut.label("b"),
                        sa.func.count().label("n"),
                    )
                    .where(*where, condition, value.is_not(None))
                    .group_by(*keys)
                )
        per_group: dict[tuple[int, Any], list[tuple[int, int]]] = {}
        overall: dict[int, dict[int, int]] = {i: {} for i, _ in used}
        for row in conn.execute(sa.union_all(*parts)):
            m, b, n = int(row.m), int(row.b), int(row.n)
            per_group.setdefault((m, row.g), []).append((b, n))
            overall[m][b] = overall[m].get(b, 0) + n
        # which bucket holds each wanted rank, and the rank within it
        wanted: list[tuple[int, Any, int, int, int]] = []  # (total?, group, measure, bucket, k)
        cells: list[tuple[int, Any, int, int]] = []  # (total?, group, measure, percent) per wanted
        if group is not None:
            for (m, g), counts in per_group.items():
                for p, b, k in _rank_cells(counts, _PERCENTS):
                    wanted.append((0, g, m, b, k))
                    cells.append((0, g, m, p))
        for m, hist in overall.items():
            for p, b, k in _rank_cells(list(hist.items()), _PERCENTS):
                wanted.append((1, None, m, b, k))
                cells.append((1, None, m, p))
        # phase 2: rank the values of those buckets only; one row per wanted rank
        # one scan picks the rows with a value in a wanted bucket; the union splits them by measure
        hits = (
            sa.select(
                (sa.null() if key is None else key).label("g"),
                *(
                    sa.case((condition, value), else_=None).label(f"v{i}")
                    for i, (_, value, condition) in used
                ),
            )
            .where(
                *where,
                sa.or_(
                    *(
                        sa.and_(
                            condition,
                            value.is_not(None),
                            bucket_of[i].in_(sorted({b for _, _, m, b, _ in wanted if m == i})),
                        )
                        for i, (_, value, condition) in used
                    )
                ),
            )
            .cte("hits")
        )
        vals = sa.union_all(
            *(
                sa.select(
                    _int(i).label("m"),
                    hits.c.g,
                    hits.c[f"v{i}"].label("v"),
                    _bucket(hits.c[f"v{i}"], *cut_of[i]).label("b"),
                ).where(
                    hits.c[f"v{i}"].is_not(None),
                    _in_cells(
                        None if key is None else hits.c.g,
                        _bucket(hits.c[f"v{i}"], *cut_of[i]),
                        i,
                        wanted,
                    ),
                )
                for i, _ in used
            )
        ).subquery("vals")
        v = vals.c
        ranked = sa.select(
            v.m,
            v.g,
            v.b,
            v.v,
            sa.func.row_number().over(partition_by=[v.m, v.g, v.b], order_by=v.v).label("rn"),
            sa.func.row_number().over(partition_by=[v.m, v.b], order_by=v.v).label("trn"),
        ).subquery("ranked")
        r = ranked.c
        ids: dict[tuple[Any, ...], list[int]] = {}
        for j, (t, g, m, b, k) in enumerate(wanted):
            ids.setdefault((t, g, m, b, k), []).append(j)
        at_rank: list[sa.ColumnElement[bool]] = [
            sa.tuple_(r.m, r.b, r.trn).in_(
                sorted({(m, b, k) for t, _, m, b, k in wanted if t}, key=repr)
            )
        ]
        if key is not None:
            named = {(m, g, b, k) for t, g, m, b, k in wanted if not t and g is not None}
            unnamed = {(m, b, k) for t, g, m, b, k in wanted if not t and g is None}
            at_rank.append(sa.tuple_(r.m, r.g, r.b, r.rn).in_(sorted(named, key=repr)))
            at_rank.append(
                sa.and_(r.g.is_(None), sa.tuple_(r.m, r.b, r.rn).in_(sorted(unnamed, key=repr)))
            )
        found: dict[int, int] = {}
        stmt = sa.select(r.m, r.g, r.b, r.v, r.rn, r.trn).where(sa.or_(*at_rank))
        for row in conn.execute(stmt):
            m, b = int(row.m), int(row.b)
            matched = ids.get((1, None, m, b, int(row.trn)), [])
            if key is not None:
                matched = matched + ids.get((0, row.g, m, b, int(row.rn)), [])
            for j in matched:
                found[j] = int(row.v)
        grouped: dict[str, dict[Any, tuple[Any, Any]]] = {name: {} for name, _, _ in measures}
        total: dict[str, tuple[Any, Any]] = {}
        for j, (t, g, m, p) in enumerate(cells):
            name = measures[m][0]
            pair = list(total.get(name, (None, None)) if t else grouped[name].get(g, (None, None)))
            pair[_PERCENTS.index(p)] = found[j]
            if t:
                total[name] = (pair[0], pair[1])
            else:
                grouped[name][g] = (pair[0], pair[1])
        return grouped, total

    def _analytic(self, conn: Connection) -> None:
        """On PostgreSQL, no JIT compilation for this transaction's queries (``SET LOCAL``).

        Compiling the scorecard's expressions costs more than it saves: each
        of its scans over a million rows spent 150-260 ms compiling.
        """
        if self._engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")

    def _group_key(self, group: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """``group`` as a ``GROUP BY`` key; on SQLite an expression no index serves.

        SQLite otherwise walks the index ``(tenant, group)`` to meet the
        groups in order and reads every row through it, in index order: over
        a large table three times slower than reading the rows by the
        tenant's index and sorting the groups.
        """
        if self._engine.dialect.name == "sqlite":
            return sa.func.coalesce(group, sa.null(), type_=group.type)
        return group

    def _percentiles_windows(
        self,
        conn: Connection,
        where: Sequence[sa.ColumnElement[bool]],
        group: sa.ColumnElement[Any] | None,
        measures: Sequence[Measure],
    ) -> Pcts:
        """SQLite, MariaDB/MySQL: window functions over a ``UNION ALL`` of the measures."""
        parts = [
            sa.select(
                (sa.null() if group is None else group).label("g"),
                sa.literal(i, sa.Integer).label("m"),
                value.label("v"),
            ).where(*where, condition, value.is_not(None))
            for i, (_, value, condition) in enumerate(measures)
        ]
        u = sa.union_all(*parts).subquery("u")
        ranked = sa.select(
            u.c.g,
            u.c.m,
            u.c.v,
            sa.func.row_number().over(partition_by=[u.c.g, u.c.m], order_by=u.c.v).label("rn"),
            sa.func.count().over(partition_by=[u.c.g, u.c.m]).label("n"),
            sa.func.row_number().over(partition_by=u.c.m, order_by=u.c.v).label("trn"),
            sa.func.count().over(partition_by=u.c.m).label("tn"),
        ).subquery("ranked")
        r = ranked.c

        def first(rank: Any, n: Any, p: int) -> sa.ColumnElement[Any]:
            return sa.func.min(sa.case((rank * 100 >= p * n, r.v), else_=None))

        stmt = sa.select(
            r.g,
            r.m,
            *(first(r.rn, r.n, p).label(f"p{p}") for p in _PERCENTS),
            *(first(r.trn, r.tn, p).label(f"t{p}") for p in _PERCENTS),
        ).group_by(r.g, r.m)
        grouped: dict[str, dict[Any, tuple[Any, Any]]] = {name: {} for name, _, _ in measures}
        total: dict[str, tuple[Any, Any]] = {}
        for row in conn.execute(stmt):
            name = measures[int(row.m)][0]
            grouped[name][row.g] = (row.p50, row.p90)
            # the total's value is the smallest over the groups meeting its rank
            was = total.get(name, (None, None))
            total[name] = (_least(was[0], row.t50), _least(was[1], row.t90))
        return grouped, total

    def _percentiles_pg(
        self,
        conn: Connection,
        where: Sequence[sa.ColumnElement[bool]],
        group: sa.ColumnElement[Any] | None,
        measures: Sequence[Measure],
    ) -> Pcts:
        """PostgreSQL: ``percentile_disc ... FILTER (WHERE ...)`` over ``GROUPING SETS``.

        The sorts get ``work_mem`` of :data:`SORT_MEMORY` for this transaction
        only (``SET LOCAL``), so a large scorecard sorts in memory, not on disk.
        """
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
        aggs = [
            sa.func.percentile_disc(p / 100)
            .within_group(value.asc())
            .filter(sa.and_(condition, value.is_not(None)))
            .label(f"{name}_{p}")
            for name, value, condition in measures
            for p in _PERCENTS
        ]
        if group is None:
            stmt = sa.select(sa.literal(1).label("is_total"), sa.null().label("g"), *aggs)
        else:
            stmt = sa.select(
                sa.func.grouping(group).label("is_total"), group.label("g"), *aggs
            ).group_by(sa.func.grouping_sets(sa.tuple_(group), sa.tuple_()))
        grouped: dict[str, dict[Any, tuple[Any, Any]]] = {name: {} for name, _, _ in measures}
        total: dict[str, tuple[Any, Any]] = {}
        for row in conn.execute(stmt.where(*where)):
            for name, _, _ in measures:
                pair = (getattr(row, f"{name}_50"), getattr(row, f"{name}_90"))
                if pair == (None, None):
                    continue
                if row.is_total:
                    total[name] = pair
                else:
                    grouped[name][row.g] = pair
        return grouped, total

    def score_rows(self, tenant: str, query: ScoreQuery) -> tuple[list[ScoreRow], ScoreRow]:
        """The scorecard's figures per group and in total, aggregated in the database.

        See :meth:`keepword.ports.Metrics.score_rows`.
        """
        check_identifier(tenant, "tenant")
        q = _check_query(query)
        c = self._c
        where = self._score_window(tenant, q)
        group = None if q.by is None else c.c[q.by]
        measures = (
            ("lateness", c.c.lateness_us, c.c.outcome.in_(("late", "after_breach"))),
            ("breach", c.c.breach_us, sa.true()),
            ("first_response", c.c.response_us, sa.true()),
        )

        def read(conn: Connection) -> tuple[list[ScoreRow], ScoreRow]:
            self._analytic(conn)
            key = None if group is None else self._group_key(group)
            keys = [] if key is None else [key.label("g")]
            stmt = sa.select(*keys, *self._count_columns(q), *_range_columns(measures))
            stmt = stmt.where(*where)
            if key is not None:
                stmt = stmt.group_by(key)
            counted = {(row.g if group is not None else None): row for row in conn.execute(stmt)}
            totals = dict.fromkeys(_COUNTS, 0)
            for row in counted.values():
                for name in _COUNTS:
                    totals[name] += int(getattr(row, name))
            ranges = _ranges(measures, counted.values())
            grouped, overall = self._percentiles(
                conn, where, group, measures, ranges, len(counted), totals["made"]
            )
            held = self._held_times(conn, where, group)
            total = _row(None, totals, overall, held.get(_TOTAL, ()))
            if group is None:
                return [], total
            rows = [
                _row(
                    g,
                    {name: int(getattr(counted[g], name)) for name in _COUNTS},
                    {k: v.get(g) for k, v in grouped.items()},
                    held.get(g, ()),
                )
                for g in sorted(counted, key=group_order)
            ]
            return rows, total

        return self._run("score_rows", read, write=False)

    def _held_times(
        self,
        conn: Connection,
        where: Sequence[sa.ColumnElement[bool]],
        group: sa.ColumnElement[Any] | None,
    ) -> dict[Any, list[tuple[str, str, int]]]:
        """Where the time of the window's ended, breached or broken promises went.

        Per group and in total.

        One ``GROUP BY`` (group, span kind, holder) over the events' spans
        joined to their commitments; the total (key ``_TOTAL``) adds up the
        groups.  On MySQL/MariaDB the holder is grouped by its SHA-256, as
        ``GROUP BY`` on a text column compares only a prefix there.
        """
        c, e = self._c, self._e
        holder: sa.ColumnElement[Any] = e.c.span_holder
        key = holder
        if self._engine.dialect.name in ("mysql", "mariadb"):
            key = sa.func.sha2(holder, 256)
        keys = [] if group is None else [group]
        stmt = (
            sa.select(
                *(k.label("g") for k in keys),
                e.c.span_kind.label("kind"),
                sa.func.min(holder).label("holder"),
                sa.func.sum(e.c.span_us).label("us"),
            )
            .select_from(c.join(e, sa.and_(e.c.tenant == c.c.tenant, e.c.commitment_id == c.c.id)))
            .where(
                *where,
                c.c.status.in_(("kept", "broken", "cancelled")),
                sa.or_(c.c.breached_at.is_not(None), c.c.status == "broken"),
                e.c.span_us.is_not(None),
            )
            .group_by(*keys, e.c.span_kind, key)
        )
        held: dict[Any, list[tuple[str, str, int]]] = {}
        for row in conn.execute(stmt):
            span = (str(row.kind), str(row.holder), int(row.us))
            if group is not None:
                held.setdefault(row.g, []).append(span)
            held.setdefault(_TOTAL, []).append(span)
        return held

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
        c = self._c
        where = [c.c.tenant == tenant, c.c.kind == kind]
        if owner is not None:
            where.append(c.c.owner == owner)

        def read(conn: Connection) -> tuple[int, int, int | None]:
            row = conn.execute(
                sa.select(
                    _count_if(c.c.turnaround_us.is_not(None)).label("kept"),
                    _count_if(c.c.outcome == "broken").label("broken"),
                ).where(*where)
            ).one()
            kept, broken = int(row.kept), int(row.broken)
            if kept + broken == 0:
                return 0, 0, None
            rank = rank_of(kept + broken, confidence)
            if rank > kept:
                return kept, broken, None
            value = conn.execute(
                sa.select(c.c.turnaround_us)
                .where(*where, c.c.turnaround_us.is_not(None))
                .order_by(c.c.turnaround_us)
                .limit(1)
                .offset(rank - 1)
            ).scalar_one()
            return kept, broken, int(value)

        return self._run("turnaround_quantile", read, write=False)

    @functools.cached_property
    def _touch_table(self) -> sa.Table:
        """The ``{prefix}touchpoints`` table."""
        name = _schema.table_names(self._prefix)[4]
        schema = self._schema_name
        return self._metadata.tables[f"{schema}.{name}" if schema else name]

    def care_counts(
        self, tenant: str, *, since: _dt.datetime | None, until: _dt.datetime | None
    ) -> dict[str, Any]:
        """The customer-care counts of a window of touchpoints, each a ``GROUP BY`` or a count.

        See :meth:`keepword.ports.Metrics.care_counts`.
        """
        check_identifier(tenant, "tenant")
        t = self._touch_table
        where = [t.c.tenant == tenant]
        if since is not None:
            where.append(t.c.at >= to_utc(since, "since"))
        if until is not None:
            where.append(t.c.at < to_utc(until, "until"))
        occasion = t.c.kind == "occasion"
        sale = sa.and_(occasion, t.c.occasion == "sale")
        thanks = (
            sa.select(t.c.customer)
            .where(*where, t.c.kind == "thank_you", t.c.counted == sa.true())
            .distinct()
            .subquery("thanked")
        )
        sales = (
            sa.select(t.c.customer, sa.func.count().label("n"))
            .where(*where, sale)
            .group_by(t.c.customer)
            .subquery("sales")
        )

        def read(conn: Connection) -> dict[str, Any]:
            complaints = {
                row.channel: int(row.n)
                for row in conn.execute(
                    sa.select(t.c.channel, sa.func.count().label("n"))
                    .where(*where, occasion, t.c.occasion == "complaint")
                    .group_by(t.c.channel)
                )
            }
            row = conn.execute(
                sa.select(
                    _count_if(sa.and_(occasion, t.c.occasion == "referral")).label("referrals"),
                    _count_if(t.c.kind == "extra_mile").label("extra_mile"),
                ).where(*where)
            ).one()
            per_sale = conn.execute(
                sa.select(
                    sa.func.count().label("customers"),
                    _count_if(sales.c.n >= 2).label("repeat"),
                    _count_if(thanks.c.customer.is_not(None)).label("thanked"),
                ).select_from(sales.outerjoin(thanks, thanks.c.customer == sales.c.customer))
            ).one()
            return {
                "complaints_by_channel": complaints,
                "referrals": int(row.referrals),
                "repeat_customers": int(per_sale.repeat),
                "sale_customers": int(per_sale.customers),
                "thanked_sale_customers": int(per_sale.thanked),
                "extra_mile": int(row.extra_mile),
            }

        return self._run("care_counts", read, write=False)

    def quote_record(self, tenant: str, *, kind: str) -> tuple[int, int]:
        """Closed and kept-on-time quoted commitments of ``kind``.

        See :meth:`keepword.ports.Metrics.quote_record`.
        """
        check_identifier(tenant, "tenant")
        check_identifier(kind, "kind")
        c = self._c

        def read(conn: Connection) -> tuple[int, int]:
            row = conn.execute(
                sa.select(
                    _count_if(c.c.outcome.in_((*_KEPT, "broken"))).label("closed"),
                    _count_if(c.c.outcome == "on_time").label("on_time"),
                ).where(c.c.tenant == tenant, c.c.kind == kind, c.c.quoted == sa.true())
            ).one()
            return int(row.closed), int(row.on_time)

        return self._run("quote_record", read, write=False)


def _row(
    group: str | None,
    n: Mapping[str, int],
    pcts: Mapping[str, tuple[Any, Any] | None],
    held: Iterable[tuple[str, str, int]],
) -> ScoreRow:
    """A :class:`ScoreRow` of counted figures, ``(p50, p90)`` per duration measure and held time."""

    def pct(name: str, i: int) -> _dt.timedelta | None:
        found = pcts.get(name)
        return None if found is None else _td(found[i])

    kept = n["kept_on_time"] + n["kept_late"] + n["kept_after_breach"]
    decided = kept + n["broken"]
    extra: dict[str, Any] = {name: n[name] for name in _EXTRA}
    extra["kept_as_promised"] = kept - n["kept_not_as_promised"]
    by_owner, by_pause = held_times(held)
    return ScoreRow(
        group=group,
        made=n["made"],
        due=n["due"],
        kept_on_time=n["kept_on_time"],
        kept_late=n["kept_late"],
        kept_after_breach=n["kept_after_breach"],
        kept_not_as_promised=n["kept_not_as_promised"],
        broken=n["broken"],
        cancelled=n["cancelled"],
        open=n["open"],
        overdue=n["overdue"],
        on_time_rate=None if decided == 0 else n["kept_on_time"] / decided,
        lateness_p50=pct("lateness", 0),
        lateness_p90=pct("lateness", 1),
        first_response_p50=pct("first_response", 0),
        first_response_p90=pct("first_response", 1),
        renegotiations=n["renegotiations"],
        escalations=n["escalations"],
        waived=n["waived"],
        extra=extra,
        breach_p50=pct("breach", 0),
        breach_p90=pct("breach", 1),
        time_by_owner=by_owner,
        time_by_pause=by_pause,
    )


def _least(a: Any, b: Any) -> Any:
    """The smaller of two values, ``None`` standing for none."""
    if a is None:
        return b
    return a if b is None else min(a, b)


def _int(value: int) -> sa.ColumnElement[Any]:
    """An integer written into the statement (the same text wherever it recurs)."""
    return sa.literal_column(str(int(value)), sa.BigInteger())


def _cut(span: tuple[int, int], buckets: int) -> tuple[int, int]:
    """``(least, width)``: ``span`` (least, greatest) cut into at most ``buckets`` equal widths."""
    least, greatest = span
    return least, (greatest - least) // buckets + 1


def _bucket(value: sa.ColumnElement[Any], least: int, width: int) -> sa.ColumnElement[Any]:
    """The bucket of ``value``: ``(value - least) // width``, growing with the value."""
    return sa.type_coerce((value - _int(least)) // _int(width), sa.BigInteger())


def _range_columns(measures: Sequence[Measure]) -> list[sa.ColumnElement[Any]]:
    """The least and greatest counted value of each measure, for the counting query."""
    columns: list[sa.ColumnElement[Any]] = []
    for name, value, condition in measures:
        every = isinstance(condition, sa.sql.elements.True_)  # MIN and MAX skip NULLs themselves
        counted = value if every else sa.case((condition, value), else_=None)
        columns.append(sa.func.min(counted).label(f"{name}_least"))
        columns.append(sa.func.max(counted).label(f"{name}_greatest"))
    return columns


def _ranges(measures: Sequence[Measure], rows: Iterable[Any]) -> dict[str, tuple[int, int]]:
    """Each measure's (least, greatest) over the groups' rows (absent: the measure has none)."""
    found: dict[str, tuple[int, int]] = {}
    for row in rows:
        for name, _, _ in measures:
            least, greatest = getattr(row, f"{name}_least"), getattr(row, f"{name}_greatest")
            if least is None:
                continue
            was = found.get(name)
            span = (int(least), int(greatest))
            found[name] = span if was is None else (min(was[0], span[0]), max(was[1], span[1]))
    return found


def _rank_cells(
    counts: Sequence[tuple[int, int]], percents: Sequence[int]
) -> list[tuple[int, int, int]]:
    """``(percent, bucket, rank within it)`` of each nearest rank, from ``(bucket, count)`` pairs.

    The rank of ``p`` among ``n`` values is ``max(1, ceil(p * n / 100))`` in
    integers (:func:`keepword.measures.nearest_rank`).
    """
    ordered = sorted(counts)
    n = sum(c for _, c in ordered)
    out = []
    for p in percents:
        rank = max(1, -(-p * n // 100))
        below = 0
        for b, c in ordered:
            if below + c >= rank:
                out.append((p, b, rank - below))
                break
            below += c
    return out


def _in_cells(
    key: sa.ColumnElement[Any] | None,
    bucket: sa.ColumnElement[Any],
    measure: int,
    wanted: Sequence[tuple[int, Any, int, int, int]],
) -> sa.ColumnElement[bool]:
    """Rows of ``measure`` in a wanted bucket: a group's own, or any group's for the total."""
    mine = [w for w in wanted if w[2] == measure]
    whole = bucket.in_(sorted({b for t, _, _, b, _ in mine if t}))
    if key is None:
        return whole
    named = sorted({(g, b) for t, g, _, b, _ in mine if not t and g is not None}, key=repr)
    unnamed = sorted({b for t, g, _, b, _ in mine if not t and g is None})
    return sa.or_(
        whole,
        sa.tuple_(key, bucket).in_(named),
        sa.and_(key.is_(None), bucket.in_(unnamed)),
    )
