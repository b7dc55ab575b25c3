"""Numbers quoted in docs/THEORY.md's section "Where the textbook account is wrong or loose" that no
demo prints: each is computed here (float64, fixed seeds) and checked. Run with ``-s`` to print them."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.extra_cells import HighwayRNNCell
from minigrad.nn.recurrent_init import retention_logit


def test_non_normal_W_approaches_rho_slowly():
    # W = rho I + a N (N nilpotent shift): rho(W) = 0.9 but ||W^k||_2^(1/k) reaches it only as k grows
    n, rho, a = 8, 0.9, 1.0
    W = rho * np.eye(n) + a * np.eye(n, k=1)
    assert max(abs(np.linalg.eigvals(W))) == pytest.approx(rho)
    growth = {k: np.linalg.norm(np.linalg.matrix_power(W, k), 2) ** (1 / k) for k in (1, 10, 50, 1000)}
    print("non-normal ||W^k||^(1/k):", {k: round(v, 4) for k, v in growth.items()})
    norm50 = np.linalg.norm(np.linalg.matrix_power(W, 50), 2)
    print(f"||W^50||_2 = {norm50:.3g} against rho^50 = {rho ** 50:.3g}")
    assert growth[1] > 1.5 and growth[10] > 1.2  # ||W^k|| grows for 10 steps although rho < 1
    assert norm50 > 1e4 * rho**50
    # ... and approaches rho only asymptotically: still 0.037 above it after 1000 steps
    assert growth[10] > growth[50] > growth[1000] > rho
    assert growth[1000] - rho < 0.05
    # the figures THEORY T2 quotes: 1.87, 1.82, 1.32, 0.937; 1.1e6 against 0.005
    assert [round(growth[k], 2) for k in (1, 10, 50)] == [1.87, 1.82, 1.32] and round(growth[1000], 3) == 0.937
    assert f"{norm50:.2g}" == "1.1e+06" and round(rho**50, 3) == 0.005
    # a normal matrix with the same spectrum: ||W^k||^(1/k) = rho for every k
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(n, n)))[0]
    assert np.linalg.norm(np.linalg.matrix_power(rho * Q, 10), 2) ** 0.1 == pytest.approx(rho)


def test_xavier_square_matrix_has_spectral_norm_two_and_rms_singular_value_one():
    mg.manual_seed(0)
    for n in (128, 512):
        W = nn.Parameter(np.empty((n, n)))
        nn.init.xavier_uniform_(W)
        s = np.linalg.svd(W.data, compute_uv=False)
        rms = math.sqrt(np.mean(s**2))
        print(f"Xavier {n}x{n}: ||W||_2 = {s[0]:.3f}, RMS singular value = {rms:.3f}, "
              f"product over 30 layers ~ {s[0] ** 30:.2g}")
        assert s[0] == pytest.approx(2.0, abs=0.08)  # Marchenko-Pastur edge: 2 sigma sqrt(n) = 2
        assert rms == pytest.approx(1.0, abs=0.02)
        if n == 512:  # THEORY T3: 1.985, RMS 1.000, product over 30 layers ~ 1e9
            assert round(s[0], 3) == 1.985 and round(rms, 3) == 1.0 and round(math.log10(s[0] ** 30)) == 9


def test_residual_jacobian_is_a_product_not_a_sum():
    rng = np.random.default_rng(0)
    n, T = 16, 30
    Js = [rng.normal(0, 0.1 / math.sqrt(n), (n, n)) for _ in range(T)]
    prod = np.eye(n)
    for J in Js:
        prod = (np.eye(n) + J) @ prod
    total = np.eye(n) + sum(Js)
    rel = np.linalg.norm(prod - total, 2) / np.linalg.norm(prod, 2)
    print(f"residual: ||prod(I + J) - (I + sum J)|| / ||prod|| = {rel:.3f}, "
          f"||prod(I + J)||_2 = {np.linalg.norm(prod, 2):.3f}")
    assert rel > 0.1
    assert round(rel, 2) == 0.24  # THEORY T4(a)


def test_highway_jacobian_needs_the_gate_term():
    mg.manual_seed(0)
    H = 6
    cell = HighwayRNNCell(3, H)
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(1, 3)), rng.normal(size=(1, H))

    def f(hv):
        with mg.no_grad():
            return cell(mg.tensor(x), mg.tensor(hv[None])).data[0]

    eps = 1e-6
    numeric = np.stack([(f(h[0] + eps * e) - f(h[0] - eps * e)) / (2 * eps) for e in np.eye(H)], axis=1)
    Wih, Whh, b = cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data + cell.bias_hh.data
    a = x[0] @ Wih.T + h[0] @ Whh.T + b
    a_h, a_T = a[:H], a[H:]
    Tg, ht = 1 / (1 + np.exp(-a_T)), np.tanh(a_h)
    dht = (1 - ht**2)[:, None] * Whh[:H]
    dT = (Tg * (1 - Tg))[:, None] * Whh[H:]
    full = Tg[:, None] * dht + np.diag(1 - Tg) + (ht - h[0])[:, None] * dT
    dropped = Tg[:, None] * dht + np.diag(1 - Tg)
    err_full = np.max(np.abs(full - numeric))
    err_drop = np.linalg.norm(dropped - numeric) / np.linalg.norm(numeric)
    print(f"highway: closed form max err {err_full:.1e}; without diag(h~ - h) dT/dh: rel err {err_drop:.3f}")
    assert err_full < 1e-10  # THEORY T4(b): below 1e-10, the central differences' own error
    assert err_drop > 0.05
    assert round(err_drop, 2) == 0.14  # THEORY T4(b)


def test_forget_bias_formula():
    sig = lambda b: 1 / (1 + math.exp(-b))  # noqa: E731
    for p in (0.5, 0.9, 0.97):
        seed_formula = sig(math.log(1 / (1 - p)))
        print(f"p = {p}: sigma(log(1/(1-p))) = {seed_formula:.4f} = 1/(2-p); sigma(log(p/(1-p))) = "
              f"{sig(retention_logit(p)):.4f}")
        assert seed_formula == pytest.approx(1 / (2 - p), rel=1e-12)
        assert sig(retention_logit(p)) == pytest.approx(p, rel=1e-12)
    assert sig(math.log(1 / (1 - 0.5))) == pytest.approx(2 / 3)
    # THEORY T5: 0.667, 0.909, 0.971
    assert [round(sig(math.log(1 / (1 - p))), 3) for p in (0.5, 0.9, 0.97)] == [0.667, 0.909, 0.971]
