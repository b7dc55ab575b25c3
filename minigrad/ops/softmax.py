r"""Softmax and log-softmax along one axis, shifted by the max so logits of size 1e4 are safe."""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, source_index
from minigrad.ops.reductions import max_or_minus_inf, normalize_axis


def same_row(shape: tuple, axis: int) -> np.ndarray:
    """``M[i, j]`` is True when flat elements i and j lie in the same softmax row."""
    row_shape = tuple(1 if a == axis else n for a, n in enumerate(shape))
    row = source_index(row_shape, shape)
    return row[:, None] == row[None, :]


class _AlongAxis(Op):
    """What Softmax and LogSoftmax share: both normalize along ``axis`` (forward makes it non-negative)."""

    __slots__ = ("axis",)

    def __init__(self, axis: int = -1):
        self.axis = axis


class Softmax(_AlongAxis):
    r"""$s_i = e^{x_i} / \sum_j e^{x_j}$;  $J = \mathrm{diag}(s) - s s^\top$ (per row),
    so $J^\top g = s \odot (g - \langle g, s\rangle)$."""

    __slots__ = ()

    def forward(self, x):
        (self.axis,) = normalize_axis(self.axis, x.ndim, "softmax")
        m = max_or_minus_inf(x, self.axis)  # an axis of size 0 is fine
        with np.errstate(invalid="ignore"):  # a row of all -inf (or with +inf) is NaN, as in PyTorch
            e = np.exp(x - m)
            s = e / np.sum(e, axis=self.axis, keepdims=True)
        self.save(s)
        return s

    def vjp(self, grad_out):
        (s,) = self.saved
        return (s * (grad_out - np.sum(grad_out * s, axis=self.axis, keepdims=True)),)

    def recorded_vjp(self, grad_out, xp):
        s = xp.softmax(self.inputs[0], axis=self.axis)
        return (s * (grad_out - xp.sum(grad_out * s, axis=self.axis, keepdims=True)),)

    def jvp(self, t):
        r"""$J\dot x = s \odot (\dot x - \langle s, \dot x\rangle)$: $J$ is symmetric."""
        (s,) = self.saved
        return s * (t - np.sum(s * t, axis=self.axis, keepdims=True))

    def jacobian(self, i):
        (s,) = self.saved
        return np.diag(s.ravel()) - np.outer(s, s) * same_row(s.shape, self.axis)


class LogSoftmax(_AlongAxis):
    r"""$y_i = x_i - \log\sum_j e^{x_j}$;  $J = I - \mathbf{1} s^\top$ (per row),
    so $J^\top g = g - s \sum_j g_j$."""

    __slots__ = ()

    def forward(self, x):
        (self.axis,) = normalize_axis(self.axis, x.ndim, "log_softmax")
        m = max_or_minus_inf(x, self.axis)  # an axis of size 0 is fine
        with np.errstate(invalid="ignore", divide="ignore"):  # a row of all -inf (or with +inf) is NaN, as PyTorch
            shifted = x - m
            e = np.exp(shifted)
            s = np.sum(e, axis=self.axis, keepdims=True)
            self.save(e / s)  # the softmax: what the gradient needs
            return shifted - np.log(s)

    def vjp(self, grad_out):
        (softmax,) = self.saved
        return (grad_out - softmax * np.sum(grad_out, axis=self.axis, keepdims=True),)

    def recorded_vjp(self, grad_out, xp):
        softmax = xp.softmax(self.inputs[0], axis=self.axis)
        return (grad_out - softmax * xp.sum(grad_out, axis=self.axis, keepdims=True),)

    def jvp(self, t):
        r"""$J\dot x = \dot x - \langle s, \dot x\rangle \mathbf{1}$."""
        (softmax,) = self.saved
        return t - np.sum(softmax * t, axis=self.axis, keepdims=True)

    def jacobian(self, i):
        (softmax,) = self.saved
        return np.eye(softmax.size) - softmax.ravel()[None, :] * same_row(softmax.shape, self.axis)
