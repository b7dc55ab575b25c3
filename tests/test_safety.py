"""In-place safety lives in one module (minigrad/safety.py), and every writer goes through it.

After a forward pass that was never backpropagated, the parameters are saved (read-only) in a
graph. Every writer in the package must still work, through ``safety.writable``: in-place
methods refuse with the reason; optimizers, initializers and ``load_state_dict`` copy on write.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim, safety
from minigrad.nn import init, recurrent_init

PACKAGE = Path(mg.__file__).parent


def test_only_the_safety_module_changes_write_flags():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "safety.py" and "setflags" in p.read_text(encoding="utf-8")
    ]
    assert not offenders, f"files other than minigrad/safety.py call setflags: {offenders}"


def _held(t: mg.Tensor) -> mg.Tensor:
    """A graph that saved ``t`` and was never backpropagated: ``t.data`` is now read-only."""
    out = (t * t).sum()
    assert not t.data.flags.writeable
    return out


def _param(*shape):
    return nn.Parameter(np.random.default_rng(0).normal(size=shape))


@pytest.mark.parametrize(
    "writer",
    [
        lambda p: init.uniform_(p),
        lambda p: init.normal_(p),
        lambda p: init.zeros_(p),
        lambda p: init.xavier_uniform_(p),
        lambda p: init.kaiming_normal_(p),
        lambda p: init.orthogonal_(p),
        lambda p: recurrent_init.scaled_orthogonal_(p, 0.9),
        lambda p: recurrent_init.identity_(p),
    ],
    ids=["uniform_", "normal_", "zeros_", "xavier_uniform_", "kaiming_normal_", "orthogonal_",
         "scaled_orthogonal_", "identity_"],  # fmt: skip
)
def test_initializers_write_after_a_forward_without_backward(writer):
    p = _param(4, 4)
    kept = _held(p)
    before = p.data.copy()
    writer(p)  # must not raise "assignment destination is read-only"
    assert p.data.flags.writeable
    # the old graph keeps the values it saw
    np.testing.assert_array_equal(kept._op.inputs[0]._op.saved[0], before)


def test_lstm_bias_initializers_write_after_a_forward_without_backward():
    lstm = nn.LSTM(2, 3)
    x = mg.tensor(np.ones((4, 1, 2)))
    lstm(x)  # a graph that saved the parameters, never backpropagated
    recurrent_init.forget_gate_bias_(lstm, 0.9)
    recurrent_init.chrono_init_(lstm, 10)
    assert lstm.bias_ih_l0.data.flags.writeable


def test_optimizer_and_load_state_dict_write_after_a_forward_without_backward():
    lin = nn.Linear(3, 2)
    x = mg.tensor(np.ones((1, 3)))
    lin(x).sum().backward()  # gradients exist...
    lin(x)  # ...and a second graph now holds the parameters, never backpropagated
    optim.SGD(lin.parameters(), lr=0.1).step()
    lin(x)
    lin.load_state_dict({k: np.zeros_like(v) for k, v in lin.state_dict().items()})
    assert not np.any(lin.weight.data)


def test_in_place_methods_refuse_a_saved_array():
    x = mg.tensor(np.ones(3))
    y = mg.tensor(np.ones(3), requires_grad=True)
    _ = (x * y).sum()
    with pytest.raises(RuntimeError, match="saved for the backward pass"):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        y.add_(1.0)


def test_writable_copy_on_write_keeps_the_old_array_for_the_graph():
    w = _param(3)
    out = _held(w)
    old = w.data
    new = safety.writable(w)
    assert new is not old and new.flags.writeable and not old.flags.writeable
    new[...] = 0
    out.backward()
    np.testing.assert_allclose(w.grad, 2 * old)  # the gradient of the values forward saw
