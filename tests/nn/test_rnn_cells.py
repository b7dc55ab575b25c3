"""RNNCell / LSTMCell / GRUCell: PyTorch's call signatures, equal to the composed reference cells,
gradients for every parameter and input against central differences, the state-step interface."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from layer_check import assert_module_gradients_match

import minigrad as mg
from minigrad import nn
from minigrad.nn import reference
from minigrad.ops.recurrent import GRUStep, LSTMStep, RNNStep
from minigrad.tensor import Tensor

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_cho")


def make_cell(kind, input_size, hidden_size, bias=True):
    if kind.startswith("rnn"):
        return nn.RNNCell(input_size, hidden_size, bias, nonlinearity=kind[4:])
    if kind == "lstm":
        return nn.LSTMCell(input_size, hidden_size, bias)
    return nn.GRUCell(input_size, hidden_size, bias, reset_after=kind == "gru")


def reference_cell(kind, cell, x, h, c=None):
    ps = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    if kind == "lstm":
        return reference.lstm_step(x, h, c, *ps)
    if kind.startswith("rnn"):
        return reference.rnn_step(x, h, *ps, nonlinearity=kind[4:])
    return reference.gru_step(x, h, *ps, reset_after=kind == "gru")


class CellWithState(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h, c=None):
        return self.cell(x, (h, c)) if isinstance(self.cell, nn.LSTMCell) else self.cell(x, h)


@pytest.mark.parametrize("kind", KINDS)
@given(N=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_cell_equals_composed_reference_and_central_differences(kind, N, bias, seed):
    mg.manual_seed(seed)
    cell = make_cell(kind, 3, 2, bias)
    rng = np.random.default_rng(seed)
    x, h, c = rng.normal(size=(N, 3)), rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    if kind == "lstm":
        got = cell(Tensor(x), (Tensor(h), Tensor(c)))
        want = reference_cell(kind, cell, Tensor(x), Tensor(h), Tensor(c))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-13)
    else:
        got = cell(Tensor(x), Tensor(h))
        want = reference_cell(kind, cell, Tensor(x), Tensor(h))
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-13)
    inputs = [x, h] + ([c] if kind == "lstm" else [])
    assert_module_gradients_match(CellWithState(cell), inputs, seed=seed)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_and_default_state(kind):
    mg.manual_seed(0)
    cell = make_cell(kind, 3, 4)
    x = np.random.default_rng(0).normal(size=3)
    out = cell(Tensor(x))
    zeros = Tensor(np.zeros((1, 4)))
    if kind == "lstm":
        h, c = out
        rh, rc = reference_cell(kind, cell, Tensor(x[None]), zeros, zeros)
        assert h.shape == (4,) and c.shape == (4,)
        np.testing.assert_allclose(c.data, rc.data[0], rtol=1e-13)
    else:
        h, rh = out, reference_cell(kind, cell, Tensor(x[None]), zeros)
        assert h.shape == (4,)
    np.testing.assert_allclose(h.data, rh.data[0], rtol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_state_step_interface(kind):
    cell = make_cell(kind, 3, 2)
    S = 4 if kind == "lstm" else 2
    assert cell.state_size == S
    s0 = cell.initial_state(5)
    assert s0.shape == (5, S) and not s0.data.any()
    s1 = cell.state_step(Tensor(np.ones((5, 3))), s0)
    assert s1.shape == (5, S)
    assert isinstance(s1._op, (RNNStep, LSTMStep, GRUStep))
    assert s1._op.state_jacobian().shape == (5, S, S)
    assert s1._op.input_jacobian().shape == (5, S, cell.weight_ih.shape[0])
    if kind == "lstm":
        h, c = cell.split_state(s1)
        h2, c2 = cell(Tensor(np.ones((5, 3))))
        np.testing.assert_array_equal(h.data, h2.data)
        np.testing.assert_array_equal(c.data, c2.data)


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input must have shape \(N, 3\) or \(3,\), got \(2, 5\)"):
        cell(Tensor(np.zeros((2, 5))))
    h = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h\) must have shape \(2, 4\), got \(2, 3\)"):
        cell(Tensor(np.zeros((2, 3))), (h, h))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        cell(Tensor(np.zeros((2, 3))), h)
    with pytest.raises(ValueError, match=r"hx must have shape \(4,\), got \(2, 4\)"):
        nn.GRUCell(3, 4)(Tensor(np.zeros(3)), Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="input_size must be a positive integer, got 2.5"):
        nn.RNNCell(2.5, 3)
