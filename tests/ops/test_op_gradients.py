r"""One gradient test factory for every op in ``minigrad.ops.ALL_OPS`` (float64, Hypothesis).

For each op, a *spec* below says how to build it (axis / keepdims / index draws ...),
which inputs to draw (kept off the op's kinks), and the NumPy reference. The factory
then checks, on every drawn example:

1. forward == the NumPy reference;
2. ``vjp(g)`` with a random upstream $g$ == central differences of $\langle g, f(x)\rangle$;
3. ``vjp(g)[i] == jacobian(i).T @ g.ravel()`` (after folding broadcast axes);
4. the closed-form (or default) ``jacobian(i)`` == the numerical Jacobian;
5. the engine (``apply_op`` + ``backward``) gives the same gradient as ``vjp``;
6. the op modified none of its inputs.

and, for forward mode (``test_op_jvp``), with random tangents $t_i$ (None for some inputs):

7. ``jvp(*t) == sum_i jacobian(i) @ t_i`` (the closed-form or default Jacobian);
8. ``jvp(*t)`` == central differences along t, $(f(x + \epsilon t) - f(x - \epsilon t))/2\epsilon$;
9. the adjoint identity $\langle g, J t\rangle = \sum_i \langle J_i^\top g, t_i\rangle$ between ``vjp`` and ``jvp``.

``test_every_op_has_a_spec`` fails when an op is added to ``ALL_OPS`` without a spec, and
``test_every_op_has_a_jvp`` when it has no ``jvp`` of its own (or from ``Elementwise``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import ops
from minigrad.ops.base import dense_grad
from minigrad.tensor import apply_op
from minigrad.testing import (
    arrays,
    broadcastable_shapes,
    distinct_arrays,
    positive_arrays,
    shapes,
)  # fmt: skip
from tests.ops.more_specs import MORE_SPECS

EPS = 1e-6
ATOL, RTOL = 1e-6, 1e-5  # central differences in float64 agree to ~1e-9 on these inputs


@dataclass
class Case:
    """One drawn example: a fresh-op factory, the input arrays, and the NumPy reference."""

    make: Callable[[], ops.Op]
    inputs: list[np.ndarray]
    reference: Callable[..., np.ndarray]
    differentiable: tuple[int, ...]


def _all(n: int) -> tuple[int, ...]:
    return tuple(range(n))


# ----- specs: binary and elementwise ops (broadcasting exercised) ----------------------------
def binary(op_cls, reference, a_elems=None, b_elems=None):
    @st.composite
    def spec(draw):
        sa, sb = draw(broadcastable_shapes(2))
        a = draw(a_elems(sa) if a_elems else arrays(sa))
        b = draw(b_elems(sb) if b_elems else arrays(sb))
        return Case(op_cls, [a, b], reference, (0, 1))

    return spec()


def unary(op_cls, reference, elems=arrays, make=None):
    @st.composite
    def spec(draw):
        x = draw(elems(shapes()))
        return Case(make or op_cls, [x], reference, (0,))

    return spec()


@st.composite
def pow_spec(draw):
    sa, sb = draw(broadcastable_shapes(2))
    a = draw(positive_arrays(sa, min_value=0.5, max_value=2.0))  # ln a needs a > 0
    b = draw(arrays(sb, min_value=-2.0, max_value=2.0))
    return Case(ops.Pow, [a, b], np.power, (0, 1))


def max_min_pair(op_cls, reference):
    @st.composite
    def spec(draw):
        sa, sb = draw(broadcastable_shapes(2))
        # a on the lattice k/4, b on k/4 + 1/8: |a - b| >= 1/16, never a tie.
        a = draw(distinct_arrays(sa, spacing=0.25))
        b = draw(distinct_arrays(sb, spacing=0.25, offset=0.125))
        return Case(op_cls, [a, b], reference, (0, 1))

    return spec()


@st.composite
def where_spec(draw):
    sc, sa, sb = draw(broadcastable_shapes(3))
    cond = draw(hnp.arrays(bool, sc))
    return Case(ops.Where, [cond, draw(arrays(sa)), draw(arrays(sb))], np.where, (1, 2))


@st.composite
def clip_spec(draw):
    lo = draw(st.none() | st.floats(-2.0, 0.0))
    hi = draw(st.floats(0.5, 2.0) if lo is None else st.none() | st.floats(0.5, 2.0))
    kinks = [v for v in (lo, hi) if v is not None]
    x = draw(arrays(shapes(), away_from=kinks))
    return Case(lambda: ops.Clip(lo, hi), [x], lambda a: np.clip(a, lo, hi), (0,))


def _leaky(slope):
    return lambda a: np.where(a > 0, a, slope * a)


@st.composite
def leaky_spec(draw):
    slope = draw(st.sampled_from([0.01, 0.2, 1.5]))
    x = draw(arrays(shapes(), away_from=[0.0]))
    return Case(lambda: ops.LeakyReLU(slope), [x], _leaky(slope), (0,))


def _gelu_reference(approximate):
    def ref(x):
        if approximate == "tanh":
            inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + np.tanh(inner))
        import math

        return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]).reshape(
            x.shape
        )

    return ref


@st.composite
def gelu_spec(draw):
    approximate = draw(st.sampled_from(["none", "tanh"]))
    x = draw(arrays(shapes()))
    return Case(lambda: ops.GELU(approximate), [x], _gelu_reference(approximate), (0,))


# ----- matmul ----------------------------------------------------------------------------------
@st.composite
def matmul_spec(draw):
    m, k, p = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["1-1", "1-2", "2-1", "2-2", "3-2", "2-3", "3-3", "1-3", "3-1"]))
    batch_a = draw(st.sampled_from([(1,), (2,)]))
    batch_b = draw(st.sampled_from([(1,), (2,)]))
    left = {"1": (k,), "2": (m, k), "3": batch_a + (m, k)}[kind[0]]
    right = {"1": (k,), "2": (k, p), "3": batch_b + (k, p)}[kind[2]]
    return Case(ops.MatMul, [draw(arrays(left)), draw(arrays(right))], np.matmul, (0, 1))


# ----- reductions --------------------------------------------------------------------------------
@st.composite
def axis_draw(draw, ndim: int):
    """None, an int (maybe negative), or a tuple of distinct axes (maybe empty)."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def reduction(op_cls, reference, elems=arrays):
    @st.composite
    def spec(draw):
        x = draw(elems(shapes()))
        axis = draw(axis_draw(x.ndim))
        keepdims = draw(st.booleans())
        return Case(
            lambda: op_cls(axis, keepdims),
            [x],
            lambda a: reference(a, axis=axis, keepdims=keepdims),
            (0,),
        )

    return spec()


