"""Bad input, systematically: every public function and layer, driven with wrong arguments.

Each case must raise TypeError or ValueError (as listed) with a message naming the argument
and what was expected. Cases, by kind (CASES below, plus the Hypothesis tests at the end):

- wrong shapes / ranks: 14        - wrong dtypes (int, bool, object, complex, str): 11
- empty arrays: 3                 - NaN / inf values where they are invalid: 2
- negative or zero sizes: 8       - wrong ``reduction``: 4
- non-tensor arguments: 6         - mismatched state dicts: 3
- wrong-shape hidden state (RNN, LSTM, GRU, cells): 7
- Hypothesis: random wrong shapes for linear / matmul / mse_loss / RNN hidden state (4 tests)

Total: 58 table cases + 4 property tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn import functional as F

x23 = mg.tensor(np.ones((2, 3)))
lin = nn.Linear(3, 4)
rnn, lstm, gru = nn.RNN(3, 4), nn.LSTM(3, 4), nn.GRU(3, 4)
seq = mg.tensor(np.zeros((5, 2, 3)))


def _f(fn, *args, **kwargs):
    return lambda: fn(*args, **kwargs)


# (id, thunk, exception, regex the message must match: the argument and what was expected)
CASES = [
    # ----- wrong shapes / ranks
    ("matmul-misaligned", _f(mg.matmul, x23, x23), ValueError, r"matmul.*\(2, 3\).*\(2, 3\)"),
    ("matmul-0d", _f(mg.matmul, mg.tensor(1.0), x23), ValueError, r"at least 1-D"),
    ("add-no-broadcast", lambda: x23 + mg.tensor(np.ones(4)), ValueError, r"\(2, 3\).*\(4,\)"),
    ("reshape-size", _f(x23.reshape, 4, 2), ValueError, r"reshape.*\(2, 3\).*\(4, 2\)"),
    ("transpose-axes", _f(x23.transpose, (0, 0)), ValueError, r"axes.*permutation"),
    ("linear-in-features", _f(lin, mg.tensor(np.ones((2, 5)))), ValueError, r"input.*\(2, 5\)"),
    ("mse-shape", _f(F.mse_loss, x23, mg.tensor(np.ones((3, 2)))), ValueError, r"same shape"),
    ("ce-target-shape", _f(F.cross_entropy, x23, np.array([0, 1, 2])), ValueError, r"target.*\(2,\)"),
    ("bce-target-shape", _f(F.binary_cross_entropy_with_logits, x23, mg.tensor(np.ones(3))), ValueError,
     r"target.*\(2, 3\)"),
    ("layer-norm-shape", _f(F.layer_norm, x23, (4,)), ValueError, r"normalized_shape"),
    ("rnn-input-rank", _f(rnn, mg.tensor(np.zeros(3))), ValueError, r"input"),
    ("rnn-input-features", _f(rnn, mg.tensor(np.zeros((5, 2, 4)))), ValueError, r"input.*3"),
    ("stack-shapes", _f(mg.stack, [x23, mg.tensor(np.ones((3, 2)))]), ValueError, r"stack.*same shape"),
    ("concat-shapes", _f(mg.concatenate, [x23, mg.tensor(np.ones((2, 3, 1)))]), ValueError, r"concatenate"),
    # ----- wrong dtypes
    ("tensor-object", _f(mg.tensor, np.array([{}], dtype=object)), TypeError, r"data.*object"),
    ("tensor-complex", _f(mg.tensor, np.array([1j])), TypeError, r"data.*complex"),
    ("tensor-str", _f(mg.tensor, "abc"), TypeError, r"data.*str|data must"),
    ("requires-grad-int", _f(mg.tensor, [1, 2], requires_grad=True), TypeError, r"requires_grad.*floating"),
    ("requires-grad-bool", _f(mg.tensor, [True], requires_grad=True), TypeError, r"requires_grad.*floating"),
    ("ce-float-target", _f(F.cross_entropy, x23, np.array([0.0, 1.0])), TypeError, r"target.*integer"),
    ("ce-int-input", _f(F.cross_entropy, mg.tensor([[1, 2]]), np.array([0])), TypeError, r"input.*float"),
    ("mse-int-input", _f(F.mse_loss, mg.tensor([1, 2]), mg.tensor([1, 2])), TypeError, r"input.*float"),
    ("sigmoid-bool", _f(F.softplus, mg.tensor([True])), TypeError, r"input.*float"),
    ("module-to-int", _f(lin.to, np.int32), TypeError, r"dtype.*float"),
    ("save-object", _f(mg.save, {"a": np.array([{}], dtype=object)}, "/nonexistent/x.npz"), TypeError,
     r"'a'.*numeric"),
    # ----- empty arrays
    ("ce-empty-classes", _f(F.cross_entropy, mg.tensor(np.ones((2, 0))), np.array([0, 0])), ValueError,
     r"input must have at least one class.*\(2, 0\)"),
    ("item-empty", _f(mg.tensor(np.ones(0)).item), ValueError, r"one-element"),
    ("optimizer-empty", _f(optim.SGD, [], lr=0.1), ValueError, r"empty parameter list"),
    # ----- NaN / inf
    ("sgd-nan-lr", _f(optim.SGD, lin.parameters(), lr=float("nan")), ValueError, r"learning rate"),
    ("dropout-nan-p", _f(F.dropout, x23, p=float("nan")), ValueError, r"p must be a probability"),
    # ----- negative / zero sizes
    ("linear-negative", _f(nn.Linear, -1, 3), ValueError, r"in_features"),
    ("linear-zero-out", _f(nn.Linear, 3, -2), ValueError, r"out_features"),
    ("rnn-zero-hidden", _f(nn.RNN, 3, 0), ValueError, r"hidden_size"),
    ("lstm-negative-input", _f(nn.LSTM, -3, 4), ValueError, r"input_size"),
    ("gru-zero-layers", _f(nn.GRU, 3, 4, num_layers=0), ValueError, r"num_layers"),
    ("rnncell-negative", _f(nn.RNNCell, 3, -1), ValueError, r"hidden_size"),
    ("dropout-p", _f(nn.Dropout, 1.5), ValueError, r"p"),
    ("sgd-negative-lr", _f(optim.SGD, lin.parameters(), lr=-1.0), ValueError, r"learning rate"),
    # ----- wrong reduction
    ("mse-reduction", _f(F.mse_loss, x23, x23, reduction="avg"), ValueError, r"reduction.*'avg'"),
    ("ce-reduction", _f(F.cross_entropy, x23, np.array([0, 1]), reduction="max"), ValueError,
     r"reduction.*'max'"),
    ("nll-reduction", _f(F.nll_loss, x23, np.array([0, 1]), reduction=None), ValueError, r"reduction.*None"),
    ("bce-reduction", _f(F.binary_cross_entropy_with_logits, x23, x23, reduction="Mean"), ValueError,
     r"reduction.*'Mean'"),
    # ----- non-tensor arguments
    ("optimizer-single-tensor", _f(optim.Adam, lin.weight), TypeError, r"params.*iterable"),
    ("optimizer-not-tensor", _f(optim.SGD, [1.0], lr=0.1), TypeError, r"Tensors.*float"),
    ("clip-not-tensor", _f(nn.utils.clip_grad_norm_, [np.ones(2)], 1.0), TypeError, r"parameters.*Tensors"),
    ("init-not-tensor", _f(nn.init.zeros_, np.ones(2)), TypeError, r"tensor.*Tensor"),
    ("load-state-dict-list", _f(lin.load_state_dict, [1, 2]), TypeError, r"state_dict.*dict"),
    ("save-not-dict", _f(mg.save, [np.ones(2)], "/nonexistent/x.npz"), TypeError, r"state_dict.*dict"),
    # ----- mismatched state dicts
    ("sd-missing", _f(lin.load_state_dict, {"weight": np.ones((4, 3))}), ValueError, r"missing keys.*bias"),
    ("sd-unexpected", _f(lin.load_state_dict, {**lin.state_dict(), "extra": np.ones(1)}), ValueError,
     r"unexpected keys.*extra"),
    ("sd-shape", _f(lin.load_state_dict, {"weight": np.ones((3, 4)), "bias": np.ones(4)}), ValueError,
     r"size mismatch for weight.*\(4, 3\).*\(3, 4\)"),
    # ----- wrong hidden state
    ("rnn-h0", _f(rnn, seq, mg.tensor(np.zeros((1, 2, 5)))), ValueError, r"h.*\(1, 2, 4\)"),
    ("rnn-h0-batch", _f(rnn, seq, mg.tensor(np.zeros((1, 3, 4)))), ValueError, r"h.*\(1, 2, 4\)"),
    ("gru-h0-rank", _f(gru, seq, mg.tensor(np.zeros((2, 4)))), ValueError, r"h.*\(1, 2, 4\)"),
    ("lstm-c0", _f(lstm, seq, (mg.tensor(np.zeros((1, 2, 4))), mg.tensor(np.zeros((1, 2, 3))))), ValueError,
     r"c.*\(1, 2, 4\)"),
    ("lstm-not-tuple", _f(lstm, seq, mg.tensor(np.zeros((1, 2, 4)))), TypeError, r"hx.*tuple|\(h_0, c_0\)"),
    ("rnncell-h", _f(nn.RNNCell(3, 4), mg.tensor(np.zeros((2, 3))), mg.tensor(np.zeros((2, 5)))), ValueError,
     r"h.*\(2, 4\)"),
    ("lstmcell-c", _f(nn.LSTMCell(3, 4), mg.tensor(np.zeros((2, 3))),
                      (mg.tensor(np.zeros((2, 4))), mg.tensor(np.zeros((3, 4))))), ValueError, r"\(2, 4\)"),
]  # fmt: skip


@pytest.mark.parametrize("name,thunk,exc,pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_argument_is_named(name, thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


def test_case_count_matches_docstring():
    assert len(CASES) == 58


dims = st.integers(1, 5)


@given(n=dims, k=dims, j=dims)
def test_matmul_wrong_inner_dimension(n, k, j):
    if k == j:
        j += 1
    with pytest.raises(ValueError, match=rf"\({n}, {k}\) and \({j}, 2\)"):
        mg.matmul(mg.tensor(np.ones((n, k))), mg.tensor(np.ones((j, 2))))


@given(n=dims, k=dims)
def test_linear_wrong_in_features(n, k):
    layer = nn.Linear(3, 2)
    if k == 3:
        k = 4
    with pytest.raises(ValueError, match=rf"input.*\({n}, {k}\)"):
        layer(mg.tensor(np.ones((n, k))))


@given(a=st.lists(dims, min_size=1, max_size=3), b=st.lists(dims, min_size=1, max_size=3))
def test_mse_loss_shapes_must_match(a, b):
    if a == b:
        b = b + [2]
    with pytest.raises(ValueError, match="same shape"):
        F.mse_loss(mg.tensor(np.ones(a)), mg.tensor(np.ones(b)))


@given(kind=st.sampled_from(["RNN", "GRU", "LSTM"]), layers=st.integers(1, 2), batch=st.integers(1, 3),
       hidden=st.integers(1, 3), data=st.data())
def test_recurrent_hidden_state_of_wrong_shape(kind, layers, batch, hidden, data):
    layer = getattr(nn, kind)(2, hidden, num_layers=layers)
    x = mg.tensor(np.zeros((3, batch, 2)))
    good = (layers, batch, hidden)
    bad = list(good)
    i = data.draw(st.integers(0, 2))
    bad[i] += data.draw(st.integers(1, 2))
    h = mg.tensor(np.zeros(bad))
    hx = (h, mg.tensor(np.zeros(good))) if kind == "LSTM" else h
    with pytest.raises(ValueError, match=rf"\({layers}, {batch}, {hidden}\)"):
        layer(x, hx)
