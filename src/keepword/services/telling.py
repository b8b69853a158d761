"""Telling: explain a commitment to staff or its customer, and a customer's status page.

Reads only; every lookup is confined to the context's tenant, and a
customer's page holds that customer's promises alone.
"""

from __future__ import annotations

import datetime as _dt

from keepword import explain as _explain
from keepword import telling as _telling
from keepword._locales import check_locale
from keepword._validate import check_identifier
from keepword.commitment import Status
from keepword.errors import InvalidArgumentError
from keepword.ports import Query
from keepword.services import finding
from keepword.services._context import CommitmentOrId, Context

__all__ = ["explain", "status_for"]

_LIVE = frozenset({Status.OPEN, Status.PAUSED})
_KEPT = frozenset({Status.KEPT})


def explain(ctx: Context, commitment: CommitmentOrId, audience: object, locale: str | None) -> str:
    """A commitment explained to ``audience`` (``"staff"`` or ``"customer"``).

    The customer's text is in ``locale``, else the language ``locale_for``
    picks for the customer, else their calendar's country's; relative words
    are judged from the context's clock.
    """
    chosen = _explain.check_audience(audience)
    if locale is not None:
        locale = check_locale(locale)
    c = finding.get(ctx, commitment)
    if chosen == "staff":
        return _explain.explain(c)
    return _telling.tell(c, locale=locale or ctx.locale_of(c.customer), now=ctx.now())


def status_for(
    ctx: Context, customer: str, locale: str | None, kept_within: _dt.timedelta
) -> _telling.CustomerStatus:
    """The customer's status page: open, paused and recently kept promises, as data."""
    customer = check_identifier(customer, "customer")
    if locale is not None:
        locale = check_locale(locale)
    if not isinstance(kept_within, _dt.timedelta) or kept_within <= _dt.timedelta(0):
        raise InvalidArgumentError(
            "must be a positive timedelta", argument="kept_within", fix="e.g. timedelta(days=30)"
        )
    lang = locale or ctx.locale_of(customer)
    now = ctx.now()
    live = ctx.store.find(ctx.tenant, Query(customer=customer, statuses=_LIVE))
    kept = ctx.store.find(ctx.tenant, Query(customer=customer, statuses=_KEPT, order="made_at"))
    since = now - kept_within
    recent = [c for c in kept if c.kept_at is not None and c.kept_at >= since]
    return _telling.customer_status(
        customer, [*live, *recent], now=now, locale=lang, kept_within=kept_within
    )
