"""Shared fixtures of the unit tests (browser tests keep theirs in tests/e2e/)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
