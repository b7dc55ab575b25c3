"""bptt.unroll reads x the way the layer does: batch_first (N, T, H_in), and unbatched (T, H_in)."""

import numpy as np
import pytest

import minigrad
from minigrad import bptt
from minigrad.nn import GRU, LSTM, RNN, RNNCell


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_batch_first_layer_is_unrolled_over_time_not_batch(cls):
    minigrad.manual_seed(1)
    layer = cls(2, 3, num_layers=2, bidirectional=True, batch_first=True)
    x = np.random.default_rng(0).standard_normal((5, 4, 2))  # N = 5, T = 4
    trajs = bptt.unroll(layer, x)
    assert all(t.T == 4 and t.states[0].shape[0] == 5 for t in trajs)  # T = 4 steps, not T = N = 5
    out = layer(minigrad.tensor(x))[0].data  # (N, T, 2H)
    fwd = np.stack([s.data[:, :3] for s in trajs[2].states[1:]], axis=1)
    bwd = np.stack([s.data[:, :3] for s in trajs[3].states[1:]][::-1], axis=1)
    np.testing.assert_allclose(out, np.concatenate([fwd, bwd], axis=2), rtol=1e-12)
    # the same layer time-major gives the same Jacobians
    layer.batch_first = False
    again = bptt.unroll(layer, x.transpose(1, 0, 2))
    for a, b in zip(trajs, again):
        np.testing.assert_array_equal(a.jacobians(), b.jacobians())


@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_is_a_batch_of_one(batch_first):
    minigrad.manual_seed(2)
    layer = LSTM(2, 3, batch_first=batch_first)
    x = np.random.default_rng(0).standard_normal((6, 2))  # (T, H_in), as layer(x) accepts
    (traj,) = bptt.unroll(layer, x)
    assert traj.T == 6 and traj.jacobians().shape == (6, 1, 6, 6)
    out, (h_n, c_n) = layer(minigrad.tensor(x))
    np.testing.assert_allclose(np.stack([s.data[0, :3] for s in traj.states[1:]]), out.data, rtol=1e-12)
    s0 = np.random.default_rng(1).standard_normal(6)  # an unbatched state [h0; c0]
    (traj0,) = bptt.unroll(layer, x, state0=[s0])
    np.testing.assert_array_equal(traj0.states[0].data, s0[None])


def test_cell_unbatched_and_bad_shapes():
    minigrad.manual_seed(0)
    cell = RNNCell(2, 4)
    traj = bptt.unroll(cell, np.ones((3, 2)))
    assert traj.T == 3 and traj.states[0].shape == (1, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T >= 1, 2\) or \(T >= 1, 2\), got \(4, 3, 5\)"):
        bptt.unroll(RNN(2, 4, batch_first=True), np.ones((4, 3, 5)))
