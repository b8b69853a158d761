"""A griffe extension for the docs site: doctest examples in docstrings render as code.

keepword's docstrings carry runnable ``>>>`` examples in their running text
(the test suite runs them with ``--doctest-modules``).  Markdown would read
the ``>>>`` prompts as nested block quotes and a printed list as a link, so
this extension fences every doctest block (from a ``>>>`` line to the next
blank line) as ``pycon`` before mkdocstrings renders the docstring.  It also
renders the reST roles some docstrings use (``:class:`Commitment```) as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_PROMPT = re.compile(r"^(\s*)>>>( |$)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`~?([^`]+)`")


def strip_roles(text: str) -> str:
    """``text`` with reST cross-reference roles rendered as inline code.

    >>> strip_roles("A :class:`~keepword.errors.ConflictError` is raised.")
    'A `keepword.errors.ConflictError` is raised.'
    """
    return _ROLE.sub(r"`\1`", text)


def fence_doctests(text: str) -> str:
    """``text`` with each doctest block wrapped in a ``pycon`` code fence.

    Blocks already inside a code fence are left as they are.

    >>> fence_doctests("Intro.\\n\\n>>> 1 + 1\\n2\\n\\nAfter.").splitlines()
    ['Intro.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'After.']
    """
    out: list[str] = []
    in_fence = False
    in_doctest = False
    indent = ""
    for line in text.splitlines():
        if in_doctest and not line.strip():
            out.append(f"{indent}```")
            in_doctest = False
        elif not in_doctest and _FENCE.match(line):
            in_fence = not in_fence
        elif not in_doctest and not in_fence and (match := _PROMPT.match(line)):
            indent = match.group(1)
            out.append(f"{indent}```pycon")
            in_doctest = True
        out.append(line)
    if in_doctest:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest blocks of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is None:
            return
        text = obj.docstring.value
        if ">>>" in text:
            text = fence_doctests(text)
        obj.docstring.value = strip_roles(text)
