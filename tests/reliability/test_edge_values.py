"""Edge values (0, ±inf, NaN, ties, empty axes): each op's value and gradient follow NumPy or a documented rule.

The rules that differ from PyTorch are listed in README's "Differences from PyTorch"; each is
checked here, with NumPy warnings turned into errors (tests/conftest.py), so none leaks.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import minigrad as mg
from minigrad import ops
from minigrad.ops import ALL_OPS
from minigrad.ops.recurrent_sequence import StepOutputs
from minigrad.tensor import apply_op
from tests.nn.test_fused_ops import composed, draw_inputs
from tests.ops.more_specs import _make_step as make_step
from tests.ops.test_extra_step_ops import EXTRA_STEP_OPS, step_inputs


def _value_and_grad(fn, x):
    t = mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(t)
        y.sum().backward()
    return y.data, t.grad


# ----- documented rules (README, Differences from PyTorch) ----------------------------------
@pytest.mark.parametrize("reduce", [mg.max, mg.min])
def test_max_and_min_share_the_gradient_among_ties(reduce):
    x = [[2.0, 2.0, 1.0, 2.0], [5.0, 5.0, 5.0, 5.0]] if reduce is mg.max else [[1.0, 1.0, 2.0, 1.0], [5.0] * 4]
    y, g = _value_and_grad(lambda t: reduce(t, axis=1), x)
    np.testing.assert_array_equal(g, [[1 / 3, 1 / 3, 0, 1 / 3], [0.25] * 4])
    _, g_all = _value_and_grad(reduce, x)  # over every axis: the ties still share exactly 1
    assert g_all.sum() == pytest.approx(1.0)


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf_with_gradient_zero():
    y, g = _value_and_grad(lambda t: mg.logsumexp(t, axis=1), [[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    assert y[0] == -np.inf and y[1] == pytest.approx(np.log(4.0))
    np.testing.assert_array_equal(g[0], [0.0, 0.0])
    np.testing.assert_allclose(g[1], [0.25, 0.75])


# ----- the differential test: every op in ALL_OPS at edge values ---------------------------
# Elements are drawn from EDGE (so ties are common) in shapes that may have a 0-size axis.
# For each op: a NumPy reference for the value and the input gradients (upstream gradient 1),
# with PyTorch's conventions where an edge needs one (``d(x**0)/dx = 0`` at 0, ReLU passes the
# gradient of a NaN, max/min route it to the NaN) and minigrad's documented rules (README).
FINITE_EDGE = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1000.0]
EDGE = FINITE_EDGE + [np.inf, -np.inf, np.nan]
# Ops that may let NumPy's own IEEE warning through when an input is already inf or NaN
# (inf - inf, 0 * inf): suppressing it costs an np.errstate per call, more than a small op
# itself (docs/RELIABILITY.md). With finite inputs no op may warn.
IEEE_WARNINGS_ON_NONFINITE = {"Add", "Sub", "Mul", "MatMul", "Sum", "Mean", "Var"}


def _q(fn):
    with np.errstate(all="ignore"):
        return fn()


def _share(wins, tie):
    return wins + 0.5 * tie


def _route(x, other, better):
    """The gradient rule of maximum/minimum: the input the result came from (a NaN wins), 1/2 on ties."""
    xn, on = np.isnan(x), np.isnan(other)
    return _share(better(x, other) | (xn & ~on), (x == other) | (xn & on))


def _reduce_route(x, axis, fn):
    """max/min over ``axis``: the gradient goes to the elements equal to the result (NaN if any), shared."""
    out = fn(x, axis=axis, keepdims=True)
    hit = (x == out) | (np.isnan(x) & np.isnan(out))
    return hit / hit.sum(axis=axis, keepdims=True)


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _shifted(x, axis):
    """PyTorch's softmax shift, x - max(x): a row of all -inf, or with +inf, becomes NaN."""
    return x - (np.max(x, axis=axis, keepdims=True) if x.shape[axis] else 0.0)


