"""Functions on tensors with PyTorch's names and arguments (``minigrad.nn.functional``, or ``F``).

Activations live here as in PyTorch. Note ``dim`` (PyTorch's word) where minigrad's
NumPy-style functions say ``axis``.
"""

from __future__ import annotations

from minigrad import functional as _mf
from minigrad.tensor import Tensor


def sigmoid(input) -> Tensor:
    r"""$\sigma(x) = 1/(1+e^{-x})$; finite, with no warnings, for $|x|$ up to 1e4 and beyond."""
    return _mf.sigmoid(input)


def tanh(input) -> Tensor:
    r"""$\tanh(x)$."""
    return _mf.tanh(input)


def relu(input) -> Tensor:
    r"""$\max(x, 0)$."""
    return _mf.relu(input)


def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    r"""$x$ for $x > 0$, else ``negative_slope`` $\cdot x$."""
    return _mf.leaky_relu(input, negative_slope)


def gelu(input, approximate: str = "none") -> Tensor:
    r"""$x\,\Phi(x)$ with the exact erf form (``'none'``) or the tanh approximation (``'tanh'``)."""
    return _mf.gelu(input, approximate)


def softmax(input, dim: int = -1) -> Tensor:
    r"""$e^{x_i}/\sum_j e^{x_j}$ along ``dim``; stable for logits of magnitude 1e4."""
    return _mf.softmax(input, axis=dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    r"""$x_i - \log\sum_j e^{x_j}$ along ``dim``; stable for logits of magnitude 1e4."""
    return _mf.log_softmax(input, axis=dim)
