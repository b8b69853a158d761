"""Customer care as a state machine: any interleaving of the care calls keeps the books straight.

Hypothesis drives messages (some automated, some repeated), replies,
waivers, occasions (complaints included), thank-yous, follow-ups and
extra-mile picks on one MemoryStore, with the clock moving forward, and
checks after every step: one reply per message owed, nothing else; every
commitment replays from its history; thank-yous are held exactly while a
complaint is open; every touchpoint has its own id and the tenant.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from keepword import BusinessCalendar, KeepwordError, MemoryStore, Status
from keepword.clock import FrozenClock
from keepword.commitment import replay
from keepword.ports import Query
from keepword.tracker import Tracker

CUSTOMERS = st.sampled_from(["acct-1", "acct-2", "acct-3"])
CALENDAR = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")


class CareMachine(RuleBasedStateMachine):
    """The model: which messages owe a reply, which complaints are open."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore()
        self.clock = FrozenClock(dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC))
        self.tracker = Tracker(self.store, calendar=CALENDAR, tenant="shop", clock=self.clock)
        self.messages: dict[str, tuple[str, bool]] = {}  # ref -> (customer, automated)
        self.complaint_open: dict[str, bool] = {}
        self.serial = 0

    @rule(minutes=st.integers(min_value=1, max_value=3000))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(customer=CUSTOMERS, automated=st.booleans(), thread=st.sampled_from([None, "a", "b"]))
    def message(self, customer: str, automated: bool, thread: str | None) -> None:
        self.serial += 1
        ref = f"m{self.serial}"
        reply = self.tracker.received(
            customer, channel="email", ref=ref, thread=thread, automated=automated
        )
        assert (reply is None) == automated
        self.messages[ref] = (customer, automated)

    @rule(data=st.data())
    def repeat_message(self, data: st.DataObject) -> None:
        if not self.messages:
            return
        ref = data.draw(st.sampled_from(sorted(self.messages)))
        customer, automated = self.messages[ref]
        again = self.tracker.received(customer, channel="email", ref=ref, automated=automated)
        if automated:
            assert again is None
        else:
            assert again is not None
            assert again.external_ref == f"reply:{ref}"

    @rule(data=st.data(), automated=st.booleans())
    def reply(self, data: st.DataObject, automated: bool) -> None:
        if not self.messages:
            return
        ref = data.draw(st.sampled_from(sorted(self.messages)))
        kept = self.tracker.replied(ref, automated=automated)
        assert not automated or kept == []
        if not automated and not self.messages[ref][1]:
            owed = self.store.get_by_ref("shop", f"reply:{ref}")
            assert owed is not None
            assert owed.status in (Status.KEPT, Status.CANCELLED)

    @rule(data=st.data())
    def waive(self, data: st.DataObject) -> None:
        if not self.messages:
            return
        ref = data.draw(st.sampled_from(sorted(self.messages)))
        try:
            waived = self.tracker.no_reply_needed(ref, reason="solved", actor="alice")
        except KeepwordError:  # automated (nothing owed) or already closed
            owed = self.store.get_by_ref("shop", f"reply:{ref}")
            assert owed is None or owed.status.is_final
            return
        assert waived.history[-1].data["waived"] is True

    @rule(
        customer=CUSTOMERS,
        occasion=st.sampled_from(
            ["sale", "first_purchase", "referral", "complaint", "complaint_resolved"]
        ),
    )
    def occasion(self, customer: str, occasion: str) -> None:
        self.tracker.occurred(customer, occasion)
        if occasion == "complaint":
            self.complaint_open[customer] = True
        elif occasion == "complaint_resolved":
            self.complaint_open[customer] = False

    @rule(customer=CUSTOMERS)
    def thank(self, customer: str) -> None:
        result = self.tracker.thank(customer, channel="card")
        assert (result.held is not None) == self.complaint_open.get(customer, False)
        assert (result.touchpoint is None) == (result.held is not None)

    @rule(customer=CUSTOMERS)
    def follow_up(self, customer: str) -> None:
        done = self.tracker.followed_up(customer, channel="phone")
        assert done.kept is None or done.kept.kind == "follow_up"

    @rule()
    def extra_mile(self) -> None:
        pick = self.tracker.extra_mile("week")
        assert pick is None or self.tracker.extra_mile("week") == pick

    @invariant()
    def one_reply_per_message_owed(self) -> None:
        replies = self.store.find("shop", Query(kind="reply"))
        refs = sorted(c.terms["ref"] for c in replies)
        assert refs == sorted(ref for ref, (_, automated) in self.messages.items() if not automated)

    @invariant()
    def every_commitment_replays(self) -> None:
        for c in self.store.find("shop", Query()):
            assert replay(c.history, version=c.version) == c

    @invariant()
    def thank_yous_paused_exactly_while_a_complaint_is_open(self) -> None:
        for c in self.store.find("shop", Query(kind="thank_you", statuses={Status.PAUSED})):
            assert self.complaint_open.get(c.customer, False)
        for customer, open_ in self.complaint_open.items():
            if open_:
                query = Query(customer=customer, kind="thank_you", statuses={Status.OPEN})
                assert self.store.find("shop", query) == []

    @invariant()
    def touchpoints_are_the_tenants_each_with_its_own_id(self) -> None:
        touches = self.store.touchpoints("shop")
        assert len({t.id for t in touches}) == len(touches)
        assert all(t.tenant == "shop" for t in touches)


CareMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_care_machine = CareMachine.TestCase
