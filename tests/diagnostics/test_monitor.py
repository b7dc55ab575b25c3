"""GradientMonitor: recorded statistics, the three flags, plot, and grad_stats."""

import io
import math

import numpy as np
import pytest

from minigrad.diagnostics import GradientMonitor, grad_stats
from minigrad.nn import Module, Parameter


class Two(Module):
    def __init__(self):
        super().__init__()
        self.weight = Parameter(np.array([[3.0, 4.0]]))
        self.bias = Parameter(np.array([1.0]))


def set_grads(m, w, b):
    m.weight.grad = None if w is None else np.array(w, dtype=float)
    m.bias.grad = None if b is None else np.array(b, dtype=float)


def test_records_statistics():
    m = Two()
    mon = GradientMonitor(m)
    set_grads(m, [[1.0, -3.0]], [2.0])
    assert mon.step() == []
    h = mon.history["weight"]
    assert h["mean"] == [-1.0] and h["min"] == [-3.0] and h["max"] == [1.0]
    assert h["std"][0] == pytest.approx(2.0)
    assert h["norm"][0] == pytest.approx(math.sqrt(10))
    assert h["ratio"][0] == pytest.approx(math.sqrt(10) / 5)
    assert mon.global_norm[0] == pytest.approx(math.sqrt(14))
    set_grads(m, [[0.0, 1.0]], None)  # bias has no grad this step
    mon.step()
    assert math.isnan(mon.history["bias"]["norm"][1]) and mon.steps == 2
    assert mon.global_norm[1] == pytest.approx(1.0)


def test_flags_vanishing_exploding_growth_nonfinite():
    m = Two()
    mon = GradientMonitor(m, eps_min=1e-6, eps_max=100.0, growth=10.0)
    set_grads(m, [[1e-9, 0.0]], [0.0])
    kinds = {(f.name, f.kind) for f in mon.step()}
    assert ("<global>", "vanishing") in kinds and ("weight", "vanishing") in kinds
    set_grads(m, [[1.0, 0.0]], [0.0])  # 1e9 x the previous step: exploding by growth
    assert ("<global>", "exploding") in {(f.name, f.kind) for f in mon.step()}
    set_grads(m, [[5.0, 0.0]], [0.0])  # 5x growth, below both thresholds: no global flag
    assert all(f.name != "<global>" for f in mon.step())
    set_grads(m, [[500.0, 0.0]], [0.0])  # above eps_max
    assert ("weight", "exploding") in {(f.name, f.kind) for f in mon.step()}
    set_grads(m, [[np.nan, 0.0]], [np.inf])
    flags = mon.step()
    assert {(f.name, f.kind) for f in flags} == {
        ("weight", "nonfinite"), ("bias", "nonfinite"), ("<global>", "nonfinite")}
    assert math.isnan(mon.global_norm[-1])
    assert len(mon.flags) >= 6


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    m = Two()
    mon = GradientMonitor(m)
    for k in range(4):
        set_grads(m, [[10.0**k, 1.0]], [1.0])
        mon.step()
    path = tmp_path / "g.png"
    mon.plot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_accepts_pairs_and_rejects_bad_arguments():
    m = Two()
    mon = GradientMonitor(list(m.named_parameters()))
    assert list(mon.history) == ["weight", "bias"]
    with pytest.raises(ValueError, match="eps_min"):
        GradientMonitor(m, eps_min=1.0, eps_max=0.5)
    with pytest.raises(ValueError, match="growth"):
        GradientMonitor(m, growth=-1)
    with pytest.raises(TypeError, match="model"):
        GradientMonitor(3)
    with pytest.raises(ValueError, match="nothing recorded"):
        mon.plot("x.png")


def test_grad_stats_table():
    m = Two()
    set_grads(m, [[0.0, 2.0]], None)
    buf = io.StringIO()
    rows = grad_stats(m, file=buf)
    assert rows[0]["grad_norm"] == pytest.approx(2.0)
    assert rows[0]["param_norm"] == pytest.approx(5.0)
    assert rows[1]["note"] == "no grad"
    text = buf.getvalue()
    assert "weight" in text and "2.000e+00" in text and "no grad" in text
