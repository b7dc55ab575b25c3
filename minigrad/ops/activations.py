r"""Activation functions. Their derivatives are the φ'(z) in a recurrent step's Jacobian

    J_t = ∂h_{t+1}/∂h_t = diag(φ'(z_{t+1})) W_hh,   z_{t+1} = W_ih x_t + W_hh h_t + b,

so their *size* decides whether gradients vanish: max σ' = 1/4 for the sigmoid,
max tanh' = 1, ReLU's is exactly 0 or 1.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Elementwise
from minigrad.special import erf


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    r"""$\sigma(x) = 1/(1+e^{-x})$ without overflow: only ever exponentiate $-|x|$.

    Accurate to the last digits in both tails (the ``Sigmoid`` op's tests check it there).
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_in_place(x: np.ndarray) -> np.ndarray:
    r"""$\sigma(x) = \frac12(1 + \tanh(x/2))$, computed in ``x`` itself; returns ``x``.

    The gates of the fused LSTM, GRU and highway steps. The same function as
    :func:`stable_sigmoid` (never overflows), in four in-place passes and no temporary array.
    Measured reason (``benchmarks/compare_trees.py``, 5 interleaved rounds, 2026-12-06;
    benchmarks/README.md): with :func:`stable_sigmoid` for the gates the LSTM layer (T=64) was
    11% slower and the GRU layer 10% slower. The price: far in the negative tail the result carries an absolute
    error of about one float epsilon, a large relative error where σ is below ~1e-7 (a
    closed gate, whose exact tiny value does not matter); the ``Sigmoid`` op, whose tails are
    tested, keeps :func:`stable_sigmoid`.
    """
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


class Sigmoid(Elementwise):
    r"""$y = \sigma(x) = 1/(1+e^{-x})$;  $\partial y/\partial x = y(1-y) \le 1/4$."""

    __slots__ = ()

    def forward(self, x):
        y = stable_sigmoid(x)
        self.save(y)
        return y

    def derivative(self, i):
        (y,) = self.saved
        return y * (1 - y)


class Tanh(Elementwise):
    r"""$y = \tanh(x)$;  $\partial y/\partial x = 1 - y^2 \le 1$."""

    __slots__ = ()

    def forward(self, x):
        y = np.tanh(x)
        self.save(y)
        return y

    def derivative(self, i):
        (y,) = self.saved
        return 1 - y * y


class ReLU(Elementwise):
    r"""$y = \max(x, 0)$;  $\partial y/\partial x = [x > 0]$ (0 at the kink, like PyTorch)."""

    __slots__ = ()

    def forward(self, x):
        self.save(x)
        return np.maximum(x, 0)

    def derivative(self, i):
        (x,) = self.saved
        return ~(x <= 0)  # not `x > 0`: a NaN passes the gradient on, as in PyTorch


class LeakyReLU(Elementwise):
    r"""$y = x$ if $x > 0$ else $\alpha x$;  $\partial y/\partial x = 1$ or $\alpha$ (``negative_slope``)."""

    __slots__ = ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        self.save(x)
        return np.where(x > 0, x, self.negative_slope * x)

    def derivative(self, i):
        (x,) = self.saved
        return np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)


_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
_INV_SQRT_2 = 1.0 / np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


class GELU(Elementwise):
    r"""$y = x\,\Phi(x)$;  $\partial y/\partial x = \Phi(x) + x\,\varphi(x)$ ($\Phi$, $\varphi$: normal cdf, pdf).

    ``approximate='tanh'`` uses $\Phi(x) \approx \frac12(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$.
    """

    __slots__ = ("approximate",)

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        if self.approximate == "tanh":
            with np.errstate(over="ignore"):  # x**3 of a large x is inf, and tanh(inf) = 1
                t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            cdf = 0.5 * (1 + t)
            self.save(x, cdf, t)
        else:
            cdf = 0.5 * (1 + erf(x * _INV_SQRT_2))
            self.save(x, cdf)
        with np.errstate(invalid="ignore"):  # gelu(-inf) = -inf * 0 = nan, as in PyTorch, without a warning
            return (x * cdf).astype(x.dtype, copy=False)

    def derivative(self, i):
        with np.errstate(all="ignore"):  # at ±inf: inf * 0 = nan, as in PyTorch
            if self.approximate == "tanh":
                x, cdf, t = self.saved
                dt = (1 - t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
                return cdf + 0.5 * x * dt
            x, cdf = self.saved
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
            return cdf + x * pdf
