"""The examples of the edge classes, one test each: PyTorch's answer at the edge, or a clear error.

The Hypothesis test over every op (test_edge_values.py) covers the classes; these pin the
examples down so a regression names itself. NumPy warnings are errors here (tests/conftest.py),
and ``_grad`` turns Python-level warnings (NumPy's "Mean of empty slice") into errors as well.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg


def _grad(fn, x):
    t = mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(t)
        y.backward(np.ones(y.shape))
    return y.data, t.grad


# ----- silent wrong numbers at edges --------------------------------------------------------
def test_d_x_pow_0_at_0_is_0_without_warning():
    y, g = _grad(lambda t: t**0, [0.0, 2.0, -1.0])
    assert y.tolist() == [1.0, 1.0, 1.0] and g.tolist() == [0.0, 0.0, 0.0]  # before: nan at 0


def test_d_0_pow_b_db_is_0_for_b_at_least_0():
    b = mg.tensor([0.0, 2.0, -1.0], requires_grad=True)
    y = mg.power(mg.tensor([0.0, 0.0, 0.0]), b)
    y.backward(np.ones(3))
    assert y.data.tolist() == [1.0, 0.0, np.inf] and b.grad.tolist() == [0.0, 0.0, -np.inf]  # as PyTorch


@pytest.mark.parametrize("reduce", [mg.max, mg.min])
def test_max_and_min_route_the_gradient_to_the_nan(reduce):
    y, g = _grad(lambda t: reduce(t, axis=1), [[1.0, np.nan, 3.0], [np.nan, 2.0, np.nan]])
    assert np.isnan(y).all()
    assert g.tolist() == [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]  # before: all NaN


@pytest.mark.parametrize("fn", [mg.maximum, mg.minimum])
def test_maximum_and_minimum_route_the_gradient_to_the_nan(fn):
    a = mg.tensor([np.nan, 1.0, np.nan, 2.0], requires_grad=True)
    b = mg.tensor([1.0, np.nan, np.nan, 2.0], requires_grad=True)
    fn(a, b).backward(np.ones(4))
    assert a.grad.tolist() == [1.0, 0.0, 0.5, 0.5] and b.grad.tolist() == [0.0, 1.0, 0.5, 0.5]


def test_relu_passes_the_gradient_of_a_nan_as_pytorch():
    y, g = _grad(mg.relu, [np.nan, -1.0, 0.0, 2.0])
    assert np.isnan(y[0]) and g.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("fn", [mg.softmax, mg.log_softmax, mg.logsumexp])
def test_softmax_family_over_a_zero_size_axis(fn):
    y, g = _grad(lambda t: fn(t, axis=1), np.zeros((2, 0)))
    assert g.shape == (2, 0)
    if fn is mg.logsumexp:
        assert y.tolist() == [-np.inf, -np.inf]  # log of an empty sum, as NumPy and PyTorch
    else:
        assert y.shape == (2, 0)


@pytest.mark.parametrize("fn", [mg.softmax, mg.log_softmax])
def test_softmax_of_an_all_minus_inf_row_is_nan_without_warning(fn):
    y, _ = _grad(lambda t: fn(t, axis=1), [[-np.inf, -np.inf], [0.0, 0.0]])
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()  # PyTorch gives NaN too


@pytest.mark.parametrize("shape, axis", [((0,), None), ((2, 0), 1), ((0, 3), 0), ((0, 3), None)])
def test_empty_means_are_nan_without_warning(shape, axis):
    y, g = _grad(lambda t: mg.mean(t, axis=axis), np.zeros(shape))
    assert y.shape == np.sum(np.zeros(shape), axis=axis).shape and np.isnan(y).all()
    assert g.shape == shape


@pytest.mark.parametrize("fn, x", [(mg.log, [0.0, -1.0]), (mg.sqrt, [0.0, -1.0]), (mg.exp, [1000.0, 0.0]),
                                   (lambda t: 1.0 / t, [0.0, -0.0])])  # fmt: skip
def test_domain_edges_give_ieee_values_without_warnings(fn, x):
    y, g = _grad(fn, x)  # log 0 = -inf, sqrt -1 = nan, e^1000 = inf, 1/0 = inf: values, not warnings
    assert not np.isfinite(y).all() or not np.isfinite(g).all()


def test_an_empty_index_list_gives_an_empty_tensor():
    x = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 2) and y.shape == np.arange(6.0).reshape(3, 2)[[]].shape
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]] * 3
    assert x[[], 1].shape == (0,)


# ----- clear errors ---------------------------------------------------------------------------
x24 = mg.tensor(np.ones((2, 4)), requires_grad=True)

ERRORS = [
    ("complex128-scalar", lambda: x24 * np.complex128(1 + 2j), TypeError, r"complex"),
    ("complex64-scalar", lambda: x24 * np.complex64(1 + 2j), TypeError, r"complex"),
    ("python-complex", lambda: (1 + 2j) + x24, TypeError, r"complex"),
    ("split-axis-out-of-range", lambda: mg.split(x24, 2, axis=5), ValueError, r"split: axis 5 is out of range"),
    ("split-axis-str", lambda: mg.split(x24, 2, axis="1"), TypeError, r"split: axis must be an int, got '1'"),
    ("sum-axis-float", lambda: x24.sum(axis=1.0), TypeError, r"sum: axis must be None, an int.*got 1.0"),
    ("mean-axis-float", lambda: mg.mean(x24, axis=1.0), TypeError, r"mean: axis.*1.0"),
    ("reshape-float", lambda: x24.reshape(2.0, 4), TypeError, r"reshape: shape must be ints.*2.0"),
    ("reshape-fn-float", lambda: mg.reshape(x24, (4, 2.5)), TypeError, r"reshape: newshape must be an int.*2.5"),
    ("backward-strings", lambda: (x24 * 2).backward(grad=[["a"] * 4] * 2), TypeError, r"backward\(\): grad.*<U1"),
    ("backward-complex", lambda: (x24 * 2).backward(grad=np.ones((2, 4), complex)), TypeError,
     r"backward\(\): grad.*complex128"),
    ("requires-grad-str", lambda: mg.tensor([1.0], requires_grad="yes"), TypeError, r"requires_grad.*'yes'"),
    ("requires-grad-int", lambda: mg.tensor([1.0]).requires_grad_(1), TypeError, r"requires_grad.*1"),
]


@pytest.mark.parametrize("thunk, exc, pattern", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_op_arguments_are_named(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


def test_split_still_takes_negative_axes_and_numpy_ints():
    assert [p.shape for p in mg.split(x24, 2, axis=-1)] == [(2, 2), (2, 2)]
    assert [p.shape for p in mg.split(x24, np.int64(2), axis=np.int64(0))] == [(1, 4), (1, 4)]


def test_split_of_an_empty_axis_gives_empty_pieces():
    pieces = mg.split(mg.zeros(0), 2, axis=0)
    assert [p.shape for p in pieces] == [(0,), (0,)]  # as np.split
    assert [p.shape for p in mg.split(mg.zeros((2, 0)), 3, axis=1)] == [(2, 0)] * 3


@pytest.mark.parametrize("bounds", [(1j, 1), (0, 1j), ("a", None), (None, np.array([1j]))])
def test_clip_refuses_complex_or_non_numeric_bounds(bounds):
    with pytest.raises(TypeError, match="a_m(in|ax) must be a real number"):
        mg.clip(mg.tensor([1.0, 2.0]), *bounds)


@pytest.mark.parametrize("eps", [float("nan"), float("inf"), 0.0, -1e-6, True, "1e-6"])
def test_gradcheck_eps_is_checked_first(eps):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradcheck: eps must be a positive finite number, got"):
        mg.gradcheck(lambda t: t * t, x, eps=eps)
    with pytest.raises(ValueError, match=r"numerical_jacobian: eps must be"):
        mg.numerical_jacobian(lambda t: t * t, x, eps=eps)


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf_with_gradient_zero():
    """The documented choice (docs/RELIABILITY.md): value -inf as PyTorch, gradient 0 where PyTorch gives NaN.

    The row's softmax weights are 0/0; taking them as 0 keeps a fully masked row from turning every
    gradient that meets it into NaN. The other rows are unaffected.
    """
    x = mg.tensor([[-np.inf, -np.inf], [0.0, 1.0]], requires_grad=True)
    y = x.logsumexp(axis=1)
    assert y.data[0] == -np.inf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0])
    np.testing.assert_allclose(x.grad[1], np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum())
