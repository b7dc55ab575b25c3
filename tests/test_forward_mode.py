"""minigrad.jvp and jacobian(strategy="forward-mode") against reverse mode, on random compositions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import assert_jvp_matches, central_jvp

M = np.array([[0.5, -1.0, 0.3], [0.2, 0.4, -0.7], [1.1, 0.0, 0.6]])

# Each step maps the running value v (2, 3) and the inputs x (2, 3), y (3,) to a new (2, 3) value.
STEPS = {
    "tanh": lambda v, x, y: mg.tanh(v),
    "sigmoid": lambda v, x, y: mg.sigmoid(v),
    "mul_y": lambda v, x, y: v * y,  # broadcasting
    "add_x": lambda v, x, y: v + x,
    "div": lambda v, x, y: v / (1.5 + mg.tanh(x)),
    "matmul": lambda v, x, y: v @ mg.tensor(M),
    "exp": lambda v, x, y: mg.exp(0.3 * v),
    "softmax": lambda v, x, y: mg.softmax(v, axis=1),
    "log_softmax": lambda v, x, y: mg.log_softmax(v, axis=0),
    "center": lambda v, x, y: v - v.mean(axis=0, keepdims=True),
    "var": lambda v, x, y: v * mg.var(v, axis=1, keepdims=True),
    "join": lambda v, x, y: mg.concatenate([v, x], axis=0)[1:3],
    "stack": lambda v, x, y: mg.stack([v, x * y], axis=0).sum(axis=0),
    "transpose": lambda v, x, y: (v.T @ mg.tensor(np.ones((2, 2)))).T.reshape(2, 3),
    "pow": lambda v, x, y: (v * v + 1.0) ** 0.5,
    "logsumexp": lambda v, x, y: v + mg.logsumexp(x, axis=1).reshape(2, 1),
}


def composition(names, reduce):
    def f(x, y):
        v = x
        for name in names:
            v = STEPS[name](v, x, y)
        return v.sum(axis=1) if reduce else v

    return f


programs = st.tuples(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=5), st.booleans())
arrays = st.integers(0, 2**31 - 1).map(lambda s: np.random.default_rng(s))


@settings(max_examples=40)
@given(programs, arrays)
def test_forward_mode_jacobian_equals_reverse_mode(program, rng):
    f = composition(*program)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    reverse = mg.jacobian(f, x, y)
    forward = mg.jacobian(f, x, y, strategy="forward-mode")
    for r, fw in zip(reverse, forward, strict=True):
        assert r.shape == fw.shape
        np.testing.assert_allclose(fw, r, rtol=1e-12, atol=1e-13)


@settings(max_examples=40)
@given(programs, arrays, st.booleans())
def test_jvp_is_the_jacobian_times_the_tangents(program, rng, only_x):
    f = composition(*program)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    tx, ty = rng.normal(size=(2, 3)), (np.zeros(3) if only_x else rng.normal(size=3))
    out, jt = mg.jvp(f, (x, y), (tx, ty))
    Jx, Jy = mg.jacobian(f, x, y)
    k = out.ndim
    expected = np.tensordot(Jx, tx, axes=2) + np.tensordot(Jy, ty, axes=1)
    np.testing.assert_allclose(out.data, f(mg.tensor(x), mg.tensor(y)).data, rtol=0, atol=0)
    assert not out.requires_grad and jt.shape == out.shape == Jx.shape[:k]
    np.testing.assert_allclose(jt, expected, rtol=1e-12, atol=1e-13)
    assert_jvp_matches(f, [x, y], [tx, ty])


def test_jvp_single_input_and_default_tangent():
    out, jt = mg.jvp(lambda a: mg.tanh(a) * 3.0, np.array(0.5))
    assert jt == pytest.approx(3.0 * (1 - np.tanh(0.5) ** 2), rel=1e-14)
    out, jt = mg.jvp(lambda a: mg.exp(a), np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(jt, [1.0, 2.0 * np.e], rtol=1e-14)


def test_jvp_of_an_output_that_ignores_the_input_is_zero():
    c = mg.tensor(np.ones(3))
    out, jt = mg.jvp(lambda a: c * 2.0, np.zeros(2), np.ones(2))
    np.testing.assert_array_equal(jt, np.zeros(3))
    J = mg.jacobian(lambda a: c * 2.0, np.zeros(2), strategy="forward-mode")
    np.testing.assert_array_equal(J, np.zeros((3, 2)))


def test_jvp_leaves_the_callers_tensors_alone():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    mg.jvp(lambda a: (a * a).sum(), x, np.ones(2))
    assert x.grad is None and np.array_equal(x.data, [1.0, 2.0])


@pytest.mark.parametrize("cls, kwargs", [(mg.nn.RNN, {}), (mg.nn.LSTM, {}), (mg.nn.GRU, {}),
                                         (mg.nn.GRU, {"bidirectional": True, "num_layers": 2})])  # fmt: skip
def test_forward_mode_through_a_recurrent_layer(cls, kwargs):
    """The layer's fused sequence steps and StepOutputs have jvps: both modes agree."""
    mg.manual_seed(0)
    layer = cls(2, 3, **kwargs).to(np.float64)
    x = np.random.default_rng(1).normal(size=(4, 2, 2))

    def f(a):
        return layer(a)[0]

    reverse = mg.jacobian(f, x)
    forward = mg.jacobian(f, x, strategy="forward-mode")
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-13)
    t = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_allclose(mg.jvp(f, x, t)[1], central_jvp(f, [x], [t]), rtol=1e-6, atol=1e-8)


def test_bad_arguments_get_clear_errors():
    f = lambda a: a * 2.0  # noqa: E731
    with pytest.raises(ValueError, match=r"strategy must be 'reverse-mode' or 'forward-mode', got 'forward'"):
        mg.jacobian(f, np.ones(2), strategy="forward")
    with pytest.raises(ValueError, match=r"v\[0\] must have the shape of inputs\[0\], \(2,\), got \(3,\)"):
        mg.jvp(f, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="v is needed unless every input has one element"):
        mg.jvp(f, np.ones(2))
    with pytest.raises(ValueError, match="got 2 inputs but 1 tangents"):
        mg.jvp(lambda a, b: a * b, (np.ones(2), np.ones(2)), (np.ones(2),))
    with pytest.raises(TypeError, match=r"f must return a Tensor, got 1.0 \(float\)"):
        mg.jvp(lambda a: 1.0, np.ones(2), np.ones(2))
