"""``x * x`` (one array on both sides): Mul computes the shared VJP once; it must stay right."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.gradcheck import gradcheck
from minigrad.ops import Mul

arrays = hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                    elements=st.floats(-3, 3))  # fmt: skip


@given(arrays)
def test_square_by_mul_gradient_is_2x(a):
    x = mg.tensor(a, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * a, rtol=1e-14)
    assert gradcheck(lambda t: t * t, [mg.tensor(a, requires_grad=True)])


@given(arrays, st.integers(0, 2**16))
def test_same_array_both_sides_vjp_matches_each_jacobian(a, seed):
    op = Mul()
    op(a, a)
    g = np.random.default_rng(seed).normal(size=a.shape)
    ga, gb = op.vjp(g)
    for i, gi in enumerate((ga, gb)):
        np.testing.assert_allclose(gi.ravel(), op.jacobian(i).T @ g.ravel(), rtol=1e-14)
