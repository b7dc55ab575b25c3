r"""Remedies for vanishing gradients through time, measured: cells, initializations, dropout, depth.

Every curve is the effective gradient flow $\mathrm{EGF}(\tau) = \gamma_\tau/\gamma_0$,
$\gamma_\tau = \mathbb{E}_n\|\partial\mathcal L/\partial s_{T-\tau}\|$ (``temporal_gradient_profile``),
for $\mathcal L = \sum_i h_{T,i}$ after T steps of random inputs $x_t \sim \mathcal N(0, I)$, at
initialization (no training), beside the vanilla tanh RNN with PyTorch's init on the same inputs:

* cells (``minigrad.nn.extra_cells``, through ``bptt.unroll`` with their closed-form $J_t$):
  residual $J_t = I + \mathrm{diag}(1-u^2)W_{hh}$, highway
  $J_t = \mathrm{diag}(1-\tau) + \dots$, LayerNorm $J_t = \mathrm{diag}((1-h^2)\gamma) N_t W_{hh}$;
* initializations: orthogonal $W_{hh}$, IRNN (ReLU, $W_{hh} = I$, zero biases), LSTM with
  PyTorch's init and with chrono init ($T_{\max} = T$);
* recurrent dropout (one mask per sequence) and zoneout, both p = 0.25, around the vanilla cell.

Theory beside measurement: for the unrolled cells, the per-sample bound
$\|\partial\mathcal L/\partial s_t\| \le \prod_{k=t}^{T-1}\|J_k\|_2\,\|\partial\mathcal L/\partial s_T\|$
(dotted, same colour). A last figure stacks 4 vanilla layers (``nn.RNN(num_layers=4)``) and
shows $\log_{10}\|\partial\mathcal L/\partial h^{(l)}_t\|$ as a layer x time heatmap. The
initializations are random: several seeds (5 in the full run), median and min-max band.

    python demos/remedies_cells.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import numpy as np
from _common import Report, figure, run

import minigrad as mg
from minigrad import bptt, nn
from minigrad.diagnostics import temporal_gradient_profile
from minigrad.nn.dropout_rnn import RecurrentDropout, Zoneout
from minigrad.nn.extra_cells import HighwayRNNCell, LayerNormRNNCell, ResidualRNNCell
from minigrad.nn.recurrent_init import chrono_init_, identity_, scaled_orthogonal_
from minigrad.random import get_generator

D_IN, BATCH, P_DROP = 8, 4, 0.25
# Okabe-Ito (colour-blind safe); the vanilla RNN is black in every panel
COLORS = {"vanilla": "black", "residual": "#0072B2", "highway": "#009E73", "layernorm": "#D55E00",
          "orthogonal": "#0072B2", "irnn": "#009E73", "lstm": "#CC79A7", "lstm_chrono": "#D55E00",
          "rec_dropout": "#0072B2", "zoneout": "#D55E00"}  # fmt: skip
LABELS = {"vanilla": "vanilla tanh RNN (PyTorch init)", "residual": "residual cell",
          "highway": "highway cell (transform bias -1)", "layernorm": "LayerNorm cell",
          "orthogonal": "tanh RNN, orthogonal $W_{hh}$", "irnn": "IRNN (ReLU, $W_{hh}=I$, b = 0)",
          "lstm": "LSTM (PyTorch init)", "lstm_chrono": "LSTM, chrono init",
          "rec_dropout": f"+ recurrent dropout p = {P_DROP}", "zoneout": f"+ zoneout p = {P_DROP}"}  # fmt: skip
PANELS = {"cells": ("vanilla", "residual", "highway", "layernorm"),
          "initialization": ("vanilla", "orthogonal", "irnn", "lstm", "lstm_chrono"),
          "dropout": ("vanilla", "rec_dropout", "zoneout")}  # fmt: skip
UNROLLED = ("vanilla", "residual", "highway", "layernorm", "orthogonal", "irnn", "lstm", "lstm_chrono")


def make_cell(kind: str, hidden: int, T: int):
    """The cell for ``kind`` (float64), drawing its init from minigrad's generator."""
    if kind in ("vanilla", "orthogonal", "rec_dropout", "zoneout"):
        cell = nn.RNNCell(D_IN, hidden)
        if kind == "orthogonal":
            scaled_orthogonal_(cell.weight_hh, 1.0)
    elif kind == "irnn":
        cell = nn.RNNCell(D_IN, hidden, nonlinearity="relu")
        identity_(cell.weight_hh)
        cell.bias_ih.data[...] = 0.0
        cell.bias_hh.data[...] = 0.0
    elif kind in ("lstm", "lstm_chrono"):
        cell = nn.LSTMCell(D_IN, hidden)
        if kind == "lstm_chrono":
            chrono_init_(cell, T)
    else:
        cls = {"residual": ResidualRNNCell, "highway": HighwayRNNCell, "layernorm": LayerNormRNNCell}[kind]
        cell = cls(D_IN, hidden)
    return cell.to(np.float64)


