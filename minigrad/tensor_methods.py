"""The Tensor methods a PyTorch user reaches for, attached to Tensor at the end of this file.

NumPy's names stay primary (``reshape``, ``axis=``, ``keepdims=``); these are PyTorch's names for
the same things (``view``, ``unsqueeze``, ``dim=``, ``keepdim=``), the conversions to Python values
(``int(x)``, ``f"{loss:.3f}"``, ``x.tolist()``), and what happens when a NumPy function is handed a
Tensor (an error naming the minigrad function). Everything here is built from ops that already
exist: no new gradient formulas. Each method is a plain function of ``self``, assigned onto the
class in the block at the end, as in ``tensor_math.py`` (which says why).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np

from minigrad import creation, functional, grad_mode, serialization
from minigrad.functional import sqrt, where
from minigrad.tensor import Tensor
from minigrad.tensor_math import axis_args


def _axes(dims, ndim: int, name: str, extra: int = 0) -> list[int]:
    """Each of ``dims`` (an int or a tuple) as an index in [0, ndim + extra), checked."""
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or not -(ndim + extra) <= d < ndim + extra:
            raise IndexError(f"{name}: dim must be an int in [{-(ndim + extra)}, {ndim + extra}), got {d!r}")
        out.append(int(d) % (ndim + extra))
    return out


# NumPy ufuncs that Python operators call with a Tensor on the right (`ndarray + Tensor`), and the
# Tensor method that computes them: the Tensor answers, so the result stays in the graph.
_REFLECTED = {
    np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__", np.true_divide: "__rtruediv__",
    np.power: "__rpow__", np.matmul: "__rmatmul__", np.less: "__gt__", np.less_equal: "__ge__",
    np.greater: "__lt__", np.greater_equal: "__le__", np.equal: "__eq__", np.not_equal: "__ne__",
}  # fmt: skip
_MINIGRAD_NAMES = {"absolute": "abs", "true_divide": "divide", "amax": "max", "amin": "min"}


def _use_instead(numpy_name: str) -> str:
    name = _MINIGRAD_NAMES.get(numpy_name, numpy_name)
    if hasattr(functional, name) or hasattr(creation, name) or hasattr(serialization, name):
        return f"use minigrad.{name}(...) (differentiable), or np.{numpy_name}(x.data) for a plain array"
    return f"minigrad has no {numpy_name}; use np.{numpy_name}(x.data) on the plain array (no gradient)"


# ----- NumPy functions handed a Tensor ---------------------------------------------------
def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``ndarray + Tensor`` is the Tensor's ``__radd__``; any other ufunc (``np.exp(t)``) is an error."""
    if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in _REFLECTED:
        if inputs[1] is self and not isinstance(inputs[0], Tensor):
            return getattr(self, _REFLECTED[ufunc])(inputs[0])
    arrays = [x for x in inputs if isinstance(x, np.ndarray)]
    if arrays and method == "__call__":  # `array *= tensor`, `p.grad[:] *= c`: the user wrote an operator
        raise TypeError(_mixed_message(ufunc, arrays[0], self))
    raise TypeError(f"np.{ufunc.__name__} does not work on a minigrad Tensor: {_use_instead(ufunc.__name__)}")


def _mixed_message(ufunc, array: np.ndarray, t: Tensor) -> str:
    what = ".grad is" if type(array).__name__ == "GradArray" else "the left operand is"
    return (
        f"a NumPy array met a minigrad Tensor in an operation computed by NumPy ({ufunc.__name__}, e.g. "
        f"`array *= tensor`): {what} a NumPy array of shape {array.shape}, and the tensor (shape {t.shape}"
        f"{', requires_grad=True' if t.requires_grad else ''}) cannot be written into it; use `.data` for "
        f"the tensor's numbers, or wrap the array with `mg.tensor(...)` to compute with tensors"
    )


def array_function(self, func, types, args, kwargs):
    """``np.sum(t)``, ``np.concatenate([t, ...])``, ...: an error naming the minigrad function."""
    raise TypeError(f"np.{func.__name__} does not work on a minigrad Tensor: {_use_instead(func.__name__)}")


# ----- Python values -----------------------------------------------------------------
def _one_value(self, what: str, hint: str, error: type = ValueError):
    if self.size != 1:
        raise error(f"{what} needs a one-element tensor, got shape {self.shape}; {hint}")
    return self.data.item()


def to_float(self) -> float:
    """``float(x)`` of a one-element tensor."""
    return float(_one_value(self, "float()", "use x.tolist(), or pick one element: float(x[0])"))