def _softmax(x, axis):
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _lse(x, axis):
    return np.logaddexp.reduce(x, axis=axis) if x.shape[axis] else np.full(np.delete(x.shape, axis), -np.inf)


def _lse_grad(x, axis):
    s = np.exp(x - np.expand_dims(_lse(x, axis), axis))  # PyTorch's formula, exp(x - y)
    all_minus_inf = np.all(x == -np.inf, axis=axis, keepdims=True)
    return np.where(all_minus_inf, 0.0, s)  # README: gradient 0 for an all -inf row


ONE = lambda *xs: np.ones(np.broadcast_shapes(*[x.shape for x in xs]))  # noqa: E731

# name -> (number of inputs, minigrad function, NumPy value, NumPy gradients for upstream 1)
CASES = {
    "Add": (2, lambda a, b: a + b, np.add, lambda a, b: (ONE(a), ONE(a))),
    "Sub": (2, lambda a, b: a - b, np.subtract, lambda a, b: (ONE(a), -ONE(a))),
    "Mul": (2, lambda a, b: a * b, np.multiply, lambda a, b: (b, a)),
    "Div": (2, lambda a, b: a / b, np.divide, lambda a, b: (1 / b, -a / (b * b))),
    "Neg": (1, lambda a: -a, np.negative, lambda a: (-ONE(a),)),
    "Pow": (2, lambda a, b: a**b, np.power, lambda a, b: (
        np.where(b == 0, 0.0, b * a ** (b - 1)),  # PyTorch: d(x**0)/dx = 0, also at 0
        np.where((a == 0) & (b >= 0), 0.0, a**b * np.log(a)))),  # PyTorch: 0 where a = 0, b >= 0
    "Maximum": (2, mg.maximum, np.maximum, lambda a, b: (_route(a, b, np.greater), _route(b, a, np.greater))),
    "Minimum": (2, mg.minimum, np.minimum, lambda a, b: (_route(a, b, np.less), _route(b, a, np.less))),
    "Where": (2, lambda a, b: mg.where(a.data > 0, a, b), lambda a, b: np.where(a > 0, a, b),
              lambda a, b: ((a > 0) * 1.0, (~(a > 0)) * 1.0)),
    "Exp": (1, mg.exp, np.exp, lambda a: (np.exp(a),)),
    "Log": (1, mg.log, np.log, lambda a: (1 / a,)),
    "Sqrt": (1, mg.sqrt, np.sqrt, lambda a: (0.5 / np.sqrt(a),)),
    "Abs": (1, mg.abs, np.abs, lambda a: (np.sign(a),)),
    "Clip": (1, lambda a: mg.clip(a, -1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0),
             lambda a: (((a >= -1) & (a <= 1)) * 1.0,)),
    "Sigmoid": (1, mg.sigmoid, lambda a: 1 / (1 + np.exp(-a)),
                lambda a: (1 / (1 + np.exp(-a)) * (1 - 1 / (1 + np.exp(-a))),)),
    "Tanh": (1, mg.tanh, np.tanh, lambda a: (1 - np.tanh(a) ** 2,)),
    "ReLU": (1, mg.relu, lambda a: np.maximum(a, 0), lambda a: (~(a <= 0) * 1.0,)),  # NaN passes (PyTorch)
    "LeakyReLU": (1, lambda a: mg.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
                  lambda a: (np.where(a > 0, 1.0, 0.1),)),
    "GELU": (1, mg.gelu, lambda a: a * 0.5 * (1 + _erf(a / np.sqrt(2))),
             lambda a: (0.5 * (1 + _erf(a / np.sqrt(2))) + a * np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi),)),
    "MatMul": (2, lambda a, b: a @ b.T, lambda a, b: a @ b.T,
               lambda a, b: (np.ones((len(a), len(a))) @ b, np.ones((len(a), len(a))) @ a)),
    "Sum": (1, lambda a: mg.sum(a, axis=-1), lambda a: np.sum(a, axis=-1), lambda a: (ONE(a),)),
    "Mean": (1, lambda a: mg.mean(a, axis=-1), lambda a: np.sum(a, axis=-1) / a.shape[-1],
             lambda a: (ONE(a) / a.shape[-1],)),
    "Var": (1, lambda a: mg.var(a, axis=-1), lambda a: np.var(a, axis=-1),
            lambda a: (2 * (a - np.mean(a, axis=-1, keepdims=True)) / a.shape[-1],)),
    "Max": (1, lambda a: mg.max(a, axis=-1), lambda a: np.max(a, axis=-1), lambda a: (_reduce_route(a, -1, np.max),)),
    "Min": (1, lambda a: mg.min(a, axis=-1), lambda a: np.min(a, axis=-1), lambda a: (_reduce_route(a, -1, np.min),)),
    "LogSumExp": (1, lambda a: mg.logsumexp(a, axis=-1), lambda a: _lse(a, -1), lambda a: (_lse_grad(a, -1),)),
    "Softmax": (1, lambda a: mg.softmax(a, axis=-1), lambda a: _softmax(a, -1), None),
    "LogSoftmax": (1, lambda a: mg.log_softmax(a, axis=-1), lambda a: _log_softmax(a, -1), None),
    "Reshape": (1, lambda a: a.reshape(-1), lambda a: a.reshape(-1), lambda a: (ONE(a),)),
    "Transpose": (1, lambda a: a.T, lambda a: a.T, lambda a: (ONE(a),)),
    "BroadcastTo": (1, lambda a: mg.broadcast_to(a, (2, *a.shape)), lambda a: np.broadcast_to(a, (2, *a.shape)),
                    lambda a: (2 * ONE(a),)),
    "GetItem": (1, lambda a: a[[]], lambda a: a[[]], lambda a: (0 * ONE(a),)),  # an empty index list
    "Concatenate": (2, lambda a, b: mg.concatenate([a, b], axis=-1), lambda a, b: np.concatenate([a, b], axis=-1),
                    lambda a, b: (ONE(a), ONE(b))),
    "Stack": (2, lambda a, b: mg.stack([a, b]), lambda a, b: np.stack([a, b]), lambda a, b: (ONE(a), ONE(b))),
}


