r"""Recurrent cells with PyTorch's names, shapes and parameters: RNNCell, LSTMCell, GRUCell.

One step $s_{t+1} = f(x_t, s_t)$: the input projection $x'_t = W_{ih} x_t + b_{ih}$, then one
fused op from ``minigrad/ops/recurrent.py`` (hand-derived VJP, closed-form Jacobians). The
state $s$ is $h$ for RNN and GRU and $[h; c]$ for the LSTM (so every step maps one vector to
one vector, and $J_t = \partial s_{t+1}/\partial s_t$ is one square matrix).

Every cell, and every layer/direction of a sequence layer (``layer.cell_for(k, reverse)``,
``minigrad/nn/rnn.py``), exposes that step through ``_Steps``: ``state_step(x_t, s_prev) ->
s_next``, ``state_size``, ``initial_state(N)`` and the parameters ``weight_ih``,
``weight_hh``, ``bias_ih``, ``bias_hh`` (G*H rows: G = 1 RNN, 4 LSTM (i, f, g, o), 3 GRU
(r, z, n)); ``minigrad.bptt`` builds on it. Init: $U(-1/\sqrt H, 1/\sqrt H)$, like PyTorch.

GRU, two forms side by side (same parameters):

* ``reset_after=True`` (PyTorch):  $n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))$
* ``reset_after=False`` (Cho 2014): $n = \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn})$
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import functional as mf
from minigrad.arguments import describe
from minigrad.dtypes import get_default_dtype
from minigrad.nn import init
from minigrad.nn.arguments import check_dtype, flag, positive_int
from minigrad.nn.module import Module, Parameter
from minigrad.ops.gru_step import GRUStep
from minigrad.ops.recurrent import LSTMStep, RNNStep
from minigrad.ops.recurrent_base import RecurrentStep
from minigrad.ops.recurrent_sequence import GRUSequenceStep, LSTMSequenceStep, RNNSequenceStep
from minigrad.tensor import Tensor, apply_op, as_tensor


def uniform_recurrent_init_(module: Module) -> None:
    r"""PyTorch's recurrent init: every parameter of ``module`` from $U(-1/\sqrt H, 1/\sqrt H)$."""
    k = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -k, k)


class _Steps:
    """The per-step state map shared by cells and by one layer/direction of a sequence layer.

    Subclasses set ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (or None), ``input_size``,
    ``hidden_size``, ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU') and ``reset_after``.
    """

    @property
    def state_size(self) -> int:
        """S: H, or 2H for the LSTM's state $[h; c]$."""
        return 2 * self.hidden_size if self.mode == "LSTM" else self.hidden_size

    def new_op(self, t: int | None = None, out: np.ndarray | None = None,
               gate_buffer: np.ndarray | None = None) -> RecurrentStep:  # fmt: skip
        """A fresh fused step op (one op instance per time step).

        Given ``t``, the sequence layer's variant, which reads row t of the whole projection
        (``out`` and ``gate_buffer``: see ``minigrad/ops/recurrent.py``).
        """
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        if t is None:
            if self.mode == "LSTM":
                return LSTMStep(out, gate_buffer)
            if self.mode == "GRU":
                return GRUStep(self.reset_after, out, gate_buffer)
            return RNNStep(nonlinearity, out)
        if self.mode == "LSTM":
            return LSTMSequenceStep(t, out, gate_buffer)
        if self.mode == "GRU":
            return GRUSequenceStep(t, self.reset_after, out, gate_buffer)
        return RNNSequenceStep(t, nonlinearity, out)

    def project(self, x: Tensor, extra_bias: Tensor | None = None) -> Tensor:
        r"""$x' = x W_{ih}^\top + b_{ih}$ for one step (N, H_in) or a whole sequence (T, N, H_in).

        ``extra_bias`` (G*H,) is added too (a layer folds $b_{hh}$ in here; see ``run``).
        """
        if x.ndim == 2:
            xp = x @ self.weight_ih.T
            return xp if self.bias_ih is None else xp + self.bias_ih
        T, N, H_in = x.shape
        x = x.reshape(T * N, H_in)  # one 2-D matmul (a batched one would make T weight grads)
        if self.bias_ih is None:
            xp = x @ self.weight_ih.T
        else:
            # [x, 1] [W_ih, b_ih]^T = x W_ih^T + b_ih: one matmul, and no second (T*N, G*H)
            # array (``xp + b`` would keep the matmul's result alive in the graph as well)
            ones = Tensor(np.ones((T * N, 1), dtype=x.dtype))
            b = self.bias_ih if extra_bias is None else self.bias_ih + extra_bias
            W = mf.concatenate([self.weight_ih, b.reshape(-1, 1)], axis=1)
            xp = mf.concatenate([x, ones], axis=1) @ W.T
        return xp.reshape(T, N, xp.shape[1])

    def step(self, xp_t: Tensor, s_prev: Tensor) -> Tensor:
        """One fused step from a precomputed input projection ``xp_t`` (N, G*H)."""
        if self.bias_hh is None:
            return apply_op(self.new_op(), xp_t, s_prev, self.weight_hh)
        return apply_op(self.new_op(), xp_t, s_prev, self.weight_hh, self.bias_hh)

    def state_step(self, x_t: Tensor, s_prev: Tensor) -> Tensor:
        r"""$s_{t+1} = f(x_t, s_t)$ for ``x_t`` (N, H_in), ``s_prev`` = $s_t$ (N, S).

        The result's ``_op`` is the fused step op (``state_jacobian()``, ``input_jacobian()``).
        """
        return self.step(self.project(as_tensor(x_t)), as_tensor(s_prev))

    def initial_state(self, batch_size: int) -> Tensor:
        """Zeros of shape (N, S), the state PyTorch starts from when no h0 is given."""
        return Tensor(np.zeros((batch_size, self.state_size), dtype=self.weight_hh.dtype))

    def split_state(self, s: Tensor) -> tuple[Tensor, Tensor] | Tensor:
        """LSTM: ``(h, c)`` from $s = [h; c]$; RNN and GRU: $s$ is $h$ itself."""
        if self.mode != "LSTM":
            return s
        H = self.hidden_size
        return s[..., :H], s[..., H:]


