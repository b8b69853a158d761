"""Quoting: promise only what you can keep.

:func:`quote` reads the team's own closed history of a kind of promise and
returns the tightest ``within(...)`` deadline, in business time, that the
history was kept within at the confidence asked: the nearest-rank quantile
(see :mod:`keepword.measures`) of the business turnaround (made to kept) of
every kept or broken promise of that kind, a broken one counting as never
kept.  A :class:`Quote` *is* a deadline spec, so ``tracker.promise(...,
due=quote)`` promises at it, and the promise records the quote it was made
at; :func:`quote_accuracy` then tells how often promises made at a quote
were kept on time: the check that quotes are honest.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, cast

import attrs

from keepword._json import FrozenDict
from keepword._validate import check_identifier
from keepword.calendar import Within
from keepword.errors import KeepwordError
from keepword.measures import rank_of
from keepword.ports import Metrics, require_port
from keepword.services._context import Context

__all__ = ["MIN_HISTORY", "Quote", "QuoteAccuracy", "quote", "quote_accuracy"]

MIN_HISTORY = 20
"""The fewest closed (kept or broken) promises of a kind a quote is made from."""

_MINUTE_US = 60_000_000


@attrs.frozen(kw_only=True)
class Quote(Within):
    """A deadline quoted from history: a ``within(business_minutes=...)`` spec with its evidence.

    Use it wherever a deadline spec goes (``tracker.promise(..., due=quote)``);
    the promise then records the quote in its ``"promised"`` event, and
    :func:`quote_accuracy` counts it.

    Attributes:
        unit, amount: the spec (``business_hours`` when whole hours, else
            ``business_minutes``, rounded up to the minute).
        kind: the kind of promise quoted for.
        owner: whose history it was quoted from, or ``None`` for the team's.
        confidence: the share of the history kept within the quote asked for.
        quantile: the empirical quantile behind it (business time).
        sample: how many closed promises the history held.
        broken: how many of them were broken (counted as never kept).

    >>> q = Quote(unit="business_hours", amount=3, kind="reply", confidence=0.9,
    ...           quantile=_dt.timedelta(hours=2, minutes=41), sample=40, broken=1)
    >>> str(q), q.to_string()
    ('3 business hours', 'business_hours=3')
    """

    kind: str
    owner: str | None = None
    confidence: float
    quantile: _dt.timedelta
    sample: int
    broken: int = 0

    @property
    def quoted_from(self) -> FrozenDict:
        """What a promise made at this quote records: its ``"promised"`` event's ``"quote"``."""
        return FrozenDict(
            {
                "spec": self.to_string(),
                "confidence": self.confidence,
                "quantile_us": self.quantile // _dt.timedelta(microseconds=1),
                "sample": self.sample,
            }
        )

    def within(self) -> Within:
        """The plain deadline spec of this quote."""
        return Within(self.unit, self.amount)


def _spec_of(turnaround_us: int) -> tuple[str, int]:
    """The tightest whole-minute business spec at least ``turnaround_us`` long."""
    minutes = max(1, math.ceil(turnaround_us / _MINUTE_US))
    if minutes % 60 == 0:
        return "business_hours", minutes // 60
    return "business_minutes", minutes


def quote(ctx: Context, kind: str, *, confidence: Any = 0.9, by: str | None = None) -> Quote:
    """The tightest deadline the history of ``kind`` was kept within at ``confidence``.

    Args:
        kind: the kind of promise.
        confidence: the share of past promises (kept or broken) that were
            kept within the quote, in (0, 1].  A higher confidence never
            quotes a shorter deadline.
        by: an owner whose own history to quote from (default: the team's).

    Raises:
        InvalidArgumentError: a bad ``kind``, ``confidence`` or ``by``.
        KeepwordError: fewer than :data:`MIN_HISTORY` closed promises of the
            kind (saying how many more are needed), or too many broken for
            the confidence asked.
        MissingPortError: the store has no ``"metrics"`` port.
    """
    kind = check_identifier(kind, "kind")
    owner = None if by is None else check_identifier(by, "by")
    rank_of(1, confidence)  # checks it
    require_port(ctx.store, "metrics", "quote")
    metrics = cast(Metrics, ctx.store)
    kept, broken, value = metrics.turnaround_quantile(
        ctx.tenant, kind=kind, confidence=confidence, owner=owner
    )
    sample = kept + broken
    whose = f"{owner}'s" if owner is not None else "the"
    if sample < MIN_HISTORY:
        raise KeepwordError(
            f"{whose} history holds {sample} closed {kind!r} promises; a quote needs "
            f"{MIN_HISTORY}: {MIN_HISTORY - sample} more",
            argument="kind",
            fix="keep quoting by hand until the history is long enough",
        )
    if value is None:
        raise KeepwordError(
            f"{broken} of {sample} {kind!r} promises were broken: no deadline was kept "
            f"with confidence {confidence}",
            argument="confidence",
            fix="ask for a lower confidence, or keep more of these promises",
        )
    unit, amount = _spec_of(value)
    return Quote(
        unit=unit,
        amount=amount,
        kind=kind,
        owner=owner,
        confidence=float(confidence),
        quantile=_dt.timedelta(microseconds=value),
        sample=sample,
        broken=broken,
    )


@attrs.frozen(kw_only=True)
class QuoteAccuracy:
    """How honest quotes of a kind were.

    Attributes:
        kind: the kind of promise.
        closed: promises made at a quote and since kept or broken.
        kept_on_time: of those, how many were kept on time.
        rate: ``kept_on_time / closed``, or ``None`` with none closed.
    """

    kind: str
    closed: int
    kept_on_time: int

    @property
    def rate(self) -> float | None:
        """The share kept on time, or ``None`` with none closed."""
        return None if self.closed == 0 else self.kept_on_time / self.closed


def quote_accuracy(ctx: Context, kind: str) -> QuoteAccuracy:
    """How often promises of ``kind`` made at a quoted deadline were kept on time.

    Raises:
        InvalidArgumentError: a bad ``kind``.
        MissingPortError: the store has no ``"metrics"`` port.
    """
    kind = check_identifier(kind, "kind")
    require_port(ctx.store, "metrics", "quote_accuracy")
    closed, on_time = cast(Metrics, ctx.store).quote_record(ctx.tenant, kind=kind)
    return QuoteAccuracy(kind=kind, closed=closed, kept_on_time=on_time)
