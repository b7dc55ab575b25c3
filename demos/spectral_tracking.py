r"""Spectral remedies and spectral tracking: bounds on $\prod J_t$, and $W_{hh}$'s spectrum in training.

Part 1 (no training). A tanh RNN (hidden 32, T = 50 (quick: 16, 30), inputs $\mathcal N(0, I)$) starts from an
exploding $W_0$ (Gaussian, gain 3). Each remedy changes $W_{hh}$, and the measured
$\|\partial h_T/\partial h_t\|_2$ (``bptt`` products of the closed-form $J_t$) is drawn beside the
bound it implies, $\prod_k\|J_k\|_2 \le \|W_{hh}\|_2^{T-t}$ (since $\|\mathrm{diag}(\tanh')\| \le 1$):

* ``spectral_normalize``: $W/\sigma_1(W)$, so $\|W\|_2 = 1$ and every product is $\le 1$;
* the penalties, each minimised alone by gradient descent from $W_0$ (fixed weight, fixed steps):
  ``frobenius_penalty`` ($\|W\|_2 \le \|W\|_F$), ``nuclear_norm_penalty`` ($\|W\|_2 \le \|W\|_*$),
  and ``spectral_radius_penalty`` (target 0.9), which bounds $\rho$ but not $\|W\|_2$, so its
  bound $\|W\|_2^{T-t}$ stays above 1.

Part 2 (training, 5 seeds in the full run). The delayed-recall task of ``remedies_training``
(a bit at t = 0, 11 noisy steps), a tanh RNN with hidden 16 started at orthogonal gain 1.5,
plain SGD at two learning rates. Every step records $\sigma_1$, $\rho$ and $\kappa$ of $W_{hh}$,
the gradient norm, and its variance over the last 10 steps; at the start and the end of each
run, the temporal diagnostics: EGF at the largest lag, gradient entropy and gradient SNR over
8 mini-batches. Lowering the learning rate is the remedy tested against exploding gradients.

    python demos/spectral_tracking.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import Report, figure, progress, run
from remedies_training import make_batch

import minigrad as mg
from minigrad import bptt, nn, optim
from minigrad.diagnostics import (
    condition_number,
    gradient_entropy,
    gradient_snr,
    singular_values,
    spectral_radius,
    temporal_gradient_profile,
)  # fmt: skip
from minigrad.nn import functional as F
from minigrad.nn.recurrent_init import scaled_orthogonal_
from minigrad.nn.regularizers import (
    frobenius_penalty,
    nuclear_norm_penalty,
    spectral_normalize,
    spectral_radius_penalty,
)  # fmt: skip

H2, D_IN, T2, BATCH, WINDOW, SNR_BATCHES = 16, 5, 12, 32, 10, 8
REMEDIES = ("none", "spectral_norm", "frobenius", "nuclear", "spectral_radius")
COLORS = {"none": "black", "spectral_norm": "#0072B2", "frobenius": "#009E73", "nuclear": "#CC79A7",
          "spectral_radius": "#D55E00", 3.0: "#D55E00", 0.3: "#0072B2"}  # fmt: skip
LABELS = {"none": "none ($W_0$, gain 3)", "spectral_norm": r"spectral normalization $W/\sigma_1$",
          "frobenius": r"Frobenius penalty $\lambda\|W\|_F^2$", "nuclear": r"nuclear-norm penalty $\lambda\|W\|_*$",
          "spectral_radius": r"spectral-radius penalty, target 0.9"}  # fmt: skip
# (learning rate, steps) of the gradient descent on each penalty alone
TRACKED = ("sigma1", "rho", "kappa", "grad_norm", "grad_var", "loss")
PENALTY_GD = {"frobenius": (0.05, 100), "nuclear": (0.05, 100), "spectral_radius": (0.3, 300)}


# ----- part 1: what each remedy guarantees -------------------------------------------------------
def descend(W0: np.ndarray, penalty, lr: float, steps: int) -> np.ndarray:
    """Plain gradient descent on ``penalty(W)`` alone, from W0."""
    W = mg.tensor(W0.copy(), requires_grad=True)
    for _ in range(steps):
        W.grad = None
        penalty(W).backward()
        W.data -= lr * W.grad
    return W.data.copy()


def remedied_weights(W0: np.ndarray) -> dict:
    """W_hh after each remedy."""
    return {
        "none": W0,
        "spectral_norm": spectral_normalize(mg.tensor(W0), n_iter=200).data,
        "frobenius": descend(W0, lambda W: frobenius_penalty(W, weight=0.25), *PENALTY_GD["frobenius"]),
        "nuclear": descend(W0, lambda W: nuclear_norm_penalty(W, weight=1.0), *PENALTY_GD["nuclear"]),
        "spectral_radius": descend(W0, lambda W: spectral_radius_penalty(W, target=0.9, weight=1.0),
                                   *PENALTY_GD["spectral_radius"]),
    }


def product_profile(W: np.ndarray, x: np.ndarray, seed: int) -> dict:
    """‖dh_T/dh_t‖_2 (max over the batch) for a tanh RNN with W_hh = W, and its bounds."""
    mg.manual_seed(seed)
    cell = nn.RNNCell(D_IN, W.shape[0]).to(np.float64)
    cell.weight_hh.data[...] = W
    traj = bptt.unroll(cell, x)
    product = traj.product_norms().max(axis=1)  # index t = 0..T
    step = np.linalg.norm(traj.jacobians(), ord=2, axis=(-2, -1)).max(axis=1)  # max_n ||J_t||
    norm2 = float(np.linalg.norm(W, 2))
    lag = np.arange(x.shape[0], -1, -1)  # T - t for t = 0..T
    return {"product": product, "per_step_bound": np.append(np.cumprod(step[::-1])[::-1], 1.0),
            "norm_bound": norm2 ** lag, "norm2": norm2, "rho": float(spectral_radius(W)),
            "fro": float(np.linalg.norm(W)), "nuclear": float(singular_values(W).sum())}  # fmt: skip


# ----- part 2: tracking a training run ---------------------------------------------------------------
def rolling_variance(values: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Variance of ``values`` over the last ``window`` steps (fewer at the start), per step."""
    return np.array([np.var(values[max(0, i - window + 1):i + 1]) for i in range(len(values))])


