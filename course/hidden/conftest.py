"""The hidden graded tests' setup: the sealed process, the Hypothesis profiles, NumPy's FP errors.

The tests run in the grader's own process, beside the reference; every piece runs in the
sealed process (``sealed.call``: the probes in ``probes/``), whose answers come back as data.
Run directly (``pytest course/hidden``), the probes run here, on this tree, unsealed.
(These tests run on their own, outside ``tests/``, so ``tests/conftest.py`` does not apply.)
"""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from minigrad.course.sandbox import from_env

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", derandomize=True, max_examples=20, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

np.seterr(all="raise", under="ignore")


@pytest.fixture(scope="session")
def sealed():
    """Runs a probe where the pieces live and returns what they computed (arrays, numbers)."""
    process = from_env(Path(__file__).resolve().parent / "probes")
    yield process
    process.close()
