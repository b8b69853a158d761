"""The ``KeepwordError`` family: every error keepword raises on purpose.

Each error also subclasses the nearest builtin, so ``except ValueError`` keeps
working in code that does not know keepword.  Each carries structured fields
(``argument``, ``fix``) and says what to do about it.

>>> from keepword.errors import NaiveDatetimeError
>>> err = NaiveDatetimeError("start", "2026-11-23 10:00:00")
>>> isinstance(err, ValueError), err.argument
(True, 'start')
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CalendarError",
    "ConflictError",
    "InvalidArgumentError",
    "InvalidTransitionError",
    "KeepwordError",
    "MissingPortError",
    "NaiveDatetimeError",
    "NotFoundError",
    "SchemaError",
    "StoreError",
]


class KeepwordError(Exception):
    """Root of every error keepword raises on purpose.

    Args:
        message: what went wrong, in a sentence.
        argument: the name of the offending argument, when there is one.
        fix: what the caller should do instead.
    """

    def __init__(self, message: str, *, argument: str | None = None, fix: str | None = None):
        self.message = message
        self.argument = argument
        self.fix = fix
        text = message
        if argument and not message.startswith(argument):
            text = f"{argument}: {message}"
        if fix:
            text = f"{text} ({fix})"
        super().__init__(text)


class InvalidArgumentError(KeepwordError, ValueError):
    """An argument has the wrong type or an impossible value."""


class NaiveDatetimeError(KeepwordError, ValueError):
    """A ``datetime`` without a time zone was passed where an instant is needed.

    Args:
        argument: the name of the argument that was naive.
        value: the offending value (shown in the message).
    """

    def __init__(self, argument: str, value: Any = None):
        shown = f" (got {value!r})" if value is not None else ""
        super().__init__(
            f"{argument} must be a timezone-aware datetime{shown}",
            argument=argument,
            fix="attach a zone, e.g. value.replace(tzinfo=ZoneInfo('UTC')) "
            "or pendulum.datetime(..., tz='Europe/Stockholm')",
        )
        self.value = value


class CalendarError(KeepwordError, ValueError):
    """A business calendar is malformed, or has no open time where some is needed."""


class InvalidTransitionError(KeepwordError, ValueError):
    """A commitment cannot make this move from its current status.

    Args:
        action: what was attempted (``"keep"``).
        status: the status the commitment is in.
        commitment_id: the commitment's id.
    """

    def __init__(self, action: str, status: str, commitment_id: str | None = None):
        who = f"commitment {commitment_id}" if commitment_id else "the commitment"
        super().__init__(
            f"cannot {action} {who}: it is {status}",
            argument="commitment",
            fix="check the commitment's status before acting on it",
        )
        self.action = action
        self.status = status
        self.commitment_id = commitment_id


class ConflictError(KeepwordError, RuntimeError):
    """A write lost a race (stale version) or contradicts an existing record.

    Nothing was written.  Reload the record and decide again.
    """

    def __init__(
        self,
        message: str,
        *,
        argument: str | None = None,
        fix: str | None = "reload the commitment and apply the change again",
        expected_version: int | None = None,
        actual_version: int | None = None,
    ):
        super().__init__(message, argument=argument, fix=fix)
        self.expected_version = expected_version
        self.actual_version = actual_version


class NotFoundError(KeepwordError, LookupError):
    """No such record in this tenant (another tenant's ids are never found)."""

    def __init__(self, what: str, key: str, *, argument: str | None = None):
        super().__init__(
            f"no {what} {key!r} in this tenant",
            argument=argument,
            fix="check the id and the tracker's tenant",
        )
        self.what = what
        self.key = key


class StoreError(KeepwordError, RuntimeError):
    """The storage backend failed in a way keepword could not retry away."""


class SchemaError(StoreError):
    """The database schema is missing or at a version this keepword does not know."""


class MissingPortError(KeepwordError, TypeError):
    """The store does not implement a port the call needs (the tick queue, the outbox, ...).

    Args:
        port: the missing port's name, as in ``keepword.ports.PORTS``.
        action: what needed it (``"tick"``, ``"claim_notices"``, ...).
    """

    def __init__(self, port: str, action: str):
        super().__init__(
            f"{action} needs the store's {port!r} port, which this store does not declare",
            argument="store",
            fix=f"use a store whose ports include {port!r} (MemoryStore and SqlStore have all)",
        )
        self.port = port
        self.action = action
