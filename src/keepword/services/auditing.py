"""Auditing: the fairness audit, answered by the store's indexed queries.

Each rule of :data:`keepword.fairness.RULES` is one or two questions to the
``"waitlists"`` port (and, for the pause rule, to the ``"touchpoints"``
port); no rule loads every commitment.  The pause rule is skipped, and the
report says so, when the store has no ``"touchpoints"`` port.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

from keepword import fairness
from keepword.fairness import AuditRules, FairnessReport, Finding, PauseRecord
from keepword.ports import TouchpointLog, Waitlist, declared_ports, require_port
from keepword.services._context import Context

__all__ = ["fairness_audit"]


def fairness_audit(
    ctx: Context, since: Any = None, until: Any = None, *, rules: AuditRules | None = None
) -> FairnessReport:
    """Run every fairness rule over ``[since, until)`` (unbounded by default).

    Raises:
        InvalidArgumentError: ``since`` after ``until``.
        NaiveDatetimeError: ``since`` or ``until`` is naive.
        MissingPortError: the store has no ``"waitlists"`` port.
    """
    lo, hi = fairness.check_window(since, until)
    rules = AuditRules() if rules is None else rules
    require_port(ctx.store, "waitlists", "fairness_audit")
    store = cast(Waitlist, ctx.store)
    tenant = ctx.tenant
    jumps = [
        fairness.out_of_turn_finding(o)
        for o in store.served_out_of_turn(tenant, since=lo, until=hi)
    ]
    violations = [f for f in jumps if not f.approved]
    approved = [f for f in jumps if f.approved]
    skipped: list[str] = []
    if "touchpoints" in declared_ports(ctx.store):
        pauses = store.pauses(tenant, since=lo, until=hi)
        violations += _pause_findings(ctx, cast(TouchpointLog, ctx.store), pauses, rules)
    else:
        skipped.append(
            "paused_after_customer: the store has no 'touchpoints' port to read the "
            "customer's messages from"
        )
    violations += [
        fairness.renegotiation_finding(r, rules.max_renegotiations)
        for r in store.renegotiated_more_than(tenant, rules.max_renegotiations, since=lo, until=hi)
    ]
    waivers = fairness.waiver_findings(store.waived_replies(tenant, since=lo, until=hi))
    return FairnessReport(
        since=lo,
        until=hi,
        violations=tuple(violations),
        approved=tuple(approved),
        waivers=tuple(waivers),
        skipped=tuple(skipped),
    )


def _pause_findings(
    ctx: Context, log: TouchpointLog, pauses: list[PauseRecord], rules: AuditRules
) -> list[Finding]:
    """The pause rule: one touchpoint query per paused customer, over their pauses' span."""
    spans: dict[str, tuple[_dt.datetime, _dt.datetime]] = {}
    for p in pauses:
        lo, hi = spans.get(p.customer, (p.at, p.at))
        spans[p.customer] = (min(lo, p.at), max(hi, p.at))
    received: dict[str, list[_dt.datetime]] = {}
    one_us = _dt.timedelta(microseconds=1)
    for customer, (first, last) in sorted(spans.items()):
        messages = log.touchpoints(
            ctx.tenant,
            customer=customer,
            kind="received",
            since=first - rules.pause_window,
            until=last + one_us,
        )
        received[customer] = [t.at for t in messages if not t.automated]
    return fairness.pause_gaming(pauses, received, rules.pause_window)
