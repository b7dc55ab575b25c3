"""``.grad`` takes a gradient's memory without a copy only when nothing else holds that memory.

``engine._grad_without_copy`` (issue 28) skips ``backward``'s copy of a fresh gradient. These tests
pin the other side: every gradient that is shared -- with another tensor's ``.grad``, the caller's
seed, a retained intermediate gradient, or an array an op keeps -- is still copied, so writing into
one ``.grad`` never changes anything else.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import engine
from minigrad.grad_array import GradArray
from minigrad.ops.base import Op
from minigrad.tensor import apply_op


def leaf(values) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_a_fresh_gradient_is_taken_without_a_copy(monkeypatch):
    copies = []
    monkeypatch.setattr(engine, "grad_array", lambda g, dtype: copies.append(g) or g.copy().view(GradArray))
    W, b = leaf(np.ones((3, 2))), leaf(np.ones(2))
    (mg.tensor(np.ones((4, 3))) @ W + b).sum().backward()
    assert copies == []  # W's gradient comes from a matmul, b's from a sum: both fresh
    np.testing.assert_array_equal(W.grad, np.full((3, 2), 4.0))
    np.testing.assert_array_equal(b.grad, np.full(2, 4.0))
    assert type(W.grad) is GradArray and W.grad.flags.writeable


def test_one_array_given_to_two_inputs_is_copied():
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + c).backward(np.ones(2))  # Add's vjp hands the same seed array to both
    assert not np.shares_memory(a.grad, c.grad)
    a.grad.zero_()
    np.testing.assert_array_equal(c.grad, [1.0, 1.0])


def test_the_callers_seed_is_copied():
    a = leaf([1.0, 2.0])
    seed = np.array([5.0, 6.0])
    a.backward(seed)  # a leaf: its gradient is the seed itself
    assert not np.shares_memory(a.grad, seed)
    seed[:] = 0
    np.testing.assert_array_equal(a.grad, [5.0, 6.0])


def test_a_view_of_a_retained_gradient_is_copied():
    a = leaf([1.0, 2.0, 3.0])
    y = a.reshape(3, 1)
    y.retain_grad()
    (y * 2.0).sum().backward()  # a's gradient is a reshaped view of y's
    assert not np.shares_memory(a.grad, y.grad)


class _KeepsItsGradient(Op):
    """y = 2x, whose vjp returns an array the op keeps (as an op may cache one), or a view of it."""

    __slots__ = ("kept", "as_view")

    def __init__(self, as_view: bool) -> None:
        self.as_view = as_view

    def forward(self, x):
        self.kept = np.full(x.shape, 2.0)
        return 2.0 * x

    def vjp(self, grad_out):
        return (self.kept[:] if self.as_view else self.kept,)


@pytest.mark.parametrize("as_view", [False, True])
def test_an_array_an_op_keeps_is_copied(as_view):
    a = leaf([1.0, 2.0])
    y = apply_op(_KeepsItsGradient(as_view), a)
    y.backward(np.ones(2), retain_graph=True)
    assert not np.shares_memory(a.grad, y._op.kept)
    a.grad.zero_()
    np.testing.assert_array_equal(y._op.kept, [2.0, 2.0])


def test_accumulating_leaves_the_previous_grad_unchanged():
    W = leaf(np.ones((3, 2)))
    x = mg.tensor(np.ones((4, 3)))
    (x @ W).sum().backward()
    first = W.grad
    (x @ W).sum().backward()  # .grad = old + new, out of place
    np.testing.assert_array_equal(first, np.full((3, 2), 4.0))
    np.testing.assert_array_equal(W.grad, np.full((3, 2), 8.0))
