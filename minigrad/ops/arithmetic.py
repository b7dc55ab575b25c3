r"""Arithmetic: the binary operators, negation, powers, and elementwise selection.

All broadcast like NumPy. Each returns its input gradients in the *output's*
shape; the engine sums them back to each input's shape (see ``broadcast.py``).
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Elementwise


class Add(Elementwise):
    r"""$y = a + b$;  $\partial y/\partial a = \partial y/\partial b = 1$."""

    __slots__ = ()

    def forward(self, a, b):
        return a + b

    def derivative(self, i, xp=np):
        return 1.0

    def vjp(self, grad_out):
        # The gradient passes through unchanged to both inputs (no multiply by 1).
        return grad_out, grad_out


class Sub(Elementwise):
    r"""$y = a - b$;  $\partial y/\partial a = 1$, $\partial y/\partial b = -1$."""

    __slots__ = ()

    def forward(self, a, b):
        return a - b

    def derivative(self, i, xp=np):
        return 1.0 if i == 0 else -1.0

    def vjp(self, grad_out):
        return grad_out, (-grad_out if self.needs_grad[1] else None)


class Mul(Elementwise):
    r"""$y = a \odot b$;  $\partial y/\partial a = b$, $\partial y/\partial b = a$."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def derivative(self, i, xp=np):
        a, b = self.saved
        return b if i == 0 else a

    def saved_tensors(self, xp):
        return self.inputs  # forward saved its inputs

    def vjp(self, grad_out):
        a, b = self.saved
        if a is b:  # x * x: both gradients are g * x, computed once
            g = grad_out * a
            return g, g
        need = self.needs_grad
        return (grad_out * b if need[0] else None), (grad_out * a if need[1] else None)


class Div(Elementwise):
    r"""$y = a / b$;  $\partial y/\partial a = 1/b$, $\partial y/\partial b = -a/b^2$."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        with np.errstate(all="ignore"):  # x/0 = ±inf, 0/0 = nan, as IEEE says, without NumPy's warning
            return a / b

    def derivative(self, i, xp=np):
        a, b = self.saved
        with np.errstate(all="ignore"):
            return 1.0 / b if i == 0 else -a / (b * b)

    def saved_tensors(self, xp):
        return self.inputs  # forward saved its inputs


class Neg(Elementwise):
    r"""$y = -x$;  $\partial y/\partial x = -1$."""

    __slots__ = ()

    def forward(self, x):
        return -x

    def derivative(self, i, xp=np):
        return -1.0

    def vjp(self, grad_out):
        return (-grad_out,)


class Pow(Elementwise):
    r"""$y = a^b$;  $\partial y/\partial a = b\,a^{b-1}$, $\partial y/\partial b = a^b \ln a$.

    PyTorch's choices at the edges: $\partial y/\partial a = 0$ where $b = 0$ ($a^0 = 1$ is flat,
    even at $a = 0$, where $0 \cdot 0^{-1}$ would be NaN), and $\partial y/\partial b = 0$ where
    $a = 0$ and $b \ge 0$ ($0^b$ is flat in $b$ there, where $0 \cdot \ln 0$ would be NaN).
    """

    __slots__ = ()

    def forward(self, a, b):
        with np.errstate(all="ignore"):  # 0**-1 = inf, (-1)**0.5 = nan, without NumPy's warning
            y = a**b
        self.save(a, b, y)
        return y

    def derivative(self, i, xp=np):
        a, b, y = self.saved
        with np.errstate(all="ignore"):
            if i == 0:  # np.asarray: the masks are constants, also when a and b are tensors
                # only where a^(b-1) is inf or NaN (a = 0, a = NaN): elsewhere b a^(b-1) is already 0 at
                # b = 0, and unmasked it keeps its derivative in b, so a recorded Hessian stays symmetric
                a_, b_ = np.asarray(a), np.asarray(b)
                return xp.where((b_ == 0) & ((a_ == 0) | np.isnan(a_)), 0.0, b * a ** (b - 1))
            return xp.where((np.asarray(a) == 0) & (np.asarray(b) >= 0), 0.0, y * xp.log(a))

    def saved_tensors(self, xp):
        a, b = self.inputs
        return a, b, a**b


def routed(x: np.ndarray, other: np.ndarray, wins: np.ndarray) -> np.ndarray:
    """The share of the gradient of max/min(x, other) that goes to ``x``: 1 where ``x`` ``wins``,
    1/2 on ties. A NaN is the result (NumPy propagates it), so it takes the gradient."""
    x_nan, other_nan = np.isnan(x), np.isnan(other)
    return (wins | (x_nan & ~other_nan)) + 0.5 * ((x == other) | (x_nan & other_nan))


class _Extremum(Elementwise):
    """max or min of two inputs: $y$ is one of them, so the gradient goes to the input that ``wins``
    (split evenly on ties). A subclass names NumPy's function (``pick``) and its comparison (``wins``)."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        return self.pick(a, b)

    def derivative(self, i, xp=np):
        a, b = self.saved
        return routed(a, b, self.wins(a, b)) if i == 0 else routed(b, a, self.wins(b, a))


class Maximum(_Extremum):
    r"""$y = \max(a, b)$ elementwise; the gradient goes to the larger input (split evenly on ties)."""

    __slots__ = ()
    pick, wins = np.maximum, np.greater  # y = max(a, b); a wins where a > b


class Minimum(_Extremum):
    r"""$y = \min(a, b)$ elementwise; the gradient goes to the smaller input (split evenly on ties)."""

    __slots__ = ()
    pick, wins = np.minimum, np.less  # y = min(a, b); a wins where a < b


class Where(Elementwise):
    r"""$y = c \,?\, a : b$ elementwise; $\partial y/\partial a = c$, $\partial y/\partial b = 1-c$.

    The condition $c$ is boolean, so it has no gradient.
    """

    __slots__ = ()

    def forward(self, cond, a, b):
        c = cond.astype(bool)
        self.save(c)
        return np.where(c, a, b)

    def derivative(self, i, xp=np):
        (c,) = self.saved
        if i == 0:
            return np.zeros(c.shape)
        return c if i == 1 else ~c

    def vjp(self, grad_out):
        (c,) = self.saved
        zero = np.zeros((), dtype=grad_out.dtype)
        return (
            None,
            np.where(c, grad_out, zero) if self.needs_grad[1] else None,
            np.where(c, zero, grad_out) if self.needs_grad[2] else None,
        )
