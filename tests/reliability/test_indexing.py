"""Every index form NumPy accepts differentiates as PyTorch does: a repeated pick adds its gradients.

Tuples and lists of ints inside an index are index arrays (``W[rows, cols]`` with
``rows, cols = zip(*pairs)``); ints, slices (any step), ``None`` and ``...`` pick each element once.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_tuple_parts_from_zip_sum_a_repeated_pair():
    W = mg.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    rows, cols = zip(*[(0, 1), (0, 1), (2, 2)])
    (W[rows, cols] * mg.tensor([2.0, 3.0, 4.0])).sum().backward()
    expected = np.zeros((3, 3))
    expected[0, 1], expected[2, 2] = 5.0, 4.0  # 2 + 3: PyTorch's index_put accumulates
    np.testing.assert_array_equal(W.grad, expected)


def test_jacobian_of_a_repeated_tuple_index():
    J = mg.jacobian(lambda v: v[(0, 0),], np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(J, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "index",
    [
        ((0, 0), (1, 1)),
        ([0, 0], [1, 1]),
        (np.array([0, 0]), np.array([1, 1])),
        ((0, 0), slice(None, None, -1)),
        (Ellipsis, (1, 1)),
        (None, (0, 0)),
        (slice(None, None, -2), (2, 2, 0)),
        (np.array([True, False]), (1, 1)),
        True,
        (0, ...),
    ],
    ids=["tuples", "lists", "arrays", "tuple+negative step", "ellipsis+tuple", "None+tuple", "step -2+tuple",
         "mask+tuple", "True", "int+ellipsis"],  # fmt: skip
)
def test_every_index_form_matches_the_scatter_add(index):
    x0 = np.arange(6.0).reshape(2, 3)
    x = mg.tensor(x0, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, x0[index])
    g = np.arange(1.0, 1.0 + y.size).reshape(y.shape)
    y.backward(g)
    expected = np.zeros_like(x0)
    np.add.at(expected, index, g)  # each pick adds its gradient
    np.testing.assert_array_equal(x.grad, expected)


def test_the_index_is_copied_before_backward():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = np.array([0, 0])
    y = x[idx]
    idx[:] = 2  # the caller reuses its index array
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 0.0])
