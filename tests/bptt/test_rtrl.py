"""RTRL (M_{t+1} = J_t M_t + ds_{t+1}/dtheta|imm, g = sum_t g_t^T M_t) == explicit BPTT == autograd."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import bptt, rtrl
from minigrad.nn import GRU, LSTM, RNN
from tests.bptt.helpers import KINDS, make_cell, preactivations_off_kink

BASES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def weighted_loss(states, g):
    """L = sum_t <g_t, s_t>: its direct gradient with respect to s_t is exactly g_t."""
    total = minigrad.tensor(0.0)
    for t, s in enumerate(states):
        total = total + (s * minigrad.tensor(g[t])).sum()
    return total


def setup(kind, T, N, H, seed, bias, H_in=2, scale=0.8):
    cell = make_cell(kind, H_in, H, seed, scale=scale, bias=bias)
    rng = np.random.default_rng(seed + 11)
    x = rng.standard_normal((T, N, H_in))
    s0 = 0.5 * rng.standard_normal((N, cell.state_size))
    g = rng.standard_normal((T + 1, N, cell.state_size))
    return cell, x, s0, g


@settings(max_examples=25)
@given(st.sampled_from(KINDS), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2**16), st.booleans())
def test_rtrl_equals_backprop_and_autograd(kind, T, N, H, seed, bias):
    cell, x, s0, g = setup(kind, T, N, H, seed, bias)
    traj = bptt.unroll(cell, x, state0=s0)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj))
    res = traj.rtrl(g)
    ref = traj.backprop(g).param_grads
    weighted_loss(traj.states, g).backward()
    assert list(res.param_grads) == list(ref)
    assert sorted(res.param_grads) == sorted(n for n, _ in cell.named_parameters())
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(res.param_grads[name], ref[name], rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(res.param_grads[name], p.grad, rtol=1e-11, atol=1e-12)
    assert res.influence_norms.shape == (T + 1, N)
    assert np.all(res.influence_norms[0] == 0)  # M_0 = 0: s_0 is not a function of theta


def _states(cell, x, s0):
    """s_0..s_T as arrays, without a graph (for central differences)."""
    with minigrad.no_grad():
        s = [minigrad.tensor(s0)]
        for t in range(x.shape[0]):
            s.append(cell.state_step(minigrad.tensor(x[t]), s[-1]))
    return np.stack([v.data for v in s])


def numerical_influence(cell, x, s0, eps=1e-6):
    """M_t = ds_t/dtheta by central differences: base name -> (T+1, N, S, *shape)."""
    M = {}
    for base in BASES:
        p = getattr(cell, base)
        if p is None:
            continue
        cols = []
        for k in range(p.size):
            old = p.data.flat[k]
            p.data.flat[k] = old + eps
            up = _states(cell, x, s0)
            p.data.flat[k] = old - eps
            down = _states(cell, x, s0)
            p.data.flat[k] = old
            cols.append((up - down) / (2 * eps))
        M[base] = np.stack(cols, axis=-1).reshape(cols[0].shape + p.shape)
    return M


@settings(max_examples=15)
@given(st.sampled_from(KINDS), st.integers(1, 4), st.integers(1, 2), st.integers(0, 2**16),
       st.booleans())
def test_influence_matrices_match_central_differences(kind, T, N, seed, bias):
    """The closed-form immediate Jacobians and the recursion give ds_t/dtheta itself, every t."""
    cell, x, s0, g = setup(kind, T, N, 2, seed, bias)
    num = numerical_influence(cell, x, s0)  # first: the graph below locks the parameters' data
    traj = bptt.unroll(cell, x, state0=s0)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj, margin=1e-2))
    res = traj.rtrl(g)
    for base, m in res.influence.items():
        np.testing.assert_allclose(m, num[base][T], rtol=1e-6, atol=1e-8)
    flat = np.concatenate([num[b].reshape(T + 1, N, -1) for b in num], axis=2)
    np.testing.assert_allclose(res.influence_norms, np.linalg.norm(flat, axis=2), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_immediate_jacobians_match_central_differences(kind):
    """One step, s_t held fixed: ds_{t+1}/dtheta from input_jacobian() and x_t, s_t, r, 1."""
    cell, x, s0, _ = setup(kind, 1, 2, 3, seed=5, bias=True)
    num = numerical_influence(cell, x, s0)
    traj = bptt.unroll(cell, x, state0=s0)
    jac = rtrl.immediate_jacobians(cell, traj.steps[0], x[0], s0)
    assert sorted(jac) == sorted(BASES)
    for base in BASES:
        np.testing.assert_allclose(jac[base], num[base][1], rtol=1e-7, atol=1e-9)


@settings(max_examples=20)
@given(st.sampled_from(KINDS), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**16),
       st.booleans(), st.booleans())
def test_online_equals_stored(kind, T, N, seed, bias, with_state0):
    cell, x, s0, g = setup(kind, T, N, 2, seed, bias)
    traj = bptt.unroll(cell, x, state0=s0 if with_state0 else None)
    stored = traj.rtrl(g)
    online = rtrl.OnlineRTRL(cell, state0=s0 if with_state0 else None)
    for t in range(T):
        s = online.step(x[t])
        np.testing.assert_allclose(s, traj.states[t + 1].data, rtol=1e-13, atol=1e-14)
        online.accumulate(g[t + 1])
        np.testing.assert_allclose(online.influence_norm(), stored.influence_norms[t + 1], rtol=1e-12, atol=1e-14)
    assert online.t == T
    for name, value in stored.param_grads.items():
        np.testing.assert_allclose(online.param_grads[name], value, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_online_unbatched_equals_batch_of_one(kind):
    cell, x, s0, g = setup(kind, 4, 1, 3, seed=2, bias=True)
    batched = rtrl.OnlineRTRL(cell, state0=s0)
    unbatched = rtrl.OnlineRTRL(cell, state0=s0[0])
    for t in range(4):
        s_b = batched.step(x[t], dL_ds=g[t + 1])
        s_u = unbatched.step(x[t, 0], dL_ds=g[t + 1, 0])
        assert s_u.shape == (cell.state_size,)
        np.testing.assert_array_equal(s_u, s_b[0])
    assert unbatched.influence_norm().shape == ()
    for name, value in batched.param_grads.items():
        np.testing.assert_array_equal(unbatched.param_grads[name], value)
    ref = bptt.unroll(cell, x, state0=s0).backprop(g).param_grads
    for name, value in ref.items():
        np.testing.assert_allclose(unbatched.param_grads[name], value, rtol=1e-12, atol=1e-13)


def test_online_memory_does_not_grow_with_T():
    """Only the state, M_t and the gradient are kept: the same arrays' sizes after 5 or 50 steps."""
    cell, x, _, g = setup("lstm", 50, 2, 3, seed=0, bias=True)
    online = rtrl.OnlineRTRL(cell)
    sizes = []
    for t in range(50):
        online.step(x[t], g[t + 1])
        if t in (4, 49):
            kept = [online.state] + list(online.M.values()) + list(online.grads.values())
            sizes.append(sum(a.nbytes for a in kept))
    assert sizes[0] == sizes[1]


