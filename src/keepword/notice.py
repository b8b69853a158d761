"""Notices: fired escalation steps, written to the transactional outbox.

keepword never sends mail itself.  A tick writes one :class:`Notice` per fired
step, in the same transaction as the commitment's new state; the host drains
the outbox and delivers them (at least once, with a stable
``idempotency_key`` so the host can drop a redelivery).
"""

from __future__ import annotations

import collections
import datetime as _dt
import enum
import itertools
from typing import Any

import attrs

from keepword._instant import to_utc

__all__ = ["Notice", "NoticeState", "notice_from_storage"]


class NoticeState(enum.StrEnum):
    """Where a notice is in the outbox."""

    PENDING = "pending"
    CLAIMED = "claimed"
    ACKED = "acked"


def _utc(value: Any) -> _dt.datetime:
    return to_utc(value, "at")


def _optional_utc(value: Any) -> _dt.datetime | None:
    return None if value is None else to_utc(value, "at")


@attrs.frozen(kw_only=True)
class Notice:
    """One fired step of an escalation policy, for the host to deliver.

    Args:
        id: the notice's id (time-ordered).
        tenant: the tenant it belongs to.
        idempotency_key: ``commitment:deadline_version:step:repeat``, unique per
            tenant: the same step for the same deadline is never written twice.
        commitment_id, customer, owner, kind, what: the promise it is about
            (owner as it was when the step fired, after any reassignment).
        deadline_version: the deadline the step was planned against.
        step_index, repeat: which step of the policy, and which repetition.
        step: the step's label, e.g. ``"before_due(hours=2) -> owner"``.
        recipient: who to tell: ``"owner"``, ``"manager"``, a role or address.
        action: ``"notify"``, ``"reassign"`` or ``"raise_priority"``.
        due_at: the deadline it is about.
        scheduled_at: when the step was due to fire.
        fired_at: when a tick fired it.
        late: fired later than the tick tolerance after ``scheduled_at``
            (missed ticks catching up).
        breach: the step fires at or after the deadline.
        state: pending, claimed or acked.
    """

    id: str
    tenant: str
    idempotency_key: str
    commitment_id: str
    deadline_version: int
    step_index: int
    repeat: int
    step: str
    recipient: str
    action: str
    customer: str
    owner: str
    kind: str
    what: str
    due_at: _dt.datetime = attrs.field(converter=_utc)
    scheduled_at: _dt.datetime = attrs.field(converter=_utc)
    fired_at: _dt.datetime = attrs.field(converter=_utc)
    late: bool = False
    breach: bool = False
    state: NoticeState = attrs.field(default=NoticeState.PENDING, converter=NoticeState)
    claimed_until: _dt.datetime | None = attrs.field(default=None, converter=_optional_utc)
    acked_at: _dt.datetime | None = attrs.field(default=None, converter=_optional_utc)


_NOTICE_FIELDS = tuple(f.name for f in attrs.fields(Notice))
_NOTICE_DEFAULTS = {
    "late": False,
    "breach": False,
    "state": NoticeState.PENDING,
    "claimed_until": None,
    "acked_at": None,
}


def notice_from_storage(**fields: Any) -> Notice:
    """Build a :class:`Notice` from values keepword already checked, without checking again.

    For store authors and the tick: every instant must be an aware UTC
    ``datetime`` and ``state`` a :class:`NoticeState` (``PENDING`` if left
    out); ``late``, ``breach``, ``claimed_until`` and ``acked_at`` may be
    left out.  :class:`Notice` itself converts and checks every field; a
    tick builds a notice per fired step, so this skips the second look.

    >>> import datetime as dt
    >>> t = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)
    >>> n = notice_from_storage(
    ...     id="n1", tenant="shop-7", idempotency_key="c1:1:0:0", commitment_id="c1",
    ...     deadline_version=1, step_index=0, repeat=0, step="at_due() -> owner",
    ...     recipient="owner", action="notify", customer="acct-42", owner="alice",
    ...     kind="reply", what="Call back", due_at=t, scheduled_at=t, fired_at=t)
    >>> n == Notice(**{f: getattr(n, f) for f in _NOTICE_FIELDS})
    True
    """
    values = {**_NOTICE_DEFAULTS, **fields}
    if len(values) != len(_NOTICE_FIELDS):
        unknown = sorted(set(values) - set(_NOTICE_FIELDS))
        missing = sorted(set(_NOTICE_FIELDS) - set(values))
        raise TypeError(f"notice_from_storage: unknown fields {unknown}, missing {missing}")
    notice: Notice = object.__new__(Notice)
    # one C-level loop over the fields, as keepword.commitment builds its states
    collections.deque(
        map(object.__setattr__, itertools.repeat(notice), values.keys(), values.values()),
        maxlen=0,
    )
    return notice
