"""JSON values frozen deep down: the ``terms`` of a commitment and the data of its events.

:func:`freeze_json` checks a value from outside and returns a frozen copy
(objects become :class:`FrozenDict`, arrays :class:`FrozenList`);
:func:`freeze_trusted` only converts the types of JSON keepword built or read
back itself; :func:`thaw_json` gives a plain, mutable copy.  No I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeAlias

from keepword._validate import check_text
from keepword.errors import InvalidArgumentError

__all__ = [
    "JSON",
    "LEAVES",
    "MAX_JSON_DEPTH",
    "FrozenDict",
    "FrozenList",
    "freeze_json",
    "freeze_trusted",
    "thaw_json",
]

JSON: TypeAlias = "str | int | float | bool | list[Any] | dict[str, Any] | None"
"""A JSON value: the types :func:`json.dumps` writes without help."""


class FrozenDict(dict[str, Any]):
    """A JSON object that cannot be changed: a ``dict`` whose mutators raise.

    It is a real ``dict`` (so :func:`json.dumps` writes it), compares equal to
    a plain ``dict`` with the same items, and is hashable.

    >>> d = freeze_json({"b": [1, 2], "a": None}, "terms")
    >>> d == {"a": None, "b": [1, 2]}, isinstance(hash(d), int)
    (True, True)
    >>> d["c"] = 1
    Traceback (most recent call last):
    TypeError: FrozenDict is read-only
    """

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("FrozenDict is read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class FrozenList(tuple[Any, ...]):
    """A JSON array that cannot be changed: a ``tuple`` that also equals a ``list``.

    >>> freeze_json([1, [2]], "terms") == [1, [2]]
    True
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"FrozenList({list(self)!r})"


MAX_JSON_DEPTH = 24
"""How deeply objects and arrays may nest in a JSON value keepword stores (``terms``, event data).

The deepest nesting every supported database accepts, with a margin:
MariaDB's JSON functions refuse documents nested 32 levels deep, and a
commitment's ``terms`` are stored once more inside its first event's data
(one level deeper).  A ``terms`` value nested 30 levels deep is the deepest
MariaDB 11 stores; 24 leaves room.  Checked by :func:`freeze_json`, before any
database sees the value.
"""


def freeze_json(value: Any, argument: str, _depth: int = 0) -> Any:
    """Check that ``value`` is a JSON value and return a deep-frozen copy.

    Objects become :class:`FrozenDict`, arrays :class:`FrozenList`; strings,
    finite numbers, booleans and ``None`` stay as they are.

    Args:
        value: the value to check.
        argument: the argument name used in errors (``"terms"``).

    Returns:
        The frozen value (equal to ``value``).

    Raises:
        InvalidArgumentError: a key is not a string; a value is not JSON (a
            datetime, a set, an object), a float is NaN or infinite, a string
            holds a NUL byte or cannot be encoded as UTF-8, or objects and arrays
            nest more than :data:`MAX_JSON_DEPTH` (24) levels deep.

    >>> deep: dict[str, object] = {}
    >>> for _ in range(MAX_JSON_DEPTH):
    ...     deep = {"k": deep}
    >>> freeze_json(deep, "terms")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    keepword.errors.InvalidArgumentError: terms: is nested too deeply (more than 24 levels ...
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        check_text(value, argument)
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(
                f"must be JSON: {value!r} is not a finite number", argument=argument
            )
        return float(value)
    if isinstance(value, (Mapping, list, tuple)) and _depth >= MAX_JSON_DEPTH:
        raise InvalidArgumentError(
            f"is nested too deeply (more than {MAX_JSON_DEPTH} levels of objects and arrays)",
            argument=argument,
            fix="flatten it: every database keepword supports must accept it",
        )
    if isinstance(value, Mapping):
        if isinstance(value, FrozenDict):
            return value
        items: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgumentError(
                    f"must be JSON: object keys must be strings, not {type(key).__name__}",
                    argument=argument,
                )
            check_text(key, argument)
            items[str(key)] = freeze_json(item, argument, _depth + 1)
        return FrozenDict(items)
    if isinstance(value, (list, tuple)):
        if isinstance(value, FrozenList):
            return value
        return FrozenList(freeze_json(item, argument, _depth + 1) for item in value)
    raise InvalidArgumentError(
        f"must be JSON (str, int, float, bool, None, list, dict), not {type(value).__name__}",
        argument=argument,
        fix="convert datetimes to ISO strings and other objects to plain values",
    )


LEAVES = frozenset({str, int, float, bool, type(None)})
"""The types of JSON leaves: kept as they are, without a call each."""


def freeze_trusted(value: Any) -> Any:
    """Freeze JSON keepword built itself (already valid): no checks, just the types.

    Strings, numbers, booleans and ``None`` are kept without a call each.
    """
    kind = type(value)
    if kind is dict:
        return FrozenDict(
            {k: v if type(v) in LEAVES else freeze_trusted(v) for k, v in value.items()}
        )
    if kind is list or kind is tuple:
        return FrozenList(v if type(v) in LEAVES else freeze_trusted(v) for v in value)
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze_trusted(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(freeze_trusted(v) for v in value)
    return value


def thaw_json(value: Any) -> Any:
    """A plain, mutable copy (``dict``/``list``) of a frozen JSON value."""
    if isinstance(value, dict):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw_json(v) for v in value]
    return value
