r"""Recurrent initializations aimed at the step Jacobian $J_t = \mathrm{diag}(\sigma'(z_{t+1})) W_{hh}$.

* :func:`scaled_orthogonal_`: $W_{hh} = \gamma Q$, $Q$ Haar-orthogonal, so every singular value
  and $\rho(W_{hh})$ equal $\gamma$: $\gamma$ sets the gradient's per-step gain directly.
* :func:`identity_`: $W_{hh} = \gamma I$ (IRNN, Le et al. 2015, with ReLU and zero bias):
  the state is copied forward, $J_t = \mathrm{diag}([z_{t+1} > 0])\,\gamma$.
* :func:`forget_gate_bias_`: LSTM forget-gate bias for a retention probability $p$.
* :func:`chrono_init_`: LSTM gate biases for time scales up to $T_{\max}$ (Tallec & Ollivier 2018).

Gated cells stack G gate blocks in ``weight_hh`` (G*H, H): the matrix initializers fill each
H x H block on its own. Everything fills ``.data`` in place and draws from minigrad's generator.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import safety
from minigrad.arguments import describe, finite, number_in
from minigrad.random import get_generator
from minigrad.tensor import Tensor


def _square_blocks(tensor, name: str) -> tuple[int, int]:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be a minigrad Tensor, got {describe(tensor)}")
    if tensor.ndim != 2 or tensor.shape[0] % tensor.shape[1] != 0:
        raise ValueError(f"{name}: tensor must have shape (G*H, H), got {tensor.shape}")
    return tensor.shape[0] // tensor.shape[1], tensor.shape[1]


def _haar(n: int) -> np.ndarray:
    q, r = np.linalg.qr(get_generator().normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def scaled_orthogonal_(tensor: Tensor, gamma: float = 1.0) -> Tensor:
    r"""$W = \gamma Q$ (a $Q$ per gate block): $\rho(W) = \sigma_i(W) = \gamma$, $\kappa = 1$."""
    G, H = _square_blocks(tensor, "scaled_orthogonal_")
    gamma = number_in(gamma, "gamma", "scaled_orthogonal_", 0, low_open=True, high_open=True)
    safety.writable(tensor)[...] = np.concatenate([gamma * _haar(H) for _ in range(G)])
    return tensor


def identity_(tensor: Tensor, gamma: float = 1.0) -> Tensor:
    r"""$W = \gamma I$ in every gate block (IRNN: use with ReLU and zero biases)."""
    G, H = _square_blocks(tensor, "identity_")
    gamma = finite(gamma, "gamma", "identity_")
    safety.writable(tensor)[...] = np.concatenate([gamma * np.eye(H) for _ in range(G)])
    return tensor


def retention_logit(p: float) -> float:
    r"""$b_f = \log\frac{p}{1-p}$: the bias with $\sigma(b_f) = p$.

    The formula $b_f = \log\frac{1}{1-p}$, sometimes given for it, does not give that: $\sigma(\log\frac1{1-p})
    = \frac{1}{2-p}$, so $p = 0.5$ would retain $2/3$ and $p = 0$ would retain $1/2$ (it agrees
    only as $p \to 1$).
    """
    p = number_in(p, "p (the retention probability)", "retention_logit", 0, 1, low_open=True, high_open=True)
    return math.log(p / (1 - p))


def _lstm_biases(lstm, name: str):
    if getattr(lstm, "mode", None) != "LSTM":
        raise TypeError(f"{name}: lstm must be an LSTM or LSTMCell, got {describe(lstm)}")
    pairs = [(n, p) for n, p in lstm.named_parameters() if n.startswith("bias_")]
    if not pairs:
        raise ValueError(f"{name}: the LSTM has no biases (bias=False)")
    return lstm.hidden_size, pairs


def forget_gate_bias_(lstm, p: float):
    r"""Set the forget gate so that $f = \sigma(b_f) = p$ when its other inputs are 0.

    PyTorch's layout has two biases; their sum is the gate's bias, so ``bias_ih``'s forget
    slice (rows H..2H, gate order i, f, g, o) gets $\log\frac{p}{1-p}$ (see
    :func:`retention_logit`) and ``bias_hh``'s gets 0. Then $c_{t+1} \approx p\, c_t + \dots$: the
    cell's own Jacobian block $\partial c_{t+1}/\partial c_t = \mathrm{diag}(f) \approx p I$.
    """
    H, pairs = _lstm_biases(lstm, "forget_gate_bias_")
    b = retention_logit(p)
    for name, param in pairs:
        safety.writable(param)[H:2 * H] = b if name.startswith("bias_ih") else 0.0
    return lstm


def chrono_init_(lstm, T_max: float):
    r"""Chrono initialization: $b_f = \log u$, $u \sim U[1, T_{\max} - 1]$, and $b_i = -b_f$.

    A forget gate $f = \sigma(b_f)$ keeps memory for about $1/(1-f) \approx 1 + u$ steps, so the
    units get characteristic times spread over $[1, T_{\max}]$ (Tallec & Ollivier, "Can recurrent
    neural networks warp time?", 2018). A variant in use draws $b_f \sim \mathcal N(\log\tau, 1)$
    instead; this follows the paper. Set on ``bias_ih`` (``bias_hh``'s i and f slices become 0).
    """
    T_max = number_in(T_max, "T_max", "chrono_init_", 2, low_open=True, high_open=True)
    H, pairs = _lstm_biases(lstm, "chrono_init_")
    for name, param in pairs:
        if name.startswith("bias_ih"):
            bf = np.log(get_generator().uniform(1.0, T_max - 1.0, size=H))
            data = safety.writable(param)
            data[H:2 * H] = bf
            data[:H] = -bf
        else:
            safety.writable(param)[:2 * H] = 0.0
    return lstm
