r"""Elementwise functions of one tensor: exp, log, sqrt, abs, clip.

Each Jacobian is diagonal, $J = \mathrm{diag}(f'(x))$: output $k$ depends on input $k$ only.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Elementwise


class Exp(Elementwise):
    r"""$y = e^x$;  $\partial y/\partial x = e^x = y$."""

    __slots__ = ()

    def forward(self, x):
        with np.errstate(over="ignore"):  # e^1000 = inf, without NumPy's overflow warning
            y = np.exp(x)
        self.save(y)
        return y

    def derivative(self, i, xp=np):
        (y,) = self.saved
        return y

    def saved_tensors(self, xp):
        return (xp.exp(self.inputs[0]),)


class Log(Elementwise):
    r"""$y = \ln x$;  $\partial y/\partial x = 1/x$ (inf at 0, as NumPy gives)."""

    __slots__ = ()

    def forward(self, x):
        self.save(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf, log -1 = nan: values, not warnings
            return np.log(x)

    def derivative(self, i, xp=np):
        (x,) = self.saved
        with np.errstate(divide="ignore"):
            return 1.0 / x

    def saved_tensors(self, xp):
        return self.inputs  # forward saved its inputs


class Sqrt(Elementwise):
    r"""$y = \sqrt{x}$;  $\partial y/\partial x = 1/(2\sqrt{x})$ (inf at 0)."""

    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # sqrt(-1) = nan, without NumPy's warning
            y = np.sqrt(x)
        self.save(y)
        return y

    def derivative(self, i, xp=np):
        (y,) = self.saved
        with np.errstate(divide="ignore"):
            return 0.5 / y

    def saved_tensors(self, xp):
        return (xp.sqrt(self.inputs[0]),)


class Abs(Elementwise):
    r"""$y = |x|$;  $\partial y/\partial x = \mathrm{sign}(x)$ (0 at the kink, like PyTorch)."""

    __slots__ = ()

    def forward(self, x):
        self.save(x)
        return np.abs(x)

    def derivative(self, i, xp=np):
        (x,) = self.saved
        return np.sign(x)


class Clip(Elementwise):
    r"""$y = \min(\max(x, a_{min}), a_{max})$;  $\partial y/\partial x = 1$ inside $[a_{min}, a_{max}]$, else 0."""

    __slots__ = ("a_min", "a_max")

    def __init__(self, a_min=None, a_max=None):
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given, got both None")
        for name, bound in (("a_min", a_min), ("a_max", a_max)):
            if bound is not None and np.asarray(getattr(bound, "data", bound)).dtype.kind not in "biuf":
                raise TypeError(f"clip: {name} must be a real number (or None), got {bound!r}")
        self.a_min, self.a_max = a_min, a_max

    def forward(self, x):
        self.save(x)
        return np.clip(x, self.a_min, self.a_max)

    def derivative(self, i, xp=np):
        (x,) = self.saved
        inside = np.ones(x.shape, dtype=bool)
        if self.a_min is not None:
            inside &= x >= self.a_min
        if self.a_max is not None:
            inside &= x <= self.a_max
        return inside
