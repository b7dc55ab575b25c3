"""RNN / LSTM / GRU layers: PyTorch's parameter names and shapes, forward and every gradient
against a loop over the composed reference cells, and against central differences
(num_layers 2, bidirectional, batch_first, unbatched, h0/c0), dropout, errors, ``cell_for``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_check import assert_module_gradients_match

import minigrad as mg
from minigrad import nn
from minigrad.nn import reference
from minigrad.ops.recurrent import GRUStep, LSTMStep, RNNStep
from minigrad.tensor import Tensor

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_cho")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3, "gru_cho": 3}


def make_layer(kind, input_size, hidden_size, **kw):
    if kind.startswith("rnn"):
        return nn.RNN(input_size, hidden_size, nonlinearity=kind[4:], **kw)
    if kind == "lstm":
        return nn.LSTM(input_size, hidden_size, **kw)
    return nn.GRU(input_size, hidden_size, reset_after=kind == "gru", **kw)


def reference_layer(kind, params, x, num_layers, bidirectional, h0=None, c0=None):
    """The layer written out with the composed cells: (output (T, N, D*H), h_n, c_n or None)."""
    D = 2 if bidirectional else 1
    T, N = x.shape[0], x.shape[1]
    H = params["weight_hh_l0"].shape[1]
    layer_in, h_n, c_n = x, [], []
    for k in range(num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            W_ih, W_hh = params["weight_ih" + sfx], params["weight_hh" + sfx]
            b_ih, b_hh = params.get("bias_ih" + sfx), params.get("bias_hh" + sfx)
            zeros = Tensor(np.zeros((N, H)))
            h = zeros if h0 is None else h0[k * D + d]
            c = zeros if c0 is None else c0[k * D + d]
            hs = [None] * T
            for t in reversed(range(T)) if d else range(T):
                if kind == "lstm":
                    h, c = reference.lstm_step(layer_in[t], h, c, W_ih, W_hh, b_ih, b_hh)
                elif kind.startswith("rnn"):
                    h = reference.rnn_step(layer_in[t], h, W_ih, W_hh, b_ih, b_hh, kind[4:])
                else:
                    h = reference.gru_step(layer_in[t], h, W_ih, W_hh, b_ih, b_hh, kind == "gru")
                hs[t] = h
            outs.append(mg.stack(hs))
            h_n.append(h)
            c_n.append(c)
        layer_in = outs[0] if D == 1 else mg.concatenate(outs, axis=2)
    return layer_in, mg.stack(h_n), (mg.stack(c_n) if kind == "lstm" else None)


# ----- parameters ------------------------------------------------------------------------
def test_parameter_names_and_shapes_match_pytorch():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    expected = []
    for k, fan_in in ((0, 3), (1, 10)):
        for sfx in (f"_l{k}", f"_l{k}_reverse"):
            expected += [
                ("weight_ih" + sfx, (20, fan_in)), ("weight_hh" + sfx, (20, 5)),
                ("bias_ih" + sfx, (20,)), ("bias_hh" + sfx, (20,)),
            ]  # fmt: skip
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == expected
    gru = nn.GRU(4, 2, bias=False)
    assert [(n, p.shape) for n, p in gru.named_parameters()] == [
        ("weight_ih_l0", (6, 4)), ("weight_hh_l0", (6, 2)),
    ]  # fmt: skip
    cell = nn.LSTMCell(3, 2)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (8, 3)), ("weight_hh", (8, 2)), ("bias_ih", (8,)), ("bias_hh", (8,)),
    ]  # fmt: skip


def test_init_is_uniform_in_plus_minus_one_over_sqrt_h_and_seeded():
    mg.manual_seed(0)
    a = nn.GRU(8, 16, num_layers=2)
    mg.manual_seed(0)
    b = nn.GRU(8, 16, num_layers=2)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert np.abs(p.data).max() <= 0.25 and np.abs(p.data).max() > 0.2, name
    # U(-k, k) has variance k^2 / 3
    allw = np.concatenate([p.data.ravel() for p in a.parameters()])
    assert abs(allw.var() - 0.25**2 / 3) < 0.1 * 0.25**2 / 3


# ----- forward and gradients against the composed reference -----------------------------
config = dict(
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    bias=st.booleans(),
    with_h0=st.booleans(),
    T=st.integers(1, 4),
    N=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)


@pytest.mark.parametrize("kind", KINDS)
@given(**config)
def test_layer_matches_composed_reference(kind, num_layers, bidirectional, bias, with_h0, T, N, seed):
    H_in, H = 3, 2
    mg.manual_seed(seed)
    m = make_layer(kind, H_in, H, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    rng = np.random.default_rng(seed)
    LD = num_layers * (2 if bidirectional else 1)
    x = Tensor(rng.normal(size=(T, N, H_in)), requires_grad=True)
    h0 = Tensor(rng.normal(size=(LD, N, H)), requires_grad=True) if with_h0 else None
    c0 = Tensor(rng.normal(size=(LD, N, H)), requires_grad=True) if with_h0 else None
    if kind == "lstm":
        out, (h_n, c_n) = m(x, None if h0 is None else (h0, c0))
    else:
        (out, h_n), c_n = m(x, h0), None
    params = dict(m.named_parameters())
    r_out, r_h, r_c = reference_layer(kind, params, x, num_layers, bidirectional, h0,
                                      c0 if kind == "lstm" else None)  # fmt: skip
    assert out.shape == (T, N, LD // num_layers * H) and h_n.shape == (LD, N, H)
    pairs = [(out, r_out), (h_n, r_h)] + ([(c_n, r_c)] if kind == "lstm" else [])
    for a, b in pairs:
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
    wrt = [x] + list(params.values()) + ([h0] if with_h0 else [])
    wrt += [c0] if with_h0 and kind == "lstm" else []
    gs = [rng.normal(size=a.shape) for a, _ in pairs]
    got = mg.grad([a for a, _ in pairs], wrt, gs)
    want = mg.grad([b for _, b in pairs], wrt, gs)
    for g1, g2 in zip(got, want, strict=True):
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)


class WithState(nn.Module):
    """Makes h0 (and c0) ordinary inputs, so the gradient check covers them too."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, h0, c0=None):
        if isinstance(self.layer, nn.LSTM):
            return self.layer(x, (h0, c0))
        return self.layer(x, h0)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=3)
