"""minigrad's functions, with NumPy's names and arguments: ``minigrad.exp(x)``, ``minigrad.sum(x, axis=1)``.

Each builds one op from ``minigrad.ops`` (or, for ``split``, a few). Arguments may be
tensors, arrays or numbers; constants never require grad.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
from minigrad.tensor import Tensor, apply_op, as_tensor
from minigrad.tensor_math import apply_binary

#: What the functions accept where a tensor is expected: a Tensor, or array-like data (a constant).
TensorLike = Tensor | np.ndarray | float | int | Sequence
#: NumPy's ``axis``: None (every axis), one axis, or a tuple of axes.
Axis = int | tuple[int, ...] | None
OptBool = bool | None  # PyTorch's keepdim: None means "not given" (keepdims decides)


def _tensors(xs, name: str) -> list[Tensor]:
    if isinstance(xs, (Tensor, np.ndarray)) or not isinstance(xs, Sequence) or len(xs) == 0:
        raise TypeError(f"{name}: expected a non-empty sequence of tensors, got {type(xs).__name__}")
    return [as_tensor(x) for x in xs]


# ----- arithmetic (the operators, under NumPy's function names) --------------------------
def add(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 + x_2$ (broadcasting), like ``np.add``; the same op as ``x1 + x2``."""
    return as_tensor(x1, x2 if isinstance(x2, Tensor) else None) + x2


def subtract(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 - x_2$ (broadcasting), like ``np.subtract``."""
    return as_tensor(x1, x2 if isinstance(x2, Tensor) else None) - x2


def multiply(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 \odot x_2$ (broadcasting), like ``np.multiply``."""
    return as_tensor(x1, x2 if isinstance(x2, Tensor) else None) * x2


def divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1 / x_2$ (broadcasting), like ``np.divide``."""
    return as_tensor(x1, x2 if isinstance(x2, Tensor) else None) / x2


def power(x1: TensorLike, x2: TensorLike) -> Tensor:
    r"""$x_1^{x_2}$ (broadcasting; the exponent may be a tensor too), like ``np.power``."""
    return as_tensor(x1, x2 if isinstance(x2, Tensor) else None) ** x2


def negative(x: TensorLike) -> Tensor:
    r"""$-x$, like ``np.negative``."""
    return -as_tensor(x)


# ----- elementwise --------------------------------------------------------------------
def exp(x: TensorLike) -> Tensor:
    r"""$e^x$ elementwise."""
    return apply_op(Exp(), as_tensor(x))


def log(x: TensorLike) -> Tensor:
    r"""$\ln x$ elementwise."""
    return apply_op(Log(), as_tensor(x))


def sqrt(x: TensorLike) -> Tensor:
    r"""$\sqrt{x}$ elementwise."""
    return apply_op(Sqrt(), as_tensor(x))


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - NumPy's name
    r"""$|x|$ elementwise."""
    return apply_op(Abs(), as_tensor(x))


def clip(a: TensorLike, a_min: float | None = None, a_max: float | None = None) -> Tensor:
    """Limit values to ``[a_min, a_max]`` (either may be None), like ``np.clip``."""
    return apply_op(Clip(a_min, a_max), as_tensor(a))


def maximum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting), like ``np.maximum``."""
    a = as_tensor(x1, x2 if isinstance(x2, Tensor) else None)
    return apply_binary(Maximum(), a, as_tensor(x2, a))


def minimum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting), like ``np.minimum``."""
    a = as_tensor(x1, x2 if isinstance(x2, Tensor) else None)
    return apply_binary(Minimum(), a, as_tensor(x2, a))


def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """``x`` where ``condition`` is true, else ``y`` (broadcasting), like ``np.where``."""
    x = as_tensor(x, y if isinstance(y, Tensor) else None)
    return apply_op(Where(), as_tensor(condition), x, as_tensor(y, x))


def tanh(x: TensorLike) -> Tensor:
    r"""$\tanh(x)$ elementwise."""
    return apply_op(Tanh(), as_tensor(x))


def sigmoid(x: TensorLike) -> Tensor:
    r"""$\sigma(x) = 1/(1+e^{-x})$ elementwise, without overflow."""
    return apply_op(Sigmoid(), as_tensor(x))


def relu(x: TensorLike) -> Tensor:
    r"""$\max(x, 0)$ elementwise."""
    return apply_op(ReLU(), as_tensor(x))


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    r"""$x$ if $x > 0$ else ``negative_slope`` $\cdot x$."""
    return apply_op(LeakyReLU(negative_slope), as_tensor(x))


def gelu(x: TensorLike, approximate: str = "none") -> Tensor:
    r"""$x\,\Phi(x)$; ``approximate='tanh'`` for the tanh approximation."""
    return apply_op(GELU(approximate), as_tensor(x))


def softmax(x: TensorLike, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``axis`` (or PyTorch's ``dim``)."""
    axis = _one_axis("softmax", axis, dim)
    return apply_op(Softmax(axis), as_tensor(x))


