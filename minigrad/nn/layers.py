r"""Layers: ``Linear``, ``LayerNorm``, ``Dropout`` and the activation modules.

Each is a thin :class:`~minigrad.nn.module.Module` around a function of
``minigrad.nn.functional``; the module only owns the parameters (with PyTorch's names,
shapes and default initialisation) and the train/eval switch.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import safety
from minigrad.arguments import finite
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.arguments import flag, float_dtype, integer, positive_int, real_number
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor


class Linear(Module):
    r"""$y = x W^\top + b$, with ``weight`` $W$ of shape ``(out_features, in_features)``.

    PyTorch's default initialisation: $W, b \sim U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$
    (``kaiming_uniform_`` with ``a=sqrt(5)`` gives exactly that bound for $W$).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        bias = flag(bias, "bias", "Linear")
        dtype = float_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.empty(self.out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with PyTorch's default scheme."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class LayerNorm(Module):
    r"""$y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} \odot \gamma + \beta$ (last axes).

    $\mu$, $\sigma^2$ are taken over the last ``len(normalized_shape)`` axes of each sample.
    $\gamma$ (``weight``) starts at 1 and $\beta$ (``bias``) at 0, as in PyTorch.
    """

    def __init__(
        self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, dtype=None
    ) -> None:
        super().__init__()
        if not isinstance(normalized_shape, (int, np.integer, tuple, list)):  # "34" is not (3, 4)
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}"
            )
        shape = F._shape_tuple(normalized_shape, "LayerNorm")
        for n in shape:
            positive_int(n, "normalized_shape", "LayerNorm")
        if not 0 < real_number(eps, "eps", "LayerNorm") < math.inf:
            raise ValueError(f"LayerNorm: eps must be finite and > 0, got {eps!r}")
        self.normalized_shape = shape
        self.eps = float(eps)
        self.elementwise_affine = flag(elementwise_affine, "elementwise_affine", "LayerNorm")
        dtype = float_dtype(dtype, "LayerNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))
            self.bias = Parameter(np.zeros(shape, dtype=dtype))
        else:
            self.weight = self.bias = None

    def forward(self, input) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


class Dropout(Module):
    r"""Training: zero each element with probability $p$, scale the rest by $1/(1-p)$.

    Evaluation (``eval()``): the identity.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= real_number(p, "p", "Dropout") <= 1.0:  # a NumPy scalar is fine
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, input) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ----- activations -----------------------------------------------------------------------
class Identity(Module):
    """$y = x$ (a placeholder, e.g. to switch a layer off)."""

    def forward(self, input):
        return input


class Sigmoid(Module):
    r"""$\sigma(x) = 1/(1 + e^{-x})$."""

    def forward(self, input) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    r"""$\tanh(x)$."""

    def forward(self, input) -> Tensor:
        return F.tanh(input)


class ReLU(Module):
    r"""$\max(x, 0)$."""

    def forward(self, input) -> Tensor:
        return F.relu(input)


class LeakyReLU(Module):
    r"""$x$ for $x > 0$, else ``negative_slope`` $\cdot x$."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = finite(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, input) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    r"""$x\,\Phi(x)$ (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _AlongDim(Module):
    """What Softmax and LogSoftmax share: both normalize along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = integer(dim, "dim", type(self).__name__)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    r"""$e^{x_i}/\sum_j e^{x_j}$ along ``dim``."""

    def forward(self, input) -> Tensor:
        return F.softmax(input, self.dim)


class LogSoftmax(_AlongDim):
    r"""$x_i - \log\sum_j e^{x_j}$ along ``dim``."""

    def forward(self, input) -> Tensor:
        return F.log_softmax(input, self.dim)


class Embedding(Module):
    """A lookup table: ``weight[i]`` for each integer index ``i`` of the input, PyTorch's ``nn.Embedding``.

    ``weight`` is ``(num_embeddings, embedding_dim)``, drawn from N(0, 1) as in PyTorch. The row
    ``padding_idx`` (negative counts from the end) starts at zero and never receives a gradient.
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=None
    ) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            n = self.num_embeddings
            is_int = isinstance(padding_idx, (int, np.integer)) and not isinstance(padding_idx, bool)
            if not is_int or not -n <= padding_idx < n:
                raise ValueError(f"Embedding: padding_idx must be None or an int in [{-n}, {n}), got {padding_idx!r}")
            padding_idx = int(padding_idx) % n  # PyTorch stores a negative padding_idx counted from the end
        self.padding_idx = padding_idx
        dtype = float_dtype(dtype, "Embedding")
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw ``weight`` from N(0, 1) and zero the padding row, as PyTorch does."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            safety.writable(self.weight)[self.padding_idx] = 0

    def forward(self, input) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
