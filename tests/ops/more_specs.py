"""Specs for the gradient factory (``test_op_gradients.py``): spectral ops and recurrent step ops.

Kept in their own file so the factory's table stays readable; ``SPECS`` there merges these.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from minigrad import ops
from minigrad.ops.recurrent_sequence import StepOutputs
from minigrad.tensor import Tensor
from tests.nn.test_fused_ops import GATES, KINDS, away_from_relu_kink, composed, draw_inputs
from tests.ops.attention_spec import ATTENTION_SPECS
from tests.ops.test_extra_step_ops import EXTRA_STEP_SPECS


def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@st.composite
def _svd_matrix(draw):
    """U diag(s) Vᵀ with s₁ ≥ 1.6 s₂ and s_min ≥ 0.3: σ₁, ‖·‖_* are smooth there."""
    n, seed = draw(st.integers(2, 4)), draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0.3, 1.0, n))[::-1]
    s[0] = 1.6 * s[1] + rng.uniform(0, 1)
    return _orthogonal(n, rng) @ np.diag(s) @ _orthogonal(n, rng).T


@st.composite
def _eig_matrix(draw):
    """V diag(λ) V⁻¹ with real λ, |λ₁| ≥ 1.5 |λ₂|, V well conditioned: ρ is smooth there."""
    n, seed = draw(st.integers(2, 4)), draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.2, 1.0, n) * rng.choice([-1.0, 1.0], n)
    lam[0] = 1.5 * np.abs(lam[1:]).max() * np.sign(lam[0]) + 0.1 * np.sign(lam[0])
    V = _orthogonal(n, rng) @ np.diag(rng.uniform(0.7, 1.0, n)) @ _orthogonal(n, rng)
    return V @ np.diag(lam) @ np.linalg.inv(V)


@st.composite
def spectral_norm_spec(draw):
    W = draw(_svd_matrix())
    return _case(lambda: ops.SpectralNorm(n_iter=80), [W], lambda w: np.linalg.svd(w, compute_uv=False)[0])


@st.composite
def nuclear_norm_spec(draw):
    W = draw(_svd_matrix())
    return _case(ops.NuclearNorm, [W], lambda w: np.linalg.svd(w, compute_uv=False).sum())


@st.composite
def spectral_radius_spec(draw):
    W = draw(_eig_matrix())
    return _case(ops.SpectralRadius, [W], lambda w: np.abs(np.linalg.eigvals(w)).max())


def _case(make, inputs, reference, differentiable=None):
    from tests.ops.test_op_gradients import Case  # the factory's own record type

    return Case(make, inputs, reference, tuple(range(len(inputs))) if differentiable is None else differentiable)


def _composed_np(kind):
    f = composed(kind)
    return lambda *a: f(*[Tensor(x) for x in a]).data


_STEP = {
    ops.RNNStep: ("rnn_tanh", "rnn_relu"),
    ops.LSTMStep: ("lstm",),
    ops.GRUStep: ("gru", "gru_cho"),
}


def _make_step(kind, t=None):
    if kind.startswith("rnn"):
        return (lambda: ops.RNNStep(kind[4:])) if t is None else (lambda: ops.RNNSequenceStep(t, kind[4:]))
    if kind == "lstm":
        return ops.LSTMStep if t is None else (lambda: ops.LSTMSequenceStep(t))
    reset_after = kind == "gru"
    if t is None:
        return lambda: ops.GRUStep(reset_after)
    return lambda: ops.GRUSequenceStep(t, reset_after)


@st.composite
def _step_arrays(draw, kinds):
    kind = draw(st.sampled_from(kinds))
    N, H = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    arrays = draw_inputs(kind, N, H, draw(st.integers(0, 2**31 - 1)), draw(st.booleans()))
    assume(away_from_relu_kink(kind, arrays))
    return kind, arrays


def step_spec(op_cls):
    @st.composite
    def spec(draw):
        kind, arrays = draw(_step_arrays(_STEP[op_cls]))
        return _case(_make_step(kind), arrays, _composed_np(kind))

    return spec()


def sequence_step_spec(op_cls):
    plain = {ops.RNNSequenceStep: ops.RNNStep, ops.LSTMSequenceStep: ops.LSTMStep, ops.GRUSequenceStep: ops.GRUStep}

    @st.composite
    def spec(draw):
        kind, arrays = draw(_step_arrays(_STEP[plain[op_cls]]))
        T = draw(st.integers(1, 3))
        t = draw(st.integers(0, T - 1))
        xp = np.random.default_rng(t).normal(size=(T,) + arrays[0].shape)
        xp[t] = arrays[0]
        row = _composed_np(kind)
        return _case(_make_step(kind, t), [xp] + arrays[1:], lambda xp, *rest: row(xp[t], *rest))

    return spec()


@st.composite
def step_outputs_spec(draw):
    T, N, S = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(2, 4))
    only_h = draw(st.booleans())  # an LSTM's output: the h half of s = [h; c]
    cols = slice(0, S // 2) if only_h else slice(None)
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    states = [rng.normal(size=(N, S)) for _ in range(T)]

    def make():
        buffer = np.empty((T, N, S))
        return StepOutputs(buffer, list(buffer), cols)

    return _case(make, states, lambda *s: np.stack(s)[:, :, cols])


MORE_SPECS = {
    ops.SpectralNorm: spectral_norm_spec(),
    ops.NuclearNorm: nuclear_norm_spec(),
    ops.SpectralRadius: spectral_radius_spec(),
    ops.RNNStep: step_spec(ops.RNNStep),
    ops.LSTMStep: step_spec(ops.LSTMStep),
    ops.GRUStep: step_spec(ops.GRUStep),
    ops.RNNSequenceStep: sequence_step_spec(ops.RNNSequenceStep),
    ops.LSTMSequenceStep: sequence_step_spec(ops.LSTMSequenceStep),
    ops.GRUSequenceStep: sequence_step_spec(ops.GRUSequenceStep),
    ops.StepOutputs: step_outputs_spec(),
}

MORE_SPECS.update(EXTRA_STEP_SPECS)  # residual, highway and LayerNorm steps: tests/ops/test_extra_step_ops.py
MORE_SPECS.update(ATTENTION_SPECS)  # scaled dot-product attention: tests/ops/attention_spec.py

assert set(GATES) == set(KINDS)
