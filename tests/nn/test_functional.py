"""Values of nn.functional's layers and losses against formulas written out in NumPy; errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def _np_log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


RNG = np.random.default_rng(3)
LOGITS = RNG.normal(size=(5, 4))
TARGET = np.array([0, 3, 1, 1, 2])


# ----- cross entropy and nll ---------------------------------------------------------------
def test_cross_entropy_matches_formula_for_every_reduction():
    per = -_np_log_softmax(LOGITS, 1)[np.arange(5), TARGET]
    out = F.cross_entropy(minigrad.tensor(LOGITS), TARGET, reduction="none")
    np.testing.assert_allclose(out.data, per, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(LOGITS, TARGET, reduction="sum").item(), per.sum())
    np.testing.assert_allclose(F.cross_entropy(LOGITS, TARGET).item(), per.mean())


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    z = minigrad.tensor(LOGITS, requires_grad=True)
    F.cross_entropy(z, TARGET, reduction="sum").backward()
    p = np.exp(_np_log_softmax(LOGITS, 1))
    np.testing.assert_allclose(z.grad, p - np.eye(4)[TARGET], atol=1e-12)


def test_cross_entropy_is_stable_for_logits_of_magnitude_1e4():
    z = minigrad.tensor([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 1, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 1e4, np.log(2.0)], rtol=1e-12, atol=1e-12)
    loss.sum().backward()
    expected = np.array([[0, 0, 0], [1, -1, 0], [0, -0.5, 0.5]], dtype=float)
    np.testing.assert_allclose(z.grad, expected, atol=1e-12)


def test_cross_entropy_float32_stays_float32():
    z = minigrad.tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(z, TARGET)
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_cross_entropy_unbatched_and_extra_dims():
    np.testing.assert_allclose(
        F.cross_entropy(LOGITS[1], np.int64(3)).item(), -_np_log_softmax(LOGITS[1], 0)[3]
    )
    z = RNG.normal(size=(2, 4, 3))  # (N, C, L): classes on axis 1, as in PyTorch
    t = np.array([[0, 1, 3], [2, 2, 0]])
    lp = _np_log_softmax(z, 1)
    per = -np.take_along_axis(lp, t[:, None, :], axis=1)[:, 0, :]
    np.testing.assert_allclose(F.cross_entropy(z, t, reduction="none").data, per, rtol=1e-12)


def test_weight_and_ignore_index_follow_pytorchs_weighted_mean():
    w = np.array([1.0, 2.0, 0.5, 3.0])
    t = np.array([0, 3, -100, 1, 2])
    lp = _np_log_softmax(LOGITS, 1)
    keep = t != -100
    tw = w[np.where(keep, t, 0)] * keep
    per = -lp[np.arange(5), np.where(keep, t, 0)] * tw
    np.testing.assert_allclose(F.nll_loss(lp, t, weight=w, reduction="none").data, per)
    np.testing.assert_allclose(F.nll_loss(lp, t, weight=w).item(), per.sum() / tw.sum())
    np.testing.assert_allclose(F.cross_entropy(LOGITS, t, weight=w).item(), per.sum() / tw.sum())


@pytest.mark.parametrize(
    "target, match",
    [(np.array([0, 1, 2, 3, 4]), r"\[0, 4\)"), (np.array([0, 1, 2]), "shape"),
     (np.array([0.0, 1, 2, 3, 1]), "integer")],
)  # fmt: skip
def test_bad_targets_are_clear_errors(target, match):
    with pytest.raises((ValueError, TypeError), match=match):
        F.cross_entropy(LOGITS, target)


def test_bad_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(LOGITS, TARGET, reduction="average")


# ----- binary cross entropy with logits ------------------------------------------------------
def test_bce_with_logits_matches_the_textbook_formula():
    x, y = RNG.normal(size=(3, 4)) * 3, RNG.uniform(size=(3, 4))
    s = 1 / (1 + np.exp(-x))
    per = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    out = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(out.data, per, rtol=1e-10)
    pw = np.array([0.5, 1.0, 2.0, 3.0])
    per_pw = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, y, pos_weight=pw).item(), per_pw.mean(), rtol=1e-10
    )


def test_bce_with_logits_is_finite_for_huge_logits():
    x = minigrad.tensor([1e4, 1e4, -1e4, -1e4], requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 1e4, 1e4, 0.0], atol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, -1.0, 0.0], atol=1e-12)  # sigma(x) - y


def test_bce_gradient_at_zero_is_sigma_minus_target():
    x = minigrad.tensor([0.0, 0.0], requires_grad=True)
    F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0]), reduction="sum").backward()
    np.testing.assert_allclose(x.grad, [0.5, -0.5])


# ----- mse ---------------------------------------------------------------------------------
def test_mse_loss_values_and_shape_check():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    np.testing.assert_allclose(F.mse_loss(a, b).item(), np.mean((a - b) ** 2))
    np.testing.assert_allclose(F.mse_loss(a, b, reduction="sum").item(), np.sum((a - b) ** 2))
    np.testing.assert_allclose(F.mse_loss(a, b, reduction="none").data, (a - b) ** 2)
    with pytest.raises(ValueError, match=r"\(3, 1\) and \(3,\)"):
        F.mse_loss(np.zeros((3, 1)), np.zeros(3))


# ----- linear, layer_norm, dropout ----------------------------------------------------------
def test_linear_matches_pytorch_layout():
    x, w, b = RNG.normal(size=(2, 5, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    np.testing.assert_allclose(F.linear(x, w, b).data, x @ w.T + b, rtol=1e-12)
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        layer(np.zeros((2, 5)))


def test_layer_norm_normalizes_the_last_axes():
    x = RNG.normal(size=(3, 2, 5)) * 4 + 1
    out = F.layer_norm(x, (2, 5)).data
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-12)
    ln = nn.LayerNorm(5)
    ln.weight.data[...] = np.arange(5.0)
    ln.bias.data[...] = 1.0
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).data, ref * np.arange(5.0) + 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(np.zeros((2, 4)))


def test_dropout_scales_survivors_and_drops_about_p():
    x = np.ones((200, 100))
    minigrad.manual_seed(0)
    out = F.dropout(x, 0.3).data
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    dropped = np.mean(out == 0)
    # binomial(20000, 0.3): standard deviation 0.0032, so 5 sigma is 0.016
    assert abs(dropped - 0.3) < 0.016


def test_dropout_module_train_eval_and_seed():
    d = nn.Dropout(0.5)
    x = minigrad.tensor(np.ones(50))
    minigrad.manual_seed(1)
    a = d(x).data
    minigrad.manual_seed(1)
    b = d(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, d(x).data)  # the generator moved on
    d.eval()
    assert d(x) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros(50))
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(1.5)
