r"""Reductions over NumPy-style ``axis`` (None, an int, or a tuple) with ``keepdims``.

A reduction's gradient *spreads* $g$ back over the reduced axes: ``expand`` puts the
reduced axes back (size 1), and broadcasting does the spreading.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, source_index


def normalize_axis(axis, ndim: int, name: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints; a clear ValueError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (int, np.integer, tuple, list)):  # tuple(1.0) would fail with NumPy's words
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"{name}: axis {ax} is out of range for a tensor with {ndim} dimensions")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis contains a repeated axis: {axis!r}")
    return tuple(sorted(out))


class Reduction(Op):
    """Shared bookkeeping: which axes were reduced, and how to put them back."""

    __slots__ = ("axis", "keepdims", "axes")

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def resolve(self, x: np.ndarray) -> tuple[int, ...]:
        self.axes = normalize_axis(self.axis, x.ndim, self.name.lower())
        return self.axes

    def expand(self, a: np.ndarray) -> np.ndarray:
        """Re-insert the reduced axes as size 1, so ``a`` broadcasts against the input."""
        return a if self.keepdims else np.expand_dims(a, self.axes)

    def kept_shape(self) -> tuple:
        """The input's shape with the reduced axes as size 1: where a gradient of the output spreads."""
        return tuple(1 if a in self.axes else n for a, n in enumerate(self.in_shapes[0]))

    def count(self) -> int:
        """How many input elements went into each output element."""
        shape = self.in_shapes[0]
        return int(np.prod([shape[a] for a in self.axes]))

    def reduction_jacobian(self, weight) -> np.ndarray:
        """Each input element feeds one output element, with ``weight``: one nonzero per column."""
        in_shape = self.in_shapes[0]
        kept_shape = tuple(1 if a in self.axes else n for a, n in enumerate(in_shape))
        target = source_index(kept_shape, in_shape)
        J = np.zeros((int(np.prod(self.out_shape)), int(np.prod(in_shape))))
        J[target, np.arange(J.shape[1])] = np.broadcast_to(weight, in_shape).ravel()
        return J


class Sum(Reduction):
    r"""$y = \sum_{k \in \text{axes}} x_k$;  $\partial y/\partial x_k = 1$: $g$ is copied to every summand."""

    __slots__ = ()

    def forward(self, x):
        return np.sum(x, axis=self.resolve(x), keepdims=self.keepdims)

    def vjp(self, grad_out):
        return (np.broadcast_to(self.expand(grad_out), self.in_shapes[0]),)

    def recorded_vjp(self, grad_out, xp):
        return (xp.broadcast_to(xp.reshape(grad_out, self.kept_shape()), self.in_shapes[0]),)

    def jvp(self, t):
        r"""$\dot y = \sum_k \dot x_k$: the tangent reduced like the input."""
        return np.sum(t, axis=self.axes, keepdims=self.keepdims)

    def jacobian(self, i):
        return self.reduction_jacobian(1.0)


class Mean(Reduction):
    r"""$y = \frac1n \sum_k x_k$;  $\partial y/\partial x_k = 1/n$."""

    __slots__ = ()

    def forward(self, x):
        axes = self.resolve(x)
        if self.count() == 0:  # the mean of nothing is NaN (NumPy, PyTorch), without NumPy's warning
            return np.full(np.sum(x, axis=axes, keepdims=self.keepdims).shape, np.nan, np.result_type(x, 1.0))
        return np.mean(x, axis=axes, keepdims=self.keepdims)

    def vjp(self, grad_out):
        # max(n, 1): an empty input gets an empty gradient, so n = 0 must not divide
        return (np.broadcast_to(self.expand(grad_out) / max(self.count(), 1), self.in_shapes[0]),)

    def recorded_vjp(self, grad_out, xp):
        spread = xp.reshape(grad_out, self.kept_shape()) / max(self.count(), 1)
        return (xp.broadcast_to(spread, self.in_shapes[0]),)

    def jvp(self, t):
        r"""$\dot y = \frac1n \sum_k \dot x_k$."""
        return np.mean(t, axis=self.axes, keepdims=self.keepdims)

    def jacobian(self, i):
        return self.reduction_jacobian(1.0 / max(self.count(), 1))


class Var(Reduction):
    r"""$y = \frac{1}{n - d} \sum_k (x_k - \bar x)^2$;  $\partial y/\partial x_k = 2(x_k - \bar x)/(n - d)$, $d$ = ddof.

    NumPy's default ``ddof=0`` (PyTorch's ``var`` defaults to the unbiased ``correction=1``).
    """

    __slots__ = ("ddof",)

    def __init__(self, axis=None, ddof: int = 0, keepdims: bool = False):
        super().__init__(axis, keepdims)
        self.ddof = ddof

    def forward(self, x):
        axes = self.resolve(x)
        if self.count() - self.ddof <= 0:
            raise ValueError(
                f"ddof must be smaller than the number of reduced elements ({self.count()}), got ddof={self.ddof}"
            )
        self.save(x - np.mean(x, axis=axes, keepdims=True))  # x - x̄
        return np.var(x, axis=axes, ddof=self.ddof, keepdims=self.keepdims)

    def vjp(self, grad_out):
        (centered,) = self.saved
        return (self.expand(grad_out) * centered * (2.0 / (self.count() - self.ddof)),)

    def recorded_vjp(self, grad_out, xp):
        (x,) = self.inputs
        centered = x - xp.mean(x, axis=self.axes, keepdims=True)
        return (xp.reshape(grad_out, self.kept_shape()) * centered * (2.0 / (self.count() - self.ddof)),)

    def jvp(self, t):
        r"""$\dot y = \frac{2}{n-d} \sum_k (x_k - \bar x)\, \dot x_k$."""
        (centered,) = self.saved
        return np.sum(centered * t, axis=self.axes, keepdims=self.keepdims) * (2.0 / (self.count() - self.ddof))


