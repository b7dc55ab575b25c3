r"""Three ways through time: BPTT, truncated BPTT(k) and RTRL on the same network and data.

The gradient of a recurrent network is a sum of products of step Jacobians
$J_t = \partial s_{t+1}/\partial s_t$. BPTT multiplies them from the loss's end, backwards in time
($\delta_t = g_t + J_t^\top\delta_{t+1}$); RTRL from the parameters' end, forwards in time
($M_{t+1} = J_t M_t + \partial s_{t+1}/\partial\theta|_{\text{imm}}$, $M_0 = 0$,
$d\mathcal L/d\theta = \sum_t g_t^\top M_t$); truncated BPTT(k) cuts the backward walk at chunk
boundaries every k steps. This demo measures, on one task (a tanh RNN reading $x_t$ and
regressing $y_t = x_{t-d,0}$ through a fixed readout, $\mathcal L = \tfrac12\sum_t (w^\top h_t - y_t)^2$):

* BPTT (``Trajectory.backprop``), RTRL (``Trajectory.rtrl`` and ``rtrl.OnlineRTRL``) and autograd
  agree to float64 precision, for the RNN, LSTM and both GRUs;
* the bias of truncation, $\|\nabla_k - \nabla\|/\|\nabla\|$ against k, at two recurrent scales
  (spectral radius of $W_{hh}$);
* the price of each: peak memory (``tracemalloc``) as T grows -- BPTT keeps T steps of graph,
  BPTT(k) and RTRL keep a fixed amount -- and time per step as the state size S grows (RTRL's
  $J_t M_t$ is $S^2 P$ multiply-adds per sample, BPTT's $J_t^\top\delta$ about $S \cdot GH$).

    python demos/three_ways.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import _modes
import numpy as np
from _common import Report, figure, run

import minigrad as mg
from minigrad import bptt, nn, rtrl

BLUE, ORANGE, GREEN, PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"  # Okabe-Ito: colour-blind safe
H_IN, DELAY = 3, 4
KINDS = {"RNN (tanh)": ("RNN", {}), "LSTM": ("LSTM", {}), "GRU": ("GRU", {}),
         "GRU (Cho)": ("GRU", {"reset_after": False})}  # fmt: skip


def make_cell(kind: str, hidden: int, seed: int, radius: float | None = None):
    """A float64 cell; for the RNN, ``radius`` rescales W_hh to that spectral radius."""
    mg.manual_seed(seed)
    mode, kw = KINDS[kind]
    cls = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}[mode]
    cell = cls(H_IN, hidden, **kw).to(np.float64)
    if radius is not None:
        W = cell.weight_hh.data
        W *= radius / np.max(np.abs(np.linalg.eigvals(W)))
    return cell


def task(T: int, N: int, hidden: int, seed: int):
    """Inputs x (T, N, H_in), targets y (T, N) = x_{t-d,0} (0 before d), readout w (H,)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, H_IN))
    y = np.zeros((T, N))
    y[DELAY:] = x[:-DELAY, :, 0]
    w = rng.standard_normal(hidden) / np.sqrt(hidden)
    return x, y, w


