"""Replies owed are written whole: a message with its reply, a reply with what it keeps.

``received`` and ``replied`` write through
:meth:`keepword.ports.AtomicTouchpoints.add_touchpoint_with` when the store
has it: a crash in the middle of the transaction leaves nothing, concurrent
calls with one ref store one message and one reply, and what an earlier
crash left half-written (a reply without its message) is completed by the
next call.  A store of the ``"touchpoints"`` port without that optional
part still gets every answer, writing one step after another.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from keepword import BusinessCalendar, ConflictError, Status
from keepword.clock import FrozenClock
from keepword.commitment import Commitment
from keepword.ports import AtomicTouchpoints, Query, Store
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore
from keepword.tracker import Tracker
from tests.support.backends import SQL_BACKENDS

UTC = dt.UTC
WEEKDAYS = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
MON_10 = dt.datetime(2026, 12, 7, 10, tzinfo=UTC)


class Crash(Exception):
    """The process dying in the middle of a transaction, as a test can stage it."""


def tracker_on(store: Any, clock: FrozenClock | None = None) -> Tracker:
    return Tracker(store, calendar=WEEKDAYS, tenant="shop", clock=clock or FrozenClock(MON_10))


def everything(store: Any) -> list[Commitment]:
    return list(store.find("shop", Query()))


class Separate:
    """A store of every port but without :class:`AtomicTouchpoints` (as an integrator's may be)."""

    _hidden = frozenset({"add_touchpoint_with", "touchpoint_with_commitment"})

    def __init__(self) -> None:
        self._inner = MemoryStore()

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_the_shipped_stores_are_atomic_and_the_separate_one_is_not() -> None:
    assert isinstance(MemoryStore(), AtomicTouchpoints)
    assert not isinstance(Separate(), AtomicTouchpoints)


# --------------------------------------------------------------------------- a crash mid-way


@pytest.mark.parametrize("store", SQL_BACKENDS, indirect=True)
def test_a_crash_after_the_message_is_inserted_leaves_neither_it_nor_its_reply(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(store, SqlStore)
    tracker = tracker_on(store)
    original = store._insert  # the reply's insert, after the message's

    def insert_then_crash(conn: Any, commitments: Any) -> None:
        original(conn, commitments)
        raise Crash("the process died here")

    monkeypatch.setattr(store, "_insert", insert_then_crash)
    with pytest.raises(Crash):
        tracker.received("acct-1", channel="email", ref="msg-1")
    assert store.touchpoints("shop") == []
    assert everything(store) == []
    monkeypatch.undo()
    reply = tracker.received("acct-1", channel="email", ref="msg-1")  # the retry does it all
    assert reply is not None
    assert [c.id for c in everything(store)] == [reply.id]
    (message,) = store.touchpoints("shop")
    assert message.commitment_id == reply.id


@pytest.mark.parametrize("store", SQL_BACKENDS, indirect=True)
def test_a_crash_after_the_keep_leaves_the_reply_owed_and_unrecorded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(store, SqlStore)
    tracker = tracker_on(store)
    reply = tracker.received("acct-1", channel="email", ref="msg-1")
    assert reply is not None
    original = store._append_events  # the keep's events, after its UPDATE and the touchpoint

    def append_then_crash(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise Crash("the process died here")

    monkeypatch.setattr(store, "_append_events", append_then_crash)
    with pytest.raises(Crash):
        tracker.replied("msg-1", actor="alice")
    assert store.get("shop", reply.id) == reply
    assert [t.kind for t in store.touchpoints("shop")] == ["received"]
    monkeypatch.undo()
    (kept,) = tracker.replied("msg-1", actor="alice")
    assert kept.id == reply.id
    assert kept.status is Status.KEPT
    assert sorted(t.kind for t in store.touchpoints("shop")) == ["received", "reply"]


# --------------------------------------------------------------------------- races and leftovers


def test_concurrent_receipts_of_one_message_open_one_reply(store: Store) -> None:
    tracker = tracker_on(store)
    threads = 6
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tracker.received("acct-1", channel="email", ref="webhook-1")
        except BaseException as error:  # reported below
            results[i] = error

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert all(isinstance(r, Commitment) for r in results), results
    assert len({r.id for r in results}) == 1
    assert [c.id for c in everything(store)] == [results[0].id]
    (message,) = store.touchpoints("shop")
    assert message.commitment_id == results[0].id


def test_a_reply_left_without_its_message_is_completed_by_the_next_receipt(store: Store) -> None:
    tracker = tracker_on(store)
    first = tracker.received("acct-1", channel="email", ref="msg-1")
    assert first is not None
    # what a crash between two separate writes could leave: the reply, not the message
    other = tracker_on(MemoryStore())
    orphan = other.received("acct-1", channel="email", ref="msg-2")
    assert orphan is not None
    store.add(orphan)
    again = tracker.received("acct-1", channel="email", ref="msg-2")
    assert again == orphan
    message = store.touchpoint_by_ref("shop", "received", "msg-2")
    assert message is not None
    assert message.commitment_id == again.id
    with pytest.raises(ConflictError):  # another customer's message ref: nothing written
        tracker.received("acct-2", channel="email", ref="msg-2")
    assert len(store.touchpoints("shop")) == 2


# --------------------------------------------------------------------------- without the option


def story(store: Any) -> list[Any]:
    """What a conversation did, without ids: replies and follow-ups kept, statuses, touchpoints."""
    clock = FrozenClock(MON_10)
    tracker = tracker_on(store, clock)
    out: list[Any] = []
    out.append(tracker.received("acct-1", channel="email", ref="m1", thread="t1") is not None)
    clock.advance(dt.timedelta(minutes=5))
    out.append(tracker.received("acct-1", channel="email", ref="m2", thread="t1") is not None)
    out.append(tracker.received("acct-1", channel="email", ref="auto", automated=True))
    out.append(tracker.received("acct-2", channel="chat", ref="m3") is not None)
    clock.advance(dt.timedelta(minutes=5))
    out.append(sorted(c.external_ref or "" for c in tracker.replied("m2", actor="alice")))
    out.append(tracker.replied("m2", actor="alice"))
    out.append([c.external_ref for c in tracker.replied("m3", automated=True)])
    out.append([c.external_ref for c in tracker.replied("m3", actor="bob")])
    again = tracker.received("acct-2", channel="chat", ref="m3")
    out.append(None if again is None else again.status)
    out.append(tracker.received("acct-1", channel="email", ref="m4") is not None)
    out.append(tracker.no_reply_needed("m4", reason="answered by phone", actor="bob").status)
    tracker.promise(
        customer="acct-1",
        owner="alice",
        kind="follow_up",
        what="Call back",
        due=MON_10 + dt.timedelta(days=2),
    )
    for ref in ("call-1", "call-1", "call-2"):
        done = tracker.followed_up("acct-1", channel="phone", ref=ref, actor="alice")
        out.append((done.touchpoint.ref, None if done.kept is None else done.kept.kind))
    out.append(
        sorted(
            (t.kind, t.ref, t.customer, t.automated, tuple(t.data.get("kept", ())) != ())
            for t in tracker.store.touchpoints("shop")
        )
    )
    out.append(sorted((c.external_ref or "", c.status.value) for c in everything(tracker.store)))
    return out


def test_a_store_without_the_option_gives_the_same_answers() -> None:
    separate, atomic = Separate(), MemoryStore()
    assert story(separate) == story(atomic)
