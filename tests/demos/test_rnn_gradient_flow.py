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


def test_regimes(numbers, full_mode):
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
    if full_mode:  # README: "hidden 100, T = 50 ... vanishes (0.45 per step), explodes (1.30 per step, yet 1.2e6)
        # ... stays within a decade (orthogonal, weak inputs) ... (orthogonal, 0.74 per step)"; THEORY Claim 7:
        # "vanish at 0.453 per step (9.8e-18) ... 1.30 per step (1.2e6) ... 0.967 per step, 0.197 ... 0.737 per
        # step"; T8: "mean tanh' about 0.7 ... 0.737 (||g_0||/||g_T|| = 2.6e-7)"
        assert numbers["hidden"] == 100 and numbers["T"] == 50
        assert round(v["rate"], 3) == 0.453 and round(v["rate"], 2) == 0.45 and f"{v['ratio_0']:.2g}" == "9.8e-18"
        assert round(e["rate"], 2) == 1.30 and f"{e['ratio_0']:.2g}" == "1.2e+06"
        assert round(s["rate"], 3) == 0.967 and round(s["ratio_0"], 3) == 0.197 and s["ratio_0"] > 0.1
        assert round(sat["rate"], 3) == 0.737 and round(sat["rate"], 2) == 0.74
        assert f"{sat['ratio_0']:.2g}" == "2.6e-07"
        assert round(float(np.mean(sat["mean_tanh_prime_t"])), 1) == 0.7


def test_spectral_radius_above_one_is_not_a_lower_bound(numbers, full_mode):
    # the textbook's ||dL/dh_t|| >= rho^(T-t) ||dL/dh_T|| for rho > 1: saturation breaks it
    e, T = numbers["exploding"], numbers["T"]
    assert e["rho_W"] > 1.5 and e["ratio_0"] > 1.0
    assert e["ratio_0"] < 1e-10 * e["rho_W"] ** T
    if full_mode:  # THEORY T1: "rho = 3.27, so the 'bound' predicts rho^50 ~ 5.6e25; measured 1.2e6";
        # README: "yet 1.2e6 where rho^50 predicts 6e25"
        assert T == 50 and round(e["rho_W"], 2) == 3.27
        assert f"{e['rho_W'] ** T:.2g}" == "5.6e+25" and f"{e['rho_W'] ** T:.1g}" == "6e+25"
        assert f"{e['ratio_0']:.2g}" == "1.2e+06"


def test_singular_values_and_eigenvalues_say_different_things(numbers, full_mode):
    v, s, sat = numbers["vanishing"], numbers["stable"], numbers["saturated"]
    if full_mode:  # hidden 100: ||W_hh||_2 = 1.12 > 1 > rho = 0.61, and the gradient vanishes anyway
        assert v["norm_W"] > 1.0 > v["rho_W"]
        # THEORY T7: "||W_hh||_2 = 1.12 > 1 yet rho = 0.61, and its gradient vanishes at 0.45 per step"
        assert round(v["norm_W"], 2) == 1.12 and round(v["rho_W"], 2) == 0.61 and round(v["rate"], 2) == 0.45
        # THEORY T8: "with weak inputs the rate is 0.967 per step ... it is 0.737"
        assert round(s["rate"], 3) == 0.967 and round(sat["rate"], 3) == 0.737
    assert v["rate"] < v["rho_W"] < v["norm_W"]
    # gamma = 1 (orthogonal) is stable only while tanh' ~ 1: the saturated run's rate is far below 1
    assert sat["norm_W"] == pytest.approx(1.0, abs=1e-9) and sat["rate"] < 0.85
    assert s["rate"] > 0.9


@pytest.mark.parametrize("regime", demo.REGIMES)
def test_mean_log_norm_is_an_upper_bound_on_the_lyapunov_exponent(numbers, regime, full_mode):
    r = numbers[regime]
    assert r["mean_log_norm"] >= r["lyapunov"] - 1e-12
    if full_mode and regime == "vanishing":  # THEORY T6: "in the vanishing regime the mean ||J_t||_2 is 0.95
        # while the measured rate is 0.45 and e^lambda = 0.46"
        assert round(float(np.mean(r["J_norms"])), 2) == 0.95
        assert round(r["rate"], 2) == 0.45 and round(float(np.exp(r["lyapunov"])), 2) == 0.46