# what the reference gradients of Softmax / LogSoftmax need: a non-constant upstream gradient
def _softmax_grads(a, g):
    s = _q(lambda: _softmax(a, -1))
    return (_q(lambda: s * (g - np.sum(g * s, axis=-1, keepdims=True))),)


def _log_softmax_grads(a, g):
    s = _q(lambda: np.exp(_log_softmax(a, -1)))  # PyTorch's backward: g - exp(y) sum(g)
    return (_q(lambda: g - s * np.sum(g, axis=-1, keepdims=True)),)


RAISES_ON_EMPTY = {"Max": "zero-size", "Min": "zero-size", "Var": "ddof"}  # NumPy and PyTorch refuse too


def test_every_op_in_all_ops_has_a_case():
    covered = set(CASES) | set(SPECTRAL) | set(STEPS) | set(SEQUENCE) | set(EXTRA_STEPS) | {"StepOutputs"}
    covered |= {"ScaledDotProductAttention"}  # tests/ops/test_attention_op.py
    assert covered == {op.__name__ for op in ALL_OPS}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_every_op_at_edge_values_follows_numpy_or_the_documented_rule(name, data):
    n, fn, ref_value, ref_grads = CASES[name]
    shape = data.draw(array_shapes(min_dims=2 if name == "MatMul" else 1, max_dims=2, min_side=0, max_side=3))
    xs = [data.draw(arrays(np.float64, shape, elements=st.sampled_from(EDGE))) for _ in range(n)]
    finite = all(np.isfinite(x).all() for x in xs)
    if name in RAISES_ON_EMPTY and shape[-1] == 0:
        with pytest.raises(ValueError, match=RAISES_ON_EMPTY[name]):
            fn(*[mg.tensor(x, requires_grad=True) for x in xs])
        return
    ts = [mg.tensor(x, requires_grad=True) for x in xs]
    quiet = np.errstate(all="ignore") if (not finite and name in IEEE_WARNINGS_ON_NONFINITE) else np.errstate()
    with warnings.catch_warnings(), quiet:
        warnings.simplefilter("error")  # conftest already makes NumPy FP warnings errors
        y = fn(*ts)
        g = np.arange(1.0, y.data.size + 1).reshape(y.shape) if ref_grads is None else np.ones(y.shape)
        y.backward(g)
    np.testing.assert_allclose(y.data, _q(lambda: ref_value(*xs)), rtol=1e-12, atol=0, equal_nan=True)
    expected = _q(lambda: ref_grads(*xs)) if ref_grads else (
        _softmax_grads(xs[0], g) if name == "Softmax" else _log_softmax_grads(xs[0], g))
    for t, e in zip(ts, expected, strict=True):
        np.testing.assert_allclose(t.grad, np.broadcast_to(e, t.shape), rtol=1e-12, atol=1e-300, equal_nan=True)


