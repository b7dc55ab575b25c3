r"""Elementwise functions of one tensor: exp, log, sqrt, abs, clip.

Each Jacobian is diagonal, $J = \mathrm{diag}(f'(x))$: output $k$ depends on input $k$ only.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Elementwise


class Exp(Elementwise):
    r"""$y = e^x$;  $\partial y/\partial x = e^x = y$."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def derivative(self, i):
        return self.out


class Log(Elementwise):
    r"""$y = \ln x$;  $\partial y/\partial x = 1/x$ (inf at 0, as NumPy gives)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.log(x)

    def derivative(self, i):
        return 1.0 / self.x


class Sqrt(Elementwise):
    r"""$y = \sqrt{x}$;  $\partial y/\partial x = 1/(2\sqrt{x})$ (inf at 0)."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def derivative(self, i):
        return 0.5 / self.out


class Abs(Elementwise):
    r"""$y = |x|$;  $\partial y/\partial x = \mathrm{sign}(x)$ (0 at the kink, like PyTorch)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def derivative(self, i):
        return np.sign(self.x)


class Clip(Elementwise):
    r"""$y = \min(\max(x, a_{min}), a_{max})$;  $\partial y/\partial x = 1$ inside $[a_{min}, a_{max}]$, else 0."""

    __slots__ = ("x", "a_min", "a_max")

    def __init__(self, a_min=None, a_max=None):
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given, got both None")
        self.a_min, self.a_max = a_min, a_max

    def forward(self, x):
        self.x = x
        return np.clip(x, self.a_min, self.a_max)

    def derivative(self, i):
        inside = np.ones(self.x.shape, dtype=bool)
        if self.a_min is not None:
            inside &= self.x >= self.a_min
        if self.a_max is not None:
            inside &= self.x <= self.a_max
        return inside
