"""Rows in, values out: the named functions between table rows and domain values.

Values never enter through ``Commitment(**row)``: each column is mapped by
name here, so a renamed column or a new field fails loudly in one place.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from keepword._instant import td_us
from keepword._json import FrozenDict, freeze_trusted
from keepword._snapshots import calendar_snapshot, policy_snapshot
from keepword.calendar import BusinessCalendar
from keepword.commitment import Commitment, Event, Status, _trusted_commitment, _trusted_event
from keepword.escalation import EscalationPolicy
from keepword.fairness import queue_state
from keepword.measures import is_rework, measures_of, time_spans
from keepword.notice import Notice, NoticeState
from keepword.stores.sql._schema import MEASURE_COLUMNS
from keepword.touchpoint import Touchpoint

__all__ = [
    "changed_columns",
    "commitment_from_row",
    "commitment_to_row",
    "event_from_row",
    "event_to_row",
    "events_to_rows",
    "measure_values",
    "notice_from_row",
    "notice_to_row",
    "touchpoint_from_row",
    "touchpoint_to_row",
    "waitlist_row",
]


def commitment_to_row(commitment: Commitment) -> dict[str, Any]:
    """The ``{prefix}commitments`` row of a commitment (without its events).

    ``history_length`` records how many events belong to this state, so a
    reader that loads events in a second statement keeps exactly those.
    """
    c = commitment
    return {
        "tenant": c.tenant,
        "id": c.id,
        "customer": c.customer,
        "owner": c.owner,
        "kind": c.kind,
        "what": c.what,
        "made_at": c.made_at,
        "due_at": c.due_at,
        "status": c.status.value,
        "version": c.version,
        "external_ref": c.external_ref,
        "tags": list(c.tags),
        "priority": c.priority,
        "waiting_for": c.waiting_for,
        "channel": c.channel,
        "terms": c.terms,  # frozen JSON: json.dumps writes it as is
        "spec": c.spec,
        "calendar": calendar_snapshot(c.calendar),
        "kept_at": c.kept_at,
        "closed_at": c.closed_at,
        "breached_at": c.breached_at,
        "paused_at": c.paused_at,
        "lateness_us": None if c.lateness is None else td_us(c.lateness),
        "deadline_version": c.deadline_version,
        "history_length": len(c.history),
        "policy": None if c.policy is None else policy_snapshot(c.policy),
        "escalation_cursor": c.escalation_cursor,
        "next_action_at": c.next_action_at,
        **waitlist_row(c),
        **measure_values(c),
        "rework": is_rework(c),
    }


_NOT_WAITING = {
    "quantity": None,
    "served_quantity": None,
    "queue_at": None,
    "turn_at": None,
    "served_at": None,
    "served_ahead": None,
}


def waitlist_row(c: Commitment) -> dict[str, Any]:
    """The waitlist columns of a commitment, read off its history (all ``NULL`` if not waiting)."""
    state = queue_state(c)
    if state is None:
        return _NOT_WAITING
    return {
        "quantity": state.quantity,
        "served_quantity": state.served,
        "queue_at": state.queue_at,
        "turn_at": state.turn_at,
        "served_at": state.full_at,
        "served_ahead": state.ahead,
    }


def measure_values(c: Commitment) -> dict[str, Any]:
    """The scorecard's columns of ``c`` (:func:`keepword.measures.measures_of`)."""
    m = measures_of(c)
    return {
        "outcome": m.outcome,
        "turnaround_us": m.turnaround_us,
        "response_us": m.response_us,
        "breach_us": m.breach_us,
        "slack_us": m.slack_us,
        "renegotiations": m.renegotiations,
        "escalations_fired": m.escalations,
        "kept_as_promised": m.as_promised,
        "quoted": m.quoted,
    }


_COLUMN_OF = {"history": "history_length", "lateness": "lateness_us"}
"""The column of each :class:`Commitment` field whose column is named otherwise."""
_FIELD_NAMES = tuple(a.name for a in Commitment.__attrs_attrs__)
_field_values = operator.attrgetter(*_FIELD_NAMES)


