"""Commitments for the store tests, built from the domain's own values and transitions."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from keepword import transitions as _t
from keepword._ids import new_id
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status
from keepword.escalation import EscalationPolicy, Step, after_due, at_due, before_due

UTC = _dt.UTC
T0 = _dt.datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
"""Monday 23 November 2026, 10:00:00.123456 UTC: when the builders' commitments are made."""

_CALENDAR = BusinessCalendar.always_open("UTC")


def commitment(
    tenant: str = "tenant-a",
    *,
    external_ref: str | None = None,
    made_at: _dt.datetime = T0,
    **changes: Any,
) -> Commitment:
    """A new version-1 commitment with a one-event history (built from commitment.py values)."""
    due = made_at + _dt.timedelta(days=3)
    c = Commitment(
        id=new_id(made_at),
        tenant=tenant,
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        made_at=made_at,
        due_at=due,
        status=Status.OPEN,
        version=1,
        external_ref=external_ref,
        calendar=_CALENDAR,
        history=(Event(seq=1, kind="promised", at=made_at, data={"due_at": due.isoformat()}),),
    )
    return attrs.evolve(c, **changes) if changes else c


def bump(c: Commitment, owner: str) -> Commitment:
    """``c`` reassigned to ``owner``: one version up, one event more."""
    event = Event(
        seq=len(c.history) + 1,
        kind="reassigned",
        at=c.made_at + _dt.timedelta(seconds=len(c.history)),
        actor=owner,
        data={"to": owner},
    )
    return attrs.evolve(c, owner=owner, version=c.version + 1, history=(*c.history, event))


POLICY = EscalationPolicy(
    "sql-ladder",
    steps=[
        Step(before_due(hours=2), notify="owner"),
        Step(at_due(), notify="manager"),
        Step(after_due(hours=4), notify="director"),
    ],
)
"""Three steps: 2 h before, at, and 4 h after the deadline."""


def escalating(
    tenant: str = "tenant-a",
    *,
    due_at: _dt.datetime,
    made_at: _dt.datetime = T0,
    policy: EscalationPolicy | None = POLICY,
) -> Commitment:
    """A new commitment promised under ``policy`` (its ``next_action_at`` set by the domain)."""
    c, _ = _t.promise(
        id=new_id(made_at),
        tenant=tenant,
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        now=made_at,
        calendar=_CALENDAR,
        due=due_at,
        policy=policy,
    )
    return c


def us(n: int) -> _dt.timedelta:
    """``n`` microseconds."""
    return _dt.timedelta(microseconds=n)


def escalate(c: Commitment, now: _dt.datetime) -> tuple[Commitment, Any, Any]:
    """The domain's escalation of ``c`` at ``now`` (notice ids made at ``now``)."""
    return _t.escalate(c, now=now, new_id=lambda: new_id(now))


def notice_fields(at: _dt.datetime, **changes: Any) -> dict[str, Any]:
    """The fields of a valid pending notice fired at ``at``, with ``changes`` applied."""
    return {
        "id": "n1",
        "tenant": "shop-7",
        "idempotency_key": "c1:1:0:0",
        "commitment_id": "c1",
        "deadline_version": 1,
        "step_index": 0,
        "repeat": 0,
        "step": "at_due() -> owner",
        "recipient": "owner",
        "action": "notify",
        "customer": "acct-42",
        "owner": "alice",
        "kind": "reply",
        "what": "Call back",
        "due_at": at,
        "scheduled_at": at,
        "fired_at": at,
        **changes,
    }