def batch_loss(cell, head, x, y):
    """Cross-entropy of the read-out of h_T; the last trajectory is returned for the diagnostics."""
    traj = bptt.unroll(cell, x)
    return F.cross_entropy(head(traj.states[-1]), mg.tensor(y)), traj


def diagnostics(cell, head, rng: np.random.Generator) -> dict:
    """EGF at lag T, entropy of the W_hh gradient, SNR of the full gradient over mini-batches."""
    params = list(cell.parameters()) + list(head.parameters())
    grads = []
    for b in range(SNR_BATCHES):
        x, y = make_batch(rng, BATCH, T2)
        for p in params:
            p.grad = None
        loss, traj = batch_loss(cell, head, x, y)
        for s in traj.states[1:]:
            s.retain_grad()
        loss.backward()
        grads.append(np.concatenate([p.grad.ravel() for p in params]))
        if b == 0:
            adjoints = np.stack([np.zeros_like(traj.states[1].grad)] + [s.grad for s in traj.states[1:]])
            _, egf = temporal_gradient_profile(adjoints[1:])  # states 1..T: lag 0..T-1
            entropy = gradient_entropy(cell.weight_hh.grad, normalize=True)
    return {"egf": float(egf[-1]), "entropy": float(entropy), "snr": float(gradient_snr(grads))}


