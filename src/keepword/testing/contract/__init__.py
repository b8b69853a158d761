"""The store contracts: the pytest tests every storage port must pass, one contract per port.

- :class:`CommitmentRepositoryContract` (port ``"commitments"``): add, get,
  update, find, tenants, external references, round trips.
- :class:`TickQueueContract` (port ``"tick_queue"``): ``claim_due``,
  ``fire_many``, ``release``, ``next_action_at``.
- :class:`OutboxContract` (port ``"outbox"``): ``pending_notices``,
  ``claim_notices``, ``ack_notices``, ``release_notices``.
- :class:`TouchpointLogContract` (port ``"touchpoints"``): ``add_touchpoint``
  (idempotent on the ref), ``touchpoint_by_ref``, ``touchpoints``,
  ``thanks_by_customer``, ``extra_mile_candidate``, ``silent_customers``.
- :class:`WaitlistContract` (port ``"waitlists"``): ``serve_in_turn``,
  ``waiting`` and the fairness audit's questions.
- :class:`StoreContract`: all of them.

Subclass one (usually :class:`StoreContract`) in a test module, give it a
``store`` fixture that yields a fresh, empty store for each test, and pytest
runs every contract test against your store:

.. code-block:: python

    import pytest
    from keepword.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self):
            s = MyStore(...)
            yield s
            s.close()

A contract runs only the tests of the ports the store declares
(:func:`keepword.ports.declared_ports`, its ``ports`` attribute); every other
test is reported as skipped, with a reason that names the missing port.
A test that needs two ports (a tick that fires into the outbox) lives in the
contract of the port it pins down and is skipped when either is missing.
Backend differences are declared ``capabilities``, never class checks.

The contract classes are not collected themselves (their names do not start
with ``Test``), so importing them never runs anything twice.
Each test pins down one sentence of a docstring in :mod:`keepword.ports`.
Lease tests use a 1.5 s lease and wait 2 s of real time, so a store may
judge leases by its database's clock (and a loaded machine does not make
them flaky).

Example counts: register a Hypothesis profile named ``"keepword-contract"``
(:data:`CONTRACT_PROFILE`) before this package is imported to size the
contract separately from your other properties (a contract example costs
database round trips); without it the profile loaded at import applies.
Where arithmetic or state is involved the tests use Hypothesis; each example
works in a tenant of its own, so one store serves every example of a test.

Class attributes a subclass may override:

- ``threads`` (default 8): how many threads race in the concurrency tests;
  set it to ``0`` to skip them for a store that must not be shared between
  threads.
"""

from __future__ import annotations

from keepword.ports import Store
from keepword.testing._hostile import HOSTILE_STRINGS
from keepword.testing.contract._support import (
    CONTRACT_PROFILE,
    LADDER,
    T0,
    assert_same_commitment,
    make_commitment,
    next_state,
    notice_content,
    requires,
    with_status,
)
from keepword.testing.contract.outbox import OutboxContract
from keepword.testing.contract.repository import CommitmentRepositoryContract
from keepword.testing.contract.tick_queue import TickQueueContract
from keepword.testing.contract.touchpoints import (
    TouchpointLogContract,
    assert_same_touchpoint,
    make_touchpoint,
)
from keepword.testing.contract.waitlists import WaitlistContract

__all__ = [
    "CONTRACT_PROFILE",
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
    "make_commitment",
    "make_touchpoint",
    "next_state",
    "notice_content",
    "with_status",
]


class StoreContract(
    CommitmentRepositoryContract,
    TickQueueContract,
    OutboxContract,
    TouchpointLogContract,
    WaitlistContract,
):
    """Every behaviour :mod:`keepword.ports` promises, as pytest tests: every port's contract.

    Subclass it as ``TestSomethingStore`` and override the ``store`` fixture
    so that it yields a fresh, empty store (function scope) and closes it
    afterwards.  The tests of a port the store does not declare are skipped,
    naming the port.
    """

    @requires("commitments", "tick_queue", "outbox", "touchpoints")
    def test_a_store_with_every_port_satisfies_the_store_protocol(self, store: Store) -> None:
        """A store declaring every port is a ``keepword.ports.Store`` (it has every method)."""
        assert isinstance(store, Store)
