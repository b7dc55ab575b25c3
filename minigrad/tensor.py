r"""The Tensor: a NumPy array that remembers how it was made.

A tensor holds ``data`` (an ``np.ndarray``), ``grad`` (filled in by ``backward``),
``requires_grad``, and ``_op``: the op that produced it (``None`` for a leaf).
Calling an op on tensors (:func:`apply_op`) runs the op's ``forward`` on the
arrays and, when any input requires grad, links the result to the op, and the op
to its inputs. That chain of links *is* the computation graph; ``backward``
(in ``engine.py``) walks it in reverse.

Reading order: ``apply_op``, then ``Tensor.__init__``, the operators, ``backward``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from minigrad import engine, safety
from minigrad.anomaly import check_forward, user_site
from minigrad.dtypes import get_default_dtype
from minigrad.grad_mode import MODES
from minigrad.inplace import InPlaceMethods
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
from minigrad.tensor_methods import TensorMethods, axis_args


def apply_op(op, *inputs: Tensor) -> Tensor:
    """Run ``op`` on the inputs' arrays; if any input requires grad, link the result into the graph."""
    arrays, needs_grad = _arrays_and_flags(inputs)
    try:
        data = op(*arrays)  # y = f(x₁, ..., xₙ); the op saves what its vjp will need
    except ValueError as e:  # a shape error: say which shapes met
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"{op.name}: {e} (input shapes: {shapes})") from None
    out = _new_tensor(data)
    if MODES.anomaly_enabled:  # detect_anomaly(): remember where, and stop at the first NaN/inf
        op.site = user_site()
        check_forward(op, inputs, data, op.site)
    if MODES.grad_enabled and any(needs_grad):
        op.inputs = inputs  # the graph: out -> op -> inputs
        op.needs_grad = needs_grad
        out._op = op
        out.requires_grad = True
        safety.lock(op.saved)  # what vjp will read stays as forward saw it, until backward
    return out


def _arrays_and_flags(inputs: tuple) -> tuple:
    """The inputs' arrays and their ``requires_grad`` flags, as two tuples.

    That is ``[t.data for t in inputs]`` and ``[t.requires_grad for t in inputs]``, written
    out for the one- and two-input ops: on Python 3.11 each comprehension is a function call
    of its own, measured at about 100 ns each per op, together 10% of a small op's whole cost.
    """
    if len(inputs) == 2:
        a, b = inputs
        return (a.data, b.data), (a.requires_grad, b.requires_grad)
    if len(inputs) == 1:
        return (inputs[0].data,), (inputs[0].requires_grad,)
    return tuple([t.data for t in inputs]), tuple([t.requires_grad for t in inputs])


def _new_tensor(data: np.ndarray) -> Tensor:
    """A constant tensor around an array we already trust (an op's result, a detached view).

    ``Tensor.__init__`` converts and checks user data; an op's output needs neither, and
    skipping it measured about 1 µs per op (a 2,000-op chain is 2,000 of them).
    """
    t = Tensor.__new__(Tensor)
    t.data, t.grad, t.requires_grad, t._op, t._retains_grad = data, None, False, None, False
    return t


def _to_array(data, dtype, name: str = "data") -> np.ndarray:
    """Convert user data to a numeric array; Python floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data.data
    from_python = not isinstance(data, (np.ndarray, np.generic))
    if dtype is not None:
        try:
            np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a NumPy dtype (np.float32, 'float64', ...), got {dtype!r}") from None
    try:
        arr = np.array(data, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be numeric (a number, nested list or array), got {data!r}: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must have a bool, integer or float dtype, got {arr.dtype} from {data!r:.80} "
            f"(complex, object and string data are not supported)"
        )
    if dtype is None and from_python and arr.dtype.kind == "f":
        arr = arr.astype(get_default_dtype())
    return arr


def as_tensor(x: ArrayLike | Tensor, like: Tensor | None = None) -> Tensor:
    """``x`` if it is a Tensor, else a new constant (``requires_grad=False``) tensor.

    A Python number takes the dtype NumPy would give it next to ``like``
    (so ``x * 2.0`` stays float32 when ``x`` is float32).
    """
    if like is not None and not isinstance(like, Tensor):
        raise TypeError(f"as_tensor: like must be a Tensor or None, got {like!r:.60} ({type(like).__name__})")
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, numbers.Number):
        return _new_tensor(np.asarray(x, dtype=_number_dtype(x, like)))
    return Tensor(x)


def _number_dtype(x, like: Tensor) -> np.dtype:
    """The dtype of ``like <op> x`` for a number ``x``, as NumPy's promotion gives it."""
    dtype = like.data.dtype
    if dtype.kind == "f" and (type(x) is float or type(x) is int):
        return dtype  # NumPy keeps a float array's dtype next to a Python number; result_type costs ~1 µs
    if isinstance(x, (complex, np.complexfloating)):  # np.complex64 is not a Python complex
        raise TypeError(f"complex numbers are not supported: got {x!r} next to a {like.dtype} tensor")
    return np.result_type(like.data, x)


