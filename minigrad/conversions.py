"""PyTorch's conversions and small aliases on Tensor: ``.long()``, ``.double()``, ``.to()``, ``mm``, ``log2``...

Attached to :class:`~minigrad.tensor.Tensor` at the end of the file, as ``tensor_methods.py`` does.
A float-to-float conversion of a tensor in the graph is an op (:class:`Cast`): the gradient
flows back, rounded to the input's dtype, as in PyTorch. A conversion to an integer or bool
dtype leaves the graph (such tensors cannot require grad).
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import device as devices
from minigrad.arguments import numeric_dtype
from minigrad.grad_mode import is_grad_enabled
from minigrad.ops import MatMul
from minigrad.ops.base import Op
from minigrad.tensor import Tensor, _new_tensor, apply_op
from minigrad.tensor_arguments import tensor_like


class Cast(Op):
    r"""$y = x$ in another float dtype; $\partial y/\partial x = I$ (the engine rounds the gradient back)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def vjp(self, g):
        return (g,)  # Gradients.add casts it to the input's dtype

    def jvp(self, t):
        return t.astype(self.dtype)

    def jacobian(self, i):
        n = math.prod(self.in_shapes[0])
        return np.eye(n, dtype=self.dtype)


def _convert(x: Tensor, dtype, owner: str) -> Tensor:
    """``x`` as ``dtype``: ``x`` itself if it already is (as PyTorch), a Cast op in the graph, or a new constant."""
    d = numeric_dtype(dtype, "dtype", owner)
    if d == x.dtype:
        return x
    if d.kind == "f" and x.requires_grad and is_grad_enabled():
        return apply_op(Cast(d), x)
    return _new_tensor(x.data.astype(d))


def long(self) -> Tensor:
    """This tensor as int64 (``torch.Tensor.long``)."""
    return _convert(self, np.int64, "long")


def int_(self) -> Tensor:
    """This tensor as int32 (``torch.Tensor.int``)."""
    return _convert(self, np.int32, "int")


def float_(self) -> Tensor:
    """This tensor as float32 (``torch.Tensor.float``; minigrad's default float is float64)."""
    return _convert(self, np.float32, "float")


def double(self) -> Tensor:
    """This tensor as float64 (``torch.Tensor.double``)."""
    return _convert(self, np.float64, "double")


def bool_(self) -> Tensor:
    """This tensor as bool (``torch.Tensor.bool``)."""
    return _convert(self, np.bool_, "bool")


_TYPE_NAMES = {"float64": "DoubleTensor", "float32": "FloatTensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}  # fmt: skip


def type_(self, dtype=None) -> str | Tensor:
    """``x.type()``: the type's name (``'minigrad.DoubleTensor'``); ``x.type(dtype)``: converted."""
    if dtype is None:
        return f"minigrad.{_TYPE_NAMES.get(str(self.dtype), str(self.dtype))}"
    return _convert(self, dtype, "type")


def to(self, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
    """``x.to(dtype)``, ``x.to("cpu")``, ``x.to(other)`` (other's dtype), ``x.to("cpu", dtype)``, as PyTorch.

    The CPU is minigrad's only device: naming it changes nothing; any other device is an error.
    """
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif devices.is_device(a):
            device = a
        else:
            dtype = a
    if device is not None:
        devices.check_device(device, "to")
    out = self if dtype is None else _convert(self, dtype, "to")
    return out.clone() if copy and out is self else out


def cpu(self) -> Tensor:
    """This tensor (minigrad's tensors are always on the CPU)."""
    return self


def device_of(self) -> devices.device:
    """Where the tensor lives: always ``device(type='cpu')``."""
    return devices.device("cpu")


def detach_(self) -> Tensor:
    """Cut this tensor off the graph, in place: it becomes a leaf that does not require grad."""
    self._op = None
    self.requires_grad = False
    return self


def nelement(self) -> int:
    """The number of elements (PyTorch's older name for ``numel()``)."""
    return int(self.data.size)


def log2(x) -> Tensor:
    """log₂ x elementwise, as ln x / ln 2 (``torch.log2``)."""
    return tensor_like(x, "x", "log2").log() / math.log(2.0)


def log10(x) -> Tensor:
    """log₁₀ x elementwise, as ln x / ln 10 (``torch.log10``)."""
    return tensor_like(x, "x", "log10").log() / math.log(10.0)


def mm(input, mat2) -> Tensor:
    """The product of two matrices (2-D only, no broadcasting), like ``torch.mm``."""
    a, b = tensor_like(input, "input", "mm"), tensor_like(mat2, "mat2", "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: input and mat2 must be 2-D matrices, got shapes {a.shape} and {b.shape}")
    return apply_op(MatMul(), a, b)


# ----- attach: each function above becomes a method of every Tensor -------------------
Tensor.long = long
Tensor.int = int_
Tensor.float = float_
Tensor.double = double
Tensor.bool = bool_
Tensor.type = type_
Tensor.to = to
Tensor.cpu = cpu
Tensor.device = property(device_of)
Tensor.detach_ = detach_
Tensor.nelement = nelement
Tensor.log2 = log2
Tensor.log10 = log10
Tensor.mm = mm
