"""A small shop, simulated: what ``keepword demo`` runs.

Ninety days of a shop's promises on an embedded SQLite file with a frozen
clock: inbound mail to answer, orders to ship, backorders waiting for stock,
complaints to resolve, referrals to thank.  Most promises are kept, some late,
a few broken, renegotiated, paused or cancelled, as in real life.  The run is
deterministic for a given seed.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from keepword._demo_care import run_care
from keepword._demo_fairness import FairnessScene, backorder_scene
from keepword.calendar import BusinessCalendar, Within, within
from keepword.clock import FrozenClock
from keepword.commitment import Commitment, Status
from keepword.escalation import EscalationPolicy, PolicySet, Step, after_due, at_due, before_due
from keepword.notice import Notice

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["SHOP_CALENDAR", "SHOP_POLICIES", "DemoResult", "render", "simulate", "summarize"]

#: The demo shop's hours: New York, weekdays and Saturday mornings, US holidays.
SHOP_CALENDAR = BusinessCalendar(
    tz="America/New_York", hours="Mon-Fri 09:00-17:00; Sat 10:00-14:00", country="US"
)
STAFF = ("alice", "bob", "carol")

#: The demo shop's escalation ladders: remind the owner, tell the manager at the
#: deadline, hand a stale reply to the support lead, nag about late shipments.
SHOP_POLICIES = PolicySet(
    [
        EscalationPolicy(
            "replies",
            match={"kinds": ["reply"]},
            steps=[
                Step(
                    before_due(business_hours=1), notify="owner", quiet=True, name="reply-reminder"
                ),
                Step(at_due(), notify="manager", name="reply-overdue"),
                Step(
                    after_due(business_hours=4),
                    notify="support-lead",
                    action="reassign",
                    name="stale-reply",
                ),
            ],
        ),
        EscalationPolicy(
            "shipping",
            match={"kinds": ["ship", "backorder"]},
            steps=[
                Step(
                    before_due(business_hours=2), notify="owner", quiet=True, name="ship-reminder"
                ),
                Step(
                    after_due(hours=1),
                    notify="warehouse-manager",
                    action="raise_priority",
                    every=within(business_hours=4),
                    times=2,
                    name="late-shipment",
                ),
            ],
        ),
        EscalationPolicy(
            "default",
            steps=[
                Step(before_due(business_hours=4), notify="owner", name="reminder"),
                Step(at_due(), notify="manager", name="overdue"),
            ],
        ),
    ]
)

# kind, what, deadline, chance per open hour
_ARRIVALS: tuple[tuple[str, str, Within, float], ...] = (
    ("reply", "Answer the customer's email", within(business_hours=4), 0.55),
    ("ship", "Ship the order", within(business_days=1), 0.45),
    ("backorder", "Ship the backordered FIG-1", within(business_days=10), 0.06),
    ("resolve", "Resolve the complaint", within(business_days=3), 0.05),
    ("thank_you", "Thank the customer for the referral", within(business_days=2), 0.05),
)


@attrs.frozen
class DemoResult:
    """What a simulated run produced."""

    days: int
    commitments: tuple[Commitment, ...]
    timeline: tuple[tuple[_dt.datetime, str], ...]
    example: str
    notices: tuple[Notice, ...] = ()
    delivered: int = 0
    fairness: FairnessScene | None = None


def simulate(
    tracker_factory: Callable[[FrozenClock], Any],
    *,
    days: int = 90,
    seed: int = 7,
    start: _dt.datetime | None = None,
    on_day: Callable[[int], object] | None = None,
) -> DemoResult:
    """Run the shop for ``days`` days, hour by hour, and return what happened.

    Args:
        tracker_factory: builds the ``Tracker`` from the frozen clock the
            simulation moves (give it ``policies=SHOP_POLICIES`` to see
            escalations).
        days: how long to simulate.
        seed: the random seed (the run is deterministic for a seed).
        start: the first instant (default 2026-09-01 08:00 in New York).
        on_day: called with the day's number (from 1) after each simulated
            day, e.g. to move a progress bar.
    """
    begin = start or _dt.datetime(2026, 9, 1, 8, 0, tzinfo=SHOP_CALENDAR.zone)
    clock = FrozenClock(begin)
    shop = _Shop(tracker_factory(clock), clock, random.Random(seed))
    for _hour in range(days * 24):
        now = clock.now()
        if SHOP_CALENDAR.is_open(now):
            shop.take_orders(now)
        shop.work(now, staff_at_work=SHOP_CALENDAR.is_open(now))
        run_care(shop, now)  # customer care: keepword._demo_care
        shop.tick()
        clock.advance(hours=1)
        if on_day is not None and (_hour + 1) % 24 == 0:
            on_day((_hour + 1) // 24)
    fairness = backorder_scene(shop.tracker, clock, shop.note)  # keepword._demo_fairness
    commitments = tuple(shop.tracker.find())
    delivered = shop.tracker.dispatch(lambda notice: None, limit=len(shop.notices) + 1).delivered
    return DemoResult(
        days=days,
        commitments=commitments,
        timeline=tuple(shop.timeline),
        example=shop.example,
        notices=tuple(shop.notices),
        delivered=delivered,
        fairness=fairness,
    )


class _Shop:
    """The simulated shop's state: its tracker, its customers and what staff plan to do."""

    def __init__(self, tracker: Any, clock: FrozenClock, rng: random.Random):
        self.tracker = tracker
        self.clock = clock
        self.rng = rng
        self.customers = [f"acct-{n:02d}" for n in range(1, 41)]
        self.owner_of = {c: STAFF[i % len(STAFF)] for i, c in enumerate(self.customers)}
        self.timeline: list[tuple[_dt.datetime, str]] = []
        self.notices: list[Notice] = []
        # what the staff will do with each open promise, and when
        self.plans: dict[str, tuple[_dt.datetime, str]] = {}
        self.example = ""
        self.serial = 0

    def note(self, text: str) -> None:
        self.timeline.append((self.clock.now(), text))

    def take_orders(self, now: _dt.datetime) -> None:
        """This hour's new promises: replies, shipments, backorders, callbacks."""
        for kind, what, spec, chance in _ARRIVALS:
            if self.rng.random() >= chance:
                continue
            self.serial += 1
            customer = self.rng.choice(self.customers)
            c = self.tracker.promise(
                customer=customer,
                owner=self.owner_of[customer],
                kind=kind,
                what=what,
                due=spec,
                external_ref=f"{kind}-{self.serial:05d}",
                waiting_for="sku:FIG-1" if kind == "backorder" else None,
            )
            if not self.example and kind == "reply":
                self.example = self.tracker.explain(c)
            self.plans[c.id] = _plan(self.rng, c, now)

    def work(self, now: _dt.datetime, *, staff_at_work: bool) -> None:
        """Carry out every plan that has come due (customers cancel at any hour)."""
        for cid, (when, action) in sorted(self.plans.items(), key=lambda item: item[1][0]):
            if when > now or not (staff_at_work or action == "cancel"):
                continue
            del self.plans[cid]
            c = self.tracker.get(cid)
            if not c.status.is_final:
                self.act(now, c, action)

    def act(self, now: _dt.datetime, c: Commitment, action: str) -> None:
        """Do one planned thing to an open promise, and plan what follows."""
        rng, tracker = self.rng, self.tracker
        if action == "keep":
            c = tracker.keep(c)
            if c.lateness:
                self.note(f"{c.owner} kept {c.kind} {c.external_ref} for {c.customer} late")
        elif action == "fail":
            tracker.fail(c, reason="supplier cannot deliver")
            self.note(f"{c.owner} could not keep {c.kind} {c.external_ref}: promise broken")
        elif action == "cancel":
            tracker.cancel(c, reason="customer withdrew the order")
        elif action == "renegotiate":
            c = tracker.renegotiate(
                c, due=within(business_days=2), reason="customer agreed a new date"
            )
            self.note(f"{c.owner} renegotiated {c.external_ref} with {c.customer}")
            self.plans[c.id] = (now + _dt.timedelta(hours=rng.randint(4, 30)), "keep")
        elif action == "pause":
            tracker.pause(c, reason="waiting for the customer's answer")
            self.plans[c.id] = (now + _dt.timedelta(hours=rng.randint(2, 48)), "resume")
        elif action == "resume":
            tracker.resume(c)
            self.plans[c.id] = (now + _dt.timedelta(hours=rng.randint(1, 12)), "keep")

    def tick(self) -> None:
        """Fire what is due and note the escalations on the timeline."""
        for notice in self.tracker.tick().notices:
            if notice.breach:
                self.note(
                    f"escalated {notice.kind} {notice.customer} to {notice.recipient}"
                    f" ({notice.action}, {notice.step})"
                )
            self.notices.append(notice)