@st.composite
def var_spec(draw):
    x = draw(arrays(shapes()))
    axis = draw(axis_draw(x.ndim))
    keepdims = draw(st.booleans())
    axes = range(x.ndim) if axis is None else np.atleast_1d(np.array(axis, dtype=int))
    count = int(np.prod([x.shape[a] for a in axes]))
    ddof = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return Case(
        lambda: ops.Var(axis, ddof, keepdims),
        [x],
        lambda a: np.var(a, axis=axis, ddof=ddof, keepdims=keepdims),
        (0,),
    )


def _np_logsumexp(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else None)


def _np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_like(op_cls, log: bool):
    @st.composite
    def spec(draw):
        x = draw(arrays(shapes(min_dims=1)))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))

        def ref(a):
            s = _np_softmax(a, axis)
            return np.log(s) if log else s

        return Case(lambda: op_cls(axis), [x], ref, (0,))

    return spec()


# ----- shape ops ---------------------------------------------------------------------------------
@st.composite
def reshape_spec(draw):
    x = draw(arrays(shapes()))
    n = x.size
    target = draw(st.sampled_from([(n,), (-1,), x.shape[::-1], x.shape + (1,), (1, -1), ()]))
    if target == () and n != 1:
        target = (n, 1)
    return Case(lambda: ops.Reshape(target), [x], lambda a: np.reshape(a, target), (0,))


@st.composite
def transpose_spec(draw):
    x = draw(arrays(shapes()))
    perm = draw(st.none() | st.permutations(range(x.ndim)).map(tuple))
    if perm is not None and draw(st.booleans()):
        perm = tuple(a - x.ndim for a in perm)  # negative axes, as NumPy allows
    return Case(lambda: ops.Transpose(perm), [x], lambda a: np.transpose(a, perm), (0,))