# ----- the spectral ops and the fused recurrent steps (also in ALL_OPS) ----------------------
# Their NumPy reference is a decomposition (spectral) or their own composition from primitive
# ops (fused steps), whose edge values are checked above. A spectrum of a matrix holding inf or
# NaN is undefined: the spectral ops refuse it with a ValueError (np.linalg does too).
SPECTRAL = {
    "SpectralNorm": (lambda: ops.SpectralNorm(n_iter=2000), lambda w: np.linalg.svd(w, compute_uv=False)[:1].sum()),
    "NuclearNorm": (ops.NuclearNorm, lambda w: np.linalg.svd(w, compute_uv=False).sum()),
    "SpectralRadius": (ops.SpectralRadius, lambda w: np.abs(np.linalg.eigvals(w)).max()),
}


@pytest.mark.parametrize("name", sorted(SPECTRAL))
@given(data=st.data())
def test_spectral_ops_at_edge_values(name, data):
    make, reference = SPECTRAL[name]
    n = data.draw(st.integers(0 if name != "SpectralRadius" else 1, 3))
    W = data.draw(arrays(np.float64, (n, n), elements=st.sampled_from(EDGE)))
    t = mg.tensor(W, requires_grad=True)
    if not np.isfinite(W).all():
        with pytest.raises(ValueError, match="W must be finite"):
            apply_op(make(), t)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = apply_op(make(), t)
        y.backward()
    assert y.data == pytest.approx(reference(W) if n else 0.0, rel=1e-6, abs=1e-9)
    g = t.grad
    if np.isfinite(g).all():  # a (sub)gradient of a degree-1 homogeneous function: <g, W> = f(W)
        assert float(np.sum(g * W)) == pytest.approx(float(y.data), rel=1e-6, abs=1e-9)
    else:  # only at a defective eigenvalue, where rho is not differentiable (documented)
        assert name == "SpectralRadius" and np.isnan(g).all()


STEPS = {"RNNStep": ("rnn_tanh", "rnn_relu"), "LSTMStep": ("lstm",), "GRUStep": ("gru", "gru_cho")}
SEQUENCE = {"RNNSequenceStep": "RNNStep", "LSTMSequenceStep": "LSTMStep", "GRUSequenceStep": "GRUStep"}


@pytest.mark.parametrize("name", sorted(STEPS) + sorted(SEQUENCE))
@given(data=st.data())
def test_fused_steps_at_finite_edge_values_match_their_composition(name, data):
    """Zeros, ties and saturating values (1000) in every input; inf/NaN are not covered here."""
    kind = data.draw(st.sampled_from(STEPS[SEQUENCE.get(name, name)]))
    N, H = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    xs = draw_inputs(kind, N, H, data.draw(st.integers(0, 2**31 - 1)), data.draw(st.booleans()))
    for a in xs:
        edge = data.draw(arrays(np.float64, a.shape, elements=st.sampled_from(FINITE_EDGE)))
        where = data.draw(arrays(np.bool_, a.shape))
        a[where] = edge[where]
    if name in SEQUENCE:
        T = data.draw(st.integers(1, 3))
        t = data.draw(st.integers(0, T - 1))
        seq = np.zeros((T,) + xs[0].shape)
        seq[t] = xs[0]
        op, xs = make_step(kind, t)(), [seq] + xs[1:]
        reference = lambda xp, *rest: composed(kind)(xp[t], *rest)  # noqa: E731
    else:
        op, reference = make_step(kind)(), composed(kind)
    fused_in = [mg.tensor(a, requires_grad=True) for a in xs]
    plain_in = [mg.tensor(a, requires_grad=True) for a in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = apply_op(op, *fused_in)
        y.backward(np.ones(y.shape))
        r = reference(*plain_in)
        r.backward(np.ones(r.shape))
    np.testing.assert_allclose(y.data, r.data, rtol=1e-10, atol=1e-12)
    for a, b in zip(fused_in, plain_in, strict=True):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-9, atol=1e-9)


