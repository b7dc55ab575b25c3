"""In-place updates with PyTorch's names (``add_``, ``mul_``, ``zero_``, ...), kept apart from tensor.py.

An in-place update changes ``data`` without recording anything in the graph. That is what an
optimizer step wants, and what would silently corrupt a gradient if the array were saved for a
backward pass that has not run yet: such arrays are read-only (``minigrad/safety.py`` locks
them), and every method here asks ``safety.writable`` first, which says why it refuses.
Each method is a plain function of ``self``, assigned onto ``Tensor`` at the end of this file (as in
``tensor_math.py``, which says why).
"""

from __future__ import annotations

import numpy as np

from minigrad import safety
from minigrad.tensor import Tensor


def _checked(self, name: str, other=None) -> np.ndarray | None:
    """Check (``safety.writable``) that ``self.data`` may be overwritten; return ``other`` as a fitting array."""
    safety.writable(self, method=name)
    if other is None:
        return None
    arr = np.asarray(other.data if isinstance(other, Tensor) else other)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: other must be a number or a numeric array/Tensor, got dtype {arr.dtype}")
    if not np.can_cast(arr.dtype, self.dtype, casting="same_kind"):
        raise TypeError(f"{name}: cannot write dtype {arr.dtype} into this {self.dtype} tensor")
    try:
        fits = np.broadcast_shapes(arr.shape, self.shape) == self.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: other of shape {arr.shape} does not broadcast to this tensor's shape {self.shape}"
        )
    return arr


def _update(self, ufunc, name: str, other) -> Tensor:
    """``self.data = ufunc(self.data, other)`` in ``self``'s own buffer, after ``_checked``; returns ``self``.

    ``casting="same_kind"`` lets a float64 number update a float32 tensor; a float for an int tensor
    never gets here (``_checked`` refuses it).
    """
    ufunc(self.data, _checked(self, name, other), out=self.data, casting="same_kind")
    return self


def add_(self, other) -> Tensor:
    """``self += other`` in place; returns ``self``."""
    return _update(self, np.add, "add_", other)


def sub_(self, other) -> Tensor:
    """``self -= other`` in place; returns ``self``."""
    return _update(self, np.subtract, "sub_", other)


def mul_(self, other) -> Tensor:
    """``self *= other`` in place; returns ``self``."""
    return _update(self, np.multiply, "mul_", other)


def div_(self, other) -> Tensor:
    """``self /= other`` in place (float tensors); returns ``self``."""
    return _update(self, np.divide, "div_", other)


def fill_(self, value) -> Tensor:
    """Set every element to ``value``; returns ``self``."""
    self.data[...] = _checked(self, "fill_", value)
    return self


def zero_(self) -> Tensor:
    """Set every element to 0; returns ``self``."""
    _checked(self, "zero_")
    self.data[...] = 0
    return self


def copy_(self, src) -> Tensor:
    """Copy ``src`` (broadcast to this shape) into ``self``; returns ``self``."""
    self.data[...] = _checked(self, "copy_", src)
    return self


def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002  (PyTorch's argument names)
    """Limit every element to ``[min, max]`` in place; returns ``self``."""
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    _checked(self, "clamp_")
    np.clip(self.data, min, max, out=self.data)
    return self


# ----- the in-place operators: x += y is x.add_(y), through the same checks --------------------
def iadd(self, other) -> Tensor:
    """``x += y`` in place (so ``with no_grad(): w -= lr * w.grad`` keeps ``w`` the same leaf)."""
    return _update(self, np.add, "+=", other)


def isub(self, other) -> Tensor:
    """``x -= y`` in place; refused for a tensor that requires grad unless under ``no_grad()``."""
    return _update(self, np.subtract, "-=", other)


def imul(self, other) -> Tensor:
    """``x *= y`` in place, under the same rules as ``+=``."""
    return _update(self, np.multiply, "*=", other)


def itruediv(self, other) -> Tensor:
    """``x /= y`` in place (float tensors), under the same rules as ``+=``."""
    return _update(self, np.divide, "/=", other)


# ----- attach: each function above becomes a method of every Tensor -------------------
Tensor.add_ = add_
Tensor.sub_ = sub_
Tensor.mul_ = mul_
Tensor.div_ = div_
Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_
Tensor.clamp_ = clamp_
Tensor.__iadd__ = iadd
Tensor.__isub__ = isub
Tensor.__imul__ = imul
Tensor.__itruediv__ = itruediv
