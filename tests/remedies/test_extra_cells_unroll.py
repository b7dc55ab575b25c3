"""Residual, highway and LayerNorm cells through ``bptt.unroll``: closed-form J_t, explicit BPTT.

The references are the cells' formulas written with primitive ops (autograd differentiates
them), so the fused step ops are checked against an independent road, and both against
central differences (float64).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import bptt
from minigrad import functional as mf
from minigrad.gradcheck import numerical_jacobian
from minigrad.nn import functional as F
from minigrad.nn.extra_cells import HighwayRNNCell, LayerNormRNNCell, ResidualRNNCell

KINDS = ("residual", "highway", "layernorm")


def make(kind, H_in, H, seed, scale=0.8):
    cls = {"residual": ResidualRNNCell, "highway": HighwayRNNCell, "layernorm": LayerNormRNNCell}[kind]
    cell = cls(H_in, H).to(np.float64)
    rng = np.random.default_rng(seed)
    for p in cell.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return cell


def composed(kind, cell, x, h):
    """One step from primitive ops, with the cell's current parameter values as constants."""
    x, h = minigrad.as_tensor(x), minigrad.as_tensor(h)
    if kind == "layernorm":
        ln = cell.layer_norm
        z = x @ minigrad.tensor(cell.W_xh.weight.data).T + minigrad.tensor(cell.W_xh.bias.data)
        z = z + h @ minigrad.tensor(cell.W_hh.weight.data).T
        w, b = minigrad.tensor(ln.weight.data), minigrad.tensor(ln.bias.data)
        return mf.tanh(F.layer_norm(z, (cell.hidden_size,), w, b, ln.eps))
    a = (x @ minigrad.tensor(cell.weight_ih.data).T + minigrad.tensor(cell.bias_ih.data)
         + h @ minigrad.tensor(cell.weight_hh.data).T + minigrad.tensor(cell.bias_hh.data))
    if kind == "residual":
        return h + mf.tanh(a)
    a_h, a_T = mf.split(a, 2, axis=-1)
    tau = mf.sigmoid(a_T)
    return tau * mf.tanh(a_h) + (1 - tau) * h


@settings(max_examples=10)
@given(st.sampled_from(KINDS), st.integers(1, 4), st.integers(1, 3), st.integers(2, 4), st.integers(0, 2**16))
def test_unroll_jacobians_match_composed_cell(kind, T, N, H, seed):
    cell = make(kind, 2, H, seed)
    x = np.random.default_rng(seed + 1).standard_normal((T, N, 2))
    traj = bptt.unroll(cell, x)
    J = traj.jacobians()
    assert J.shape == (T, N, H, H)
    for t in range(T):
        s_t = traj.states[t].data

        def step(s, x_t=x[t]):
            return composed(kind, cell, x_t, s)

        auto = minigrad.jacobian(step, s_t).reshape(N, H, N, H)
        num = numerical_jacobian(step, (s_t,))[0].reshape(N, H, N, H)
        for n in range(N):
            np.testing.assert_allclose(J[t, n], auto[n, :, n, :], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(J[t, n], num[n, :, n, :], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(traj.states[t + 1].data, composed(kind, cell, x[t], s_t).data, atol=1e-12)


@settings(max_examples=10)
@given(st.sampled_from(KINDS), st.integers(1, 4), st.integers(1, 3), st.integers(2, 3), st.integers(0, 2**16))
def test_explicit_bptt_equals_autograd(kind, T, N, H, seed):
    cell = make(kind, 2, H, seed)
    rng = np.random.default_rng(seed + 7)
    x = minigrad.tensor(rng.standard_normal((T, N, 2)), requires_grad=True)
    traj = bptt.unroll(cell, x)
    g = rng.standard_normal((T + 1, N, H))
    for s in traj.states[1:]:
        s.retain_grad()
    total = minigrad.tensor(0.0)
    for t, s in enumerate(traj.states):
        total = total + (s * minigrad.tensor(g[t])).sum()
    total.backward()
    res = traj.backprop(g)
    for t in range(1, T + 1):
        np.testing.assert_allclose(res.adjoints[t], traj.states[t].grad, rtol=1e-10, atol=1e-12)
    names = sorted(n for n, _ in cell.named_parameters())
    assert sorted(res.param_grads) == names
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(res.param_grads[name], p.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.input_grads, x.grad, rtol=1e-10, atol=1e-12)


def test_residual_product_is_a_product_of_identity_plus_terms():
    """∂h_T/∂h_0 = ∏(I + D_k W): for D = I (linear regime) that is (I + W)^T, not I + T·W."""
    cell = make("residual", 1, 3, 0, scale=0.0)
    W = 0.01 * np.random.default_rng(0).standard_normal((3, 3))
    cell.weight_hh.data[...] = W  # tiny W and zero input: u ≈ 0, tanh' ≈ 1
    traj = bptt.unroll(cell, np.zeros((20, 1, 1)))
    P = traj.jacobian_product(0, 20)[0]
    np.testing.assert_allclose(P, np.linalg.matrix_power(np.eye(3) + W, 20), rtol=1e-10, atol=1e-12)
    assert np.abs(P - (np.eye(3) + 20 * W)).max() > 1e-3  # the sum is a first-order approximation
