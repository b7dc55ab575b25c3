r"""Hypothesis strategies and a gradient assertion, for minigrad's tests and for yours.

A gradient is only as trustworthy as the test that checks it. The check used
throughout minigrad compares autograd with **central differences**,

$$\frac{\partial \phi}{\partial x_j} \approx
\frac{\phi(x + \epsilon e_j) - \phi(x - \epsilon e_j)}{2\epsilon},
\qquad \phi(x) = \langle g,\, f(x) \rangle,$$

for a random upstream gradient $g$, on many random inputs drawn by Hypothesis.
Two things make such a test meaningful:

* **float64** inputs (in float32 the finite difference itself is noisy at ~1e-3);
* inputs **away from kinks**: ``relu`` at 0, ``abs`` at 0, ``max`` where two elements
  tie, ``clip`` at its bounds. There the function has no derivative, and the finite
  difference straddles the kink and measures the average of two slopes.

Example (a student's own op, tested the way minigrad tests its own)::

    from hypothesis import given
    import minigrad as mg
    from minigrad.testing import arrays, assert_gradients_match

    @given(arrays(away_from=[0.0]))
    def test_my_abs(x):
        assert_gradients_match(lambda t: mg.abs(t) * 2.0, [x])

This module needs Hypothesis (``pip install hypothesis``); ``import minigrad`` alone does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.autodiff import grad as _grad
from minigrad.engine import no_grad
from minigrad.forward import jvp
from minigrad.tensor import Tensor

__all__ = [
    "shapes", "broadcastable_shapes", "floats", "arrays", "positive_arrays",
    "distinct_arrays", "assert_gradients_match", "central_jvp", "assert_jvp_matches",
]  # fmt: skip

ShapeLike = tuple[int, ...]


# ----- shapes -----------------------------------------------------------------------------
def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3
) -> st.SearchStrategy[ShapeLike]:
    """Array shapes such as ``()``, ``(3,)``, ``(2, 1, 3)``: small, so tests stay fast.

    ``min_side=1`` by default: empty arrays are legal but rarely what a gradient test is about.
    """
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 3
) -> st.SearchStrategy[tuple[ShapeLike, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together, e.g. ``((2, 1, 3), (3,))``.

    Use these to test that an op's gradient is summed back over broadcast axes.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


# ----- values -----------------------------------------------------------------------------
def _push_away(v: float, kinks: tuple[float, ...], margin: float) -> float:
    for k in kinks:
        if abs(v - k) < margin:
            return k + margin if v >= k else k - margin
    return v


def floats(
    min_value: float = -3.0,
    max_value: float = 3.0,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
) -> st.SearchStrategy[float]:
    """Finite floats in ``[min_value, max_value]``, at least ``margin`` from each of ``away_from``.

    A value that lands within ``margin`` of a kink is moved to ``kink ± margin`` (so
    a draw just outside ``[min_value, max_value]`` is possible next to a kink at an end).
    ``margin`` must be much larger than the finite-difference step (1e-6).
    """
    kinks = tuple(float(k) for k in away_from)
    base = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    if not kinks:
        return base
    return base.map(lambda v: _push_away(v, kinks, margin))


def _shape_strategy(shape) -> st.SearchStrategy[ShapeLike]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    return st.just(tuple(shape))


def arrays(
    shape: ShapeLike | st.SearchStrategy[ShapeLike] | None = None,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
    dtype=np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``shape`` (a tuple, a strategy of shapes, or None for :func:`shapes`).

    Elements come from :func:`floats`; ``away_from=[0.0]`` keeps them off ReLU's kink.
    """
    elements = floats(min_value, max_value, away_from, margin)
    if np.dtype(dtype) == np.float32:
        elements = elements.map(lambda v: float(np.float32(v)))
    return hnp.arrays(dtype=dtype, shape=_shape_strategy(shape), elements=elements)


