r"""The latching dilemma (Bengio, Simard and Frasconi 1994): storing a bit robustly costs the gradient.

A one-unit network $h_{t+1} = \tanh(w h_t + x_t)$ with input noise $x_t \sim \mathcal N(0, s^2)$ has to
keep one bit, the sign of $h_0$, for T steps. For $w > 1$ it has two attractors $\pm h^*$ with
$h^* = \tanh(w h^*)$; the bit is stored robustly only if small perturbations shrink, i.e.
$\lvert f'(h^*)\rvert = w(1 - h^{*2}) < 1$, and the more they shrink, the larger the noise the
attractor survives. But the gradient that would teach the network to store the bit is
$\partial h_T/\partial h_0 = \prod_t w(1 - h_t^2)$: near the attractor each factor is that same
$\lvert f'(h^*)\rvert < 1$, so the gradient vanishes like $\lvert f'(h^*)\rvert^T$. A weight that
keeps the gradient ($\lvert f'\rvert \approx 1$, here $w = 1$) has no attractor to keep the bit in,
and the noise erases it. Robust storage and gradient flow exclude each other.

Measured: for each $w$, 4000 trials (half store +1, half -1; noise drawn with the seed), the fraction whose
sign of $h_T$ still equals the bit, and $\partial h_T/\partial h_0$ of each trial by minigrad's
autograd (the trials are independent, so one backward pass gives them all).

    python demos/latching.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import BOUND, PALETTE, Report, figure, run

import minigrad as mg

WEIGHTS = (0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0)
PAIR = (3.0, 1.0)  # one that latches (and vanishes), one that keeps the gradient (and loses the bit)
NOISE, T, H0_SMALL = 0.2, 50, 0.5


def attractor(w: float) -> float:
    r"""$h^* > 0$ with $h^* = \tanh(w h^*)$ (0 when $w \le 1$: then 0 is the only fixed point)."""
    if w <= 1:
        return 0.0
    h = 1.0
    for _ in range(10_000):
        h = float(np.tanh(w * h))
    return h


def trials(w: float, n: int, steps: int, seed: int) -> dict:
    """Run n noisy trials; return the kept fraction, log10 |dh_T/dh_0| per trial and one path."""
    rng = np.random.default_rng(seed)
    bits = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)  # half the trials store +1, half -1
    start = attractor(w) if w > 1 else H0_SMALL  # the bit written at the attractor (or at 0.5)
    h0 = mg.tensor(bits * start, requires_grad=True)
    h, path = h0, [h0.data[:8].copy()]
    for _ in range(steps):
        h = mg.tanh(w * h + mg.tensor(rng.normal(size=n) * NOISE))
        path.append(h.data[:8].copy())
    h.sum().backward()  # trial i's h_T depends on its own h_0 only: the gradient is dh_T/dh_0 per trial
    g = np.abs(h0.grad)
    with np.errstate(divide="ignore"):  # a gradient below 1e-308 underflows to 0: log10 = -inf, kept
        log_g = np.log10(g)
    return {"kept": float(np.mean(np.sign(h.data) == bits)), "log10_grad": log_g,
            "median_log10_grad": float(np.median(log_g)), "path": np.array(path)}  # fmt: skip


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    report = Report("latching", out)
    n = 500 if quick else 4000
    numbers: dict = {"seeds": [seed], "trials": n, "T": T, "noise": NOISE, "weights": {}}
    rows = []
    results = {}
    for k, w in enumerate(WEIGHTS):
        r = trials(w, n, T, seed + k)
        results[w] = r
        h_star = attractor(w)
        slope = w * (1 - h_star**2)
        numbers["weights"][f"{w:g}"] = {"h_star": h_star, "slope": slope, "kept": r["kept"],
                                        "median_log10_grad": r["median_log10_grad"],
                                        "slope_T_log10": T * float(np.log10(slope))}  # fmt: skip
        rows.append([w, h_star, slope, r["kept"], r["median_log10_grad"], T * np.log10(slope)])
    report.table(
        f"Keeping a bit for T = {T} steps under noise s = {NOISE:g}: {n} trials per weight",
        ["w", "h*", "|f'(h*)|", "bit kept", "median log10 |dh_T/dh_0|", "T log10 |f'(h*)|"], rows,
    )
    _plot(report, results, numbers)
    latch, keep = (numbers["weights"][f"{w:g}"] for w in PAIR)
    report.say(
        f"The figure shows the dilemma: w = {PAIR[0]:g} stores the bit in {100 * latch['kept']:.1f}% of trials "
        f"(|f'(h*)| = {latch['slope']:.3f}) and its gradient is 10^{latch['median_log10_grad']:.1f} "
        f"(median); w = {PAIR[1]:g} keeps the gradient at 10^{keep['median_log10_grad']:.1f} and the bit "
        f"in {100 * keep['kept']:.1f}% of trials, chance. Every weight that keeps the bit in more than 99% of "
        f"trials has a median gradient below 10^{math.ceil(_best_latching_gradient(numbers))}."
    )
    report.finish()
    return numbers


def _best_latching_gradient(numbers: dict) -> float:
    return max(v["median_log10_grad"] for v in numbers["weights"].values() if v["kept"] > 0.99)


def _plot(report: Report, results: dict, numbers: dict) -> None:
    fig, (ax_p, ax_d) = figure(1, 2, width=12)
    for k, w in enumerate(PAIR):
        path = results[w]["path"]
        ax_p.plot(np.arange(T + 1), path[:, :6], color=PALETTE[k], lw=1, alpha=0.8)
        ax_p.plot([], [], color=PALETTE[k], label=f"w = {w:g} (6 trials)")
    ax_p.axhline(0, **BOUND)
    ax_p.set(xlabel="step t", ylabel=r"$h_t$", ylim=(-1.05, 1.05),
             title=f"Storing the sign of $h_0$ under noise s = {NOISE:g}")
    ax_p.legend(loc="lower left")
    ws = [float(w) for w in numbers["weights"]]
    kept = [v["kept"] for v in numbers["weights"].values()]
    grads = [v["median_log10_grad"] for v in numbers["weights"].values()]
    ax_d.plot(ws, kept, "o-", color=PALETTE[0], label="bit kept (fraction)")
    ax_d.set(xlabel="w", ylabel="fraction of trials with sign(h_T) = bit", ylim=(0.4, 1.02),
             title=f"Latching against gradient (T = {T})")
    ax_d.axhline(0.5, **BOUND)
    ax_g = ax_d.twinx()
    ax_g.plot(ws, grads, "s--", color=PALETTE[1], label=r"median $\log_{10}|\partial h_T/\partial h_0|$")
    ax_g.set_ylabel(r"median $\log_{10}|\partial h_T/\partial h_0|$", color=PALETTE[1])
    ax_g.grid(False)
    lines = ax_d.get_lines()[:1] + ax_g.get_lines()
    ax_d.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    report.save(fig, "dilemma")


if __name__ == "__main__":
    run(main, __doc__)