def to_int(self) -> int:
    """``int(x)`` of a one-element tensor (truncated toward zero, as ``int(2.7)``)."""
    return int(_one_value(self, "int()", "use x.tolist(), or pick one element: int(x[0])"))


def to_bool(self) -> bool:
    """``if x:`` of a one-element tensor; for more elements say which: ``x.any()`` or ``x.all()``."""
    hint = "the truth value of several elements is ambiguous: use x.any() or x.all()"
    return bool(_one_value(self, "bool() (an `if` or `while` on a tensor)", hint))


def format_value(self, spec: str) -> str:
    """``f"{loss:.3f}"`` formats a one-element tensor's value; ``f"{x}"`` of any tensor is ``str(x)``."""
    if not spec:
        return str(self)
    hint = "format x.tolist() or one element x[i]"
    return format(_one_value(self, f"format spec {spec!r}", hint, TypeError), spec)


def iterate(self) -> Iterator[Tensor]:
    """Iterate over the first axis (each item a tensor in the graph); a 0-d tensor is not iterable."""
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor (as in NumPy): use x.item() for its value")
    return (self[i] for i in range(self.shape[0]))


def tolist(self) -> list | float | int | bool:
    """The values as nested Python lists (a number for a 0-d tensor), like ``ndarray.tolist``."""
    return self.data.tolist()


def numel(self) -> int:
    """The number of elements (PyTorch's ``numel()``; NumPy's ``x.size``)."""
    return int(self.data.size)


def dim(self) -> int:
    """The number of axes (PyTorch's ``dim()``; NumPy's ``x.ndim``)."""
    return self.ndim


# ----- shapes, PyTorch's names (all are reshapes) ------------------------------------------
def view(self, *shape) -> Tensor:
    """PyTorch's ``view``, here ``reshape``: a new tensor in the graph (it may copy, unlike PyTorch)."""
    return self.reshape(*shape)


def unsqueeze(self, dim: int) -> Tensor:
    """Insert an axis of size 1 at ``dim`` (in [-ndim - 1, ndim]), like ``torch.unsqueeze``."""
    (d,) = _axes(dim, self.ndim, "unsqueeze", extra=1)
    return self.reshape(self.shape[:d] + (1,) + self.shape[d:])


def squeeze(self, dim=None) -> Tensor:
    """Drop axes of size 1 (all, or those of ``dim``; a ``dim`` whose size is not 1 stays, as PyTorch)."""
    dims = range(self.ndim) if dim is None else _axes(dim, self.ndim, "squeeze")
    drop = {d for d in dims if self.shape[d] == 1}
    return self.reshape(tuple(n for d, n in enumerate(self.shape) if d not in drop))


