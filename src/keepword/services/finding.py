"""Finding: look commitments up by id, by filters, by deadline.

Every lookup is confined to the context's tenant.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import attrs

from keepword._instant import to_utc
from keepword.calendar import Within
from keepword.commitment import Commitment, Status
from keepword.errors import CalendarError, InvalidArgumentError
from keepword.ports import Query
from keepword.services._context import CommitmentOrId, Context

__all__ = ["count", "due", "find", "get", "overdue", "query"]

_QUERY_FIELDS = frozenset(a.name for a in attrs.fields(Query))
_OPEN = frozenset({Status.OPEN})


def query(filters: Mapping[str, Any]) -> Query:
    """A :class:`Query` from keyword filters, naming an unknown one.

    >>> query({"owner": "alice"}).owner
    'alice'
    >>> query({"owenr": "alice"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: owenr: unknown filter(s): owenr (known: ...)
    """
    unknown = sorted(set(filters) - _QUERY_FIELDS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown filter(s): {', '.join(unknown)} (known: {', '.join(sorted(_QUERY_FIELDS))})",
            argument=unknown[0],
        )
    return Query(**filters)


def get(ctx: Context, commitment: CommitmentOrId) -> Commitment:
    """The stored state of a commitment, given it or its id."""
    return ctx.store.get(ctx.tenant, ctx.id_of(commitment))


def find(ctx: Context, filters: Mapping[str, Any]) -> list[Commitment]:
    """The tenant's commitments matching ``filters`` (the fields of :class:`Query`)."""
    return ctx.store.find(ctx.tenant, query(filters))


def count(ctx: Context, filters: Mapping[str, Any]) -> int:
    """How many of the tenant's commitments match ``filters`` (``limit`` ignored)."""
    return ctx.store.count(ctx.tenant, query(filters))


def due(
    ctx: Context,
    within: Within | _dt.timedelta | None,
    until: _dt.datetime | None,
    filters: dict[str, Any],
) -> list[Commitment]:
    """Open commitments due by ``until`` or ``within`` from now (overdue ones included)."""
    if within is not None and until is not None:
        raise InvalidArgumentError(
            "give within or until, not both", argument="within", fix="drop one of them"
        )
    limit_at = _limit_at(ctx, within, until)
    filters.setdefault("statuses", _OPEN)
    if limit_at is not None:
        filters["due_before"] = limit_at + _dt.timedelta(microseconds=1)
    return find(ctx, filters)


def _limit_at(
    ctx: Context, within: Within | _dt.timedelta | None, until: _dt.datetime | None
) -> _dt.datetime | None:
    if until is not None:
        return to_utc(until, "until")
    if within is None:
        return None
    now = ctx.now()
    if isinstance(within, Within):
        try:
            return to_utc(ctx.calendar.resolve(now, within), "within")
        except (CalendarError, InvalidArgumentError) as exc:  # name the caller's argument
            raise type(exc)(exc.message, argument="within", fix=exc.fix) from None
    if isinstance(within, _dt.timedelta):
        if within < _dt.timedelta(0):
            raise InvalidArgumentError("must not be negative", argument="within")
        try:
            return now + within
        except OverflowError:  # a window past year 9999 holds every deadline there is
            return None
    raise InvalidArgumentError(
        f"must be a within(...) spec or a timedelta, not {type(within).__name__}",
        argument="within",
    )


def overdue(ctx: Context, filters: dict[str, Any]) -> list[Commitment]:
    """Open commitments whose deadline has passed (``due_at < now``), oldest deadline first."""
    filters["statuses"] = _OPEN
    filters["due_before"] = ctx.now()
    return find(ctx, filters)
