"""gated_vs_vanilla: the LSTM's c -> c Jacobian block is diag(f); the forget bias sets the decay."""

import gated_vs_vanilla as demo
import numpy as np
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("gated_vs_vanilla")


def test_writes_figures_and_fragment(result):
    out, _ = result
    for name in ("profiles", "forget_bias"):
        assert (out / f"gated_vs_vanilla_{name}.png").stat().st_size > 20_000
    assert "gated_vs_vanilla_forget_bias.png" in (out / "gated_vs_vanilla.md").read_text()


@pytest.mark.parametrize("label", ["RNN", "GRU", "LSTM (b_f = 0)", "LSTM (p = 0.95)"])
def test_explicit_bptt_equals_autograd(result, label):
    _, n = result
    assert n[label]["autograd_rel_diff"] < 1e-12


def test_parameter_counts(result):
    _, n = result
    H, I = demo.H, demo.H_IN
    one = H * (I + H) + 2 * H  # W_ih, W_hh, b_ih, b_hh of one gate block
    assert n["RNN"]["params"] == one
    assert n["GRU"]["params"] == 3 * one
    assert n["LSTM (b_f = 0)"]["params"] == 4 * one


def test_vanilla_rnn_vanishes_and_retaining_lstm_does_not(result, full_mode):
    _, n = result
    T = n["T"]
    rnn = n["RNN"]
    # a contraction per step: ||J|| < 1 with PyTorch's init U(-1/sqrt(H), 1/sqrt(H))
    assert rnn["decay_per_step"] < 0.7
    assert rnn["grad_ratio_at_T"] < 0.7**T
    lstm = n[f"LSTM (p = {demo.PROFILE_P:g})"]
    assert lstm["grad_ratio_at_T"] > 1e-3
    assert lstm["grad_ratio_at_T"] > 1e15 * rnn["grad_ratio_at_T"]
    # the default gated cells (f, z ~ 1/2) are only modestly better than the RNN
    for label in ("GRU", "LSTM (b_f = 0)"):
        assert rnn["decay_per_step"] < n[label]["decay_per_step"] < 0.8
    if full_mode:  # README/THEORY Claim 9: "H = 32, T = 100 ... the RNN, GRU and LSTM all vanish (0.55, 0.62, 0.63
        # per step); the LSTM with p = 0.95 keeps 6e-2 after 100 steps"
        assert n["hidden"] == 32 and T == 100 and demo.PROFILE_P == 0.95
        decay = [round(n[label]["decay_per_step"], 2) for label in ("RNN", "GRU", "LSTM (b_f = 0)")]
        assert decay == [0.55, 0.62, 0.63]
        assert f"{lstm['grad_ratio_at_T']:.0e}" == "6e-02"


@pytest.mark.parametrize("p", demo.RETENTION)
def test_cell_block_is_diag_of_forget_gates(result, p):
    _, n = result
    r = n[f"LSTM p={p:g}"]
    assert r["max_abs_Jcc_offdiag"] == 0.0
    assert r["max_abs_Jcc_minus_diag_f"] < 1e-12
    # the bias sets the gate: sigma(b_f) = p, and the measured gates average close to p
    assert 1 / (1 + np.exp(-r["b_f"])) == pytest.approx(p, rel=1e-12)
    assert abs(r["mean_forget_gate"] - p) < 0.02


def test_forget_bias_sets_the_decay(result, full_mode):
    _, n = result
    rows = [n[f"LSTM p={p:g}"] for p in demo.RETENTION]
    rates = [r["decay_per_step_c"] for r in rows]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))  # more retention, slower decay
    for r in rows:
        # the additive path alone decays as the forget gates; the other paths only add to it here
        assert r["decay_per_step_c"] >= r["geomean_forget_gate"] - 0.02
        assert r["decay_per_step_c"] <= r["geomean_forget_gate"] + 0.15
        assert r["grad_ratio_c_at_T"] >= r["additive_path_ratio_at_T"]
    if full_mode:  # THEORY Claim 9: "max|J_cc - diag(f)| = 2.2e-16 ... decay per step of ||dL/dc_t|| 0.61, 0.84,
        # 0.97, 1.007, 1.02 for p = 0.5, 0.73, 0.88, 0.95, 0.99"; README: "diag(f_51) to 2e-16"
        worst = max(r["max_abs_Jcc_minus_diag_f"] for r in rows)
        assert f"{worst:.2g}" == "2.2e-16" and f"{worst:.0e}" == "2e-16"
        assert tuple(demo.RETENTION) == (0.5, 0.73, 0.88, 0.95, 0.99)
        digits = (2, 2, 2, 3, 2)
        assert [round(x, d) for x, d in zip(rates, digits, strict=True)] == [0.61, 0.84, 0.97, 1.007, 1.02]
