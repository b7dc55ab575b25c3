"""lr_zero_baseline: on every seed a deep sigmoid net stays inside the lr = 0 noise band at both
learning rates; the residual + LayerNorm remedy leaves it."""

import math

import lr_zero_baseline as demo
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("lr_zero_baseline")


def test_writes_figure_and_fragment(result, full_mode):
    out, n = result
    assert (out / "lr_zero_baseline_loss_and_layers.png").stat().st_size > 20_000
    assert "lr_zero_baseline_loss_and_layers.png" in (out / "lr_zero_baseline.md").read_text()
    assert len(n["seeds"]) == (5 if full_mode else 2)
    if full_mode:  # README/THEORY 12: "a 20-layer sigmoid network", "at lr 0.02 and 0.1", "seeds 0-4"
        assert demo.DEPTH == 20 and (n["lr"], n["lr_high"]) == (0.02, 0.1) and n["seeds"] == [0, 1, 2, 3, 4]


def test_per_layer_decay_obeys_the_sigmoid_bound(result):
    _, n = result
    for s in n["per_seed"]:
        ratio, bound = np.array(s["plain_layer_ratio"]), np.array(s["plain_layer_bound"])
        assert len(ratio) == demo.DEPTH - 1
        # ||dL/dh_(l-1)|| <= max sigma' ||W_l||_2 ||dL/dh_l|| with max sigma' = 1/4
        assert np.all(ratio <= bound)
        assert s["max_ratio_over_bound"] <= 1.0
        # and the decay is real: every layer loses more than half of the gradient
        assert np.all(ratio < 0.5)


def test_plain_net_gradient_vanishes_towards_the_input(result, full_mode):
    _, n = result
    # 19 factors of at most 0.25 * ||W|| (about 0.27): below 0.3^19 ~ 1e-10, on every seed
    assert max(n[f"plain lr={demo.LR:g}"]["first_over_last_layer_grad"]) < 0.3**19
    assert min(n[f"residual lr={demo.LR:g}"]["first_over_last_layer_grad"]) > 0.1
    if full_mode:  # README/THEORY 12: "its first layer's gradient 10^-17-10^-15 of the last's" (every seed)
        ratio = n[f"plain lr={demo.LR:g}"]["first_over_last_layer_grad"]
        assert 1e-17 <= min(ratio) and max(ratio) <= 1e-15
        assert round(math.log10(min(ratio))) == -17 and round(math.log10(max(ratio))) == -15


def test_plain_net_does_not_beat_the_noise_floor(result, full_mode):
    _, n = result
    if full_mode:  # README/THEORY 12: "stays within 0.6 noise-floor std of the lr = 0 baseline on every seed"
        within = max(abs(s[f"plain lr={lr:g}"]["final_below_floor_in_std"])
                     for lr in (demo.LR, demo.LR_HIGH) for s in n["per_seed"])
        assert within <= 0.6 and round(within, 1) == 0.6
    for lr in (demo.LR, demo.LR_HIGH):
        for s in n["per_seed"]:
            r = s[f"plain lr={lr:g}"]
            # it learns at most the mean: within 1 noise-floor std of the lr = 0 mean, and no
            # lower than 85% of Var(y), the loss of the best constant prediction
            assert abs(r["final_below_floor_in_std"]) < 1.0
            assert r["final_loss"] > 0.85 * s["var_y"]


def test_remedy_falls_below_the_noise_floor(result, full_mode):
    _, n = result
    for s in n["per_seed"]:
        r = s[f"residual lr={demo.LR:g}"]
        assert r["final_below_floor_in_std"] > 2.0  # out of the figure's mean +- 2 std band
        assert r["final_loss"] < 0.75 * s["var_y"]
        # its own lr = 0 run shows the drop is learning, not a lucky initialization
        assert s["residual lr=0"]["final_loss"] > 0.85 * s["var_y"]
        assert r["final_loss"] < 0.6 * s["residual lr=0"]["final_loss"]
    if full_mode:  # README/THEORY 12: "residual + LayerNorm ends 2.7-5.0 std below it"
        below = [s[f"residual lr={demo.LR:g}"]["final_below_floor_in_std"] for s in n["per_seed"]]
        assert round(min(below), 1) == 2.7 and round(max(below), 1) == 5.0
