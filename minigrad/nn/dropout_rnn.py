r"""Dropout for recurrent networks: recurrent dropout and zoneout, around any cell with ``state_step``.

* :class:`RecurrentDropout`: $h_{t+1} = f(x_t, h_t \odot m)$ with **one** mask
  $m \sim \mathrm{Bernoulli}(1-p)/(1-p)$ per sequence (Gal & Ghahramani 2016): a fresh mask
  every step would multiply $J_t$ by a different random diagonal each step and add noise that
  compounds over time. For an LSTM only $h$ is masked, not $c$.
* :class:`Zoneout`: $s_{t+1} = z_t \odot s_t + (1 - z_t) \odot f(x_t, s_t)$ with
  $z_t \sim \mathrm{Bernoulli}(p)$ fresh each step (Krueger et al. 2017): a zoned-out unit
  copies its state, so its row of $J_t$ is the identity's. (Some write the mask of units
  that *update*; here $z$ is the mask of units that *keep*.) In eval mode $z$ is its mean $p$.

Both wrap a cell (``RNNCell``, ``LSTMCell``, ``GRUCell``) and run it over x (T, N, H_in):
``forward(x, state0=None) -> (states (T, N, S), last state (N, S))``.
"""

from __future__ import annotations

import numpy as np

from minigrad import functional as mf
from minigrad.arguments import describe
from minigrad.nn.module import Module
from minigrad.random import get_generator
from minigrad.tensor import Tensor, as_tensor


def _check_p(p, owner: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{owner}: p must be a probability in [0, 1), got {p!r}")
    return float(p)


class _Wrapped(Module):
    def __init__(self, cell: Module, p: float) -> None:
        super().__init__()
        if not hasattr(cell, "state_step"):
            raise TypeError(f"{type(self).__name__}: cell must have state_step(), got {describe(cell)}")
        self.cell = cell
        self.p = _check_p(p, type(self).__name__)

    def _start(self, x, state0):
        x = as_tensor(x)
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__}: x must have shape (T, N, H_in), got {x.shape}")
        s = self.cell.initial_state(x.shape[1]) if state0 is None else as_tensor(state0)
        return x, s


class RecurrentDropout(_Wrapped):
    r"""$s_{t+1} = f(x_t, s_t \odot m)$, one mask $m$ for the whole sequence (on $h$ only)."""

    def forward(self, x, state0=None) -> tuple[Tensor, Tensor]:
        x, s = self._start(x, state0)
        N, S, H = x.shape[1], s.shape[1], self.cell.hidden_size
        mask = None
        if self.training and self.p > 0:
            keep = (get_generator().random((N, H)) >= self.p) / (1 - self.p)
            m = np.ones((N, S), dtype=s.dtype)
            m[:, :H] = keep  # LSTM: [h; c], and c is left alone
            mask = Tensor(m)
        states = []
        for t in range(x.shape[0]):
            s = self.cell.state_step(x[t], s if mask is None else s * mask)
            states.append(s)
        return mf.stack(states, axis=0), s


class Zoneout(_Wrapped):
    r"""$s_{t+1} = z_t \odot s_t + (1 - z_t) \odot f(x_t, s_t)$, $z_t \sim \mathrm{Bernoulli}(p)$."""

    def forward(self, x, state0=None) -> tuple[Tensor, Tensor]:
        x, s = self._start(x, state0)
        states = []
        for t in range(x.shape[0]):
            new = self.cell.state_step(x[t], s)
            if self.training:
                z = Tensor((get_generator().random(s.shape) < self.p).astype(s.dtype))
            else:
                z = Tensor(np.full(s.shape, self.p, dtype=s.dtype))
            s = z * s + (1 - z) * new
            states.append(s)
        return mf.stack(states, axis=0), s