@st.composite
def broadcast_to_spec(draw):
    target = draw(shapes(min_dims=1))
    kept = draw(st.integers(0, len(target)))
    in_shape = tuple(
        1 if draw(st.booleans()) else n for n in target[len(target) - kept :]
    )
    x = draw(arrays(in_shape))
    return Case(lambda: ops.BroadcastTo(target), [x], lambda a: np.broadcast_to(a, target), (0,))


@st.composite
def index_draw(draw, shape: tuple):
    """Basic indices (ints, slices with any step, None, ...), integer arrays, lists and tuples with
    repeats, index arrays mixed with basic parts, or boolean masks."""
    kinds = ["basic"] if len(shape) == 0 else ["basic", "int_array", "mask", "row_mask", "tuple_parts"]
    if len(shape) > 1:
        kinds += ["slice_and_int_array", "mixed"]
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "mask":
        return draw(hnp.arrays(bool, shape))
    if kind == "row_mask":
        return draw(hnp.arrays(bool, shape[:1]))
    if kind == "tuple_parts":  # W[rows, cols] with rows, cols = zip(*pairs): tuples (or lists) of ints
        k = draw(st.integers(1, len(shape)))
        pairs = draw(st.lists(st.tuples(*(st.integers(-n, n - 1) for n in shape[:k])), min_size=1, max_size=4))
        parts = tuple(zip(*pairs, pairs[0]))  # a repeated pick: its two gradients must add up
        return tuple(p if draw(st.booleans()) else list(p) for p in parts)
    if kind == "mixed":  # an index array among basic parts: negative steps, None, ...
        n = shape[-1]
        idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
        first = draw(st.sampled_from([slice(None, None, -1), slice(None, None, -2), None, Ellipsis, 0]))
        last = (*idx, idx[0])  # a tuple of ints on the last axis, one pick repeated
        return (Ellipsis, last) if first is Ellipsis else (first, Ellipsis, last)
    axis = 0 if kind == "int_array" else 1
    n = shape[axis]
    idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    idx = np.array([*idx, idx[0]])  # a repeated index: its two gradients must add up
    return idx if axis == 0 else (slice(None), idx)


@st.composite
def getitem_spec(draw):
    x = draw(arrays(shapes()))
    index = draw(index_draw(x.shape))
    return Case(lambda: ops.GetItem(index), [x], lambda a: a[index], (0,))


@st.composite
def concatenate_spec(draw):
    base = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(2, 3))
    xs = []
    for _ in range(count):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(s))))
    return Case(
        lambda: ops.Concatenate(axis), xs, lambda *a: np.concatenate(a, axis=axis), _all(count)
    )


@st.composite
def stack_spec(draw):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    count = draw(st.integers(2, 3))
    xs = [draw(arrays(shape)) for _ in range(count)]
    return Case(lambda: ops.Stack(axis), xs, lambda *a: np.stack(a, axis=axis), _all(count))


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


SPECS: dict[type, st.SearchStrategy[Case]] = {
    ops.Add: binary(ops.Add, np.add),
    ops.Sub: binary(ops.Sub, np.subtract),
    ops.Mul: binary(ops.Mul, np.multiply),
    ops.Div: binary(
        ops.Div, np.divide, b_elems=lambda s: arrays(s, away_from=[0.0], margin=0.5)
    ),
    ops.Neg: unary(ops.Neg, np.negative),
    ops.Pow: pow_spec(),
    ops.Maximum: max_min_pair(ops.Maximum, np.maximum),
    ops.Minimum: max_min_pair(ops.Minimum, np.minimum),
    ops.Where: where_spec(),
    ops.Exp: unary(ops.Exp, np.exp),
    ops.Log: unary(ops.Log, np.log, elems=positive_arrays),
    ops.Sqrt: unary(ops.Sqrt, np.sqrt, elems=positive_arrays),
    ops.Abs: unary(ops.Abs, np.abs, elems=lambda s: arrays(s, away_from=[0.0])),
    ops.Clip: clip_spec(),
    ops.Sigmoid: unary(ops.Sigmoid, _sigmoid),
    ops.Tanh: unary(ops.Tanh, np.tanh),
    ops.ReLU: unary(ops.ReLU, lambda a: np.maximum(a, 0), elems=lambda s: arrays(s, away_from=[0])),
    ops.LeakyReLU: leaky_spec(),
    ops.GELU: gelu_spec(),
    ops.MatMul: matmul_spec(),
    ops.Sum: reduction(ops.Sum, np.sum),
    ops.Mean: reduction(ops.Mean, np.mean),
    ops.Var: var_spec(),
    ops.Max: reduction(ops.Max, np.max, elems=distinct_arrays),
    ops.Min: reduction(ops.Min, np.min, elems=distinct_arrays),
    ops.LogSumExp: reduction(ops.LogSumExp, _np_logsumexp),
    ops.Softmax: softmax_like(ops.Softmax, log=False),
    ops.LogSoftmax: softmax_like(ops.LogSoftmax, log=True),
    ops.Reshape: reshape_spec(),
    ops.Transpose: transpose_spec(),
    ops.BroadcastTo: broadcast_to_spec(),
    ops.GetItem: getitem_spec(),
    ops.Concatenate: concatenate_spec(),
    ops.Stack: stack_spec(),
}
SPECS.update(MORE_SPECS)  # spectral ops and recurrent steps: tests/ops/more_specs.py


