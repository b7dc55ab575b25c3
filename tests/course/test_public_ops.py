"""Public checks of the op tasks of course/example_tasks.toml (``python -m minigrad.course check``).

Each test calls the op directly (``op(*arrays)``, then ``op.jacobian`` / ``op.vjp``) and
compares it with central differences of the op's own forward, or checks a property, so it
depends on the piece it checks and on nothing a student might still be missing (no engine).
The graded tests are hidden, exact, and tighter.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from public_helpers import numeric_jacobian

from minigrad.ops import Div, MatMul, Mul, ReLU, Sigmoid, Softmax, Tanh


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(x):
    """Shift values off the kink at 0 (ReLU) and the pole at 0 (division)."""
    return np.where(x >= 0, x + 0.1, x - 0.1)


def check_op(make_op, inputs, atol=1e-6):
    """``jacobian(i)`` (built from ``derivative(i)``) matches central differences, for every input."""
    op = make_op()
    op(*inputs)
    for i in range(len(inputs)):
        expected = numeric_jacobian(make_op, inputs, i)
        np.testing.assert_allclose(op.jacobian(i), expected, atol=atol, rtol=1e-5,
                                   err_msg=f"{op.name}: the Jacobian of input {i}, diag(derivative({i}))")  # fmt: skip


ELEMENTWISE = {"Sigmoid": Sigmoid, "Tanh": Tanh, "ReLU": ReLU}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(x=arrays(np.float64, (2, 3), elements=floats(-4, 4)))
def test_elementwise_derivative(name, x):
    check_op(ELEMENTWISE[name], [away_from_zero(x)])


@given(a=arrays(np.float64, (2, 3), elements=floats(-3, 3)),
       b=arrays(np.float64, (2, 3), elements=floats(-3, 3)))  # fmt: skip
def test_mul_derivative(a, b):
    check_op(Mul, [a, b])


@given(a=arrays(np.float64, (2, 3), elements=floats(-3, 3)),
       b=arrays(np.float64, (2, 3), elements=floats(0.5, 3)))  # fmt: skip
def test_div_derivative(a, b):
    check_op(Div, [a, b], atol=1e-5)


BROADCASTS = [((3, 1), (4, 3, 5)), ((5,), (2, 5)), ((1, 1), (3, 2)), ((2, 1, 3), (2, 4, 3)),
              ((), (2, 3)), ((2, 3), (2, 3))]  # fmt: skip


@pytest.mark.parametrize("shape, out_shape", BROADCASTS)
@given(data=st.data())
def test_unbroadcast(shape, out_shape, data):
    from minigrad.broadcast import unbroadcast

    g = data.draw(arrays(np.float64, out_shape, elements=floats(-2, 2)))
    v = data.draw(arrays(np.float64, shape, elements=floats(-2, 2)))
    got = unbroadcast(g, shape)
    assert np.shape(got) == shape, f"unbroadcast(g, {shape}) has shape {np.shape(got)}"
    # unbroadcast is the adjoint of broadcasting: <unbroadcast(g), v> = <g, broadcast_to(v)> for every v.
    assert np.isclose(np.sum(got * v), np.sum(g * np.broadcast_to(v, out_shape)), rtol=1e-9, atol=1e-9)


def test_unbroadcast_rejects_incompatible_shape():
    from minigrad.broadcast import unbroadcast

    with pytest.raises(ValueError):
        unbroadcast(np.ones((2, 3)), (4,))


MATMUL_SHAPES = [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
                 ((2, 2, 3), (2, 3, 2)), ((2, 2, 3), (3, 2))]  # fmt: skip


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
@given(data=st.data())
def test_matmul_vjp(a_shape, b_shape, data):
    a = data.draw(arrays(np.float64, a_shape, elements=floats(-2, 2)))
    b = data.draw(arrays(np.float64, b_shape, elements=floats(-2, 2)))
    g = data.draw(arrays(np.float64, np.matmul(a, b).shape, elements=floats(-1, 1)))
    op = MatMul()
    op(a, b)
    grad_a, grad_b = op.vjp(g)
    for i, (x, got) in enumerate([(a, grad_a), (b, grad_b)]):
        J = numeric_jacobian(MatMul, [a, b], i)
        expected = (J.T @ g.ravel()).reshape(x.shape)
        # Batch axes that broadcast are summed by the engine, not by the op.
        got = np.asarray(got)
        got = got.reshape((-1,) + x.shape).sum(axis=0) if got.shape != x.shape else got
        np.testing.assert_allclose(got, expected, atol=1e-6)


@given(a=arrays(np.float64, (2, 3), elements=floats(-2, 2)),
       b=arrays(np.float64, (3, 4), elements=floats(-2, 2)))  # fmt: skip
def test_matmul_jacobian(a, b):
    op = MatMul()
    op(a, b)
    for i in (0, 1):
        np.testing.assert_allclose(op.jacobian(i), numeric_jacobian(MatMul, [a, b], i), atol=1e-6)


@pytest.mark.parametrize("axis", [0, -1])
@given(x=arrays(np.float64, (2, 3), elements=floats(-3, 3)))
def test_softmax_jacobian(axis, x):
    op = Softmax(axis)
    op(x)
    expected = numeric_jacobian(lambda: Softmax(axis), [x], 0)
    np.testing.assert_allclose(op.jacobian(0), expected, atol=1e-6)