def positive_arrays(
    shape: ShapeLike | st.SearchStrategy[ShapeLike] | None = None,
    *,
    min_value: float = 0.1,
    max_value: float = 3.0,
    dtype=np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays with elements in ``[min_value, max_value]``, ``min_value > 0``: for log and sqrt.

    Stay well away from 0: near it $1/x$ is huge and central differences lose accuracy.
    """
    if min_value <= 0:
        raise ValueError(f"positive_arrays: min_value must be > 0, got {min_value}")
    return arrays(shape, min_value=min_value, max_value=max_value, dtype=dtype)


@st.composite
def distinct_arrays(
    draw,
    shape: ShapeLike | st.SearchStrategy[ShapeLike] | None = None,
    *,
    spacing: float = 0.25,
    offset: float = 0.0,
    max_abs: float = 3.0,
) -> np.ndarray:
    r"""Arrays whose elements all differ by at least ``spacing / 2``: no ties for max / min.

    Elements are distinct lattice points $k \cdot \text{spacing} + \text{offset}$ plus a jitter
    below ``spacing / 4``. Two such arrays with offsets 0 and ``spacing / 2`` never share
    a value either (use that for ``maximum(a, b)``). Values lie within about ``max_abs``
    unless the shape has more elements than that range has lattice points.
    """
    shp = draw(_shape_strategy(shape))
    n = int(np.prod(shp))
    half = max(int(max_abs / spacing), n // 2)  # enough distinct lattice points for n elements
    ks = draw(st.lists(st.integers(-half, half), min_size=n, max_size=n, unique=True))
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, spacing / 4)))
    return (np.array(ks, dtype=np.float64) * spacing + offset + jitter).reshape(shp)


# ----- the assertion ------------------------------------------------------------------------
def _is_differentiable(x) -> bool:
    if isinstance(x, Tensor):
        return x.requires_grad
    return np.asarray(x).dtype.kind == "f"


def _central_vjp(
    f: Callable, arrays_in: list[np.ndarray], i: int, g: np.ndarray, eps: float
) -> np.ndarray:
    r"""$\partial \langle g, f \rangle / \partial x_i$ by central differences."""
    x = arrays_in[i]
    out = np.zeros(x.shape, dtype=np.float64)
    with no_grad():
        for j in range(x.size):
            values = []
            for step in (eps, -eps):
                shifted = list(arrays_in)
                shifted[i] = x.copy()
                shifted[i].flat[j] += step
                y = f(*[Tensor(a, dtype=a.dtype) for a in shifted])
                values.append(float(np.sum(np.asarray(y.data, dtype=np.float64) * g)))
            out.flat[j] = (values[0] - values[1]) / (2 * eps)
    return out


def _assert_close(actual, expected: np.ndarray, atol: float, rtol: float, what: str, method: str, settings: str = ""):
    """Raise AssertionError at the first element failing ``|a - e| <= atol + rtol |e|`` (NaN fails):
    ``what`` it is, both values (``method``'s and the central difference's), and how many elements fail."""
    bad = ~(np.abs(actual - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        j = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise AssertionError(
            f"{what} at element {tuple(map(int, j))}: {method} {float(actual[j])!r} vs central difference "
            f"{float(expected[j])!r} ({int(bad.sum())} of {bad.size} elements differ{settings})"
        )


def assert_gradients_match(
    f: Callable[..., Tensor],
    inputs: Sequence,
    grad_output: np.ndarray | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> None:
    r"""Assert that autograd's gradients of ``f`` match central differences, for every float input.

    ``f(*tensors)`` must return a Tensor. ``inputs`` are arrays or tensors; float arrays
    (and tensors with ``requires_grad=True``) are differentiated, everything else
    (integer or boolean arrays, tensors without ``requires_grad``) is passed as a constant.

    The quantity checked is the vector-Jacobian product $J_i^\top g$ for each input
    $i$, with upstream gradient ``grad_output`` $= g$ (default: 1 for a one-element
    output, else a fixed pseudo-random array: an all-ones $g$ would hide errors that
    cancel in a sum). Element $j$ passes when
    $|\text{autograd}_j - \text{numerical}_j| \le \text{atol} + \text{rtol}\,|\text{numerical}_j|$.
    It also checks that ``f`` did not modify its inputs.

    On failure it raises ``AssertionError`` naming the input, the first bad element,
    both values, and how many elements disagree.
    """
    arrays_in = [np.array(getattr(x, "data", x)) for x in inputs]
    originals = [a.copy() for a in arrays_in]
    wrt = [i for i, x in enumerate(inputs) if _is_differentiable(x)]
    if not wrt:
        raise ValueError("assert_gradients_match: no input is a float array or requires grad")
    tensors = [Tensor(a, requires_grad=(i in wrt)) for i, a in enumerate(arrays_in)]
    out = f(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"assert_gradients_match: f must return a Tensor, got {type(out).__name__}")
    if grad_output is None:
        if out.size == 1:
            g = np.ones(out.shape)
        else:
            g = np.random.default_rng(0).normal(size=out.shape)
    else:
        g = np.asarray(grad_output, dtype=np.float64)
        if g.shape != out.shape:
            raise ValueError(
                f"assert_gradients_match: grad_output must have the output's shape {out.shape}, "
                f"got {g.shape}"
            )
    if out.requires_grad:
        analytic = _grad(out, [tensors[i] for i in wrt], grad_outputs=g.astype(out.dtype), materialize_grads=True)
    else:  # f ignores its inputs (or cut the graph): autograd says every gradient is 0
        analytic = tuple(np.zeros(arrays_in[i].shape) for i in wrt)
    for i, a in zip(wrt, analytic, strict=True):
        numeric = _central_vjp(f, arrays_in, i, g, eps)
        a = np.asarray(a, dtype=np.float64)
        if a.shape != numeric.shape:
            raise AssertionError(
                f"gradient of input {i} has shape {a.shape}, "
                f"expected the input's shape {numeric.shape}"
            )
        what = f"gradient mismatch for input {i} (shape {a.shape})"
        _assert_close(a, numeric, atol, rtol, what, "autograd", f"; eps={eps}, atol={atol}, rtol={rtol}")
    for i, (t, before) in enumerate(zip(tensors, originals, strict=True)):
        now = t.data
        if not np.array_equal(now, before, equal_nan=True):
            raise AssertionError(f"f modified its input {i} in place")


# ----- forward mode -------------------------------------------------------------------------
def central_jvp(f: Callable, arrays_in: Sequence[np.ndarray], tangents: Sequence, eps: float = 1e-6) -> np.ndarray:
    r"""$J_f t \approx (f(x + \epsilon t) - f(x - \epsilon t)) / 2\epsilon$: two calls of ``f``, any number of inputs.

    ``tangents`` has one entry per input (None: that input is held fixed).
    """
    with no_grad():
        ys = []
        for step in (eps, -eps):
            moved = [a if t is None else a + step * np.asarray(t) for a, t in zip(arrays_in, tangents, strict=True)]
            ys.append(np.asarray(f(*[Tensor(a, dtype=a.dtype) for a in moved]).data, dtype=np.float64))
    return (ys[0] - ys[1]) / (2 * eps)


def assert_jvp_matches(
    f: Callable[..., Tensor], inputs: Sequence, tangents: Sequence, *, eps: float = 1e-6,
    atol: float = 1e-6, rtol: float = 1e-5,
) -> None:  # fmt: skip
    r"""Assert that ``minigrad.jvp(f, inputs, tangents)`` matches :func:`central_jvp` (float64 inputs)."""
    arrays_in = [np.array(getattr(x, "data", x), dtype=np.float64) for x in inputs]
    _, analytic = jvp(f, arrays_in, [np.asarray(t, dtype=np.float64) for t in tangents])
    numeric = central_jvp(f, arrays_in, tangents, eps)
    _assert_close(analytic, numeric, atol, rtol, "jvp mismatch", "forward mode")
