"""The default floating-point dtype (float64, like a careful numerical code).

float64 is the default because minigrad checks gradients against finite
differences, which need the extra precision. float32 data stays float32.
"""

from __future__ import annotations

import numpy as np

_ALLOWED = (np.dtype(np.float32), np.dtype(np.float64))
_default = np.dtype(np.float64)


def set_default_dtype(dtype: np.dtype | type | str) -> None:
    """Set the dtype given to Python floats and lists (``float32`` or ``float64``)."""
    global _default
    try:
        d = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {dtype!r}") from e
    if d not in _ALLOWED:
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {d}")
    _default = d


def get_default_dtype() -> np.dtype:
    """Return the current default floating-point dtype."""
    return _default
