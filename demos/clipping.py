r"""Gradient clipping: an RNN trained at a learning rate that explodes, with and without clipping.

Exploding gradients show up as sudden loss spikes and ``nan`` values; the direct
remedy is to clip the gradient before the optimizer step. Norm clipping (PyTorch's
``clip_grad_norm_``) rescales $g \leftarrow \frac{c}{\|g\|} g$ when $\|g\| > c$, keeping its
direction; value clipping clamps every entry to $[-c, c]$ (it can turn the direction); adaptive
clipping (``minigrad.nn.clipping.AdaptiveGradClipper``) follows the gradient history,
$\theta_t = \alpha\,\theta_{t-1} + (1-\alpha)\,\|g_t\|$.

The model: a tanh RNN (hidden 16) with a linear read-out of $h_T$, float32 (PyTorch's default),
plain SGD at lr = 0.3, on a short-memory regression (T = 20, the target is a signed sum of the last
three inputs). Four runs from the same initial weights and the same batches: no clipping, norm
clipping (c = 1), value clipping (c = 0.1), adaptive clipping ($\alpha$ = 0.9), repeated on
several seeds (initial weights and batches). For the unclipped run the demo traces where the first
non-finite number appears: in the forward pass (output, loss), in a gradient, or in a parameter
after the update; it stops once a parameter is non-finite, and at least 5 steps after the first non-finite
value (what follows is NaN).

    python demos/clipping.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import PALETTE, Report, figure, mean_spread, progress, run, seeds

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn.clipping import AdaptiveGradClipper
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_

HIDDEN, T, BATCH, LR = 16, 20, 32, 0.3
MAX_NORM, CLIP_VALUE, ALPHA = 1.0, 0.1, 0.9
METHODS = ("none", "norm", "value", "adaptive")
DTYPE = np.float32


def make_batch(rng: np.random.Generator, n: int = BATCH, t: int = T):
    """x (T, N, 2) in U(-1, 1); y = sum of (channel 0 - channel 1) over the last 3 steps."""
    x = rng.uniform(-1.0, 1.0, (t, n, 2))
    y = x[-3:, :, 0].sum(0) - x[-3:, :, 1].sum(0)
    return x.astype(DTYPE), y[:, None].astype(DTYPE)


class Regressor(nn.Module):
    r"""$h_{t+1} = \tanh(W_{ih} x_t + W_{hh} h_t + b)$, $\hat y = W_{hy} h_T + b_y$."""

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.rnn = nn.RNN(2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h_n = self.rnn(x)
        return self.head(h_n[0])


def _global_norm(params) -> float:
    return math.sqrt(sum(float(np.sum(np.square(p.grad, dtype=np.float64))) for p in params))


def train(method: str, steps: int, seed: int) -> dict:
    """Train one run: loss, gradient norm before/after clipping, first non-finite values."""
    mg.manual_seed(seed)
    model = Regressor().to(DTYPE)
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    opt = optim.SGD(params, lr=LR)
    adaptive = AdaptiveGradClipper(alpha=ALPHA)  # fed the clipped norm, so one spike cannot lift it
    rng = np.random.default_rng(seed)  # the same batches for every method
    rec = {"loss": [], "grad_norm": [], "clipped_norm": [], "threshold": [], "max_abs_grad": []}
    events: list[
        tuple[int, str, str]
    ] = []  # (step, stage, what): the first non-finite in each place
    seen: set[str] = set()

    def check(step: int, stage: str, what: str, array) -> None:
        if what not in seen and not np.all(np.isfinite(array)):
            seen.add(what)
            events.append((step, stage, what))

    # Overflow is the subject here, not an error: let NumPy produce inf/nan quietly.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in progress(range(steps), f"clipping/{method}"):
            x, y = make_batch(rng)
            opt.zero_grad()
            pred = model(mg.tensor(x))
            loss = nn.functional.mse_loss(pred, mg.tensor(y))
            check(step, "forward", "prediction", pred.data)
            check(step, "forward", "loss", loss.data)
            loss.backward()
            for name, p in zip(names, params, strict=True):
                check(step, "backward", f"grad {name}", p.grad)
            norm = _global_norm(params)
            threshold = math.nan
            if method == "norm":
                clip_grad_norm_(params, MAX_NORM)
                threshold = MAX_NORM
            elif method == "value":
                clip_grad_value_(params, CLIP_VALUE)
            elif method == "adaptive":
                threshold = math.inf if adaptive.threshold is None else adaptive.threshold
                adaptive(params)
            rec["clipped_norm"].append(_global_norm(params))
            rec["max_abs_grad"].append(max(float(np.max(np.abs(p.grad))) for p in params))
            opt.step()
            for name, p in zip(names, params, strict=True):
                check(step, "update", f"param {name}", p.data)
            rec["loss"].append(float(loss.item()))
            rec["grad_norm"].append(norm)
            rec["threshold"].append(threshold)
            dead = any(stage == "update" for _, stage, _ in events)  # a parameter is non-finite:
            if dead and step >= events[0][0] + 5:  # nothing but NaN from here on
                break
    pad = steps - len(rec["loss"])  # a stopped run: NaN for the steps it did not take
    out = {k: np.concatenate([np.array(v, dtype=float), np.full(pad, math.nan)]) for k, v in rec.items()}
    bad = np.flatnonzero(~np.isfinite(out["loss"]))
    out["first_nan_step"] = int(bad[0]) if bad.size else None
    out["events"] = events
    return out


def _summary(r: dict, tail: int) -> dict:
    loss = r["loss"]
    finite = loss[np.isfinite(loss)]
    return {
        "initial_loss": float(np.mean(loss[:10])),
        "final_loss": float(np.mean(loss[-tail:]))
        if np.all(np.isfinite(loss[-tail:]))
        else math.nan,
        "max_finite_loss": float(finite.max()) if finite.size else math.nan,
        "max_grad_norm": float(
            np.nanmax(np.where(np.isfinite(r["grad_norm"]), r["grad_norm"], np.nan))
        ),
        "max_clipped_norm": float(np.nanmax(r["clipped_norm"])),
        "max_abs_grad_after_clip": float(np.nanmax(r["max_abs_grad"])),
        "first_nan_step": r["first_nan_step"],
        "all_finite": bool(np.all(np.isfinite(loss))),
    }


def _smooth(y: np.ndarray, k: int = 10) -> np.ndarray:
    """Moving average over k steps (the zoomed panel shows trends, not batch noise)."""
    return np.convolve(y, np.ones(k) / k, mode="valid")


LABELS = {"none": "no clipping", "norm": f"norm clipping, c = {MAX_NORM:g}",
          "value": f"value clipping, c = {CLIP_VALUE:g}", "adaptive": f"adaptive, α = {ALPHA:g}"}
COLORS = {"none": PALETTE[1], "norm": PALETTE[0], "value": PALETTE[2], "adaptive": PALETTE[3]}


def _plot(report: Report, runs: dict, steps: int, seed: int) -> None:
    """Seed ``seed``'s four runs: loss, clipped runs' loss, and the norm before and after clipping."""
    fig, (ax_l, ax_z, ax_g) = figure(1, 3, width=16, height=5.0)
    s = np.arange(steps)
    for m, r in runs.items():
        ax_l.plot(s, r["loss"], color=COLORS[m], lw=1.2, label=LABELS[m])
        if m != "none":
            sm = _smooth(r["loss"])
            ax_z.plot(s[len(s) - len(sm):], sm, color=COLORS[m], lw=1.6, label=LABELS[m])
    for m in ("none", "norm", "adaptive"):  # value clipping bounds entries, not the norm: below
        r = runs[m]
        ax_g.plot(s, r["grad_norm"], color=COLORS[m], lw=1.2, label=f"{LABELS[m]}: before clipping")
        if m != "none":
            ax_g.plot(s, r["clipped_norm"], color=COLORS[m], lw=1.6, ls="--",
                      label=f"{LABELS[m]}: after clipping")  # fmt: skip
    ax_g.plot(s, runs["adaptive"]["threshold"], color="black", ls=":", lw=1.2,
              label=r"adaptive threshold $\theta_{t-1}$")  # fmt: skip
    nan_at = runs["none"]["first_nan_step"]
    for ax in (ax_l, ax_g):
        if nan_at is not None:
            ax.axvline(nan_at, color="black", lw=0.8, ls="--")
            ax.annotate(f"no clipping:\nloss overflows\n(step {nan_at})", (nan_at, 0.6),
                        xycoords=("data", "axes fraction"), xytext=(6, 0), textcoords="offset points",
                        fontsize=9)  # fmt: skip
    # the unclipped loss climbs to float32's largest number before it overflows: draw that ceiling, so the
    # axis' 40 decades are explained, and the clipped runs (flat at the bottom here) have their own panel
    top = float(np.finfo(DTYPE).max)
    ax_l.axhline(top, color="black", lw=1.0, ls=":")
    ax_l.text(steps - 1, top / 1e3, f"float32 max, {top:.1e}", ha="right", va="top", fontsize=8.5)
    ax_l.set(yscale="log", xlabel="training step", ylabel="training loss (MSE)", ylim=(None, top * 1e3),
             yticks=[10.0**k for k in range(0, 40, 10)],
             title=f"Loss, SGD lr = {LR:g}, float32 (seed {seed})")
    ax_z.set(yscale="log", xlabel="training step", ylabel="training loss (10-step mean)",
             title="The clipped runs (zoom)")
    ax_g.set(yscale="log", xlabel="training step", ylabel=r"global gradient norm $\|g_t\|$",
             title="Gradient norm before and after clipping")
    for ax in (ax_l, ax_z, ax_g):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, fontsize=9)
    report.save(fig, "training")


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Train the four runs on every seed; print the tables and where NaN first appeared; plot."""
    report = Report("clipping", out)
    steps = 150 if quick else 200
    tail = 30
    used = seeds(quick, seed)
    jobs = [(m, s) for s in used for m in METHODS]
    runs = {job: train(job[0], steps, job[1]) for job in progress(jobs, "clipping runs")}
    numbers: dict = {"steps": steps, "seeds": used, "tail": tail, "lr": LR, "max_norm": MAX_NORM,
                     "clip_value": CLIP_VALUE, "alpha": ALPHA}  # fmt: skip
    rows = []
    for m in METHODS:
        per_seed = [_summary(runs[(m, s)], tail) for s in used]
        entry = {k: [p[k] for p in per_seed] for k in per_seed[0]}
        # adaptive: the clipped norm never exceeds the threshold in force at that step
        if m == "adaptive":
            excess = []
            for s in used:
                thr, clipped = runs[(m, s)]["threshold"], runs[(m, s)]["clipped_norm"]
                ok = np.isfinite(thr)
                excess.append(float(np.max(clipped[ok] / thr[ok])))
            entry["max_excess_over_threshold"] = excess
            entry["threshold"] = [runs[(m, s)]["threshold"].tolist() for s in used]
            entry["clipped_norm"] = [runs[(m, s)]["clipped_norm"].tolist() for s in used]
        if m == "norm":
            entry["clipped_norm"] = [runs[(m, s)]["clipped_norm"].tolist() for s in used]
        if m == "none":
            entry["events"] = [[list(e) for e in runs[(m, s)]["events"]] for s in used]
        numbers[m] = entry
        final = [f for f in entry["final_loss"] if math.isfinite(f)]
        nans = [f for f in entry["first_nan_step"] if f is not None]
        rows.append([LABELS[m], mean_spread(entry["initial_loss"])[0],
                     "-" if not final else "{:.3g} ({:.3g}-{:.3g})".format(*mean_spread(final)),
                     "{:.3g}".format(max(entry["max_grad_norm"])),
                     "{:.3g}".format(max(entry["max_clipped_norm"])),
                     f"{len(nans)}/{len(used)}",
                     "-" if not nans else f"{np.mean(nans):.0f} ({min(nans)}-{max(nans)})"])
    report.table(
        f"tanh RNN (hidden {HIDDEN}, T = {T}), SGD lr = {LR:g}, float32, {steps} steps, seeds {used}",
        ["clipping", "loss (first 10, mean)", f"loss (last {tail}): mean (min-max)",
         "max ||g|| before", "max ||g|| after", "seeds with NaN", "first NaN step: mean (min-max)"],
        rows,
    )
    events = runs[("none", used[0])]["events"]
    report.table(
        f"Without clipping, seed {used[0]}: where the first non-finite value appeared in each place",
        ["step", "stage", "where"],
        [list(e) for e in events[:8]],
    )
    _plot(report, {m: runs[(m, used[0])] for m in METHODS}, steps, used[0])
    nan_steps = [f for f in numbers["none"]["first_nan_step"] if f is not None]
    stages = sorted({e[0][1] for e in numbers["none"]["events"] if e})
    ratio = [f / i for m in ("norm", "value", "adaptive")
             for f, i in zip(numbers[m]["final_loss"], numbers[m]["initial_loss"], strict=True)]
    report.say(
        f"The figure shows seed {used[0]}: the unclipped run's gradient norm spikes until its loss "
        f"overflows float32; on {len(nan_steps)} of {len(used)} seeds the loss goes non-finite (first "
        f"at step {min(nan_steps) if nan_steps else '-'}-{max(nan_steps) if nan_steps else '-'}, "
        f"first in the {' / '.join(stages)} pass), while norm, value and adaptive clipping keep "
        f"every run finite and the loss falls to at most {max(ratio):.2f}x its initial value."
    )
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