def _plan(rng: random.Random, c: Commitment, now: _dt.datetime) -> tuple[_dt.datetime, str]:
    """Decide what the staff will do with a new promise, and when."""
    window = c.due_at - now
    roll = rng.random()
    if roll < 0.78:  # kept on time
        return now + window * rng.uniform(0.1, 0.95), "keep"
    if roll < 0.88:  # kept late
        return c.due_at + _dt.timedelta(hours=rng.randint(1, 20)), "keep"
    if roll < 0.91:
        return now + window * 0.5, "fail"
    if roll < 0.94:
        return now + window * 0.3, "cancel"
    if roll < 0.97:
        return now + window * 0.6, "renegotiate"
    return now + window * 0.2, "pause"


def summarize(commitments: tuple[Commitment, ...]) -> list[dict[str, Any]]:
    """Per owner: made, kept on time, kept late, broken, cancelled, open, on-time rate."""
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for c in commitments:
        row = rows[c.owner]
        row["made"] += 1
        if c.status is Status.KEPT:
            row["kept late" if c.lateness else "kept on time"] += 1
        elif c.status is Status.BROKEN:
            row["broken"] += 1
        elif c.status is Status.CANCELLED:
            row["cancelled"] += 1
        else:
            row["open"] += 1
        if c.breached_at is not None:
            row["breached"] += 1
    out = []
    for owner in sorted(rows):
        row = rows[owner]
        decided = row["kept on time"] + row["kept late"] + row["broken"]
        rate = row["kept on time"] / decided if decided else 1.0
        out.append({"owner": owner, **row, "on-time rate": rate})
    return out


