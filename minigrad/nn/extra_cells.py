r"""Recurrent cells that keep an identity path in $J_t$, and ``Residual`` for feed-forward blocks.

Written with primitive ops (autograd differentiates them; there is no fused step op, so
``minigrad.bptt.unroll`` does not take them, but ``minigrad.jacobian`` of one step does).
Each docstring gives the cell's $J_t = \partial h_t/\partial h_{t-1}$, the seeds' reason it helps:

* :class:`ResidualRNNCell`: $h_t = h_{t-1} + \tanh(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})$,
  $J_t = I + \mathrm{diag}(1 - a_t^2) W_{hh}$.
* :class:`HighwayRNNCell`: $h_t = T_t \odot \tilde h_t + (1 - T_t) \odot h_{t-1}$,
  $J_t = \mathrm{diag}(1 - T_t) + \mathrm{diag}(T_t)\,\partial\tilde h_t/\partial h_{t-1} + \dots$
* :class:`LayerNormRNNCell`: $h_t = \tanh(\mathrm{LN}(W_{xh}x_t + b + W_{hh}h_{t-1}))$ (the seed's cell).
* :class:`Residual`: $y = x + F(x)$, so $\partial y/\partial x = I + \partial F/\partial x$.

All cells: ``cell(x, h=None) -> h_next`` with x (N, H_in), h (N, H) (zeros when None).
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import functional as mf
from minigrad import safety
from minigrad.dtypes import get_default_dtype
from minigrad.nn import init
from minigrad.nn.layers import LayerNorm, Linear
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor, as_tensor


def _state(x: Tensor, h, H: int) -> Tensor:
    if h is None:
        return Tensor(np.zeros((x.shape[0], H), dtype=x.dtype))
    return as_tensor(h)


class _TwoMatrixCell(Module):
    """G*H pre-activations from $W_{ih} x + b_{ih} + W_{hh} h + b_{hh}$, PyTorch's layout."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        G, H, dt = self.num_gates, self.hidden_size, get_default_dtype()
        self.weight_ih = Parameter(np.zeros((G * H, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.zeros((G * H, H), dtype=dt))
        self.bias_ih = Parameter(np.zeros(G * H, dtype=dt))
        self.bias_hh = Parameter(np.zeros(G * H, dtype=dt))
        k = 1.0 / math.sqrt(H)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _pre(self, x: Tensor, h: Tensor) -> Tensor:
        return x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh


class ResidualRNNCell(_TwoMatrixCell):
    r"""$h_t = h_{t-1} + \tanh(a_t)$, $a_t = W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh}$;
    $J_t = I + \mathrm{diag}(1-\tanh^2 a_t)\, W_{hh}$: the identity keeps gradients from vanishing."""

    def forward(self, x, h=None) -> Tensor:
        x = as_tensor(x)
        h = _state(x, h, self.hidden_size)
        return h + mf.tanh(self._pre(x, h))


class HighwayRNNCell(_TwoMatrixCell):
    r"""$h_t = T_t \odot \tilde h_t + (1 - T_t) \odot h_{t-1}$ with $\tilde h_t = \tanh(a^h_t)$,
    $T_t = \sigma(a^T_t)$ (rows 0..H and H..2H of the two weight matrices).

    When $T_t \to 0$ the cell carries its state: $J_t \to I$. ``transform_bias`` (default -1)
    is added to the transform gate's ``bias_ih`` so that a new cell starts close to carrying.
    """

    num_gates = 2

    def __init__(self, input_size: int, hidden_size: int, transform_bias: float = -1.0) -> None:
        super().__init__(input_size, hidden_size)
        safety.writable(self.bias_ih)[hidden_size:] += transform_bias

    def forward(self, x, h=None) -> Tensor:
        x = as_tensor(x)
        h = _state(x, h, self.hidden_size)
        a_h, a_T = mf.split(self._pre(x, h), 2, axis=-1)
        T = mf.sigmoid(a_T)
        return T * mf.tanh(a_h) + (1 - T) * h


class LayerNormRNNCell(Module):
    r"""$h_t = \tanh(\mathrm{LN}(W_{xh} x_t + b + W_{hh} h_{t-1}))$, the seed's ``LayerNormRNNCell``.

    Normalising the pre-activation keeps it where $\tanh' = 1 - \tanh^2$ is not small, so
    $\mathrm{diag}(\sigma'(z_t))$ in $J_t$ does not saturate to zero.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = int(hidden_size)
        self.W_xh = Linear(input_size, hidden_size)
        self.W_hh = Linear(hidden_size, hidden_size, bias=False)
        self.layer_norm = LayerNorm(hidden_size)

    def forward(self, x, h=None) -> Tensor:
        x = as_tensor(x)
        h = _state(x, h, self.hidden_size)
        return mf.tanh(self.layer_norm(self.W_xh(x) + self.W_hh(h)))


class Residual(Module):
    r"""$y = x + F(x)$ for a block $F$ (any module whose output has x's shape)."""

    def __init__(self, block: Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x) -> Tensor:
        x = as_tensor(x)
        return x + self.block(x)
