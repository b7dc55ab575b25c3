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

    def derivative(self, i):
        return 1.0

    def vjp(self, grad_out):
        # The gradient passes through unchanged to both inputs (no multiply by 1).
        return grad_out, grad_out


class Sub(Elementwise):
    r"""$y = a - b$;  $\partial y/\partial a = 1$, $\partial y/\partial b = -1$."""

    __slots__ = ()

    def forward(self, a, b):
        return a - b

    def derivative(self, i):
        return 1.0 if i == 0 else -1.0

    def vjp(self, grad_out):
        return grad_out, (-grad_out if self.needs_grad[1] else None)


class Mul(Elementwise):
    r"""$y = a \odot b$;  $\partial y/\partial a = b$, $\partial y/\partial b = a$."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def derivative(self, i):
        a, b = self.saved
        return b if i == 0 else a

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
        return a / b

    def derivative(self, i):
        a, b = self.saved
        return 1.0 / b if i == 0 else -a / (b * b)


class Neg(Elementwise):
    r"""$y = -x$;  $\partial y/\partial x = -1$."""

    __slots__ = ()

    def forward(self, x):
        return -x

    def derivative(self, i):
        return -1.0

    def vjp(self, grad_out):
        return (-grad_out,)


class Pow(Elementwise):
    r"""$y = a^b$;  $\partial y/\partial a = b\,a^{b-1}$, $\partial y/\partial b = a^b \ln a$.

    The exponent gradient uses $\ln a$, defined for $a > 0$; where $a = 0$ it is
    taken as 0 (PyTorch's choice: $0^b$ is flat in $b$ for $b > 0$).
    """

    __slots__ = ()

    def forward(self, a, b):
        y = a**b
        self.save(a, b, y)
        return y

    def derivative(self, i):
        a, b, y = self.saved
        if i == 0:
            return b * a ** (b - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a = np.log(np.where(a == 0, 1, a))
        return y * log_a


class Maximum(Elementwise):
    r"""$y = \max(a, b)$ elementwise; the gradient goes to the larger input (split evenly on ties)."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        return np.maximum(a, b)

    def derivative(self, i):
        a, b = self.saved
        wins = (a > b) if i == 0 else (b > a)
        return wins + 0.5 * (a == b)


class Minimum(Elementwise):
    r"""$y = \min(a, b)$ elementwise; the gradient goes to the smaller input (split evenly on ties)."""

    __slots__ = ()

    def forward(self, a, b):
        self.save(a, b)
        return np.minimum(a, b)

    def derivative(self, i):
        a, b = self.saved
        wins = (a < b) if i == 0 else (b < a)
        return wins + 0.5 * (a == b)


class Where(Elementwise):
    r"""$y = c \,?\, a : b$ elementwise; $\partial y/\partial a = c$, $\partial y/\partial b = 1-c$.

    The condition $c$ is boolean, so it has no gradient.
    """

    __slots__ = ()

    def forward(self, cond, a, b):
        c = cond.astype(bool)
        self.save(c)
        return np.where(c, a, b)

    def derivative(self, i):
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
