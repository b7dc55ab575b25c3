"""Every layer's and loss's gradients (all parameters and inputs) vs central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from layer_check import assert_module_gradients_match

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import arrays, assert_gradients_match

sides = st.integers(1, 3)


@given(st.data(), sides, sides, st.booleans(), st.sampled_from([(), (2,), (2, 1)]))
def test_linear_gradients(data, n_in, n_out, bias, batch):
    layer = nn.Linear(n_in, n_out, bias=bias)
    layer.weight.data[...] = data.draw(arrays((n_out, n_in)))
    if bias:
        layer.bias.data[...] = data.draw(arrays((n_out,)))
    x = data.draw(arrays(batch + (n_in,)))
    assert_module_gradients_match(layer, [x])


@given(st.data(), st.sampled_from([(3,), (2, 3), (2, 2, 2)]), st.integers(1, 2), st.booleans())
def test_layer_norm_gradients(data, shape, n_norm, affine):
    n_norm = min(n_norm, len(shape))
    normalized = shape[len(shape) - n_norm:]
    layer = nn.LayerNorm(normalized, elementwise_affine=affine)
    if affine:
        layer.weight.data[...] = data.draw(arrays(normalized))
        layer.bias.data[...] = data.draw(arrays(normalized))
    x = data.draw(arrays(shape))
    axes = tuple(range(len(shape) - n_norm, len(shape)))
    assume(np.all(x.var(axis=axes) > 1e-2))  # a near-constant row makes 1/sigma huge
    assert_module_gradients_match(layer, [x], atol=1e-5, rtol=1e-4)


ACTIVATIONS = [
    (nn.Sigmoid(), ()), (nn.Tanh(), ()), (nn.ReLU(), (0.0,)), (nn.LeakyReLU(0.2), (0.0,)),
    (nn.GELU(), ()), (nn.GELU("tanh"), ()), (nn.Identity(), ()),
    (nn.Softmax(dim=-1), ()), (nn.LogSoftmax(dim=0), ()),
]  # fmt: skip


@pytest.mark.parametrize("module, kinks", ACTIVATIONS, ids=lambda m: repr(m))
@given(data=st.data())
@settings(max_examples=10)
def test_activation_module_gradients(module, kinks, data):
    x = data.draw(arrays(st.sampled_from([(3,), (2, 3)]), away_from=kinks, margin=1e-2))
    assert_gradients_match(lambda t: module(t), [x])


def test_activation_modules_compute_their_function():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    t = minigrad.tensor(x)
    np.testing.assert_allclose(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(nn.Tanh()(t).data, np.tanh(x))
    np.testing.assert_allclose(nn.ReLU()(t).data, [0, 0, 0.5, 2.0])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(t).data, [-0.2, -0.05, 0.5, 2.0])
    assert nn.Identity()(t) is t


# ----- losses ------------------------------------------------------------------------------
reductions = st.sampled_from(["mean", "sum", "none"])


@given(st.data(), reductions)
def test_mse_loss_gradients(data, reduction):
    shape = data.draw(st.sampled_from([(3,), (2, 3)]))
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    assert_gradients_match(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


@given(st.data(), reductions, st.booleans(), st.sampled_from([(4,), (3, 4), (2, 4, 3)]))
def test_cross_entropy_gradients(data, reduction, weighted, shape):
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    logits = data.draw(arrays(shape, min_value=-5, max_value=5))
    target = data.draw(arrays(target_shape, min_value=0, max_value=n_classes - 1e-9).map(
        lambda a: np.floor(a).astype(np.int64)))
    weight = data.draw(arrays((n_classes,), min_value=0.5, max_value=2.0)) if weighted else None
    assert_gradients_match(
        lambda z: F.cross_entropy(z, target, weight=weight, reduction=reduction), [logits]
    )


@given(st.data(), reductions)
def test_nll_loss_gradients_with_ignore_index(data, reduction):
    logp = data.draw(arrays((5, 3)))
    target = np.array([0, 2, -100, 1, 2])
    assert_gradients_match(lambda z: F.nll_loss(z, target, reduction=reduction), [logp])


@given(st.data(), reductions, st.booleans(), st.booleans())
def test_binary_cross_entropy_with_logits_gradients(data, reduction, weighted, pos_weighted):
    shape = data.draw(st.sampled_from([(3,), (2, 3)]))
    x = data.draw(arrays(shape, min_value=-6, max_value=6))
    y = data.draw(arrays(shape, min_value=0, max_value=1))
    w = data.draw(arrays(shape, min_value=0.1, max_value=2)) if weighted else None
    pw = data.draw(arrays(shape[-1:], min_value=0.1, max_value=3)) if pos_weighted else None

    def f(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, weight=w, pos_weight=pw, reduction=reduction
        )

    assert_gradients_match(f, [x, y])


@given(st.data(), st.floats(0.1, 0.9))
def test_dropout_gradient_is_the_mask(data, p):
    x = data.draw(arrays((3, 4)))

    def f(t):
        minigrad.manual_seed(7)  # the same mask for every evaluation
        return F.dropout(t, p, training=True)

    assert_gradients_match(f, [x])
