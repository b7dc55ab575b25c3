"""The Tensor methods that build one op each: operators, comparisons, indexing, shape, elementwise, reductions.

Each is a plain function of ``self``, and the block at the end of the file assigns it onto
:class:`~minigrad.tensor.Tensor` (``Tensor.__add__ = add``), as HIPS autograd's ``numpy_boxes.py``
does. ``minigrad/__init__.py`` imports this module once, so every ``Tensor`` has these methods; the
class itself (``tensor.py``) keeps only what a tensor *is*: its data, its flags, ``backward``.
The PyTorch-named methods are attached the same way by ``tensor_methods.py``, the in-place ones by
``inplace.py``.
"""

from __future__ import annotations

import numpy as np

from minigrad.dtypes import get_default_dtype, result_dtype
from minigrad.ops import (
    Abs,
    Add,
    Clip,
    Div,
    Exp,
    GetItem,
    Log,
    LogSumExp,
    MatMul,
    Max,
    Mean,
    Min,
    Mul,
    Neg,
    Pow,
    ReLU,
    Reshape,
    Sigmoid,
    Sqrt,
    Sub,
    Sum,
    Tanh,
    Transpose,
    Var,
)  # fmt: skip
from minigrad.ops.reductions import normalize_axis
from minigrad.pytorch_rules import ValuesIndices, values_and_indices, variance_ddof
from minigrad.tensor import Tensor, _new_tensor, _operand, apply_op, as_tensor


def axis_args(name: str, axis, keepdims: bool, dim=None, keepdim: bool | None = None) -> tuple:
    """``(axis, keepdims)`` from NumPy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim``.

    They are the same thing under two names; passing both names of one is an error.
    """
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; pass one of them (they are aliases)")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{name}: got both keepdims and keepdim; pass one of them (they are aliases)")
        keepdims = keepdim
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{name}: keepdims must be True or False, got {keepdims!r}")
    return axis, bool(keepdims)


def _refuse_bool_subtraction(da, db) -> None:
    raise TypeError(
        f"subtraction with a bool operand ({da} - {db}) is not supported (as in PyTorch): use "
        f"logical operations, or convert to a number dtype first"
    )


def apply_binary(op, a: Tensor, b: Tensor) -> Tensor:
    """``apply_op(op, a, b)`` with PyTorch's result dtype (``dtypes.result_dtype``).

    NumPy would make ``float32 tensor * 0-d float64 tensor`` float64; PyTorch keeps float32.
    An operand outside the graph is converted first; one that requires grad cannot be
    (its gradient must reach it), so the result is rounded to the dtype instead.
    """
    da, db = a.data.dtype, b.data.dtype
    if da == db and da.kind == "f":
        return apply_op(op, a, b)  # the common case
    if type(op) is Sub and "b" in (da.kind, db.kind):
        _refuse_bool_subtraction(da, db)
    dtype = result_dtype(a.data, b.data)
    if dtype.kind != "f" and type(op) is Div:  # true division of integers: the default float
        dtype = get_default_dtype()
    if da != dtype and not a.requires_grad:
        a = _new_tensor(a.data.astype(dtype))
    if db != dtype and not b.requires_grad:
        b = _new_tensor(b.data.astype(dtype))
    out = apply_op(op, a, b)
    if out.data.dtype != dtype:
        out.data = out.data.astype(dtype)
    return out



# ----- arithmetic operators ---------------------------------------------------
def add(self, other) -> Tensor:
    """``self + other`` (broadcasting): an ``Add`` op."""
    return apply_binary(Add(), self, _operand(other, self))


def radd(self, other) -> Tensor:
    """``other + self``: an ``Add`` op."""
    return apply_binary(Add(), _operand(other, self), self)


def sub(self, other) -> Tensor:
    """``self - other`` (broadcasting): a ``Sub`` op."""
    if isinstance(other, (bool, np.bool_)):
        _refuse_bool_subtraction(self.dtype, np.dtype(bool))
    return apply_binary(Sub(), self, _operand(other, self))


def rsub(self, other) -> Tensor:
    """``other - self``: a ``Sub`` op."""
    if isinstance(other, (bool, np.bool_)):
        _refuse_bool_subtraction(np.dtype(bool), self.dtype)
    return apply_binary(Sub(), _operand(other, self), self)


def mul(self, other) -> Tensor:
    """``self * other`` elementwise (broadcasting): a ``Mul`` op."""
    return apply_binary(Mul(), self, _operand(other, self))


def rmul(self, other) -> Tensor:
    """``other * self``: a ``Mul`` op."""
    return apply_binary(Mul(), _operand(other, self), self)


