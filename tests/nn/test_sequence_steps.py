"""The whole-sequence options of the fused step ops (``t``: read row t of the projection;
``out``: write the state into a given array) and ``StepOutputs`` (gather the step outputs
without a copy), against the plain per-step ops and central differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.gradcheck import gradcheck, numerical_jacobian
from minigrad.ops.recurrent import GRUStep, LSTMStep, RNNStep
from minigrad.ops.recurrent_sequence import (
    GRUSequenceStep,
    LSTMSequenceStep,
    RNNSequenceStep,
    StepOutputs,
)
from minigrad.tensor import Tensor, apply_op
from tests.nn.test_fused_ops import GATES, KINDS, away_from_relu_kink, draw_inputs


def make_op(kind: str, t=None, out=None, gates=None):
    """The plain step op, or (given ``t``) a layer's step reading row t of the projection."""
    if kind.startswith("rnn"):
        assert gates is None  # the RNN has no gates
        return RNNStep(kind[4:], out) if t is None else RNNSequenceStep(t, kind[4:], out)
    if kind == "lstm":
        return LSTMStep(out, gates) if t is None else LSTMSequenceStep(t, out, gates)
    if t is None:
        return GRUStep(kind == "gru", out, gates)
    return GRUSequenceStep(t, kind == "gru", out, gates)


def whole_projection(kind, T, t, arrays, seed):
    """A (T, N, G*H) projection whose row t is the drawn xp, other rows random."""
    xp = np.random.default_rng(seed + 7).normal(size=(T,) + arrays[0].shape)
    xp[t] = arrays[0]
    return xp


@pytest.mark.parametrize("kind", KINDS)
@given(
    T=st.integers(1, 3), N=st.integers(1, 2), H=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1), bias=st.booleans(), data=st.data(),
)  # fmt: skip
def test_indexed_step_equals_plain_step_and_central_differences(kind, T, N, H, seed, bias, data):
    t = data.draw(st.integers(0, T - 1))
    arrays = draw_inputs(kind, N, H, seed, bias)
    assume(away_from_relu_kink(kind, arrays))
    xp = whole_projection(kind, T, t, arrays, seed)
    plain = apply_op(make_op(kind), *[Tensor(a) for a in arrays])
    ins = [Tensor(xp, requires_grad=True)] + [Tensor(a, requires_grad=True) for a in arrays[1:]]
    out = apply_op(make_op(kind, t=t), *ins)
    np.testing.assert_allclose(out.data, plain.data, rtol=1e-14, atol=1e-14)

    def f(*tensors):
        return apply_op(make_op(kind, t=t), *tensors)

    assert gradcheck(f, ins, atol=1e-6, rtol=1e-5)
    # the dense Jacobian for the whole projection: row t's columns only
    J = out._op.jacobian(0)
    numeric = numerical_jacobian(f, ins)[0].reshape(J.shape)  # out.shape + in.shape
    np.testing.assert_allclose(J, numeric, atol=1e-6, rtol=1e-5)
    G = GATES[kind]
    cols = np.arange(T * N * G * H).reshape(T, N * G * H)
    others = np.delete(cols, t, axis=0).ravel()
    assert np.all(J[:, others] == 0)


@pytest.mark.parametrize("kind", KINDS)
def test_out_receives_the_state(kind):
    arrays = draw_inputs(kind, 2, 3, 11, True)
    expected = apply_op(make_op(kind), *[Tensor(a) for a in arrays]).data
    dest = np.full_like(arrays[1], np.nan)
    out = apply_op(make_op(kind, out=dest), *[Tensor(a, requires_grad=True) for a in arrays])
    assert out.data is dest
    np.testing.assert_allclose(dest, expected, rtol=1e-14)


GATED = ("lstm", "gru", "gru_cho")


@pytest.mark.parametrize("kind", GATED)
@given(N=st.integers(1, 2), H=st.integers(1, 3), seed=st.integers(0, 2**31 - 1),
       bias=st.booleans())  # fmt: skip
