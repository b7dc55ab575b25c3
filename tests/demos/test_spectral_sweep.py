"""spectral_sweep: decay rate = rho, horizon = log eps / log rho, memory span 9.49 at rho = 0.9,
Lyapunov exponent log rho, overflow after tau_inst steps in float32 and float64."""

import math

import numpy as np
import pytest


@pytest.fixture(scope="module")
def numbers(demo_run):
    out, n = demo_run("spectral_sweep")
    assert (out / "spectral_sweep_sweep.png").stat().st_size > 20_000
    return n


def test_linear_rate_and_lyapunov_equal_rho(numbers):
    rhos = np.array(numbers["rhos"])
    assert rhos[0] == 0.5 and rhos[-1] == 1.5 and 0.9 in rhos
    np.testing.assert_allclose(numbers["linear_rate"], rhos, rtol=1e-9)
    np.testing.assert_allclose(numbers["linear_lyapunov"], np.log(rhos), atol=1e-9)


def test_tanh_rate_tracks_rho_below_one_and_saturates_above(numbers):
    rhos = np.array(numbers["rhos"])
    rate = np.array(numbers["tanh_rate"])
    below = rhos < 1
    assert np.all(rate[below] <= rhos[below] + 1e-9)  # diag(tanh') <= 1 only shrinks
    np.testing.assert_allclose(rate[below], rhos[below], rtol=0.02)  # weak input: tanh' ~ 1
    assert np.all(rate[rhos > 1.05] > 1.0)  # still grows ...
    assert np.all(rate[rhos > 1.05] < rhos[rhos > 1.05] - 0.05)  # ... but saturation slows it


def test_effective_horizon(numbers, full_mode):
    for rho, measured, theory in zip(numbers["rhos"], numbers["horizon"],
                                     numbers["horizon_theory"], strict=True):
        if rho < 1:  # first tau with rho^tau < eps is floor(log eps / log rho) + 1
            if abs(theory - round(theory)) < 1e-6:
                # knife edge: at rho = 0.5, rho^23 = 2^-23 = float32 eps exactly, so the ratio at
                # tau = 23 equals eps up to the ~1e-15 rounding of 23 float64 matrix products, and
                # either side of "< eps" is correct: tau = 23 or 24
                assert measured in (round(theory), round(theory) + 1), rho
            else:
                assert measured == math.floor(theory) + 1, rho
        else:
            assert math.isinf(measured) and math.isinf(theory)
    if full_mode:  # THEORY Claim 8: "horizon 152 at rho = 0.9 (theory 151.3)"
        i = list(numbers["rhos"]).index(0.9)
        assert numbers["horizon"][i] == 152 and round(numbers["horizon_theory"][i], 1) == 151.3


def test_memory_span(numbers):
    m = numbers["memory_span_0.9"]
    assert m["theory"] == pytest.approx(9.49, abs=0.01)
    assert m["measured_rate"] == pytest.approx(m["theory"], rel=1e-6)
    assert m["first_lag_below_1/e"] == 10  # ceil(9.49)
    for rho, lag, theory in zip(numbers["rhos"], numbers["efold"], numbers["memory_span_theory"],
                                strict=True):
        if rho < 1:
            assert lag == math.ceil(theory), rho


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_overflow_at_instability_threshold(numbers, dtype, full_mode):
    n = numbers["hidden"]
    for row in numbers["overflow"][dtype]:
        # the norm reaches MAX at tau_inst; the largest entry (>= norm/sqrt(n)) a little later
        slack = math.log(math.sqrt(n)) / math.log(row["rho"]) + 1
        assert row["theory"] <= row["measured"] <= row["theory"] + slack, row
    ratio = [a["measured"] / b["measured"] for a, b in
             zip(numbers["overflow"]["float64"], numbers["overflow"]["float32"], strict=True)]
    np.testing.assert_allclose(ratio, math.log(np.finfo(np.float64).max)
                               / math.log(np.finfo(np.float32).max), rtol=0.03)
    if full_mode:  # THEORY Claim 8: "overflow at rho = 2 after 130 steps in float32 (tau_inst = 128) and 1025 in
        # float64 (1024)"; README: "float32 at rho = 2: 130 steps, tau_inst = 128"
        (row,) = [row for row in numbers["overflow"][dtype] if row["rho"] == 2.0]
        measured, theory = {"float32": (130, 128), "float64": (1025, 1024)}[dtype]
        assert row["measured"] == measured and round(row["theory"]) == theory
