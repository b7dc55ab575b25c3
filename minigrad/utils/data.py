"""``TensorDataset`` and ``DataLoader``, as in ``torch.utils.data``: mini-batches for a training loop.

>>> import minigrad as mg
>>> X, y = mg.arange(10.0).view(5, 2), mg.arange(5)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=2)
>>> [tuple(xb.shape) for xb, yb in loader]
[(2, 2), (2, 2), (1, 2)]

A loader with ``shuffle=True`` draws a new order each epoch (each ``for`` over it) from the given
``generator`` or minigrad's own (``manual_seed``). The order is NumPy's permutation, so it is
not the order PyTorch would draw from the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from minigrad.arguments import describe, flag, integer
from minigrad.functional import stack
from minigrad.random import Generator, generator_rng
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


class TensorDataset:
    """Samples ``i`` of several tensors of the same length: ``dataset[i]`` is ``(X[i], y[i], ...)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, got none")
        self.tensors = tuple(tensor_like(t, f"tensors[{k}]", "TensorDataset") for k, t in enumerate(tensors))
        lengths = [len(t) if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [t.shape for t in self.tensors]
            raise ValueError(f"TensorDataset: tensors must share the size of their first axis, got shapes {shapes}")

    def __getitem__(self, index) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class DataLoader:
    """Mini-batches of ``dataset``, like ``torch.utils.data.DataLoader``.

    ``batch_size`` samples per batch (the last one smaller unless ``drop_last``); with ``shuffle``
    the samples are taken in a new random order each epoch. A ``TensorDataset``'s batch is read
    with one index (``X[indices]``); any other dataset's samples (tuples of tensors or numbers, or
    tensors) are stacked along a new first axis.
    """

    def __init__(
        self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
        generator: Generator | None = None,
    ) -> None:  # fmt: skip
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got {describe(dataset)}")
        self.dataset = dataset
        self.batch_size = integer(batch_size, "batch_size", "DataLoader", low=1)
        self.shuffle = flag(shuffle, "shuffle", "DataLoader")
        self.drop_last = flag(drop_last, "drop_last", "DataLoader")
        generator_rng(generator, "DataLoader")  # checked now, drawn from at each epoch
        self.generator = generator

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        order = generator_rng(self.generator, "DataLoader").permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            yield self._batch(order[k * self.batch_size:(k + 1) * self.batch_size])

    def _batch(self, indices: np.ndarray):
        if isinstance(self.dataset, TensorDataset):
            return list(self.dataset[indices])  # PyTorch's default collate gives a list
        return _collate([self.dataset[int(i)] for i in indices])


def _collate(samples: list):
    """Stack samples into a batch: tuples field by field, tensors along a new axis, numbers into a tensor."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return [_collate([s[j] for s in samples]) for j in range(len(first))]
    if isinstance(first, Tensor):
        return stack(samples)
    return Tensor(np.array(samples))


__all__ = ["TensorDataset", "DataLoader"]