def _operand(x, like: Tensor) -> Tensor:
    """The other operand of an operator on ``like``: a tensor, or a constant for a number.

    ``h * 1.01`` inside a loop over time steps would build the same constant every step, so a
    Python float or int next to a float tensor gets a shared constant (:func:`_shared_constant`);
    anything else is converted by :func:`as_tensor`.
    """
    if isinstance(x, Tensor):
        return x
    # type() rather than isinstance(x, numbers.Number), an ABC check measured at ~1 µs
    if (type(x) is float or type(x) is int) and like.data.dtype.kind == "f":
        return _shared_constant(x, like.data.dtype)  # NumPy keeps the float dtype next to a Python number
    return as_tensor(x, like)


def _shared_constant(x: float, dtype: np.dtype) -> Tensor:
    """One read-only constant tensor per (number, dtype), reused by every ``x * 1.01``.

    The cache is private: ``as_tensor`` never returns a shared constant, whose ``.data`` a
    user could replace for every later ``x * 1.01`` in the process. ``0.0 == -0.0``, so the
    key carries the sign of a zero to keep the two apart.
    """
    key = (x, dtype) if x else (x, dtype, math.copysign(1.0, x))
    t = _CONSTANTS.get(key)
    if t is None:
        if len(_CONSTANTS) >= 1024:
            _CONSTANTS.clear()
        t = _CONSTANTS[key] = _new_tensor(safety.lock_constant(np.asarray(x, dtype=dtype)))
    return t


_CONSTANTS: dict = {}  # (number, dtype) -> shared read-only constant Tensor, for _shared_constant


