"""pytest plugin entry point (``pytest11``): keepword's fixtures for integrators' tests.

pytest loads this module in every project where keepword is installed, so it
does as little as possible: it imports nothing heavy at load time, registers
no hooks, changes no settings and loads no Hypothesis profile.
It only offers fixtures, which cost nothing unless a test asks for them:

- ``keepword_memory_store``: a fresh :class:`~keepword.stores.memory.MemoryStore`,
  closed after the test.  Handy as the ``store`` of a ``Tracker`` in a host's
  own tests, or as a reference to compare another store with.

Disable the plugin with ``-p no:keepword``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from keepword.stores.memory import MemoryStore

__all__ = ["keepword_memory_store"]


@pytest.fixture
def keepword_memory_store() -> Iterator[MemoryStore]:
    """A fresh, empty ``MemoryStore`` for one test; closed afterwards."""
    from keepword.stores.memory import MemoryStore

    store = MemoryStore()
    yield store
    store.close()
