"""The one copy of keepword's argument checks, with one wording.

Every layer (values, ports, stores, services) validates identifiers, text,
counts, limits, leases and id lists through these functions, so a bad
argument reads the same wherever it is caught:

- ``"must be a str, not int"``, ``"must not be empty"``,
  ``"must be at most 255 characters (got 300)"``;
- ``"must be an int, not str"``, ``"must be > 0 (got 0)"``;
- ``"must be a datetime.timedelta, not int"``, ``"must be at most 366 days (got ...)"``.

Numbers are bounded so that every store holds them the same way:

- a *limit* (how many rows at most) is any positive ``int``; one beyond
  :data:`MAX_LIMIT` (``2**63 - 1``, the largest integer a SQL ``LIMIT`` or
  ``BIGINT`` takes) is returned as :data:`MAX_LIMIT`, because a limit larger
  than any table is no limit at all (:func:`check_positive`);
- a *lease* is a positive ``timedelta`` of at most :data:`MAX_LEASE`
  (366 days), so that "now plus the lease" stays a date every store and
  every database can hold (:func:`check_lease`).

Each function returns the value it accepted (normalised where that is
harmless) and raises :class:`~keepword.errors.InvalidArgumentError` naming
the argument otherwise.  Nothing here does I/O.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from keepword.errors import InvalidArgumentError

__all__ = [
    "MAX_IDENTIFIER",
    "MAX_LEASE",
    "MAX_LIMIT",
    "check_count",
    "check_identifier",
    "check_ids",
    "check_lease",
    "check_positive",
    "check_text",
    "count",
    "identifier",
    "optional_identifier",
    "text",
]

MAX_IDENTIFIER = 255
"""The longest identifier (tenant, id, customer, owner, kind, reference) in characters."""

MAX_LIMIT = 2**63 - 1
"""The largest limit a store is asked for; a larger one is clamped (:func:`check_positive`)."""

MAX_LEASE = _dt.timedelta(days=366)
"""The longest lease (and lateness allowance) accepted: a year and a day."""

_ZERO = _dt.timedelta(0)


def _check_encodable(value: str, argument: str) -> None:
    if "\x00" in value:
        raise InvalidArgumentError(
            "must not contain a NUL byte", argument=argument, fix="remove the \\x00 character"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            "must be encodable as UTF-8 (it holds a lone surrogate)", argument=argument
        ) from None


def check_text(value: Any, argument: str) -> str:
    """Return ``value`` if it is a ``str`` without NUL bytes or lone surrogates.

    >>> check_text("Email the price list", "what")
    'Email the price list'
    >>> check_text("a\\x00b", "what")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: what: must not contain a NUL byte ...
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"must be a str, not {type(value).__name__}", argument=argument)
    _check_encodable(value, argument)
    return str(value)


def check_identifier(value: Any, argument: str) -> str:
    """Return ``value`` if it is a valid identifier, else raise naming ``argument``.

    An identifier is a non-empty ``str`` of at most 255 characters without a
    NUL byte or a lone surrogate.

    Raises:
        InvalidArgumentError: naming ``argument``.

    >>> check_identifier("", "customer")
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: customer: must not be empty
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"must be a str, not {type(value).__name__}", argument=argument)
    if not value:
        raise InvalidArgumentError("must not be empty", argument=argument)
    if len(value) > MAX_IDENTIFIER:
        raise InvalidArgumentError(
            f"must be at most {MAX_IDENTIFIER} characters (got {len(value)})", argument=argument
        )
    _check_encodable(value, argument)
    return str(value)


def check_count(value: Any, argument: str, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``[minimum, maximum]``.

    >>> check_count(0, "version", 1)
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: version: must be >= 1 (got 0)
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(f"must be an int, not {type(value).__name__}", argument=argument)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise InvalidArgumentError(f"must be {bound} (got {value})", argument=argument)
    return int(value)


def check_positive(value: Any, argument: str) -> int:
    """Return ``value`` if it is an ``int`` greater than zero (a limit, a batch size).

    Any positive ``int`` is accepted; one beyond :data:`MAX_LIMIT`
    (``2**63 - 1``, the largest a SQL ``LIMIT`` takes on every database
    keepword runs on) is returned as :data:`MAX_LIMIT`: a limit larger than
    any table is no limit, and every store then answers alike instead of
    one overflowing where another does not.

    >>> check_positive(0, "limit")
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: limit: must be > 0 (got 0)
    >>> check_positive(2**64, "limit") == MAX_LIMIT
    True
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(f"must be an int, not {type(value).__name__}", argument=argument)
    if value <= 0:
        raise InvalidArgumentError(f"must be > 0 (got {value})", argument=argument)
    return min(int(value), MAX_LIMIT)


def check_lease(value: Any, argument: str = "lease") -> _dt.timedelta:
    """Return ``value`` if it is a ``datetime.timedelta`` in ``(0, MAX_LEASE]``.

    A lease is how long a claim holds; :data:`MAX_LEASE` (366 days) keeps
    "now plus the lease" a date every store can compute and hold (a claim
    meant to last longer is better released and claimed again).

    >>> check_lease(_dt.timedelta(0))
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: lease: must be > 0 (got 0:00:00)
    >>> check_lease(_dt.timedelta.max)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: lease: must be at most 366 days (got 999999999 days, ...
    """
    if not isinstance(value, _dt.timedelta):
        raise InvalidArgumentError(
            f"must be a datetime.timedelta, not {type(value).__name__}", argument=argument
        )
    if value <= _ZERO:
        raise InvalidArgumentError(f"must be > 0 (got {value})", argument=argument)
    if value > MAX_LEASE:
        raise InvalidArgumentError(
            f"must be at most {MAX_LEASE.days} days (got {value})",
            argument=argument,
            fix="use a shorter lease; release and claim again to hold longer",
        )
    return value


def check_ids(value: Any, argument: str = "ids") -> list[str]:
    """Return ``value`` as a list of identifiers, duplicates dropped, order kept.

    A single string is refused (it is almost always a missing ``[...]``).

    >>> check_ids(["a", "b", "a"])
    ['a', 'b']
    >>> check_ids("abc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: ids: must be a sequence of ids, not one string ...
    """
    if isinstance(value, (str, bytes)):
        raise InvalidArgumentError(
            "must be a sequence of ids, not one string", argument=argument, fix="wrap it in a list"
        )
    if not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f"must be a sequence of ids, not {type(value).__name__}", argument=argument
        )
    ids = list(value)
    for i, item in enumerate(ids):
        check_identifier(item, f"{argument}[{i}]")
    return list(dict.fromkeys(ids))


# --------------------------------------------------------------------------- attrs validators


def identifier(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: the field is an identifier (see :func:`check_identifier`)."""
    check_identifier(value, attribute.name)


def optional_identifier(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: the field is ``None`` or an identifier."""
    if value is not None:
        check_identifier(value, attribute.name)


def text(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: the field is text (see :func:`check_text`)."""
    check_text(value, attribute.name)


def count(
    minimum: int, maximum: int | None = None
) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    """attrs validator factory: the field is an ``int`` in ``[minimum, maximum]``."""

    def validate(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_count(value, attribute.name, minimum, maximum)

    return validate
