r"""The spectral ops differentiated twice (``ops/spectral_derivatives.py``), in float64.

* Hypothesis: for $f(W) = \sigma_1(W)$, $\|W\|_*$, $\rho(W)$ composed into a scalar loss, ``mg.hvp``
  equals central differences of the gradient, and the Hessian from reverse over reverse equals
  forward over reverse (the derivative ops' ``jvp``) and is symmetric. Rectangular matrices for the
  SVD ops; for $\rho$, a real top eigenvalue or a complex pair $\lambda_1, \bar\lambda_1$.
* Each derivative op $D$: its ``jvp`` against central differences of $D$, and ``vjp == jvp`` (the
  Jacobian of a gradient is a Hessian: symmetric).
* Where the second derivative does not exist (ties, rank drop, defective or zero top eigenvalue)
  ``backward(create_graph=True)`` raises a ValueError naming the op and the condition.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.forward import push_tangents
from minigrad.ops.spectral_derivatives import PolarFactor, RadiusGradient, TopSingularOuter
from minigrad.tensor import apply_op

EPS = 1e-5


def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def svd_matrix(seed: int, m: int, n: int) -> np.ndarray:
    """U diag(s) Vᵀ, m × n, with s₁ ≥ 1.6 s₂ and s_min ≥ 0.3: σ₁ simple, full rank."""
    rng = np.random.default_rng(seed)
    r = min(m, n)
    s = np.sort(rng.uniform(0.3, 1.0, r))[::-1]
    s[0] = 1.6 * (s[1] if r > 1 else 0.5) + rng.uniform(0, 1)
    return _orthogonal(m, rng)[:, :r] @ np.diag(s) @ _orthogonal(n, rng)[:, :r].T


def eig_matrix(seed: int, n: int, pair: bool) -> np.ndarray:
    """V B V⁻¹ with B block diagonal: the top block λ₁ (real) or a rotation-scaling block (a
    complex pair of modulus r₁), the other eigenvalues real with modulus ≤ r₁/1.5."""
    rng = np.random.default_rng(seed)
    r1 = rng.uniform(1.0, 2.0) * rng.choice([-1.0, 1.0])
    B = np.diag(rng.uniform(-1.0, 1.0, n) * abs(r1) / 1.5)
    if pair:
        angle = rng.uniform(0.3, np.pi - 0.3)
        B[:2, :2] = abs(r1) * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    else:
        B[0, 0] = r1
    V = _orthogonal(n, rng) @ np.diag(rng.uniform(0.7, 1.0, n)) @ _orthogonal(n, rng)
    return V @ B @ np.linalg.inv(V)


@st.composite
def spectral_problem(draw):
    """(name, f, W): a scalar loss of one spectral op, and a matrix where it is twice differentiable."""
    seed = draw(st.integers(0, 2**31 - 1))
    name = draw(st.sampled_from(["SpectralNorm", "NuclearNorm", "SpectralRadius"]))
    if name == "SpectralRadius":
        pair = draw(st.booleans())
        W = eig_matrix(seed, draw(st.integers(2 if pair else 1, 4)), pair)
        make = ops.SpectralRadius
    else:
        W = svd_matrix(seed, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        make = (lambda: ops.SpectralNorm(n_iter=200)) if name == "SpectralNorm" else ops.NuclearNorm
    C = np.random.default_rng(seed + 1).standard_normal(W.shape)

    def f(w):
        y = apply_op(make(), w)
        return y * y + (w * C).sum() * y  # curves in y and couples it with W, so H ≠ c·∇²y

    return name, f, W


def flat_grad(f, W: np.ndarray) -> np.ndarray:
    w = mg.tensor(W, requires_grad=True)
    (g,) = mg.grad(f(w), [w])
    return np.ravel(g)


def forward_over_reverse(f, W: np.ndarray) -> np.ndarray:
    """Column k of H: the JVP of the recorded gradient along e_k (the derivative ops' ``jvp``)."""
    w = mg.tensor(W, requires_grad=True)
    (g,) = mg.grad(f(w), [w], create_graph=True)
    cols = []
    for k in range(W.size):
        e = np.zeros(W.size)
        e[k] = 1.0
        cols.append(np.ravel(push_tangents([g], {id(w): e.reshape(W.shape)})[id(g)]))
    return np.stack(cols, axis=1)


@settings(max_examples=60, deadline=None)
@given(problem=spectral_problem(), v_seed=st.integers(0, 2**31 - 1))
def test_hvp_of_spectral_ops_equals_central_differences_of_the_gradient(problem, v_seed):
    name, f, W = problem
    v = np.random.default_rng(v_seed).uniform(-1.0, 1.0, W.shape)
    _, hv = mg.hvp(f, W, v)
    numerical = (flat_grad(f, W + EPS * v) - flat_grad(f, W - EPS * v)) / (2 * EPS)
    np.testing.assert_allclose(np.ravel(hv), numerical, rtol=1e-5, atol=1e-6, err_msg=f"{name} hvp")
    H = np.reshape(mg.hessian(f, W), (W.size, W.size))
    np.testing.assert_allclose(H, H.T, rtol=1e-8, atol=1e-9, err_msg=f"{name} Hessian symmetry")
    np.testing.assert_allclose(H, forward_over_reverse(f, W), rtol=1e-8, atol=1e-9, err_msg=f"{name} fwd-over-rev")
    np.testing.assert_allclose(np.ravel(hv), H @ np.ravel(v), rtol=1e-8, atol=1e-9, err_msg=f"{name} hvp vs H v")


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["TopSingularOuter", "PolarFactor", "RadiusGradient"]),
    seed=st.integers(0, 2**31 - 1),
    m=st.integers(1, 4),
    n=st.integers(1, 4),
    pair=st.booleans(),
)
def test_derivative_ops_jvp_vs_central_differences_and_vjp_is_jvp(kind, seed, m, n, pair):
    if kind == "RadiusGradient":
        W, make = eig_matrix(seed, max(n, 2) if pair else n, pair), RadiusGradient
    else:
        W, make = svd_matrix(seed, m, n), (TopSingularOuter if kind == "TopSingularOuter" else PolarFactor)
    rng = np.random.default_rng(seed + 2)
    t, B = rng.uniform(-1.0, 1.0, W.shape), rng.uniform(-1.0, 1.0, W.shape)
    op = make()
    op(W)
    numerical = (make()(W + EPS * t) - make()(W - EPS * t)) / (2 * EPS)
    np.testing.assert_allclose(op.jvp(t), numerical, rtol=1e-5, atol=1e-6, err_msg=f"{kind} jvp")
    np.testing.assert_allclose(op.vjp(t)[0], op.jvp(t), rtol=1e-9, atol=1e-11, err_msg=f"{kind} vjp == jvp")
    assert np.sum(B * op.jvp(t)) == pytest.approx(np.sum(op.vjp(B)[0] * t), rel=1e-9, abs=1e-11)


