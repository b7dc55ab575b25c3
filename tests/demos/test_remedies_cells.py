"""remedies_cells: EGF profiles of residual / highway / LayerNorm cells, inits, dropout beside vanilla.

Quick mode runs by default; ``MINIGRAD_DEMO_MODE=full`` runs the full mode (the numbers the
figures, docs/THEORY.md and README quote). The claims are checked seed by seed.
"""


import numpy as np
import pytest
import remedies_cells as demo

from tests.demos.remedies_tables import assert_tables_parse, quoted


@pytest.fixture(scope="module")
def numbers(demo_run):
    out, n = demo_run("remedies_cells")
    assert assert_tables_parse(out / "remedies_cells.md") == 2
    for name in ("profiles", "stacked"):
        assert (out / f"remedies_cells_{name}.png").stat().st_size > 20_000
    return n


# THEORY R1/R2: EGF(49), median [min, max] over 5 seeds, as the text quotes them
THEORY_EGF49 = {
    "vanilla": ("3.7e-14", "5.7e-16", "1.9e-12"),
    "residual": ("136", "44", "201"),
    "highway": ("5.1e-4", "1.2e-4", "1.1e-3"),
    "orthogonal": ("2.1e-4", "3.9e-5", "2.4e-4"),
    "irnn": ("0.33", "0.27", "0.36"),
    "lstm": ("2.8e-11", "1.3e-11", "1.0e-10"),
    "lstm_chrono": ("0.085", "0.080", "0.098"),
    "layernorm": ("5.8e-13", "2.1e-14", "5.3e-12"),
    "rec_dropout": ("2.6e-10", "3.8e-11", "5.4e-9"),
    "zoneout": ("2.8e-9", "8.7e-10", "1.5e-8"),
}


def assert_theory_egf49(numbers, kind):
    v = numbers["summary"][kind]
    for stat, text in zip(("median", "min", "max"), THEORY_EGF49[kind], strict=True):
        assert quoted(v[stat], text), (kind, stat, v[stat], text)


def at_last_lag(numbers, kind):
    """EGF at lag T - 1, one value per seed."""
    return np.array(numbers["egf"][kind])[:, numbers["T"] - 1]


def test_seeds(numbers, full_mode):
    assert len(numbers["seeds"]) == (5 if full_mode else 2)
    if full_mode:  # README's caption, medians of 5 seeds at lag 49, at the precision it quotes them
        med = {kind: v["median"] for kind, v in numbers["summary"].items()}
        assert numbers["T"] - 1 == 49
        assert f"{med['vanilla']:.2g}" == "3.7e-14"
        assert round(med["irnn"], 2) == 0.33 and round(med["lstm_chrono"], 3) == 0.085
        assert round(med["highway"], 4) == 0.0005 and round(med["orthogonal"], 4) == 0.0002
        assert round(med["residual"]) == 136
        # THEORY R2's setting: "hidden 32", "lag T - 1 = 49", "5 seeds"
        assert numbers["hidden"] == 32 and numbers["seeds"] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kind", demo.UNROLLED)
def test_profile_under_the_per_step_norm_bound(numbers, kind):
    egf, bound = np.array(numbers["egf"][kind]), np.array(numbers["bounds"][kind])
    assert egf.shape == bound.shape == (len(numbers["seeds"]), numbers["T"] + 1)
    assert np.all(egf <= bound * (1 + 1e-9))


def test_vanilla_vanishes(numbers, full_mode):
    assert at_last_lag(numbers, "vanilla").max() < 1e-6
    if full_mode:  # THEORY R2: "vanilla tanh RNN, PyTorch init | 3.7e-14 [5.7e-16, 1.9e-12]"
        assert_theory_egf49(numbers, "vanilla")


def test_residual_cell_does_not_vanish_it_grows(numbers, full_mode):
    # J = I + D W: the product through time is prod (I + D_k W), which grows when rho(I + D W) > 1
    assert at_last_lag(numbers, "residual").min() > 1.0
    if full_mode:  # THEORY R1: "EGF at lag 49 is 136 (median of 5 seeds; min 44, max 201)"
        assert_theory_egf49(numbers, "residual")


