"""PyTorch's dtype names, bound to NumPy's types: ``dtype=minigrad.long``, ``x.dtype == minigrad.float32``.

A tensor's ``dtype`` is a ``numpy.dtype``, which compares equal to these (``np.dtype("float32") ==
np.float32``). As in PyTorch, ``float`` is float32 and ``int`` is int32 (``double`` and ``long`` are
the 64-bit ones); minigrad's *default* float is float64 (``set_default_dtype``). This module binds
the names ``float``, ``int`` and ``bool`` and so uses none of Python's.
"""

import numpy as np

float32 = np.float32
float64 = np.float64
double = np.float64
float = np.float32  # noqa: A001  (PyTorch's torch.float)
int64 = np.int64
long = np.int64
int32 = np.int32
int = np.int32  # noqa: A001  (PyTorch's torch.int)
int16 = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_  # noqa: A001  (PyTorch's torch.bool)

__all__ = ["float32", "float64", "double", "float", "int64", "long", "int32", "int", "int16", "int8",
           "uint8", "bool"]  # fmt: skip
