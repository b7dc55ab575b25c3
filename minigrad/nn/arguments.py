"""Argument checks shared by the layers: one message format, one place."""

from __future__ import annotations

import numpy as np


def positive_int(value, name: str, owner: str) -> int:
    """``value`` as an int; a ValueError naming ``owner`` and ``name`` unless it is an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)