def unrolled_profile(cell, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EGF(tau) from explicit BPTT with the closed-form J_t, and the bound prod ‖J_k‖_2."""
    traj = bptt.unroll(cell, x)
    T, N, S = traj.T, x.shape[1], traj.state_size
    g = np.zeros((T + 1, N, S))
    g[T, :, :cell.hidden_size] = 1.0  # L = sum_i h_T,i (for an LSTM: the h half of s = [h; c])
    _, egf = temporal_gradient_profile(traj.backprop(g))
    step_norms = np.linalg.norm(traj.jacobians(), ord=2, axis=(-2, -1))  # (T, N)
    prods = np.cumprod(step_norms[::-1], axis=0)  # row tau-1: prod_{k=T-tau}^{T-1} ||J_k||
    bound = np.concatenate([[1.0], prods.mean(axis=1)])  # ||g_T|| is the same for every sample
    return egf, bound


def wrapped_profile(kind: str, cell, x: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """EGF under recurrent dropout / zoneout, and the largest difference from the module's states.

    The module returns only the stacked states, so the same formula is run here step by step
    with ``retain_grad`` on each state, from the same generator state (same masks); the
    states are compared with the module's own forward pass.
    """
    wrapper = RecurrentDropout(cell, P_DROP) if kind == "rec_dropout" else Zoneout(cell, P_DROP)
    gen_state = get_generator().bit_generator.state
    reference, _ = wrapper(x)
    get_generator().bit_generator.state = gen_state
    N, H = x.shape[1], cell.hidden_size
    s = cell.initial_state(N)
    states = [s]
    mask = None
    if kind == "rec_dropout":  # RecurrentDropout: one mask for the whole sequence
        mask = mg.tensor((get_generator().random((N, H)) >= P_DROP) / (1 - P_DROP))
    for t in range(x.shape[0]):
        if kind == "rec_dropout":
            s = cell.state_step(x[t], s * mask)
        else:  # Zoneout: z_t fresh every step, s_{t+1} = z s_t + (1 - z) f(x_t, s_t)
            new = cell.state_step(x[t], s)
            z = mg.tensor((get_generator().random(s.shape) < P_DROP).astype(s.dtype))
            s = z * s + (1 - z) * new
        s.retain_grad()
        states.append(s)
    states[-1].sum().backward()
    adjoints = np.stack([np.zeros((N, H))] + [st.grad for st in states[1:]])
    adjoints[0] = states[1].grad if kind == "zoneout" else adjoints[1]  # s_0 is a constant
    _, egf = temporal_gradient_profile(adjoints)
    diff = float(np.abs(np.stack([st.data for st in states[1:]]) - reference.data).max())
    return egf[:-1], diff  # lag T (s_0, not in the graph) left out


def stacked_heatmap(hidden: int, T: int, layers: int, seed: int) -> np.ndarray:
    mg.manual_seed(seed)
    rnn = nn.RNN(D_IN, hidden, num_layers=layers).to(np.float64)
    x = np.random.default_rng(seed + 1).normal(size=(T, BATCH, D_IN))
    trajs = bptt.unroll(rnn, x)
    for tr in trajs:
        for s in tr.states[1:]:
            s.retain_grad()
    trajs[-1].states[-1].sum().backward()
    G = np.array([[np.linalg.norm(s.grad, axis=1).mean() for s in tr.states[1:]] for tr in trajs])
    # the top layer's per-sample bound ||g_t|| <= prod_{k >= t} ||J_k||_2 ||g_T|| (t = 1..T)
    norms = np.linalg.norm(trajs[-1].jacobians()[1:], ord=2, axis=(-2, -1))  # J_1..J_{T-1}, (T-1, N)
    prods = np.cumprod(norms[::-1], axis=0)[::-1]  # row t-1: prod_{k=t}^{T-1} ||J_k||
    g_T = np.linalg.norm(trajs[-1].states[-1].grad, axis=1)
    bound = np.append((prods * g_T).mean(axis=1), g_T.mean())
    return np.log10(G), np.log10(bound)


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """EGF profiles of every remedy beside the vanilla RNN, and the stacked-RNN heatmap."""
    report = Report("remedies_cells", out)
    hidden, T, n_seeds, layers = (16, 30, 2, 3) if quick else (32, 50, 5, 4)
    seeds = [seed + i for i in range(n_seeds)]
    egf = {k: [] for k in LABELS}
    bounds = {k: [] for k in UNROLLED}
    wrap_diff = 0.0
    for s in seeds:
        x = np.random.default_rng(1000 + s).normal(size=(T, BATCH, D_IN))
        for kind in LABELS:
            mg.manual_seed(s)  # the same W_ih, W_hh draw for the vanilla cell and its wrappers
            cell = make_cell(kind, hidden, T)
            if kind in UNROLLED:
                e, b = unrolled_profile(cell, x)
                bounds[kind].append(b)
            else:
                e, d = wrapped_profile(kind, cell, x, s)
                wrap_diff = max(wrap_diff, d)
            egf[kind].append(e)
    egf = {k: np.array(v) for k, v in egf.items()}  # (seeds, T+1) or (seeds, T), index = lag tau
    bounds = {k: np.array(v) for k, v in bounds.items()}

    # every profile up to lag T - 1, the earliest state every variant measures (the tables quote it there;
    # some variants have no lag T, where s_0 is not in the graph)
    lags = np.arange(T)
    fig, axes = figure(1, 3, width=16.5, height=4.8)
    for ax, (panel, kinds) in zip(axes, PANELS.items(), strict=True):
        for kind in kinds:
            e = egf[kind][:, :T]
            lag = lags
            ax.plot(lag, np.median(e, axis=0), color=COLORS[kind], lw=2.2 if kind == "vanilla" else 1.8,
                    label=LABELS[kind])  # fmt: skip
            if n_seeds > 1:
                ax.fill_between(lag, e.min(0), e.max(0), color=COLORS[kind], alpha=0.15, lw=0)
            if kind in bounds and panel != "dropout":
                ax.plot(lags, np.median(bounds[kind], 0)[:T], color=COLORS[kind], ls=":", lw=1.3)
        if panel != "dropout":
            ax.plot([], [], color="gray", ls=":", lw=1.3, label=r"bound $\prod_k\|J_k\|_2$ (same colour)")
        ax.axvline(T - 1, color="black", lw=0.8, ls="-.")
        ax.set(yscale="log", xlabel=r"lag $\tau = T - t$ (steps back from the loss)", title=f"{panel}",
               xlim=(0, T - 0.5))
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.17), fontsize=8, ncol=1, frameon=False)
    axes[0].set_ylabel(r"EGF$(\tau) = \gamma_\tau / \gamma_0$")
    fig.suptitle(f"Gradient flow at initialization, hidden {hidden}, T = {T}: median of {n_seeds} seeds, "
                 f"band = min-max; dotted = per-step norm bound; dash-dot: lag T - 1 = {T - 1}", y=1.02)
    report.save(fig, "profiles")

    heat, top_bound = stacked_heatmap(hidden, T, layers, seed)
    fig, (ax, bx) = figure(1, 2, width=14, height=3.8, gridspec_kw={"width_ratios": [1.25, 1]})
    im = ax.imshow(heat, aspect="auto", origin="lower", cmap="viridis",
                   extent=(0.5, T + 0.5, -0.5, layers - 0.5))  # fmt: skip
    ax.set(xlabel="time step t (the loss reads the top layer at t = T)", ylabel="layer l",
           yticks=range(layers), title=rf"Stacked tanh RNN ({layers} layers, PyTorch init): "
           r"$\log_{10}\|\partial\mathcal{L}/\partial h^{(l)}_t\|$")  # fmt: skip
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="log10 gradient norm")
    steps = np.arange(1, T + 1)
    layer_colors = ["#E69F00", "#009E73", "#0072B2", "#CC79A7", "#56B4E9"][:layers - 1] + ["black"]
    for layer, color in enumerate(layer_colors):
        top = " (top)" if layer == layers - 1 else ""
        bx.plot(steps, heat[layer], color=color, lw=1.8, label=f"layer {layer}{top}")
    bx.plot(steps, top_bound, color="black", ls=":", lw=1.5,
            label=r"top layer's bound $\prod_k\|J_k\|_2\,\|g_T\|$")  # fmt: skip
    bx.set(xlabel="time step t", ylabel="log10 gradient norm", title="the same, one line per layer")
    bx.legend(loc="lower right", fontsize=8)
    report.save(fig, "stacked")

    summary = {}
    rows = []
    for kind in LABELS:
        e = egf[kind][:, T - 1]  # lag T - 1: the earliest state every variant measures
        summary[kind] = {"median": float(np.median(e)), "min": float(e.min()), "max": float(e.max())}
        rows.append([LABELS[kind].replace("$", ""), summary[kind]["median"], summary[kind]["min"],
                     summary[kind]["max"]])  # fmt: skip
    report.table(f"EGF at lag T - 1 = {T - 1} ({n_seeds} seeds; hidden {hidden})",
                 ["variant", "median", "min", "max"], rows)
    report.table(f"Stacked RNN: log10 mean ‖dL/dh^(l)_t‖ (layers x selected t, T = {T})",
                 ["layer"] + [f"t = {t}" for t in (1, T // 2, T)],
                 [[layer, heat[layer, 0], heat[layer, T // 2 - 1], heat[layer, T - 1]]
                  for layer in range(layers)])  # fmt: skip
    report.say(_caption(summary, heat, T))
    report.finish()
    return {"hidden": hidden, "T": T, "seeds": seeds, "layers": layers,
            "egf": {k: v.tolist() for k, v in egf.items()},
            "bounds": {k: v.tolist() for k, v in bounds.items()},
            "summary": summary, "heatmap": heat.tolist(), "top_bound": top_bound.tolist(),
            "wrapper_state_diff": wrap_diff}  # fmt: skip


def _caption(summary: dict, heat: np.ndarray, T: int) -> str:
    """The figures' sentences, from the measured medians."""
    v = summary["vanilla"]["median"]
    parts = ", ".join(f"{k} {summary[k]['median']:.2g}" for k in LABELS if k != "vanilla")
    return (f"At lag {T - 1} the vanilla RNN keeps EGF {v:.2g} of the last step's gradient "
            f"(median over seeds); the remedies: {parts}. Stacked: at t = T the gradient falls from "
            f"10^{heat[-1, -1]:.2f} (top layer) to 10^{heat[0, -1]:.2f} (layer 0); at t = 1 every "
            f"layer is at or below 10^{heat[:, 0].max():.1f}: time, not depth, does most of the vanishing.")


if __name__ == "__main__":
    run(main, __doc__)
