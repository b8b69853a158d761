"""The demo shop's customer care: inbound mail, thank-yous, follow-ups, the extra mile.

:func:`run_care` is called once per simulated hour by :func:`keepword.demo.simulate`.
It keeps its own state per shop (and its own random stream, so the shop's
other promises are the same with or without it): customers write in (some
messages are out-of-office replies), every message gets an automatic
acknowledgement at once and most get a person's answer within the hour or
two (a few only the automatic one, which the scorecard exposes), sales open
follow-ups that staff make, first purchases and referrals earn thank-you
cards, and the first open hour of each month picks one customer for the
extra mile.  Notable moments go on the demo's timeline.  A store without the
``"touchpoints"`` port skips the scene.
"""

from __future__ import annotations

import datetime as _dt
import random
import weakref
from collections.abc import Callable
from typing import Any

import attrs

from keepword.calendar import BusinessCalendar
from keepword.errors import KeepwordError
from keepword.ports import declared_ports

__all__ = ["CareScene", "run_care"]

STAFF = ("alice", "bob", "carol")


@attrs.define
class CareScene:
    """The care scene's state for one simulated shop."""

    tracker: Any
    calendar: BusinessCalendar
    note: Callable[[str], None]
    customers: list[str]
    rng: random.Random
    serial: int = 0
    pending: list[tuple[_dt.datetime, int, str, tuple[Any, ...]]] = attrs.field(factory=list)
    bought: set[str] = attrs.field(factory=set)
    months: set[str] = attrs.field(factory=set)
    counted: dict[str, int] = attrs.field(factory=dict)

    def later(self, at: _dt.datetime, action: str, *args: Any) -> None:
        """Plan ``action`` for ``at`` (done by staff when the shop is open)."""
        self.serial += 1
        self.pending.append((at, self.serial, action, args))

    def hour(self, now: _dt.datetime) -> None:
        """One simulated hour of customer care."""
        rng = self.rng
        if rng.random() < 0.35:
            self.inbound(now)
        is_open = self.calendar.is_open(now)
        if is_open and rng.random() < 0.12:
            self.sale(now)
        if is_open and rng.random() < 0.03:
            customer = rng.choice(self.customers)
            self.serial += 1
            self.tracker.occurred(customer, "referral", ref=f"referral-{self.serial:05d}")
            self.later(now + _dt.timedelta(hours=rng.randint(2, 30)), "thank", customer, "card")
        if is_open:
            self.extra_mile(now)
            self.work(now)

    def inbound(self, now: _dt.datetime) -> None:
        """A customer writes (sometimes it is their out-of-office)."""
        rng = self.rng
        self.serial += 1
        customer = rng.choice(self.customers)
        ref = f"mail-{self.serial:05d}"
        automated = rng.random() < 0.08
        thread = f"thread-{customer}-{rng.randint(1, 3)}"
        self.tracker.received(
            customer, channel="email", ref=ref, thread=thread, automated=automated
        )
        if automated:
            return
        self.tracker.replied(ref, automated=True)  # the instant acknowledgement
        roll = rng.random()
        if roll < 0.9:
            self.later(now + _dt.timedelta(minutes=rng.randint(20, 200)), "reply", ref)
        elif roll < 0.95:
            self.later(now + _dt.timedelta(minutes=30), "no_reply", ref)
        else:
            self.note(f"{customer} wrote ({ref}): answered only automatically")

    def sale(self, now: _dt.datetime) -> None:
        """A sale: a follow-up, and a thank-you card for a first purchase."""
        rng = self.rng
        self.serial += 1
        customer = rng.choice(self.customers)
        ref = f"sale-{self.serial:05d}"
        self.tracker.occurred(customer, "sale", ref=ref)
        if customer not in self.bought:
            self.bought.add(customer)
            self.tracker.occurred(customer, "first_purchase", ref=f"first-{customer}")
            self.later(now + _dt.timedelta(hours=rng.randint(3, 40)), "thank", customer, "card")
        if rng.random() < 0.8:
            self.later(now + _dt.timedelta(hours=rng.randint(20, 70)), "follow_up", customer)

    def extra_mile(self, now: _dt.datetime) -> None:
        """The first open hour of a month picks this month's customer."""
        month = now.astimezone(self.calendar.zone).strftime("%Y-%m")
        if month in self.months:
            return
        self.months.add(month)
        pick = self.tracker.extra_mile("month")
        if pick is None:
            return
        self.note(f"extra mile for {pick.period}: {pick.customer} gets a gift")
        self.later(now + _dt.timedelta(days=self.rng.randint(2, 9)), "gesture", pick.commitment.id)

    def work(self, now: _dt.datetime) -> None:
        """Do what staff planned for this hour or earlier."""
        due = sorted(p for p in self.pending if p[0] <= now)
        self.pending = [p for p in self.pending if p[0] > now]
        for _at, _n, action, args in due:
            staff = STAFF[_n % len(STAFF)]
            try:
                self.do(action, args, staff)
            except KeepwordError:  # closed meanwhile (waived, cancelled by the customer)
                continue

    def do(self, action: str, args: tuple[Any, ...], staff: str) -> None:
        """Carry out one planned action."""
        tracker = self.tracker
        if action == "reply":
            tracker.replied(args[0], actor=staff)
        elif action == "no_reply":
            tracker.no_reply_needed(args[0], reason="customer wrote: thanks, solved!", actor=staff)
        elif action == "thank":
            result = tracker.thank(args[0], channel=args[1], actor=staff)
            if result.held:
                self.note(f"thank-you to {args[0]} held: {result.note}")
            elif result.counted:
                self.counted[args[0]] = self.counted.get(args[0], 0) + 1
                if self.counted[args[0]] in (3, 7):
                    self.note(f"{args[0]} thanked {self.counted[args[0]]} times so far")
        elif action == "follow_up":
            done = tracker.followed_up(args[0], channel="phone", actor=staff)
            if done.kept is not None and done.kept.lateness:
                self.note(f"{staff} followed up with {args[0]} late")
        elif action == "gesture":
            kept = tracker.keep(args[0], actor=staff)
            self.note(f"{staff} went the extra mile for {kept.customer}")


_SCENES: weakref.WeakKeyDictionary[Any, CareScene] = weakref.WeakKeyDictionary()


def run_care(shop: Any, now: _dt.datetime, *, seed: int = 14) -> None:
    """Run one hour of the care scene for the demo's ``shop`` (its tracker, customers, timeline).

    Does nothing when the shop's store has no touchpoint log.
    """
    scene = _SCENES.get(shop)
    if scene is None:
        if "touchpoints" not in declared_ports(shop.tracker.store):
            return
        scene = CareScene(
            tracker=shop.tracker,
            calendar=shop.tracker.calendar,
            note=shop.note,
            customers=list(shop.customers),
            rng=random.Random(seed),
        )
        _SCENES[shop] = scene
    scene.hour(now)
