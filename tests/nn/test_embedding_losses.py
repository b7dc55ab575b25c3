"""nn.Embedding and the loss modules: layout, init, padding_idx, and gradients vs central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.tensor import Tensor
from minigrad.testing import arrays, assert_gradients_match


def test_embedding_layout_and_init_as_pytorch():
    minigrad.manual_seed(3)
    emb = nn.Embedding(10, 4)
    assert emb.weight.shape == (10, 4) and emb.weight.dtype == np.float64
    np.testing.assert_array_equal(emb.weight.data, np.random.default_rng(3).normal(0, 1, size=(10, 4)))  # N(0, 1)
    idx = np.array([[1, 2, 9], [0, 0, 5]])
    out = emb(idx)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    assert list(emb.state_dict()) == ["weight"]
    assert nn.Embedding(3, 2, dtype=np.float32).weight.dtype == np.float32


def test_embedding_gradient_adds_repeated_rows():
    emb = nn.Embedding(5, 3)
    g = np.random.default_rng(0).normal(size=(4, 3))
    emb(np.array([1, 3, 1, 1])).backward(g)
    expected = np.zeros((5, 3))
    expected[1], expected[3] = g[0] + g[2] + g[3], g[1]
    np.testing.assert_allclose(emb.weight.grad, expected)


@pytest.mark.parametrize("padding_idx, row", [(0, 0), (-1, 4)])
def test_padding_idx_row_starts_at_zero_and_gets_no_gradient(padding_idx, row):
    emb = nn.Embedding(5, 3, padding_idx=padding_idx)
    assert emb.padding_idx == row and np.all(emb.weight.data[row] == 0)
    with minigrad.no_grad():
        emb.weight.data[row] = 7.0  # a user-set padding row is still looked up as it is...
    out = emb(np.array([row, 2, row]))
    np.testing.assert_array_equal(out.data[0], np.full(3, 7.0))
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[row], np.zeros(3))  # ...but never trained
    np.testing.assert_array_equal(emb.weight.grad[2], np.ones(3))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Embedding(0, 3), ValueError, r"num_embeddings must be a positive int"),
    (lambda: nn.Embedding(5, 3, padding_idx=5), ValueError, r"padding_idx must be None or an int in \[-5, 5\)"),
    (lambda: nn.Embedding(5, 3)(np.array([0, 5])), IndexError, r"in \[0, 5\)"),
    (lambda: nn.Embedding(5, 3)(np.array([-1])), IndexError, r"in \[0, 5\)"),  # not NumPy's wrap-around
    (lambda: nn.Embedding(5, 3)(np.array([0.0])), TypeError, r"integer indices"),
])  # fmt: skip
def test_embedding_bad_input_is_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


@given(arrays((6, 3)))
def test_embedding_gradient_matches_central_differences(w):
    idx = np.array([[0, 2], [2, 5], [1, 2]])  # (padding_idx's zero gradient is by design, tested above)
    assert_gradients_match(lambda w: F.embedding(idx, w), [w])


@given(arrays((4, 3)), arrays((4, 3)))
def test_l1_loss_gradient(x, y):
    x = np.where(np.abs(x - y) < 1e-3, x + 0.01, x)  # off the kink |x - y| = 0
    for reduction in ("mean", "sum", "none"):
        assert_gradients_match(lambda a, b, r=reduction: F.l1_loss(a, b, reduction=r), [x, y])


@given(arrays((5, 4)), st.floats(0.0, 1.0), st.booleans())
def test_cross_entropy_label_smoothing_gradient(x, eps, weighted):
    t = np.array([0, 3, -100, 1, 3])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    for reduction in ("mean", "sum", "none"):
        assert_gradients_match(
            lambda z, r=reduction: F.cross_entropy(z, t, weight=w, reduction=r, label_smoothing=eps), [x]
        )


@given(arrays((5, 4)), arrays((5, 4), min_value=0.0, max_value=1.0), st.floats(0.0, 1.0))
def test_cross_entropy_probability_targets_gradient_in_both_inputs(x, q, eps):
    w = np.array([0.5, 1.0, 2.0, 1.5])
    for reduction in ("mean", "sum", "none"):
        assert_gradients_match(
            lambda z, p, r=reduction: F.cross_entropy(z, p, weight=w, reduction=r, label_smoothing=eps), [x, q]
        )


def test_probability_targets_formula_and_smoothing_of_one_hot_equals_indices():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(6, 5)), np.array([0, 4, 2, 3, 1, 4])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    q = rng.dirichlet(np.ones(5), size=6)
    np.testing.assert_allclose(F.cross_entropy(x, q).item(), -(q * logp).sum(1).mean())
    one_hot = np.eye(5)[t]
    for eps in (0.0, 0.3):
        np.testing.assert_allclose(
            F.cross_entropy(x, t, label_smoothing=eps).item(), F.cross_entropy(x, one_hot, label_smoothing=eps).item()
        )


def test_cross_entropy_argument_errors():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\], got 1.5"):
        F.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"ignore_index is not supported for probability"):
        F.cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")


def test_probability_targets_keep_a_float32_model_in_float32():
    x = Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.full((2, 3), 1 / 3), label_smoothing=0.1)
    assert loss.dtype == np.float32


@pytest.mark.parametrize("module, fn, target", [
    (nn.MSELoss(reduction="sum"), lambda x, y: F.mse_loss(x, y, reduction="sum"), np.ones((3, 2))),
    (nn.L1Loss(), F.l1_loss, np.ones((3, 2))),
    (nn.NLLLoss(ignore_index=1), lambda x, y: F.nll_loss(x, y, ignore_index=1), np.array([0, 1, 1])),
    (nn.CrossEntropyLoss(weight=np.array([1.0, 2.0])), lambda x, y: F.cross_entropy(x, y, weight=np.array([1.0, 2.0])),
     np.array([0, 1, 1])),
    (nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 0.5])),
     lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=np.array([2.0, 0.5])), np.ones((3, 2))),
])  # fmt: skip
def test_loss_modules_are_their_functions(module, fn, target):
    x = np.random.default_rng(1).normal(size=(3, 2))
    np.testing.assert_array_equal(module(Tensor(x), target).data, fn(Tensor(x), target).data)
    assert "reduction=" in repr(module)


def test_numpy_scalar_probabilities_are_accepted():
    minigrad.manual_seed(0)
    x = minigrad.ones(1000)
    assert nn.Dropout(np.float32(0.5)).p == 0.5
    assert 0.3 < (F.dropout(x, np.float64(0.5)).data == 0).mean() < 0.7
    assert nn.CrossEntropyLoss(label_smoothing=np.float32(0.25)).label_smoothing == 0.25
    F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=np.float32(0.1))