def render(console: Console, result: DemoResult, *, db_path: str, timeline_rows: int = 25) -> None:
    """Print a run: the example promise, the timeline, the scorecard and what fired.

    Each section is its own function below, so a new scene adds one more.
    """
    console.rule(f"[bold]keepword demo[/]: a small shop, {result.days} days, stored in {db_path}")
    console.print(f"Example promise: {result.example}", soft_wrap=True)
    console.print()
    _render_timeline(console, result, timeline_rows)
    _render_owners(console, result)
    _render_fired(console, result)
    console.print(f"{result.delivered} notices delivered and acknowledged.")
    _render_fairness(console, result)


def _render_fairness(console: Console, result: DemoResult) -> None:
    """The backorder scene: who ``allocate`` served, and the fairness audit's findings."""
    from rich.table import Table

    scene = result.fairness
    if scene is None:
        return
    served = "; then ".join(", ".join(group) for group in scene.served)
    console.print(f"Backorders served first come, first served by allocate: {served}.")
    table = Table(title="Fairness audit of the backorder scene")
    table.add_column("finding")
    table.add_column("what happened")
    for finding in (*scene.report.violations, *scene.report.approved):
        label = f"{finding.rule} (approved)" if finding.approved else finding.rule
        table.add_row(label, finding.sentence)
    console.print(table)
    staged = "exactly what it staged" if scene.as_staged else "more or less than it staged"
    console.print(f"The audit found {staged}: {', '.join(sorted(scene.staged)) or 'nothing'}.")


def _render_timeline(console: Console, result: DemoResult, rows: int) -> None:
    """The first ``rows`` events, in the shop's zone, with the year."""
    shown = result.timeline[:rows]
    for at, text in shown:
        local = at.astimezone(SHOP_CALENDAR.zone)
        console.print(f"[dim]{local:%a %d %b %Y %H:%M %Z}[/]  {text}", soft_wrap=True)
    if len(result.timeline) > len(shown):
        console.print(f"[dim]... and {len(result.timeline) - len(shown)} more events[/]")


def _render_owners(console: Console, result: DemoResult) -> None:
    """The scorecard by owner."""
    from rich.table import Table

    table = Table(title="Promises by owner")
    columns = (
        "owner",
        "made",
        "kept on time",
        "kept late",
        "broken",
        "cancelled",
        "open",
        "breached",
        "on-time rate",
    )
    headers = {"kept on time": "on time", "kept late": "late", "on-time rate": "on-time"}
    for column in columns:
        table.add_column(
            headers.get(column, column), justify="left" if column == "owner" else "right"
        )
    for row in summarize(result.commitments):
        table.add_row(
            *(f"{row[c]:.1%}" if c == "on-time rate" else str(row.get(c, 0)) for c in columns)
        )
    console.print(table)


def _render_fired(console: Console, result: DemoResult) -> None:
    """The reminders and escalations fired, by step."""
    from rich.table import Table

    fired = Table(title="Reminders and escalations fired (all delivered through the outbox)")
    for column in ("step", "recipient", "action", "fired", "late"):
        fired.add_column(column, justify="left" if column in ("step", "recipient") else "right")
    counts: dict[tuple[str, str, str], list[int]] = {}
    for notice in result.notices:
        tally = counts.setdefault((notice.step, notice.recipient, notice.action), [0, 0])
        tally[0] += 1
        tally[1] += notice.late
    for (step, recipient, action), (n, late) in sorted(counts.items()):
        fired.add_row(step, recipient, action, str(n), str(late))
    console.print(fired)
