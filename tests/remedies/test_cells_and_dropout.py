"""Residual / highway / LayerNorm cells, Residual(block), recurrent dropout and zoneout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import GRUCell, Linear, LSTMCell, RNNCell, Tanh
from minigrad.nn.dropout_rnn import RecurrentDropout, Zoneout
from minigrad.nn.extra_cells import HighwayRNNCell, LayerNormRNNCell, Residual, ResidualRNNCell


def check_module_grads(module, arrays, seed=0):
    """Autograd grads of phi = <g, module(*x)> (params and inputs) vs central differences."""
    module.to(np.float64)
    rng = np.random.default_rng(seed)
    xs = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    module.zero_grad()
    out = module(*xs)
    out = out[0] if isinstance(out, tuple) else out
    g = rng.standard_normal(out.shape)
    (out * minigrad.tensor(g)).sum().backward()

    def phi():
        with minigrad.no_grad():
            o = module(*[minigrad.tensor(a) for a in arrays])
            o = o[0] if isinstance(o, tuple) else o
            return float((o.data * g).sum())

    targets = [(p.data, p.grad) for p in module.parameters()] + [
        (a, x.grad) for a, x in zip(arrays, xs, strict=True)]
    for data, grad in targets:
        num = np.zeros_like(data)
        for j in range(data.size):
            old = data.flat[j]
            data.flat[j] = old + 1e-6
            up = phi()
            data.flat[j] = old - 1e-6
            down = phi()
            data.flat[j] = old
            num.flat[j] = (up - down) / 2e-6
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)


@settings(max_examples=5)
@given(st.sampled_from(["residual", "highway", "layernorm"]), st.integers(0, 1000))
def test_cell_gradients(kind, seed):
    minigrad.manual_seed(seed)
    cell = {"residual": ResidualRNNCell, "highway": HighwayRNNCell,
            "layernorm": LayerNormRNNCell}[kind](2, 3)
    rng = np.random.default_rng(seed)
    check_module_grads(cell, [rng.standard_normal((2, 2)), rng.standard_normal((2, 3))])


def test_identity_paths_in_the_jacobian():
    cell = ResidualRNNCell(2, 3).to(np.float64)
    for p in cell.parameters():
        p.data[...] = 0
    x = np.zeros((1, 2))
    J = minigrad.jacobian(lambda h: cell(minigrad.tensor(x), h), np.ones((1, 3)))
    np.testing.assert_allclose(J.reshape(3, 3), np.eye(3))  # W = 0: J = I exactly
    hw = HighwayRNNCell(2, 3, transform_bias=-50.0).to(np.float64)  # T ~ 0: carries
    J = minigrad.jacobian(lambda h: hw(minigrad.tensor(x), h), 0.1 * np.ones((1, 3)))
    np.testing.assert_allclose(J.reshape(3, 3), np.eye(3), atol=1e-18)


def test_residual_block():
    minigrad.manual_seed(0)
    block = Residual(Linear(3, 3))
    check_module_grads(block, [np.random.default_rng(0).standard_normal((2, 3))])
    zero = Residual(Tanh())
    np.testing.assert_allclose(zero(np.zeros((1, 3))).data, 0)


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_recurrent_dropout_one_mask_per_sequence_and_eval_identity(cls):
    minigrad.manual_seed(0)
    cell = cls(2, 4).to(np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3, 2))
    rd = RecurrentDropout(cell, p=0.5)
    rd.eval()
    out_eval, _ = rd(x)
    from minigrad import bptt
    ref = bptt.unroll(cell, x)
    np.testing.assert_allclose(out_eval.data, np.stack([s.data for s in ref.states[1:]]))
    rd.train()
    minigrad.manual_seed(1)
    out, last = rd(x)
    # replay: the same single mask, applied to h_{t-1} at every step
    minigrad.manual_seed(1)
    keep = (minigrad.random.get_generator().random((3, 4)) >= 0.5) / 0.5
    s = cell.initial_state(3).data
    for t in range(5):
        m = np.ones_like(s)
        m[:, :4] = keep
        s = cell.state_step(x[t], s * m).data
        np.testing.assert_allclose(out.data[t], s, rtol=1e-12)
    check_module_grads(RecurrentDropout(cell, p=0.0), [x[:2]])


def test_zoneout_keeps_zoned_units_and_eval_mixes():
    minigrad.manual_seed(0)
    cell = GRUCell(2, 4).to(np.float64)
    x = np.random.default_rng(0).standard_normal((6, 2, 2))
    zo = Zoneout(cell, p=0.3)
    minigrad.manual_seed(5)
    out, _ = zo(x)
    minigrad.manual_seed(5)
    s = np.zeros((2, 4))
    for t in range(6):
        z = minigrad.random.get_generator().random((2, 4)) < 0.3
        new = cell.state_step(x[t], s).data
        s = np.where(z, s, new)
        np.testing.assert_allclose(out.data[t], s, rtol=1e-12)
    zo.eval()
    out_eval, _ = zo(x[:1])
    new = cell.state_step(x[0], np.zeros((2, 4))).data
    np.testing.assert_allclose(out_eval.data[0], 0.7 * new)
    check_module_grads(zo, [x[:3]])
    with pytest.raises(ValueError, match="p must be"):
        Zoneout(cell, p=1.0)
    with pytest.raises(TypeError, match="state_step"):
        Zoneout(Linear(2, 2), p=0.1)
