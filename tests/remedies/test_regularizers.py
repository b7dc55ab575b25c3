"""Regularizer ops: vjp == J^T g, jacobian vs central differences, known values."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad
from minigrad.gradcheck import numerical_jacobian
from minigrad.nn.regularizers import (
    NuclearNorm,
    SpectralNorm,
    SpectralRadius,
    frobenius_penalty,
    nuclear_norm,
    nuclear_norm_penalty,
    spectral_norm,
    spectral_normalize,
    spectral_radius,
    spectral_radius_penalty,
)  # fmt: skip


def orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def well_separated(n, seed):
    """U diag(s) V^T with s_1 >= 1.6 s_2 and s_min >= 0.3: every op here is smooth at it."""
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0.3, 1.0, n))[::-1]
    s[0] = 1.6 * s[1] + rng.uniform(0, 1)
    return orthogonal(n, rng) @ np.diag(s) @ orthogonal(n, rng).T


def check_op(op_factory, W):
    """The three invariants every minigrad op is tested for, plus the function vs differences."""
    op = op_factory()
    y = op(W.copy())
    g = np.array(1.7)
    (vjp,) = op.vjp(g)
    J = op.jacobian(0)
    num = numerical_jacobian(lambda w: minigrad.tensor(op_factory()(w.data)), W).reshape(1, -1)
    np.testing.assert_allclose(J, num, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(vjp.ravel(), J.T @ g.ravel(), rtol=1e-12)
    return y


@given(st.integers(2, 5), st.integers(0, 10_000))
def test_spectral_norm_op(n, seed):
    W = well_separated(n, seed)
    y = check_op(lambda: SpectralNorm(n_iter=60), W)
    assert y == pytest.approx(np.linalg.svd(W, compute_uv=False)[0], rel=1e-10)


@given(st.integers(2, 5), st.integers(0, 10_000))
def test_nuclear_norm_op(n, seed):
    W = well_separated(n, seed)
    y = check_op(NuclearNorm, W)
    assert y == pytest.approx(np.linalg.svd(W, compute_uv=False).sum(), rel=1e-12)


@given(st.integers(2, 5), st.integers(0, 10_000))
def test_spectral_radius_op(n, seed):
    W = np.random.default_rng(seed).standard_normal((n, n))
    mods = np.sort(np.abs(np.linalg.eigvals(W)))[::-1]
    top = np.abs(np.linalg.eigvals(W))
    lam = np.linalg.eigvals(W)
    k = np.argmax(top)
    # differentiable: the top modulus belongs to one real eigenvalue or one conjugate pair
    pair = (lam[k], np.conj(lam[k]))
    others = [abs(v) for v in lam if not np.isclose(v, pair[0]) and not np.isclose(v, pair[1])]
    assume(not others or max(others) < 0.9 * mods[0])
    y = check_op(SpectralRadius, W)
    assert y == pytest.approx(mods[0], rel=1e-10)


def test_values_on_known_matrices():
    rng = np.random.default_rng(0)
    Q = orthogonal(4, rng)
    assert spectral_radius(minigrad.tensor(0.7 * Q)).item() == pytest.approx(0.7)
    assert spectral_norm(0.7 * Q).item() == pytest.approx(0.7)
    assert nuclear_norm(0.7 * Q).item() == pytest.approx(2.8)
    N = np.array([[0.5, 10.0], [0.0, 0.5]])  # non-normal: rho 0.5 but sigma_1 > 10
    assert spectral_radius(N).item() == pytest.approx(0.5)
    assert spectral_norm(N).item() > 10
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.ones((2, 3)))


@given(st.integers(0, 1000))
def test_penalties_gradients_vs_central_differences(seed):
    W0 = well_separated(3, seed)
    lam = np.linalg.eigvals(W0)
    others = sorted(np.abs(lam))[::-1]
    assume(others[0] - others[1] > 0.1 or np.iscomplex(lam).any())
    for f in (
        lambda w: frobenius_penalty(w, 0.3),
        lambda w: spectral_radius_penalty(w, target=0.2, weight=2.0),
        lambda w: nuclear_norm_penalty(w, 0.5),
        lambda w: (spectral_normalize(w) * minigrad.tensor(np.arange(9.0).reshape(3, 3))).sum(),
    ):
        W = minigrad.tensor(W0, requires_grad=True)
        f(W).backward()
        num = numerical_jacobian(f, W0)
        np.testing.assert_allclose(W.grad, num, rtol=1e-5, atol=1e-7)


def test_spectral_radius_penalty_is_zero_below_target_and_frobenius_is_2W():
    W = minigrad.tensor(0.5 * np.eye(3), requires_grad=True)
    p = spectral_radius_penalty(W, target=0.9)
    assert p.item() == 0.0
    W2 = minigrad.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    frobenius_penalty(W2, 0.5).backward()
    np.testing.assert_allclose(W2.grad, W2.data)


def test_spectral_normalize_has_unit_sigma1():
    W = well_separated(4, 3)
    Wn = spectral_normalize(W).data
    assert np.linalg.svd(Wn, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-10)
