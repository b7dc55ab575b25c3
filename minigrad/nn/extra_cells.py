r"""Recurrent cells that keep an identity path in $J_t$, and ``Residual`` for feed-forward blocks.

Each recurrent cell runs one fused step op from ``minigrad/ops/extra_steps.py`` (hand-derived
VJP, closed-form $J_t$), through the same ``project``/``step``/``state_step`` interface as
``RNNCell`` (``minigrad/nn/rnn_cells.py``), so ``minigrad.bptt.unroll`` takes them too. Each
docstring gives the cell's $J_t = \partial h_{t+1}/\partial h_t$, which shows why it helps
(step t maps $h_t \to h_{t+1}$ and reads $x_t$):

* :class:`ResidualRNNCell`: $h_{t+1} = h_t + \tanh(z_{t+1})$, $z_{t+1} = W_{ih}x_t + b_{ih} + W_{hh}h_t + b_{hh}$,
  $J_t = I + \mathrm{diag}(1 - \tanh^2 z_{t+1}) W_{hh}$.
* :class:`HighwayRNNCell`: $h_{t+1} = \tau_t \odot \tilde h_t + (1 - \tau_t) \odot h_t$,
  $J_t = \mathrm{diag}(1 - \tau_t) + \mathrm{diag}(\tau_t(1-\tilde h_t^2)) W_h
  + \mathrm{diag}((\tilde h_t - h_t)\tau_t(1-\tau_t)) W_\tau$.
* :class:`LayerNormRNNCell`: $h_{t+1} = \tanh(\mathrm{LN}(W_{xh}x_t + b + W_{hh}h_t))$ (normalise the pre-activation),
  $J_t = \mathrm{diag}((1 - h_{t+1}^2)\gamma)\, N_t W_{hh}$ ($N_t$: LayerNorm's Jacobian).
* :class:`Residual`: $y = x + F(x)$, so $\partial y/\partial x = I + \partial F/\partial x$.

All cells: ``cell(x, h=None) -> h_next`` with x (N, H_in), h (N, H) (zeros when None).
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import safety
from minigrad.arguments import finite, instance
from minigrad.dtypes import get_default_dtype
from minigrad.nn import init
from minigrad.nn.arguments import positive_int
from minigrad.nn.layers import LayerNorm, Linear
from minigrad.nn.module import Module, Parameter
from minigrad.nn.rnn_cells import _Steps
from minigrad.ops.extra_steps import HighwayRNNStep, LayerNormRNNStep, ResidualRNNStep
from minigrad.tensor import Tensor, apply_op, as_tensor


def _state(x: Tensor, h, H: int) -> Tensor:
    if h is None:
        return Tensor(np.zeros((x.shape[0], H), dtype=x.dtype))
    return as_tensor(h)


class _TwoMatrixCell(_Steps, Module):
    """G*H pre-activations from $W_{ih} x + b_{ih} + W_{hh} h + b_{hh}$, PyTorch's layout."""

    num_gates = 1
    step_op = ResidualRNNStep

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", owner)  # int(2.5) would be 2
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        G, H, dt = self.num_gates, self.hidden_size, get_default_dtype()
        self.weight_ih = Parameter(np.zeros((G * H, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.zeros((G * H, H), dtype=dt))
        self.bias_ih = Parameter(np.zeros(G * H, dtype=dt))
        self.bias_hh = Parameter(np.zeros(G * H, dtype=dt))
        k = 1.0 / math.sqrt(H)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def new_op(self):
        """A fresh fused step op (one per time step)."""
        return self.step_op()

    def forward(self, x, h=None) -> Tensor:
        """``x`` (N, H_in), ``h`` (N, H) or None (zeros); returns the next state (N, H)."""
        x = as_tensor(x)
        return self.state_step(x, _state(x, h, self.hidden_size))


class ResidualRNNCell(_TwoMatrixCell):
    r"""$h_{t+1} = h_t + \tanh(z_{t+1})$, $z_{t+1} = W_{ih}x_t + b_{ih} + W_{hh}h_t + b_{hh}$;
    $J_t = I + \mathrm{diag}(1-\tanh^2 z_{t+1})\, W_{hh}$. The identity keeps the product through
    time from vanishing; being a product of $(I + D_k W_{hh})$, not a sum, it can grow instead."""

    mode = "RESIDUAL"


class HighwayRNNCell(_TwoMatrixCell):
    r"""$h_{t+1} = \tau_t \odot \tilde h_t + (1 - \tau_t) \odot h_t$ with $\tilde h_t = \tanh(a^h_t)$,
    $\tau_t = \sigma(a^T_t)$ (rows 0..H and H..2H of the two weight matrices).

    When $\tau_t \to 0$ the cell carries its state: $J_t \to I$. ``transform_bias`` (default -1)
    is added to the transform gate's ``bias_ih`` so that a new cell starts close to carrying.
    """

    num_gates = 2
    mode = "HIGHWAY"
    step_op = HighwayRNNStep

    def __init__(self, input_size: int, hidden_size: int, transform_bias: float = -1.0) -> None:
        super().__init__(input_size, hidden_size)
        safety.writable(self.bias_ih)[hidden_size:] += finite(transform_bias, "transform_bias", "HighwayRNNCell")


class LayerNormRNNCell(_Steps, Module):
    r"""$h_{t+1} = \tanh(\mathrm{LN}(W_{xh} x_t + b + W_{hh} h_t))$.

    Normalising the pre-activation keeps it where $\tanh' = 1 - \tanh^2$ is not small, so
    $\mathrm{diag}(\tanh')$ in $J_t$ does not saturate to zero (at initialization the product
    through time still vanishes at about the vanilla RNN's rate: ``demos/remedies_cells.py``). For ``bptt`` the cell
    also answers to the RNN names: ``weight_ih``/``bias_ih`` are ``W_xh``'s, ``weight_hh`` is
    ``W_hh.weight``, ``bias_hh`` is None, and the LayerNorm gain and shift are
    ``step_extra_params`` (the step op's inputs after ``W_hh``).
    """

    mode = "LAYERNORM"

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = positive_int(input_size, "input_size", "LayerNormRNNCell")
        self.hidden_size = positive_int(hidden_size, "hidden_size", "LayerNormRNNCell")
        self.W_xh = Linear(input_size, hidden_size)
        self.W_hh = Linear(hidden_size, hidden_size, bias=False)
        self.layer_norm = LayerNorm(hidden_size)

    @property
    def weight_ih(self) -> Parameter:
        """$W_{xh}$ (H, H_in), the input weight under the RNN cells' name."""
        return self.W_xh.weight

    @property
    def bias_ih(self) -> Parameter:
        """$b$ (H,), ``W_xh``'s bias."""
        return self.W_xh.bias

    @property
    def weight_hh(self) -> Parameter:
        """$W_{hh}$ (H, H)."""
        return self.W_hh.weight

    @property
    def bias_hh(self) -> None:
        """None: the LayerNorm shift $\beta$ would absorb it."""
        return None

    @property
    def step_extra_params(self) -> tuple[Parameter, Parameter]:
        r"""$(\gamma, \beta)$: what the step op takes after $W_{hh}$."""
        return self.layer_norm.weight, self.layer_norm.bias

    def step(self, xp_t: Tensor, s_prev: Tensor) -> Tensor:
        """One fused step from the input projection ``xp_t`` (N, H)."""
        op = LayerNormRNNStep(self.layer_norm.eps)
        return apply_op(op, xp_t, s_prev, self.weight_hh, *self.step_extra_params)

    def forward(self, x, h=None) -> Tensor:
        """``x`` (N, H_in), ``h`` (N, H) or None (zeros); returns the next state (N, H)."""
        x = as_tensor(x)
        return self.state_step(x, _state(x, h, self.hidden_size))


class Residual(Module):
    r"""$y = x + F(x)$ for a block $F$ (any module whose output has x's shape)."""

    def __init__(self, block: Module) -> None:
        super().__init__()
        self.block = instance(block, Module, "block", "Residual")

    def forward(self, x) -> Tensor:
        x = as_tensor(x)
        return x + self.block(x)
