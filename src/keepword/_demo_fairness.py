"""The demo's backorder scene: a limited figurine, served first come, first served, then audited.

:func:`backorder_scene` runs on the demo's tracker after the simulated
months: five customers order a limited-edition figurine, stock arrives twice
and is handed out with ``tracker.allocate``, a manager lets a medical need go
first (an approved exception), and two things are staged on purpose for the
audit to find: a clerk ships a later order by hand while an earlier one still
waits, and one order's deadline is renegotiated three times.  With a store
that keeps touchpoints, a pause twenty minutes after the customer's own
message is staged too.  The audit runs over the scene's own window, and must
find exactly what was staged.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

import attrs

from keepword.calendar import within
from keepword.clock import FrozenClock
from keepword.fairness import FairnessReport
from keepword.ports import declared_ports
from keepword.touchpoint import Touchpoint

__all__ = ["RESOURCE", "FairnessScene", "backorder_scene"]

RESOURCE = "sku:FIG-LTD"
"""The limited-edition figurine the scene's customers wait for."""


@attrs.frozen(kw_only=True)
class FairnessScene:
    """What the backorder scene did and what the audit found.

    Attributes:
        served: per allocation, the customers served, in order.
        staged: the rules the scene broke on purpose (what the audit must find).
        report: the audit of the scene's window.
    """

    served: tuple[tuple[str, ...], ...]
    staged: tuple[str, ...]
    report: FairnessReport

    @property
    def as_staged(self) -> bool:
        """True when the audit found exactly the staged violations, and nothing else."""
        return sorted(f.rule for f in self.report.violations) == sorted(self.staged)


def backorder_scene(
    tracker: Any, clock: FrozenClock, note: Callable[[str], None] | None = None
) -> FairnessScene:
    """Play the backorder scene on ``tracker`` (moving ``clock``) and audit it.

    Args:
        tracker: the demo's tracker (its store must have the ``"waitlists"`` port).
        clock: the frozen clock the tracker reads; the scene moves it forward.
        note: called with one line per thing that happened (the demo's timeline).
    """
    say = note or (lambda _text: None)
    start = clock.now()
    orders = {}
    for customer, quantity in (
        ("acct-ltd-1", 1),
        ("acct-ltd-2", 2),
        ("acct-ltd-3", 1),
        ("acct-ltd-4", 1),
        ("acct-ltd-5", 1),
    ):
        orders[customer] = tracker.promise(
            customer=customer,
            owner="warehouse",
            kind="backorder",
            what=f"Ship {quantity} limited-edition figurine(s)",
            due=within(days=30),
            waiting_for=RESOURCE,
            quantity=quantity,
            external_ref=f"ltd-{customer}-{start:%Y%m%d%H%M}",
        )
        clock.advance(minutes=20)
    say(f"five customers backorder {RESOURCE}")
    served: list[tuple[str, ...]] = []

    def allocate(quantity: int, **extra: Any) -> None:
        clock.advance(hours=2)
        got = tuple(c.customer for c in tracker.allocate(RESOURCE, quantity, **extra))
        served.append(got)
        say(f"{quantity} {RESOURCE} arrived: served {', '.join(got) or 'nobody'}")

    allocate(3)  # acct-ltd-1 (1) and acct-ltd-2 (2)
    allocate(
        1,
        first=[orders["acct-ltd-5"]],
        reason="the figurine is a get-well gift for a hospital stay",
        actor="manager",
    )
    staged = ["served_out_of_turn", "renegotiated_often"]
    clock.advance(hours=1)
    tracker.keep(orders["acct-ltd-4"].id, actor="clerk")  # shipped by hand, ahead of acct-ltd-3
    say("a clerk shipped acct-ltd-4's figurine by hand while acct-ltd-3 still waited")
    for days in (35, 40, 45):
        clock.advance(hours=3)
        tracker.renegotiate(
            orders["acct-ltd-3"].id, due=start + _dt.timedelta(days=days), reason="no stock yet"
        )
    say("acct-ltd-3's delivery date was renegotiated three times")
    if "touchpoints" in declared_ports(tracker.store):
        clock.advance(hours=1)
        tracker.store.add_touchpoint(
            Touchpoint(
                id=f"ltd-msg-{start:%Y%m%d%H%M}",
                tenant=tracker.tenant,
                customer="acct-ltd-3",
                channel="email",
                kind="received",
                at=clock.now(),
                ref=f"ltd-msg-{start:%Y%m%d%H%M}",
            )
        )
        clock.advance(minutes=20)
        tracker.pause(orders["acct-ltd-3"].id, reason="waiting for the customer", actor="clerk")
        tracker.resume(orders["acct-ltd-3"].id, actor="clerk")
        staged.append("paused_after_customer")
        say("acct-ltd-3 answered, and twenty minutes later their order was paused")
    allocate(2)  # acct-ltd-3
    clock.advance(minutes=1)
    report = tracker.fairness_audit(since=start, until=clock.now())
    for finding in report.violations:
        say(f"audit: {finding.sentence}")
    for finding in report.approved:
        say(f"audit (approved): {finding.sentence}")
    return FairnessScene(served=tuple(served), staged=tuple(staged), report=report)
