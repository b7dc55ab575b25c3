"""Closed-form step Jacobians vs autograd of the composed cell and vs central differences."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import bptt
from minigrad.gradcheck import numerical_jacobian
from minigrad.nn import GRU, LSTM, RNN
from tests.bptt.helpers import KINDS, composed_step, make_cell, params, preactivations_off_kink

shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3))


def per_sample_blocks(J, N, A, B):
    """(N*A, N*B) Jacobian of a batch -> its N diagonal blocks; off-diagonal blocks must be 0."""
    J = J.reshape(N, A, N, B)
    blocks = np.stack([J[n, :, n, :] for n in range(N)])
    off = J.copy()
    for n in range(N):
        off[n, :, n, :] = 0
    assert np.abs(off).max(initial=0) == 0  # samples do not interact
    return blocks


@settings(max_examples=15)
@given(st.sampled_from(KINDS), shapes, st.integers(0, 2**16), st.booleans())
def test_state_and_input_jacobians_match_composed_cell(kind, shape, seed, bias):
    T, N, H, H_in = shape
    cell = make_cell(kind, H_in, H, seed, scale=0.8, bias=bias)
    x = np.random.default_rng(seed + 1).standard_normal((T, N, H_in))
    traj = bptt.unroll(cell, x)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj))
    J, Jx = traj.jacobians(), traj.input_jacobians()
    S = traj.state_size
    assert J.shape == (T, N, S, S) and Jx.shape == (T, N, S, H_in)
    P = [minigrad.tensor(p.data) if p is not None else None for p in params(cell)]
    for t in range(T):
        s_t, x_t = traj.states[t].data, x[t]

        def f(x_, s_):
            return composed_step(kind, x_, s_, *P)

        auto_x, auto_s = minigrad.jacobian(f, x_t, s_t)
        num_x, num_s = numerical_jacobian(f, (x_t, s_t))
        for closed, auto, num, B in ((J[t], auto_s, num_s, S), (Jx[t], auto_x, num_x, H_in)):
            auto_b, num_b = per_sample_blocks(auto, N, S, B), per_sample_blocks(num, N, S, B)
            np.testing.assert_allclose(closed, auto_b, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(closed, num_b, rtol=1e-5, atol=1e-7)


def test_rnn_tanh_jacobian_is_diag_one_minus_h2_times_W():
    cell = make_cell("rnn_tanh", 2, 3, seed=0)
    traj = bptt.unroll(cell, np.random.default_rng(0).standard_normal((4, 2, 2)))
    for t in range(4):
        h = traj.states[t + 1].data
        expected = (1 - h**2)[:, :, None] * cell.weight_hh.data[None]
        np.testing.assert_allclose(traj.jacobians()[t], expected, rtol=1e-14)


@settings(max_examples=10)
@given(st.sampled_from(KINDS), st.integers(2, 5), st.integers(0, 2**16))
def test_jacobian_product_and_all_norms(kind, T, seed):
    cell = make_cell(kind, 2, 3, seed, scale=0.7)
    x = np.random.default_rng(seed).standard_normal((T, 2, 2))
    traj = bptt.unroll(cell, x)
    if kind == "rnn_relu":
        assume(preactivations_off_kink(cell, traj))
    P = [minigrad.tensor(p.data) for p in params(cell)]
    k = 1

    def s_T_of_s_k(s):  # the composed cells run from step k to T
        for t in range(k, T):
            s = composed_step(kind, minigrad.tensor(x[t]), s, *P)
        return s

    S = traj.state_size
    auto = per_sample_blocks(minigrad.jacobian(s_T_of_s_k, traj.states[k].data), 2, S, S)
    np.testing.assert_allclose(traj.jacobian_product(k, T), auto, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(traj.jacobian_product(T, T), np.broadcast_to(np.eye(S), (2, S, S)))
    # all k at once (one backward sweep) == each product computed on its own
    norms, svals = traj.product_norms(), traj.product_singular_values()
    for kk in range(T + 1):
        Pk = traj.jacobian_product(kk, T)
        np.testing.assert_allclose(norms[kk], np.linalg.norm(Pk, ord=2, axis=(1, 2)), rtol=1e-10)
        sv = np.linalg.svd(Pk, compute_uv=False)
        np.testing.assert_allclose(svals[kk], sv, rtol=1e-9, atol=1e-14)
    fro = traj.product_norms(t=T - 1, ord="fro")
    assert fro.shape == (T, 2)
    np.testing.assert_allclose(fro[0], np.linalg.norm(traj.jacobian_product(0, T - 1), axis=(1, 2)))


def test_jacobian_product_rejects_bad_times():
    traj = bptt.unroll(make_cell("gru", 2, 2, 0), np.zeros((3, 1, 2)))
    with pytest.raises(ValueError, match="k <= t"):
        traj.jacobian_product(2, 1)
    with pytest.raises(ValueError, match="T = 3"):
        traj.jacobian_product(0, 4)
    with pytest.raises(TypeError, match="k must be an int"):
        traj.jacobian_product(0.5, 2)


def test_unroll_errors():
    cell = make_cell("rnn_tanh", 2, 3, 0)
    with pytest.raises(ValueError, match=r"\(T >= 1, N, 2\)"):
        bptt.unroll(cell, np.zeros((3, 5)))  # ((3, 2) is an unbatched sequence: tests/bptt/test_unroll_layout.py)
    with pytest.raises(ValueError, match="state0"):
        bptt.unroll(cell, np.zeros((3, 1, 2)), state0=np.zeros((1, 4)))
    with minigrad.no_grad(), pytest.raises(ValueError, match="no_grad"):
        bptt.unroll(cell, np.zeros((3, 1, 2)))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_layer_unroll_matches_layer_forward_and_closed_forms(cls):
    minigrad.manual_seed(0)
    layer = cls(2, 3, num_layers=2, bidirectional=True).to(np.float64)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    trajs = bptt.unroll(layer, x)
    assert len(trajs) == 4
    assert [t.param_names()["weight_hh"] for t in trajs] == [
        "weight_hh_l0", "weight_hh_l0_reverse", "weight_hh_l1", "weight_hh_l1_reverse"]
    out = layer(minigrad.tensor(x))[0].data
    H = 3
    fwd = np.stack([s.data[:, :H] for s in trajs[2].states[1:]])
    bwd = np.stack([s.data[:, :H] for s in trajs[3].states[1:]])[::-1]
    np.testing.assert_allclose(out, np.concatenate([fwd, bwd], axis=2), rtol=1e-12)
    # layer 1 reads layer 0's outputs: its recorded inputs are exactly those
    h0f = np.stack([s.data[:, :H] for s in trajs[0].states[1:]])
    h0b = np.stack([s.data[:, :H] for s in trajs[1].states[1:]])[::-1]
    np.testing.assert_allclose(trajs[2].x, np.concatenate([h0f, h0b], axis=2))
    np.testing.assert_allclose(trajs[3].x, np.concatenate([h0f, h0b], axis=2)[::-1])
    kind = {RNN: "rnn_tanh", LSTM: "lstm", GRU: "gru"}[cls]
    traj = trajs[3]
    cell = traj.cell
    P = [minigrad.tensor(p.data) for p in params(cell)]
    for t in range(4):
        def f(s_, x_t=traj.x[t]):
            return composed_step(kind, minigrad.tensor(x_t), s_, *P)
        S = traj.state_size
        auto = per_sample_blocks(minigrad.jacobian(f, traj.states[t].data), 2, S, S)
        np.testing.assert_allclose(traj.jacobians()[t], auto, rtol=1e-10, atol=1e-12)
