"""``ElementCount``: what ``x.size`` returns, NumPy's number of elements and PyTorch's ``size()`` method.

NumPy programs read ``x.size`` as an int (``x.size == 6``, ``range(x.size)``); PyTorch programs
call it, ``x.size()`` for the shape and ``x.size(0)`` for one axis. An ``int`` that can be called
serves both without guessing which library the reader came from: it *is* the element count
(every int operation works), and calling it answers PyTorch's question.
"""

from __future__ import annotations

from minigrad.arguments import integer


class ElementCount(int):
    """The number of elements of a tensor of shape ``shape``; ``count(dim)`` is that axis's size."""

    def __new__(cls, shape: tuple[int, ...]) -> ElementCount:
        count = 1
        for n in shape:
            count *= n
        self = super().__new__(cls, count)
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        """``x.size()``: the shape (PyTorch's ``torch.Size``); ``x.size(d)``: the size of axis ``d``."""
        if dim is None:
            return self.shape
        d = integer(dim, "dim", "size")
        if not -len(self.shape) <= d < len(self.shape):
            raise IndexError(f"size: dim must be an int in [{-len(self.shape)}, {len(self.shape)}), got {dim!r}")
        return self.shape[d]

    def __reduce__(self):
        return (int, (int(self),))  # pickled as the plain number it is
