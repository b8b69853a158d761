"""The ``keepword`` command line: what an operator runs.

``keepword demo | explain | config check | db upgrade|current|history | due |
tick | report | outbox drain``.  Every command takes ``--url`` (or
``KEEPWORD_URL``), ``--tenant`` (or ``KEEPWORD_TENANT``) and ``--config
keepword.toml`` (see :mod:`keepword.config`).  Exit codes: ``0`` success,
``1`` a failure (one line on stderr naming what to fix; ``--debug`` for the
traceback), ``2`` a usage error.  See docs/cli.md.
"""

from __future__ import annotations

from keepword.cli import _commands, _report, _tick
from keepword.cli._app import main

__all__ = ["main"]

_COMMANDS = (_commands, _report, _tick)  # imported for their commands