def test_gates_array_gives_the_same_step_and_gradients(kind, N, H, seed, bias):
    arrays = draw_inputs(kind, N, H, seed, bias)
    plain = apply_op(make_op(kind), *[Tensor(a) for a in arrays])

    def f(*tensors):
        return apply_op(make_op(kind, gates=np.empty_like(arrays[0])), *tensors)

    ins = [Tensor(a, requires_grad=True) for a in arrays]
    np.testing.assert_allclose(f(*ins).data, plain.data, rtol=1e-14, atol=1e-14)
    assert gradcheck(f, ins, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", GATED)
def test_gates_in_place_in_the_projection_row(kind):
    """The layer's way: gates computed over row t of the projection (read by no one else)."""
    T, N, H, t = 3, 2, 3, 1
    arrays = draw_inputs(kind, N, H, 21, True)
    xp = whole_projection(kind, T, t, arrays, 21)
    expected_ins = [Tensor(a, requires_grad=True) for a in arrays]
    expected = apply_op(make_op(kind), *expected_ins)
    g = np.random.default_rng(22).normal(size=expected.shape)
    want = mg.grad(expected, expected_ins, g)
    rows = list(xp)
    ins = [Tensor(xp, requires_grad=True)] + [Tensor(a, requires_grad=True) for a in arrays[1:]]
    out = apply_op(make_op(kind, t=t, gates=rows[t]), *ins)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-14)
    saved = out._op.saved[3] if kind == "lstm" else out._op.saved[2]  # the gate activations
    assert np.shares_memory(saved, xp[t])  # the gates live in the projection's row
    got = mg.grad(out, ins, g)
    np.testing.assert_allclose(got[0][t], want[0], rtol=1e-12, atol=1e-14)
    assert np.all(np.delete(got[0], t, axis=0) == 0)
    for a, b in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_bad_out_and_t_are_named():
    arrays = draw_inputs("lstm", 2, 3, 12, True)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 6\)"):
        apply_op(make_op("lstm", out=np.zeros((2, 3))), *[Tensor(a) for a in arrays])
    with pytest.raises(ValueError, match=r"gates must have shape \(2, 12\)"):
        apply_op(make_op("lstm", gates=np.zeros((2, 3))), *[Tensor(a) for a in arrays])
    xp = whole_projection("lstm", 2, 0, arrays, 12)
    with pytest.raises(ValueError, match=r"xp must have shape \(T > 2, N, G\*H\) for t=2"):
        apply_op(make_op("lstm", t=2), Tensor(xp), *[Tensor(a) for a in arrays[1:]])


def step_outputs_case(T, N, S, seed):
    rng = np.random.default_rng(seed)
    states = [Tensor(rng.normal(size=(N, S)), requires_grad=True) for _ in range(T)]
    buffer = np.empty((T, N, S))
    rows = list(buffer)
    return states, buffer, rows


@given(T=st.integers(1, 3), N=st.integers(1, 2), S=st.integers(2, 4),
       seed=st.integers(0, 2**31 - 1), half=st.booleans())  # fmt: skip
def test_step_outputs_gradient_and_copy_in(T, N, S, seed, half):
    cols = slice(0, S // 2) if half else slice(None)
    states, buffer, rows = step_outputs_case(T, N, S, seed)
    out = apply_op(StepOutputs(buffer, rows, cols), *states)  # states are not the rows: copied
    expected = np.stack([s.data for s in states])[:, :, cols]
    np.testing.assert_array_equal(out.data, expected)

    def f(*tensors):
        fresh = np.empty((T, N, S))
        return apply_op(StepOutputs(fresh, list(fresh), cols), *tensors)

    assert gradcheck(f, states, atol=1e-6, rtol=1e-5)
    g = np.random.default_rng(seed + 1).normal(size=out.shape)
    grads = mg.grad(out, states, g)
    for k in range(T):
        full = np.zeros((N, S))
        full[:, cols] = g[k]
        np.testing.assert_array_equal(grads[k], full)


def test_step_outputs_returns_the_buffer_without_copying():
    T, N, H = 3, 2, 4
    buffer = np.empty((T, N, 2 * H))
    rows = list(buffer)
    for k, row in enumerate(rows):
        row[...] = k
    states = [Tensor(row, requires_grad=True) for row in rows]  # written in place already
    out = apply_op(StepOutputs(buffer, rows, slice(0, H)), *states)
    assert out.data.base is buffer and np.shares_memory(out.data, buffer)
    np.testing.assert_array_equal(out.data[:, 0, 0], [0, 1, 2])
    with pytest.raises(ValueError, match="expected 3 step outputs, got 2"):
        apply_op(StepOutputs(buffer, rows), *states[:2])


@pytest.mark.parametrize("cls", [mg.nn.RNN, mg.nn.LSTM, mg.nn.GRU])
def test_layer_output_is_one_buffer_of_the_step_states(cls):
    """The layer's steps write into one (T, N, S) buffer: the output is a view of it."""
    mg.manual_seed(0)
    layer = cls(3, 4)
    out = layer(mg.tensor(np.random.default_rng(0).normal(size=(5, 2, 3))))[0]
    op = out._op
    assert isinstance(op, StepOutputs) and np.shares_memory(out.data, op.buffer)
    steps = [s._op for s in op.inputs]
    assert [step.t for step in steps] == list(range(5))
    for k, s in enumerate(op.inputs):
        assert s.data is op.rows[k]


@pytest.mark.parametrize("cls", [mg.nn.RNN, mg.nn.LSTM, mg.nn.GRU])
def test_layer_output_is_read_only_while_its_graph_needs_it(cls):
    """The output shares memory with what the steps saved: writing into it must fail."""
    mg.manual_seed(0)
    layer = cls(3, 4)
    out = layer(mg.tensor(np.random.default_rng(0).normal(size=(5, 2, 3))))[0]
    with pytest.raises(ValueError, match="read-only"):
        out.data[0] = 0.0
    with mg.no_grad():  # no graph: nothing to protect
        free = layer(mg.tensor(np.ones((5, 2, 3))))[0]
    free.data[0] = 0.0
