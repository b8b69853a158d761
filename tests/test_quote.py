"""Quoting deadlines from history, and checking that quotes were honest."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import keepword as kw
from keepword.errors import InvalidArgumentError, KeepwordError
from keepword.services.quoting import MIN_HISTORY, Quote

UTC = dt.UTC
CAL = kw.BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
MON_9 = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)


def _tracker(store: kw.Store) -> tuple[kw.Tracker, kw.FrozenClock]:
    clock = kw.FrozenClock(MON_9)
    return kw.Tracker(store, calendar=CAL, tenant="shop", clock=clock), clock


def _history(
    tracker: kw.Tracker, clock: kw.FrozenClock, minutes: list[int], broken: int = 0
) -> None:
    """Replies promised Mon 09:00 and kept ``minutes`` later each; ``broken`` more failed."""
    clock.set(MON_9)
    made = [
        tracker.promise(
            customer=f"c{i}", owner="alice", kind="reply", what="r", due=MON_9 + 8 * 60 * MINUTE
        )
        for i in range(len(minutes) + broken)
    ]
    for c, m in sorted(zip(made, minutes, strict=False), key=lambda x: x[1]):
        clock.set(MON_9 + m * MINUTE)
        tracker.keep(c.id)
    for c in made[len(minutes) :]:
        tracker.fail(c.id, reason="no")


def test_a_quote_is_the_nearest_rank_quantile_rounded_up_to_the_minute(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock, [10 * (i + 1) for i in range(20)])  # 10, 20, ..., 200 minutes
    q = tracker.quote("reply", confidence=0.9)
    assert isinstance(q, Quote)
    assert q.sample == 20
    assert q.quantile == 180 * MINUTE  # rank ceil(0.9 * 20) = 18
    assert q.to_string() == "business_hours=3"
    assert str(tracker.quote("reply", confidence=0.5)) == "100 business minutes"


def test_too_little_history_says_how_many_more_are_needed(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock, [30] * 15)
    with pytest.raises(KeepwordError) as err:
        tracker.quote("reply")
    assert "5 more" in str(err.value)
    assert f"needs {MIN_HISTORY}" in str(err.value)


def test_broken_promises_count_as_never_kept(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock, [30] * 17, broken=3)
    assert tracker.quote("reply", confidence=0.85).quantile == 30 * MINUTE
    with pytest.raises(KeepwordError) as err:
        tracker.quote("reply", confidence=0.9)
    assert err.value.argument == "confidence"


def test_promises_made_at_a_quote_record_it_and_their_accuracy_is_told(store: kw.Store) -> None:
    tracker, clock = _tracker(store)
    _history(tracker, clock, [60] * 20)
    q = tracker.quote("reply")
    clock.set(MON_9 + 8 * 60 * MINUTE)
    a = tracker.promise(customer="x", owner="alice", kind="reply", what="q1", due=q)
    b = tracker.promise(customer="y", owner="alice", kind="reply", what="q2", due=q)
    assert a.history[0].data["quote"]["spec"] == "business_hours=1"
    assert a.spec == "business_hours=1"
    assert tracker.quote_accuracy("reply").closed == 0
    assert tracker.quote_accuracy("reply").rate is None
    clock.set(clock.now() + 30 * MINUTE)
    tracker.keep(a.id)
    clock.set(clock.now() + 24 * 60 * MINUTE)
    tracker.keep(b.id)
    accuracy = tracker.quote_accuracy("reply")
    assert (accuracy.closed, accuracy.kept_on_time, accuracy.rate) == (2, 1, 0.5)


def test_bad_quote_arguments_are_refused() -> None:
    tracker, _ = _tracker(kw.MemoryStore())
    for kwargs, argument in (
        ({"kind": ""}, "kind"),
        ({"kind": "reply", "confidence": 0}, "confidence"),
        ({"kind": "reply", "confidence": 1.01}, "confidence"),
        ({"kind": "reply", "confidence": "high"}, "confidence"),
        ({"kind": "reply", "by": ""}, "by"),
    ):
        with pytest.raises(InvalidArgumentError) as err:
            tracker.quote(**kwargs)
        assert err.value.argument == argument


@given(
    minutes=st.lists(st.integers(1, 5 * 8 * 60), min_size=MIN_HISTORY, max_size=40),
    broken=st.integers(0, 4),
    confidences=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=4),
)
def test_a_higher_confidence_never_quotes_a_shorter_deadline(
    minutes: list[int], broken: int, confidences: list[float]
) -> None:
    store = kw.MemoryStore()
    tracker, clock = _tracker(store)
    _history(tracker, clock, minutes, broken=broken)
    quoted = []
    for confidence in sorted(confidences):
        try:
            q = tracker.quote("reply", confidence=confidence)
        except KeepwordError:
            quoted.append(None)  # too many broken for this confidence: so for every higher one
            continue
        quoted.append(CAL.resolve(MON_9, q.within()) - MON_9)
        assert q.quantile <= CAL.resolve(MON_9, q.within()) - MON_9
    seen_none = False
    previous = dt.timedelta(0)
    for value in quoted:
        if value is None:
            seen_none = True
            continue
        assert not seen_none
        assert value >= previous
        previous = value
