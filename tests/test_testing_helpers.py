"""minigrad.testing: the strategies keep their promises, and the assertion can fail."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.ops import Elementwise
from minigrad.tensor import apply_op
from minigrad.testing import (
    arrays,
    assert_gradients_match,
    broadcastable_shapes,
    distinct_arrays,
    floats,
    positive_arrays,
    shapes,
)  # fmt: skip


# ----- strategies -----------------------------------------------------------------------------
@given(shapes(min_dims=1, max_dims=2, max_side=4))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 2 and all(1 <= n <= 4 for n in shape)


@given(broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shape_triple):
    assert len(shape_triple) == 3
    np.broadcast_shapes(*shape_triple)  # raises if they do not


@given(floats(-1.0, 1.0, away_from=[0.0, 0.5], margin=0.01))
def test_floats_keep_away_from_kinks(v):
    assert abs(v) >= 0.01 and abs(v - 0.5) >= 0.01


@given(arrays((4, 3), away_from=[0.0], margin=1e-3))
def test_arrays_shape_dtype_and_kinks(x):
    assert x.shape == (4, 3) and x.dtype == np.float64
    assert np.all(np.abs(x) >= 1e-3) and np.all(np.isfinite(x))


@given(arrays(shapes(), dtype=np.float32))
def test_float32_arrays(x):
    assert x.dtype == np.float32


@given(positive_arrays((5,)))
def test_positive_arrays(x):
    assert np.all(x >= 0.1)


def test_positive_arrays_rejects_nonpositive_minimum():
    with pytest.raises(ValueError, match="min_value must be > 0, got 0"):
        positive_arrays(min_value=0.0)


@given(distinct_arrays(shapes(max_side=3)), distinct_arrays(shapes(max_side=3), offset=0.125))
def test_distinct_arrays_have_no_near_ties(a, b):
    values = np.sort(a.ravel())
    assert np.all(np.diff(values) >= 0.125)
    # lattice offset by half a spacing: no element of a is near any element of b
    assert np.min(np.abs(a.ravel()[:, None] - b.ravel()[None, :])) >= 0.0625


@given(distinct_arrays((10, 10)))
def test_distinct_arrays_widen_the_range_for_large_shapes(a):
    assert np.all(np.diff(np.sort(a.ravel())) >= 0.125)


# ----- assert_gradients_match -----------------------------------------------------------------
class WrongSigmoid(Elementwise):
    r"""$\sigma(x)$ with the derivative off by a factor 1.01: a subtle bug to catch."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def derivative(self, i):
        return 1.01 * self.out * (1 - self.out)


class MutatingDouble(Elementwise):
    r"""$y = 2x$, but it writes into its input: the assertion must notice."""

    __slots__ = ()

    def forward(self, x):
        x *= 2.0
        return x.copy()

    def derivative(self, i):
        return 2.0


@given(arrays((3,)))
def test_assertion_passes_on_correct_gradients(x):
    assert_gradients_match(lambda t: (t * t).tanh(), [x])


def test_assertion_fails_on_a_subtly_wrong_derivative_and_says_where():
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(lambda t: apply_op(WrongSigmoid(), t), [x])
    msg = str(info.value)
    assert "input 0" in msg and "element (0,)" in msg and "3 of 3" in msg, msg
    assert "np.float64" not in msg


def test_assertion_catches_input_mutation():
    with pytest.raises(AssertionError, match="modified its input 0"):
        assert_gradients_match(lambda t: apply_op(MutatingDouble(), t), [np.array([1.0, 2.0])])


def test_assertion_treats_integer_bool_and_constant_tensors_as_constants():
    x = np.array([1.0, -2.0, 3.0])
    cond = np.array([True, False, True])
    idx = np.array([2, 0, 0])
    c = mg.tensor([5.0, 6.0, 7.0])  # no requires_grad: a constant
    assert_gradients_match(lambda t, m, i, k: mg.where(m, t, k)[i] * t[i], [x, cond, idx, c])


def test_assertion_with_explicit_grad_output_and_errors():
    x = np.array([1.0, 2.0])
    assert_gradients_match(lambda t: t * t, [x], grad_output=np.array([1.0, -3.0]))
    with pytest.raises(ValueError, match=r"grad_output.*\(2,\).*\(3,\)"):
        assert_gradients_match(lambda t: t * t, [x], grad_output=np.ones(3))
    with pytest.raises(ValueError, match="no input"):
        assert_gradients_match(lambda i: mg.tensor([1.0]), [np.array([1, 2])])
    with pytest.raises(TypeError, match="must return a Tensor"):
        assert_gradients_match(lambda t: t.data, [x])


def test_assertion_catches_a_cut_graph():
    # Detaching hides the dependence from autograd; central differences still see it.
    x = np.array([1.0, 2.0])
    with pytest.raises(AssertionError, match="input 0"):
        assert_gradients_match(lambda t: t.detach() * 3.0 + 0.0 * t, [x])
