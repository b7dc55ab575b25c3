"""long_range as a controlled experiment: with PyTorch's default init the vanilla RNN, LSTM and GRU
all fail at the longest delay; a better init of the same cell (orthogonal W_hh, retention biases)
learns it. Every claim is checked on every seed the demo ran."""

import long_range as demo
import pytest


@pytest.fixture(scope="module")
def result(demo_run):
    return demo_run("long_range")


def _at(n, model, L):
    return n[f"{model} L={L}"]


def test_writes_figure_and_fragment(result, full_mode):
    out, n = result
    assert (out / "long_range_accuracy.png").stat().st_size > 20_000
    text = (out / "long_range.md").read_text()
    assert "long_range_accuracy.png" in text
    assert len(n["seeds"]) == (5 if full_mode else 2)
    if full_mode:  # README/THEORY 10: "L = 5 and 30", "seeds 0-4", "first of 4 symbols (chance 1/4)",
        # "150 Adam steps of 64"
        assert n["lengths"] == [5, 30] and n["seeds"] == [0, 1, 2, 3, 4]
        assert demo.K == 4 and n["chance"] == 0.25 and n["steps"] == 150 and n["batch"] == 64


def test_same_budget_and_seeds_for_every_model(result):
    _, n = result
    for L in n["lengths"]:
        for m in demo.MODELS:
            assert len(_at(n, m, L)["accuracy"]) == len(n["seeds"])


def test_task_is_solvable_at_the_shortest_delay(result):
    _, n = result
    L = n["lengths"][0]
    for m in demo.MODELS:
        r = _at(n, m, L)
        assert r["mean"] > 0.9, m
        if m != "RNN default":  # full mode: one of 5 seeds of the default RNN stalls at 0.54 even here
            assert r["min"] > 0.9, m


def test_default_init_lstm_fails_at_the_longest_delay(result):
    _, n = result
    L = n["lengths"][-1]
    r = _at(n, "LSTM default", L)
    assert r["max"] < n["chance"] + 0.1  # at chance on every seed
    assert min(r["test_loss"]) > 0.9 * n["chance_loss"]


def test_initialization_not_gating_decides(result, full_mode):
    _, n = result
    L = n["lengths"][-1]
    if full_mode:  # L = 30: all three default-init cells at chance on all 5 seeds
        for m in ("RNN default", "LSTM default", "GRU default"):
            assert _at(n, m, L)["max"] < n["chance"] + 0.1, m
    # the better init of each cell learns the task on most seeds, the default LSTM on none
    for better, default in (("RNN orthogonal", "RNN default"), ("LSTM retention", "LSTM default"),
                            ("GRU retention", "GRU default")):
        b, d = _at(n, better, L), _at(n, default, L)
        assert b["solved"] >= (4 if full_mode else 2), better
        assert b["mean"] >= d["mean"], better
    assert _at(n, "GRU retention", L)["min"] > 0.9  # on every seed
    assert _at(n, "LSTM default", L)["solved"] == 0
    if full_mode:  # README/THEORY 10: "orthogonal W_hh (4/5 seeds), the LSTM retention init (4/5) and the GRU
        # retention init (5/5) learn it"
        assert L == 30
        assert _at(n, "RNN orthogonal", L)["solved"] == 4
        assert _at(n, "LSTM retention", L)["solved"] == 4
        assert _at(n, "GRU retention", L)["solved"] == 5


def test_irnn_is_unreliable(result, full_mode):
    _, n = result
    r = _at(n, "RNN identity (IRNN)", n["lengths"][-1])
    if full_mode:  # learns it on some seeds and stays at chance on others
        assert 1 <= r["solved"] < len(n["seeds"])
        assert r["min"] < n["chance"] + 0.1
        assert r["solved"] == 3  # README/THEORY 10: "IRNN on 3/5"
