r"""The learning-rate-zero baseline: is the loss going down, or is it just batch noise?

A diagnostic for vanishing gradients: train the network with a learning rate of zero to measure
how much the loss fluctuates from the data alone, compare with a non-zero
learning rate, and "plot gradient norms across layers". Its symptom: "the loss may decrease
slightly at first (due to bias adjustments in later layers) but quickly plateaus".

The network: 20 sigmoid layers of width 32 (PyTorch's default Linear init) on a regression
$y = \sin(2 a^\top x) + b^\top x$, fresh mini-batches every step, plain SGD. Through a sigmoid layer
$h_l = \sigma(W_l h_{l-1} + b_l)$ the gradient obeys
$\|\partial\mathcal L/\partial h_{l-1}\|
\le \max\sigma' \, \|W_l\|_2\, \|\partial\mathcal L/\partial h_l\|
= 0.25\,\|W_l\|_2\,\|\partial\mathcal L/\partial h_l\|$ ($\max\sigma' = 0.25$), so it
shrinks geometrically towards the input. The remedy (skip connections and
normalization layers): the same 19 sigmoid layers inside pre-LayerNorm residual blocks
$h_{l} = h_{l-1} + W'_l\,\sigma(W_l\,\mathrm{LN}(h_{l-1}) + b_l) + b'_l$.

    python demos/lr_zero_baseline.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import numpy as np
from _common import BOUND, PALETTE, Report, figure, mean_spread, progress, run, seeds

import minigrad as mg
from minigrad import nn, optim

D_IN, WIDTH, DEPTH, BATCH = 16, 32, 20, 64
LR, LR_HIGH = 0.02, 0.1  # the remedy and the plain net share LR; LR_HIGH = "raise the lr" (5x)


class Teacher:
    r"""The data: $x \sim N(0, I)$, $y = \sin(2 a^\top x) + b^\top x$, fixed random a, b."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(10_000 + seed)
        self.a = rng.normal(size=D_IN) / np.sqrt(D_IN)
        self.b = rng.normal(size=D_IN) / np.sqrt(D_IN)

    def batch(self, rng: np.random.Generator, n: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, D_IN))
        return x, (np.sin(2 * x @ self.a) + x @ self.b)[:, None]


class DeepSigmoid(nn.Module):
    r"""$h_l = \sigma(W_l h_{l-1} + b_l)$ for l = 1..20, then a linear read-out."""

    def __init__(self) -> None:
        super().__init__()
        sizes = [D_IN] + [WIDTH] * DEPTH
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in pairs)
        self.head = nn.Linear(WIDTH, 1)

    def forward(self, x, keep: list | None = None):
        """``keep``: a list to receive every $h_l$ (``retain_grad``), for per-layer gradients."""
        h = x
        for layer in self.layers:
            h = nn.functional.sigmoid(layer(h))
            if keep is not None:
                h.retain_grad()
                keep.append(h)
        return self.head(h)


class ResidualSigmoid(nn.Module):
    r"""Remedy: $h_l = h_{l-1} + W'_l \sigma(W_l \mathrm{LN}(h_{l-1}) + b_l) + b'_l$, final LN."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(D_IN, WIDTH)
        self.norms = nn.ModuleList(nn.LayerNorm(WIDTH) for _ in range(DEPTH - 1))
        self.layers = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH - 1))
        self.outs = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH - 1))
        self.final_norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, 1)

    def forward(self, x, keep: list | None = None):
        h = self.stem(x)  # h_1: the stem is layer 1 (linear, no sigmoid); the 19 blocks are layers 2..20
        if keep is not None:
            h.retain_grad()
            keep.append(h)
        for norm, layer, out in zip(self.norms, self.layers, self.outs, strict=True):
            h = h + out(nn.functional.sigmoid(layer(norm(h))))
            if keep is not None:
                h.retain_grad()
                keep.append(h)
        return self.head(self.final_norm(h))


def _weights(model: nn.Module) -> list:
    """The 19/20 sigmoid layers' weight matrices, input side first."""
    return [layer.weight for layer in model.layers]


