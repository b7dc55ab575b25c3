r"""Weight initializers with PyTorch's names and semantics (``minigrad.nn.init``).

Each function fills ``tensor.data`` in place (keeping its dtype) and returns the tensor.
Random draws come from minigrad's generator, so ``minigrad.manual_seed(s)`` makes them
reproducible.

Why the scales: for a layer $y = W x$ with $W_{ij}$ of variance $\sigma^2$ and $n$ inputs of
unit variance, $\mathrm{Var}(y_i) = n \sigma^2$. Keeping it 1 in the forward pass needs
$\sigma^2 = 1/n_{in}$, in the backward pass $\sigma^2 = 1/n_{out}$: Xavier takes
$\sigma^2 = 2/(n_{in} + n_{out})$, Kaiming $\sigma^2 = \text{gain}^2 / n$. An orthogonal
$W$ keeps every singular value at 1, so $\|W x\| = \|x\|$: the products of Jacobians
in backpropagation through time neither vanish nor explode at initialisation.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import safety
from minigrad.arguments import choice, describe, finite, number_in, real_number
from minigrad.random import get_generator
from minigrad.tensor import Tensor

_LINEAR = ("linear", "identity", "conv1d", "conv2d", "conv3d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")  # fmt: skip


def _check(tensor, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be a minigrad Tensor, got {describe(tensor)}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{name}: tensor must have a float dtype, got {tensor.dtype}")
    return tensor


def _fill(tensor: Tensor, values) -> Tensor:
    safety.writable(tensor)[...] = values  # in place: the dtype (float32 or float64) is kept
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The gain that keeps activations' variance steady through ``nonlinearity``.

    linear/conv/sigmoid: 1; tanh: 5/3; relu: $\sqrt 2$; leaky_relu: $\sqrt{2/(1+a^2)}$
    (``param`` = negative slope, default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else finite(param, "param (the negative slope)", "calculate_gain")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {describe(nonlinearity)}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """PyTorch's fans: weight ``(out, in, *kernel)`` has fan_in = in*k, fan_out = out*k."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(got shape {tensor.shape})"
        )
    receptive_field = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _kaiming_std(tensor: Tensor, a, mode: str, nonlinearity: str, owner: str) -> float:
    """gain / sqrt(n), n = fan_in or fan_out; ``a`` is leaky_relu's negative slope."""
    choice(mode, "mode", owner, ("fan_in", "fan_out"))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return calculate_gain(nonlinearity, finite(a, "a", owner)) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""Fill with $U(a, b)$."""
    _check(tensor, "uniform_")
    a, b = finite(a, "a", "uniform_"), finite(b, "b", "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, get_generator().uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    r"""Fill with $\mathcal N(\text{mean}, \text{std}^2)$."""
    _check(tensor, "normal_")
    mean, std = finite(mean, "mean", "normal_"), number_in(std, "std", "normal_", 0, high_open=True)
    return _fill(tensor, get_generator().normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(_check(tensor, "constant_"), real_number(val, "val", "constant_"))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(_check(tensor, "zeros_"), 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(_check(tensor, "ones_"), 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    r"""$U(-a, a)$ with $a = \text{gain}\sqrt{6/(n_{in} + n_{out})}$ (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_")
    gain = number_in(gain, "gain", "xavier_uniform_", 0, high_open=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, get_generator().uniform(-a, a, size=tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    r"""$\mathcal N(0, \sigma^2)$ with $\sigma = \text{gain}\sqrt{2/(n_{in} + n_{out})}$."""
    _check(tensor, "xavier_normal_")
    gain = number_in(gain, "gain", "xavier_normal_", 0, high_open=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, get_generator().normal(0.0, std, size=tensor.shape))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    r"""$U(-b, b)$ with $b = \text{gain}\sqrt{3/n}$, $n$ = fan_in or fan_out (He et al., 2015).

    ``a`` is the negative slope used by ``calculate_gain('leaky_relu', a)``.
    """
    _check(tensor, "kaiming_uniform_")
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    bound = math.sqrt(3.0) * std
    return _fill(tensor, get_generator().uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    r"""$\mathcal N(0, \sigma^2)$ with $\sigma = \text{gain}/\sqrt{n}$, $n$ = fan_in or fan_out."""
    _check(tensor, "kaiming_normal_")
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill(tensor, get_generator().normal(0.0, std, size=tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    r"""A (semi-)orthogonal matrix, times ``gain``, drawn from the Haar measure.

    Draw $G \sim \mathcal N(0, 1)^{r \times c}$, factor $G = QR$, then
    $Q \leftarrow Q\,\mathrm{diag}(\mathrm{sign}\,R_{ii})$. Without the sign fix, QR's
    convention ($R_{ii} \ge 0$ or not) would bias the distribution of $Q$. A tensor with
    more than 2 dims is flattened to ``(shape[0], -1)``; if $r < c$ the transpose is factored.
    """
    _check(tensor, "orthogonal_")
    gain = number_in(gain, "gain", "orthogonal_", 0, high_open=True)
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got {tensor.shape}"
        )
    if tensor.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.size // rows
    flat = get_generator().normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T  # QR of the tall matrix, so Q has orthonormal columns
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))
