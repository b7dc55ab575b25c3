"""The fused recurrent step ops (minigrad/ops/recurrent.py) against the composed cells and
against central differences: forward values, VJPs for every input, and the closed-form
per-sample Jacobians ``state_jacobian()`` and ``input_jacobian()``.

The composed reference is called with ``x = xp`` and ``W_ih = I`` (no ``b_ih``), so that it
computes exactly the function of the fused op's inputs ``(xp, s_prev, W_hh, b_hh)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import reference
from minigrad.ops.recurrent import GRUStep, LSTMStep, RNNStep
from minigrad.tensor import Tensor, apply_op

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_cho")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3, "gru_cho": 3}


def make_op(kind: str):
    if kind.startswith("rnn"):
        return RNNStep(kind[4:])
    if kind == "lstm":
        return LSTMStep()
    return GRUStep(reset_after=kind == "gru")


def fused(kind: str):
    """The fused step as a function of tensors (xp, s, W_hh[, b_hh])."""
    return lambda *ins: apply_op(make_op(kind), *ins)


def composed(kind: str):
    """The same function built from primitive ops only."""

    def f(xp, s, W_hh, b_hh=None):
        eye = Tensor(np.eye(xp.shape[1], dtype=xp.dtype))
        if kind.startswith("rnn"):
            return reference.rnn_step(xp, s, eye, W_hh, None, b_hh, kind[4:])
        if kind == "lstm":
            H = W_hh.shape[1]
            h, c = reference.lstm_step(xp, s[:, :H], s[:, H:], eye, W_hh, None, b_hh)
            return mg.concatenate([h, c], axis=1)
        return reference.gru_step(xp, s, eye, W_hh, None, b_hh, reset_after=kind == "gru")

    return f


def draw_inputs(kind, N, H, seed, bias, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    G = GATES[kind]
    S = 2 * H if kind == "lstm" else H
    arrays = [
        rng.normal(size=(N, G * H)) * scale,
        rng.normal(size=(N, S)),
        rng.normal(size=(G * H, H)) * scale,
    ]
    if bias:
        arrays.append(rng.normal(size=G * H) * scale)
    return [a.astype(dtype) for a in arrays]


def away_from_relu_kink(kind, arrays) -> bool:
    """For relu, finite differences are wrong within eps of z = 0: keep every |z| > 1e-3."""
    if kind != "rnn_relu":
        return True
    xp, h, W = arrays[:3]
    z = xp + h @ W.T + (arrays[3] if len(arrays) == 4 else 0)
    return bool(np.abs(z).min() > 1e-3)


cases = dict(
    N=st.integers(1, 3),
    H=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
    bias=st.booleans(),
)


@pytest.mark.parametrize("kind", KINDS)
@given(**cases)
def test_fused_forward_and_vjp_equal_composed(kind, N, H, seed, bias):
    arrays = draw_inputs(kind, N, H, seed, bias)
    ins_f = [Tensor(a, requires_grad=True) for a in arrays]
    ins_c = [Tensor(a, requires_grad=True) for a in arrays]
    out_f, out_c = fused(kind)(*ins_f), composed(kind)(*ins_c)
    np.testing.assert_allclose(out_f.data, out_c.data, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(seed + 1).normal(size=out_f.shape)
    assume(away_from_relu_kink(kind, arrays))
    for gf, gc in zip(mg.grad(out_f, ins_f, g), mg.grad(out_c, ins_c, g), strict=True):
        np.testing.assert_allclose(gf, gc, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@given(**cases)
def test_fused_vjp_matches_central_differences(kind, N, H, seed, bias):
    arrays = draw_inputs(kind, N, H, seed, bias)
    assume(away_from_relu_kink(kind, arrays))
    assert mg.gradcheck(fused(kind), [Tensor(a, requires_grad=True) for a in arrays])


def per_sample_blocks(J: np.ndarray) -> np.ndarray:
    """(N, A, N, B) full Jacobian -> (N, A, B) diagonal blocks; the rest must be zero."""
    N = J.shape[0]
    blocks = np.stack([J[n, :, n, :] for n in range(N)])
    off = J.copy()
    for n in range(N):
        off[n, :, n, :] = 0
    assert np.all(off == 0), "samples of a batch must not interact"
    return blocks


@pytest.mark.parametrize("kind", KINDS)
@given(**cases)
def test_state_and_input_jacobians_closed_form(kind, N, H, seed, bias):
    arrays = draw_inputs(kind, N, H, seed, bias)
    assume(away_from_relu_kink(kind, arrays))
    out = fused(kind)(*[Tensor(a, requires_grad=True) for a in arrays])
    op = out._op
    J_s, J_x = op.state_jacobian(), op.input_jacobian()
    S, GH = arrays[1].shape[1], arrays[0].shape[1]
    assert J_s.shape == (N, S, S) and J_x.shape == (N, S, GH)
    rest = arrays[2:]
    f_s = lambda s: composed(kind)(Tensor(arrays[0]), s, *map(Tensor, rest))  # noqa: E731
    f_x = lambda xp: composed(kind)(xp, Tensor(arrays[1]), *map(Tensor, rest))  # noqa: E731
    for closed, f, a in ((J_s, f_s, arrays[1]), (J_x, f_x, arrays[0])):
        np.testing.assert_allclose(closed, per_sample_blocks(mg.jacobian(f, a)), atol=1e-12)
        numeric = per_sample_blocks_approx(mg.numerical_jacobian(f, a))
        np.testing.assert_allclose(closed, numeric, atol=1e-6, rtol=1e-5)


def per_sample_blocks_approx(J: np.ndarray) -> np.ndarray:
    N = J.shape[0]
    return np.stack([J[n, :, n, :] for n in range(N)])


@pytest.mark.parametrize("kind", KINDS)
@given(**cases)
def test_dense_jacobian_agrees_with_vjp(kind, N, H, seed, bias):
    """The Op contract: vjp(g)[i] == jacobian(i).T @ g for every input."""
    arrays = draw_inputs(kind, N, H, seed, bias)
    out = fused(kind)(*[Tensor(a, requires_grad=True) for a in arrays])
    op = out._op
    g = np.random.default_rng(seed + 2).normal(size=out.shape)
    for i, (a, v) in enumerate(zip(arrays, op.vjp(g), strict=True)):
        J = op.jacobian(i)
        assert J.shape == (out.size, a.size)
        np.testing.assert_allclose(v.ravel(), J.T @ g.ravel(), rtol=1e-10, atol=1e-12)


def test_rnn_tanh_state_jacobian_is_the_seed_formula():
    """J_t = diag(1 - h_t^2) W_hh, written out."""
    xp, h, W, b = draw_inputs("rnn_tanh", 2, 4, 0, True)
    out = fused("rnn_tanh")(*[Tensor(a, requires_grad=True) for a in (xp, h, W, b)])
    for n in range(2):
        expected = np.diag(1 - out.data[n] ** 2) @ W
        np.testing.assert_allclose(out._op.state_jacobian()[n], expected, rtol=1e-13)


def test_relu_state_jacobian_is_a_masked_copy_of_W():
    xp, h, W = draw_inputs("rnn_relu", 3, 4, 1, False)
    out = fused("rnn_relu")(*[Tensor(a, requires_grad=True) for a in (xp, h, W)])
    J = out._op.state_jacobian()
    active = out.data > 0
    for n in range(3):
        np.testing.assert_array_equal(J[n], active[n][:, None] * W)


def test_lstm_cell_to_cell_block_is_the_forget_gate():
    r"""$\partial c_t/\partial c_{t-1} = \mathrm{diag}(f)$: no W_hh on the cell's path."""
    xp, s, W, b = draw_inputs("lstm", 2, 3, 2, True)
    out = fused("lstm")(*[Tensor(a, requires_grad=True) for a in (xp, s, W, b)])
    a = xp + s[:, :3] @ W.T + b
    f = 1 / (1 + np.exp(-a[:, 3:6]))
    J = out._op.state_jacobian()
    for n in range(2):
        np.testing.assert_allclose(J[n, 3:, 3:], np.diag(f[n]), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind):
    arrays = draw_inputs(kind, 2, 3, 3, True, dtype=np.float32)
    ins = [Tensor(a, requires_grad=True) for a in arrays]
    out = fused(kind)(*ins)
    assert out.dtype == np.float32
    out.sum().backward(retain_graph=True)  # keep out._op for state_jacobian below
    assert all(t.grad.dtype == np.float32 for t in ins)
    assert out._op.state_jacobian().dtype == np.float32


def test_large_preactivations_stay_finite():
    """Sigmoid as (1 + tanh(a/2))/2 never overflows, even for |a| ~ 1e4."""
    for kind in ("lstm", "gru", "gru_cho"):
        arrays = draw_inputs(kind, 2, 3, 4, True, scale=1e4)
        ins = [Tensor(a, requires_grad=True) for a in arrays]
        out = fused(kind)(*ins)
        out.sum().backward()
        assert np.isfinite(out.data).all() and all(np.isfinite(t.grad).all() for t in ins)


@pytest.mark.parametrize(
    ("kind", "bad", "message"),
    [
        ("rnn_tanh", 0, "xp must have shape"),
        ("lstm", 1, "s_prev must have shape"),
        ("gru", 2, "W_hh must have shape"),
        ("gru", 3, "b_hh must have shape"),
    ],
)
def test_bad_shapes_are_named(kind, bad, message):
    arrays = draw_inputs(kind, 2, 3, 5, True)
    arrays[bad] = arrays[bad][..., :-1]
    with pytest.raises(ValueError, match=message):
        fused(kind)(*[Tensor(a) for a in arrays])


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        RNNStep("sigmoid")
