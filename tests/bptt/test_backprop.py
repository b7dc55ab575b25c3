"""Explicit BPTT (delta_t = g_t + J_t^T delta_{t+1}) == autograd == central differences."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import bptt
from minigrad.diagnostics import lyapunov_exponent, spectral_radius, temporal_gradient_profile
from minigrad.gradcheck import numerical_jacobian
from minigrad.nn import LSTM, RNN, RNNCell
from tests.bptt.helpers import KINDS, composed_step, make_cell, params, preactivations_off_kink


def weighted_loss(states, g):
    """L = sum_t <g_t, s_t>: its direct gradient with respect to s_t is exactly g_t."""
    total = minigrad.tensor(0.0)
    for t, s in enumerate(states):
        total = total + (s * minigrad.tensor(g[t])).sum()
    return total


def composed_loss(kind, x, g, s0, *P):
    s, total = s0, (s0 * minigrad.tensor(g[0])).sum()
    for t in range(x.shape[0]):
        s = composed_step(kind, x[t], s, *P)
        total = total + (s * minigrad.tensor(g[t + 1])).sum()
    return total


@settings(max_examples=15)
@given(st.sampled_from(KINDS), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2**16), st.booleans())
def test_explicit_bptt_equals_autograd_and_central_differences(kind, T, N, H, seed, bias):
    H_in = 2
    cell = make_cell(kind, H_in, H, seed, scale=0.8, bias=bias)
    rng = np.random.default_rng(seed + 7)
    x = minigrad.tensor(rng.standard_normal((T, N, H_in)), requires_grad=True)
    s0 = minigrad.tensor(rng.standard_normal((N, cell.state_size)) * 0.5, requires_grad=True)
    traj = bptt.unroll(cell, x, state0=s0)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj))
    g = rng.standard_normal((T + 1, N, cell.state_size))
    for s in traj.states[1:]:
        s.retain_grad()
    weighted_loss(traj.states, g).backward()
    res = bptt.Trajectory.backprop(traj, g)
    # road 1 == road 2: every adjoint, every parameter, the inputs
    for t in range(T + 1):
        np.testing.assert_allclose(res.adjoints[t], traj.states[t].grad, rtol=1e-10, atol=1e-12)
    names = [n for n, _ in cell.named_parameters()]
    assert sorted(res.param_grads) == sorted(names)
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(res.param_grads[name], p.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.input_grads, x.grad, rtol=1e-10, atol=1e-12)
    # and both == central differences of the composed cells' loss
    P = [p.data if p is not None else None for p in params(cell)]
    present = [i for i, p in enumerate(P) if p is not None]

    def f(x_, s0_, *ps):
        full = list(P)
        for i, p in zip(present, ps, strict=False):
            full[i] = p
        full = [minigrad.tensor(p) if isinstance(p, np.ndarray) else p for p in full]
        return composed_loss(kind, x_, g, s0_, *full)

    num = numerical_jacobian(f, (x.data, s0.data) + tuple(P[i] for i in present))
    np.testing.assert_allclose(res.input_grads, num[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(res.adjoints[0], num[1], rtol=1e-5, atol=1e-7)
    bases = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    for i, n in zip(present, num[2:], strict=False):
        np.testing.assert_allclose(res.param_grads[bases[i]], n, rtol=1e-5, atol=1e-7)


@settings(max_examples=10)
@given(st.sampled_from(KINDS), st.integers(1, 5), st.integers(0, 2**16))
def test_contributions_are_the_per_step_terms(kind, T, seed):
    """Term t == the gradient of a private copy of W_hh used at step t only; they sum up."""
    cell = make_cell(kind, 2, 3, seed, scale=0.8)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, 2, 2))
    s0 = 0.5 * rng.standard_normal((2, cell.state_size))  # nonzero, so term 0 is not trivially 0
    traj = bptt.unroll(cell, x, state0=s0)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj))
    g = np.zeros((T + 1, 2, cell.state_size))
    g[T] = rng.standard_normal((2, cell.state_size))  # L = L_T, a loss on the last state only
    res = traj.backprop(g)
    W_ih, W_hh, b_ih, b_hh = [minigrad.tensor(p.data) for p in params(cell)]
    copies = [minigrad.tensor(W_hh.data, requires_grad=True) for _ in range(T)]
    s = minigrad.tensor(s0)
    for t in range(T):
        s = composed_step(kind, minigrad.tensor(x[t]), s, W_ih, copies[t], b_ih, b_hh)
    per_step = minigrad.grad((s * minigrad.tensor(g[T])).sum(), copies)
    for t in range(T):
        np.testing.assert_allclose(res.contributions[t], per_step[t], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.contributions.sum(0), res.param_grads["weight_hh"], rtol=1e-12)


def test_backprop_shape_error():
    traj = bptt.unroll(make_cell("lstm", 2, 3, 0), np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match=r"dL_ds must have shape \(5, 2, 6\)"):
        traj.backprop(np.zeros((4, 2, 6)))


def test_stacked_layers_chain_through_input_grads():
    """Layer 0's direct gradients are layer 1's input gradients: explicit BPTT, layer by layer."""
    minigrad.manual_seed(3)
    layer = LSTM(2, 3, num_layers=2).to(np.float64)
    x = np.random.default_rng(1).standard_normal((5, 2, 2))
    low, top = bptt.unroll(layer, x)
    out = minigrad.stack([s[:, :3] for s in top.states[1:]], axis=0)
    c = np.random.default_rng(2).standard_normal(out.shape)
    (out * minigrad.tensor(c)).sum().backward()
    g_top = np.zeros((6, 2, 6))
    g_top[1:, :, :3] = c
    res_top = top.backprop(g_top)
    g_low = np.zeros((6, 2, 6))
    g_low[1:, :, :3] = res_top.input_grads  # layer 1 reads h_t of layer 0
    res_low = low.backprop(g_low)
    for name, p in layer.named_parameters():
        res = res_top if name.endswith("l1") else res_low
        np.testing.assert_allclose(res.param_grads[name], p.grad, rtol=1e-10, atol=1e-12)


def test_linear_regime_gamma_decays_as_rho_to_the_tau():
    """ReLU RNN with W_hh = 0.9 P (P a permutation) and positive inputs: h > 0 always, so
    J_t = 0.9 P exactly: gamma_tau = gamma_0 0.9^tau, ||ds_T/ds_k|| = 0.9^(T-k), log 0.9."""
    H, T = 5, 30
    cell = RNNCell(1, H, nonlinearity="relu").to(np.float64)
    P = np.eye(H)[np.random.default_rng(0).permutation(H)]
    cell.weight_hh.data[...] = 0.9 * P
    cell.weight_ih.data[...] = 1.0
    cell.bias_ih.data[...] = 0.1
    cell.bias_hh.data[...] = 0.0
    x = np.abs(np.random.default_rng(1).standard_normal((T, 3, 1)))
    traj = bptt.unroll(cell, x)
    J = traj.jacobians()
    np.testing.assert_allclose(J, np.broadcast_to(0.9 * P, J.shape))
    assert spectral_radius(J[7, 1]) == pytest.approx(0.9)
    g = np.zeros((T + 1, 3, H))
    g[T] = np.random.default_rng(2).standard_normal((3, H))
    gamma, egf = temporal_gradient_profile(traj.backprop(g))
    np.testing.assert_allclose(egf, 0.9 ** np.arange(T + 1), rtol=1e-10)
    np.testing.assert_allclose(traj.product_norms()[:, 0], 0.9 ** np.arange(T, -1, -1), rtol=1e-10)
    np.testing.assert_allclose(lyapunov_exponent(J), math.log(0.9), rtol=1e-10)


class _RecordingSGD:
    """Plain SGD that also records the gradients it was given (to compare with autograd)."""

    def __init__(self, params, lr):
        self.params, self.lr, self.seen = list(params), lr, []

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.seen.append([p.grad.copy() for p in self.params])
        for p in self.params:
            p.data -= self.lr * p.grad


def test_truncated_bptt_chunks_detach_and_carry_state():
    T, k = 7, 3
    cell = make_cell("rnn_tanh", 2, 3, seed=0, scale=0.5)
    x = np.random.default_rng(0).standard_normal((T, 2, 2))
    W0 = [p.data.copy() for p in cell.parameters()]

    def loss_fn(states, t0):
        return sum(((s * s).sum() for s in states), minigrad.tensor(0.0))

    opt = _RecordingSGD(cell.parameters(), lr=0.0)  # lr 0: parameters stay put, state is comparable
    res = bptt.truncated_bptt(cell, x, k, loss_fn, opt)
    assert len(res.losses) == 3 and not res.state.requires_grad
    # forward: the carried state equals one uninterrupted run
    full = bptt.unroll(cell, x)
    np.testing.assert_allclose(res.state.data, full.states[T].data)
    # backward: chunk 2 (steps 3..5) gets exactly the gradient of its own loss with s_3 held fixed
    g = np.zeros((T + 1, 2, 3))
    for t in range(4, 7):
        g[t] = 2 * full.states[t].data
    chunk = bptt.unroll(cell, x[3:6], state0=full.states[3].data)
    expected = chunk.backprop(g[3:7])
    for (name, _), got in zip(cell.named_parameters(), opt.seen[1], strict=False):
        np.testing.assert_allclose(got, expected.param_grads[name], rtol=1e-10)
    assert all(np.array_equal(a, p.data) for a, p in zip(W0, cell.parameters(), strict=False))
    with pytest.raises(ValueError, match="k must be"):
        bptt.truncated_bptt(cell, x, 0, loss_fn, opt)


def test_rnn_layer_single_trajectory_backprop_matches_layer_backward():
    minigrad.manual_seed(0)
    layer = RNN(2, 4).to(np.float64)
    x = np.random.default_rng(0).standard_normal((6, 3, 2))
    (traj,) = bptt.unroll(layer, x)
    out, _ = layer(minigrad.tensor(x))
    c = np.random.default_rng(1).standard_normal(out.shape)
    (out * minigrad.tensor(c)).sum().backward()
    g = np.concatenate([np.zeros((1, 3, 4)), c])
    res = traj.backprop(g)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(res.param_grads[name], p.grad, rtol=1e-10, atol=1e-12)
