"""The one random number generator behind every initializer and dropout mask.

``minigrad.manual_seed(s)`` replaces it with a fresh ``numpy.random.Generator`` seeded
with ``s``, so that building a model and training it with dropout is reproducible,
like ``torch.manual_seed``. Code that needs randomness calls :func:`get_generator`
at the moment it draws (never keeps the generator it got at import time).
"""

from __future__ import annotations

import numbers

import numpy as np

from minigrad.arguments import describe
from minigrad.device import check_device

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


class Generator:
    """A random number generator of its own, like ``torch.Generator``: ``Generator().manual_seed(42)``.

    Pass it as ``generator=`` (``randn``, ``rand``, ``randint``, ``randperm``, ``multinomial``,
    ``DataLoader``) to draw from it instead of minigrad's global generator. It wraps a
    ``numpy.random.Generator``, so its numbers are NumPy's, not PyTorch's, for the same seed.
    """

    def __init__(self, device: str = "cpu") -> None:
        check_device(device, "Generator")
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed`` (a non-negative int) and return this generator, as PyTorch does."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator started from."""
        return self._seed


def generator_rng(generator: Generator | None, owner: str) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or minigrad's global one for None."""
    if generator is None:
        return _generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be a minigrad.Generator or None, got {describe(generator)}")
    return generator.rng