def max_or_minus_inf(x: np.ndarray, axis) -> np.ndarray:
    """``np.max(x, axis, keepdims=True)``, or -inf when ``x`` is empty (``np.max`` refuses a 0-size
    axis): the shift of a softmax or logsumexp over no elements, whose sum is 0."""
    if x.size == 0:
        return np.full(np.sum(x, axis=axis, keepdims=True).shape, -np.inf, np.result_type(x, 1.0))
    return np.max(x, axis=axis, keepdims=True)


def winners(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Where ``x`` equals its max/min ``out``: the elements that share the gradient. A NaN is the
    result (NumPy propagates it) and ``nan == nan`` is False, so NaNs are matched by ``isnan``."""
    return (x == out) | (np.isnan(x) & np.isnan(out))


class Max(Reduction):
    r"""$y = \max_k x_k$;  $\partial y/\partial x_k = [x_k = y] / \#\{\text{ties}\}$ (ties share the gradient)."""

    __slots__ = ()

    pick = staticmethod(np.max)  # Min picks np.min; everything else is shared

    def forward(self, x):
        out = self.pick(x, axis=self.resolve(x), keepdims=True)
        self.save(winners(x, out))  # where the extremes are
        return out if self.keepdims else np.squeeze(out, axis=self.axes)

    def vjp(self, grad_out):
        (mask,) = self.saved
        ties = mask.sum(axis=self.axes, keepdims=True)
        return (self.expand(grad_out) * mask / ties,)

    def recorded_vjp(self, grad_out, xp):
        (mask,) = self.saved  # piecewise linear: the routing is a constant, the second derivative 0
        share = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(grad_out.dtype)
        return (xp.reshape(grad_out, self.kept_shape()) * share,)

    def jvp(self, t):
        r"""$\dot y$ = the mean of $\dot x_k$ over the extremes (one $k$ unless there are ties)."""
        (mask,) = self.saved
        ties = mask.sum(axis=self.axes, keepdims=True)
        return np.sum(t * mask / ties, axis=self.axes, keepdims=self.keepdims)


class Min(Max):
    r"""$y = \min_k x_k$;  $\partial y/\partial x_k = [x_k = y] / \#\{\text{ties}\}$."""

    __slots__ = ()

    pick = staticmethod(np.min)


def _sum_beyond_one(x, m, e, axes):
    """Σ_k e_k − 1 without rounding 1 + (small) first: the max term is exactly 1, so leave it out.

    log(s) of s = 1 + 4.5e-5 (softplus(−10) = logsumexp([0, −10])) is 1.9e-11 off relative, since
    1 + 4.5e-5 is rounded before the log; log1p of the rest is exact to a few ulp. Ties at the max
    add 1 each; a row of all −inf (m set to 0, no tie) gives −1, so log1p gives −inf as wanted.
    """
    at_max = x == m
    rest = np.sum(np.where(at_max, 0, e), axis=axes, keepdims=True)
    return rest + (np.sum(at_max, axis=axes, keepdims=True, dtype=e.dtype) - 1)


class LogSumExp(Reduction):
    r"""$y = \log\sum_k e^{x_k}$;  $\partial y/\partial x_k = e^{x_k - y} = \mathrm{softmax}(x)_k$.

    Computed as $m + \log\sum_k e^{x_k - m}$ with $m = \max_k x_k$, so no term overflows, and the
    log as log1p of the terms beyond the max one's 1 (``_sum_beyond_one``), so small sums keep their digits.
    """

    __slots__ = ()

    def forward(self, x):
        axes = self.resolve(x)
        m = max_or_minus_inf(x, axes)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf) must not give nan via inf - inf
        with np.errstate(all="ignore"):  # a row with +inf or NaN gives inf or NaN, without warnings
            e = np.exp(x - m)
            s = np.sum(e, axis=axes, keepdims=True)
            empty = s == 0  # a row of all -inf: log 0 = -inf, as NumPy and PyTorch give, and no gradient
            out = np.log1p(_sum_beyond_one(x, m, e, axes)) + m
            softmax = e / np.where(empty, 1, s)  # what the gradient needs
            if np.isposinf(out).any():  # a row with +inf: e^(x - y) as PyTorch gives it (0, or NaN at the inf)
                softmax = np.where(out == np.inf, np.exp(x - out), softmax)
            self.save(softmax)
        return out if self.keepdims else np.squeeze(out, axis=axes)

    def vjp(self, grad_out):
        (softmax,) = self.saved
        return (self.expand(grad_out) * softmax,)

    def recorded_vjp(self, grad_out, xp):
        (x,) = self.inputs
        softmax = xp.exp(x - xp.logsumexp(x, axis=self.axes, keepdims=True))
        return (xp.reshape(grad_out, self.kept_shape()) * softmax,)

    def jvp(self, t):
        r"""$\dot y = \sum_k \mathrm{softmax}(x)_k\, \dot x_k$."""
        (softmax,) = self.saved
        return np.sum(softmax * t, axis=self.axes, keepdims=self.keepdims)