def truediv(self, other) -> Tensor:
    """``self / other`` elementwise (broadcasting): a ``Div`` op."""
    return apply_binary(Div(), self, _operand(other, self))


def rtruediv(self, other) -> Tensor:
    """``other / self``: a ``Div`` op."""
    return apply_binary(Div(), _operand(other, self), self)


def pow(self, other) -> Tensor:
    """``self ** other`` elementwise: a ``Pow`` op."""
    return apply_binary(Pow(), self, _operand(other, self))


def rpow(self, other) -> Tensor:
    """``other ** self``: a ``Pow`` op."""
    return apply_binary(Pow(), _operand(other, self), self)


def matmul(self, other) -> Tensor:
    """``self @ other``, NumPy's matmul rules: a ``MatMul`` op."""
    return apply_op(MatMul(), self, as_tensor(other))


def rmatmul(self, other) -> Tensor:
    """``other @ self``: a ``MatMul`` op."""
    return apply_op(MatMul(), as_tensor(other), self)


def neg(self) -> Tensor:
    """``-self``: a ``Neg`` op."""
    return apply_op(Neg(), self)


def pos(self) -> Tensor:
    """``+self`` is ``self``."""
    return self


# ----- comparisons: plain boolean tensors, never part of the graph ---------------
def _compare(self, other, fn) -> Tensor:
    """``fn(self, other)`` on the arrays: a plain bool tensor, never part of the graph."""
    other = other.data if isinstance(other, Tensor) else other
    return Tensor(fn(self.data, other))


def lt(self, other) -> Tensor:
    """``self < other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.less)


def le(self, other) -> Tensor:
    """``self <= other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.less_equal)


def gt(self, other) -> Tensor:
    """``self > other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.greater)


def ge(self, other) -> Tensor:
    """``self >= other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.greater_equal)


def eq(self, other) -> Tensor:
    """``self == other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.equal)


def ne(self, other) -> Tensor:
    """``self != other`` elementwise: a bool tensor outside the graph."""
    return _compare(self, other, np.not_equal)


# ----- indexing and shape -------------------------------------------------------
def getitem(self, index) -> Tensor:
    """``self[index]``, NumPy's indexing (slices, integer and boolean arrays): a ``GetItem`` op."""
    return apply_op(GetItem(_plain_index(index)), self)


def reshape(self, *shape) -> Tensor:
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one axis may be -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return apply_op(Reshape(shape), self)


def transpose(self, *axes) -> Tensor:
    """NumPy's transpose (no argument reverses the axes; a tuple permutes them), or with two axes
    PyTorch's ``transpose(dim0, dim1)``, which swaps them (``pytorch_rules.py``)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    elif len(axes) == 2:  # PyTorch's swap; NumPy would read (0, 1) of a 2-D tensor as "unchanged"
        a, b = (normalize_axis(d, self.ndim, "transpose")[0] for d in axes)
        order = list(range(self.ndim))
        order[a], order[b] = b, a
        axes = tuple(order)
    return apply_op(Transpose(axes or None), self)


def permute(self, *dims) -> Tensor:
    """PyTorch's name for ``transpose(axes)``."""
    return self.transpose(*dims)


# ----- elementwise functions -----------------------------------------------------
def exp(self) -> Tensor:
    """eˣ elementwise (``minigrad.exp``)."""
    return apply_op(Exp(), self)


def log(self) -> Tensor:
    """ln x elementwise (``minigrad.log``)."""
    return apply_op(Log(), self)


def sqrt(self) -> Tensor:
    """√x elementwise (``minigrad.sqrt``)."""
    return apply_op(Sqrt(), self)


def abs(self) -> Tensor:
    """|x| elementwise (``minigrad.abs``)."""
    return apply_op(Abs(), self)


def clip(self, a_min=None, a_max=None) -> Tensor:
    """Limit values to ``[a_min, a_max]`` (``minigrad.clip``)."""
    return apply_op(Clip(a_min, a_max), self)


def tanh(self) -> Tensor:
    """tanh(x) elementwise (``minigrad.tanh``)."""
    return apply_op(Tanh(), self)


def sigmoid(self) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ) elementwise, without overflow (``minigrad.sigmoid``)."""
    return apply_op(Sigmoid(), self)


def relu(self) -> Tensor:
    """max(x, 0) elementwise (``minigrad.relu``)."""
    return apply_op(ReLU(), self)


# ----- reductions (NumPy's axis / keepdims) ------------------------------------
def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Sum over ``axis`` (None: all axes), like ``ndarray.sum`` (``dim``/``keepdim``: PyTorch's names)."""
    axis, keepdims = axis_args("sum", axis, keepdims, dim, keepdim)
    return apply_op(Sum(axis, keepdims), self)


