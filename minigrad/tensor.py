r"""The Tensor: a NumPy array that remembers how it was made.

A tensor holds ``data`` (an ``np.ndarray``), ``grad`` (filled in by ``backward``),
``requires_grad``, and ``_op``: the op that produced it (``None`` for a leaf).
Calling an op on tensors (:func:`apply_op`) runs the op's ``forward`` on the
arrays and, when any input requires grad, links the result to the op, and the op
to its inputs. That chain of links *is* the computation graph; ``backward``
(in ``engine.py``) walks it in reverse.

Reading order: ``apply_op``, then ``Tensor.__init__``, ``backward``; then the operators,
which ``tensor_math.py`` attaches to the class (``Tensor.__add__ = add``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from minigrad import engine, safety
from minigrad.anomaly import check_forward, user_site
from minigrad.arguments import describe
from minigrad.device import check_device
from minigrad.dtypes import get_default_dtype, number_dtype
from minigrad.grad_mode import MODES
from minigrad.size import ElementCount


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
        raise TypeError(f"as_tensor: like must be a Tensor or None, got {describe(like)}")
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, numbers.Number):
        return _new_tensor(np.asarray(x, dtype=_number_dtype(x, like)))
    return Tensor(x)


def _number_dtype(x, like: Tensor) -> np.dtype:
    """The dtype of ``like <op> x`` for a number ``x``, by PyTorch's rule (``dtypes.number_dtype``)."""
    dtype = like.data.dtype
    if dtype.kind == "f" and (type(x) is float or type(x) is int):
        return dtype  # the common case, without the general rule's cost
    if isinstance(x, (complex, np.complexfloating)):  # np.complex64 is not a Python complex
        raise TypeError(f"complex numbers are not supported: got {x!r} next to a {like.dtype} tensor")
    if not isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating)):
        return np.result_type(like.data, x)  # not a plain number (a Decimal, a Fraction): NumPy decides
    return number_dtype(x, dtype)


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


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_op", "_retains_grad", "__weakref__")
    # This class holds what a tensor *is*. Its methods that build ops (x + y, x.sum(), x[i]) are
    # in tensor_math.py, PyTorch's names and NumPy interop in tensor_methods.py, the in-place ones
    # (x.add_(y), x -= y) in inplace.py: each module assigns its functions onto this class, once,
    # when minigrad/__init__.py imports it.

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
    def size(self) -> ElementCount:
        """The number of elements (an int); ``x.size()`` and ``x.size(0)`` answer as in PyTorch (``size.py``)."""
        return ElementCount(self.data.shape)

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

    def __reduce__(self):
        """Pickling (and ``copy.deepcopy``) keeps ``data`` and ``requires_grad``, as PyTorch does.

        The copy is a new leaf: the graph that made a non-leaf is never pickled (a deep one
        would recurse 10,000 levels; a scalar loss would carry every array its graph saved),
        and ``.grad`` is not kept either.
        """
        return (_rebuild_leaf, (type(self), self.data, self.requires_grad))

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
    def backward(self, grad=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Compute ∂self/∂leaf for every leaf, accumulating into ``.grad``.

        ``grad`` is ∂L/∂self; it may be omitted for a
        one-element tensor (it is then 1, i.e. self *is* the loss).

        As in PyTorch, backward frees the graph it walked (and makes the arrays it saved
        writable again); a second backward through it is an error unless the first one
        was called with ``retain_graph=True``. ``create_graph=True`` records the backward pass
        itself, so ``.grad`` is a Tensor that can be differentiated again (``retain_graph``
        then defaults to True, as in PyTorch).
        """
        if not isinstance(create_graph, (bool, np.bool_)):
            raise TypeError(f"backward(): create_graph must be True or False, got {create_graph!r}")
        if retain_graph is None:
            retain_graph = create_graph
        if not self.requires_grad:
            raise ValueError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad)"
            )
        seed = grad
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
        if create_graph:  # the seed as a tensor: it may itself require grad (a vector-Hessian product)
            keep_seed = isinstance(seed, Tensor) and seed.dtype == self.dtype
            grad = seed if keep_seed else _new_tensor(grad)
        engine.backward(self, grad, retain_graph, create_graph)

def _rebuild_leaf(cls: type, data: np.ndarray, requires_grad: bool) -> Tensor:
    """Unpickling: a leaf of class ``cls`` (a Tensor or a Parameter) around ``data``."""
    t = cls.__new__(cls)
    if not data.flags.writeable:  # an array unpickled from a buffer may be read-only
        data = data.copy()
    t.data, t.grad, t.requires_grad, t._op, t._retains_grad = data, None, bool(requires_grad), None, False
    return t


def tensor(data: ArrayLike | Tensor, requires_grad: bool = False, dtype: DTypeLike = None, device=None) -> Tensor:
    """Create a tensor (a copy of ``data``), like ``torch.tensor``; ``device`` may only be the CPU (``device.py``)."""
    if device is not None:
        check_device(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
