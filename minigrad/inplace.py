"""In-place updates with PyTorch's names (``add_``, ``mul_``, ``zero_``, ...), kept apart from tensor.py.

An in-place update changes ``data`` without recording anything in the graph. That is what an
optimizer step wants, and what would silently corrupt a gradient if the array were saved for a
backward pass that has not run yet: such arrays are read-only (``minigrad/safety.py`` locks
them), and every method here asks ``safety.writable`` first, which says why it refuses.
``Tensor`` inherits these methods.
"""

from __future__ import annotations

import numpy as np

from minigrad import safety


class InPlaceMethods:
    """The in-place methods of :class:`minigrad.Tensor` (a mixin: it adds no attributes)."""

    __slots__ = ()

    def _inplace(self, name: str, other=None) -> np.ndarray | None:
        """Check (``safety.writable``) that ``self.data`` may be overwritten; return ``other`` as a fitting array."""
        safety.writable(self, method=name)
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
