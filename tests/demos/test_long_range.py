"""long_range: after the same budget, the vanilla RNN fails first as the delay L grows."""

import math

import long_range as demo
import pytest


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("long_range")
    return out, demo.main(quick=True, out=out, seed=0)


def test_writes_figure_and_fragment(result):
    out, _ = result
    assert (out / "long_range_accuracy.png").stat().st_size > 20_000
    assert "long_range_accuracy.png" in (out / "long_range.md").read_text()


def test_task_is_solvable_at_the_shortest_delay(result):
    _, n = result
    L = n["lengths"][0]
    for kind in demo.KINDS:
        assert n[f"{kind} L={L}"]["accuracy"] > 0.9


def test_vanilla_rnn_fails_first_at_the_longest_delay(result):
    _, n = result
    L = n["lengths"][-1]
    rnn = n[f"RNN L={L}"]
    # the RNN is near chance (accuracy 1/4, loss ln 4) ...
    assert rnn["accuracy"] < n["chance"] + 0.15
    assert rnn["test_loss"] > 0.8 * math.log(demo.K)
    # ... while both gated cells, same size and budget, have learned the task
    for kind in ("LSTM", "GRU"):
        gated = n[f"{kind} L={L}"]
        assert gated["accuracy"] > rnn["accuracy"] + 0.5
        assert gated["test_loss"] < 0.25 * rnn["test_loss"]