@given(batch_first=st.booleans(), unbatched=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_layer_gradients_match_central_differences(kind, batch_first, unbatched, seed):
    """Every parameter of a 2-layer bidirectional layer, the input, h0 and c0."""
    mg.manual_seed(seed)
    m = make_layer(kind, 2, 2, num_layers=2, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(seed)
    T, N = 3, 2
    x = rng.normal(size=(T, 2) if unbatched else ((N, T, 2) if batch_first else (T, N, 2)))
    state_shape = (4, 2) if unbatched else (4, N, 2)
    inputs = [x, rng.normal(size=state_shape)]
    if kind == "lstm":
        inputs.append(rng.normal(size=state_shape))
    assert_module_gradients_match(WithState(m), inputs, seed=seed)


def test_batch_first_and_unbatched_agree_with_the_default_layout():
    mg.manual_seed(1)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    out, (h, c) = m(Tensor(x))
    m.batch_first = True
    out_bf, (h_bf, c_bf) = m(Tensor(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(out_bf.data, out.data.transpose(1, 0, 2), rtol=1e-13)
    np.testing.assert_allclose(h_bf.data, h.data, rtol=1e-13)
    m.batch_first = False
    out1, (h1, c1) = m(Tensor(x[:, 1]))
    assert out1.shape == (5, 8) and h1.shape == (4, 4) and c1.shape == (4, 4)
    np.testing.assert_allclose(out1.data, out.data[:, 1], rtol=1e-13)
    np.testing.assert_allclose(c1.data, c.data[:, 1], rtol=1e-13)


# ----- dropout between layers --------------------------------------------------------------
def test_dropout_only_between_layers_and_only_in_training():
    mg.manual_seed(2)
    m = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = Tensor(np.random.default_rng(2).normal(size=(4, 2, 3)))
    m.eval()
    ref = m(x)[0].data
    np.testing.assert_array_equal(m(x)[0].data, ref)
    m.train()
    mg.manual_seed(3)
    a = m(x)[0].data
    mg.manual_seed(3)
    b = m(x)[0].data
    np.testing.assert_array_equal(a, b)  # reproducible from the seed
    assert not np.allclose(a, ref)
    single = nn.GRU(3, 4, num_layers=1, dropout=0.5)  # no layer after the last: no dropout
    single.train()
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


# ----- the per-step interface for BPTT -------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_cell_for_steps_reproduce_the_layer(kind):
    mg.manual_seed(4)
    m = make_layer(kind, 3, 2, num_layers=2, bidirectional=True)
    x = Tensor(np.random.default_rng(4).normal(size=(4, 2, 3)))
    out, _ = m(x)
    S = 4 if kind == "lstm" else 2
    layer_in = x
    for k in range(2):
        outs = []
        for reverse in (False, True):
            cell = m.cell_for(k, reverse)
            assert cell.state_size == S and cell.input_size == (3 if k == 0 else 4)
            assert cell.weight_hh is getattr(m, f"weight_hh_l{k}" + ("_reverse" if reverse else ""))
            s = cell.initial_state(2)
            assert s.shape == (2, S)
            hs = [None] * 4
            for t in (range(3, -1, -1) if reverse else range(4)):
                s = cell.state_step(layer_in[t], s)
                assert isinstance(s._op, (RNNStep, LSTMStep, GRUStep))
                hs[t] = cell.split_state(s)[0] if kind == "lstm" else s
            outs.append(mg.stack(hs))
        layer_in = mg.concatenate(outs, axis=2)
    np.testing.assert_allclose(layer_in.data, out.data, rtol=1e-13)
    names = [n for n, _ in m.cell_for(1, True).named_parameters()]
    assert names == ["weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
                     "bias_hh_l1_reverse"]  # fmt: skip


def test_cell_for_gradients_reach_the_layer_parameters():
    m = nn.RNN(2, 3)
    cell = m.cell_for(0)
    s = cell.state_step(Tensor(np.ones((1, 2))), cell.initial_state(1))
    s.sum().backward()
    assert m.weight_ih_l0.grad is not None and m.bias_hh_l0.grad is not None


# ----- errors ---------------------------------------------------------------------------------
def test_errors_name_the_argument_and_the_shapes():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"input must have shape .*input_size = 3, got \(5, 2, 7\)"):
        m(Tensor(np.zeros((5, 2, 7))))
    h = Tensor(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        m(Tensor(np.zeros((5, 2, 3))), (h, h))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        m(Tensor(np.zeros((5, 2, 3))), h)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match=r"dropout must be a probability in \[0, 1\], got 1.5"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"layer_index must be in \[0, 2\), got 2"):
        m.cell_for(2)
    with pytest.raises(ValueError, match="reverse=True needs a bidirectional layer"):
        m.cell_for(0, reverse=True)


def test_repr_reads_like_pytorch():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == (
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    )
    assert repr(nn.GRU(3, 4, reset_after=False)) == "GRU(3, 4, reset_after=False)"
    assert repr(nn.RNNCell(3, 4, bias=False)) == "RNNCell(3, 4, bias=False)"
