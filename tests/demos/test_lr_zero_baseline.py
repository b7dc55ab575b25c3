"""lr_zero_baseline: a deep sigmoid net stays inside the lr = 0 noise band; the remedy leaves it."""

import lr_zero_baseline as demo
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("lr_zero_baseline")
    return out, demo.main(quick=True, out=out, seed=0)


def test_writes_figure_and_fragment(result):
    out, _ = result
    assert (out / "lr_zero_baseline_loss_and_layers.png").stat().st_size > 20_000
    assert "lr_zero_baseline_loss_and_layers.png" in (out / "lr_zero_baseline.md").read_text()


def test_per_layer_decay_obeys_the_sigmoid_bound(result):
    _, n = result
    ratio, bound = np.array(n["plain_layer_ratio"]), np.array(n["plain_layer_bound"])
    assert len(ratio) == demo.DEPTH - 1
    # ||dL/dh_(l-1)|| <= max sigma' ||W_l||_2 ||dL/dh_l|| with max sigma' = 1/4
    assert np.all(ratio <= bound)
    assert n["max_ratio_over_bound"] <= 1.0
    # and the decay is real: every layer loses more than half of the gradient
    assert np.all(ratio < 0.5)


def test_plain_net_gradient_vanishes_towards_the_input(result):
    _, n = result
    plain = n[f"plain lr={demo.LR:g}"]
    # 19 factors of at most 0.25 * ||W|| (about 0.27): below 0.3^19 ~ 1e-10
    assert plain["first_over_last_layer_grad"] < 0.3**19
    res = n[f"residual lr={demo.LR:g}"]
    assert res["first_over_last_layer_grad"] > 0.1


def test_plain_net_does_not_beat_the_noise_floor(result):
    _, n = result
    for lr in (demo.LR, demo.LR_HIGH):
        r = n[f"plain lr={lr:g}"]
        # it learns at most the mean: within 2 noise-floor std of the lr = 0 mean, and no lower
        # than 85% of Var(y), the loss of the best constant prediction
        assert abs(r["final_below_floor_in_std"]) < 2.0
        assert r["final_loss"] > 0.85 * n["var_y"]


def test_remedy_falls_well_below_the_noise_floor(result):
    _, n = result
    r = n[f"residual lr={demo.LR:g}"]
    assert r["final_below_floor_in_std"] > 3.0
    assert r["final_loss"] < 0.5 * n["var_y"]
    # its own lr = 0 run shows the drop is learning, not a lucky initialization
    r0 = n["residual lr=0"]
    assert r0["final_loss"] > 0.85 * n["var_y"]
