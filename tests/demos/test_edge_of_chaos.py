"""edge_of_chaos: autograd's per-layer factor of ||g||² equals the mean-field chi_1 across sigma_w in
0.8-2; criticality is not at sigma_w = 1 once sigma_b > 0; at criticality orthogonal weights keep
the input-output Jacobian's singular values together, Gaussian ones spread them over decades."""

import edge_of_chaos as eoc
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("edge_of_chaos")


def test_writes_figures_and_index_fragment(result):
    out, _ = result
    for fig in ("chi", "isometry"):
        assert (out / f"edge_of_chaos_{fig}.png").stat().st_size > 10_000
    text = (out / "edge_of_chaos.md").read_text()
    assert "edge_of_chaos_chi.png" in text and "chi_1 crosses 1" in text


def test_mean_field_functions_against_direct_sums():
    """q* is a fixed point; chi_1 at sigma_b = 0 in the ordered phase is sigma_w² (q* = 0, tanh'(0) = 1)."""
    for sw, sb in ((0.9, 0.3), (1.5, 0.05), (2.0, 0.3)):
        q = eoc.q_star(sw, sb)
        z = np.random.default_rng(0).normal(size=2_000_000)
        assert sw**2 * np.mean(np.tanh(np.sqrt(q) * z) ** 2) + sb**2 == pytest.approx(q, rel=3e-3)
    assert eoc.chi_1(0.9, 0.0) == pytest.approx(0.81, abs=1e-6)
    sw = eoc.critical_sigma_w(0.3)
    assert eoc.chi_1(sw, 0.3) == pytest.approx(1.0, abs=1e-9)


def test_measured_factor_matches_chi_1_everywhere(result, full_mode):
    _, numbers = result
    sweep = numbers["sweep"]
    assert len(sweep) == len(eoc.SIGMA_WS) * len(eoc.SIGMA_BS)
    worst = max(abs(v["rel_err"]) for v in sweep.values())
    # full: N = 256, 30 layers, batch 8; quick: N = 100, 10 layers, batch 4 (noisier, O(1/sqrt(N·batch·layers)))
    assert worst < (0.03 if full_mode else 0.12), worst
    for key, v in sweep.items():  # the phase is right at every point: ordered below 1, chaotic above
        if abs(v["chi_1"] - 1) > (0.03 if full_mode else 0.12):
            assert (v["measured"] < 1) == (v["chi_1"] < 1), key


def test_critical_sigma_w_is_above_one_with_a_bias(result):
    _, numbers = result
    crit = numbers["critical_sigma_w"]
    assert f"{crit['0.05']:.4f}" == "1.1225" and f"{crit['0.3']:.4f}" == "1.3956"  # THEORY claim 14


def test_isometry_autograd_jacobian_equals_the_explicit_product(result):
    _, numbers = result
    for kind in ("gaussian", "orthogonal"):
        assert numbers["isometry"][kind]["autograd_vs_product"] < 1e-12


def test_isometry_same_mean_very_different_spread(result, full_mode):
    _, numbers = result
    iso = numbers["isometry"]
    g, o = iso["gaussian"], iso["orthogonal"]
    for m in g["mean_sq"] + o["mean_sq"]:  # chi_1 = 1: the mean squared singular value stays near 1
        assert 0.8 < m < 1.2
    assert all(a < b for a, b in zip(g["spread"], g["spread"][1:]))  # the Gaussian spread grows with depth
    assert g["spread"][-1] > 100 * o["spread"][-1]
    if full_mode:  # README / THEORY claim 15, after 8 layers, N = 100
        assert f"{g['spread'][-1]:.2f}" == "2.14" and f"{o['spread'][-1]:.3f}" == "0.015"
        assert [f"{v:.2f}" for v in g["spread"]] == ["0.50", "0.77", "1.21", "2.14"]
        assert all(abs(m - 1) < 0.04 for m in g["mean_sq"] + o["mean_sq"])
        lo, hi = g["log10_sigma_range"]
        assert f"{hi - lo:.1f}" == "12.5" and f"{10**lo:.1e}" == "1.3e-12" and f"{10**hi:.1f}" == "4.1"
        lo, hi = o["log10_sigma_range"]
        assert f"{10**lo:.2f}" == "0.86" and f"{10**hi:.2f}" == "1.05"


def test_full_mode_numbers_quoted_in_theory(result, full_mode):
    if not full_mode:
        pytest.skip("full-mode numbers")
    _, numbers = result
    s = numbers["sweep"]
    # THEORY: chi_1 and the measured factor at sigma_w = 1.0 and 1.5, both bias scales
    quoted = {"1,0.05": ("0.9341", "0.9302"), "1.5,0.05": ("1.137", "1.14"),
              "1,0.3": ("0.7003", "0.7046"), "1.5,0.3": ("1.061", "1.062")}
    for key, (chi, measured) in quoted.items():
        assert f"{s[key]['chi_1']:.4g}" == chi and f"{s[key]['measured']:.4g}" == measured, key
    assert f"{100 * numbers['max_abs_rel_err']:.1f}" == "2.5"
    xi = s["1,0.3"]["xi"]  # "sigma_w = 1, sigma_b = 0.3 loses 30% per layer (xi = 2.8 layers)"
    assert f"{xi:.1f}" == "2.8" and f"{1 - s['1,0.3']['chi_1']:.2f}" == "0.30"
