"""Parity with PyTorch 2.13: the same state dict and inputs give the same outputs and gradients.

The expected values come from ``tests/fixtures/rnn_torch.npz``, written by
``tests/fixtures/make_rnn_fixture.py`` (run by hand; no test imports torch). Loading the
state dict with ``strict=True`` also checks that every parameter name and shape is PyTorch's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minigrad import nn
from minigrad.tensor import Tensor

FIXTURE = np.load(Path(__file__).parents[1] / "fixtures" / "rnn_torch.npz", allow_pickle=False)
CASES = {
    "rnn_tanh": lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True),
    "rnn_relu_bf": lambda: nn.RNN(3, 4, nonlinearity="relu", batch_first=True),
    "lstm": lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    "gru": lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    "gru_nobias": lambda: nn.GRU(3, 4, bias=False),
    "rnncell": lambda: nn.RNNCell(3, 4),
    "lstmcell": lambda: nn.LSTMCell(3, 4),
    "grucell": lambda: nn.GRUCell(3, 4),
}


def get(case: str, key: str) -> np.ndarray:
    return FIXTURE[f"{case}::{key}"]


@pytest.mark.parametrize("case", CASES)
def test_same_outputs_and_gradients_as_pytorch(case):
    m = CASES[case]()
    prefix = f"{case}::param::"
    state = {k[len(prefix):]: FIXTURE[k] for k in FIXTURE.files if k.startswith(prefix)}
    m.load_state_dict(state, strict=True)
    lstm = "lstm" in case
    inputs = {"x": Tensor(get(case, "x"), requires_grad=True),
              "h0": Tensor(get(case, "h0"), requires_grad=True)}  # fmt: skip
    if lstm:
        inputs["c0"] = Tensor(get(case, "c0"), requires_grad=True)
    state_in = (inputs["h0"], inputs["c0"]) if lstm else inputs["h0"]
    res = m(inputs["x"], state_in)
    if "cell" in case:
        outs = {"h_n": res[0], "c_n": res[1]} if lstm else {"h_n": res}
    else:
        outs = {"out": res[0]} | ({"h_n": res[1][0], "c_n": res[1][1]} if lstm else {"h_n": res[1]})
    phi = None
    for name, t in outs.items():
        np.testing.assert_allclose(t.data, get(case, name), rtol=1e-10, atol=1e-12, err_msg=name)
        term = (t * Tensor(get(case, f"w_{name}"))).sum()
        phi = term if phi is None else phi + term
    phi.backward()
    for name, t in list(inputs.items()) + list(m.named_parameters()):
        np.testing.assert_allclose(t.grad, get(case, f"grad::{name}"), rtol=1e-10, atol=1e-12,
                                   err_msg=name)  # fmt: skip


def test_fixture_covers_every_case():
    assert {k.split("::")[0] for k in FIXTURE.files} == set(CASES)