# ----- cells --------------------------------------------------------------------------------
class _CellBase(_Steps, Module):
    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", owner)
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.bias = flag(bias, "bias", owner)
        G, H, dtype = self.num_gates, self.hidden_size, get_default_dtype()
        self.weight_ih = Parameter(np.zeros((G * H, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.zeros((G * H, H), dtype=dtype))
        self.bias_ih = Parameter(np.zeros(G * H, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(np.zeros(G * H, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Every weight and bias from $U(-1/\sqrt H, 1/\sqrt H)$, like PyTorch."""
        uniform_recurrent_init_(self)

    def forward(self, input, hx=None) -> Tensor:
        """``input`` (N, H_in) or (H_in,); ``hx`` (N, H) or (H,) (zeros if None); returns h'."""
        return self._run(input, hx)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _prepare(self, input, hx, name: str = "hx"):
        """(x as (N, H_in), hx as (N, H) or None, whether the input was unbatched)."""
        owner = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{owner}: input must have shape (N, {self.input_size}) or ({self.input_size},), "
                f"got {x.shape}"
            )
        check_dtype(x, "input", self.weight_hh.dtype, owner)
        unbatched = x.ndim == 1
        if unbatched:
            x = x.reshape(1, self.input_size)
        if hx is None:
            return x, None, unbatched
        h = as_tensor(hx)
        expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        if h.shape != expected:
            raise ValueError(f"{owner}: {name} must have shape {expected}, got {h.shape}")
        check_dtype(h, name, self.weight_hh.dtype, owner)
        return x, (h.reshape(1, self.hidden_size) if unbatched else h), unbatched

    def _run(self, input, hx):
        x, h, unbatched = self._prepare(input, hx)
        s = self.state_step(x, self.initial_state(x.shape[0]) if h is None else h)
        return s.reshape(self.hidden_size) if unbatched else s


class RNNCell(_CellBase):
    """One step of an Elman RNN:  h' = φ(W_ih x + b_ih + W_hh h + b_hh),  φ = tanh (default) or relu.

    Arguments: input_size (H_in), hidden_size (H), bias (False: no b_ih, b_hh), nonlinearity.
    Parameters, from U(−1/√H, 1/√H): weight_ih (H, H_in), weight_hh (H, H), bias_ih (H,), bias_hh (H,).
    Shapes: input x (N, H_in) or (H_in,) unbatched; hx = h (N, H) or (H,), None: zeros.
    Returns h' (N, H), or (H,) unbatched.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh") -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias)


class GRUCell(_CellBase):
    """One step of a GRU (σ: sigmoid, ⊙: elementwise product):

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))     (reset_after=True, PyTorch)
        n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)     (reset_after=False, Cho et al. 2014)
        h' = (1 − z) ⊙ n + z ⊙ h

    Arguments: input_size (H_in), hidden_size (H), bias (False: no b_ih, b_hh), reset_after.
    Parameters, from U(−1/√H, 1/√H), gate blocks in the order r, z, n:
    weight_ih (3·H, H_in), weight_hh (3·H, H), bias_ih (3·H,), bias_hh (3·H,).
    Shapes: input x (N, H_in) or (H_in,) unbatched; hx = h (N, H) or (H,), None: zeros.
    Returns h' (N, H), or (H,) unbatched.
    """

    num_gates = 3
    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 reset_after: bool = True) -> None:  # fmt: skip
        self.reset_after = flag(reset_after, "reset_after", "GRUCell")
        super().__init__(input_size, hidden_size, bias)


class LSTMCell(_CellBase):
    """One step of an LSTM (σ: sigmoid, ⊙: elementwise product):

        i = σ(W_ii x + b_ii + W_hi h + b_hi),   f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg),   o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')

    Arguments: input_size (H_in), hidden_size (H), bias (False: no b_ih, b_hh).
    Parameters, from U(−1/√H, 1/√H), gate blocks in the order i, f, g, o:
    weight_ih (4·H, H_in), weight_hh (4·H, H), bias_ih (4·H,), bias_hh (4·H,).
    Shapes: input x (N, H_in) or (H_in,) unbatched; hx = (h, c), each (N, H) or (H,), None: zeros.
    Returns (h', c'), each (N, H), or (H,) unbatched.
    """

    num_gates = 4
    mode = "LSTM"

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        """``input`` (N, H_in) or (H_in,); ``hx = (h, c)``, each (N, H) or (H,); None: zeros."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) or None, got {describe(hx)}")
        if hx is not None and (hx[0] is None or hx[1] is None):  # PyTorch too needs both or neither
            missing = "hx[0] (h)" if hx[0] is None else "hx[1] (c)"
            raise TypeError(f"LSTMCell: hx = (h, c) needs both states, got {missing} = None (or pass hx=None)")
        x, h, unbatched = self._prepare(input, None if hx is None else hx[0], "hx[0] (h)")
        if hx is None:
            s = self.initial_state(x.shape[0])
        else:
            _, c, _ = self._prepare(input, hx[1], "hx[1] (c)")
            s = mf.concatenate([h, c], axis=1)
        h, c = self.split_state(self.state_step(x, s))
        if unbatched:
            return h.reshape(self.hidden_size), c.reshape(self.hidden_size)
        return h, c
