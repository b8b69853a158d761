"""Rebuilding stored values: `commitment_from_storage`, `event_from_storage` check everything.

A store (keepword's or a third party's) hands back fields; every one is
converted and validated, and the state must be the one its history describes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import attrs
import pytest

from keepword import commitment as kc
from keepword import transitions as kt
from keepword._ids import new_id
from keepword.calendar import BusinessCalendar, within
from keepword.commitment import Commitment, Event, Status
from keepword.errors import InvalidArgumentError, NaiveDatetimeError

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
ALWAYS = BusinessCalendar.always_open("UTC")
MON_10 = dt.datetime(2026, 11, 23, 10, tzinfo=NY)


def make(**kw: object) -> Commitment:
    """A new commitment to a US customer, made Monday 10:00, due in 3 business days."""
    args: dict[str, object] = {
        "id": new_id(MON_10),
        "tenant": "shop-7",
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Email the bulk price list",
        "now": MON_10,
        "calendar": US,
        "due": within(business_days=3),
    }
    args.update(kw)
    c, _ = kt.promise(**args)  # type: ignore[arg-type]
    return c


def stored_fields(c: Commitment) -> dict[str, object]:
    """Every field of ``c`` by name, as a store hands them to ``commitment_from_storage``."""
    return {a.name: getattr(c, a.name) for a in attrs.fields(Commitment)}


def test_commitment_from_storage_rebuilds_states_that_match_their_history() -> None:
    opened = make(tags=["vip", "b2b"], terms={"discount": 10})
    paused, _ = kt.pause(opened, now=MON_10 + dt.timedelta(hours=1), reason="waiting")
    kept, _ = kt.keep(opened, now=MON_10 + dt.timedelta(days=5))
    for c in (opened, paused, kept):
        assert kc.commitment_from_storage(**stored_fields(c)) == c


def test_commitment_from_storage_converts_plain_stored_forms() -> None:
    c = make(tags=["vip"], terms={"lines": [1, 2]})
    fields = stored_fields(c)
    fields.update(status="open", tags=["vip", "vip"], terms={"lines": [1, 2]})
    rebuilt = kc.commitment_from_storage(**fields)
    assert rebuilt == c
    assert rebuilt.status is Status.OPEN
    assert rebuilt.tags == ("vip",)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("argument", "change"),
    [
        ("made_at", lambda c: {"made_at": _naive(c.made_at)}),
        ("due_at", lambda c: {"due_at": _naive(c.due_at)}),
        ("next_action_at", lambda c: {"next_action_at": _naive(c.due_at)}),
    ],
    ids=["made_at", "due_at", "next_action_at"],
)
def test_commitment_from_storage_refuses_naive_instants(
    argument: str, change: Callable[[Commitment], dict[str, object]]
) -> None:
    c = make()
    with pytest.raises(NaiveDatetimeError) as err:
        kc.commitment_from_storage(**{**stored_fields(c), **change(c)})
    assert err.value.argument == argument


_LATER = dt.timedelta(hours=3)


@pytest.mark.parametrize(
    ("argument", "change"),
    [
        ("customer", lambda c: {"customer": ""}),
        ("owner", lambda c: {"owner": "x" * 256}),
        ("what", lambda c: {"what": "nul\x00byte"}),
        ("version", lambda c: {"version": 0}),
        ("version", lambda c: {"version": True}),
        ("priority", lambda c: {"priority": -1}),
        ("status", lambda c: {"status": "lost"}),
        ("tags", lambda c: {"tags": "vip"}),
        ("terms", lambda c: {"terms": {"when": MON_10}}),
        ("terms", lambda c: {"terms": ["not", "an", "object"]}),
        ("calendar", lambda c: {"calendar": c.calendar.to_dict()}),
        ("policy", lambda c: {"policy": "gold"}),
        ("lateness", lambda c: {"lateness": -_LATER}),
        ("made_at", lambda c: {"made_at": "2026-11-23T15:00:00+00:00"}),
        ("history", lambda c: {"history": ()}),
        ("history", lambda c: {"history": ("promised",)}),
        ("deadline_version", lambda c: {"deadline_version": 0}),
        ("escalation_cursor", lambda c: {"escalation_cursor": -1}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_commitment_from_storage_refuses_invalid_fields(
    argument: str, change: Callable[[Commitment], dict[str, object]]
) -> None:
    c = make()
    with pytest.raises(InvalidArgumentError) as err:
        kc.commitment_from_storage(**{**stored_fields(c), **change(c)})
    assert err.value.argument == argument


@pytest.mark.parametrize(
    ("argument", "change"),
    [
        ("status", lambda c: {"status": Status.KEPT}),
        ("status", lambda c: {"status": Status.PAUSED}),
        ("due_at", lambda c: {"due_at": c.due_at + _LATER}),
        ("owner", lambda c: {"owner": "mallory"}),
        ("priority", lambda c: {"priority": c.priority + 1}),
        ("kept_at", lambda c: {"kept_at": c.due_at}),
        ("breached_at", lambda c: {"breached_at": c.due_at}),
        ("deadline_version", lambda c: {"deadline_version": 2}),
        ("next_action_at", lambda c: {"next_action_at": None}),
        ("escalation_cursor", lambda c: {"escalation_cursor": 3}),
        ("calendar", lambda c: {"calendar": ALWAYS}),
        ("terms", lambda c: {"terms": {"discount": 50}}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_commitment_from_storage_refuses_a_state_its_history_contradicts(
    argument: str, change: Callable[[Commitment], dict[str, object]]
) -> None:
    c = make()
    with pytest.raises(InvalidArgumentError, match="contradicts the history") as err:
        kc.commitment_from_storage(**{**stored_fields(c), **change(c)})
    assert err.value.argument == argument


def test_commitment_from_storage_needs_every_field_and_no_other() -> None:
    fields = stored_fields(make())
    del fields["owner"]
    with pytest.raises(InvalidArgumentError, match="missing \\['owner'\\]") as err:
        kc.commitment_from_storage(**fields)
    assert err.value.argument == "fields"
    with pytest.raises(InvalidArgumentError, match="unknown \\['colour'\\]") as err:
        kc.commitment_from_storage(**stored_fields(make()), colour="red")
    assert err.value.argument == "fields"


def test_event_from_storage_checks_every_field() -> None:
    good = {"seq": 2, "kind": "kept", "at": MON_10, "actor": "alice", "data": {"on_time": True}}
    assert kc.event_from_storage(**good) == Event(**good)  # type: ignore[arg-type]
    for argument, value in (
        ("seq", 0),
        ("kind", "exploded"),
        ("actor", ""),
        ("data", {"when": {1, 2}}),
        ("data", ["not", "an", "object"]),
    ):
        with pytest.raises(InvalidArgumentError) as err:
            kc.event_from_storage(**{**good, argument: value})  # type: ignore[arg-type]
        assert err.value.argument == argument
    with pytest.raises(NaiveDatetimeError) as naive:
        kc.event_from_storage(**{**good, "at": _naive(MON_10)})  # type: ignore[arg-type]
    assert naive.value.argument == "at"