def train(kind: str, lr: float, steps: int, seed: int, teacher: Teacher) -> dict:
    """Train one run: the loss curve, and per-layer gradient norms at step 0 and at the end."""
    mg.manual_seed(seed)
    model = DeepSigmoid() if kind == "plain" else ResidualSigmoid()
    opt = optim.SGD(model.parameters(), lr=lr) if lr > 0 else None
    rng = np.random.default_rng(seed)  # the same batches for every run
    losses, first, last = [], None, None
    for step in range(steps):
        x, y = teacher.batch(rng)
        measure = step == 0 or step == steps - 1
        if opt is None and not measure:
            with mg.no_grad():  # lr = 0: the weights never change, the loss needs no backward
                losses.append(
                    float(nn.functional.mse_loss(model(mg.tensor(x)), mg.tensor(y)).item())
                )
            continue
        keep: list = []
        model.zero_grad()
        loss = nn.functional.mse_loss(model(mg.tensor(x), keep if measure else None), mg.tensor(y))
        loss.backward()
        losses.append(float(loss.item()))
        if measure:
            snap = {
                "act_grad": [float(np.linalg.norm(h.grad)) for h in keep],
                "weight_grad": [float(np.linalg.norm(w.grad)) for w in _weights(model)],
                "weight_spec": [float(np.linalg.norm(w.data, 2)) for w in _weights(model)],
            }
            first = snap if step == 0 else first
            last = snap
        if opt is not None:
            opt.step()
    return {"loss": np.array(losses), "first": first, "last": last}


def _plot(report: Report, runs: dict, entry: dict, steps: int, seed: int) -> None:
    fig, (ax_l, ax_g) = figure(1, 2, width=12.5, height=5.2)
    s = np.arange(steps)
    k = 10
    smooth = np.ones(k) / k
    floor = runs["plain lr=0"]["loss"]
    mu, sd = float(floor.mean()), float(floor.std())
    ax_l.plot(s, floor, color="#777777", lw=0.8, label="plain, lr = 0 (noise floor)")
    ax_l.axhspan(mu - 2 * sd, mu + 2 * sd, color="#777777", alpha=0.2, label="lr = 0: mean ± 2 std")
    ax_l.axhline(entry["var_y"], color="black", ls=":", lw=1.2, label="best constant prediction, Var(y)")
    styles = {f"plain lr={LR:g}": (PALETTE[1], f"plain sigmoid, lr = {LR:g}"),
              f"plain lr={LR_HIGH:g}": (PALETTE[4], f"plain sigmoid, lr = {LR_HIGH:g}"),
              f"residual lr={LR:g}": (PALETTE[0], f"residual + LayerNorm, lr = {LR:g}"),
              }  # fmt: skip
    for key, (color, label) in styles.items():
        loss = runs[key]["loss"]
        ax_l.plot(s, loss, color=color, lw=0.5, alpha=0.3)
        ax_l.plot(s[k - 1:], np.convolve(loss, smooth, mode="valid"), color=color, lw=1.8,
                  label=label + " (10-step mean)")  # fmt: skip
    ax_l.set(yscale="log", xlabel="training step", ylabel="training loss (MSE)",
             title=f"Loss against the lr = 0 baseline (seed {seed})")
    ax_l.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8.5)

    plain = runs[f"plain lr={LR:g}"]["first"]
    res = runs[f"residual lr={LR:g}"]["first"]
    lp = np.arange(1, len(plain["act_grad"]) + 1)
    lr_ = np.arange(1, len(res["act_grad"]) + 1)  # layer 1: its linear stem, then 19 residual blocks
    ax_g.plot(lp, plain["act_grad"], "o-", color=PALETTE[1], ms=4,
              label=r"plain sigmoid: $\|\partial\mathcal{L}/\partial h_l\|$ (autograd)")
    ax_g.plot(lr_, res["act_grad"], "s-", color=PALETTE[0], ms=4,
              label=r"residual + LayerNorm: $\|\partial\mathcal{L}/\partial h_l\|$ (autograd; layer 1 = linear stem)")
    # bound: start at the top layer's measured norm, multiply by 0.25 ||W_l|| going down
    spec = np.array(plain["weight_spec"])
    bound = [plain["act_grad"][-1]]
    for l in range(len(spec) - 1, 0, -1):  # from layer L down to 1: dL/dh_(l-1) <= 0.25||W_l|| dL/dh_l
        bound.append(bound[-1] * 0.25 * spec[l])
    ax_g.plot(lp, bound[::-1], **BOUND, label=r"theory: bound $\prod 0.25\,\|W_l\|_2$ from the top layer")
    ax_g.set(yscale="log", xlabel="layer l (1 = next to the input)",
             ylabel="gradient norm at initialization", title=f"Per-layer gradient norms (step 0, seed {seed})")
    ax_g.xaxis.get_major_locator().set_params(integer=True)
    ax_g.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, fontsize=8.5)
    report.save(fig, "loss_and_layers")


CONFIGS = (("plain", 0.0), ("plain", LR), ("plain", LR_HIGH), ("residual", 0.0), ("residual", LR))


