"""The hidden graded tests' setup: the project's Hypothesis profiles and NumPy's FP errors.

(These tests run on their own, outside ``tests/``, so ``tests/conftest.py`` does not apply.)
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", derandomize=True, max_examples=20, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

np.seterr(all="raise", under="ignore")
