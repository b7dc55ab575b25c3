"""Numerical hazards: stable activations and losses stay finite and right for |x| up to 1e4.

Each function is compared with a float64 reference written here with stable NumPy formulas
(``np.logaddexp``, ``math.erf``), in float32 and float64, and any NumPy overflow / invalid
warning is an error (tests/conftest.py sets ``np.seterr(all="raise")``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigrad as mg
from minigrad.nn import functional as F

EXTREMES = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1e-3, 1.0, 30.0, 100.0, 1e3, 1e4])
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-15)}


def big_arrays(dtype):
    elems = st.floats(-1e4, 1e4, width=32 if dtype == np.float32 else 64, allow_subnormal=False)
    return arrays(dtype, st.integers(1, 8), elements=elems)


def ref_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def ref_softplus(x):
    return np.logaddexp(0.0, x)


def ref_gelu(x):
    return np.array([v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x.ravel()]).reshape(x.shape)


def ref_log_softmax(x, axis=-1):
    return x - np.logaddexp.reduce(x, axis=axis, keepdims=True)


def _run(fn, x, dtype):
    """fn on a float tensor of ``dtype`` (forward + backward of the sum) with warnings as errors."""
    t = mg.tensor(np.asarray(x, dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(t)
        y.sum().backward()
    assert y.dtype == dtype and t.grad.dtype == dtype
    assert np.isfinite(y.data).all() and np.isfinite(t.grad).all()
    return y.data.astype(np.float64), t.grad.astype(np.float64)


ELEMENTWISE = {
    "sigmoid": (F.sigmoid, ref_sigmoid, lambda x: ref_sigmoid(x) * ref_sigmoid(-x)),
    "softplus": (F.softplus, ref_softplus, ref_sigmoid),
    "gelu": (F.gelu, ref_gelu, None),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), None, None),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_at_extremes(name, dtype):
    fn, ref, dref = ELEMENTWISE[name]
    x = EXTREMES.astype(dtype).astype(np.float64)
    y, g = _run(fn, x, dtype)
    if ref is not None:
        np.testing.assert_allclose(y, ref(x), **TOL[dtype])
    if dref is not None:
        np.testing.assert_allclose(g, dref(x), **TOL[dtype])
    if name.startswith("gelu"):  # GELU -> x for large x, -> 0 for very negative x
        np.testing.assert_allclose(y[-3:], x[-3:], rtol=1e-6)
        np.testing.assert_allclose(y[:3], 0.0, atol=1e-6)
        np.testing.assert_allclose(g[-3:], 1.0, rtol=1e-6)
        np.testing.assert_allclose(g[:3], 0.0, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_elementwise_hypothesis_up_to_1e4(dtype, data):
    x = data.draw(big_arrays(dtype)).astype(np.float64)
    for name in ("sigmoid", "softplus"):
        fn, ref, dref = ELEMENTWISE[name]
        y, g = _run(fn, x, dtype)
        np.testing.assert_allclose(y, ref(x), **TOL[dtype], err_msg=name)
        np.testing.assert_allclose(g, dref(x), **TOL[dtype], err_msg=name)
    y, _ = _run(F.gelu, x, dtype)
    np.testing.assert_allclose(y, ref_gelu(x), rtol=TOL[dtype]["rtol"], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_log_softmax_and_cross_entropy_up_to_1e4(dtype, data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    elems = st.floats(-1e4, 1e4, width=32 if dtype == np.float32 else 64, allow_subnormal=False)
    x = data.draw(arrays(dtype, (n, c), elements=elems)).astype(np.float64)
    target = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    ref = ref_log_softmax(x, axis=1)
    scale = np.abs(ref).max() + 1.0  # float32 rounding of the inputs is relative to them
    y, g = _run(lambda t: F.log_softmax(t, dim=1), x, dtype)
    np.testing.assert_allclose(y, ref, rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["rtol"] * scale)
    # d/dx sum(log_softmax) = 1 - C softmax
    np.testing.assert_allclose(g, 1 - c * np.exp(ref), atol=1e-5 if dtype == np.float32 else 1e-10)
    loss, g = _run(lambda t: F.cross_entropy(t, target), x, dtype)
    want = -ref[np.arange(n), target].mean()
    np.testing.assert_allclose(loss, want, rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["rtol"] * scale)
    onehot = np.eye(c)[target]
    np.testing.assert_allclose(g, (np.exp(ref) - onehot) / n, atol=1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_bce_with_logits_up_to_1e4(dtype, data):
    x = data.draw(big_arrays(dtype)).astype(np.float64)
    y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=x.size, max_size=x.size)))
    pw = data.draw(st.sampled_from([None, 0.5, 3.0]))
    p = 1.0 if pw is None else pw
    yt = mg.tensor(y.astype(dtype))
    loss, g = _run(lambda t: F.binary_cross_entropy_with_logits(t, yt, reduction="sum", pos_weight=pw), x, dtype)
    # -[p y log s(x) + (1-y) log(1-s(x))], with log s(x) = -softplus(-x), log(1-s(x)) = -softplus(x)
    want = np.sum(p * y * ref_softplus(-x) + (1 - y) * ref_softplus(x))
    # a loss below the smallest normal (float32: x = 96, y = 1 gives 2.03e-42) has only subnormal
    # spacing, so one subnormal step of absolute error is the best any float can do
    np.testing.assert_allclose(loss, want, rtol=10 * TOL[dtype]["rtol"], atol=np.finfo(dtype).smallest_subnormal)
    want_g = -p * y * ref_sigmoid(-x) + (1 - y) * ref_sigmoid(x)
    np.testing.assert_allclose(g, want_g, **TOL[dtype])


def test_softmax_of_huge_logits_is_one_hot():
    x = mg.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    s = F.softmax(x, dim=1)
    np.testing.assert_array_equal(s.data, [[1.0, 0.0, 0.0]])
    (s[:, 0]).sum().backward()
    assert np.isfinite(x.grad).all()
