"""Argument checks shared by the layers: one message format, one place.

A wrong argument should fail where it is passed, not later inside an op (or never: a truthy
``bias="no"`` would silently build a bias). The checks every module uses live in
``minigrad/arguments.py``; these are the ones only layers need.
"""

from __future__ import annotations

import numpy as np

from minigrad.arguments import flag, integer, real_number  # noqa: F401 (re-exported for the layers)
from minigrad.dtypes import get_default_dtype
from minigrad.tensor import Tensor

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype, owner: str) -> np.dtype:
    """float32 or float64 (``None``: the default dtype); anything else is a TypeError."""
    if dtype is None:
        return get_default_dtype()
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d not in _FLOATS:  # (dtype == None is True: np.dtype(None) is float64)
        raise TypeError(f"{owner}: dtype must be float32 or float64 (or None), got {dtype!r}")
    return d


def cast_overflows(arr: np.ndarray, dtype: np.dtype) -> bool:
    """Whether casting ``arr`` to ``dtype`` turns a finite value into inf (1e300 into float32)."""
    if arr.dtype.kind != "f" or np.finfo(arr.dtype).max <= np.finfo(dtype).max:
        return False
    finite = np.isfinite(arr)
    return bool(np.any(np.abs(arr[finite]) > np.finfo(dtype).max))


def check_dtype(t: Tensor, name: str, dtype: np.dtype, owner: str) -> None:
    """A state or input must have the parameters' dtype (as in PyTorch): mixing float32 and
    float64 would otherwise fail deep inside a step op, or silently promote."""
    if t.dtype != dtype:
        fix = f"convert {name} to {dtype}" + (f" or the module with .to(np.{t.dtype})" if t.dtype.kind == "f" else "")
        raise TypeError(f"{owner}: {name} must have the parameters' dtype {dtype}, got {t.dtype} ({fix})")


def positive_int(value, name: str, owner: str) -> int:
    """``value`` as an int; a ValueError naming ``owner`` and ``name`` unless it is an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)