REFUSED = [
    ("SpectralNorm", ops.SpectralNorm, np.diag([2.0, 2.0, 1.0]), "a simple top singular value"),
    ("SpectralNorm", ops.SpectralNorm, np.zeros((2, 3)), "a simple top singular value"),
    ("NuclearNorm", ops.NuclearNorm, np.array([[1.0, 2.0], [2.0, 4.0]]), "W of full rank"),
    ("NuclearNorm", ops.NuclearNorm, np.zeros((3, 2)), "W of full rank"),
    ("SpectralRadius", ops.SpectralRadius, np.diag([2.0, -2.0, 1.0]), "a simple top eigenvalue"),
    ("SpectralRadius", ops.SpectralRadius, np.array([[1.0, 1.0], [0.0, 1.0]]), "a simple top eigenvalue"),
    ("SpectralRadius", ops.SpectralRadius, np.zeros((2, 2)), "a simple top eigenvalue"),
]


@pytest.mark.parametrize(
    ("name", "make", "W", "condition"), REFUSED, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSED)]
)
def test_where_the_second_derivative_does_not_exist_create_graph_says_so(name, make, W, condition):
    w = mg.tensor(W, requires_grad=True)
    with pytest.raises(ValueError, match=f"differentiating {name} twice needs {condition}"):
        apply_op(make(), w).backward(create_graph=True)


def test_a_third_derivative_is_not_recorded_and_says_so():
    w = mg.tensor(svd_matrix(0, 3, 3), requires_grad=True)
    (g,) = mg.grad(apply_op(ops.NuclearNorm(), w), [w], create_graph=True)
    (h,) = mg.grad((g * g).sum(), [w], retain_graph=True)  # the second derivative: fine
    assert np.isfinite(h).all()
    with pytest.raises(NotImplementedError, match="PolarFactor cannot be differentiated twice"):
        mg.grad((g * g).sum(), [w], create_graph=True)  # a graph of the second: a third derivative
