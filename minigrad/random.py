"""The one random number generator behind every initializer and dropout mask.

``minigrad.manual_seed(s)`` replaces it with a fresh ``numpy.random.Generator`` seeded
with ``s``, so that building a model and training it with dropout is reproducible,
like ``torch.manual_seed``. Code that needs randomness calls :func:`get_generator`
at the moment it draws (never keeps the generator it got at import time).
"""

from __future__ import annotations

import numbers

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed minigrad's generator (a new ``np.random.default_rng(seed)``) and return it."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The generator that initializers and dropout draw from."""
    return _generator
