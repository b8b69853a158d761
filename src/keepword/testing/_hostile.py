"""Hostile values: the strings, numbers and terms that break careless storage.

``HOSTILE_STRINGS`` is the one list of strings that break careless storage,
used by the store contracts, the strategies (``identifiers()``, ``texts()``)
and any test that wants them; exported as ``keepword.testing.HOSTILE_STRINGS``
and ``keepword.testing.strategies.HOSTILE_STRINGS``.

The Hypothesis strategies here draw what keepword accepts but a store finds
hard (:func:`hostile_texts`, :func:`hostile_identifiers`, :func:`deep_terms`,
:func:`boundary_ints`, :func:`boundary_priorities`) and what keepword must
refuse (:func:`invalid_texts`, :func:`invalid_identifiers`).  Import them
from :mod:`keepword.testing.strategies`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from keepword._json import MAX_JSON_DEPTH
from keepword._validate import MAX_IDENTIFIER
from keepword.escalation import MAX_PRIORITY

__all__ = [
    "HOSTILE_STRINGS",
    "boundary_ints",
    "boundary_priorities",
    "deep_terms",
    "hostile_identifiers",
    "hostile_texts",
    "invalid_identifiers",
    "invalid_texts",
]

HOSTILE_STRINGS: tuple[str, ...] = (
    "O'Brien",
    'say "hi"',
    'Robert"); --',
    "'; DROP TABLE keepword_commitments; --",
    "' OR '1'='1",
    "%_*?[]^$",
    "%_\\",
    "\\x00",
    "back\\slash \\' \\\" \\x00 \\n",
    "a\nb\r\nc\td",
    "\t\n\r",
    "  leading and trailing  ",
    " leading and trailing ",
    "x ",
    "аdmin",  # Cyrillic а
    "ＡＢＣ１２３",  # fullwidth
    "e\u0301",  # e + combining acute (NFD): must stay distinct from the precomposed form
    "\u00e9",  # é (NFC)
    "ß",
    "ǅ",
    "İstanbul",
    "zero\u200bwidth",
    "\u202eevil",  # right-to-left override
    "\u202eevil\u202c",  # ... and its pop
    "👍🏽",
    "🏳️‍🌈",
    "\U0001f600 caf\u00e9 \u00c5sa",
    "\U0001f4a9 \U0001d54f \U00010348",
    "中文 日本語 한국어 العربية עברית",
    "\x01\x1f\x7f\u0085\u2028\u2029\ufeff\uffff",
    "$1 {0} %s %(x)s :name ?",
    "x" * 255,  # the longest identifier
)
"""Strings that break careless storage: quotes, SQL and LIKE metacharacters,
escapes, whitespace at the edges, confusable and combining Unicode, emoji,
control characters, placeholders, a 255-character identifier.
Each is a valid identifier; none holds a NUL byte (refused everywhere)."""


#: Pieces that hostile strings are assembled from: each is valid text.
_PIECES: tuple[str, ...] = (
    "'",
    '"',
    "`",
    "\\",
    "\\\\",
    "%",
    "_",
    "[",
    "]",
    "^",
    "*",
    "?",
    ";",
    "--",
    "/*",
    "*/",
    "$1",
    ":p",
    "{}",
    "[]",
    "null",
    '{"a": 1}',
    '["x", null]',
    '"\\u0000"',
    "\\u0000",
    "\\x00",
    "ß",
    "ẞ",
    "SS",
    "İ",
    "i\u0307",
    "ı",
    "ﬃ",
    "Σ",
    "ς",
    "e\u0301",
    "\u00e9",
    "\u0301",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\U0010ffff",
    "\U0001f600",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f44d\U0001f3fd",
    "\U0001d54f",
    "\U00010348",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u05e2\u05d1\u05e8\u05d9\u05ea",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\x01",
    "\x1f",
    "\x7f",
    "\x85",
    "a",
    "Z",
    "0",
)

#: Whole texts beyond :data:`HOSTILE_STRINGS`: whitespace only, JSON-looking,
#: case-folding traps, and identifiers exactly at the length limit.
_EXTRA_TEXTS: tuple[str, ...] = (
    " ",
    "   ",
    "\t\n",
    "\u00a0\u3000",
    "null",
    "true",
    "0",
    "-0",
    "1e999",
    "NaN",
    '{"tenant": "other"}',
    "[1, 2, 3]",
    "ß",
    "ẞ",
    "SS",
    "ss",
    "İ",
    "i\u0307",
    "ﬃ",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\u200f\u0627\u200e",
    "%",
    "_",
    "\\",
    "\\%",
    "\\_",
    "x" * (MAX_IDENTIFIER - 1) + "%",
    "\U0001f600" * MAX_IDENTIFIER,  # 255 characters, 1020 UTF-8 bytes
    "\u00e9" * MAX_IDENTIFIER,  # 255 characters, 510 UTF-8 bytes
    "e" + "\u0301" * (MAX_IDENTIFIER - 1),  # one letter with 254 combining marks
    " " * MAX_IDENTIFIER,
)

#: Every character keepword accepts in text: all of Unicode but NUL and lone surrogates.
_ANY_CHARACTER = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_HARD_CHARACTER = st.one_of(
    _ANY_CHARACTER,
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    st.characters(categories=["Mn", "Me", "Cf", "Zs", "Zl", "Zp", "Cc"], exclude_characters="\x00"),
)


@st.composite
def _assembled(draw: st.DrawFn, min_size: int, max_size: int) -> str:
    """Pieces and hard characters glued together, cut to ``min_size..max_size`` characters."""
    parts = draw(st.lists(st.sampled_from(_PIECES) | _HARD_CHARACTER, min_size=1, max_size=12))
    value = "".join(parts) or "x"
    while len(value) < min_size:
        value += value  # repeat the hostile material up to the length asked for
    return value[:max_size]


def hostile_texts(*, max_size: int = 300) -> st.SearchStrategy[str]:
    """Free text keepword accepts (``what``, reasons, terms) that is hard for a store.

    Any Unicode but NUL and lone surrogates: astral characters, combining
    marks, right-to-left and zero-width marks, emoji ZWJ sequences,
    case-folding traps (``"ß"``, ``"ẞ"``, ``"İ"``), SQL metacharacters and
    ``LIKE`` wildcards, backslashes, quotes, JSON-looking text, control
    characters, whitespace only, and the empty string.  A store must read each
    back exactly as written.

    Args:
        max_size: the longest text drawn, in characters (at least 255, so the
            255-character values in the pool fit).

    >>> from hypothesis import given, settings
    >>> from keepword._validate import check_text
    >>> @settings(max_examples=30)
    ... @given(hostile_texts())
    ... def accepted(s):
    ...     assert check_text(s, "what") == s
    >>> accepted()
    """
    pool = tuple(t for t in HOSTILE_STRINGS + _EXTRA_TEXTS if len(t) <= max_size)
    return st.one_of(
        st.sampled_from(pool),
        _assembled(0, max_size),
        st.text(_HARD_CHARACTER, max_size=min(max_size, 40)),
        st.just(""),
    )


def hostile_identifiers() -> st.SearchStrategy[str]:
    """Identifiers keepword accepts (1-255 characters) that are hard for a store.

    The same hostile material as :func:`hostile_texts`, never empty, never
    longer than 255 characters, and often exactly 255: ASCII, accented
    (two UTF-8 bytes each), emoji (four bytes each), a letter with 254
    combining marks, 255 spaces.  Whitespace-only identifiers are valid.

    >>> from hypothesis import given, settings
    >>> from keepword._validate import check_identifier
    >>> @settings(max_examples=30)
    ... @given(hostile_identifiers())
    ... def accepted(s):
    ...     assert check_identifier(s, "customer") == s
    >>> accepted()
    """
    pool = tuple(t for t in HOSTILE_STRINGS + _EXTRA_TEXTS if 1 <= len(t) <= MAX_IDENTIFIER)
    return st.one_of(
        st.sampled_from(pool),
        _assembled(1, MAX_IDENTIFIER),
        _assembled(MAX_IDENTIFIER, MAX_IDENTIFIER),
        st.text(_HARD_CHARACTER, min_size=1, max_size=40),
    )


_LONE_SURROGATES = st.characters(categories=["Cs"])


@st.composite
def _spoiled(draw: st.DrawFn) -> str:
    """A valid text with a NUL or a lone surrogate put in at any position."""
    base = draw(st.sampled_from(HOSTILE_STRINGS[:12]) | _assembled(0, 20))
    bad = draw(st.just("\x00") | _LONE_SURROGATES)
    at = draw(st.integers(0, len(base)))
    return base[:at] + bad + base[at:]


def invalid_texts() -> st.SearchStrategy[str]:
    """Strings keepword refuses everywhere: a NUL byte or a lone surrogate, anywhere.

    Every value is refused as text and as an identifier, with an
    :class:`~keepword.errors.InvalidArgumentError` naming the argument.

    >>> from hypothesis import given, settings
    >>> from keepword._validate import check_text
    >>> from keepword.errors import InvalidArgumentError
    >>> @settings(max_examples=30)
    ... @given(invalid_texts())
    ... def refused(s):
    ...     try:
    ...         check_text(s, "what")
    ...     except InvalidArgumentError as exc:
    ...         assert exc.argument == "what"
    ...     else:
    ...         raise AssertionError(repr(s))
    >>> refused()
    """
    return st.one_of(
        _spoiled(),
        st.sampled_from(("\x00", "\ud800", "\udfff", "a\x00", "\udc00b", "\ud83d")),
    )


def invalid_identifiers() -> st.SearchStrategy[str]:
    """Strings keepword refuses as identifiers: :func:`invalid_texts`, ``""``, over 255 characters.

    >>> from hypothesis import given, settings
    >>> from keepword._validate import check_identifier
    >>> from keepword.errors import InvalidArgumentError
    >>> @settings(max_examples=30)
    ... @given(invalid_identifiers())
    ... def refused(s):
    ...     try:
    ...         check_identifier(s, "owner")
    ...     except InvalidArgumentError as exc:
    ...         assert exc.argument == "owner"
    ...     else:
    ...         raise AssertionError(repr(s))
    >>> refused()
    """
    return st.one_of(
        invalid_texts(),
        st.just(""),
        _assembled(MAX_IDENTIFIER + 1, 2 * MAX_IDENTIFIER).filter(
            lambda s: len(s) > MAX_IDENTIFIER
        ),
        st.sampled_from(("x" * (MAX_IDENTIFIER + 1), "\U0001f600" * (MAX_IDENTIFIER + 1))),
    )


# --------------------------------------------------------------------------- numbers

#: Integers where storage and arithmetic break: type widths, JSON's safe range, signs.
_INT_EDGES: tuple[int, ...] = tuple(
    sorted(
        {
            0,
            1,
            2,
            10,
            2**7 - 1,
            2**8,
            2**15 - 1,
            2**16,
            2**31 - 1,
            2**31,
            2**32 - 1,
            2**32,
            2**53 - 1,
            2**53,
            2**53 + 1,
            2**63 - 1,
            2**63,
            2**64 - 1,
            2**64,
            MAX_PRIORITY,
        }
        | {-n for n in (1, 2, 2**7, 2**15, 2**31, 2**31 + 1, 2**53, 2**63, 2**63 + 1, 2**64)}
    )
)


def boundary_ints(
    min_value: int | None = None, max_value: int | None = None
) -> st.SearchStrategy[int]:
    """Integers at the edges where storage breaks, and one step either side of the bounds.

    Draws from 0, 1, -1, 2**7-1, 2**15-1, 2**31-1, 2**31, 2**53, 2**63-1,
    2**63, 2**64 and their neighbours and negatives, plus ``min_value``,
    ``max_value`` and a few values next to them, all within the bounds given.
    Pass no bounds to probe a check (values on both sides of a range), or
    bounds to draw only valid values.

    Args:
        min_value: the smallest value drawn (default: none).
        max_value: the largest value drawn (default: none).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(boundary_ints(1, 2**63 - 1))
    ... def positive(n):
    ...     assert 1 <= n <= 2**63 - 1
    >>> positive()
    """
    lo = min_value if min_value is not None else -(2**64) - 1
    hi = max_value if max_value is not None else 2**64 + 1
    if lo > hi:
        raise ValueError(f"min_value {lo} is greater than max_value {hi}")
    near = {lo, lo + 1, lo + 2, hi, hi - 1, hi - 2}
    if min_value is None:
        near.discard(lo)
    if max_value is None:
        near.discard(hi)
    edges = sorted(n for n in set(_INT_EDGES) | near if lo <= n <= hi)
    return st.sampled_from(edges)


def boundary_priorities() -> st.SearchStrategy[int]:
    """Priorities keepword accepts, at their edges: 0, 1, 2, ..., ``MAX_PRIORITY`` (2**31-1).

    >>> from hypothesis import given, settings
    >>> from keepword.commitment import MAX_PRIORITY
    >>> @settings(max_examples=10)
    ... @given(boundary_priorities())
    ... def in_range(p):
    ...     assert 0 <= p <= MAX_PRIORITY
    >>> in_range()
    """
    return boundary_ints(0, MAX_PRIORITY)


# --------------------------------------------------------------------------- terms

_FLOAT_EDGES: tuple[float, ...] = (
    0.0,
    -0.0,
    5e-324,  # the smallest subnormal
    -5e-324,
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,  # the largest finite
    -1.7976931348623157e308,
    2.0**53,
    0.1,
    1e-7,
    1e21,
)

_TERM_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    boundary_ints(-(2**53), 2**53),
    st.integers(-(2**53), 2**53),
    st.sampled_from(_FLOAT_EDGES),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_texts(max_size=300),
)


@st.composite
def _deep_terms(draw: st.DrawFn, max_depth: int) -> dict[str, Any]:
    depth = draw(st.integers(1, max_depth) | st.just(max_depth))
    keys = hostile_texts(max_size=40)
    value: Any = draw(_TERM_SCALARS)
    for _ in range(depth - 1):
        if draw(st.booleans()):
            siblings = draw(st.dictionaries(keys, _TERM_SCALARS, max_size=2))
            value = {**siblings, draw(keys): value}  # the deep value wins a key clash
        else:
            value = [*draw(st.lists(_TERM_SCALARS, max_size=2)), value]
    terms = draw(st.dictionaries(keys, _TERM_SCALARS, max_size=3))
    terms[draw(keys)] = value
    return terms


def deep_terms(*, max_depth: int = MAX_JSON_DEPTH) -> st.SearchStrategy[dict[str, Any]]:
    """``terms`` objects keepword accepts, nested up to ``max_depth`` levels, with hostile content.

    The top object counts as the first level; objects and arrays nest inside
    it down to the limit keepword accepts (:data:`keepword._json.MAX_JSON_DEPTH`,
    24), often exactly to it.  Keys and strings come from
    :func:`hostile_texts`; numbers are boundary integers within +-2**53 (which
    every database's JSON keeps exact) and large, tiny, subnormal and negative
    zero floats (never NaN or infinity, which keepword refuses).

    Args:
        max_depth: the deepest nesting drawn, ``1..MAX_JSON_DEPTH``.

    >>> from hypothesis import given, settings
    >>> from keepword._json import freeze_json
    >>> @settings(max_examples=10)
    ... @given(deep_terms())
    ... def accepted(terms):
    ...     assert freeze_json(terms, "terms") == terms
    >>> accepted()
    """
    if not 1 <= max_depth <= MAX_JSON_DEPTH:
        raise ValueError(f"max_depth must lie within 1..{MAX_JSON_DEPTH}")
    return _deep_terms(max_depth)
