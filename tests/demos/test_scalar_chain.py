"""scalar_chain: autograd's dL/dh_k is w^(n-k) times the upstream gradient; h_n in closed form."""

import math

import numpy as np
import pytest
import scalar_chain


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("scalar_chain")


def test_writes_figure_and_index_fragment(result):
    out, _ = result
    assert (out / "scalar_chain_gradients.png").stat().st_size > 10_000
    text = (out / "scalar_chain.md").read_text()
    assert "scalar_chain_gradients.png" in text and "| 1.5 |" in text


@pytest.mark.parametrize("w", [0.5, 1.0, 1.5])
def test_gradient_is_w_power_times_upstream(result, w):
    _, numbers = result
    r = numbers[f"w={w:g}"]
    n = numbers["n_layers"]
    grads = np.array(r["grads"])
    upstream = r["upstream"]
    assert upstream == pytest.approx(r["h_n"])  # L = h_n^2/2 with target 0
    for k in range(n + 1):
        expected = w ** (n - k) * upstream
        if w in (0.5, 1.0):  # powers of two: every product is exact in float64
            assert grads[k] == expected
        else:  # 1.5^m needs more than 53 bits past m = 33: allow one rounding per layer
            assert grads[k] == pytest.approx(expected, rel=(n - k + 1) * 2.3e-16)


def test_seed_numbers(result, full_mode):
    _, numbers = result
    assert numbers["w=0.5"]["grad_ratio_depth20"] == pytest.approx(9.5e-7, rel=0.005)
    assert numbers["w=0.5"]["grad_ratio_depth20"] == 0.5**20
    assert numbers["w=1.5"]["grad_ratio_depth50"] == pytest.approx(6.4e8, rel=0.005)
    assert numbers["w=1"]["grad_ratio_depth50"] == 1.0
    if full_mode:  # README: "relative error <= 5e-16", "0.5^20 ~ 9.5e-7, 1.5^50 ~ 6.4e8"
        # THEORY Claim 1: "0.5^20 = 9.537e-7 and 1.5^50 = 6.376e8 ... relative error ... at most 4.5e-16"
        g20, g50 = numbers["w=0.5"]["grad_ratio_depth20"], numbers["w=1.5"]["grad_ratio_depth50"]
        assert f"{g20:.2g}" == "9.5e-07" and f"{g20:.4g}" == "9.537e-07"
        assert f"{g50:.2g}" == "6.4e+08" and f"{g50:.4g}" == "6.376e+08"
        worst = max(numbers[f"w={w:g}"]["max_rel_err_grad"] for w in (0.5, 1.0, 1.5))
        assert worst <= 5e-16 and f"{worst:.2g}" == "4.5e-16"


@pytest.mark.parametrize("w", [0.5, 1.0, 1.5])
def test_activation_closed_form(result, w):
    _, numbers = result
    r = numbers[f"w={w:g}"]
    n = numbers["n_layers"]
    x, b = scalar_chain.X, scalar_chain.B
    expected = x + n * b if w == 1 else w**n * x + b * (1 - w**n) / (1 - w)
    assert r["h_n"] == pytest.approx(expected, rel=1e-13)
    assert r["max_rel_err_activation"] < 1e-13


def test_closed_form_function_against_direct_loop():
    for w in (0.3, 0.5, 1.0, 1.5, -0.7):
        h = 0.7
        for _ in range(13):
            h = w * h + 0.2
        assert scalar_chain.closed_form(w, 0.7, 0.2, 13) == pytest.approx(h, rel=1e-12)
    assert math.isclose(scalar_chain.closed_form(1.0, 1.0, 0.1, 50), 6.0)