def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim..end_dim`` (inclusive) into one, like ``torch.flatten``."""
    if self.ndim == 0:
        return self.reshape(1)
    s, e = _axes((start_dim, end_dim), self.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return self.reshape(self.shape[:s] + (-1,) + self.shape[e + 1:])


# ----- values computed from existing ops ----------------------------------------------------
def clone(self) -> Tensor:
    """A copy that stays in the graph (the gradient flows back through it), like ``torch.clone``."""
    if not (self.requires_grad and grad_mode.is_grad_enabled()):
        return type(self)(self.data.copy(), dtype=self.dtype)
    return self * 1  # a new array; x * 1 keeps -0.0, NaN and inf exactly, and its gradient is 1


def pow(self, exponent) -> Tensor:
    """``x ** exponent`` (``torch.pow``)."""
    return self**exponent


def matmul(self, other) -> Tensor:
    """``x @ other`` (``torch.matmul``)."""
    return self @ other


def maximum(self, other) -> Tensor:
    """Elementwise maximum (``torch.maximum``; also what PyTorch's ``x.max(other)`` means)."""
    return functional.maximum(self, other)


def minimum(self, other) -> Tensor:
    """Elementwise minimum (``torch.minimum``; also what PyTorch's ``x.min(other)`` means)."""
    return functional.minimum(self, other)


def neg(self) -> Tensor:
    """``-x`` (``torch.neg``)."""
    return -self


def clamp(self, min=None, max=None) -> Tensor:  # noqa: A002  (PyTorch's argument names)
    """Limit values to ``[min, max]``: PyTorch's name for ``clip``."""
    return self.clip(min, max)


def softmax(self, dim: int) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim`` (``minigrad.softmax``)."""
    return functional.softmax(self, axis=dim)


def log_softmax(self, dim: int) -> Tensor:
    """xᵢ − log Σⱼ exp(xⱼ) along ``dim`` (``minigrad.log_softmax``)."""
    return functional.log_softmax(self, axis=dim)


def std(
    self, axis_or_dim=None, ddof=None, keepdims: bool = False, *,
    axis=None, dim=None, keepdim=None, correction=None, unbiased=None,
) -> Tensor:  # fmt: skip
    """√var, with ``var``'s rule for NumPy's ``ddof`` (default 0) and PyTorch's ``correction`` (default 1);
    a bare ``x.std()`` is refused as ambiguous. Gradient 0 where std = 0."""
    return _sqrt_zero_safe(self.var(axis_or_dim, ddof, keepdims, axis=axis, dim=dim, keepdim=keepdim,
                                    correction=correction, unbiased=unbiased))


def norm(self, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (None: all elements), p = 1, 2 or inf, like ``torch.norm``.

    ‖x‖₂ = √(Σ x²), ‖x‖₁ = Σ |x|, ‖x‖∞ = max |x|. At x = 0 the 2-norm's gradient is 0, as in PyTorch.
    """
    if p == 2 or p == "fro":
        return _sqrt_zero_safe((self * self).sum(axis=dim, keepdims=keepdim))
    if p == 1:
        return self.abs().sum(axis=dim, keepdims=keepdim)
    if p == np.inf:
        return self.abs().max(axis=dim, keepdims=keepdim)
    raise ValueError(f"norm: p must be 1, 2 ('fro') or inf, got {p!r}")


# ----- indices and truth values (plain tensors, never part of the graph) -------------------
def _plain_reduction(self, fn, name: str, axis, keepdims, dim, keepdim) -> Tensor:
    """``fn`` (``np.argmax``, ``np.all``, ...) of the data over ``axis``: a plain tensor, as no gradient
    flows through an index or a truth value."""
    axis, keepdims = axis_args(name, axis, keepdims, dim, keepdim)
    return type(self)(fn(self.data, axis=axis, keepdims=keepdims))


def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Index of the maximum over ``axis`` (None: of the flattened tensor), int64, like ``np.argmax``."""
    return _plain_reduction(self, np.argmax, "argmax", axis, keepdims, dim, keepdim)


def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Index of the minimum over ``axis`` (None: of the flattened tensor), int64, like ``np.argmin``."""
    return _plain_reduction(self, np.argmin, "argmin", axis, keepdims, dim, keepdim)


def all(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """True where every element over ``axis`` is nonzero (a bool tensor), like ``np.all``."""
    return _plain_reduction(self, np.all, "all", axis, keepdims, dim, keepdim)


def any(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """True where some element over ``axis`` is nonzero (a bool tensor), like ``np.any``."""
    return _plain_reduction(self, np.any, "any", axis, keepdims, dim, keepdim)


def _sqrt_zero_safe(r: Tensor) -> Tensor:
    """√r, with gradient 0 (not 0·∞ = NaN, and no NumPy warning) where r = 0.

    √ has an infinite slope at 0. Where r is 0 the square root is taken of a constant 1 instead,
    and ``where`` sends that element's gradient to the constant: the value is 0, the gradient 0
    (the subgradient PyTorch's norm uses).
    """
    zero = r.data == 0
    if not zero.any():
        return sqrt(r)
    return where(zero, 0.0, sqrt(where(zero, 1.0, r)))


# ----- attach: each function above becomes a method of every Tensor -------------------
Tensor.__array_ufunc__ = array_ufunc
Tensor.__array_function__ = array_function
Tensor.__float__ = to_float
Tensor.__int__ = to_int
Tensor.__bool__ = to_bool
Tensor.__format__ = format_value
Tensor.__iter__ = iterate
Tensor.tolist = tolist
Tensor.numel = numel
Tensor.dim = dim
Tensor.view = view
Tensor.unsqueeze = unsqueeze
Tensor.squeeze = squeeze
Tensor.flatten = flatten
Tensor.clone = clone
Tensor.pow = pow
Tensor.matmul = matmul
Tensor.neg = neg
Tensor.maximum = maximum
Tensor.minimum = minimum
Tensor.clamp = clamp
Tensor.softmax = softmax
Tensor.log_softmax = log_softmax
Tensor.std = std
Tensor.norm = norm
Tensor.argmax = argmax
Tensor.argmin = argmin
Tensor.all = all
Tensor.any = any
