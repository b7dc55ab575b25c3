"""In-place updates with PyTorch's names (``add_``, ``mul_``, ``zero_``, ...), kept apart from tensor.py.

An in-place update changes ``data`` without recording anything in the graph. That is what an
optimizer step wants, and what would silently corrupt a gradient if the array were saved for a
backward pass that has not run yet: such arrays are read-only (``apply_op`` locks them), and
every method here checks first and says why it refuses. ``Tensor`` inherits these methods.
"""

from __future__ import annotations

import numpy as np

from minigrad import engine


class InPlaceMethods:
    """The in-place methods of :class:`minigrad.Tensor` (a mixin: it adds no attributes)."""

    __slots__ = ()

    def _inplace(self, name: str, other=None) -> np.ndarray | None:
        """Check that ``self.data`` may be overwritten; return ``other`` as an array that fits it."""
        if self.requires_grad and engine._GradMode.enabled:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.shape}) requires grad, and an in-place change "
                f"is not recorded in the graph; do it under `with minigrad.no_grad():` (as an "
                f"optimizer step does) or write it out of place (x = x + y)"
            )
        if not self.data.flags.writeable:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.shape}, dtype {self.dtype}) is saved for the "
                f"backward pass of a graph that has not run backward() yet, so its data is "
                f"read-only: changing it now would make that gradient silently wrong. Call "
                f"backward() first, or run the forward under minigrad.no_grad() if it needs no "
                f"gradient (or the array is a read-only NumPy view)"
            )
        if other is None:
            return None
        arr = np.asarray(other.data if isinstance(other, InPlaceMethods) else other)
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

    def add_(self, other) -> InPlaceMethods:
        """``self += other`` in place; returns ``self``."""
        np.add(self.data, self._inplace("add_", other), out=self.data, casting="same_kind")
        return self

    def sub_(self, other) -> InPlaceMethods:
        """``self -= other`` in place; returns ``self``."""
        np.subtract(self.data, self._inplace("sub_", other), out=self.data, casting="same_kind")
        return self

    def mul_(self, other) -> InPlaceMethods:
        """``self *= other`` in place; returns ``self``."""
        np.multiply(self.data, self._inplace("mul_", other), out=self.data, casting="same_kind")
        return self

    def div_(self, other) -> InPlaceMethods:
        """``self /= other`` in place (float tensors); returns ``self``."""
        np.divide(self.data, self._inplace("div_", other), out=self.data, casting="same_kind")
        return self

    def fill_(self, value) -> InPlaceMethods:
        """Set every element to ``value``; returns ``self``."""
        self.data[...] = self._inplace("fill_", value)
        return self

    def zero_(self) -> InPlaceMethods:
        """Set every element to 0; returns ``self``."""
        self._inplace("zero_")
        self.data[...] = 0
        return self

    def copy_(self, src) -> InPlaceMethods:
        """Copy ``src`` (broadcast to this shape) into ``self``; returns ``self``."""
        self.data[...] = self._inplace("copy_", src)
        return self

    def clamp_(self, min=None, max=None) -> InPlaceMethods:  # noqa: A002  (PyTorch's argument names)
        """Limit every element to ``[min, max]`` in place; returns ``self``."""
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        self._inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self


def writable_data(t: InPlaceMethods) -> np.ndarray:
    """``t.data``, ready to be overwritten in place by an initializer or ``load_state_dict``.

    If a graph still holds the array (read-only: a forward pass never backpropagated, e.g. an
    evaluation run without ``no_grad``), ``t`` gets a fresh copy (copy-on-write): that graph
    keeps the values it saw, and the write still happens.
    """
    if not t.data.flags.writeable:
        t.data = t.data.copy()
    return t.data
