"""Calls that NumPy and PyTorch both accept but answer differently: which answer minigrad gives.

The rule (README, "Porting from PyTorch"): a call that can only be PyTorch's gets PyTorch's
answer; a call that can only be NumPy's gets NumPy's; a call both libraries read differently is
an error that names the two readings, so no habit from either library is silently wrong.

- ``x.max(1)``, ``x.max(dim=1)``, ``mg.max(x, 1)``: PyTorch's named tuple ``(values, indices)``;
  ``x.max(axis=1)`` and ``x.max((0, 1))``: NumPy's values. ``x.max(y)`` with a tensor ``y`` is
  PyTorch's elementwise ``maximum``. Same for ``min``.
- ``var``/``std``: NumPy divides by ``n - ddof`` with ``ddof=0``, PyTorch by ``n - correction`` with
  ``correction=1``. A call naming ``ddof``/``axis``/``keepdims`` is NumPy's, one naming
  ``correction``/``unbiased``/``dim``/``keepdim`` is PyTorch's, and a bare ``x.var()`` or
  ``x.var(0)`` is refused: its two readings give different numbers.
- ``x.transpose(0, 1)``: two axes are PyTorch's swap (NumPy reads them as a permutation, which for
  a 2-D tensor leaves it unchanged); ``x.transpose()`` and ``x.transpose((1, 0, 2))`` are NumPy's.
- ``split(x, 2, dim=0)`` is PyTorch's (pieces of size 2), ``split(x, 2, axis=0)`` NumPy's (2 pieces), and
  ``split(x, 2)`` is refused (``functional.split``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from minigrad.arguments import flag, integer
from minigrad.ops.reductions import normalize_axis

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "``(values, indices)`` of ``max``/``min`` along a dim, as ``torch.return_types.max``."


def values_and_indices(x, name: str, dim: int, keepdim) -> ValuesIndices:
    """PyTorch's ``x.max(dim)`` / ``x.min(dim)``: the extreme along ``dim`` and where it is.

    The values are picked from ``x`` at the indices (an indexing op), so the whole gradient of each
    value goes to the one element chosen, as in PyTorch (``x.max(axis=d)`` shares it among ties).
    """
    keepdim = flag(keepdim, "keepdim", name)
    (d,) = normalize_axis(integer(dim, "dim", name), max(x.ndim, 1), name)
    if x.ndim == 0:  # PyTorch allows dim 0 (or -1) of a 0-d tensor: the value itself, at index 0
        return ValuesIndices(x * 1, type(x)(np.array(0)))
    if x.shape[d] == 0:
        raise ValueError(f"{name}: dim {dim} of shape {x.shape} is empty; there is no {name}imum to take")
    pick = np.argmax if name == "max" else np.argmin  # the first one on ties and NaN, as PyTorch's CPU kernel
    where = np.expand_dims(pick(x.data, axis=d), d)  # the index, with dim kept as size 1
    index = list(np.indices(where.shape, sparse=True))  # every other axis: itself
    index[d] = where
    values, indices = x[tuple(index)], where
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return ValuesIndices(values, type(x)(indices))


def variance_ddof(name: str, ddof, correction, unbiased, numpy_named: bool, pytorch_named: bool) -> int:
    """The ``n - ddof`` divisor of a ``var``/``std`` call, by whose arguments it names (the module docstring)."""
    given = [(n, v) for n, v in (("ddof", ddof), ("correction", correction), ("unbiased", unbiased)) if v is not None]
    for arg, value in given:  # each value checked before asking whether they agree
        if arg == "unbiased":
            flag(value, arg, name)
        else:
            integer(value, arg, name, low=0)
    if len(given) > 1:
        shown = " and ".join(f"{n}={v!r}" for n, v in given)
        raise TypeError(f"{name}: got {shown}; pass one of them (ddof is NumPy's, correction/unbiased PyTorch's)")
    if given:
        arg, value = given[0]
        return int(value)  # unbiased=True is n - 1, False is n
    if pytorch_named:
        return 1  # PyTorch's default: the unbiased estimate
    if numpy_named:
        return 0  # NumPy's default
    raise TypeError(
        f"{name}: ambiguous call: NumPy's {name} divides by n (ddof=0), PyTorch's by n - 1 (correction=1); "
        f"say which, e.g. x.{name}(ddof=0) or x.{name}(dim=0) (PyTorch's default) or x.{name}(correction=1)"
    )
