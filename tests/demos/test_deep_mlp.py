"""deep_mlp: sigmoid's per-layer factor <= 0.25 ||W||_2; ReLU's factor ~ sigma sqrt(n/2)."""

import deep_mlp
import numpy as np
import pytest


@pytest.fixture(scope="module")
def numbers(tmp_path_factory):
    out = tmp_path_factory.mktemp("deep_mlp")
    n = deep_mlp.main(quick=True, out=out, seed=0)
    n["_out"] = out
    return n


def test_figures_written(numbers):
    for name in ("grid", "sigmoid_bound"):
        assert (numbers["_out"] / f"deep_mlp_{name}.png").stat().st_size > 20_000


@pytest.mark.parametrize("scheme", deep_mlp.INITS)
def test_sigmoid_factor_below_quarter_of_weight_norm(numbers, scheme):
    b = numbers["sigmoid_bound"][scheme]
    ratio, bound = np.array(b["ratio"]), np.array(b["bound"])
    assert ratio.shape == (deep_mlp.DEPTH,)
    assert np.all(ratio <= bound * (1 + 1e-12))
    assert b["max_ratio_over_bound"] < 1.0


def test_sigmoid_vanishes_with_xavier(numbers):
    # ||W||_2 ~ 2 for a square Xavier matrix: factor <= 0.5, and sigma' < 0.25 makes it ~0.23
    assert numbers["factor"]["sigmoid/xavier/plain"] < 0.3
    assert numbers["sigmoid_bound"]["xavier"]["mean_bound"] < 0.6


@pytest.mark.parametrize("scheme", deep_mlp.INITS)
def test_relu_factor_matches_sigma_sqrt_half_n(numbers, scheme):
    measured = numbers["factor"][f"relu/{scheme}/plain"]
    theory = numbers["relu_theory_factor"][scheme]
    assert measured == pytest.approx(theory, rel=0.15)


def test_remedies(numbers):
    f = numbers["factor"]
    assert f["relu/naive/plain"] > 3.0  # explodes: sigma sqrt(n/2) = 4 at width 32
    for act in deep_mlp.ACTS:
        for scheme in deep_mlp.INITS:
            assert 0.8 < f[f"{act}/{scheme}/residual+layernorm"] < 1.3, (act, scheme)
