"""Hypothesis profiles: ``ci`` (derandomized, used by .ci/run and README) and ``dev`` (more examples).

Choose one with ``pytest --hypothesis-profile=ci`` (or ``dev``); the default is ``dev``.
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=20,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Any NumPy floating-point warning in a test is a bug (overflow in sigmoid, etc.).
np.seterr(all="raise", under="ignore")
