"""latching: a weight that stores the bit robustly (|f'(h*)| < 1) makes dh_T/dh_0 vanish like
|f'(h*)|^T; the weight that keeps the gradient (w = 1) loses the bit to the noise."""

import math

import latching
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("latching")


def test_writes_figure_and_index_fragment(result):
    out, _ = result
    assert (out / "latching_dilemma.png").stat().st_size > 10_000
    assert "dilemma" in (out / "latching.md").read_text()


def test_attractor_is_a_fixed_point_with_slope_below_one():
    for w in (1.5, 2.0, 3.0):
        h = latching.attractor(w)
        assert h == pytest.approx(math.tanh(w * h), abs=1e-12) and 0 < w * (1 - h * h) < 1
    assert latching.attractor(0.8) == 0.0


def test_the_dilemma(result, full_mode):
    _, numbers = result
    ws = numbers["weights"]
    latch, keep = ws["3"], ws["1"]
    assert latch["kept"] > 0.99 and keep["kept"] < 0.6  # w = 3 stores the bit, w = 1 is near chance
    assert latch["median_log10_grad"] < -70 and keep["median_log10_grad"] > -6
    for v in ws.values():  # wherever the bit is kept, the gradient is tiny ...
        if v["kept"] > 0.99:
            assert v["median_log10_grad"] < -19
            # ... and follows |f'(h*)|^T: each factor is the attractor's slope
            assert v["median_log10_grad"] == pytest.approx(v["slope_T_log10"], abs=1.0)
    if full_mode:  # README / THEORY claim 17
        assert f"{100 * latch['kept']:.1f}" == "100.0" and f"{latch['median_log10_grad']:.1f}" == "-75.7"
        assert f"{100 * keep['kept']:.1f}" == "50.2" and f"{keep['median_log10_grad']:.1f}" == "-3.8"
        assert f"{latch['slope']:.3f}" == "0.031" and f"{latch['slope_T_log10']:.1f}" == "-75.8"