def changed_columns(new: Commitment, old: Commitment) -> set[str]:
    """The ``{prefix}commitments`` columns whose values differ between two states of a commitment.

    Compares field by field (an identical object costs one ``is``), so a tick
    that changed four fields does not build and compare two whole rows.
    """
    changed = {
        _COLUMN_OF.get(name, name)
        for name, now, was in zip(_FIELD_NAMES, _field_values(new), _field_values(old), strict=True)
        if now is not was and now != was
    }
    if "history_length" in changed:  # a new event: the scorecard's columns may follow
        changed.update(MEASURE_COLUMNS)
    return changed


def event_to_row(tenant: str, commitment_id: str, event: Event) -> dict[str, Any]:
    """The ``{prefix}events`` row of one event of a commitment."""
    return {
        "tenant": tenant,
        "commitment_id": commitment_id,
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at,
        "actor": event.actor,
        "data": event.data,
    }


def events_to_rows(commitment: Commitment, events: Sequence[Event]) -> list[dict[str, Any]]:
    """The event rows of ``events`` (a tail of ``commitment.history``, or all of it).

    Each row carries the span of time up to its event
    (:func:`keepword.measures.time_spans`), computed only for these events.
    """
    if not events:
        return []
    first = max(events[0].seq, 2)
    spans = dict(
        zip(
            range(first, len(commitment.history) + 1),
            time_spans(commitment, first=first),
            strict=True,
        )
    )
    rows = []
    for e in events:
        row = event_to_row(commitment.tenant, commitment.id, e)
        kind, holder, us = spans.get(e.seq, _NO_SPAN)
        row.update(span_kind=kind, span_holder=holder, span_us=us)
        rows.append(row)
    return rows


_NO_SPAN = (None, None, None)


def event_from_row(row: Mapping[Any, Any]) -> Event:
    """The :class:`Event` an ``{prefix}events`` row holds (keepword wrote it: not re-checked)."""
    return _trusted_event(
        seq=int(row["seq"]),
        kind=row["kind"],
        at=row["at"],
        actor=row["actor"],
        data=_json(row["data"]),
    )


def commitment_from_row(row: Mapping[Any, Any], events: Sequence[Event]) -> Commitment:
    """The :class:`Commitment` a ``{prefix}commitments`` row and its events hold.

    Args:
        row: the commitment row (a mapping by column name).
        events: its events in ``seq`` order; events past the row's
            ``history_length`` (written by a later update) are ignored.
    """
    lateness_us = row["lateness_us"]
    length = int(row["history_length"])
    history = tuple(events[:length]) if len(events) > length else tuple(events)
    return _trusted_commitment(
        id=row["id"],
        tenant=row["tenant"],
        customer=row["customer"],
        owner=row["owner"],
        kind=row["kind"],
        what=row["what"],
        made_at=row["made_at"],
        due_at=row["due_at"],
        status=Status(row["status"]),
        version=int(row["version"]),
        external_ref=row["external_ref"],
        tags=_tags(row["tags"]),
        priority=int(row["priority"]),
        waiting_for=row["waiting_for"],
        channel=row["channel"],
        terms=_terms(row["terms"]),
        spec=row["spec"],
        calendar=_calendar(row["calendar"]),
        kept_at=row["kept_at"],
        closed_at=row["closed_at"],
        breached_at=row["breached_at"],
        paused_at=row["paused_at"],
        lateness=None if lateness_us is None else _dt.timedelta(microseconds=int(lateness_us)),
        deadline_version=int(row["deadline_version"]),
        policy=_policy(row["policy"]),
        escalation_cursor=int(row["escalation_cursor"]),
        next_action_at=row["next_action_at"],
        history=history,
    )


def notice_to_row(notice: Notice, *, claim_token: str | None = None) -> dict[str, Any]:
    """The ``{prefix}notices`` row of a notice (``claim_token`` is not part of a Notice)."""
    n = notice
    return {
        "tenant": n.tenant,
        "id": n.id,
        "idempotency_key": n.idempotency_key,
        "commitment_id": n.commitment_id,
        "deadline_version": n.deadline_version,
        "step_index": n.step_index,
        "repeat": n.repeat,
        "step": n.step,
        "recipient": n.recipient,
        "action": n.action,
        "customer": n.customer,
        "owner": n.owner,
        "kind": n.kind,
        "what": n.what,
        "due_at": n.due_at,
        "scheduled_at": n.scheduled_at,
        "fired_at": n.fired_at,
        "late": bool(n.late),
        "breach": bool(n.breach),
        "state": n.state.value,
        "claim_token": claim_token,
        "claimed_until": n.claimed_until,
        "acked_at": n.acked_at,
    }


