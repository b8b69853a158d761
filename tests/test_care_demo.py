"""The demo's customer-care scene: mail answered (some only automatically), thanks, follow-ups."""

from __future__ import annotations

from collections import Counter

from keepword import MemoryStore, Tracker
from keepword.clock import FrozenClock
from keepword.demo import SHOP_CALENDAR, SHOP_POLICIES, DemoResult, simulate, summarize


def _run(days: int) -> tuple[DemoResult, Tracker]:
    made: list[Tracker] = []

    def factory(clock: FrozenClock) -> Tracker:
        tracker = Tracker(
            MemoryStore(),
            calendar=SHOP_CALENDAR,
            clock=clock,
            policies=SHOP_POLICIES,
            tenant="demo",
        )
        made.append(tracker)
        return tracker

    return simulate(factory, days=days), made[0]


def test_the_scene_runs_every_kind_of_care() -> None:
    result, tracker = _run(40)
    kinds = Counter(c.kind for c in result.commitments)
    for kind in ("reply", "follow_up", "thank_you", "extra_mile"):
        assert kinds[kind] > 0, kind
    assert kinds["extra_mile"] == 2  # September and October
    notes = [text for _, text in result.timeline]
    assert sum("gets a gift" in n for n in notes) == 2
    assert any("answered only automatically" in n for n in notes)
    store = tracker.store
    assert isinstance(store, MemoryStore)
    touches = store.touchpoints("demo")
    automated_replies = [t for t in touches if t.kind == "reply" and t.automated]
    assert automated_replies
    waived = [
        c
        for c in result.commitments
        if c.kind == "reply" and c.history[-1].data.get("waived") is True
    ]
    assert waived


def test_the_scene_is_deterministic() -> None:
    first, _ = _run(35)
    second, _ = _run(35)
    assert summarize(first.commitments) == summarize(second.commitments)

    def care(result: DemoResult) -> list[str]:
        return sorted(text for _, text in result.timeline if "escalated" not in text)

    assert care(first) == care(second)
