"""Shared fixtures of the unit tests (browser tests keep theirs in tests/e2e/)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from backends import BACKENDS
from hypothesis import HealthCheck, settings

from heatwidget.points.columns import ColumnOps


@pytest.fixture(params=list(BACKENDS))
def ops(request: pytest.FixtureRequest) -> ColumnOps:
    """Each column backend in turn: a check written once is tested on both."""
    return BACKENDS[request.param]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# ---- hypothesis profiles (tests/test_fuzz.py) -----------------------------------------------
# "ci": 2,000 examples a property, selected when CI is set (CI runs with CI=true); "dev": a
# quick pass for local runs. No deadline: the machine is shared, timings vary.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
