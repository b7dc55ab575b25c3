"""curvature: Hessian-vector products by double backward -- the cliff's curvature along the gradient,
Newton against gradient descent (HVPs equal to PyTorch's), and the top Hessian eigenvalue against 2/lr."""

from pathlib import Path

import curvature
import numpy as np
import pytest

import minigrad as mg

FIXTURE = np.load(Path(__file__).parents[1] / "fixtures" / "curvature_torch.npz", allow_pickle=False)


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("curvature")


def test_writes_figure_and_index_fragment(result):
    out, _ = result
    assert (out / "curvature_curvature.png").stat().st_size > 10_000
    assert "curvature along it" in (out / "curvature.md").read_text()


def test_hvps_equal_pytorchs():
    v = FIXTURE["v"]
    for p, want in zip(FIXTURE["rosenbrock_points"], FIXTURE["rosenbrock_hvp"]):
        np.testing.assert_allclose(mg.hvp(curvature.rosenbrock, p, v)[1], want, rtol=1e-12, atol=1e-12)
    for p, want in zip(FIXTURE["cliff_points"], FIXTURE["cliff_hvp"]):
        t = mg.tensor(p, requires_grad=True)
        g = np.asarray(mg.grad(curvature.cliff_loss(t), t))
        np.testing.assert_allclose(mg.hvp(curvature.cliff_loss, p, g)[1], want, rtol=1e-9, atol=1e-12)


def test_the_cliff_seen_through_the_hessian(result, full_mode):
    _, numbers = result
    c = numbers["cliff"]
    wall, plateau = c["points"]["at the wall"], c["points"]["on the plateau"]
    assert 1.49 < c["w_wall"] < 1.51
    assert wall["grad_norm"] > 1e4 and wall["curvature"] > 1e8  # steep and sharply curved
    # the Newton step along g is tiny, the clipped step lr * c, the plain SGD step hundreds
    assert wall["newton_step"] < 1e-3 < wall["clipped_step"] == pytest.approx(curvature.LR_CLIFF * curvature.CLIP)
    assert wall["sgd_step"] > 100
    assert plateau["grad_norm"] == 0.0 and plateau["curvature"] == 0.0  # flat: no step at all
    assert plateau["loss"] == pytest.approx((1 - curvature.TARGET) ** 2)
    if full_mode:  # THEORY / README figures
        assert f"{wall['grad_norm']:.3g}" == "3.57e+04" and f"{wall['curvature']:.3g}" == "2.37e+09"
        assert f"{wall['newton_step']:.3g}" == "1.51e-05"


def test_newton_against_gradient_descent(result, full_mode):
    _, numbers = result
    r = numbers["rosenbrock"]
    x, y = curvature.ROSENBROCK_START
    H = np.array([[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200.0]])  # by hand
    np.testing.assert_allclose(r["start_hessian_eigenvalues"], np.linalg.eigvalsh(H), rtol=1e-12)
    assert r["newton_final_distance"] < 1e-10 and r["newton_steps"] == 8
    assert r["gd_final_distance"] > 1e-4  # quick: 2,000 steps (0.56), full: 20,000
    assert 2 / r["lr"] > max(r["start_hessian_eigenvalues"])  # the lr is below the start's stability limit
    if full_mode:  # THEORY claim 19 (b), README
        assert r["newton_final_distance"] == 0.0 and f"{r['gd_final_distance']:.2g}" == "0.00031"
        assert f"{max(r['start_hessian_eigenvalues']):.4g}" == "1506" and min(p[1] for p in r["newton_path"]) < -3


def test_top_eigenvalue_by_power_iteration_and_the_threshold(result, full_mode):
    _, numbers = result
    s = numbers["sharpness"]
    power, dense = s["power_vs_dense"]
    assert power == pytest.approx(dense, rel=1e-6)  # power iteration on HVPs == the full Hessian's
    small, large = s["runs"]["0.1"], s["runs"]["0.4"]
    assert small["max_lambda"] < small["two_over_lr"]  # lr 0.1: far below 2/lr = 20 throughout
    assert large["lambda_max"][0] > large["two_over_lr"]  # lr 0.4 starts above 2/lr = 5 ...
    assert large["final_lambda"] == pytest.approx(large["two_over_lr"], rel=0.1)  # ... and ends near it
    assert all(np.isfinite(large["loss"])) and large["loss"][-1] < large["loss"][0]
    if full_mode:  # THEORY claim 19 (c), README: the same digits under four OpenBLAS kernels
        assert f"{power:.5g}" == "10.685" and s["steps"] == 4000 and s["power_iterations"] == 60
        assert f"{small['lambda_max'][0]:.3g}" == "6.28" and f"{small['max_lambda']:.3g}" == "10.7"
        assert f"{large['final_lambda']:.3g}" == "5.15" and f"{large['loss'][-1]:.2g}" == "0.0082"