@pytest.mark.parametrize("cls, kwargs", [
    (RNN, {"nonlinearity": "tanh"}), (RNN, {"nonlinearity": "relu"}), (LSTM, {}),
    (GRU, {}), (GRU, {"reset_after": False}), (LSTM, {"bias": False}),
])  # fmt: skip
def test_layers_every_layer_and_direction(cls, kwargs):
    """Each Trajectory of a 2-layer bidirectional layer: rtrl == backprop, with the layer's names."""
    minigrad.manual_seed(3)
    layer = cls(2, 3, num_layers=2, bidirectional=True, **kwargs).to(np.float64)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 2, 2))
    trajs = bptt.unroll(layer, x)
    assert len(trajs) == 4
    for k, traj in enumerate(trajs):
        g = rng.standard_normal((traj.T + 1, 2, traj.state_size))
        res = traj.rtrl(g)
        ref = traj.backprop(g).param_grads
        assert list(res.param_grads) == list(ref)
        suffix = f"_l{k // 2}" + ("_reverse" if k % 2 else "")
        assert all(name.endswith(suffix) for name in res.param_grads)
        for name in ref:
            np.testing.assert_allclose(res.param_grads[name], ref[name], rtol=1e-11, atol=1e-12)
        online = rtrl.OnlineRTRL(layer.cell_for(k // 2, reverse=k % 2 == 1))
        for t in range(traj.T):
            online.step(traj.x[t], g[t + 1])
        for name in ref:
            np.testing.assert_allclose(online.param_grads[name], ref[name], rtol=1e-11, atol=1e-12)


def test_bad_input_gets_a_clear_error():
    cell, x, _, g = setup("gru", 3, 2, 2, seed=0, bias=True)
    traj = bptt.unroll(cell, x)
    with pytest.raises(ValueError, match=r"rtrl: dL_ds must have shape \(4, 2, 2\), got \(3, 2, 2\)"):
        traj.rtrl(g[:3])
    online = rtrl.OnlineRTRL(cell)
    with pytest.raises(ValueError, match="call step"):
        online.accumulate(g[1])
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, 2\) or \(2,\), got \(2, 5\)"):
        online.step(np.zeros((2, 5)))
    online.step(x[0])
    with pytest.raises(ValueError, match=r"x_t must have shape \(2, 2\), got \(3, 2\)"):
        online.step(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"x_t must have shape \(2, 2\), got \(2,\)"):
        online.step(np.zeros(2))
    with pytest.raises(ValueError, match=r"dL_ds must have shape \(2, 2\), got \(2,\)"):
        online.accumulate(np.zeros(2))
    with pytest.raises(ValueError, match=r"state0 must have shape"):
        rtrl.OnlineRTRL(cell, state0=np.zeros((2, 3)))