def one_seed(steps: int, seed: int) -> tuple[dict, dict]:
    """Every run of ``CONFIGS`` on one seed; (runs, numbers of this seed)."""
    teacher = Teacher(seed)
    x_big, y_big = teacher.batch(np.random.default_rng(99_999 + seed), 20_000)
    runs = {f"{k} lr={lr:g}": train(k, lr, steps, seed, teacher) for k, lr in CONFIGS}
    tail = steps // 3
    floor = runs["plain lr=0"]["loss"]
    numbers: dict = {"var_y": float(np.var(y_big)), "noise_floor_mean": float(floor.mean()),
                     "noise_floor_std": float(floor.std())}  # fmt: skip
    for key, r in runs.items():
        loss, g = r["loss"], r["first"]["weight_grad"]
        entry = {"initial_loss": float(loss[:10].mean()), "final_loss": float(loss[-tail:].mean()),
                 "first_over_last_layer_grad": float(g[0] / g[-1])}  # fmt: skip
        entry["final_below_floor_in_std"] = float((numbers["noise_floor_mean"] - entry["final_loss"])
                                                  / numbers["noise_floor_std"])
        numbers[key] = entry
    # The bound, layer by layer, for the plain net at initialization.
    p = runs[f"plain lr={LR:g}"]["first"]
    act, spec = np.array(p["act_grad"]), np.array(p["weight_spec"])
    ratio = act[:-1] / act[1:]  # ||dL/dh_(l-1)|| / ||dL/dh_l|| for l = 2..L
    bound = 0.25 * spec[1:]
    numbers.update(plain_layer_ratio=ratio.tolist(), plain_layer_bound=bound.tolist(),
                   max_ratio_over_bound=float(np.max(ratio / bound)),
                   mean_decay_per_layer=float(np.exp(np.mean(np.log(ratio)))))
    return runs, numbers


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Train the five runs on every seed, print the baseline tables; save the figure."""
    report = Report("lr_zero_baseline", out)
    steps = 120  # quick mode runs fewer seeds, not shorter runs: 80 steps leave the remedy in the band
    used = seeds(quick, seed)
    per_seed, first_runs = [], None
    for s in progress(used, "lr_zero_baseline seeds"):
        runs, n = one_seed(steps, s)
        per_seed.append(n)
        first_runs = runs if first_runs is None else first_runs
    numbers: dict = {"steps": steps, "seeds": used, "lr": LR, "lr_high": LR_HIGH, "per_seed": per_seed}
    rows = []
    for key in [f"{k} lr={lr:g}" for k, lr in CONFIGS]:
        col = {f: [n[key][f] for n in per_seed] for f in per_seed[0][key]}
        numbers[key] = col
        rows.append([key] + ["{:.3g} ({:.3g} to {:.3g})".format(*mean_spread(col[f])) for f in
                             ("initial_loss", "final_loss", "final_below_floor_in_std")]
                    + ["{:.2g} to {:.2g}".format(min(col["first_over_last_layer_grad"]),
                                                max(col["first_over_last_layer_grad"]))])  # fmt: skip
    report.table(
        f"Deep sigmoid net ({DEPTH} layers) vs its remedy, {steps} SGD steps, seeds {used}: mean "
        f"(min to max) over seeds; Var(y) is the best constant prediction's loss",
        ["run", "loss (first 10)", f"loss (last {steps // 3})", "floor - final (in floor std)",
         "||dL/dW_1|| / ||dL/dW_L|| at init"],
        rows,
    )
    n0 = per_seed[0]
    show = [1, 2, 5, 10, 15, 19]
    report.table(
        f"Plain sigmoid net at init (seed {used[0]}): per-layer gradient decay vs the bound 0.25 ||W_l||_2",
        ["layer l", "||dL/dh_(l-1)|| / ||dL/dh_l||", "0.25 ||W_l||_2"],
        [[i + 1, n0["plain_layer_ratio"][i - 1], n0["plain_layer_bound"][i - 1]] for i in show],
    )
    _plot(report, first_runs, n0, steps, used[0])
    plain = numbers[f"plain lr={LR:g}"]
    res = numbers[f"residual lr={LR:g}"]
    high = numbers[f"plain lr={LR_HIGH:g}"]
    within = max(abs(v) for v in plain["final_below_floor_in_std"] + high["final_below_floor_in_std"])
    report.say(
        f"The figure shows seed {used[0]}; on all {len(used)} seeds the plain sigmoid net's loss ends "
        f"within {within:.1f} noise-floor std of the lr = 0 baseline at both learning rates (layer-1 "
        f"gradients {min(plain['first_over_last_layer_grad']):.0e} to "
        f"{max(plain['first_over_last_layer_grad']):.0e} of layer 20's, under the 0.25 ||W|| bound), "
        f"while the residual + LayerNorm net ends {min(res['final_below_floor_in_std']):.0f} to "
        f"{max(res['final_below_floor_in_std']):.0f} std below it."
    )
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
