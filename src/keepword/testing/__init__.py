"""The integrator's kit: the store contracts, the store state machine, strategies.

Public API.  Importing its contents needs pytest and hypothesis
(``pip install "keepword[testing]"``).

- :class:`StoreContract` (all ports), :class:`CommitmentRepositoryContract`,
  :class:`TickQueueContract`, :class:`OutboxContract`,
  :class:`TouchpointLogContract`, :class:`WaitlistContract`: pytest classes
  to subclass with a ``store`` fixture (:mod:`keepword.testing.contract`).
- :func:`fire_one`: fire one claimed commitment through ``fire_many``.
- :data:`HOSTILE_STRINGS`: strings that break careless storage.
- :func:`make_commitment`, :func:`next_state`, :func:`with_status`,
  :func:`assert_same_commitment`, :func:`notice_content`, :data:`T0`,
  :data:`LADDER`, :func:`make_touchpoint`, :func:`assert_same_touchpoint`:
  building blocks for store tests.
- :mod:`keepword.testing.stateful` (the state machine) and
  :mod:`keepword.testing.strategies` (Hypothesis strategies).

The names are loaded on first use, so that the pytest plugin
(:mod:`keepword.testing.plugin`, loaded in every project where keepword is
installed) imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepword.testing._fire import fire_one
    from keepword.testing._hostile import HOSTILE_STRINGS
    from keepword.testing.contract import (
        LADDER,
        T0,
        CommitmentRepositoryContract,
        OutboxContract,
        StoreContract,
        TickQueueContract,
        TouchpointLogContract,
        WaitlistContract,
        assert_same_commitment,
        assert_same_touchpoint,
        make_commitment,
        make_touchpoint,
        next_state,
        notice_content,
        with_status,
    )

__all__ = [
    "HOSTILE_STRINGS",
    "LADDER",
    "T0",
    "CommitmentRepositoryContract",
    "OutboxContract",
    "StoreContract",
    "TickQueueContract",
    "TouchpointLogContract",
    "WaitlistContract",
    "assert_same_commitment",
    "assert_same_touchpoint",
    "fire_one",
    "make_commitment",
    "make_touchpoint",
    "next_state",
    "notice_content",
    "with_status",
]

_HOME = {
    "HOSTILE_STRINGS": "keepword.testing._hostile",
    "fire_one": "keepword.testing._fire",
}


def __getattr__(name: str) -> Any:
    """Load a public name of the kit on first use."""
    if name not in __all__:
        raise AttributeError(f"module 'keepword.testing' has no attribute {name!r}")
    module = importlib.import_module(_HOME.get(name, "keepword.testing.contract"))
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
