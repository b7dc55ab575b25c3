"""``GradArray``: the type of ``.grad``, a NumPy array with PyTorch's in-place habits.

``.grad`` is a plain ``np.ndarray`` in every respect a student reads (the engine sums gradients
as arrays), plus what PyTorch programs do to a gradient:

- ``p.grad.zero_()`` sets it to zeros in place (PyTorch's in-place methods end in ``_``);
- ``p.grad[:] *= theta / norm`` works when ``norm`` is a minigrad Tensor outside the graph (a
  hand-written clip): a Tensor operand that does not require grad is read as its ``.data``.

Why a subclass and not a Tensor: ``.grad`` has always been an array here (``p.data -= lr * p.grad``,
``np.linalg.norm(p.grad)``), and an array is what the engine computes; making it a Tensor would
put a second autograd object where students expect numbers. The subclass stays small: only
``.grad`` itself is a ``GradArray``; arithmetic on it (``lr * p.grad``) gives plain arrays, so the
type never spreads into ``.data`` or optimizer state. It prints as ``array(...)``.
"""

from __future__ import annotations

import numpy as np

from minigrad.grad_mode import is_grad_enabled


class GradArray(np.ndarray):
    """A gradient: an ``np.ndarray`` with ``zero_()``, read by NumPy as a plain array."""

    def zero_(self) -> GradArray:
        """Set every element to 0, in place, and return ``self`` (``torch.Tensor.zero_``)."""
        self[...] = 0
        return self

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Compute as plain arrays; a Tensor operand outside the graph counts as its ``.data``.

        A Tensor that requires grad is left to the Tensor (``p.grad * w`` is then in the graph,
        or, written in place into the array, a clear error from the Tensor).
        """
        inputs = tuple(_plain(x) for x in inputs)
        if any(x is NotImplemented for x in inputs):
            return NotImplemented
        out = kwargs.get("out")
        if out:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out:  # in place (``g *= c``): the arrays written into, as given
            return out[0] if len(out) == 1 else out
        return result


def _plain(x):
    """``x`` as NumPy sees it: a GradArray as an ndarray, a Tensor outside the graph as its data."""
    if isinstance(x, GradArray):
        return x.view(np.ndarray)
    is_tensor = hasattr(x, "requires_grad") and isinstance(getattr(x, "data", None), np.ndarray)
    if is_tensor:  # (duck-typed: tensor.py imports the engine, which imports this file)
        return NotImplemented if x.requires_grad and is_grad_enabled() else x.data
    return x


def grad_array(g: np.ndarray, dtype: np.dtype) -> GradArray:
    """A copy of ``g`` (an array or a NumPy scalar) as a GradArray of ``dtype``: what ``backward`` stores."""
    return np.array(g, dtype=dtype).view(GradArray)  # a copy: g may be shared with another gradient
