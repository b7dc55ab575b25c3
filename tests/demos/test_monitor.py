"""monitor: GradientMonitor warns (exploding) well before the run turns non-finite; a clipped run stays quiet."""

import math

import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("monitor")


def test_writes_figures_and_fragment(result):
    out, _ = result
    for name in ("timeline", "per_parameter"):
        assert (out / f"monitor_{name}.png").stat().st_size > 20_000
    text = (out / "monitor.md").read_text()
    assert "monitor_timeline.png" in text and "monitor_per_parameter.png" in text


def test_monitor_records_the_global_norm_it_should(result):
    _, n = result
    for mine, theirs in zip(n["own_norms"], n["global_norm"], strict=True):
        if math.isfinite(mine):
            assert theirs == pytest.approx(mine, rel=1e-9)
        else:
            assert math.isnan(theirs)


def test_global_flags_follow_the_detection_rule(result):
    _, n = result
    G = n["global_norm"]
    flagged = {(s, k) for s, k, _ in n["global_flags"]}
    for t, g in enumerate(G):
        if not math.isfinite(g):
            assert (t, "nonfinite") in flagged
            continue
        explodes = g > n["eps_max"] or (t > 0 and math.isfinite(G[t - 1]) and g > n["growth"] * G[t - 1])
        assert ((t, "exploding") in flagged) == explodes
        assert ((t, "vanishing") in flagged) == (g < n["eps_min"])


def test_warning_comes_long_before_the_failure(result):
    _, n = result
    assert n["first_nonfinite"] == n["first_nonfinite_grad"]
    assert n["first_exploding"] is not None and n["first_nonfinite"] is not None
    # the exploding flag is raised before the loss (and later the gradient) goes non-finite
    assert n["first_exploding"] < n["first_nonfinite_loss"] <= n["first_nonfinite"]
    assert n["warning_lead_steps"] >= 10
    # the saturated recurrent weights' gradients vanish meanwhile (per-parameter flags)
    assert n["count_vanishing"] > 0


def test_clipped_run_raises_no_alarm(result):
    _, n = result
    assert n["clipped_steps_run"] == n["steps"]  # the control ran its whole budget
    assert n["clipped_count_nonfinite"] == 0
    assert n["clipped_count_vanishing"] == 0
    assert n["clipped_final_loss"] < 0.5
