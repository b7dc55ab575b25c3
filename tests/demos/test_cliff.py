"""cliff: rho(W) < 1 does not make the gradient vanish (input-driven saturation), sigma_1 < 1 does;
the loss wall of a one-unit RNN, where one plain SGD step is thrown onto a flat plateau and the
clipped step keeps training."""

import cliff
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("cliff")


def test_writes_figure_and_index_fragment(result):
    out, _ = result
    assert (out / "cliff_cliff.png").stat().st_size > 10_000
    assert "the wall" in (out / "cliff.md").read_text()


def test_the_matrix_has_rho_one_half_and_sigma_three():
    W = cliff.W_SWITCH
    np.testing.assert_array_equal(W @ W, 0.25 * np.eye(2))
    assert max(abs(np.linalg.eigvals(W))) == pytest.approx(0.5)
    assert np.linalg.svd(W, compute_uv=False)[0] == pytest.approx(3.081, abs=1e-3)


def test_rho_below_one_is_not_sufficient_sigma_below_one_is(result, full_mode):
    _, numbers = result
    s = numbers["switching"]
    T = s["T"]
    f = s["final"]
    assert f["W, zero input"] == pytest.approx(0.5**T, rel=0.02)  # the linear regime: W^T, W^2 = I/4
    assert f["W, unit 2 saturated"] > 1.5**T  # grows although rho = 0.5
    assert f["W, unit 2 saturated"] < s["sigma_T"]  # and stays under sigma_1^T
    for key in ("sigma_1 = 0.95, unit 2 saturated", "sigma_1 = 0.95, zero input"):
        assert f[key] <= 0.95**T
    assert s["worst_random_safe"] <= 0.95**T
    if full_mode:  # README / THEORY: 9.4e-10, 2.3e5 against 1.5^30 = 1.9e5; 40 random inputs
        assert f"{f['W, zero input']:.2g}" == "9.4e-10" and f"{f['W, unit 2 saturated']:.2g}" == "2.3e+05"
        assert s["n_random"] == 40 and f"{s['worst_random_safe']:.0e}" == "4e-24"


def test_the_wall_and_the_two_steps(result, full_mode):
    _, numbers = result
    c = numbers["cliff"]
    assert 1.49 < c["w_wall"] < 1.51 and c["grad_at_wall"] < -1e4
    assert c["plain_first_step"] == pytest.approx(-cliff.LR * c["grad_at_wall"])  # a step of 300+ in w
    assert c["clipped_first_step"] == pytest.approx(cliff.LR * cliff.CLIP)  # the same direction, norm c
    assert c["plain_final_grad"] == 0.0 and c["plain_final_w"] == c["w_wall"] + c["plain_first_step"]
    assert c["plain_final_loss"] == pytest.approx((1 - cliff.TARGET) ** 2)  # h_T = 1 on the plateau: stuck
    assert c["clipped_final_loss"] < 0.05 * c["plain_final_loss"]  # quick: 40 steps, full: 150
    if full_mode:  # README / THEORY claim 16
        assert f"{c['w_wall']:.4f}" == "1.4985" and f"{c['grad_at_wall']:.3g}" == "-1.59e+04"
        assert f"{c['plain_first_step']:.4g}" == "318.7" and f"{c['clipped_final_loss']:.2g}" == "3.3e-06"
        assert f"{c['loss_after_first_step']['clipped']:.3g}" == "0.0122"
        assert [f"{h:+.2f}" for h in c["h_T_either_side"]] == ["-0.92", "+0.63"]
