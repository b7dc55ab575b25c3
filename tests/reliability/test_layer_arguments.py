"""Layer, recurrent and clipping arguments: a wrong one is an error naming it; NumPy scalars are fine.

Each case is one constructor or call with one bad argument; the error must be TypeError or
ValueError and its message must name the argument and what was received. Mixed float32/float64
in a recurrent layer names ``input``, ``h0`` or ``c0`` and both dtypes (not an internal op).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.clipping import AdaptiveGradClipper, clip_grad_norm_per_param_, clip_grad_value_per_param_
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_

f32, f64 = np.float32, np.float64
seq64, seq32 = np.zeros((5, 2, 3)), np.zeros((5, 2, 3), dtype=f32)


def _lstm32():
    return nn.LSTM(3, 4).to(f32)


def _with_grad():
    lin = nn.Linear(2, 2)
    lin.weight.grad, lin.bias.grad = np.ones((2, 2)), np.ones(2)
    return lin


CASES = [
    # ----- layers
    ("layernorm-str-shape", lambda: nn.LayerNorm("34"), TypeError, r"normalized_shape.*'34'"),
    ("layernorm-eps-str", lambda: nn.LayerNorm(3, eps="1e-5"), TypeError, r"eps.*'1e-5'"),
    ("layernorm-eps-inf", lambda: nn.LayerNorm(3, eps=np.inf), ValueError, r"eps.*inf"),
    ("layernorm-dtype-int", lambda: nn.LayerNorm(3, dtype=np.int32), TypeError, r"dtype.*float32 or float64.*int32"),
    ("layernorm-affine-str", lambda: nn.LayerNorm(3, elementwise_affine="no"), TypeError, r"elementwise_affine.*'no'"),
    ("linear-dtype-int", lambda: nn.Linear(3, 2, dtype=np.int32), TypeError, r"Linear: dtype.*int32"),
    ("linear-dtype-half", lambda: nn.Linear(3, 2, dtype=np.float16), TypeError, r"dtype.*float16"),
    ("linear-dtype-junk", lambda: nn.Linear(3, 2, dtype="floaty"), TypeError, r"dtype.*'floaty'"),
    ("linear-bias-str", lambda: nn.Linear(3, 2, bias="no"), TypeError, r"bias must be a bool.*'no'"),
    ("dropout-str", lambda: nn.Dropout("0.5"), TypeError, r"p must be a real number.*'0.5'"),
    ("dropout-np-out-of-range", lambda: nn.Dropout(np.float32(1.5)), ValueError, r"p must be a probability"),
    ("leaky-slope-str", lambda: nn.LeakyReLU("0.1"), TypeError, r"negative_slope.*'0.1'"),
    ("softmax-dim-str", lambda: nn.Softmax("1"), TypeError, r"dim must be an int.*'1'"),
    ("logsoftmax-dim-float", lambda: nn.LogSoftmax(1.0), TypeError, r"dim must be an int.*1.0"),
    ("module-to-half", lambda: nn.Linear(2, 2).to(np.float16), TypeError, r"to\(\): dtype.*float16"),
    ("module-to-int", lambda: nn.Linear(2, 2).to(int), TypeError, r"to\(\): dtype.*int"),
    ("zero-grad-str", lambda: nn.Linear(2, 2).zero_grad("no"), TypeError, r"set_to_none.*'no'"),
    ("load-strict-str", lambda: nn.Linear(2, 2).load_state_dict({}, strict="no"), TypeError, r"strict.*'no'"),
    # ----- recurrent layers and cells: dtypes
    ("lstm32-input64", lambda: _lstm32()(seq64), TypeError, r"LSTM: input .*float32, got float64"),
    ("lstm32-h0-64", lambda: _lstm32()(seq32, (np.zeros((1, 2, 4)), np.zeros((1, 2, 4), f32))), TypeError,
     r"LSTM: h0 .*float32, got float64"),
    ("lstm32-c0-64", lambda: _lstm32()(seq32, (np.zeros((1, 2, 4), f32), np.zeros((1, 2, 4)))), TypeError,
     r"LSTM: c0 .*float32, got float64"),
    ("gru64-h0-32", lambda: nn.GRU(3, 4)(seq64, np.zeros((1, 2, 4), f32)), TypeError,
     r"GRU: h0 .*float64, got float32"),
    ("rnn64-input32", lambda: nn.RNN(3, 4)(seq32), TypeError, r"RNN: input .*float64, got float32"),
    ("rnn64-input-int", lambda: nn.RNN(3, 4)(seq64.astype(int)), TypeError, r"RNN: input .*float64, got int64"),
    ("lstmcell32-input64", lambda: nn.LSTMCell(3, 4).to(f32)(np.zeros((2, 3))), TypeError,
     r"LSTMCell: input .*float32, got float64"),
    ("grucell-h32", lambda: nn.GRUCell(3, 4)(np.zeros((2, 3)), np.zeros((2, 4), f32)), TypeError,
     r"GRUCell: hx .*float64, got float32"),
    ("lstmcell-c32", lambda: nn.LSTMCell(3, 4)(np.zeros((2, 3)), (np.zeros((2, 4)), np.zeros((2, 4), f32))),
     TypeError, r"LSTMCell: hx\[1\] \(c\) .*float64, got float32"),
    # ----- recurrent: missing states, flags, dropout
    ("lstm-c0-none", lambda: nn.LSTM(3, 4)(seq64, (np.zeros((1, 2, 4)), None)), TypeError, r"c0 = None"),
    ("lstm-h0-none", lambda: nn.LSTM(3, 4)(seq64, (None, np.zeros((1, 2, 4)))), TypeError, r"h0 = None"),
    ("lstmcell-c-none", lambda: nn.LSTMCell(3, 4)(np.zeros((2, 3)), (np.zeros((2, 4)), None)), TypeError,
     r"hx\[1\] \(c\) = None"),
    ("rnn-bidirectional-str", lambda: nn.RNN(3, 4, bidirectional="no"), TypeError, r"bidirectional.*'no'"),
    ("gru-batch-first-int", lambda: nn.GRU(3, 4, batch_first=1), TypeError, r"batch_first.*1"),
    ("lstm-bias-str", lambda: nn.LSTM(3, 4, bias="False"), TypeError, r"bias.*'False'"),
    ("gru-reset-after-str", lambda: nn.GRU(3, 4, reset_after="no"), TypeError, r"reset_after.*'no'"),
    ("grucell-reset-after-str", lambda: nn.GRUCell(3, 4, reset_after="no"), TypeError, r"reset_after.*'no'"),
    ("rnncell-bias-str", lambda: nn.RNNCell(3, 4, bias="no"), TypeError, r"bias.*'no'"),
    ("rnn-dropout-str", lambda: nn.RNN(3, 4, dropout="0.1"), TypeError, r"dropout.*'0.1'"),
    # ----- clipping
    ("clip-norm-negative", lambda: clip_grad_norm_(_with_grad().parameters(), -1.0), ValueError,
     r"max_norm.*>= 0.*-1.0"),
    ("clip-norm-nan", lambda: clip_grad_norm_(_with_grad().parameters(), np.nan), ValueError, r"max_norm.*nan"),
    ("clip-norm-str", lambda: clip_grad_norm_(_with_grad().parameters(), "1"), TypeError, r"max_norm.*'1'"),
    ("clip-norm-type-str", lambda: clip_grad_norm_(_with_grad().parameters(), 1, norm_type="2"), TypeError,  # "inf" ok
     r"norm_type.*'2'"),
    ("clip-nonfinite-str", lambda: clip_grad_norm_(_with_grad().parameters(), 1.0, error_if_nonfinite="yes"),
     TypeError, r"error_if_nonfinite.*'yes'"),
    ("clip-a-module", lambda: clip_grad_norm_(_with_grad(), 1.0), TypeError,
     r"parameters.*model.parameters\(\).*Linear"),
    ("clip-value-negative", lambda: clip_grad_value_(_with_grad().parameters(), -0.5), ValueError, r"clip_value.*-0.5"),
    ("clip-value-str", lambda: clip_grad_value_(_with_grad().parameters(), "1"), TypeError, r"clip_value.*'1'"),
    ("per-param-str", lambda: clip_grad_norm_per_param_(_with_grad().parameters(), "1"), TypeError, r"thresholds.*'1'"),
    ("per-param-negative", lambda: clip_grad_value_per_param_(_with_grad().parameters(), [1.0, -1.0]), ValueError,
     r"thresholds.*-1.0"),
    ("adaptive-alpha-str", lambda: AdaptiveGradClipper("0.9"), TypeError, r"alpha.*'0.9'"),
    ("adaptive-max-norm-str", lambda: AdaptiveGradClipper(0.9, "1"), TypeError, r"max_norm.*'1'"),
    ("adaptive-max-norm-negative", lambda: AdaptiveGradClipper(0.9, -1.0), ValueError, r"max_norm.*-1.0"),
]


@pytest.mark.parametrize("thunk, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_argument_is_named(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


def test_a_negative_max_norm_leaves_the_gradients_alone():
    lin = _with_grad()
    with pytest.raises(ValueError):
        clip_grad_norm_(lin.parameters(), -1.0)  # before: every gradient's sign flipped
    assert lin.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_numpy_scalar_hyper_parameters_are_accepted():
    assert nn.Dropout(np.float32(0.5)).p == 0.5
    assert nn.Dropout(np.int64(1)).p == 1.0
    assert nn.RNN(3, 4, num_layers=np.int64(2), dropout=np.float64(0.25)).dropout == 0.25
    assert nn.LeakyReLU(np.float32(0.25)).negative_slope == 0.25
    assert nn.Softmax(np.int64(0)).dim == 0
    assert nn.LayerNorm(np.int64(3), eps=np.float32(1e-3)).normalized_shape == (3,)
    assert nn.Linear(np.int32(3), 2, bias=np.bool_(False), dtype="float32").weight.dtype == np.float32
    assert AdaptiveGradClipper(np.float32(0.5), np.float64(2.0)).alpha == 0.5
    lin = _with_grad()
    assert clip_grad_norm_(lin.parameters(), np.float32(1.0), norm_type=np.int64(2)) == pytest.approx(np.sqrt(6))
    clip_grad_value_(lin.parameters(), np.float64(0.1))
    clip_grad_norm_per_param_(lin.parameters(), np.float32(0.05))
    assert np.linalg.norm(lin.bias.grad) == pytest.approx(0.05, rel=1e-4)


@pytest.mark.parametrize("dtype", [f32, f64])
def test_matching_dtypes_still_run(dtype):
    x = np.ones((5, 2, 3), dtype=dtype)
    h0 = np.zeros((1, 2, 4), dtype=dtype)
    out, (h, c) = nn.LSTM(3, 4).to(dtype)(x, (h0, h0))
    assert out.dtype == h.dtype == c.dtype == dtype
    assert nn.GRU(3, 4).to(dtype)(x, h0)[0].dtype == dtype
    assert nn.LSTMCell(3, 4).to(dtype)(x[0], (h0[0], h0[0]))[0].dtype == dtype
    assert nn.RNN(3, 4).to(dtype)(mg.tensor(x))[0].dtype == dtype