@pytest.mark.parametrize("kind", ["highway", "orthogonal", "irnn", "lstm_chrono"])
def test_identity_paths_and_inits_keep_the_gradient(numbers, kind, full_mode):
    ours, vanilla = at_last_lag(numbers, kind), at_last_lag(numbers, "vanilla")
    assert ours.min() > 1e-5
    assert np.all(ours > 1e4 * vanilla)  # seed by seed (same inputs, same W_ih draw)
    if full_mode:  # THEORY R2's table row for this kind, e.g. "IRNN | 0.33 [0.27, 0.36]"
        assert_theory_egf49(numbers, kind)


def test_chrono_init_is_what_helps_the_lstm(numbers, full_mode):
    lstm, chrono = at_last_lag(numbers, "lstm"), at_last_lag(numbers, "lstm_chrono")
    assert lstm.max() < 1e-4  # PyTorch's init: the LSTM vanishes too
    assert np.all(chrono > 1e4 * lstm)
    if full_mode:  # THEORY R2: "LSTM, PyTorch init | 2.8e-11 [1.3e-11, 1.0e-10]"
        assert_theory_egf49(numbers, "lstm")


def test_layernorm_cell_does_not_help_at_initialization(numbers, full_mode):
    ln = at_last_lag(numbers, "layernorm")
    if full_mode:  # THEORY R2: "LayerNorm cell | 5.8e-13 [2.1e-14, 5.3e-12]"
        assert_theory_egf49(numbers, "layernorm")
    assert ln.max() < 1e-6  # it vanishes like the vanilla RNN ...
    per_step = (ln / at_last_lag(numbers, "vanilla")) ** (1 / (numbers["T"] - 1))
    assert np.all((0.8 < per_step) & (per_step < 1.25))  # ... at a per-step rate within 25% of vanilla's


@pytest.mark.parametrize("kind", ["rec_dropout", "zoneout"])
def test_dropout_and_zoneout_slow_but_do_not_stop_vanishing(numbers, kind, full_mode):
    ours, vanilla = at_last_lag(numbers, kind), at_last_lag(numbers, "vanilla")
    assert np.all(ours > vanilla)
    assert ours.max() < 1e-4
    if full_mode:  # THEORY R2: "recurrent dropout p = 0.25 | 2.6e-10 [...]", "zoneout p = 0.25 | 2.8e-9 [...]"
        assert_theory_egf49(numbers, kind)


def test_demo_loop_reproduces_the_dropout_modules(numbers):
    assert numbers["wrapper_state_diff"] == 0.0


def test_stacked_heatmap(numbers, full_mode):
    heat = np.array(numbers["heatmap"])  # log10, (layers, T)
    assert heat.shape == (numbers["layers"], numbers["T"])
    assert np.argmax(heat[:, -1]) == numbers["layers"] - 1  # at t = T the top layer is largest
    assert np.all(np.diff(heat[:, -1]) > 0)  # and it falls layer by layer going down
    assert heat[:, 0].max() < heat[-1, -1] - 5  # at t = 1 every layer is 5+ decades down
    if full_mode:  # README: 0.7 decades from the top layer to the bottom at t = T; below 10^-8.6 at t = 1
        assert round(heat[-1, -1] - heat[0, -1], 1) == 0.7
        assert heat[:, 0].max() < -8.6 and round(heat[:, 0].max(), 2) == -8.70  # THEORY R5: layer 1 at 10^-8.70
        # THEORY R5: "from 10^0.75 (top) to 10^0.06 (layer 0)", "4 tanh layers", "T = 50"
        assert round(heat[-1, -1], 2) == 0.75 and round(heat[0, -1], 2) == 0.06
        assert numbers["layers"] == 4 and numbers["T"] == 50


def test_stacked_top_layer_under_its_bound(numbers):
    heat, bound = np.array(numbers["heatmap"]), np.array(numbers["top_bound"])
    assert bound.shape == (numbers["T"],)
    assert np.all(heat[-1] <= bound + 1e-9)  # log10: ||g_t|| <= prod ||J_k|| ||g_T|| per sample, so in the mean