def log_softmax(x: TensorLike, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """xᵢ − log Σⱼ exp(xⱼ) along ``axis`` (or PyTorch's ``dim``)."""
    axis = _one_axis("log_softmax", axis, dim)
    return apply_op(LogSoftmax(axis), as_tensor(x))


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
    return apply_op(MatMul(), as_tensor(x1), as_tensor(x2))


# ----- reductions -----------------------------------------------------------------------
def sum(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (None: all), like ``np.sum`` (``dim``/``keepdim``: PyTorch's names)."""
    return as_tensor(a).sum(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def mean(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:
    """Mean over ``axis``, like ``np.mean`` (or PyTorch's ``dim``/``keepdim``)."""
    return as_tensor(a).mean(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def var(
    a: TensorLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False, *,
    dim: Axis = None, keepdim: OptBool = None,
) -> Tensor:  # fmt: skip
    """Variance over ``axis`` with NumPy's ``ddof`` (default 0, the biased estimate; PyTorch's is 1)."""
    return as_tensor(a).var(axis=axis, ddof=ddof, keepdims=keepdims, dim=dim, keepdim=keepdim)


def max(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:  # noqa: A001
    """Maximum over ``axis``, like ``np.max`` (values only, as ``torch.amax``)."""
    return as_tensor(a).max(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def min(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:  # noqa: A001
    """Minimum over ``axis``, like ``np.min`` (values only, as ``torch.amin``)."""
    return as_tensor(a).min(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def logsumexp(
    a: TensorLike, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: OptBool = None
) -> Tensor:
    """log Σ eᵃ over ``axis``, computed stably (``scipy.special.logsumexp``'s name; ``dim`` as PyTorch)."""
    return as_tensor(a).logsumexp(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


# ----- shape ----------------------------------------------------------------------------
def reshape(a: TensorLike, newshape: int | Sequence[int]) -> Tensor:
    """Give ``a`` a new shape with the same number of elements, like ``np.reshape``."""
    return apply_op(Reshape(tuple(np.atleast_1d(newshape).tolist())), as_tensor(a))


def transpose(a: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (None reverses them), like ``np.transpose``."""
    return apply_op(Transpose(None if axes is None else tuple(axes)), as_tensor(a))


def permute(a: TensorLike, dims: Sequence[int]) -> Tensor:
    """PyTorch's name for ``transpose(a, axes)``."""
    return transpose(a, dims)


def broadcast_to(array: TensorLike, shape: int | Sequence[int]) -> Tensor:
    """``array`` repeated to ``shape`` by broadcasting rules, like ``np.broadcast_to``."""
    return apply_op(BroadcastTo(tuple(np.atleast_1d(shape).tolist())), as_tensor(array))


def concatenate(arrays: Sequence[TensorLike], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate`` (``minigrad.cat(xs, dim=1)`` as PyTorch)."""
    axis = _one_axis("concatenate", axis, dim, default=0)
    return apply_op(Concatenate(axis), *_tensors(arrays, "concatenate"))


def stack(arrays: Sequence[TensorLike], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shape tensors along a new axis, like ``np.stack`` (or PyTorch's ``dim``)."""
    axis = _one_axis("stack", axis, dim, default=0)
    return apply_op(Stack(axis), *_tensors(arrays, "stack"))


def split(ary: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into pieces along ``axis``, like ``np.split``: each piece is a slice (a ``GetItem`` op)."""
    t = as_tensor(ary)
    if t.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"split: axis must be an int, got {axis!r}")
    (axis,) = normalize_axis(axis, t.ndim, "split")  # axis=5 of a 2-D tensor is an error, not axis 1
    n = t.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(
                f"split: indices_or_sections={indices_or_sections} does not divide axis {axis} "
                f"of size {n} into equal sections"
            )
        step = n // indices_or_sections  # 0 for an empty axis: every piece is empty, as in NumPy
        bounds = [k * step for k in range(indices_or_sections + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = (slice(None),) * axis + (slice(start, stop),)
        pieces.append(t[index])
    return pieces
