"""Recurrent initializations (known spectra, gate biases) and adaptive / per-parameter clipping."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.diagnostics import condition_number, spectral_radius
from minigrad.nn import GRU, LSTM, LSTMCell, Parameter, RNNCell
from minigrad.nn.clipping import (
    AdaptiveGradClipper,
    clip_grad_norm_per_param_,
    clip_grad_value_per_param_,
)  # fmt: skip
from minigrad.nn.recurrent_init import (
    chrono_init_,
    forget_gate_bias_,
    identity_,
    retention_logit,
    scaled_orthogonal_,
)  # fmt: skip


@given(st.floats(0.1, 2.0), st.integers(1, 8), st.integers(0, 1000))
def test_scaled_orthogonal_radius_gamma_condition_one(gamma, H, seed):
    minigrad.manual_seed(seed)
    cell = RNNCell(2, H)
    scaled_orthogonal_(cell.weight_hh, gamma)
    W = cell.weight_hh.data
    np.testing.assert_allclose(W @ W.T, gamma**2 * np.eye(H), atol=1e-12)
    assert spectral_radius(W) == pytest.approx(gamma, rel=1e-10)
    assert condition_number(W) == pytest.approx(1.0, rel=1e-10)


def test_gate_blocks_each_orthogonal_and_identity():
    gru = GRU(2, 4)
    scaled_orthogonal_(gru.weight_hh_l0, 0.5)
    for k in range(3):
        B = gru.weight_hh_l0.data[4 * k:4 * (k + 1)]
        np.testing.assert_allclose(B @ B.T, 0.25 * np.eye(4), atol=1e-12)
    identity_(gru.weight_hh_l0, 1.0)
    np.testing.assert_array_equal(gru.weight_hh_l0.data, np.tile(np.eye(4), (3, 1)))
    with pytest.raises(ValueError, match=r"\(G\*H, H\)"):
        identity_(Parameter(np.zeros((3, 2))))


@given(st.floats(0.01, 0.99))
def test_forget_bias_gives_retention_p(p):
    lstm = LSTM(2, 3, num_layers=2)
    forget_gate_bias_(lstm, p)
    for k in range(2):
        b = getattr(lstm, f"bias_ih_l{k}").data[3:6] + getattr(lstm, f"bias_hh_l{k}").data[3:6]
        np.testing.assert_allclose(1 / (1 + np.exp(-b)), p, rtol=1e-12)
    # the formula log(1/(1-p)) retains 1/(2-p) instead
    seed_b = math.log(1 / (1 - p))
    assert 1 / (1 + math.exp(-seed_b)) == pytest.approx(1 / (2 - p))


def test_forget_bias_sets_the_cell_jacobian_block():
    """With W_hh = 0, W_ih = 0: f = p exactly, so dc_t/dc_{t-1} = p I in the LSTM Jacobian."""
    from minigrad import bptt

    cell = LSTMCell(2, 3)
    for prm in cell.parameters():
        prm.data[...] = 0
    forget_gate_bias_(cell, 0.8)
    traj = bptt.unroll(cell, np.ones((2, 1, 2)))
    np.testing.assert_allclose(traj.jacobians()[1, 0, 3:, 3:], 0.8 * np.eye(3), rtol=1e-12)
    with pytest.raises(ValueError, match=r"p \(the retention probability\) must be a number in \(0, 1\), got 1.0"):
        retention_logit(1.0)
    with pytest.raises(TypeError, match="LSTM"):
        forget_gate_bias_(RNNCell(2, 2), 0.5)


def test_chrono_init_ranges():
    minigrad.manual_seed(0)
    cell = LSTMCell(2, 50)
    chrono_init_(cell, 100)
    bf, bi = cell.bias_ih.data[50:100], cell.bias_ih.data[:50]
    assert bf.min() >= 0 and bf.max() <= math.log(99)
    np.testing.assert_array_equal(bi, -bf)
    np.testing.assert_array_equal(cell.bias_hh.data[:100], 0)
    assert bf.std() > 0.3  # time scales spread out, not one constant
    with pytest.raises(ValueError, match="T_max"):
        chrono_init_(cell, 1)


def grads(*arrays):
    ps = [Parameter(np.zeros_like(np.asarray(a, dtype=float))) for a in arrays]
    for p, a in zip(ps, arrays, strict=True):
        p.grad = np.array(a, dtype=float)
    return ps


def test_adaptive_clipper_follows_clipped_norm():
    clip = AdaptiveGradClipper(alpha=0.5)
    ps = grads([3.0, 4.0])  # norm 5: first call only measures
    assert clip(ps) == pytest.approx(5.0) and clip.threshold == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad, [3.0, 4.0])
    ps = grads([0.0, 1e20])  # a spike: clipped to theta = 5, and theta is fed 5, not 1e20
    assert clip(ps) == pytest.approx(1e20)
    assert np.linalg.norm(ps[0].grad) == pytest.approx(5.0, rel=1e-6)
    assert clip.threshold == pytest.approx(5.0, rel=1e-6)
    ps = grads([1.0, 0.0])  # below threshold: untouched; theta = 0.5*5 + 0.5*1 = 3
    clip(ps)
    np.testing.assert_allclose(ps[0].grad, [1.0, 0.0])
    assert clip.threshold == pytest.approx(3.0, rel=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        AdaptiveGradClipper(alpha=1.0)


def test_per_parameter_clipping():
    a, b = grads([3.0, -4.0], [0.5, -0.1])
    clip_grad_value_per_param_([a, b], [1.0, 0.2])
    np.testing.assert_allclose(a.grad, [1.0, -1.0])
    np.testing.assert_allclose(b.grad, [0.2, -0.1])
    a, b = grads([3.0, -4.0], [0.3, 0.4])
    norms = clip_grad_norm_per_param_([a, b], [1.0, 1.0])
    assert norms == pytest.approx([5.0, 0.5])
    np.testing.assert_allclose(a.grad, [0.6, -0.8], rtol=1e-5)
    np.testing.assert_allclose(b.grad, [0.3, 0.4])  # its own norm is under its threshold
    with pytest.raises(ValueError, match="one threshold per parameter"):
        clip_grad_value_per_param_([a, b], [1.0])
