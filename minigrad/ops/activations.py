r"""Activation functions. Their derivatives are the $\sigma'(z_k)$ in the seed texts' Jacobian

$$J_k = \frac{\partial h_{k+1}}{\partial h_k} = \mathrm{diag}(\sigma'(z_k))\, W_{hh},$$

so their *size* decides whether gradients vanish: $\max \sigma'_{\text{sigmoid}} = 1/4$,
$\max \tanh' = 1$, ReLU's is exactly 0 or 1.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Elementwise
from minigrad.special import erf


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    r"""$\sigma(x) = 1/(1+e^{-x})$ without overflow: only ever exponentiate $-|x|$."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Sigmoid(Elementwise):
    r"""$y = \sigma(x) = 1/(1+e^{-x})$;  $\partial y/\partial x = y(1-y) \le 1/4$."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out

    def derivative(self, i):
        return self.out * (1 - self.out)


class Tanh(Elementwise):
    r"""$y = \tanh(x)$;  $\partial y/\partial x = 1 - y^2 \le 1$."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def derivative(self, i):
        return 1 - self.out * self.out


class ReLU(Elementwise):
    r"""$y = \max(x, 0)$;  $\partial y/\partial x = [x > 0]$ (0 at the kink, like PyTorch)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def derivative(self, i):
        return self.x > 0


class LeakyReLU(Elementwise):
    r"""$y = x$ if $x > 0$ else $\alpha x$;  $\partial y/\partial x = 1$ or $\alpha$ (``negative_slope``)."""

    __slots__ = ("x", "negative_slope")

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.negative_slope * x)

    def derivative(self, i):
        return np.where(self.x > 0, 1.0, self.negative_slope).astype(self.x.dtype, copy=False)


_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
_INV_SQRT_2 = 1.0 / np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


class GELU(Elementwise):
    r"""$y = x\,\Phi(x)$;  $\partial y/\partial x = \Phi(x) + x\,\varphi(x)$ ($\Phi$, $\varphi$: normal cdf, pdf).

    ``approximate='tanh'`` uses $\Phi(x) \approx \frac12(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$.
    """

    __slots__ = ("x", "approximate", "cdf", "t")

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        self.x = x
        if self.approximate == "tanh":
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            self.cdf = 0.5 * (1 + self.t)
        else:
            self.cdf = 0.5 * (1 + erf(x * _INV_SQRT_2))
        return (x * self.cdf).astype(x.dtype, copy=False)

    def derivative(self, i):
        x = self.x
        if self.approximate == "tanh":
            dt = (1 - self.t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
            return self.cdf + 0.5 * x * dt
        with np.errstate(under="ignore"):
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return self.cdf + x * pdf
