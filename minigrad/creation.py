"""Tensor constructors with PyTorch's names: ``zeros``, ``ones``, ``full``, ``arange``, ``randn``, ...

Each returns a new leaf tensor and takes ``dtype`` and ``requires_grad`` as in PyTorch.
Sizes are given as PyTorch does, ``zeros(2, 3)`` or ``zeros((2, 3))``. Float tensors get the
default dtype (``minigrad.set_default_dtype``); the random ones (``randn``, ``rand``,
``randn_like``) draw from minigrad's generator, so ``minigrad.manual_seed(s)`` makes them
reproducible, as ``torch.manual_seed`` does.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import DTypeLike

from minigrad.arguments import describe, finite, flag, integer, numeric_dtype
from minigrad.device import check_device, device
from minigrad.dtypes import get_default_dtype
from minigrad.random import Generator, generator_rng
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like

Device = str | device | None  # "cpu" (or a minigrad.device): accepted and a no-op, as minigrad runs on the CPU only


def _size(size: tuple, name: str) -> tuple[int, ...]:
    """``(2, 3)`` from ``size=(2, 3)`` or ``size=((2, 3),)``: PyTorch's two spellings."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise TypeError(f"{name}: size must be non-negative ints, e.g. {name}(2, 3), got {size!r}")
    return tuple(int(s) for s in size)


def _dtype(dtype: DTypeLike, name: str, default: np.dtype | None = None) -> np.dtype:
    if dtype is None:
        return get_default_dtype() if default is None else default
    return numeric_dtype(dtype, "dtype", name)


def _float_dtype(dtype: DTypeLike, name: str, default: np.dtype | None = None) -> np.dtype:
    d = _dtype(dtype, name, default)
    if d.kind != "f":
        raise TypeError(f"{name}: dtype must be a float dtype (random normal/uniform values), got {d}")
    return d


def _leaf(data: np.ndarray, requires_grad: bool, device=None, owner: str = "tensor") -> Tensor:
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"requires_grad must be True or False, got {requires_grad!r}")
    if device is not None:
        check_device(device, owner)  # PyTorch's device=: the CPU is accepted, nothing else
    return Tensor(data, requires_grad=bool(requires_grad), dtype=data.dtype)


def zeros(*size: int, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None) -> Tensor:
    """A tensor of zeros of the given size, like ``torch.zeros(2, 3)``."""
    return _leaf(np.zeros(_size(size, "zeros"), dtype=_dtype(dtype, "zeros")), requires_grad, device, "zeros")


def ones(*size: int, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None) -> Tensor:
    """A tensor of ones of the given size, like ``torch.ones(2, 3)``."""
    return _leaf(np.ones(_size(size, "ones"), dtype=_dtype(dtype, "ones")), requires_grad, device, "ones")


def empty(*size: int, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None) -> Tensor:
    """An uninitialized tensor (``np.empty``: its values are whatever memory held), like ``torch.empty``."""
    return _leaf(np.empty(_size(size, "empty"), dtype=_dtype(dtype, "empty")), requires_grad, device, "empty")


def full(
    size, fill_value: float, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None
) -> Tensor:
    """A tensor of the given size filled with ``fill_value``, like ``torch.full((2, 3), 7.0)``.

    Without ``dtype`` the value decides, as in PyTorch: a bool gives bool, an int int64,
    a float the default dtype.
    """
    size = _size(size if isinstance(size, (tuple, list)) else (size,), "full")
    if isinstance(fill_value, (bool, np.bool_)):
        default = np.dtype(bool)
    elif isinstance(fill_value, numbers.Integral):
        default = np.dtype(np.int64)
    elif isinstance(fill_value, numbers.Real):
        default = get_default_dtype()
    else:
        raise TypeError(f"full: fill_value must be a real number, got {fill_value!r}")
    return _leaf(np.full(size, fill_value, dtype=_dtype(dtype, "full", default)), requires_grad, device, "full")


def arange(
    start: float, end: float | None = None, step: float = 1, dtype: DTypeLike = None, requires_grad: bool = False,
    device: Device = None,
) -> Tensor:
    """Values ``start, start + step, ...`` below ``end``, like ``torch.arange`` (``arange(5)`` is 0..4).

    Without ``dtype``: int64 if every argument is an int, else the default float dtype (PyTorch's rule).
    """
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise TypeError(f"arange: {name} must be a finite real number, got {v!r}")
    if step == 0:
        raise ValueError("arange: step must be nonzero, got 0")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step!r} points away from end {end!r} (start {start!r})")
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    d = _dtype(dtype, "arange", np.dtype(np.int64) if integral else None)
    return _leaf(np.arange(start, end, step).astype(d), requires_grad, device, "arange")