class Tensor(InPlaceMethods, TensorMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_op", "_retains_grad", "__weakref__")
    # NumPy interop (`ndarray + Tensor`, `np.exp(t)` -> an error naming minigrad.exp), PyTorch's
    # names, int()/float()/f"{x:.3f}" and `x -= y` in place are in tensor_methods.py.

    def __init__(self, data: ArrayLike | Tensor, requires_grad: bool = False, dtype: DTypeLike = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad = None
        self._op = None
        self._retains_grad = False
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    # ----- attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each axis, as in NumPy."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of ``data`` (and of ``grad``)."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op (they receive ``.grad``)."""
        return self._op is None

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (NumPy's ``.T``)."""
        return self.transpose()

    def __len__(self) -> int:
        """The size of the first axis (a 0-d tensor has no length)."""
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self) -> str:
        """``tensor([...])``, with ``dtype=`` when not the default and ``requires_grad=True`` when set."""
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.dtype != get_default_dtype() and self.dtype.kind == "f":
            extra = f", dtype={self.dtype}" + extra
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(x)``: the data, as a plain array (outside the graph)."""
        return self.data if dtype is None else self.data.astype(dtype)

    __hash__ = object.__hash__  # __eq__ is elementwise, yet tensors stay usable as dict keys

    # ----- leaving the graph ------------------------------------------------------
    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return _new_tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf, in place; return ``self``."""
        if not isinstance(requires_grad, (bool, np.bool_)):  # "yes" is truthy, and so is "no"
            raise TypeError(f"requires_grad must be a bool (True or False), got {requires_grad!r}")
        if requires_grad and self.data.dtype.kind not in "f":
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, got dtype {self.data.dtype}; "
                f"convert it first, e.g. tensor(data, dtype=np.float64)"
            )
        if not self.is_leaf and not requires_grad:
            raise ValueError("requires_grad_(False) on a non-leaf tensor: use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward`` (leaves always keep it)."""
        if not self.requires_grad:
            raise ValueError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset ``.grad``: to ``None`` (PyTorch's default) or to zeros."""
        self.grad = None if set_to_none or self.grad is None else np.zeros_like(self.grad)

    # ----- backward ---------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Compute ∂self/∂leaf for every leaf, accumulating into ``.grad``.

        ``grad`` is ∂L/∂self; it may be omitted for a
        one-element tensor (it is then 1, i.e. self *is* the loss).

        As in PyTorch, backward frees the graph it walked (and makes the arrays it saved
        writable again); a second backward through it is an error unless the first one
        was called with ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad)"
            )
        if grad is None:
            if self.size != 1:
                raise ValueError(
                    f"backward(): grad can be omitted only for one-element outputs, but this "
                    f"tensor has shape {self.shape}; pass grad= of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if grad.dtype.kind not in "biuf":
                raise TypeError(f"backward(): grad must be a numeric array of shape {self.shape}, got {grad.dtype}")
            grad = grad.astype(self.data.dtype, copy=False)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad must have shape {self.shape}, got {grad.shape}")
        engine.backward(self, grad, retain_graph)

    # ----- arithmetic operators ---------------------------------------------------
    def __add__(self, other) -> Tensor:
        """``self + other`` (broadcasting): an ``Add`` op."""
        return apply_op(Add(), self, _operand(other, self))

    def __radd__(self, other) -> Tensor:
        """``other + self``: an ``Add`` op."""
        return apply_op(Add(), _operand(other, self), self)

    def __sub__(self, other) -> Tensor:
        """``self - other`` (broadcasting): a ``Sub`` op."""
        return apply_op(Sub(), self, _operand(other, self))

    def __rsub__(self, other) -> Tensor:
        """``other - self``: a ``Sub`` op."""
        return apply_op(Sub(), _operand(other, self), self)

    def __mul__(self, other) -> Tensor:
        """``self * other`` elementwise (broadcasting): a ``Mul`` op."""
        return apply_op(Mul(), self, _operand(other, self))

    def __rmul__(self, other) -> Tensor:
        """``other * self``: a ``Mul`` op."""
        return apply_op(Mul(), _operand(other, self), self)

    def __truediv__(self, other) -> Tensor:
        """``self / other`` elementwise (broadcasting): a ``Div`` op."""
        return apply_op(Div(), self, _operand(other, self))

    def __rtruediv__(self, other) -> Tensor:
        """``other / self``: a ``Div`` op."""
        return apply_op(Div(), _operand(other, self), self)

    def __pow__(self, other) -> Tensor:
        """``self ** other`` elementwise: a ``Pow`` op."""
        return apply_op(Pow(), self, _operand(other, self))

    def __rpow__(self, other) -> Tensor:
        """``other ** self``: a ``Pow`` op."""
        return apply_op(Pow(), _operand(other, self), self)

    def __matmul__(self, other) -> Tensor:
        """``self @ other``, NumPy's matmul rules: a ``MatMul`` op."""
        return apply_op(MatMul(), self, as_tensor(other))

    def __rmatmul__(self, other) -> Tensor:
        """``other @ self``: a ``MatMul`` op."""
        return apply_op(MatMul(), as_tensor(other), self)

    def __neg__(self) -> Tensor:
        """``-self``: a ``Neg`` op."""
        return apply_op(Neg(), self)

    def __pos__(self) -> Tensor:
        """``+self`` is ``self``."""
        return self

    # ----- comparisons: plain boolean tensors, never part of the graph ---------------
    def _compare(self, other, fn) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(fn(self.data, other))

    def __lt__(self, other) -> Tensor:
        """``self < other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.less)

    def __le__(self, other) -> Tensor:
        """``self <= other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.less_equal)

    def __gt__(self, other) -> Tensor:
        """``self > other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.greater)

    def __ge__(self, other) -> Tensor:
        """``self >= other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.greater_equal)

    def __eq__(self, other) -> Tensor:  # type: ignore[override]
        """``self == other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.equal)

    def __ne__(self, other) -> Tensor:  # type: ignore[override]
        """``self != other`` elementwise: a bool tensor outside the graph."""
        return self._compare(other, np.not_equal)

    # ----- indexing and shape -------------------------------------------------------
    def __getitem__(self, index) -> Tensor:
        """``self[index]``, NumPy's indexing (slices, integer and boolean arrays): a ``GetItem`` op."""
        return apply_op(GetItem(_plain_index(index)), self)

    def reshape(self, *shape) -> Tensor:
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one axis may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply_op(Reshape(shape), self)

    def transpose(self, *axes) -> Tensor:
        """NumPy's transpose: no argument reverses the axes; else a permutation."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
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

    def var(self, axis=None, ddof: int = 0, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
        """Variance over ``axis`` with NumPy's ``ddof`` (default 0; PyTorch's is 1), like ``ndarray.var``."""
        axis, keepdims = axis_args("var", axis, keepdims, dim, keepdim)
        return apply_op(Var(axis, ddof, keepdims), self)

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
        """Maximum over ``axis`` (values only, as ``torch.amax``); tied maxima share the gradient equally."""
        axis, keepdims = axis_args("max", axis, keepdims, dim, keepdim)
        return apply_op(Max(axis, keepdims), self)

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
        """Minimum over ``axis`` (values only, as ``torch.amin``); tied minima share the gradient equally."""
        axis, keepdims = axis_args("min", axis, keepdims, dim, keepdim)
        return apply_op(Min(axis, keepdims), self)

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


def tensor(data: ArrayLike | Tensor, requires_grad: bool = False, dtype: DTypeLike = None) -> Tensor:
    """Create a tensor (a copy of ``data``), like ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
