"""Whole-function differentiation (grad, jacobian, vjp) and the gradient checkers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.ops import Elementwise
from minigrad.tensor import apply_op
from minigrad.testing import arrays, broadcastable_shapes, positive_arrays


class WrongSquare(Elementwise):
    r"""$y = x^2$ with a deliberately wrong derivative $x$ (should be $2x$)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return x * x

    def derivative(self, i):
        return self.x


def wrong_square(t):
    return apply_op(WrongSquare(), t)


def f_two_inputs(a, b):
    return (a * b).tanh() + a.exp() / (1.0 + b * b)


# ----- grad ------------------------------------------------------------------------------------
def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, -1.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = mg.grad(y, [x, w], retain_graph=True)  # kept for the second call below
    np.testing.assert_array_equal(gx, w.data)
    np.testing.assert_array_equal(gw, x.data)
    assert x.grad is None and w.grad is None
    gx_only = mg.grad(y, x)  # a single input gives a single array
    assert isinstance(gx_only, np.ndarray)
    np.testing.assert_array_equal(gx_only, w.data)


def test_grad_with_grad_outputs_and_unused_input():
    x, z = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([5.0], requires_grad=True)
    y = x * 3.0
    gx, gz = mg.grad(y, [x, z], grad_outputs=np.array([1.0, -2.0]), retain_graph=True, materialize_grads=True)
    np.testing.assert_array_equal(gx, [3.0, -6.0])
    np.testing.assert_array_equal(gz, [0.0])
    gx, gz = mg.grad(y, [x, z], grad_outputs=np.array([1.0, -2.0]), retain_graph=True, allow_unused=True)
    assert gz is None  # PyTorch's allow_unused
    with pytest.raises(ValueError, match=r"inputs\[1\] was not used.*allow_unused=True"):
        mg.grad(y, [x, z], grad_outputs=np.array([1.0, -2.0]))


def test_grad_of_intermediate_and_multiple_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    y1, y2 = (h * h).sum(), h.sum()
    (gh,) = mg.grad([y1, y2], [h])
    np.testing.assert_array_equal(gh, 2 * h.data + 1.0)
    assert h.grad is None


def test_grad_errors():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\].*\(2,\)"):
        mg.grad(x * 2.0, x)
    with pytest.raises(ValueError, match="requires_grad"):
        mg.grad((x * 2.0).sum(), mg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"must have shape \(2,\), got \(3,\)"):
        mg.grad(x * 2.0, x, grad_outputs=np.ones(3))


# ----- jacobian ---------------------------------------------------------------------------------
@given(broadcastable_shapes(2, max_dims=2).flatmap(
    lambda s: arrays(s[0]).flatmap(lambda a: arrays(s[1]).map(lambda b: (a, b)))
))  # fmt: skip
def test_jacobian_shape_and_values_match_numerical(ab):
    a, b = ab
    Ja, Jb = mg.jacobian(f_two_inputs, a, b)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    assert Ja.shape == out_shape + a.shape and Jb.shape == out_shape + b.shape
    Na, Nb = mg.numerical_jacobian(f_two_inputs, (a, b))
    np.testing.assert_allclose(Ja, Na, atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(Jb, Nb, atol=1e-7, rtol=1e-6)


def test_jacobian_of_softmax_is_diag_minus_outer():
    x = np.array([0.1, -1.0, 2.0])
    J = mg.jacobian(lambda t: mg.softmax(t), x)
    s = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), atol=1e-15)


def test_jacobian_single_input_and_constant_output():
    J = mg.jacobian(lambda t: t.sum(axis=1), np.ones((2, 3)))
    assert J.shape == (2, 2, 3)
    np.testing.assert_array_equal(J, np.repeat(np.eye(2)[:, :, None], 3, axis=2))
    with mg.no_grad():
        pass
    J0 = mg.jacobian(lambda t: mg.tensor([1.0, 2.0]), np.ones(3))
    np.testing.assert_array_equal(J0, np.zeros((2, 3)))


def test_jacobian_does_not_touch_the_callers_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.jacobian(lambda t: t * t, x)
    assert x.grad is None


# ----- vjp --------------------------------------------------------------------------------------
@given(arrays((2, 3)), arrays((2, 3)))
def test_vjp_equals_v_transpose_jacobian(x, v):
    out, g = mg.vjp(lambda t: t.tanh() * t, x, v)
    np.testing.assert_allclose(out.data, np.tanh(x) * x)
    assert not out.requires_grad
    J = mg.jacobian(lambda t: t.tanh() * t, x).reshape(6, 6)
    np.testing.assert_allclose(g.ravel(), J.T @ v.ravel(), atol=1e-14)


def test_vjp_with_two_inputs():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, (ga, gb) = mg.vjp(lambda p, q: p * q, (a, b), np.array([1.0, 10.0]))
    np.testing.assert_array_equal(ga, [3.0, 40.0])
    np.testing.assert_array_equal(gb, [1.0, 20.0])


# ----- numerical_jacobian -------------------------------------------------------------------------
def test_numerical_jacobian_of_a_linear_map_is_exact_enough():
    W = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    J = mg.numerical_jacobian(lambda t: t @ W.T, np.array([0.3, -0.2, 1.0]))
    np.testing.assert_allclose(J, W, atol=1e-9)


def test_numerical_jacobian_does_not_modify_inputs_and_builds_no_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def f(t):
        seen.append(t.requires_grad or mg.is_grad_enabled())
        return t * t

    before = x.data.copy()
    J = mg.numerical_jacobian(f, x)
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_allclose(J, np.diag(2 * before), atol=1e-8)
    assert not any(seen)


# ----- gradcheck --------------------------------------------------------------------------------
@given(arrays((3,)), positive_arrays((2, 3)))
def test_gradcheck_passes_on_correct_functions(a, b):
    assert mg.gradcheck(lambda p, q: (p * q.log() + q.sqrt()).sum(axis=0), (a, b))


def test_gradcheck_fails_on_a_wrong_op_naming_input_element_and_values():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(wrong_square, x)
    msg = str(info.value)
    # element 0: analytic 1.0 (the wrong x) vs numerical 2.0 (the true 2x)
    assert "input 0" in msg and "(0,)" in msg, msg
    assert "analytic 1.0" in msg and "numerical 2.0" in msg, msg
    assert mg.gradcheck(wrong_square, x, raise_exception=False) is False


def test_gradcheck_names_the_second_input():
    a, b = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(lambda p, q: p + wrong_square(q), (a, b))


def test_gradcheck_skips_inputs_without_requires_grad():
    a = mg.tensor([0.5, 1.0], requires_grad=True)
    b = mg.tensor([2.0, 3.0])  # a constant: its (wrong) gradient is not checked
    assert mg.gradcheck(lambda p, q: p * 2.0 + wrong_square(q), (a, b))
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda q: wrong_square(q), (b,))


def test_gradcheck_warns_on_float32():
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        mg.gradcheck(lambda t: t * 2.0, x, eps=1e-2, atol=1e-2)


def test_gradcheck_silent_on_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.gradcheck(lambda t: t * t, np.array([1.0, 2.0]))