def linspace(
    start: float, end: float, steps: int, dtype: DTypeLike = None, requires_grad: bool = False,
    device: Device = None,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, like ``torch.linspace``."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise TypeError(f"linspace: steps must be a non-negative int, got {steps!r}")
    start, end = finite(start, "start", "linspace"), finite(end, "end", "linspace")
    d = _dtype(dtype, "linspace")
    return _leaf(np.linspace(start, end, int(steps)).astype(d), requires_grad, device, "linspace")


def eye(
    n: int, m: int | None = None, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None
) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m = n`` by default), like ``torch.eye``."""
    for name, v in (("n", n), ("m", n if m is None else m)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise TypeError(f"eye: {name} must be a non-negative int, got {v!r}")
    data = np.eye(int(n), None if m is None else int(m), dtype=_dtype(dtype, "eye"))
    return _leaf(data, requires_grad, device, "eye")


def randn(
    *size: int, generator: Generator | None = None, dtype: DTypeLike = None, requires_grad: bool = False,
    device: Device = None,
) -> Tensor:
    """Samples of N(0, 1), like ``torch.randn(2, 3)``, from ``generator`` or minigrad's (``manual_seed``)."""
    d = _float_dtype(dtype, "randn")
    draw = generator_rng(generator, "randn").standard_normal(_size(size, "randn"))
    return _leaf(draw.astype(d), requires_grad, device, "randn")


def rand(
    *size: int, generator: Generator | None = None, dtype: DTypeLike = None, requires_grad: bool = False,
    device: Device = None,
) -> Tensor:
    """Samples of U[0, 1), like ``torch.rand(2, 3)``, from ``generator`` or minigrad's (``manual_seed``)."""
    d = _float_dtype(dtype, "rand")
    return _leaf(generator_rng(generator, "rand").random(_size(size, "rand")).astype(d), requires_grad, device, "rand")


def randint(
    low: int, high: int | None = None, size: tuple[int, ...] | None = None, *, generator: Generator | None = None,
    dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high), int64, like ``torch.randint(low, high, size)``.

    As in PyTorch, ``randint(high, size)`` starts at 0, and ``size`` is a tuple.
    """
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,)), got none")
    low, high = integer(low, "low", "randint"), integer(high, "high", "randint")
    if high <= low:
        raise ValueError(f"randint: high must be greater than low, got low={low} and high={high}")
    size = _size(size if isinstance(size, (tuple, list)) else (size,), "randint")
    d = _dtype(dtype, "randint", np.dtype(np.int64))
    draw = generator_rng(generator, "randint").integers(low, high, size)
    return _leaf(draw.astype(d), requires_grad, device, "randint")


def randperm(
    n: int, *, generator: Generator | None = None, dtype: DTypeLike = None, requires_grad: bool = False,
    device: Device = None,
) -> Tensor:
    """A random permutation of 0..n-1, int64, like ``torch.randperm(n)``."""
    n = integer(n, "n", "randperm", low=0)
    d = _dtype(dtype, "randperm", np.dtype(np.int64))
    return _leaf(generator_rng(generator, "randperm").permutation(n).astype(d), requires_grad, device, "randperm")


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None
) -> Tensor:
    """Indices drawn with probability proportional to ``input``'s weights, int64, like ``torch.multinomial``.

    ``input`` is 1-D (one distribution) or 2-D (one per row), non-negative and not all zero; the
    weights need not sum to 1. Without ``replacement`` an index is drawn at most once, so a row
    needs at least ``num_samples`` nonzero weights.
    """
    w = np.asarray(tensor_like(input, "input", "multinomial").data, dtype=np.float64)
    num_samples = integer(num_samples, "num_samples", "multinomial", low=1)
    replacement = flag(replacement, "replacement", "multinomial")
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(f"multinomial: input must be 1-D or 2-D with at least one category, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("multinomial: input must hold finite, non-negative weights")
    rows = w.reshape(-1, w.shape[-1])
    if (rows.sum(axis=1) == 0).any():
        raise ValueError("multinomial: every distribution in input needs a positive weight somewhere")
    if not replacement and ((rows > 0).sum(axis=1) < num_samples).any():
        raise ValueError(
            f"multinomial: without replacement, num_samples={num_samples} needs that many nonzero weights per row"
        )
    rng = generator_rng(generator, "multinomial")
    draws = [rng.choice(len(p), num_samples, replace=replacement, p=p / p.sum()) for p in rows]
    return _leaf(np.array(draws, dtype=np.int64).reshape(w.shape[:-1] + (num_samples,)), False)


def _like(input, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {describe(input)}")
    return input


def zeros_like(input: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None) -> Tensor:
    """Zeros with ``input``'s shape and (unless ``dtype`` is given) dtype, like ``torch.zeros_like``."""
    x = _like(input, "zeros_like")
    return _leaf(np.zeros(x.shape, dtype=_dtype(dtype, "zeros_like", x.dtype)), requires_grad, device, "zeros_like")


def ones_like(input: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None) -> Tensor:
    """Ones with ``input``'s shape and (unless ``dtype`` is given) dtype, like ``torch.ones_like``."""
    x = _like(input, "ones_like")
    return _leaf(np.ones(x.shape, dtype=_dtype(dtype, "ones_like", x.dtype)), requires_grad, device, "ones_like")


def randn_like(
    input: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, device: Device = None
) -> Tensor:
    """N(0, 1) samples with ``input``'s shape and dtype, from minigrad's generator, like ``torch.randn_like``."""
    x = _like(input, "randn_like")
    d = _float_dtype(dtype, "randn_like", x.dtype)
    draw = generator_rng(None, "randn_like").standard_normal(x.shape)
    return _leaf(draw.astype(d), requires_grad, device, "randn_like")


__all__ = [
    "zeros", "ones", "empty", "full", "arange", "linspace", "eye", "randn", "rand", "randint", "randperm",
    "multinomial", "zeros_like", "ones_like", "randn_like",
]  # fmt: skip
