"""Snapshots of calendars and policies, and the calendars and policies they describe.

A commitment keeps the calendar and escalation policy it was made under as
JSON snapshots in its ``"promised"`` event.  Thousands of stored events repeat
a handful of snapshots, so this module keeps small module-global caches: the
frozen snapshot of a calendar or policy (:func:`calendar_snapshot`,
:func:`policy_snapshot`), one shared frozen copy of each recently read stored
snapshot (:func:`shared_snapshot`), and the calendar or policy rebuilt from a
snapshot (:func:`calendar_from`, :func:`policy_from`).  Everything cached is
immutable; nothing here does I/O.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from keepword._json import LEAVES, FrozenDict, freeze_trusted, thaw_json
from keepword.calendar import BusinessCalendar
from keepword.escalation import EscalationPolicy

__all__ = [
    "calendar_from",
    "calendar_snapshot",
    "freeze_stored_data",
    "policy_from",
    "policy_snapshot",
    "shared_snapshot",
]

_SNAPSHOT_KEYS = frozenset({"calendar", "policy"})
_SHARED_SNAPSHOTS = 32
_shared: tuple[tuple[dict[str, Any], FrozenDict], ...] = ()


def shared_snapshot(value: dict[str, Any]) -> FrozenDict:
    """The frozen copy of a stored calendar or policy snapshot, shared when seen recently.

    Thousands of stored ``"promised"`` events repeat a handful of snapshots;
    comparing a parsed one with a plain copy of each recent one is a C-level
    ``dict`` comparison, far cheaper than freezing it again node by node.
    """
    global _shared
    recent = _shared
    for plain, frozen in recent:
        if plain == value:
            return frozen
    shared: FrozenDict = freeze_trusted(value)
    _shared = ((thaw_json(shared), shared), *recent[: _SHARED_SNAPSHOTS - 1])
    return shared


def freeze_stored_data(data: Any) -> FrozenDict:
    """Freeze a stored event's data, sharing its calendar and policy snapshots."""
    if isinstance(data, FrozenDict) or not isinstance(data, dict):
        frozen: FrozenDict = freeze_trusted(data)
        return frozen
    return FrozenDict(
        {
            k: v
            if type(v) in LEAVES
            else shared_snapshot(v)
            if k in _SNAPSHOT_KEYS and type(v) is dict
            else freeze_trusted(v)
            for k, v in data.items()
        }
    )


@functools.lru_cache(maxsize=256)
def calendar_snapshot(calendar: BusinessCalendar) -> FrozenDict:
    """The frozen JSON snapshot of ``calendar`` (cached: equal calendars share one)."""
    frozen: FrozenDict = freeze_trusted(calendar.to_dict())
    return frozen


@functools.lru_cache(maxsize=256)
def policy_snapshot(policy: EscalationPolicy) -> FrozenDict:
    """The frozen JSON snapshot of ``policy`` (cached: equal policies share one)."""
    frozen: FrozenDict = freeze_trusted(policy.to_dict())
    return frozen


def calendar_from(data: Any) -> BusinessCalendar:
    """The calendar a snapshot describes; equal snapshots share one (immutable) calendar."""
    if isinstance(data, FrozenDict):
        return _calendar_of_snapshot(data)
    plain = thaw_json(data)
    return _cached_calendar(json.dumps(plain, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _calendar_of_snapshot(snapshot: FrozenDict) -> BusinessCalendar:
    return _cached_calendar(json.dumps(snapshot, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _cached_calendar(snapshot: str) -> BusinessCalendar:
    return BusinessCalendar.from_dict(json.loads(snapshot))


def policy_from(data: Any) -> EscalationPolicy | None:
    """The policy a snapshot describes (``None`` for none); equal snapshots share one."""
    if data is None:
        return None
    if isinstance(data, FrozenDict):
        return _cached_policy(data)
    return EscalationPolicy.from_dict(data)


@functools.lru_cache(maxsize=256)
def _cached_policy(snapshot: FrozenDict) -> EscalationPolicy:
    return EscalationPolicy.from_dict(snapshot)