def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Mean over ``axis``, like ``ndarray.mean`` (or PyTorch's ``dim``/``keepdim``)."""
    axis, keepdims = axis_args("mean", axis, keepdims, dim, keepdim)
    return apply_op(Mean(axis, keepdims), self)


def var(
    self, axis_or_dim=None, ddof=None, keepdims: bool = False, *,
    axis=None, dim=None, keepdim=None, correction=None, unbiased=None,
) -> Tensor:  # fmt: skip
    """Variance over an axis, dividing by n - ddof: NumPy's call (``ddof``/``axis``, default 0) or
    PyTorch's (``correction``/``unbiased``/``dim``/``keepdim``, default 1); a bare ``x.var()`` is
    refused as ambiguous (``pytorch_rules.py``)."""
    numpy_named = axis is not None or ddof is not None or keepdims
    pytorch_named = dim is not None or keepdim is not None
    ddof = variance_ddof("var", ddof, correction, unbiased, numpy_named, pytorch_named)
    axis, keepdims = axis_args("var", _one_of("var", axis_or_dim, axis, dim), keepdims, None, keepdim)
    return apply_op(Var(axis, ddof, keepdims), self)


def max(self, dim=None, keepdim=None, *, axis=None, keepdims: bool = False) -> Tensor | ValuesIndices:
    """The maximum: PyTorch's ``(values, indices)`` along ``dim`` (positional or ``dim=``), NumPy's
    values over ``axis=`` (or a tuple of axes, or all); ``x.max(y)`` is ``maximum`` (``pytorch_rules.py``).
    Over ``axis``, tied maxima share the gradient equally (as ``torch.amax``)."""
    if isinstance(dim, Tensor):
        return self.maximum(dim)
    return _extremum(self, "max", Max, dim, keepdim, axis, keepdims)


def min(self, dim=None, keepdim=None, *, axis=None, keepdims: bool = False) -> Tensor | ValuesIndices:
    """The minimum: PyTorch's ``(values, indices)`` along ``dim``, NumPy's values over ``axis=`` (as ``max``)."""
    if isinstance(dim, Tensor):
        return self.minimum(dim)
    return _extremum(self, "min", Min, dim, keepdim, axis, keepdims)


def _extremum(self, name: str, op_class, dim, keepdim, axis, keepdims) -> Tensor | ValuesIndices:
    """``max`` or ``min``: one ``dim`` (not a tuple) is PyTorch's call, anything else NumPy's."""
    if dim is not None and not isinstance(dim, (tuple, list)):
        if axis is not None:
            raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; pass one of them")
        return values_and_indices(self, name, dim, axis_args(name, None, keepdims, None, keepdim)[1])
    axis, keepdims = axis_args(name, _one_of(name, dim, axis), keepdims, None, keepdim)
    return apply_op(op_class(axis, keepdims), self)


def _one_of(name: str, positional, axis, dim=None):
    """The axis, given positionally, as ``axis=`` or as ``dim=`` (aliases); given twice is an error."""
    if axis is not None and dim is not None:
        raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; pass one of them (they are aliases)")
    named = axis if dim is None else dim
    if positional is not None and named is not None:
        raise TypeError(f"{name}: got the axis twice, positionally ({positional!r}) and by name ({named!r})")
    return named if positional is None else positional


def logsumexp(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """log Σ eˣ over ``axis``, computed stably (``minigrad.logsumexp``)."""
    axis, keepdims = axis_args("logsumexp", axis, keepdims, dim, keepdim)
    return apply_op(LogSumExp(axis, keepdims), self)


def _plain_index(index):
    """Indices may contain tensors (e.g. class labels); the op needs plain arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


# ----- attach: each function above becomes a method of every Tensor -------------------
Tensor.__add__ = add
Tensor.__radd__ = radd
Tensor.__sub__ = sub
Tensor.__rsub__ = rsub
Tensor.__mul__ = mul
Tensor.__rmul__ = rmul
Tensor.__truediv__ = truediv
Tensor.__rtruediv__ = rtruediv
Tensor.__pow__ = pow
Tensor.__rpow__ = rpow
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = rmatmul
Tensor.__neg__ = neg
Tensor.__pos__ = pos
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__getitem__ = getitem
Tensor.reshape = reshape
Tensor.transpose = transpose
Tensor.permute = permute
Tensor.exp = exp
Tensor.log = log
Tensor.sqrt = sqrt
Tensor.abs = abs
Tensor.clip = clip
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
Tensor.sum = sum
Tensor.mean = mean
Tensor.var = var
Tensor.max = max
Tensor.min = min
Tensor.logsumexp = logsumexp