def direct_grads(states: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""$g_{t+1} = \partial\mathcal L/\partial s_{t+1} = (w^\top h_{t+1} - y_t) w$ for t = 0..T-1; $g_0 = 0$.

    Step t reads $x_t$ and its state $s_{t+1}$ is scored against $y_t$.
    """
    T1, N, S = states.shape
    g = np.zeros((T1, N, S))
    H = w.size
    g[1:, :, :H] = (states[1:, :, :H] @ w - y)[..., None] * w
    return g


def truncated_grads(cell, x, y, w, k: int) -> dict:
    """TBPTT(k)'s gradient as ``bptt.truncated_bptt`` computes it (detach every k steps), summed over
    the chunks at fixed parameters (no update between chunks)."""
    cell.zero_grad()
    s = cell.initial_state(x.shape[1])
    wt = mg.tensor(w)
    for t0 in range(0, x.shape[0], k):
        s = s.detach()  # the backward walk stops here
        loss = mg.tensor(0.0)
        for t in range(t0, min(t0 + k, x.shape[0])):
            s = cell.state_step(mg.tensor(x[t]), s)
            h = s[:, : cell.hidden_size]
            loss = loss + 0.5 * (((h @ wt) - mg.tensor(y[t])) ** 2).sum()
        loss.backward()
    return {name: p.grad.copy() for name, p in cell.named_parameters()}


def rel_err(a: dict, b: dict) -> float:
    """||a - b|| / ||b|| over all parameters at once."""
    num = sum(np.sum((a[n] - b[n]) ** 2) for n in b)
    return float(np.sqrt(num / sum(np.sum(b[n] ** 2) for n in b)))


def agreement(T: int, N: int, hidden: int, seed: int = 0) -> dict:
    """Max relative difference between BPTT, RTRL (stored and online) and autograd, per cell."""
    out = {}
    for kind in KINDS:
        cell = make_cell(kind, hidden, seed)
        x, y, w = task(T, N, hidden, seed)
        traj = bptt.unroll(cell, x)
        g = direct_grads(np.stack([s.data for s in traj.states]), y, w)
        ref = traj.backprop(g).param_grads
        stored = traj.rtrl(g).param_grads
        online = rtrl_grads(cell, x, y, w)
        auto = truncated_grads(cell, x, y, w, T)  # k = T: no truncation, plain autograd
        out[kind] = {"rtrl_vs_bptt": rel_err(stored, ref), "online_vs_bptt": rel_err(online, ref),
                     "autograd_vs_bptt": rel_err(auto, ref), "S": cell.state_size,
                     "P": sum(p.size for p in cell.parameters())}  # fmt: skip
    return out


def step_grad(s: np.ndarray, y_t: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""$g_{t+1}$ for one step's new state ``s`` (N, S) and target ``y_t`` (N,) (see :func:`direct_grads`)."""
    g = np.zeros_like(s)
    g[:, : w.size] = (s[:, : w.size] @ w - y_t)[:, None] * w
    return g


def rtrl_grads(cell, x, y, w) -> dict:
    """RTRL online: one step at a time, each step's loss gradient accumulated as it arrives."""
    online = rtrl.OnlineRTRL(cell)
    for t in range(x.shape[0]):
        s = online.step(x[t])
        online.accumulate(step_grad(s, y[t], w))
    return online.param_grads


def truncation_bias(T: int, N: int, hidden: int, radii, seed: int) -> dict:
    r"""$\|\nabla_k - \nabla\|/\|\nabla\|$ for k = 1, 2, 4, ..., T at each spectral radius of $W_{hh}$."""
    ks = [2**i for i in range(int(np.log2(T)) + 1)]
    out = {"k": ks}
    for radius in radii:
        cell = make_cell("RNN (tanh)", hidden, seed, radius=radius)
        x, y, w = task(T, N, hidden, seed)
        full = rtrl_grads(cell, x, y, w)
        out[radius] = [rel_err(truncated_grads(cell, x, y, w, k), full) for k in ks]
    return out


def peak_bytes(fn) -> int:
    """Peak memory (bytes) that ``fn()`` allocates, as ``tracemalloc`` sees it (NumPy reports to it).

    ``gc.collect()`` first empties Python's free lists, so each run starts from the same place.
    """
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_vs_T(Ts, N: int, hidden: int, k: int, seed: int) -> dict:
    """Peak memory of BPTT, BPTT(k) and RTRL on sequences of each length T (same cell, same data)."""
    cell = make_cell("RNN (tanh)", hidden, seed)
    out = {"T": list(Ts), "BPTT": [], f"BPTT({k})": [], "RTRL": []}
    for T in Ts:
        x, y, w = task(T, N, hidden, seed)
        out["BPTT"].append(peak_bytes(lambda: truncated_grads(cell, x, y, w, T)))  # noqa: B023
        out[f"BPTT({k})"].append(peak_bytes(lambda: truncated_grads(cell, x, y, w, k)))  # noqa: B023
        out["RTRL"].append(peak_bytes(lambda: rtrl_grads(cell, x, y, w)))  # noqa: B023
    return out


def seconds(fn, repeats: int) -> float:
    """The best of ``repeats`` wall times of ``fn()`` (the machine is shared: the minimum is the least noisy)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()  # as timeit does: a full collection of the demo's objects would land in one run
        try:
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best


def time_vs_S(sizes, T: int, N: int, repeats: int, seed: int) -> dict:
    r"""Seconds per step of BPTT and RTRL as the state grows; RTRL's $N S^2 P$ multiply-adds per step."""
    out = {"S": list(sizes), "P": [], "BPTT": [], "RTRL": [], "rtrl_madds": []}
    for H in sizes:
        cell = make_cell("RNN (tanh)", H, seed)
        x, y, w = task(T, N, H, seed)
        P = sum(p.size for p in cell.parameters())
        out["P"].append(P)
        out["rtrl_madds"].append(N * H * H * P)
        out["BPTT"].append(seconds(lambda: truncated_grads(cell, x, y, w, T), repeats) / T)  # noqa: B023
        out["RTRL"].append(seconds(lambda: rtrl_grads(cell, x, y, w), repeats) / T)  # noqa: B023
    return out


def sizes(quick: bool) -> dict:
    """The demo's sizes: the full run < 40 s, ``--quick`` < 8 s on 2 shared cores."""
    if quick:
        return {"agree": (12, 3, 6), "trunc": (32, 4, 12), "mem": ((30, 60, 120), 8, 16, 10),
                "time": ((4, 8, 16, 32), 8, 4, 2), "jac": ((2, 8, 32), 8, 2)}  # fmt: skip
    return {"agree": (40, 4, 12), "trunc": (64, 4, 16), "mem": ((25, 50, 100, 200, 400), 8, 16, 10),
            "time": ((4, 8, 16, 32, 48, 64), 10, 4, 3), "jac": ((2, 8, 32, 128), 16, 3)}  # fmt: skip


RADII = (0.5, 1.5, 3.0)


def slope(xs, ys) -> float:
    """Least-squares slope of log y against log x (the exponent of a power law)."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Run the three comparisons, save the figures, return the numbers."""
    report = Report("three_ways", out)
    cfg = sizes(quick)
    agree = agreement(*cfg["agree"], seed=seed)
    report.table(f"Same gradient three ways (T, N, H = {cfg['agree']}): ||a - b|| / ||b||, float64",
                 ["cell", "S", "P", "RTRL vs BPTT", "online RTRL vs BPTT", "autograd vs BPTT"],
                 [[k, v["S"], v["P"], v["rtrl_vs_bptt"], v["online_vs_bptt"], v["autograd_vs_bptt"]]
                  for k, v in agree.items()])  # fmt: skip
    T_tr, N_tr, H_tr = cfg["trunc"]
    trunc = truncation_bias(T_tr, N_tr, H_tr, RADII, seed)
    report.table(f"Truncation bias ||grad_k - grad|| / ||grad|| (tanh RNN, T = {T_tr}, H = {H_tr})",
                 ["k"] + [f"rho = {r:g}" for r in RADII],
                 [[k] + [trunc[r][i] for r in RADII] for i, k in enumerate(trunc["k"])])  # fmt: skip
    Ts, N_m, H_m, k_m = cfg["mem"]
    mem = memory_vs_T(Ts, N_m, H_m, k_m, seed)
    names = ["BPTT", f"BPTT({k_m})", "RTRL"]
    report.table(f"Peak memory (kB, tracemalloc) against T (tanh RNN, N = {N_m}, S = {H_m})",
                 ["T"] + names, [[T] + [mem[n][i] / 1e3 for n in names] for i, T in enumerate(Ts)])
    S_list, T_t, N_t, reps = cfg["time"]
    tim = time_vs_S(S_list, T_t, N_t, reps, seed)
    report.table(f"Seconds per step against S (tanh RNN, N = {N_t}, best of {reps}, wall time: noisy)",
                 ["S", "P", "BPTT", "RTRL", "RTRL N S^2 P"],
                 [[S, tim["P"][i], tim["BPTT"][i], tim["RTRL"][i], tim["rtrl_madds"][i]]
                  for i, S in enumerate(S_list)])  # fmt: skip
    jac_sizes, jac_fixed, jac_reps = cfg["jac"]
    jac = _modes.sweep(jac_sizes, jac_fixed, jac_reps, seed)
    report.table(f"jacobian of f: R^n -> R^m (tanh MLP, hidden {_modes.HIDDEN}): passes and seconds, best of "
                 f"{jac_reps}", ["n", "m", "forward passes", "reverse passes", "forward s", "reverse s",
                                 "forward / reverse", "max |J_fwd - J_rev|"],
                 [[r["n"], r["m"], r["forward-mode"]["passes"], r["reverse-mode"]["passes"],
                   r["forward-mode"]["seconds"], r["reverse-mode"]["seconds"],
                   r["forward-mode"]["seconds"] / r["reverse-mode"]["seconds"], r["max_abs_diff"]]
                  for r in jac["vary_n"] + jac["vary_m"]])  # fmt: skip
    big = [i for i, S in enumerate(S_list) if S >= 16]
    numbers = {"agreement": agree, "truncation": trunc, "memory": mem, "time": tim,
               "rtrl_time_slope": slope([tim["rtrl_madds"][i] for i in big], [tim["RTRL"][i] for i in big]),
               "bptt_memory_slope": slope(Ts, mem["BPTT"]), "rtrl_memory_slope": slope(Ts, mem["RTRL"]),
               "tbptt_memory_slope": slope(Ts, mem[names[1]]), "sizes": cfg, "jacobian": jac}  # fmt: skip
    per_step, base = np.polyfit(Ts, mem["BPTT"], 1)  # BPTT's bytes = base + per_step * T
    numbers["bptt_bytes_per_step"] = float(per_step)
    numbers["crossover_T"] = float((np.mean(mem["RTRL"]) - base) / per_step)  # where the lines meet

    fig, ax = figure(width=5.6, height=4.0)
    styles = {0.5: (BLUE, "o", "-"), 1.5: (ORANGE, "s", "--"), 3.0: (PURPLE, "^", ":")}
    ks = np.array(trunc["k"][:-1])
    for r in RADII:
        color, marker, ls = styles[r]
        ax.plot(ks, trunc[r][:-1], color=color, marker=marker, ls=ls, lw=2, label=rf"$\rho(W_{{hh}})$ = {r:g}")
    worst = max(trunc[r][-1] for r in RADII)
    ax.set(xscale="log", yscale="log", xlabel="truncation length k (steps per chunk)",
           ylabel=r"relative bias $\|\nabla_k - \nabla\| / \|\nabla\|$",
           title=f"Truncated BPTT(k) against full BPTT (T = {T_tr})")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xticks([], minor=True)
    ax.text(0.03, 0.05, f"k = T = {T_tr}: bias {worst:.0e} (rounding)", transform=ax.transAxes, fontsize=9)
    ax.legend(title=f"tanh RNN, H = {H_tr}", loc="lower left", bbox_to_anchor=(0, 0.1))
    report.save(fig, "truncation")

    fig, (ax_m, ax_t) = figure(1, 2, width=11, height=4.2)
    for n, color, marker, ls in zip(names, (ORANGE, GREEN, BLUE), ("s", "D", "o"), ("--", ":", "-"), strict=True):
        ax_m.plot(Ts, np.array(mem[n]) / 1e6, color=color, marker=marker, ls=ls, lw=2, label=n)
    ax_m.set(xlabel="sequence length T", ylabel="peak memory (MB, tracemalloc)",
             title=f"Memory: BPTT grows with T, RTRL does not (S = {H_m}, N = {N_m})")
    ax_m.axvline(numbers["crossover_T"], color="black", lw=0.8, ls="-.")
    ax_m.annotate(f"crossover T = {numbers['crossover_T']:.0f}", (numbers["crossover_T"], np.mean(mem["RTRL"]) / 1e6),
                  xytext=(6, 10), textcoords="offset points", fontsize=9,
                  ha="left" if numbers["crossover_T"] < (Ts[0] + Ts[-1]) / 2 else "right")
    ax_m.legend()
    ax_t.plot(S_list, tim["BPTT"], color=ORANGE, marker="s", ls="--", lw=2, label="BPTT (autograd)")
    ax_t.plot(S_list, tim["RTRL"], color=BLUE, marker="o", lw=2, label="RTRL (online)")
    # the guide only where the slope is fitted (S >= 16): below it minigrad's per-op overhead, not the
    # N S^2 P multiply-adds, sets RTRL's time, and a line through the last point would run 100x under the data
    ref = np.array(tim["rtrl_madds"], dtype=float)[big] * tim["RTRL"][-1] / tim["rtrl_madds"][-1]
    ax_t.plot([S_list[i] for i in big], ref, color="black", ls=":", lw=1.5,
              label=r"$\propto N S^2 P$ (S $\geq$ 16; below, per-op overhead dominates)")
    ax_t.set(xscale="log", yscale="log", xlabel="state size S (= H)", ylabel="seconds per step",
             title=f"Time per step (N = {N_t}, best of {reps}; wall time, noisy)")
    ax_t.set_xticks(S_list, [str(s) for s in S_list])
    ax_t.set_xticks([], minor=True)
    ax_t.legend()
    report.save(fig, "cost")

    fig, axes = figure(1, 2, width=11, height=4.0)
    for ax, key, var, other in ((axes[0], "vary_n", "n", "m"), (axes[1], "vary_m", "m", "n")):
        xs = [r[var] for r in jac[key]]
        for strategy, color, marker, ls in (("forward-mode", BLUE, "o", "-"), ("reverse-mode", ORANGE, "s", "--")):
            passes = "n" if strategy == "forward-mode" else "m"
            ax.plot(xs, [r[strategy]["seconds"] for r in jac[key]], color=color, marker=marker, ls=ls, lw=2,
                    label=f"{strategy} ({passes} passes)")
        ax.set(xscale="log", yscale="log", xlabel=f"{var} ({other} = {jac['fixed']})", ylabel="seconds (best of "
               f"{jac_reps})", title=rf"jacobian of $f: \mathbb{{R}}^n \to \mathbb{{R}}^m$ as {var} grows")
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.set_xticks([], minor=True)
        ax.legend()
    report.save(fig, "modes")

    a = max(v["rtrl_vs_bptt"] for v in agree.values())
    wide, tall = jac["vary_n"][-1], jac["vary_m"][-1]  # n >> m, and m >> n
    numbers["forward_over_reverse_wide"] = wide["forward-mode"]["seconds"] / wide["reverse-mode"]["seconds"]
    numbers["forward_over_reverse_tall"] = tall["forward-mode"]["seconds"] / tall["reverse-mode"]["seconds"]
    m = mem
    report.say(
        f"RTRL and BPTT give the same gradient (largest relative difference {a:.1e} over RNN, LSTM and "
        f"both GRUs). Truncating BPTT to chunks of k steps biases it: at rho = 0.5 the bias falls from "
        f"{trunc[0.5][0]:.0%} (k = 1) to {trunc[0.5][-2]:.0%} (k = {trunc['k'][-2]}), at rho = 3 it stays "
        f"{min(trunc[3.0][:-1]):.0%} or more for every k < T. From T = {Ts[0]} to {Ts[-1]} BPTT's peak memory "
        f"grows from {m['BPTT'][0] / 1e6:.2f} to {m['BPTT'][-1] / 1e6:.2f} MB (log-log slope "
        f"{numbers['bptt_memory_slope']:.2f}, {numbers['bptt_bytes_per_step'] / 1e3:.1f} kB per step), RTRL's "
        f"stays at {max(m['RTRL']) / 1e6:.2f} MB (max/min {max(m['RTRL']) / min(m['RTRL']):.3f}): RTRL needs "
        f"less memory beyond T = {numbers['crossover_T']:.0f} (S = {H_m}, N = {N_m}). But an RTRL step at "
        f"S = {S_list[-1]} took {tim['RTRL'][-1] / tim['BPTT'][-1]:.0f}x a BPTT step, its time growing "
        f"as (N S^2 P)^{numbers['rtrl_time_slope']:.2f} for S >= 16 (wall times on a shared machine: noisy). The "
        f"same rule for any jacobian: forward mode takes one pass per input, reverse mode one per output (counted: "
        f"{wide['forward-mode']['passes']} against {wide['reverse-mode']['passes']} for n = {wide['n']}, m = "
        f"{wide['m']}), and forward mode took {numbers['forward_over_reverse_wide']:.1f}x reverse mode's time "
        f"there, {numbers['forward_over_reverse_tall']:.2f}x for n = {tall['n']}, m = {tall['m']}: use forward mode "
        f"when n < m, reverse mode when m < n (a loss: m = 1)."
    )
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