def test_every_op_has_a_jvp():
    missing = [op.__name__ for op in ops.ALL_OPS if op.jvp is ops.Op.jvp]
    assert not missing, f"ops in ALL_OPS without a jvp (forward mode): {missing}"


def test_every_op_has_a_spec():
    missing = [op.__name__ for op in ops.ALL_OPS if op not in SPECS]
    assert not missing, f"ops in ALL_OPS without a gradient-test spec: {missing}"
    stale = [op.__name__ for op in SPECS if op not in ops.ALL_OPS]
    assert not stale, f"specs for ops that are not in ALL_OPS: {stale}"


# ----- the factory -------------------------------------------------------------------------------
def _forward(case: Case, inputs: list[np.ndarray]) -> np.ndarray:
    return np.asarray(case.make()(*inputs), dtype=np.float64)


def numerical_jacobian(case: Case, i: int) -> np.ndarray:
    """Central differences of the op's own forward, column by column: (out.size, in_i.size)."""
    x = case.inputs[i]
    cols = []
    for j in range(x.size):
        ys = []
        for step in (EPS, -EPS):
            shifted = list(case.inputs)
            shifted[i] = x.copy()
            shifted[i].flat[j] += step
            ys.append(_forward(case, shifted).ravel())
        cols.append((ys[0] - ys[1]) / (2 * EPS))
    out_size = _forward(case, case.inputs).size
    return np.array(cols).T.reshape(out_size, x.size)


