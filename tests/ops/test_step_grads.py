"""A recurrent step's vjp returns ``StepGrads``: one gradient per input (what the engine pairs
with the inputs), each also by name, so BPTT reads ``grads.weight_hh``, not ``grads[2]``."""

import numpy as np
import pytest

from minigrad import ops
from minigrad.ops.recurrent_base import StepGrads

STEPS = {
    "rnn": (lambda: ops.RNNStep("tanh"), 1, 1),
    "lstm": (ops.LSTMStep, 4, 2),
    "gru": (ops.GRUStep, 3, 1),
    "residual": (ops.ResidualRNNStep, 1, 1),
    "highway": (ops.HighwayRNNStep, 2, 1),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", sorted(STEPS))
def test_vjp_gives_one_named_gradient_per_input(kind, bias):
    make, G, S = STEPS[kind]
    N, H = 2, 3
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(N, G * H)), rng.normal(size=(N, S * H)), rng.normal(size=(G * H, H))]
    if bias:
        inputs.append(rng.normal(size=G * H))
    op = make()
    out = op(*inputs)
    grads = op.vjp(rng.normal(size=out.shape))
    assert isinstance(grads, StepGrads) and len(grads) == len(inputs)
    assert grads.x_proj is grads[0] and grads.state is grads[1] and grads.weight_hh is grads[2]
    assert grads.rest == tuple(grads[3:]) and len(grads.rest) == (1 if bias else 0)
    for g, x in zip(grads, inputs, strict=True):
        assert g.shape == x.shape


def test_layernorm_step_names_its_gain_and_shift_in_rest():
    N, H = 2, 3
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(N, H)), rng.normal(size=(N, H)), rng.normal(size=(H, H)),
              rng.normal(size=H), rng.normal(size=H)]  # fmt: skip
    op = ops.LayerNormRNNStep()
    out = op(*inputs)
    grads = op.vjp(rng.normal(size=out.shape))
    assert isinstance(grads, StepGrads) and len(grads) == 5
    assert [g.shape for g in grads.rest] == [(H,), (H,)]
