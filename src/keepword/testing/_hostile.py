"""``HOSTILE_STRINGS``: the one list of strings that break careless storage.

Used by the store contracts, the strategies (``identifiers()``, ``texts()``)
and any test that wants them; exported as ``keepword.testing.HOSTILE_STRINGS``
and ``keepword.testing.strategies.HOSTILE_STRINGS``.
"""

from __future__ import annotations

__all__ = ["HOSTILE_STRINGS"]

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
