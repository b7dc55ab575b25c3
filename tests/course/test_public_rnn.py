"""Public checks of the recurrent and training tasks of course/example_tasks.toml.

Like test_public_ops.py, each compares one piece with central differences (or, for Adam,
checks the first step) and uses no other piece a student might still be writing: no engine
backward pass, and explicit BPTT is checked on a GRU cell, whose step VJP is not one of the
tasks. The graded tests are hidden, exact, and check every output.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from public_helpers import EPS, numeric_jacobian

import minigrad as mg
from minigrad import bptt
from minigrad.nn import Parameter
from minigrad.nn.rnn import GRUCell
from minigrad.ops.recurrent import LSTMStep, RNNStep
from minigrad.optim import Adam


def check_step_vjp(make_op, inputs, seed):
    op = make_op()
    out = op(*inputs)
    g = np.random.default_rng(seed + 1).normal(size=out.shape)
    grads = op.vjp(g)
    assert len(grads) == len(inputs), f"vjp must return one gradient per input, got {len(grads)}"
    for i, x in enumerate(inputs):
        expected = (numeric_jacobian(make_op, inputs, i).T @ g.ravel()).reshape(x.shape)
        assert np.shape(grads[i]) == x.shape, f"gradient {i} has shape {np.shape(grads[i])}"
        np.testing.assert_allclose(grads[i], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@settings(max_examples=10)
@given(N=st.integers(1, 3), H=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_rnn_step_vjp(nonlinearity, N, H, seed):
    rng = np.random.default_rng(seed)
    xp, h, W, b = rng.normal(size=(N, H)), rng.normal(size=(N, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    z = xp + h @ W.T + b
    z = np.where(np.abs(z) < 1e-2, 0.5, z)  # keep relu off its kink: shift x' so z moves
    xp = z - h @ W.T - b
    check_step_vjp(lambda: RNNStep(nonlinearity), [xp, h, W, b], seed)


@settings(max_examples=10)
@given(N=st.integers(1, 3), H=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_lstm_step_vjp(N, H, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.normal(size=(N, 4 * H)), rng.normal(size=(N, 2 * H)), rng.normal(size=(4 * H, H)),
              rng.normal(size=4 * H)]  # fmt: skip
    check_step_vjp(LSTMStep, inputs, seed)


def weighted_loss(cell, x, s0, g):
    """L = sum_t <g_t, s_t> over an unrolled trajectory (forward only)."""
    with mg.no_grad():
        xp, s = cell.project(mg.tensor(x.copy())), mg.tensor(s0.copy())
        total = float(np.sum(g[0] * s.data))
        for t in range(x.shape[0]):
            s = cell.step(xp[t], s)
            total += float(np.sum(g[t + 1] * s.data))
        return total


def central_difference(f, a):
    """d f / d a for an array ``a`` that f reads (perturbed in place, then restored)."""
    grad = np.zeros_like(a)
    for j in range(a.size):
        old = a.flat[j]
        a.flat[j] = old + EPS
        up = f()
        a.flat[j] = old - EPS
        down = f()
        a.flat[j] = old
        grad.flat[j] = (up - down) / (2 * EPS)
    return grad


@settings(max_examples=5)
@given(T=st.integers(1, 4), N=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_explicit_bptt(T, N, seed):
    rng = np.random.default_rng(seed)
    cell = GRUCell(2, 3)
    for p in cell.parameters():
        p.data[...] = 0.8 * rng.normal(size=p.shape)
    x, s0 = rng.normal(size=(T, N, 2)), 0.5 * rng.normal(size=(N, 3))
    g = rng.normal(size=(T + 1, N, 3))

    def loss():
        return weighted_loss(cell, x, s0, g)

    # Central differences first: recording the graph below makes the parameters read-only.
    expected = {name: central_difference(loss, p.data) for name, p in cell.named_parameters()}
    expected_s0, expected_x = central_difference(loss, s0), central_difference(loss, x)
    result = bptt.unroll(cell, mg.tensor(x.copy()), state0=mg.tensor(s0.copy())).backprop(g)
    np.testing.assert_allclose(result.adjoints[0], expected_s0, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.input_grads, expected_x, rtol=1e-5, atol=1e-7)
    assert sorted(result.param_grads) == sorted(expected)
    for name, grad in expected.items():
        np.testing.assert_allclose(result.param_grads[name], grad, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.contributions.sum(axis=0), result.param_grads["weight_hh"], rtol=1e-12)


THETA0 = np.array([1.0, -2.0, 0.5])
G = np.array([3.0, -0.02, 1e-9])


@pytest.mark.parametrize("kwargs", [{"lr": 0.1}, {"lr": 0.1, "betas": (0.5, 0.9)}, {"lr": 0.1, "eps": 1e-3}])
def test_adam_first_step(kwargs):
    # Step 1 after bias correction: m_hat = g and v_hat = g^2, so theta moves by lr * g / (|g| + eps).
    p = Parameter(THETA0.copy())
    opt = Adam([p], **kwargs)
    p.grad = G.copy()
    opt.step()
    eps = kwargs.get("eps", 1e-8)
    np.testing.assert_allclose(p.data, THETA0 - kwargs["lr"] * G / (np.abs(G) + eps), rtol=1e-9, atol=1e-12)
    assert math.isfinite(float(p.data.sum()))
