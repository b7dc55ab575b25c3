"""activations: max sigmoid' = 0.25, tanh' < 0.1 past |z| = 3, dead ReLUs as Phi(beta)^B."""

import math

import activations
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("activations")


def test_figures_written(result):
    out, _ = result
    for name in ("derivatives", "dead_relu"):
        assert (out / f"activations_{name}.png").stat().st_size > 10_000


def test_sigmoid_derivative_peaks_at_quarter(result):
    r = result[1]["sigmoid"]
    assert r["max_derivative"] == pytest.approx(0.25, abs=1e-12)
    assert r["argmax"] == 0.0
    # 8 units out: sigma'(8) = e^-8 / (1 + e^-8)^2
    assert r["min_derivative"] == pytest.approx(math.exp(-8) / (1 + math.exp(-8)) ** 2, rel=1e-9)


def test_tanh_saturates(result):
    r = result[1]["tanh"]
    assert r["max_derivative"] == pytest.approx(1.0, abs=1e-12)
    assert r["max_derivative_abs_z_gt_3"] < 0.1
    # the largest |z| > 3 on the grid is 3.01: tanh'(3.01) = 1 - tanh(3.01)^2 ~ 0.0097
    assert r["max_derivative_abs_z_gt_3"] == pytest.approx(1 - math.tanh(3.01) ** 2, rel=1e-9)


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_autograd_matches_closed_form(result, name):
    r = result[1][name]
    assert r["max_abs_err_vs_closed_form"] < 1e-12
    assert r["max_abs_err_value"] < 1e-12


def test_relu_zero_on_half_the_grid_leaky_and_gelu_never(result):
    numbers = result[1]
    # grid of 1601 points on [-8, 8]: 800 negative, one zero (ReLU'(0) = 0), 800 positive
    assert numbers["relu"]["fraction_zero_derivative"] == pytest.approx(801 / 1601)
    assert numbers["relu"]["min_derivative"] == 0.0
    assert numbers["leaky_relu_fraction_zero"] == 0.0
    assert numbers[f"leaky_relu({activations.LEAKY_SLOPE:g})"]["min_derivative"] == pytest.approx(
        activations.LEAKY_SLOPE)
    g = numbers["gelu"]
    assert g["fraction_zero_derivative"] == 0.0
    # GELU' = Phi(z) + z phi(z) has its extremes where GELU'' = (2 - z^2) phi(z) = 0: z = +-sqrt 2
    r2 = math.sqrt(2)
    phi = math.exp(-1) / math.sqrt(2 * math.pi)
    assert g["min_derivative"] == pytest.approx(0.5 * (1 + math.erf(-1)) - r2 * phi, abs=1e-4)
    assert g["max_derivative"] == pytest.approx(0.5 * (1 + math.erf(1)) + r2 * phi, abs=1e-4)


def test_dead_relu_fractions_match_theory(result, full_mode):
    d = result[1]["dead_relu"]
    zero = np.array(d["zero_fraction"])
    dead = np.array(d["dead_fraction"])
    np.testing.assert_allclose(zero, d["theory_zero"], atol=0.025)
    np.testing.assert_allclose(dead, d["theory_dead"], atol=0.08)
    assert zero[0] == pytest.approx(0.5, abs=0.025)  # no bias shift: half the units inactive
    assert dead[0] == 0.0 and dead[-1] > 0.85  # beta = 3: Phi(3)^32 = 0.958
    assert np.all(np.diff(dead) >= 0)
    if full_mode:  # THEORY Claim 3: "4096 units, B = 32 ... at beta = 2, 0.977 zero per sample (Phi = 0.977)
        # and 0.476 dead units (Phi^B = 0.479)"; README: "at beta = 2: 0.476 measured, 0.479 theory"
        assert d["units"] == 4096 and d["batch"] == 32
        i = d["betas"].index(2.0)
        assert round(zero[i], 3) == 0.977 and round(d["theory_zero"][i], 3) == 0.977
        assert round(dead[i], 3) == 0.476 and round(d["theory_dead"][i], 3) == 0.479
