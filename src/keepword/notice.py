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
from keepword._validate import check_text
from keepword._validate import count as _count
from keepword._validate import identifier as _identifier
from keepword._validate import text as _text
from keepword.errors import InvalidArgumentError
from keepword.escalation import ACTIONS

__all__ = [
    "MAX_KEY",
    "NOTICE_ACTIONS",
    "TICK_ERROR",
    "Notice",
    "NoticeState",
    "notice_from_storage",
]

TICK_ERROR = "tick_error"
"""The ``kind`` and ``action`` of the notice telling the host the tick set a commitment aside."""

NOTICE_ACTIONS = (*ACTIONS, TICK_ERROR)
"""Every ``Notice.action``: a step's action, or :data:`TICK_ERROR`."""


class NoticeState(enum.StrEnum):
    """Where a notice is in the outbox."""

    PENDING = "pending"
    CLAIMED = "claimed"
    ACKED = "acked"


#: The longest idempotency key: a 255-character commitment id and ``:version:step:repeat``.
MAX_KEY = 320
_MAX_INT32 = 2**31 - 1


def _key(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_text(value, attribute.name)
    if not value or len(value) > MAX_KEY:
        raise InvalidArgumentError(
            f"must be 1 to {MAX_KEY} characters (got {len(value)})", argument=attribute.name
        )


def _action(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or value not in NOTICE_ACTIONS:
        raise InvalidArgumentError(
            f"must be one of {', '.join(NOTICE_ACTIONS)} (got {value!r})", argument=attribute.name
        )


def _flag(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be a bool, not {type(value).__name__}", argument=attribute.name
        )


def _state(value: Any) -> NoticeState:
    try:
        return NoticeState(value)
    except ValueError:
        raise InvalidArgumentError(
            f"must be one of {', '.join(s.value for s in NoticeState)} (got {value!r})",
            argument="state",
        ) from None


# attrs' mypy plugin wants named converter functions, one per field.


def _due_at(value: Any) -> _dt.datetime:
    return to_utc(value, "due_at")


def _scheduled_at(value: Any) -> _dt.datetime:
    return to_utc(value, "scheduled_at")


def _fired_at(value: Any) -> _dt.datetime:
    return to_utc(value, "fired_at")


def _claimed_until(value: Any) -> _dt.datetime | None:
    return None if value is None else to_utc(value, "claimed_until")


def _acked_at(value: Any) -> _dt.datetime | None:
    return None if value is None else to_utc(value, "acked_at")


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

    Raises:
        InvalidArgumentError: a field is invalid (named in the error): an id,
            tenant, customer, owner or kind that is not an identifier, text
            with a NUL byte or a lone surrogate, a count out of range, an
            unknown action or state.
        NaiveDatetimeError: an instant is naive.
    """

    id: str = attrs.field(validator=_identifier)
    tenant: str = attrs.field(validator=_identifier)
    idempotency_key: str = attrs.field(validator=_key)
    commitment_id: str = attrs.field(validator=_identifier)
    deadline_version: int = attrs.field(validator=_count(1, _MAX_INT32))
    step_index: int = attrs.field(validator=_count(0, _MAX_INT32))
    repeat: int = attrs.field(validator=_count(0, _MAX_INT32))
    step: str = attrs.field(validator=_text)
    recipient: str = attrs.field(validator=_text)
    action: str = attrs.field(validator=_action)
    customer: str = attrs.field(validator=_identifier)
    owner: str = attrs.field(validator=_identifier)
    kind: str = attrs.field(validator=_identifier)
    what: str = attrs.field(validator=_text)
    due_at: _dt.datetime = attrs.field(converter=_due_at)
    scheduled_at: _dt.datetime = attrs.field(converter=_scheduled_at)
    fired_at: _dt.datetime = attrs.field(converter=_fired_at)
    late: bool = attrs.field(default=False, validator=_flag)
    breach: bool = attrs.field(default=False, validator=_flag)
    state: NoticeState = attrs.field(default=NoticeState.PENDING, converter=_state)
    claimed_until: _dt.datetime | None = attrs.field(default=None, converter=_claimed_until)
    acked_at: _dt.datetime | None = attrs.field(default=None, converter=_acked_at)


_NOTICE_FIELDS = tuple(f.name for f in attrs.fields(Notice))
_NOTICE_DEFAULTS = {
    "late": False,
    "breach": False,
    "state": NoticeState.PENDING,
    "claimed_until": None,
    "acked_at": None,
}


def notice_from_storage(**fields: Any) -> Notice:
    """Rebuild a :class:`Notice` a store wrote, checking every field.

    For store authors: the fields :class:`Notice` takes; ``state`` defaults
    to ``PENDING``, and ``late``, ``breach``, ``claimed_until`` and
    ``acked_at`` may be left out.  Each field is converted and validated as
    the constructor does: instants become UTC, ``state`` a :class:`NoticeState`.

    Raises:
        TypeError: a field is unknown or missing.
        InvalidArgumentError: a field is invalid, as :class:`Notice` checks it
            (named in the error).
        NaiveDatetimeError: an instant is naive (named in the error).

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
    return Notice(**_all_fields(fields))


def _trusted_notice(**fields: Any) -> Notice:
    """The private constructor for trusted code: a :class:`Notice` of ``fields``, unchecked.

    For :func:`keepword.transitions.escalate` only, whose every value is
    keepword's own: every instant an aware UTC ``datetime`` and ``state`` a
    :class:`NoticeState` (``PENDING`` if left out).  A tick builds a notice per
    fired step, so this skips the second look.

    Raises:
        TypeError: a field is unknown or missing.
    """
    values = _all_fields(fields)
    notice: Notice = object.__new__(Notice)
    # one C-level loop over the fields, as keepword.commitment builds its states
    collections.deque(
        map(object.__setattr__, itertools.repeat(notice), values.keys(), values.values()),
        maxlen=0,
    )
    return notice


def _all_fields(fields: dict[str, Any]) -> dict[str, Any]:
    values = {**_NOTICE_DEFAULTS, **fields}
    if len(values) != len(_NOTICE_FIELDS):
        unknown = sorted(set(values) - set(_NOTICE_FIELDS))
        missing = sorted(set(_NOTICE_FIELDS) - set(values))
        raise TypeError(f"notice_from_storage: unknown fields {unknown}, missing {missing}")
    return values
