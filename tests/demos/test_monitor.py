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


def test_warning_comes_long_before_the_failure(result, full_mode):
    _, n = result
    assert n["first_nonfinite"] == n["first_nonfinite_grad"]
    assert n["first_exploding"] is not None and n["first_nonfinite"] is not None
    # the exploding flag is raised before the loss (and later the gradient) goes non-finite
    assert n["first_exploding"] < n["first_nonfinite_loss"] <= n["first_nonfinite"]
    assert n["warning_lead_steps"] >= 10
    # the saturated recurrent weights' gradients vanish meanwhile (per-parameter flags)
    assert n["count_vanishing"] > 0
    if full_mode:  # README/THEORY Claim 13: "exploding flag at step 15, first non-finite gradient at step 36 to 39
        # (21 to 24 steps of warning) under the 4 BLAS kernels". Chaotic (demos/_common.py CHAOTIC_DEMOS): the step of
        # the overflow moves with the kernel; the flag at step 15 comes while the norm is still moderate, and does not
        assert n["first_exploding"] == 15
        assert 36 <= n["first_nonfinite_grad"] <= 39 and 21 <= n["warning_lead_steps"] <= 24


def test_clipped_run_raises_no_alarm(result):
    _, n = result
    assert n["clipped_steps_run"] == n["steps"]  # the control ran its whole budget
    assert n["clipped_count_nonfinite"] == 0
    assert n["clipped_count_vanishing"] == 0
    assert n["clipped_final_loss"] < 0.5


_PLOT_SCRIPT = """
import sys
import numpy as np
import minigrad as mg
from minigrad import nn
from minigrad.diagnostics import GradientMonitor

model = nn.Linear(3, 2)
monitor = GradientMonitor(model)
try:
    monitor.plot(sys.argv[1])
except ValueError as e:
    assert "nothing recorded" in str(e), e
else:
    raise AssertionError("plot of an empty monitor must raise")
assert "matplotlib" not in sys.modules, "checked 'nothing recorded' only after importing matplotlib"

import matplotlib
matplotlib.use("svg")  # the user's choice, which plot() must leave alone
for _ in range(3):
    model.zero_grad()
    model(mg.tensor(np.ones((4, 3)))).sum().backward()
    model.bias.grad[...] = 0.0  # a gradient that is exactly 0: drawn on the floor, not dropped
    monitor.step()
monitor.plot(sys.argv[1])
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
"""


def test_monitor_plot_keeps_the_backend_and_checks_before_importing(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "monitor.png"
    env = {k: v for k, v in __import__("os").environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([sys.executable, "-c", _PLOT_SCRIPT, str(path)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert path.stat().st_size > 10_000
