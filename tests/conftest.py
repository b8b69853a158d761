"""Shared test configuration: Hypothesis profiles, the ``store`` fixture, what a default run runs.

Hypothesis: ``ci`` runs enough examples to matter (set by .ci/run through
``HYPOTHESIS_PROFILE=ci``); ``dev`` is the quick default on a laptop.

Stores: ``store`` is a fresh, empty store on each backend of
:data:`tests.support.backends.STORES` (ids ``memory``, ``sqlite``,
``postgresql``, ``mariadb``); ``backend_url`` is the URL of each SQL backend.
The servers run when their URLs are set (see :mod:`tests.support.backends`).

Slow tests (``@pytest.mark.slow``: real processes, full-size scenarios) are
deselected unless ``KEEPWORD_TEST_SLOW=1`` is set (``.ci/run`` sets it) or
``-m`` picks tests by marker.  Skipped tests are summed up one line per reason.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from keepword.ports import Store
from tests.support.backends import SQL_BACKENDS, STORES, backend_url, open_backend

settings.register_profile(
    "ci",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
# The store contract runs every property against every backend, each example a
# few database round trips: under a profile bigger than CONTRACT_EXAMPLES (ci) it
# is held to that many (keepword.testing.contract reads this profile).  Under dev
# nothing is registered: the contract takes the loaded profile, and so do the
# quick contract runs that tests/test_kit_catches_bugs.py starts with a profile of
# their own (a registered contract profile would override theirs).
CONTRACT_EXAMPLES = 200
if settings.default.max_examples > CONTRACT_EXAMPLES:
    settings.register_profile("keepword-contract", settings.default, max_examples=CONTRACT_EXAMPLES)

# The helpers are imported as ``tests.support``; they hold no tests to collect.
collect_ignore = ["support"]

SLOW_VARIABLE = "KEEPWORD_TEST_SLOW"


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store: memory, SQLite, and the servers whose URLs are set.

    SQL stores get tables of their own (a unique prefix), dropped after the
    test; a connection the test left checked out of the pool fails it.
    """
    yield from open_backend(request.param, tmp_path)


@pytest.fixture(name="backend_url", params=SQL_BACKENDS)
def backend_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL of one SQL backend (a SQLite file, or a server from the environment)."""
    return backend_url(request.param, tmp_path)


def _runs_slow_tests(config: pytest.Config) -> bool:
    return bool(os.environ.get(SLOW_VARIABLE)) or bool(config.getoption("markexpr"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the slow tests unless asked for (``KEEPWORD_TEST_SLOW=1`` or ``-m``)."""
    if _runs_slow_tests(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
    config.stash[_SLOW_DESELECTED] = len(slow)


_SLOW_DESELECTED = pytest.StashKey[int]()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per skip reason (with a count), and how to run the deselected slow tests."""
    if "s" not in terminalreporter.reportchars:
        reasons = collections.Counter(
            _skip_reason(report) for report in terminalreporter.stats.get("skipped", [])
        )
        if reasons:
            terminalreporter.section("skipped, by reason", sep="-")
            for reason, count in reasons.most_common():
                terminalreporter.line(f"SKIPPED [{count}] {reason}")
    slow = terminalreporter.config.stash.get(_SLOW_DESELECTED, 0)
    if slow:
        terminalreporter.line(
            f"{slow} slow tests deselected: set {SLOW_VARIABLE}=1 to run them too"
            " (.ci/run does), or pick them with -m slow"
        )
