"""Argument checks shared by the layers: one message format, one place.

A wrong argument should fail where it is passed, not later inside an op (or never: a truthy
``bias="no"`` would silently build a bias). NumPy scalars are accepted wherever Python
numbers are (``Dropout(np.float32(0.5))``), as in PyTorch.
"""

from __future__ import annotations

import numbers

import numpy as np

from minigrad.dtypes import get_default_dtype
from minigrad.tensor import Tensor

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def real_number(value, name: str, owner: str) -> float:
    """``value`` as a float if it is a real number (Python or NumPy, not a bool), else TypeError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def flag(value, name: str, owner: str) -> bool:
    """``value`` if it is a bool (or NumPy bool), else TypeError: ``"no"`` is truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool (True or False), got {value!r} ({type(value).__name__})")
    return bool(value)


def integer(value, name: str, owner: str) -> int:
    """``value`` as an int if it is a Python or NumPy integer (not a bool), else TypeError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


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
