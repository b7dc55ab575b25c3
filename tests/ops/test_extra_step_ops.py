r"""The fused steps of the residual, highway and LayerNorm RNN cells (float64, Hypothesis).

``EXTRA_STEP_SPECS`` are this file's specs for the op gradient factory (``test_op_gradients.py``
merges them through ``more_specs.py``): it checks forward against the NumPy references below
(written from the formulas), every ``vjp`` against central differences, ``vjp == jacobian.T g``,
the closed-form ``jacobian(i)`` against the numerical one, the engine, and that no input is
modified. Here: the per-sample ``state_jacobian`` / ``input_jacobian`` that ``bptt`` stacks,
against the numerical per-sample Jacobians, and the shape errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import ops
from minigrad.ops.extra_steps import HighwayRNNStep, LayerNormRNNStep, ResidualRNNStep
from minigrad.testing import arrays

EXTRA_STEP_OPS = (ResidualRNNStep, HighwayRNNStep, LayerNormRNNStep)
EPS = 1e-6


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def residual_ref(xp, h, W, b=0.0):
    return h + np.tanh(xp + h @ W.T + b)


def highway_ref(xp, h, W, b=0.0):
    a = xp + h @ W.T + b
    H = h.shape[1]
    tau = _sigmoid(a[:, H:])
    return tau * np.tanh(a[:, :H]) + (1 - tau) * h


def layernorm_ref(xp, h, W, gamma, beta, eps=1e-5):
    z = xp + h @ W.T
    zhat = (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + eps)
    return np.tanh(gamma * zhat + beta)


@st.composite
def step_inputs(draw, op_cls):
    """(inputs, reference) for one step: N in 1..3, H in 1..4 (2..4 for LayerNorm)."""
    N, H = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    G = 2 if op_cls is HighwayRNNStep else 1
    if op_cls is LayerNormRNNStep:
        H = max(H, 2)  # H = 1: z - mean(z) = 0, the normalised value is 0 and has no direction
    xp = draw(arrays((N, G * H)))
    h = draw(arrays((N, H), min_value=-1.0, max_value=1.0))
    W = draw(arrays((G * H, H), min_value=-1.5, max_value=1.5))
    if op_cls is LayerNormRNNStep:
        gamma = draw(arrays((H,), min_value=0.3, max_value=2.0))
        beta = draw(arrays((H,), min_value=-1.0, max_value=1.0))
        return [xp, h, W, gamma, beta], layernorm_ref
    ref = residual_ref if op_cls is ResidualRNNStep else highway_ref
    if draw(st.booleans()):
        return [xp, h, W, draw(arrays((G * H,)))], ref
    return [xp, h, W], ref


def _spec(op_cls):
    @st.composite
    def spec(draw):
        from tests.ops.test_op_gradients import Case  # the factory's own record type

        inputs, reference = draw(step_inputs(op_cls))
        return Case(op_cls, inputs, reference, tuple(range(len(inputs))))

    return spec()


EXTRA_STEP_SPECS = {op_cls: _spec(op_cls) for op_cls in EXTRA_STEP_OPS}


def numerical_jacobian(op_cls, inputs, i):
    """Central differences of the op's forward with respect to input i: (out.size, in_i.size)."""
    x = inputs[i]
    cols = []
    for j in range(x.size):
        ys = []
        for step in (EPS, -EPS):
            shifted = list(inputs)
            shifted[i] = x.copy()
            shifted[i].flat[j] += step
            ys.append(op_cls()(*shifted).ravel())
        cols.append((ys[0] - ys[1]) / (2 * EPS))
    return np.array(cols).T


def test_every_extra_step_op_is_registered_with_a_spec():
    import minigrad.ops.extra_steps as module

    defined = {v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__}
    assert defined == set(EXTRA_STEP_OPS) == set(EXTRA_STEP_SPECS)
    assert set(EXTRA_STEP_OPS) <= set(ops.ALL_OPS)


@pytest.mark.parametrize("op_cls", EXTRA_STEP_OPS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_state_and_input_jacobians_per_sample(op_cls, data):
    inputs, reference = data.draw(step_inputs(op_cls), label="inputs")
    op = op_cls()
    np.testing.assert_allclose(op(*inputs), reference(*inputs), rtol=1e-12, atol=1e-12)
    N, H = inputs[1].shape
    K = inputs[0].shape[1]
    J_s = numerical_jacobian(op_cls, inputs, 1).reshape(N, H, N, H)
    J_x = numerical_jacobian(op_cls, inputs, 0).reshape(N, H, N, K)
    closed_s, closed_x = op.state_jacobian(), op.input_jacobian()
    assert closed_s.shape == (N, H, H) and closed_x.shape == (N, H, K)
    for n in range(N):
        np.testing.assert_allclose(closed_s[n], J_s[n, :, n, :], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(closed_x[n], J_x[n, :, n, :], rtol=1e-5, atol=1e-6)


def test_shape_errors_name_the_argument():
    xp, h, W = np.zeros((2, 3)), np.zeros((2, 3)), np.eye(3)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(2,\)"):
        LayerNormRNNStep()(xp, h, W, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"W_hh must have shape \(2\*H, H\), got \(3, 3\)"):
        HighwayRNNStep()(np.zeros((2, 6)), h, W)
