r"""The fused steps of the residual, highway and LayerNorm RNN cells (float64, Hypothesis).

For each op in ``EXTRA_STEP_OPS`` a spec draws the inputs; the checks are those of
``test_op_gradients.py``: forward == a NumPy reference written from the formula; ``vjp(g)`` ==
central differences of $\langle g, f\rangle$ for every input; ``vjp(g)[i] == jacobian(i).T g``;
``jacobian(i)`` (closed form for ``xp`` and ``h_prev``) == the numerical Jacobian; the engine
gives the vjp's gradients; no input is modified. Then ``state_jacobian`` / ``input_jacobian``
(per sample) against the numerical per-sample Jacobians.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops.base import dense_grad
from minigrad.ops.extra_steps import HighwayRNNStep, LayerNormRNNStep, ResidualRNNStep
from minigrad.tensor import apply_op
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


def forward(op_cls, inputs):
    return op_cls()(*inputs)


def numerical_jacobian(op_cls, inputs, i):
    x = inputs[i]
    cols = []
    for j in range(x.size):
        ys = []
        for step in (EPS, -EPS):
            shifted = list(inputs)
            shifted[i] = x.copy()
            shifted[i].flat[j] += step
            ys.append(forward(op_cls, shifted).ravel())
        cols.append((ys[0] - ys[1]) / (2 * EPS))
    return np.array(cols).T


def test_every_extra_step_op_has_a_spec():
    import minigrad.ops.extra_steps as module

    defined = {v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__}
    assert defined == set(EXTRA_STEP_OPS)


@pytest.mark.parametrize("op_cls", EXTRA_STEP_OPS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_extra_step_op_gradients(op_cls, data):
    inputs, reference = data.draw(step_inputs(op_cls), label="inputs")
    originals = [x.copy() for x in inputs]
    op = op_cls()
    out = op(*inputs)
    np.testing.assert_allclose(out, reference(*inputs), rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64
    g = data.draw(arrays(out.shape, min_value=-2.0, max_value=2.0), label="grad_out")
    vjps = op.vjp(g)
    assert len(vjps) == len(inputs)
    tensors = [mg.Tensor(x, requires_grad=True) for x in inputs]
    apply_op(op_cls(), *tensors).backward(g)
    for i, x in enumerate(inputs):
        v = dense_grad(vjps[i], x.shape)
        J = op.jacobian(i)
        J_num = numerical_jacobian(op_cls, inputs, i)
        np.testing.assert_allclose(v.ravel(), J.T @ g.ravel(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(v.ravel(), J_num.T @ g.ravel(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(J, J_num, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(tensors[i].grad, v, rtol=1e-12, atol=1e-12)
    for x, x0 in zip(inputs, originals, strict=True):
        assert np.array_equal(x, x0)


@pytest.mark.parametrize("op_cls", EXTRA_STEP_OPS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_state_and_input_jacobians_per_sample(op_cls, data):
    inputs, _ = data.draw(step_inputs(op_cls), label="inputs")
    op = op_cls()
    op(*inputs)
    N, H = inputs[1].shape
    K = inputs[0].shape[1]
    J_s = numerical_jacobian(op_cls, inputs, 1).reshape(N, H, N, H)
    J_x = numerical_jacobian(op_cls, inputs, 0).reshape(N, H, N, K)
    closed_s, closed_x = op.state_jacobian(), op.input_jacobian()
    assert closed_s.shape == (N, H, H) and closed_x.shape == (N, H, K)
    for n in range(N):
        np.testing.assert_allclose(closed_s[n], J_s[n, :, n, :], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(closed_x[n], J_x[n, :, n, :], rtol=1e-5, atol=1e-6)


def test_layernorm_step_rejects_bad_gain():
    xp, h, W = np.zeros((2, 3)), np.zeros((2, 3)), np.eye(3)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(2,\)"):
        LayerNormRNNStep()(xp, h, W, np.ones(2), np.zeros(3))
