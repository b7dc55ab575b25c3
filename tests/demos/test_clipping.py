"""clipping: unclipped, the loss overflows float32; norm, value, adaptive clipping bound it."""

import math

import clipping
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("clipping")
    return out, clipping.main(quick=True, out=out, seed=0)


def test_writes_figure_and_fragment(result):
    out, _ = result
    assert (out / "clipping_training.png").stat().st_size > 20_000
    assert "clipping_training.png" in (out / "clipping.md").read_text()


def test_unclipped_run_spikes_then_goes_non_finite(result):
    _, n = result
    r = n["none"]
    assert r["first_nan_step"] is not None and r["first_nan_step"] < n["steps"]
    # a spike of many orders of magnitude before the overflow, not a slow drift
    assert r["max_finite_loss"] > 1e6 * r["initial_loss"]
    events = r["events"]
    first_step, first_stage, _ = events[0]
    assert first_step == r["first_nan_step"] and first_stage == "forward"
    # parameters go non-finite only at or after the first non-finite forward value
    param_steps = [s for s, stage, _ in events if stage == "update"]
    assert param_steps and min(param_steps) >= first_step


@pytest.mark.parametrize("method", ["norm", "value", "adaptive"])
def test_clipped_runs_stay_finite_and_learn(result, method):
    _, n = result
    r = n[method]
    assert r["all_finite"]
    assert r["final_loss"] < 0.25 * r["initial_loss"]


def test_norm_clipping_bounds_the_global_norm(result):
    _, n = result
    r = n["norm"]
    assert r["max_grad_norm"] > n["max_norm"]  # clipping was active at least once
    assert max(r["clipped_norm"]) <= n["max_norm"] * (1 + 1e-5)


def test_value_clipping_bounds_every_entry(result):
    _, n = result
    # float32 gradients: the bound is c rounded to float32
    assert n["value"]["max_abs_grad_after_clip"] <= np.float32(n["clip_value"])


def test_adaptive_threshold_follows_its_recurrence(result):
    _, n = result
    r = n["adaptive"]
    assert r["max_excess_over_threshold"] <= 1 + 1e-5
    theta, clipped, alpha = r["threshold"], r["clipped_norm"], n["alpha"]
    assert math.isinf(theta[0])  # the first step only measures
    # theta used at step t+1 = alpha * theta_t + (1 - alpha) * (clipped norm at step t), from t = 1
    for t in range(1, len(theta) - 1):
        expected = alpha * theta[t] + (1 - alpha) * clipped[t]
        assert theta[t + 1] == pytest.approx(expected, rel=1e-5)
    assert np.all(np.isfinite(theta[1:]))
