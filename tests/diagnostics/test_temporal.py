"""gamma_tau, EGF, gradient entropy and SNR on cases with known answers."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.diagnostics import gradient_entropy, gradient_snr, temporal_gradient_profile


def orthogonal(n, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@given(st.floats(0.5, 1.2), st.integers(1, 25), st.integers(0, 1000))
def test_linear_rnn_gamma_decays_as_rho_to_the_tau(rho, T, seed):
    """h_{t+1} = rho Q h_t, L = c . h_T: dL/dh_{T-tau} = (rho Q^T)^tau c, norm rho^tau |c|."""
    rng = np.random.default_rng(seed)
    W = minigrad.tensor(rho * orthogonal(4, seed))
    h = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    states = [h]
    for _ in range(T):
        h = h @ W.T
        h.retain_grad()
        states.append(h)
    c = rng.standard_normal((3, 4))
    (h * c).sum().backward()
    adjoints = np.stack([s.grad for s in states])
    gamma, egf = temporal_gradient_profile(adjoints)
    taus = np.arange(T + 1)
    np.testing.assert_allclose(egf, rho**taus, rtol=1e-10)
    np.testing.assert_allclose(gamma, np.linalg.norm(c, axis=1).mean() * rho**taus, rtol=1e-10)


def test_profile_rho_0_9_explicit():
    """The issue's example: rho = 0.9, gamma_tau / gamma_0 = 0.9^tau (tau = 0..50)."""
    Q = orthogonal(6, 0)
    g = np.random.default_rng(1).standard_normal((2, 6))
    adj = [g]
    for _ in range(50):
        adj.append(adj[-1] @ (0.9 * Q))  # delta_t = J^T delta_{t+1}, J = 0.9 Q
    adjoints = np.stack(adj[::-1])  # index t = 0..T
    _, egf = temporal_gradient_profile(adjoints)
    np.testing.assert_allclose(egf, 0.9 ** np.arange(51), rtol=1e-12)
    gamma1, _ = temporal_gradient_profile(adjoints[:, 0])  # unbatched (T+1, S)
    assert gamma1[3] == pytest.approx(np.linalg.norm(g[0]) * 0.9**3)


def test_profile_errors_and_zero():
    with pytest.raises(ValueError, match="adjoints"):
        temporal_gradient_profile(np.ones(3))
    _, egf = temporal_gradient_profile(np.zeros((3, 2)))
    assert np.isnan(egf).all()


@given(st.integers(1, 50))
def test_entropy_of_uniform_is_log_n(n):
    g = np.full(n, -0.3)
    assert gradient_entropy(g) == pytest.approx(math.log(n))
    assert gradient_entropy([g[: n // 2 + 1], g[n // 2 + 1 :]]) == pytest.approx(math.log(n))
    if n > 1:
        assert gradient_entropy(g, normalize=True) == pytest.approx(1.0)


def test_entropy_known_values():
    assert gradient_entropy(np.array([0.0, 5.0, 0.0])) == 0.0
    # p = (1/4, 3/4)
    expected = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert gradient_entropy(minigrad.tensor([1.0, -3.0])) == pytest.approx(expected)
    with pytest.raises(ValueError, match="zero"):
        gradient_entropy(np.zeros(4))


def test_snr_known_values():
    # g = m + noise with noise in {+e, -e}: E[g] = m, Var = |e|^2
    m = np.array([3.0, 4.0])
    e = np.array([1.0, 0.0])
    assert gradient_snr(np.stack([m + e, m - e])) == pytest.approx(25.0)
    assert gradient_snr([m + e, m - e], ddof=1) == pytest.approx(12.5)
    assert gradient_snr(np.stack([m, m])) == math.inf
    with pytest.raises(ValueError, match="B"):
        gradient_snr(np.ones(3))


@given(st.integers(0, 1000), st.floats(0.1, 10))
def test_snr_scale_invariant_and_matches_formula(seed, scale):
    G = np.random.default_rng(seed).standard_normal((6, 3, 2)) + 0.5
    snr = gradient_snr(G)
    flat = G.reshape(6, -1)
    mean = flat.mean(0)
    assert snr == pytest.approx(mean @ mean / ((flat - mean) ** 2).sum(1).mean())
    assert gradient_snr(scale * G) == pytest.approx(snr)