def train(lr: float, steps: int, seed: int) -> dict:
    """SGD at ``lr``; per step: sigma_1, rho, kappa of W_hh, gradient norm, loss."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed + 100)
    cell, head = nn.RNNCell(D_IN, H2), nn.Linear(H2, 2)
    scaled_orthogonal_(cell.weight_hh, 1.5)
    params = list(cell.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=lr)
    start = diagnostics(cell, head, np.random.default_rng(seed + 7))
    rec = {k: [] for k in TRACKED if k != "grad_var"}
    for _ in range(steps):
        W = cell.weight_hh.data.astype(np.float64)
        rec["sigma1"].append(float(singular_values(W)[0]))
        rec["rho"].append(float(spectral_radius(W)))
        rec["kappa"].append(float(condition_number(W)))
        x, y = make_batch(rng, BATCH, T2)
        loss, _ = batch_loss(cell, head, x, y)
        opt.zero_grad()
        loss.backward()
        rec["grad_norm"].append(math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params)))
        rec["loss"].append(float(loss.item()))
        opt.step()
    out = {k: np.array(v) for k, v in rec.items()}
    out["grad_var"] = rolling_variance(out["grad_norm"])
    out["start"], out["end"] = start, diagnostics(cell, head, np.random.default_rng(seed + 7))
    return out


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Spectral bounds of the remedies; sigma_1, rho, kappa and gradient statistics while training."""
    report = Report("spectral_tracking", out)
    H1, T1 = (16, 30) if quick else (32, 50)
    rng = np.random.default_rng(seed)
    W0 = rng.normal(0.0, 3.0 / math.sqrt(H1), (H1, H1))
    x = np.random.default_rng(seed + 1).normal(size=(T1, 4, D_IN))
    weights = remedied_weights(W0)
    prof = {k: product_profile(W, x, seed) for k, W in weights.items()}

    n_seeds, steps = (2, 80) if quick else (5, 100)
    lrs = (3.0, 0.3)
    seeds = [seed + i for i in range(n_seeds)]
    runs = {lr: [] for lr in lrs}
    for lr, s in progress([(lr, s) for lr in lrs for s in seeds], "SGD runs"):
        runs[lr].append(train(lr, steps, s))

    # figure 1: products and bounds
    fig, axes = figure(1, len(REMEDIES), width=18, height=4.2, sharey=True)
    lag = np.arange(T1, -1, -1)
    for ax, k in zip(axes, REMEDIES, strict=True):
        p = prof[k]
        ax.plot(lag, p["product"], color=COLORS[k], lw=2.2)
        ax.plot(lag, p["per_step_bound"], color="gray", ls=":", lw=1.5)
        ax.plot(lag, p["norm_bound"], color="black", ls="--", lw=1.2)
        ax.axhline(1.0, color="black", lw=0.6)
        ax.set(yscale="log", ylim=(1e-12, 1e12), xlabel="lag T - t",
               title=f"{LABELS[k]}\n" + rf"$\rho$ = {p['rho']:.3g}, $\|W\|_2$ = {p['norm2']:.3g}")  # fmt: skip
    axes[0].set_ylabel("gain from step t to T")
    handles = [axes[0].plot([], [], color="gray", lw=2.2)[0], axes[0].plot([], [], color="gray", ls=":", lw=1.5)[0],
               axes[0].plot([], [], color="black", ls="--", lw=1.2)[0]]  # fmt: skip
    fig.legend(handles, [r"measured $\max_n\|\partial h_T/\partial h_t\|_2$ (colour: remedy)",
                         r"bound $\prod_{k \geq t}\|J_k\|_2$", r"bound $\|W_{hh}\|_2^{T-t}$"],
               loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.1), frameon=False)  # fmt: skip
    fig.suptitle(f"Spectral remedies on an exploding tanh RNN (hidden {H1}, T = {T1}): measured product "
                 "beside the bound each remedy implies", y=1.04)
    report.save(fig, "bounds")

    # figure 2: tracking
    fig, axes = figure(2, 3, width=15, height=7.6)
    panels = [("sigma1", r"$\sigma_1(W_{hh})$"), ("rho", r"spectral radius $\rho(W_{hh})$"),
              ("kappa", r"condition number $\kappa(W_{hh})$"), ("grad_norm", r"gradient norm $\|g\|$"),
              ("grad_var", f"variance of $\\|g\\|$ over the last {WINDOW} steps"), ("loss", "training loss")]
    step_axis = np.arange(steps)
    for ax, (key, title) in zip(axes.ravel(), panels, strict=True):
        for lr in lrs:  # one line per seed: the captions quote per-seed finals and peaks, not a median
            for i, r in enumerate(runs[lr]):
                ax.plot(step_axis, r[key], color=COLORS[lr], lw=1.1, alpha=0.75,
                        label=f"SGD lr = {lr}, one line per seed ({n_seeds} seeds)" if i == 0 else None)
        ax.set(title=title, yscale="log")
    for ax in axes[1]:
        ax.set_xlabel("SGD step")
    axes[1, 1].set_xlim(1, steps)  # the variance over one step is 0: start at step 1
    axes[1, 2].axhline(math.log(2), color="gray", ls=":", lw=1.5, label="chance, ln 2")
    handles, labels = axes[1, 2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.subplots_adjust(hspace=0.3)
    fig.suptitle(f"Tracking W_hh during training (delayed recall, hidden {H2}, start: orthogonal gain 1.5)", y=0.96)
    report.save(fig, "tracking")

    rows = [[k, p["rho"], p["norm2"], p["fro"], p["nuclear"], float(p["product"][:-1].max()),
             float(p["product"][0])] for k, p in prof.items()]  # fmt: skip
    gd = "; ".join(f"{k} lr {lr} x {n}" for k, (lr, n) in PENALTY_GD.items())
    report.table(f"Spectral remedies (hidden {H1}, T = {T1}; each penalty alone by gradient descent: {gd})",
                 ["remedy", "rho(W)", "‖W‖_2", "‖W‖_F", "‖W‖_*", "max_t<T ‖dh_T/dh_t‖",
                  "‖dh_T/dh_0‖"], rows)  # fmt: skip
    summary = {}
    for lr in lrs:
        rs = runs[lr]
        summary[lr] = {
            "final_loss": [float(r["loss"][-10:].mean()) for r in rs],
            "max_grad_norm": [float(r["grad_norm"].max()) for r in rs],
            "first_grad_norm": [float(r["grad_norm"][0]) for r in rs],
            "final_rho": [float(r["rho"][-1]) for r in rs],
            "final_sigma1": [float(r["sigma1"][-1]) for r in rs],
            "final_kappa": [float(r["kappa"][-1]) for r in rs],
            "max_grad_var": [float(r["grad_var"].max()) for r in rs],
            "start": [r["start"] for r in rs], "end": [r["end"] for r in rs],
        }  # fmt: skip
    report.table(f"SGD at two learning rates ({n_seeds} seeds, {steps} steps): mean [min, max]",
                 ["lr", "final loss", "max ‖g‖", "final rho", "final sigma_1", "final kappa",
                  "max var ‖g‖"],
                 [[lr] + [f"{np.mean(summary[lr][k]):.3g} [{min(summary[lr][k]):.3g}, {max(summary[lr][k]):.3g}]"
                          for k in ("final_loss", "max_grad_norm", "final_rho", "final_sigma1",
                                    "final_kappa", "max_grad_var")] for lr in lrs])  # fmt: skip
    def spread(values) -> str:
        return f"{np.median(values):.3g} [{min(values):.3g}, {max(values):.3g}]"

    report.table("Temporal diagnostics at the start and end of training: median [min, max] over seeds",
                 ["lr", "when", f"EGF at lag {T2 - 1}", "entropy of grad W_hh (normalised)",
                  f"SNR over {SNR_BATCHES} batches"],
                 [[lr, when] + [spread([d[key] for d in summary[lr][when]]) for key in ("egf", "entropy", "snr")]
                  for lr in lrs for when in ("start", "end")])  # fmt: skip
    hi, lo = summary[lrs[0]], summary[lrs[1]]
    report.say(f"Spectral normalization keeps every product at or below 1 (max over t < T "
               f"{prof['spectral_norm']['product'][:-1].max():.3g}); "
               f"the Frobenius and nuclear penalties bring ‖W‖_2 to {prof['frobenius']['norm2']:.3g} and "
               f"{prof['nuclear']['norm2']:.3g}; the spectral-radius penalty brings rho to "
               f"{prof['spectral_radius']['rho']:.3g} but leaves ‖W‖_2 = {prof['spectral_radius']['norm2']:.3g}. "
               f"In training, SGD at lr {lrs[0]} drives rho(W_hh) to {np.mean(hi['final_rho']):.3g} and the gradient "
               f"norm up to {np.mean(hi['max_grad_norm']):.3g} (final loss {np.mean(hi['final_loss']):.3g}, "
               f"above ln 2); "
               f"at lr {lrs[1]} rho ends at {np.mean(lo['final_rho']):.3g}, max gradient norm "
               f"{np.mean(lo['max_grad_norm']):.3g}, final loss {np.mean(lo['final_loss']):.3g} (means over seeds).")
    report.finish()
    numbers = {"H1": H1, "T1": T1, "seeds": seeds, "steps": steps, "lrs": list(lrs), "summary": summary,
               "profiles": {k: {kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in p.items()}
                            for k, p in prof.items()},
               "tracks": {lr: {k: np.array([r[k] for r in runs[lr]]).tolist() for k in TRACKED}
                          for lr in lrs}}  # fmt: skip
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