def assert_close(actual, expected, what: str, atol=ATOL, rtol=RTOL):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    bad = ~(np.abs(actual - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        j = np.unravel_index(int(np.argmax(bad)), actual.shape)
        raise AssertionError(
            f"{what}: at {tuple(map(int, j))} got {actual[j]!r}, expected {expected[j]!r} "
            f"({int(bad.sum())} of {bad.size} differ)"
        )


@pytest.mark.parametrize("op_cls", ops.ALL_OPS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_op_gradients(op_cls, data):
    if op_cls not in SPECS:
        pytest.fail(f"{op_cls.__name__} has no spec in SPECS")
    case = data.draw(SPECS[op_cls], label="case")
    originals = [x.copy() for x in case.inputs]

    # 1. forward against NumPy
    op = case.make()
    out = op(*case.inputs)
    assert isinstance(out, np.ndarray)
    with np.errstate(all="ignore"):
        expected = case.reference(*case.inputs)
    assert_close(out, expected, f"{op_cls.__name__} forward", atol=1e-12, rtol=1e-12)
    assert out.dtype == np.float64, f"{op_cls.__name__} forward gave {out.dtype} for float64 input"

    g = data.draw(arrays(out.shape, min_value=-2.0, max_value=2.0), label="grad_out")
    vjps = op.vjp(g)
    assert len(vjps) == len(case.inputs), f"{op_cls.__name__}.vjp must return one per input"

    # 5. the engine through apply_op: same gradients, via unbroadcast / IndexedGrad.
    tensors = [
        mg.Tensor(x, requires_grad=(i in case.differentiable)) for i, x in enumerate(case.inputs)
    ]
    y = apply_op(case.make(), *tensors)
    y.backward(g)

    for i, x in enumerate(case.inputs):
        v = dense_grad(vjps[i], x.shape)
        J = op.jacobian(i)
        assert J.shape == (out.size, x.size), f"jacobian({i}) shape {J.shape}"
        # 3. vjp == J^T g
        name = op_cls.__name__
        assert_close(v.ravel(), J.T @ g.ravel(), f"{name} vjp[{i}] vs jacobian({i}).T @ g",
                     atol=1e-10, rtol=1e-10)  # fmt: skip
        if i not in case.differentiable:  # e.g. where's condition: no gradient at all
            assert not np.any(v), f"{op_cls.__name__}: non-differentiable input {i} got a gradient"
            continue
        J_num = numerical_jacobian(case, i)
        # 2. vjp against central differences of <g, f(x)>
        assert_close(v.ravel(), J_num.T @ g.ravel(), f"{op_cls.__name__} vjp[{i}] vs central diff")
        # 4. jacobian against the numerical Jacobian
        assert_close(J, J_num, f"{op_cls.__name__} jacobian({i}) vs numerical")
        assert_close(tensors[i].grad, v, f"{op_cls.__name__} engine grad of input {i} vs vjp",
                     atol=1e-12, rtol=1e-12)  # fmt: skip
        assert tensors[i].grad.dtype == np.float64

    # 6. inputs untouched
    for i, (x, x0) in enumerate(zip(case.inputs, originals, strict=True)):
        assert np.array_equal(x, x0), f"{op_cls.__name__} modified input {i}"


@pytest.mark.parametrize("op_cls", ops.ALL_OPS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_op_jvp(op_cls, data):
    if op_cls not in SPECS:
        pytest.fail(f"{op_cls.__name__} has no spec in SPECS")
    case = data.draw(SPECS[op_cls], label="case")
    name = op_cls.__name__
    originals = [x.copy() for x in case.inputs]
    op = case.make()
    out = op(*case.inputs)
    given_t = [i in case.differentiable and data.draw(st.booleans(), label=f"tangent {i}?")
               for i in range(len(case.inputs))]  # fmt: skip
    if not any(given_t):  # at least one input has a tangent
        given_t[case.differentiable[0]] = True
    tangents = [data.draw(arrays(x.shape, min_value=-2.0, max_value=2.0), label=f"t{i}") if given_t[i] else None
                for i, x in enumerate(case.inputs)]  # fmt: skip
    jt = np.asarray(op.jvp(*tangents))  # a 0-d result may come back as a NumPy scalar, as forward's does
    assert jt.shape == out.shape, f"{name}.jvp gave shape {jt.shape}, want {out.shape}"
    assert jt.dtype == np.float64, f"{name}.jvp gave {jt.dtype} for float64 input"
    # 7. jvp == sum_i J_i t_i
    expected = sum(op.jacobian(i) @ t.ravel() for i, t in enumerate(tangents) if t is not None)
    assert_close(jt.ravel(), expected, f"{name} jvp vs sum_i jacobian(i) @ t_i", atol=1e-10, rtol=1e-10)
    # 8. central differences along t
    moved = [[x if t is None else x + s * t for x, t in zip(case.inputs, tangents, strict=True)] for s in (EPS, -EPS)]
    numeric = (_forward(case, moved[0]) - _forward(case, moved[1])) / (2 * EPS)
    assert_close(jt, numeric, f"{name} jvp vs central differences along t")
    # 9. <g, J t> == sum_i <J_i^T g, t_i>
    g = data.draw(arrays(out.shape, min_value=-2.0, max_value=2.0), label="g")
    vjps = op.vjp(g)
    right = sum(np.sum(dense_grad(vjps[i], x.shape) * t)
                for i, (x, t) in enumerate(zip(case.inputs, tangents, strict=True)) if t is not None)  # fmt: skip
    assert abs(np.sum(g * jt) - right) <= 1e-10 * (1 + abs(right)), f"{name}: <g, Jt> != <J^T g, t>"
    for i, (x, x0) in enumerate(zip(case.inputs, originals, strict=True)):
        assert np.array_equal(x, x0), f"{name}.jvp modified input {i}"
