"""The default floating-point dtype (float64, like a careful numerical code), and PyTorch's promotion.

float64 is the default because minigrad checks gradients against finite
differences, which need the extra precision. float32 data stays float32, also next to
a NumPy float64 scalar or a 0-d float64 tensor (:func:`result_dtype`, PyTorch's rule).
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


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < float


def number_dtype(x, like: np.dtype) -> np.dtype:
    """The dtype a number ``x`` (Python or NumPy scalar) takes next to a tensor of dtype ``like``.

    PyTorch's rule: a number never widens a tensor of its own category or higher
    (``float32 * np.float64(2)`` is float32); of a higher category it takes that category's
    default (the default float, int64 for integers).
    """
    kind = np.asarray(x).dtype.kind
    if _CATEGORY[kind] <= _CATEGORY.get(like.kind, 3):
        return like
    return {"b": np.dtype(np.bool_), "u": np.dtype(np.int64), "i": np.dtype(np.int64)}.get(kind, _default)


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's result dtype of an elementwise op on two tensors' arrays.

    A tensor with axes outranks a 0-d tensor: ``float32 tensor * 0-d float64 tensor`` is
    float32. The 0-d tensor decides only when its category is higher (``int tensor * 0-d
    float32`` is float32). Between equal ranks the higher category wins, else NumPy's promotion.
    """
    da, db = a.dtype, b.dtype
    ca, cb = _CATEGORY.get(da.kind, 3), _CATEGORY.get(db.kind, 3)
    if ca != cb:
        return da if ca > cb else db  # the higher category's dtype, whichever rank holds it
    if (a.ndim == 0) != (b.ndim == 0):
        return db if a.ndim == 0 else da  # same category: the tensor with axes decides
    return np.promote_types(da, db)
