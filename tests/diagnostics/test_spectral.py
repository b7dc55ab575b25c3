"""Spectral tools on matrices whose spectra are known in closed form."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import tensor
from minigrad.diagnostics import (
    condition_number,
    effective_horizon,
    instability_threshold,
    lyapunov_exponent,
    memory_span,
    power_iteration,
    singular_values,
    spectral_radius,
)  # fmt: skip


def haar_orthogonal(n, seed):
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@given(st.integers(2, 8), st.floats(0.1, 3.0), st.integers(0, 10_000))
def test_scaled_orthogonal_has_radius_gamma_and_condition_one(n, gamma, seed):
    W = gamma * haar_orthogonal(n, seed)
    assert spectral_radius(W) == pytest.approx(gamma, rel=1e-10)
    np.testing.assert_allclose(singular_values(W), np.full(n, gamma), rtol=1e-10)
    assert condition_number(W) == pytest.approx(1.0, rel=1e-10)
    sigma, u, v = power_iteration(W, n_iter=3)
    assert sigma == pytest.approx(gamma, rel=1e-10)  # all singular values are the top one


@given(st.lists(st.floats(-5, 5).filter(lambda x: abs(x) > 1e-3), min_size=2, max_size=6),
       st.integers(0, 10_000))
def test_known_eigenvalues_and_singular_values(diag, seed):
    """W = Q diag(d) Q^T: eigenvalues d, singular values |d| (sorted), kappa = max|d| / min|d|."""
    d = np.array(diag)
    Q = haar_orthogonal(len(d), seed)
    W = Q @ np.diag(d) @ Q.T
    assert spectral_radius(W) == pytest.approx(np.abs(d).max(), rel=1e-9)
    np.testing.assert_allclose(singular_values(W), np.sort(np.abs(d))[::-1], rtol=1e-9, atol=1e-12)
    assert condition_number(W) == pytest.approx(np.abs(d).max() / np.abs(d).min(), rel=1e-8)


def test_spectral_radius_differs_from_norm_for_nonnormal():
    W = np.array([[0.5, 10.0], [0.0, 0.5]])
    assert spectral_radius(tensor(W)) == pytest.approx(0.5)
    assert singular_values(W)[0] > 10
    assert condition_number(np.array([[1.0, 0.0], [0.0, 0.0]])) == math.inf


@given(st.integers(0, 10_000))
def test_power_iteration_matches_svd(seed):
    rng = np.random.default_rng(seed)
    U = haar_orthogonal(5, seed)
    V = haar_orthogonal(4, seed + 1)[:, :4]
    s = np.array([3.0, 1.5, 1.0, 0.2])  # gap 2x: error ~ 0.5^(2k)
    W = U[:, :4] @ np.diag(s) @ V.T
    sigma, u, v = power_iteration(W, n_iter=40, u=rng.standard_normal(5))
    assert sigma == pytest.approx(3.0, rel=1e-10)
    np.testing.assert_allclose(W @ v, sigma * u, atol=1e-9)
    np.testing.assert_allclose(W.T @ u, sigma * v, atol=1e-9)


@pytest.mark.parametrize("W, want", [([[1.0, 1.0], [-1.0, -1.0]], 2.0), ([[1.0, -1.0], [0.0, 0.0]], 2 ** 0.5),
                                      ([[0.0, 0.0], [0.0, 0.0]], 0.0)])  # fmt: skip
def test_power_iteration_from_a_start_orthogonal_to_the_range(W, want):
    # the default start (all ones) is orthogonal to the first W's range: it once gave sigma = 0 for sigma_1 = 2
    sigma, u, v = power_iteration(np.array(W), n_iter=5)
    assert sigma == pytest.approx(want, rel=1e-12, abs=0)


def test_power_iteration_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_iter"):
        power_iteration(np.eye(2), n_iter=0)
    with pytest.raises(ValueError, match="u must have shape"):
        power_iteration(np.eye(3), u=np.ones(2))
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.ones((2, 3)))
    with pytest.raises(ValueError, match="matrix"):
        singular_values(np.ones(3))


@given(st.floats(0.2, 2.0), st.integers(1, 40), st.integers(0, 1000))
def test_lyapunov_of_scaled_orthogonal_is_log_gamma_both_ways(gamma, T, seed):
    Js = np.stack([gamma * haar_orthogonal(4, seed + t) for t in range(T)])
    assert lyapunov_exponent(Js, method="max") == pytest.approx(math.log(gamma), abs=1e-10)
    seed_def = lyapunov_exponent(Js, method="mean_log_norm")
    assert seed_def == pytest.approx(math.log(gamma), abs=1e-10)


def test_lyapunov_definitions_differ_for_nonnormal_jacobians():
    J = np.array([[0.5, 10.0], [0.0, 0.5]])
    Js = np.stack([J] * 400)
    seed_def = lyapunov_exponent(Js, method="mean_log_norm")
    maximal = lyapunov_exponent(Js, method="max")
    assert seed_def == pytest.approx(math.log(np.linalg.norm(J, 2)))
    assert seed_def > 2.3  # "explodes"
    # J^T = 0.5^T [[1, 20 T], [0, 1]]: lambda_1 = log 0.5 + O(log T / T)
    T = 400
    M = np.linalg.matrix_power(J / 0.5, T)
    exact = math.log(np.linalg.norm(M @ np.ones(2) / math.sqrt(2))) / T
    assert maximal == pytest.approx(math.log(0.5) + exact, abs=1e-9)
    assert maximal < 0  # the product vanishes


def test_lyapunov_batched_and_errors():
    Js = np.stack([np.stack([0.5 * np.eye(3), 2.0 * np.eye(3)])] * 5)  # (T=5, N=2, 3, 3)
    np.testing.assert_allclose(lyapunov_exponent(Js), [math.log(0.5), math.log(2.0)])
    with pytest.raises(ValueError, match="method"):
        lyapunov_exponent(Js, method="bogus")
    with pytest.raises(ValueError, match=r"\(T, S, S\)"):
        lyapunov_exponent(np.ones((3, 2)))


def test_time_scales():
    assert memory_span(0.9) == pytest.approx(9.4912, abs=1e-4)  # "about 9.5 steps", the figure usually quoted
    assert effective_horizon(0.9, 1e-8) == pytest.approx(math.log(1e-8) / math.log(0.9))
    assert 0.9 ** effective_horizon(0.9, 1e-3) == pytest.approx(1e-3)
    assert effective_horizon(1.0, 1e-3) == math.inf
    assert memory_span(1.2) == math.inf
    tau = instability_threshold(1.5, grad_norm0=2.0, dtype=np.float32)
    assert 2.0 * 1.5**tau == pytest.approx(float(np.finfo(np.float32).max), rel=1e-9)
    assert instability_threshold(1.5, dtype=np.float64) > instability_threshold(1.5)
    assert instability_threshold(0.99) == math.inf
    with pytest.raises(ValueError, match="rho"):
        memory_span(0.0)
    with pytest.raises(ValueError, match="eps"):
        effective_horizon(0.5, 2.0)
    with pytest.raises(TypeError, match="rho"):
        memory_span("0.9")
