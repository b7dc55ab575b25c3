"""minigrad's functions, with NumPy's names and arguments: ``minigrad.exp(x)``, ``minigrad.sum(x, axis=1)``.

Each builds one op from ``minigrad.ops`` (or, for ``split``, a few). Arguments may be
tensors, arrays or numbers; constants never require grad.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minigrad.arguments import describe, finite, int_tuple, integer, real_number
from minigrad.ops import (
    GELU,
    Abs,
    BroadcastTo,
    Clip,
    Concatenate,
    Exp,
    LeakyReLU,
    Log,
    LogSoftmax,
    MatMul,
    Maximum,
    Minimum,
    ReLU,
    Reshape,
    Sigmoid,
    Softmax,
    Sqrt,
    Stack,
    Tanh,
    Transpose,
    Where,
)  # fmt: skip
from minigrad.ops.reductions import normalize_axis
from minigrad.pytorch_rules import ValuesIndices
from minigrad.tensor import Tensor, apply_op
from minigrad.tensor_arguments import tensor_like
from minigrad.tensor_math import apply_binary

#: What the functions accept where a tensor is expected: a Tensor, or array-like data (a constant).
TensorLike = Tensor | np.ndarray | float | int | Sequence
#: NumPy's ``axis``: None (every axis), one axis, or a tuple of axes.
Axis = int | tuple[int, ...] | None
OptBool = bool | None  # PyTorch's keepdim: None means "not given" (keepdims decides)


def _tensors(xs, name: str) -> list[Tensor]:
    if isinstance(xs, (Tensor, np.ndarray, str)) or not isinstance(xs, Sequence) or len(xs) == 0:
        raise TypeError(f"{name}: arrays must be a non-empty sequence of tensors, got {describe(xs)}")
    return [tensor_like(x, f"arrays[{i}]", name) for i, x in enumerate(xs)]


def _operands(x1, x2, name: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors; a number takes the other operand's dtype (``x * 2.0`` stays float32)."""
    t1 = tensor_like(x1, "x1", name, x2 if isinstance(x2, Tensor) else None)
    return t1, tensor_like(x2, "x2", name, t1)


