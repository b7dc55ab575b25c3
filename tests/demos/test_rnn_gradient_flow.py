"""rnn_gradient_flow: ||dL/dh_t|| obeys the product-of-Jacobian-norm and gamma^(T-t) bounds;
U(-0.1, 0.1) weights vanish, large weights explode, orthogonal W_hh with weak input is stable."""

import numpy as np
import pytest
import rnn_gradient_flow as demo


@pytest.fixture(scope="module")
def numbers(demo_run):
    out, n = demo_run("rnn_gradient_flow")
    assert (out / "rnn_gradient_flow_regimes.png").stat().st_size > 20_000
    return n


@pytest.mark.parametrize("regime", demo.REGIMES)
def test_bounds_hold(numbers, regime):
    r = numbers[regime]
    g = np.array(r["grads"])
    assert g.shape == (numbers["T"] + 1,)
    # ||g_t|| <= ||dh_T/dh_t||_2 ||g_T|| <= prod ||J_k|| ||g_T|| <= gamma^(T-t) ||g_T||
    tight = np.array(r["product"]) * g[-1]
    assert np.all(g <= tight * (1 + 1e-10))
    assert np.all(tight <= np.array(r["prod_bound"]) * (1 + 1e-10))
    assert np.all(np.array(r["prod_bound"]) <= np.array(r["gamma_bound"]) * (1 + 1e-10))
    # per step: ||g_t|| / ||g_(t+1)|| <= ||J_t||
    assert np.all(g[:-1] / g[1:] <= np.array(r["J_norms"]) * (1 + 1e-10))


@pytest.mark.parametrize("regime", demo.REGIMES)
def test_explicit_bptt_equals_autograd(numbers, regime):
    assert numbers[regime]["bptt_vs_autograd"] < 1e-10 * max(numbers[regime]["grads"])


def test_regimes(numbers):
    v, e, s, sat = (numbers[k] for k in demo.REGIMES)
    assert v["rate"] < 0.7 and v["ratio_0"] < 1e-8  # vanishes
    assert e["rate"] > 1.1 and e["ratio_0"] > 1e3  # explodes
    assert 0.9 < s["rate"] < 1.05 and s["ratio_0"] > 0.05  # stable: within ~1 decade over T = 50
    assert sat["rate"] < s["rate"] - 0.1  # saturation brings vanishing back
    # orthogonal W_hh: rho = ||W||_2 = 1
    assert s["rho_W"] == pytest.approx(1.0, abs=1e-9) and s["norm_W"] == pytest.approx(1.0, abs=1e-9)
    # the Lyapunov exponent agrees with the measured rate's sign
    assert v["lyapunov"] < 0 < e["lyapunov"]
    assert np.exp(v["lyapunov"]) == pytest.approx(v["rate"], rel=0.2)
    assert np.exp(e["lyapunov"]) == pytest.approx(e["rate"], rel=0.2)


def test_spectral_radius_above_one_is_not_a_lower_bound(numbers):
    # the textbook's ||dL/dh_t|| >= rho^(T-t) ||dL/dh_T|| for rho > 1: saturation breaks it
    e, T = numbers["exploding"], numbers["T"]
    assert e["rho_W"] > 1.5 and e["ratio_0"] > 1.0
    assert e["ratio_0"] < 1e-10 * e["rho_W"] ** T


def test_singular_values_and_eigenvalues_say_different_things(numbers, full_mode):
    v, s, sat = numbers["vanishing"], numbers["stable"], numbers["saturated"]
    if full_mode:  # hidden 100: ||W_hh||_2 = 1.12 > 1 > rho = 0.61, and the gradient vanishes anyway
        assert v["norm_W"] > 1.0 > v["rho_W"]
    assert v["rate"] < v["rho_W"] < v["norm_W"]
    # gamma = 1 (orthogonal) is stable only while tanh' ~ 1: the saturated run's rate is far below 1
    assert sat["norm_W"] == pytest.approx(1.0, abs=1e-9) and sat["rate"] < 0.85
    assert s["rate"] > 0.9


@pytest.mark.parametrize("regime", demo.REGIMES)
def test_mean_log_norm_is_an_upper_bound_on_the_lyapunov_exponent(numbers, regime):
    r = numbers[regime]
    assert r["mean_log_norm"] >= r["lyapunov"] - 1e-12
