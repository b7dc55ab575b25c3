r"""Long-range memory as a controlled experiment: gating or initialization?

Vanishing gradients mean a vanilla RNN "cannot associate early inputs with later outputs", and the
usual fix is a gated cell. The task: the first input is one of K = 4 symbols (one-hot); then come
L distractor steps (a "blank" channel plus a random half-height symbol); after the last step the
model must name the first symbol (chance: 1/K). The only gradient that teaches the task has to
travel L steps back.

Seven models, two controls on each side, all with hidden size 16, Adam (lr 0.01, norm clipping
at 1) and the same budget (the same steps and the same batches), several seeds:

* vanilla tanh RNN with PyTorch's default init $U(-1/\sqrt H, 1/\sqrt H)$;
* the same with orthogonal $W_{hh}$ ($\rho = \|W_{hh}\|_2 = 1$);
* IRNN-style: ReLU units, $W_{hh} = I$, zero biases (Le et al. 2015);
* LSTM and GRU with PyTorch's default init (forget gate $\sigma(0) = 1/2$, update gate 1/2);
* LSTM and GRU with a retention init for p = 0.97: the LSTM's forget gate $\sigma(b_f) = p$ and
  input gate $\sigma(b_i) = 1 - p$; the GRU's update gate $\sigma(b_z) = p$, so
  $h_{t+1} \approx p\,h_t$.

Comparing "LSTM default" with "RNN default" isolates gating; comparing each cell's default with
its own better init isolates initialization.

    python demos/long_range.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import MARKERS, PALETTE, Report, figure, mean_spread, progress, run, seeds

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn.recurrent_init import forget_gate_bias_, identity_, retention_logit, scaled_orthogonal_

K, HIDDEN, BATCH, LR, P = 4, 16, 64, 0.01, 0.97
MODELS = ("RNN default", "RNN orthogonal", "RNN identity (IRNN)", "LSTM default",
          "LSTM retention", "GRU default", "GRU retention")  # fmt: skip
COLORS = dict(zip(MODELS, (PALETTE[1], PALETTE[4], PALETTE[3], PALETTE[0], PALETTE[5], PALETTE[2],
                           "#7fd1b9"), strict=True))  # fmt: skip
SOLVED = 0.9  # held-out accuracy that counts as "learned the task"


def make_batch(rng: np.random.Generator, n: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """x (L+1, N, K+1): the symbol at t = 0, then L blank steps with a half-height distractor."""
    x = np.zeros((L + 1, n, K + 1))
    y = rng.integers(0, K, n)
    rows = np.arange(n)
    x[0, rows, y] = 1.0
    x[1:, :, K] = 1.0  # the "blank" channel
    distractors = rng.integers(0, K, (L, n))
    for t in range(L):
        x[t + 1, rows, distractors[t]] = 0.5
    return x, y


class Recall(nn.Module):
    """A recurrent layer (one of ``MODELS``) and a linear read-out of its last hidden state."""

    def __init__(self, model: str) -> None:
        super().__init__()
        if model not in MODELS:
            raise ValueError(f"Recall: model must be one of {MODELS}, got {model!r}")
        self.kind = model.split()[0]
        H, b = HIDDEN, retention_logit(P)
        if self.kind == "RNN":
            self.rnn = nn.RNN(K + 1, H, nonlinearity="relu" if "IRNN" in model else "tanh")
        else:
            self.rnn = {"LSTM": nn.LSTM, "GRU": nn.GRU}[self.kind](K + 1, H)
        self.head = nn.Linear(HIDDEN, K)
        if model == "RNN orthogonal":
            scaled_orthogonal_(self.rnn.weight_hh_l0, 1.0)
        elif model == "RNN identity (IRNN)":
            identity_(self.rnn.weight_hh_l0, 1.0)
            self.rnn.bias_ih_l0.data[...] = 0.0
            self.rnn.bias_hh_l0.data[...] = 0.0
        elif model == "LSTM retention":
            forget_gate_bias_(self.rnn, P)  # sigma(b_f) = p (gate order i, f, g, o)
            self.rnn.bias_ih_l0.data[:H] = -b  # sigma(b_i) = 1 - p
            self.rnn.bias_hh_l0.data[:H] = 0.0
        elif model == "GRU retention":  # gate order r, z, n: h = (1 - z) n + z h_prev
            self.rnn.bias_ih_l0.data[H:2 * H] = b
            self.rnn.bias_hh_l0.data[H:2 * H] = 0.0

    def forward(self, x):
        _, h_n = self.rnn(x)
        if self.kind == "LSTM":
            h_n = h_n[0]
        return self.head(h_n[0])


def train(model: str, L: int, steps: int, seed: int) -> dict:
    """Train one model on one length; return its loss curve and held-out accuracy."""
    mg.manual_seed(seed)
    net = Recall(model)
    opt = optim.Adam(net.parameters(), lr=LR)
    rng = np.random.default_rng(seed)  # the same batches for every model of this seed
    losses = []
    for _ in range(steps):
        x, y = make_batch(rng, BATCH, L)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(mg.tensor(x)), mg.tensor(y))
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.item()))
    x, y = make_batch(np.random.default_rng(1_000 + seed), 512, L)
    with mg.no_grad():
        logits = net(mg.tensor(x))
        test_loss = float(nn.functional.cross_entropy(logits, mg.tensor(y)).item())
    acc = float(np.mean(logits.data.argmax(axis=1) == y))
    return {"loss": np.array(losses), "accuracy": acc, "test_loss": test_loss}


def _plot(report: Report, results: dict, lengths, used, steps: int) -> None:
    fig, axes = figure(1, len(lengths) + 1, width=15, height=4.6)
    jitter = np.linspace(-0.18, 0.18, len(used))
    for ax, L in zip(axes[:-1], lengths, strict=True):
        for i, m in enumerate(MODELS):
            accs = [results[(m, L, s)]["accuracy"] for s in used]
            ax.plot(i + jitter, accs, MARKERS[i % len(MARKERS)], color=COLORS[m], ms=6, ls="none",
                    markeredgecolor="black", markeredgewidth=0.4)  # fmt: skip
            ax.plot([i - 0.3, i + 0.3], [np.mean(accs)] * 2, color="black", lw=2)
        ax.axhline(1 / K, color="black", ls=":", lw=1.2)
        ax.text(len(MODELS) - 0.5, 1 / K + 0.02, f"chance 1/{K}", ha="right", fontsize=8.5)
        ax.set(ylim=(0, 1.05), xticks=range(len(MODELS)), title=f"delay L = {L}",
               ylabel="held-out accuracy" if L == lengths[0] else None)  # fmt: skip
        ax.set_xticklabels(MODELS, rotation=40, ha="right", fontsize=8.5)
        ax.grid(axis="x", visible=False)
    ax_l = axes[-1]
    L = lengths[-1]
    smooth = np.ones(10) / 10
    # The default-init models sit on top of each other at chance: staggered markers tell them apart in
    # the panel, and an inset with a linear axis around ln K shows each of them
    inset = ax_l.inset_axes([0.05, 0.05, 0.42, 0.28])  # the empty lower left: no curve is below 0.15 there
    inset.yaxis.tick_right()  # keep the inset's labels off the panel's own tick labels
    curves = {m: np.convolve(np.mean([results[(m, L, s)]["loss"] for s in used], axis=0), smooth, mode="valid")
              for m in MODELS}  # fmt: skip
    defaults = [m for m in MODELS if "default" in m]
    for m, curve in curves.items():
        style = {"color": COLORS[m], "lw": 2, "ls": "-"}
        if m in defaults:
            j = defaults.index(m)
            style.update(ls="--", marker=MARKERS[j], ms=5, markevery=(4 * j, 12), markeredgecolor="black",
                         markeredgewidth=0.4)  # fmt: skip
            inset.plot(np.arange(9, steps), curve, **style)
        ax_l.plot(np.arange(9, steps), curve, label=m, **style)
    ax_l.axhline(math.log(K), color="black", ls=":", lw=1.2, label=f"chance: ln {K}")
    inset.axhline(math.log(K), color="black", ls=":", lw=1.2)
    inset.set_title(f"default inits, around ln {K} (linear axis)", fontsize=7.5)
    inset.tick_params(labelsize=7)
    ax_l.set(yscale="log", xlabel="training step", ylabel=f"training loss (mean of {len(used)} seeds, 10-step mean)",
             title=f"Training at L = {L}")
    ax_l.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    fig.suptitle(f"Recall after L steps: same budget ({steps} Adam steps of {BATCH}); dots = seeds "
                 f"{used[0]}..{used[-1]}, bar = mean", y=1.02)  # fmt: skip
    report.save(fig, "accuracy")


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Train every model at every length on every seed; print accuracies; save the figure."""
    report = Report("long_range", out)
    lengths = (5, 15) if quick else (5, 30)
    steps = 120 if quick else 150
    used = seeds(quick, seed)
    jobs = [(m, L, s) for L in lengths for s in used for m in MODELS]
    results = {job: train(*job[:2], steps, job[2]) for job in progress(jobs, "long_range trainings")}
    numbers: dict = {"lengths": list(lengths), "steps": steps, "seeds": used, "chance": 1 / K,
                     "chance_loss": math.log(K), "solved_threshold": SOLVED, "batch": BATCH}  # fmt: skip
    rows = []
    for L in lengths:
        for m in MODELS:
            accs = [results[(m, L, s)]["accuracy"] for s in used]
            mean, lo, hi = mean_spread(accs)
            n_solved = sum(a > SOLVED for a in accs)
            numbers[f"{m} L={L}"] = {"accuracy": accs, "mean": mean, "min": lo, "max": hi,
                                     "solved": n_solved,
                                     "test_loss": [results[(m, L, s)]["test_loss"] for s in used]}  # fmt: skip
            rows.append([L, m, mean, lo, hi, f"{n_solved}/{len(used)}"])
    report.table(
        f"Recall the first of {K} symbols after L steps: held-out accuracy over seeds {used} "
        f"(chance {1 / K:g}) after {steps} Adam steps of {BATCH} sequences",
        ["L", "model", "mean acc", "min", "max", f"seeds with acc > {SOLVED:g}"], rows)
    _plot(report, results, lengths, used, steps)

    L = lengths[-1]

    def verdict(m: str) -> str:
        r = numbers[f"{m} L={L}"]
        if r["max"] < 1 / K + 0.1:
            word = "at chance on every seed"
        elif r["solved"] == len(used):
            word = "learns it on every seed"
        else:
            word = f"learns it on {r['solved']} of {len(used)} seeds"
        return f"{m}: {word} (mean {r['mean']:.2f}, {r['min']:.2f}-{r['max']:.2f})"

    report.say(
        f"The figure shows held-out accuracy on {len(used)} seeds after the same budget. At L = {L}: "
        + "; ".join(verdict(m) for m in MODELS) + f". At L = {lengths[0]} every model's mean accuracy "
        f"is at least {min(numbers[f'{m} L={lengths[0]}']['mean'] for m in MODELS):.2f}."
    )
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