# ----- arithmetic (the operators, under NumPy's function names) --------------------------
def add(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 + x_2$ (broadcasting), like ``np.add``; the same op as ``x1 + x2``."""
    t1, t2 = _operands(x1, x2, "add")
    return t1 + t2


def subtract(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 - x_2$ (broadcasting), like ``np.subtract``."""
    t1, t2 = _operands(x1, x2, "subtract")
    return t1 - t2


def multiply(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 \odot x_2$ (broadcasting), like ``np.multiply``."""
    t1, t2 = _operands(x1, x2, "multiply")
    return t1 * t2


def divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 / x_2$ (broadcasting), like ``np.divide``."""
    t1, t2 = _operands(x1, x2, "divide")
    return t1 / t2


def power(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1^{x_2}$ (broadcasting; the exponent may be a tensor too), like ``np.power``."""
    t1, t2 = _operands(x1, x2, "power")
    return t1**t2


def negative(x: TensorLike) -> Tensor:
    r"""$-x$, like ``np.negative``."""
    return -tensor_like(x, "x", "negative")


# ----- elementwise --------------------------------------------------------------------
def exp(x: TensorLike) -> Tensor:
    r"""$e^x$ elementwise."""
    return apply_op(Exp(), tensor_like(x, "x", "exp"))


def log(x: TensorLike) -> Tensor:
    r"""$\ln x$ elementwise."""
    return apply_op(Log(), tensor_like(x, "x", "log"))


def sqrt(x: TensorLike) -> Tensor:
    r"""$\sqrt{x}$ elementwise."""
    return apply_op(Sqrt(), tensor_like(x, "x", "sqrt"))


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - NumPy's name
    r"""$|x|$ elementwise."""
    return apply_op(Abs(), tensor_like(x, "x", "abs"))


def clip(a: TensorLike, a_min: float | None = None, a_max: float | None = None) -> Tensor:
    """Limit values to ``[a_min, a_max]`` (either may be None), like ``np.clip``."""
    a_min = None if a_min is None else real_number(a_min, "a_min", "clip")  # 1j would make the result complex
    a_max = None if a_max is None else real_number(a_max, "a_max", "clip")
    return apply_op(Clip(a_min, a_max), tensor_like(a, "a", "clip"))


def maximum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting), like ``np.maximum``."""
    return apply_binary(Maximum(), *_operands(x1, x2, "maximum"))


def minimum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting), like ``np.minimum``."""
    return apply_binary(Minimum(), *_operands(x1, x2, "minimum"))


def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """``x`` where ``condition`` is true, else ``y`` (broadcasting), like ``np.where``."""
    x = tensor_like(x, "x", "where", y if isinstance(y, Tensor) else None)
    return apply_op(Where(), tensor_like(condition, "condition", "where"), x, tensor_like(y, "y", "where", x))


def tanh(x: TensorLike) -> Tensor:
    r"""$\tanh(x)$ elementwise."""
    return apply_op(Tanh(), tensor_like(x, "x", "tanh"))


def sigmoid(x: TensorLike) -> Tensor:
    r"""$\sigma(x) = 1/(1+e^{-x})$ elementwise, without overflow."""
    return apply_op(Sigmoid(), tensor_like(x, "x", "sigmoid"))


def relu(x: TensorLike) -> Tensor:
    r"""$\max(x, 0)$ elementwise."""
    return apply_op(ReLU(), tensor_like(x, "x", "relu"))


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    r"""$x$ if $x > 0$ else ``negative_slope`` $\cdot x$."""
    return apply_op(
        LeakyReLU(finite(negative_slope, "negative_slope", "leaky_relu")), tensor_like(x, "x", "leaky_relu")
    )


def gelu(x: TensorLike, approximate: str = "none") -> Tensor:
    r"""$x\,\Phi(x)$; ``approximate='tanh'`` for the tanh approximation."""
    return apply_op(GELU(approximate), tensor_like(x, "x", "gelu"))


def softmax(x: TensorLike, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``axis`` (or PyTorch's ``dim``)."""
    axis = _one_axis("softmax", axis, dim)
    return apply_op(Softmax(axis), tensor_like(x, "x", "softmax"))


def log_softmax(x: TensorLike, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """xᵢ − log Σⱼ exp(xⱼ) along ``axis`` (or PyTorch's ``dim``)."""
    axis = _one_axis("log_softmax", axis, dim)
    return apply_op(LogSoftmax(axis), tensor_like(x, "x", "log_softmax"))


def _one_axis(name: str, axis: int, dim: int | None, default: int = -1) -> int:
    """``axis``, or PyTorch's alias ``dim`` (``axis`` left at its default); both given is an error."""
    if dim is None:
        return axis
    if axis != default:
        raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; pass one of them (they are aliases)")
    return dim


# ----- linear algebra -------------------------------------------------------------------
def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Matrix product with NumPy's ``@`` semantics (1-D operands and batches)."""
    return apply_op(MatMul(), tensor_like(x1, "x1", "matmul"), tensor_like(x2, "x2", "matmul"))


# ----- reductions -----------------------------------------------------------------------
def sum(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (None: all), like ``np.sum`` (``dim``/``keepdim``: PyTorch's names)."""
    return tensor_like(a, "a", "sum").sum(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def mean(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:
    """Mean over ``axis``, like ``np.mean`` (or PyTorch's ``dim``/``keepdim``)."""
    return tensor_like(a, "a", "mean").mean(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def var(
    a: TensorLike, axis_or_dim: Axis = None, ddof: int | None = None, keepdims: bool = False, *,
    axis: Axis = None, dim: Axis = None, keepdim: OptBool = None, correction: int | None = None,
    unbiased: OptBool = None,
) -> Tensor:  # fmt: skip
    """Variance dividing by n - ddof: NumPy's ``ddof`` (default 0) or PyTorch's ``correction`` (default 1),
    decided by the arguments named; ``var(a)`` alone is ambiguous, an error (``Tensor.var``)."""
    return tensor_like(a, "a", "var").var(axis_or_dim, ddof, keepdims, axis=axis, dim=dim, keepdim=keepdim,
                                          correction=correction, unbiased=unbiased)


def max(
    a: TensorLike, dim: Axis | Tensor = None, keepdim: OptBool = None, *, axis: Axis = None, keepdims: bool = False
) -> Tensor | ValuesIndices:  # noqa: A001
    """Maximum: PyTorch's ``(values, indices)`` along ``dim``, NumPy's values over ``axis=`` (``Tensor.max``)."""
    return tensor_like(a, "a", "max").max(dim, keepdim, axis=axis, keepdims=keepdims)


def min(
    a: TensorLike, dim: Axis | Tensor = None, keepdim: OptBool = None, *, axis: Axis = None, keepdims: bool = False
) -> Tensor | ValuesIndices:  # noqa: A001
    """Minimum: PyTorch's ``(values, indices)`` along ``dim``, NumPy's values over ``axis=`` (``Tensor.min``)."""
    return tensor_like(a, "a", "min").min(dim, keepdim, axis=axis, keepdims=keepdims)


def logsumexp(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:
    """log Σ eᵃ over ``axis``, computed stably (``scipy.special.logsumexp``'s name; ``dim`` as PyTorch)."""
    return tensor_like(a, "a", "logsumexp").logsumexp(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


# ----- shape ----------------------------------------------------------------------------
def reshape(a: TensorLike, newshape: int | Sequence[int]) -> Tensor:
    """Give ``a`` a new shape with the same number of elements, like ``np.reshape``."""
    return apply_op(Reshape(int_tuple(newshape, "newshape", "reshape", low=-1)), tensor_like(a, "a", "reshape"))


def transpose(a: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (None reverses them), like ``np.transpose``."""
    axes = None if axes is None else int_tuple(axes, "axes", "transpose", low=None, scalar=False)
    return apply_op(Transpose(axes), tensor_like(a, "a", "transpose"))


def permute(a: TensorLike, dims: Sequence[int]) -> Tensor:
    """PyTorch's name for ``transpose(a, axes)``."""
    return apply_op(
        Transpose(int_tuple(dims, "dims", "permute", low=None, scalar=False)), tensor_like(a, "a", "permute")
    )


def broadcast_to(array: TensorLike, shape: int | Sequence[int]) -> Tensor:
    """``array`` repeated to ``shape`` by broadcasting rules, like ``np.broadcast_to``."""
    return apply_op(BroadcastTo(int_tuple(shape, "shape", "broadcast_to")), tensor_like(array, "array", "broadcast_to"))


def concatenate(arrays: Sequence[TensorLike], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate`` (``minigrad.cat(xs, dim=1)`` as PyTorch)."""
    axis = integer(_one_axis("concatenate", axis, dim, default=0), "axis", "concatenate")
    return apply_op(Concatenate(axis), *_tensors(arrays, "concatenate"))


def stack(arrays: Sequence[TensorLike], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shape tensors along a new axis, like ``np.stack`` (or PyTorch's ``dim``)."""
    axis = integer(_one_axis("stack", axis, dim, default=0), "axis", "stack")
    return apply_op(Stack(axis), *_tensors(arrays, "stack"))


def split(
    ary: TensorLike, indices_or_sections: int | Sequence[int], axis: int | None = None, *, dim: int | None = None
) -> list[Tensor]:
    """Split into pieces, each a slice (a ``GetItem`` op): NumPy's ``np.split`` with ``axis=``, PyTorch's
    ``torch.split`` with ``dim=``.

    The two read the number differently: ``split(x, 2, axis=0)`` makes 2 equal pieces (NumPy), while
    ``split(x, 2, dim=0)`` makes pieces of size 2, the last one smaller if need be (PyTorch); a list
    is the split points for NumPy and the piece sizes for PyTorch. Naming neither is an error (README,
    "Calls the two libraries answer differently").
    """
    t = tensor_like(ary, "ary", "split")
    if t.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    if axis is not None and dim is not None:
        raise TypeError(f"split: got both axis={axis!r} (NumPy's split) and dim={dim!r} (PyTorch's); pass one")
    if axis is None and dim is None:
        raise TypeError(
            f"split: ambiguous call: NumPy's split(x, {indices_or_sections!r}) and PyTorch's read "
            f"{indices_or_sections!r} differently (a number of pieces or split points, a piece size or sizes); "
            f"say which with axis= (NumPy) or dim= (PyTorch)"
        )
    name = "axis" if dim is None else "dim"
    d = axis if dim is None else dim
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"split: {name} must be an int, got {d!r}")
    (d,) = normalize_axis(d, t.ndim, "split")  # axis=5 of a 2-D tensor is an error, not axis 1
    bounds = _numpy_bounds(indices_or_sections, t.shape[d], d) if dim is None else _pytorch_bounds(
        indices_or_sections, t.shape[d], d)  # fmt: skip
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = (slice(None),) * d + (slice(start, stop),)
        pieces.append(t[index])
    return pieces


def _numpy_bounds(indices_or_sections, n: int, axis: int) -> list[int]:
    """Where ``np.split`` cuts an axis of size ``n``: into equal sections, or at the given indices."""
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(
                f"split: indices_or_sections={indices_or_sections} does not divide axis {axis} "
                f"of size {n} into equal sections"
            )
        step = n // indices_or_sections  # 0 for an empty axis: every piece is empty, as in NumPy
        return [k * step for k in range(indices_or_sections + 1)]
    return [0, *int_tuple(indices_or_sections, "indices_or_sections", "split", low=None, scalar=False), n]


def _pytorch_bounds(split_size_or_sections, n: int, dim: int) -> list[int]:
    """Where ``torch.split`` cuts: every ``size`` elements (the last piece may be shorter), or by the sizes given."""
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        size = integer(split_size_or_sections, "indices_or_sections", "split", low=1)
        return [0, *range(size, n, size), n]
    sizes = int_tuple(split_size_or_sections, "indices_or_sections", "split", low=0, scalar=False)
    total = int(np.sum(sizes))  # (this module's own sum is the tensor one)
    if total != n:
        raise ValueError(f"split: the sizes {list(sizes)} must add up to dim {dim}'s size {n}, got {total}")
    return [0, *np.cumsum(sizes).tolist()]
