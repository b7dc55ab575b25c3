r"""GradientMonitor on a training run that goes bad: which flags it raises, and when.

A ``GradientMonitor`` keeps per-parameter gradient statistics and flags the global gradient norm
$G_t$ as vanishing ($G_t < \epsilon_{\min}$), exploding ($G_t > \epsilon_{\max}$ or
$G_t > k\,G_{t-1}$) or non-finite. The claim under test: most stability problems leave a numerical
trace before they break training.

The run: the tanh RNN of ``clipping.py`` (hidden 16, float32, SGD at lr = 0.3, no clipping), which
overflows after a few dozen steps, watched by ``minigrad.diagnostics.GradientMonitor`` with
$\epsilon_{\min} = 10^{-7}$, $\epsilon_{\max} = 10^{3}$, $k = 10$. The same run with norm
clipping (the monitor reads the gradients *before* clipping) is the control.

    python demos/monitor.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import PALETTE, Report, figure, progress, run
from clipping import DTYPE, LR, Regressor, make_batch

import minigrad as mg
from minigrad import nn, optim
from minigrad.diagnostics import GradientMonitor
from minigrad.nn.utils import clip_grad_norm_

EPS_MIN, EPS_MAX, GROWTH = 1e-7, 1e3, 10.0
KINDS = ("exploding", "nonfinite", "vanishing")


def train(steps: int, seed: int, clip: bool) -> dict:
    """Train the RNN, calling ``monitor.step()`` after every backward; stop 5 steps after NaN."""
    mg.manual_seed(seed)
    model = Regressor().to(DTYPE)
    opt = optim.SGD(model.parameters(), lr=LR)
    monitor = GradientMonitor(model, eps_min=EPS_MIN, eps_max=EPS_MAX, growth=GROWTH)
    rng = np.random.default_rng(seed)
    losses, own_norms, first_nonfinite_grad = [], [], None
    stop = steps
    label = "monitor/" + ("clipped" if clip else "unclipped")
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is what we watch
        for step in progress(range(steps), label):
            if step >= stop:
                break
            x, y = make_batch(rng)
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(mg.tensor(x)), mg.tensor(y))
            loss.backward()
            monitor.step()  # reads .grad before any clipping
            # the demo's own check of what the monitor should see
            grads = [p.grad.astype(np.float64) for p in model.parameters()]
            own_norms.append(math.sqrt(sum(float(np.sum(g * g)) for g in grads)))
            if first_nonfinite_grad is None and not all(np.all(np.isfinite(g)) for g in grads):
                first_nonfinite_grad = step
                stop = step + 5
            if clip:
                clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.item()))
    return {"monitor": monitor, "loss": np.array(losses), "own_norms": np.array(own_norms),
            "first_nonfinite_grad": first_nonfinite_grad}  # fmt: skip


def _first(flags, kind: str, name: str | None = None):
    steps = [f.step for f in flags if f.kind == kind and (name is None or f.name == name)]
    return min(steps) if steps else None


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Run the bad and the clipped run under the monitor; print its flags; save the figures."""
    report = Report("monitor", out)
    steps = 120 if quick else 300
    bad = train(steps, seed, clip=False)
    good = train(steps, seed, clip=True)
    mon = bad["monitor"]
    loss = bad["loss"]
    nan_loss = np.flatnonzero(~np.isfinite(loss))
    numbers: dict = {
        "steps": steps, "steps_run": mon.steps, "eps_min": EPS_MIN, "eps_max": EPS_MAX, "growth": GROWTH,
        "first_nonfinite_loss": int(nan_loss[0]) if nan_loss.size else None,
        "first_nonfinite_grad": bad["first_nonfinite_grad"],
        "global_norm": mon.global_norm, "own_norms": bad["own_norms"].tolist(),
        "global_flags": [[f.step, f.kind, f.value] for f in mon.flags if f.name == "<global>"],
    }  # fmt: skip
    rows = []
    for name in ["<global>"] + list(mon.history):
        row = [name]
        for kind in KINDS:
            row.append(_first(mon.flags, kind, name) if _first(mon.flags, kind, name) is not None
                       else "-")  # fmt: skip
        rows.append(row)
    for kind in KINDS:
        numbers[f"first_{kind}"] = _first(mon.flags, kind, "<global>")
        numbers[f"count_{kind}"] = sum(1 for f in mon.flags if f.kind == kind)
        numbers[f"clipped_count_{kind}"] = sum(1 for f in good["monitor"].flags if f.kind == kind)
    numbers["clipped_steps_run"] = good["monitor"].steps
    numbers["clipped_final_loss"] = float(np.mean(good["loss"][-20:]))
    numbers["clipped_first_exploding"] = _first(good["monitor"].flags, "exploding", "<global>")
    report.table(
        f"Unclipped run (SGD lr = {LR:g}, float32): first step each flag was raised "
        f"(eps_min = {EPS_MIN:g}, eps_max = {EPS_MAX:g}, k = {GROWTH:g})",
        ["parameter", "first exploding", "first non-finite", "first vanishing"],
        rows,
    )
    report.table(
        "Flags raised over the whole run",
        ["run", "steps", "exploding", "non-finite", "vanishing", "first non-finite loss"],
        [["no clipping", mon.steps, numbers["count_exploding"], numbers["count_nonfinite"],
          numbers["count_vanishing"], numbers["first_nonfinite_loss"]],
         ["norm clipping (c = 1)", numbers["clipped_steps_run"], numbers["clipped_count_exploding"],
          numbers["clipped_count_nonfinite"], numbers["clipped_count_vanishing"], "-"]],
    )  # fmt: skip

    # Figure 1: the timeline, loss and global norm with the flags on it.
    fig, (ax_l, ax_g, ax_r) = figure(3, 1, width=9, height=9.0, sharex=True)
    s = np.arange(mon.steps)
    ax_l.plot(s, loss, color=PALETTE[1], lw=1.5, label="no clipping")
    ax_l.plot(s, good["loss"][: mon.steps], color=PALETTE[0], lw=1.2, label="norm clipping (control)")
    ax_g.plot(s, mon.global_norm, color=PALETTE[1], lw=1.5, label=r"global norm $G_t$, no clipping")
    ax_g.plot(s, good["monitor"].global_norm[: mon.steps], color=PALETTE[0], lw=1.2,
              label=r"$G_t$ with norm clipping (before clipping)")  # fmt: skip
    ax_g.axhline(EPS_MAX, color="gray", ls=":", lw=1.2, label=r"$\epsilon_{\max}$")
    marks = {"exploding": ("^", PALETTE[4]), "nonfinite": ("X", "black")}
    for kind, (m, c) in marks.items():
        st = [f.step for f in mon.flags if f.name == "<global>" and f.kind == kind]
        top = max(g for g in mon.global_norm if math.isfinite(g))
        ys = [mon.global_norm[t] if math.isfinite(mon.global_norm[t]) else top for t in st]
        ax_g.plot(st, ys, m, color=c, ms=8, ls="none", label=f"flag: {kind}")
    if numbers["first_nonfinite_loss"] is not None:
        for ax in (ax_l, ax_g):
            ax.axvline(numbers["first_nonfinite_loss"], color="black", lw=0.8, ls="--",
                       label="first non-finite loss" if ax is ax_l else None)  # fmt: skip
    ax_l.set(yscale="log", ylabel="training loss (MSE)", title="A run that goes bad, and what the monitor saw")
    ax_g.set(yscale="log", ylabel=r"gradient norm $G_t$")
    # every flag, parameter by parameter: which tensor, which kind, when
    names = ["<global>"] + list(mon.history)
    raster = {"exploding": ("^", PALETTE[4]), "nonfinite": ("X", "black"),
              "vanishing": ("v", PALETTE[5])}  # fmt: skip
    for kind, (m, c) in raster.items():
        pts = [(f.step, names.index(f.name)) for f in mon.flags if f.kind == kind]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax_r.plot(xs, ys, m, color=c, ms=6, ls="none", label=kind)
    ax_r.set(yticks=range(len(names)), yticklabels=names, ylim=(len(names) - 0.5, -0.5),
             xlabel="training step", title="Every flag the monitor raised (no clipping)")
    ax_l.legend(loc="upper left")
    ax_g.legend(loc="upper left", fontsize=7.5)
    ax_r.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    report.save(fig, "timeline")

    # Figure 2: the monitor's own per-parameter plot.
    path = report.out / "monitor_per_parameter.png"
    mon.plot(str(path))
    report.figures.append(path)  # Report.save takes a matplotlib figure; this one is already saved
    report.parts.append(f"![monitor: per_parameter]({path.name})")
    print(f"saved {path}")

    lead = None
    if numbers["first_exploding"] is not None and numbers["first_nonfinite"] is not None:
        lead = numbers["first_nonfinite"] - numbers["first_exploding"]
    numbers["warning_lead_steps"] = lead
    report.say(
        f"The figure shows the monitor flagging the global gradient norm as exploding at step "
        f"{numbers['first_exploding']}, {lead} steps before the first non-finite gradient "
        f"(step {numbers['first_nonfinite']}); meanwhile the saturated tanh units make the "
        f"recurrent weights' gradients vanish (flags from step "
        f"{_first(mon.flags, 'vanishing')}), and the clipped control run raises "
        f"{numbers['clipped_count_nonfinite']} non-finite flags."
    )
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
