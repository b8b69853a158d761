"""Shared test configuration: Hypothesis profiles.

``ci`` runs enough examples to matter (set by .ci/run through HYPOTHESIS_PROFILE=ci);
``dev`` is the quick default on a laptop.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
# few database round trips: it is sized on its own (keepword.testing.contract).
settings.register_profile("keepword-contract", settings.default, max_examples=200)
