"""Numerics of the functions: erf, sigmoid, softmax family, gelu, split, matmul, indexing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.special import erf
from minigrad.testing import arrays, assert_gradients_match, shapes


# ----- erf ------------------------------------------------------------------------------------
def test_erf_accurate_to_1e_14_on_minus_10_to_10():
    x = np.concatenate([np.linspace(-10, 10, 20001), [-3.0, 3.0, -2.9999999, 3.0000001, 0.0]])
    expected = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(erf(x) - expected)) <= 1e-14


@given(st.floats(-10, 10))
def test_erf_matches_math_erf_anywhere(v):
    assert abs(float(erf(np.array([v]))[0]) - math.erf(v)) <= 1e-14


def test_erf_special_values_and_dtypes():
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert np.isnan(erf(np.array([np.nan]))[0])
    assert erf(np.array([0.5], dtype=np.float32)).dtype == np.float32
    assert erf(np.array(1.0)).shape == ()


# ----- sigmoid --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_finite_without_warnings_for_large_inputs(dtype):
    values = np.array([-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4], dtype=dtype)
    x = mg.tensor(values, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        y = F.sigmoid(x)
        y.sum().backward()
    assert y.dtype == dtype and np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    assert y.data[0] == 0.0 and y.data[-1] == 1.0 and y.data[3] == 0.5
    np.testing.assert_array_equal(x.grad[[0, -1]], [0.0, 0.0])


@given(arrays(min_value=-30, max_value=30))
def test_sigmoid_matches_formula(x):
    np.testing.assert_allclose(mg.sigmoid(x).data, 1 / (1 + np.exp(-x)), rtol=1e-14, atol=1e-300)


# ----- softmax family -------------------------------------------------------------------------
def _big_logits():
    return np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0, -1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_stable_for_logits_of_magnitude_1e4(dtype):
    x = _big_logits().astype(dtype)
    with np.errstate(all="raise", under="ignore"):
        s = F.softmax(mg.tensor(x), dim=1).data
        ls = F.log_softmax(mg.tensor(x), dim=1).data
        lse = mg.logsumexp(mg.tensor(x), axis=1).data
    shifted = x.astype(np.float64) - x.max(axis=1, keepdims=True)
    ref_lse = np.log(np.exp(shifted).sum(axis=1)) + x.max(axis=1)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(s, np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True), atol=tol)
    ref_ls = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    np.testing.assert_allclose(ls, ref_ls, atol=tol * 10)
    np.testing.assert_allclose(lse, ref_lse, rtol=tol)
    assert s.dtype == ls.dtype == lse.dtype == dtype
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=tol)
    assert np.all(np.isfinite(ls))


def test_softmax_gradients_at_large_logits_are_finite():
    x = mg.tensor(_big_logits(), requires_grad=True)
    (F.log_softmax(x, dim=1)[:, 0].sum() + mg.logsumexp(x).sum() + F.softmax(x)[0, 3]).backward()
    assert np.all(np.isfinite(x.grad))


@given(arrays(shapes(min_dims=1)), st.data())
def test_softmax_composite_gradients(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_gradients_match(lambda t: F.softmax(t, dim=axis) * F.log_softmax(t, dim=axis), [x])


def test_softmax_axis_names():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(mg.softmax(x, axis=0).data, F.softmax(mg.tensor(x), dim=0).data)
    np.testing.assert_allclose(mg.softmax(x, axis=0).data.sum(axis=0), [1.0, 1.0])


# ----- gelu, leaky_relu -----------------------------------------------------------------------
@given(arrays(min_value=-6, max_value=6))
def test_gelu_exact_matches_erf_formula(x):
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()])
    np.testing.assert_allclose(F.gelu(mg.tensor(x)).data.ravel(), expected, atol=1e-14)


@given(arrays(min_value=-6, max_value=6))
def test_gelu_tanh_matches_formula(x):
    expected = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(F.gelu(mg.tensor(x), approximate="tanh").data, expected, atol=1e-14)


def test_gelu_variants_differ_and_bad_approximate():
    x = mg.tensor([1.0])
    assert F.gelu(x).item() != F.gelu(x, approximate="tanh").item()
    assert F.gelu(x).item() == pytest.approx(0.8413447460685429, abs=1e-15)  # Phi(1)
    with pytest.raises(ValueError, match="approximate.*'sigmoid'"):
        F.gelu(x, approximate="sigmoid")


def test_tensor_activation_methods():
    x = mg.tensor([-1.0, 2.0])
    np.testing.assert_array_equal(x.relu().data, [0.0, 2.0])
    np.testing.assert_allclose(x.tanh().data, np.tanh(x.data))
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-x.data)))
    np.testing.assert_allclose(F.leaky_relu(x).data, [-0.01, 2.0])
    np.testing.assert_allclose(F.leaky_relu(x, negative_slope=0.2).data, [-0.2, 2.0])


# ----- split ----------------------------------------------------------------------------------
def test_split_sections_and_indices_like_numpy():
    a = np.arange(24.0).reshape(4, 6)
    for spec, axis in ((2, 0), (3, 1), ([1, 4], 1), ([2], 0), (1, -1)):
        pieces = mg.split(a, spec, axis=axis)
        expected = np.split(a, spec, axis=axis)
        assert len(pieces) == len(expected)
        for p, e in zip(pieces, expected, strict=True):
            np.testing.assert_array_equal(p.data, e)


def test_split_gradient_reassembles():
    x = mg.tensor(np.arange(6.0), requires_grad=True)
    a, b, c = mg.split(x, [1, 4], axis=0)
    (a.sum() * 1.0 + (b * 2.0).sum() + (c * 3.0).sum()).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 2.0, 2.0, 3.0, 3.0])


def test_split_errors():
    with pytest.raises(ValueError, match="indices_or_sections=4.*size 6"):
        mg.split(np.arange(6.0), 4, axis=0)
    with pytest.raises(ValueError, match="0-d"):
        mg.split(np.array(1.0), 1)


# ----- matmul ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sa, sb",
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
     ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)), ((5, 2, 3), (3,))],
)  # fmt: skip
def test_matmul_shapes_values_and_gradients(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    out = mg.matmul(a, b)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-14)
    assert out.shape == np.shape(a @ b)
    assert_gradients_match(mg.matmul, [a, b])


def test_matmul_rejects_scalars_and_misaligned():
    with pytest.raises(ValueError, match="at least 1-D"):
        mg.matmul(np.array(2.0), np.ones(3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        mg.matmul(np.ones((2, 3)), np.ones((4, 5)))


# ----- indexing -------------------------------------------------------------------------------
INDEXES = [
    (1,), (slice(1, 3),), (slice(None, None, -1),), (Ellipsis, 0), (None, 1),
    (1, None, slice(0, 2)), (-1, -2), (np.array([0, 2, 2, 0]),), (slice(None), np.array([1, 1, 3])),
    (np.array([0, 1]), np.array([2, 2])), (np.array([[0], [2]]), np.array([1, 3])),
]  # fmt: skip


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_indexing_forward_and_gradient(index):
    x = np.arange(12.0).reshape(3, 4) / 7.0
    index = index if len(index) > 1 else index[0]
    np.testing.assert_array_equal(mg.tensor(x)[index].data, x[index])
    assert_gradients_match(lambda t: t[index] * t[index], [x])


def test_repeated_integer_indices_accumulate():
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    x.zero_grad()
    x[[1, 1]].sum().backward()  # a Python list is an integer-array index too
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])


def test_boolean_mask_indexing():
    x = mg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    mask = x > 0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [1.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0], [0.0, 8.0]])
    x.zero_grad()
    x[np.array([False, True])].sum().backward()  # a row mask
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0], [1.0, 1.0]])


def test_tensor_as_index_and_out_of_range():
    x = mg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x[mg.tensor([2, 0])].data, [3.0, 1.0])
    with pytest.raises(IndexError):
        x[5]


# ----- conventions at kinks (documented in each op's docstring) ------------------------------
def test_gradient_conventions_at_kinks():
    x = mg.tensor([0.0, 1.0, 1.0, -1.0], requires_grad=True)
    x.max().backward()  # two tied maxima share the gradient
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])
    x.zero_grad()
    mg.maximum(x, 1.0).sum().backward()  # a tie in maximum: half to each side
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])
    x.zero_grad()
    (mg.relu(x) + mg.abs(x)).sum().backward()  # relu'(0) = 0 and abs'(0) = 0, like PyTorch
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 2.0, -1.0])
    x.zero_grad()
    mg.clip(x, -1.0, 1.0).sum().backward()  # the bounds count as inside, like torch.clamp
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0, 1.0])


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf_with_zero_gradient():
    x = mg.tensor([[-np.inf, -np.inf], [1.0, 2.0]], requires_grad=True)
    y = mg.logsumexp(x, axis=1)
    assert y.data[0] == -np.inf
    np.testing.assert_allclose(y.data[1], np.log(np.exp(1.0) + np.exp(2.0)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0])
    np.testing.assert_allclose(x.grad[1].sum(), 1.0)


def test_var_with_ddof_not_below_the_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r"ddof must be smaller .* \(2\), got ddof=2"):
        mg.var(mg.tensor([1.0, 2.0]), ddof=2)
    assert mg.var(mg.tensor([1.0, 3.0]), ddof=1).item() == 2.0