def test_step_outputs_at_edge_values_moves_them_unchanged():
    states = [np.array([[np.nan, np.inf, -0.0, 1000.0]]), np.array([[-np.inf, 0.0, 1.0, np.nan]])]
    buffer = np.empty((2, 1, 4))
    ts = [mg.tensor(s, requires_grad=True) for s in states]
    y = apply_op(StepOutputs(buffer, list(buffer), slice(0, 2)), *ts)
    np.testing.assert_array_equal(y.data, np.stack(states)[:, :, :2])
    y.backward(np.ones(y.shape))
    assert [t.grad.tolist() for t in ts] == [[[1.0, 1.0, 0.0, 0.0]]] * 2


EXTRA_STEPS = {op.__name__: op for op in EXTRA_STEP_OPS}


def _central_vjp(reference, xs, i, h=1e-7):
    """d sum(reference(*xs)) / d xs[i] by central differences (the upstream gradient is 1),
    Richardson-extrapolated over steps h and h/2: (4 D(h/2) - D(h)) / 3 cancels the h² term.

    Why: at an edge value the h² term can dominate. A LayerNorm step whose z is exactly 0
    with W_hh = 1000 has gradient 0 in h_t, but its sum of tanh is cubic there with a huge
    coefficient, and the plain central difference at h = 1e-7 reads -23.4."""

    # in long double (x86: 64-bit mantissa): with W_hh or beta at 1000, gamma·ẑ + beta = 1000 - 999.98
    # cancels three digits, and float64 differences read 0.039996 for a gradient of 0.0399816
    wide = [x.astype(np.longdouble) for x in xs]

    def central(step):
        g = np.zeros_like(xs[i])
        for k in np.ndindex(xs[i].shape):
            up, down = [x.copy() for x in wide], [x.copy() for x in wide]
            up[i][k] += step
            down[i][k] -= step
            with np.errstate(all="ignore"):  # the reference's naive sigmoid overflows at -1000
                g[k] = (reference(*up).sum() - reference(*down).sum()) / (2 * step)
        return g

    return (4 * central(h / 2) - central(h)) / 3


@pytest.mark.parametrize("name", sorted(EXTRA_STEPS))
@given(data=st.data())
def test_extra_fused_steps_at_finite_edge_values(name, data):
    """Zeros, ties and saturating values (1000) in every input: value as the NumPy formula,
    gradient as its central differences, no warning; inf/NaN are not covered here."""
    xs, reference = data.draw(step_inputs(EXTRA_STEPS[name]))
    for a in xs:
        edge = data.draw(arrays(np.float64, a.shape, elements=st.sampled_from(FINITE_EDGE)))
        where = data.draw(arrays(np.bool_, a.shape))
        a[where] = edge[where]
    ts = [mg.tensor(a, requires_grad=True) for a in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = apply_op(EXTRA_STEPS[name](), *ts)
        y.backward(np.ones(y.shape))
    np.testing.assert_allclose(y.data, _q(lambda: reference(*xs)), rtol=1e-10, atol=1e-12)
    for i, t in enumerate(ts):
        np.testing.assert_allclose(t.grad, _central_vjp(reference, xs, i), rtol=1e-5, atol=1e-5)