def notice_from_row(row: Mapping[Any, Any]) -> Notice:
    """The :class:`Notice` a ``{prefix}notices`` row holds."""
    return Notice(
        id=row["id"],
        tenant=row["tenant"],
        idempotency_key=row["idempotency_key"],
        commitment_id=row["commitment_id"],
        deadline_version=int(row["deadline_version"]),
        step_index=int(row["step_index"]),
        repeat=int(row["repeat"]),
        step=row["step"],
        recipient=row["recipient"],
        action=row["action"],
        customer=row["customer"],
        owner=row["owner"],
        kind=row["kind"],
        what=row["what"],
        due_at=row["due_at"],
        scheduled_at=row["scheduled_at"],
        fired_at=row["fired_at"],
        late=bool(row["late"]),
        breach=bool(row["breach"]),
        state=NoticeState(row["state"]),
        claimed_until=row["claimed_until"],
        acked_at=row["acked_at"],
    )


def touchpoint_to_row(touchpoint: Touchpoint) -> dict[str, Any]:
    """The ``{prefix}touchpoints`` row of a touchpoint."""
    t = touchpoint
    return {
        "tenant": t.tenant,
        "id": t.id,
        "customer": t.customer,
        "channel": t.channel,
        "kind": t.kind,
        "at": t.at,
        "occasion": t.occasion,
        "actor": t.actor,
        "automated": t.automated,
        "commitment_id": t.commitment_id,
        "ref": t.ref,
        "thread": t.thread,
        "counted": t.counted,
        "data": t.data,
    }


def touchpoint_from_row(row: Mapping[Any, Any]) -> Touchpoint:
    """The :class:`Touchpoint` a ``{prefix}touchpoints`` row holds."""
    return Touchpoint(
        id=row["id"],
        tenant=row["tenant"],
        customer=row["customer"],
        channel=row["channel"],
        kind=row["kind"],
        at=row["at"],
        occasion=row["occasion"],
        actor=row["actor"],
        automated=bool(row["automated"]),
        commitment_id=row["commitment_id"],
        ref=row["ref"],
        thread=row["thread"],
        counted=bool(row["counted"]),
        data=_json(row["data"]),
    )


def _json(value: Any) -> Any:
    """A JSON column's value; drivers that hand back text get it parsed."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def _tags(value: Any) -> tuple[str, ...]:
    """A commitment's tags from their column (JSON text is parsed once per distinct text)."""
    if isinstance(value, str):
        return _tags_from_text(value)
    return tuple(_json(value))


@functools.lru_cache(maxsize=1024)
def _tags_from_text(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _terms(value: Any) -> Any:
    """A commitment's terms from their column, frozen (shared per distinct JSON text)."""
    if isinstance(value, str):
        return _terms_from_text(value)
    return _json(value)


@functools.lru_cache(maxsize=1024)
def _terms_from_text(text: str) -> FrozenDict:
    # Frozen, not checked again: what keepword stored reads back as stored,
    # even terms nested deeper than a later keepword accepts in new writes.
    frozen: FrozenDict = freeze_trusted(json.loads(text))
    return frozen


def _snapshot_text(value: Any) -> str:
    """A snapshot column's JSON text: as stored when selected as text, else re-encoded."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _calendar(value: Any) -> BusinessCalendar:
    """Rebuild a calendar snapshot, sharing one instance per distinct snapshot text."""
    return _calendar_from_text(_snapshot_text(value))


@functools.lru_cache(maxsize=256)
def _calendar_from_text(text: str) -> BusinessCalendar:
    return BusinessCalendar.from_dict(json.loads(text))


def _policy(value: Any) -> EscalationPolicy | None:
    """Rebuild a policy snapshot (``None`` when the commitment has none)."""
    text = None if value is None else _snapshot_text(value)
    return None if text is None or text == "null" else _policy_from_text(text)


@functools.lru_cache(maxsize=256)
def _policy_from_text(text: str) -> EscalationPolicy:
    return EscalationPolicy.from_dict(json.loads(text))
