r"""Gradient path length: attention reaches $x_t$ in one step, a recurrent cell in $L - t$.

long_range's delayed recall (name the first of K = 4 symbols after L distractor steps), at
L = 30, 100 and 300. In a recurrent network the loss reaches the first input through a product of
L step Jacobians $J_k = \partial h_{k+1}/\partial h_k$, $\partial\mathcal L/\partial x_0 =
\partial\mathcal L/\partial h_{L+1}\,J_L\cdots J_1\,\partial h_1/\partial x_0$, so
$\lVert\partial\mathcal L/\partial x_t\rVert$ shrinks with the lag $L - t$ like that product. A
one-layer causal attention model read out at its last position $T = L$ mixes the values with
weights $\alpha_{t} = \mathrm{softmax}_t(q_T\cdot k_t/\sqrt d)$: every input is one step from the
output, and for $t < T$ (one head; a sum over heads otherwise)

$$\frac{\partial\mathcal L}{\partial z_t} = \alpha_t\Big[W_v^\top g + \frac{g\cdot(v_t - o)}{\sqrt d}\,
W_k^\top q_T\Big],\qquad g = \frac{\partial\mathcal L}{\partial o},\ o = \sum_t \alpha_t v_t,$$

where $z_t$ is the embedded $x_t$: the gradient is $\alpha_t$ times a factor that depends on $t$ only
through $v_t$. It follows the attention weight, whatever the lag, instead of decaying like a product.

Four models, as in long_range (hidden or embedding size 16, Adam lr 0.01, norm clipping at 1,
150 steps of 64 sequences, seeds 0-4): the vanilla tanh RNN and the LSTM with PyTorch's default
init, the LSTM with long_range's retention init ($\sigma(b_f) = 0.97$), and attention: the inputs
embedded by a linear layer and scaled by $\sqrt E$ (as in Vaswani et al. 2017), sinusoidal positional
encoding, ``nn.MultiheadAttention`` with 4 heads, a linear read-out of the last position.

Measured, per model and L:

* $\lVert\partial\mathcal L_n/\partial x_{t,n}\rVert$ against the lag $L - t$ by autograd (32 fresh
  sequences, one backward pass: the sequences are independent), at initialisation, and for the
  trained attention model beside its head-averaged attention weight $\bar\alpha_t$;
* for attention, the formula above per head (``explicit_input_gradient``, NumPy) against autograd,
  and, over the lags of one sequence and head, the decades spanned by the weight $\alpha^h_t$ and
  by the norm of the bracket, $\lVert u^h_t\rVert$ (the same bracket, mapped back through the embedding);
* held-out accuracy (512 sequences) after training, where training is cheap enough for the
  2-core budget: attention at every L, the retention LSTM at the first two, the default-init cells
  at the first (they are at chance there already);
* a proxy where a model is not trained: the gradient ratio at lag L, $R_L =
  \lVert\partial\mathcal L/\partial x_0\rVert / \lVert\partial\mathcal L/\partial x_L\rVert$ (median
  over the sequences) at initialisation, one forward and backward pass. $x_0$ holds the only
  information about the label, so $R_L$ is the share of the teaching signal that reaches it,
  relative to the most recent input. It is a proxy, not an accuracy: where both are measured,
  the models that learn have the larger $R_L$.

    python demos/attention_path.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import MARKERS, PALETTE, THEORY, Report, figure, mean_spread, progress, run, seeds
from long_range import BATCH, HIDDEN, LR, SOLVED, K, Recall, make_batch

import minigrad as mg
from minigrad import nn, optim

EMBED, HEADS = HIDDEN, 4
RECURRENT = ("RNN default", "LSTM default", "LSTM retention")
MODELS = RECURRENT + ("attention",)
COLORS = dict(zip(MODELS, (PALETTE[1], PALETTE[0], PALETTE[5], PALETTE[2]), strict=True))
PROBE = 32  # sequences per gradient measurement


class CausalAttention(nn.Module):
    """Embedding (times sqrt E), sinusoidal positions, one causal self-attention layer, read-out of the
    last position."""

    def __init__(self, max_len: int = 1024) -> None:
        super().__init__()
        self.embed = nn.Linear(K + 1, EMBED)
        self.pos = nn.SinusoidalPositionalEncoding(EMBED, max_len=max_len)
        self.attn = nn.MultiheadAttention(EMBED, HEADS)
        self.head = nn.Linear(EMBED, K)

    def forward(self, x, need_weights: bool = False, last_only: bool = True):
        """Logits (N, K) and, with ``need_weights``, the last position's weights (N, T) over the heads.

        The loss reads the last position only, and the causal mask hides nothing from the last
        query: its row of the full causal attention (``last_only=False``) is the one computed by
        attending from that query alone (``last_only=True``, O(T) instead of O(T^2); the tests check
        both give the same logits and gradients).
        """
        z = self.pos(self.embed(x) * math.sqrt(EMBED))
        T = z.shape[0]
        if last_only:
            y, w = self.attn(z[T - 1:], z, z, need_weights=need_weights)
        else:
            causal = np.triu(np.ones((T, T), dtype=bool), 1)  # True: query t may not see key s > t
            y, w = self.attn(z, z, z, attn_mask=causal, need_weights=need_weights)
        return self.head(y[-1]), None if w is None else w[:, -1, :]


def build(model: str, seed: int) -> nn.Module:
    """The model's network with its initial weights for ``seed`` (Recall draws as in long_range)."""
    mg.manual_seed(seed)
    return CausalAttention() if model == "attention" else Recall(model)


def logits_of(net: nn.Module, x, need_weights: bool = False):
    """(logits, last position's attention weights or None) for either kind of network."""
    if isinstance(net, CausalAttention):
        return net(x, need_weights=need_weights)
    return net(x), None


def train(net: nn.Module, L: int, steps: int, seed: int) -> float:
    """long_range's training loop (the same batches for every model of a seed); held-out accuracy."""
    opt = optim.Adam(net.parameters(), lr=LR)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x, y = make_batch(rng, BATCH, L)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(logits_of(net, mg.tensor(x))[0], mg.tensor(y))
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
    x, y = make_batch(np.random.default_rng(1_000 + seed), 512, L)
    with mg.no_grad():
        logits = logits_of(net, mg.tensor(x))[0]
    return float(np.mean(logits.data.argmax(axis=1) == y))


def input_gradients(net: nn.Module, L: int, seed: int) -> dict:
    """Per sequence n and lag L - t: ||dL_n/dx_{t,n}|| by autograd, and attention's weights.

    The loss is the sum of the per-sequence losses: sequence n's loss depends on its own inputs
    only, so one backward pass gives every sequence's own gradient.
    """
    x, y = make_batch(np.random.default_rng(2_000 + seed), PROBE, L)
    xt = mg.tensor(x, requires_grad=True)
    logits, weights = logits_of(net, xt, need_weights=True)
    nn.functional.cross_entropy(logits, mg.tensor(y), reduction="sum").backward()
    by_lag = np.linalg.norm(xt.grad, axis=2)[::-1]  # (L + 1, N): row k is lag k, input x_{L-k}
    out = {"grad": by_lag, "ratio": float(np.median(by_lag[L] / by_lag[0]))}
    if weights is not None:
        out["alpha"] = weights.data.T[::-1]  # (L + 1, N), by lag like "grad"
        out.update(tracking(net, x, y, xt.grad))
    return out


def explicit_input_gradient(net: CausalAttention, x: np.ndarray, y: np.ndarray,
                            key_path: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The module docstring's formula, in NumPy: for $t < T$,
    $\partial\mathcal L_n/\partial x_{t,n} = \sum_h \alpha^h_{t,n}\, u^h_{t,n}$ with
    $u^h_t = \sqrt E\, W_e^\top\big[W_v^{h\top} g^h + c\,(g^h\cdot(v^h_t - o^h))\, W_k^{h\top} q^h\big]$,
    $c = 1/\sqrt d$, $g^h$ the loss gradient at head h's output $o^h$.

    Returns (gradient (T-1, N, K+1), alpha (H, T-1, N), ||u|| (H, T-1, N)) for the inputs x_0..x_{T-2}
    (x_{T-1} also enters through the query). Written from the parameters alone, so that the tests can
    check autograd against it. ``key_path=False`` drops the second term (the path through the keys and
    the softmax's Jacobian): the textbook "the gradient reaches x_t with weight alpha_t" form.
    """
    E, H = EMBED, HEADS
    d = E // H
    W_e, b_e = net.embed.weight.data, net.embed.bias.data
    W_in, b_in = net.attn.in_proj_weight.data, net.attn.in_proj_bias.data
    W_o, W_r, b_r = net.attn.out_proj.weight.data, net.head.weight.data, net.head.bias.data
    T, N = x.shape[:2]
    z = (x @ W_e.T + b_e) * math.sqrt(E) + net.pos.pe[:T, None, :]  # (T, N, E)
    q, k, v = (z @ W_in[i * E:(i + 1) * E].T + b_in[i * E:(i + 1) * E] for i in range(3))
    qh = q[-1].reshape(N, H, d)  # the last position's query
    kh, vh = k.reshape(T, N, H, d), v.reshape(T, N, H, d)
    s = np.einsum("nhd,tnhd->htn", qh, kh) / math.sqrt(d)
    alpha = np.exp(s - s.max(axis=1, keepdims=True))
    alpha /= alpha.sum(axis=1, keepdims=True)  # (H, T, N)
    o = np.einsum("htn,tnhd->nhd", alpha, vh)
    logits = o.reshape(N, E) @ W_o.T + net.attn.out_proj.bias.data
    logits = logits @ W_r.T + b_r
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(N), y] -= 1.0  # dL_n/dlogits for the summed cross-entropy
    g = ((p @ W_r) @ W_o).reshape(N, H, d)  # dL/do^h
    Wk, Wv = (W_in[i * E:(i + 1) * E].reshape(H, d, E) for i in (1, 2))
    value_path = np.einsum("nhd,hde->hne", g, Wv)[:, None]  # (H, 1, N, E): W_v^hT g^h
    score = np.einsum("nhd,tnhd->htn", g, vh - o[None]) / math.sqrt(d)  # g^h . (v^h_t - o^h) / sqrt d
    key_term = score[..., None] * np.einsum("nhd,hde->hne", qh, Wk)[:, None]  # (H, T, N, E)
    path = value_path + key_term if key_path else np.broadcast_to(value_path, key_term.shape)
    u = path @ W_e * math.sqrt(E)  # (H, T, N, K+1): back through the embedding and its sqrt(E)
    grad = np.einsum("htn,htni->tni", alpha, u)
    return grad[:-1], alpha[:, :-1], np.linalg.norm(u[:, :-1], axis=-1)


def tracking(net: CausalAttention, x: np.ndarray, y: np.ndarray, autograd: np.ndarray) -> dict:
    """The explicit formula against autograd; and, within each sequence and head, how many decades the
    weight alpha^h_t and the factor ||u^h_t|| span over the lags >= 1: the factor's largest span
    over the heads and sequences, the weight's median span."""
    grad, alpha, u = explicit_input_gradient(net, x, y)
    err = float(np.max(np.abs(grad - autograd[:-1])) / np.max(np.abs(autograd)))
    textbook = explicit_input_gradient(net, x, y, key_path=False)[0]
    miss = float(np.linalg.norm(textbook - autograd[:-1]) / np.linalg.norm(autograd[:-1]))
    la, lu = np.log10(np.maximum(alpha, 1e-300)), np.log10(u)  # a weight may underflow to 0
    return {"formula_error": err, "textbook_error": miss,
            "alpha_decades": float(np.median(la.max(axis=1) - la.min(axis=1))),
            "u_decades": float(np.max(lu.max(axis=1) - lu.min(axis=1)))}  # fmt: skip


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Measure gradients at every length, train where affordable, print the tables, save the figures."""
    report = Report("attention_path", out)
    lengths = (10, 20, 40) if quick else (30, 100, 300)
    steps = 100 if quick else 150
    used = seeds(quick, seed)
    # What is trained: attention everywhere; the retention LSTM at the two shorter lengths; the
    # default-init cells at the shortest (long_range: at chance there already).
    trained_at = {"RNN default": lengths[:1], "LSTM default": lengths[:1], "LSTM retention": lengths[:2],
                  "attention": lengths}  # fmt: skip
    jobs = [(m, L, s) for L in lengths for m in MODELS for s in used]
    res: dict = {}
    for m, L, s in progress(jobs, "attention_path"):
        net = build(m, s)
        r = {"init": input_gradients(net, L, s)}
        if L in trained_at[m]:
            r["accuracy"] = train(net, L, steps, s)
            r["trained"] = input_gradients(net, L, s)
        res[(m, L, s)] = r

    numbers: dict = {"lengths": list(lengths), "seeds": used, "steps": steps, "batch": BATCH, "probe": PROBE,
                     "chance": 1 / K, "solved_threshold": SOLVED, "embed": EMBED, "heads": HEADS,
                     "trained_at": {m: list(v) for m, v in trained_at.items()}}  # fmt: skip
    rows = []
    for L in lengths:
        for m in MODELS:
            init_r = [res[(m, L, s)]["init"]["ratio"] for s in used]
            entry = {"init_ratio": init_r}
            row = [L, m, float(np.median(init_r)), min(init_r), max(init_r)]
            if L in trained_at[m]:
                accs = [res[(m, L, s)]["accuracy"] for s in used]
                mean, lo, hi = mean_spread(accs)
                entry.update(accuracy=accs, mean=mean, min=lo, max=hi, solved=sum(a > SOLVED for a in accs),
                             trained_ratio=[res[(m, L, s)]["trained"]["ratio"] for s in used])  # fmt: skip
                row += [mean, lo, hi, f"{entry['solved']}/{len(used)}"]
            else:
                row += ["not trained"] * 3 + ["-"]
            numbers[f"{m} L={L}"] = entry
            rows.append(row)
    report.table(
        f"Gradient ratio at lag L, R_L = ||dL/dx_0|| / ||dL/dx_L|| at initialisation (median over {PROBE} "
        f"sequences; median, min, max over seeds {used}), and held-out accuracy after {steps} Adam steps "
        f"of {BATCH} (chance {1 / K:g})",
        ["L", "model", "R_L median", "R_L min", "R_L max", "mean acc", "min", "max", f"acc > {SOLVED:g}"], rows)

    track_rows = []
    for L in lengths:
        for when in ("init", "trained"):
            t = [res[("attention", L, s)][when] for s in used]
            entry = {k: [v[k] for v in t] for k in ("formula_error", "textbook_error", "alpha_decades", "u_decades")}
            numbers[f"tracking {when} L={L}"] = entry
            track_rows.append([L, when, max(entry["formula_error"]), min(entry["textbook_error"]),
                               max(entry["textbook_error"]), min(entry["alpha_decades"]),
                               max(entry["alpha_decades"]), min(entry["u_decades"]), max(entry["u_decades"])])
    report.table(
        "Attention: dL/dx_t = sum_h alpha^h_t u^h_t (t < T). The formula against autograd (max relative error), "
        "the textbook value path alone against autograd (relative norm of the difference, min and max); "
        "over the lags of one sequence and head, the decades spanned by alpha^h_t (median over heads and "
        f"sequences) and by ||u^h_t|| (largest); min and max over seeds {used}",
        ["L", "attention", "formula vs autograd", "value path alone: min", "max", "alpha^h_t decades min", "max",
         "||u^h_t|| decades min", "max"],
        track_rows)  # fmt: skip

    _plot_profiles(report, res, lengths, used)
    _plot_accuracy(report, numbers, lengths, used, trained_at)
    _say(report, numbers, lengths, used)
    report.finish()
    return numbers


def _profile(res: dict, m: str, L: int, used, when: str, key: str = "grad") -> np.ndarray:
    """Geometric mean over seeds of the mean over sequences, per lag."""
    return 10 ** np.mean([np.log10(res[(m, L, s)][when][key].mean(axis=1)) for s in used], axis=0)


def _plot_profiles(report: Report, res: dict, lengths, used) -> None:
    fig, axes = figure(1, len(lengths), width=15, height=4.4)
    for ax, L in zip(axes, lengths, strict=True):
        lags = np.arange(L + 1)
        for i, m in enumerate(MODELS):
            ax.plot(lags, _profile(res, m, L, used, "init"), color=COLORS[m], lw=2,
                    marker=MARKERS[i], markevery=max(1, L // 8), ms=4, label=f"{m}, at init")  # fmt: skip
        g = _profile(res, "attention", L, used, "trained")
        a = _profile(res, "attention", L, used, "trained", "alpha")
        ax.plot(lags, g, color=COLORS["attention"], lw=2.5, ls="-.", label="attention, trained (loss near 0)")
        scale = float(np.median(g[1:] / a[1:]))
        ax.plot(lags, scale * a, **THEORY, label=r"trained: $c\,\bar\alpha_t$")
        ax.set(yscale="log", xlabel="lag L - t", title=f"L = {L}",
               ylabel=r"$\Vert\partial\mathcal{L}/\partial x_t\Vert$" if L == lengths[0] else None)  # fmt: skip
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    fig.suptitle(f"Gradient to the input at each lag (mean of {PROBE} sequences, geometric mean over seeds "
                 f"{used[0]}..{used[-1]})", y=1.02)  # fmt: skip
    report.save(fig, "profiles")


def _plot_accuracy(report: Report, numbers: dict, lengths, used, trained_at) -> None:
    fig, (ax_a, ax_r) = figure(1, 2, width=12, height=4.4)
    jitter = np.linspace(-0.12, 0.12, len(used))
    for i, m in enumerate(MODELS):
        offset = (i - 1.5) * 0.06
        for j, L in enumerate(lengths):
            r = numbers[f"{m} L={L}"]
            if "accuracy" in r:
                ax_a.plot(j + offset + jitter / 4, r["accuracy"], MARKERS[i], color=COLORS[m], ms=6, ls="none",
                          markeredgecolor="black", markeredgewidth=0.4, label=m if j == 0 else None)  # fmt: skip
            ax_r.plot(j + offset + jitter / 4, r["init_ratio"], MARKERS[i], color=COLORS[m], ms=6, ls="none",
                      markeredgecolor="black", markeredgewidth=0.4, label=m if j == 0 else None)  # fmt: skip
    ax_a.axhline(1 / K, color="black", ls=":", lw=1.2)
    ax_a.set(ylim=(0, 1.05), xticks=range(len(lengths)), xticklabels=[f"L = {L}" for L in lengths],
             ylabel="held-out accuracy", title="Accuracy after training (only where trained)")  # fmt: skip
    for j, L in enumerate(lengths[1:], 1):
        untrained = [m for m in RECURRENT if L not in trained_at[m]]
        ax_a.text(j, 0.5, "not trained:\n" + "\n".join(untrained) + "\n(see R_L)", ha="center", fontsize=7.5)
    ax_a.legend(loc="lower right", fontsize=8)
    ax_r.set(yscale="log", xticks=range(len(lengths)), xticklabels=[f"L = {L}" for L in lengths],
             ylabel=r"$R_L = \Vert\partial\mathcal{L}/\partial x_0\Vert / \Vert\partial\mathcal{L}/\partial x_L\Vert$",
             title="Gradient ratio at lag L, at initialisation")  # fmt: skip
    ax_r.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"Same budget for every model ({numbers['steps']} Adam steps of {BATCH}); dots = seeds "
                 f"{used[0]}..{used[-1]}", y=1.02)  # fmt: skip
    report.save(fig, "accuracy")


def _say(report: Report, n: dict, lengths, used) -> None:
    L1, L2, L3 = lengths
    att = [n[f"attention L={L}"] for L in lengths]
    ret = [n[f"LSTM retention L={L}"] for L in lengths]
    report.say(
        f"The figures show the gradient to each input against its lag, and accuracy over seeds {used}. "
        f"Attention learns the recall at L = {L1}, {L2} and {L3} on "
        + ", ".join(f"{a['solved']}/{len(used)}" for a in att)
        + f" seeds (min accuracy {min(a['min'] for a in att):.3f}); the retention LSTM on "
        f"{ret[0]['solved']}/{len(used)} at L = {L1} and {ret[1]['solved']}/{len(used)} at L = {L2}. "
        f"At initialisation R_L (median over seeds) is, at L = {L1}, {L2}, {L3}: "
        + "; ".join(f"{m} " + ", ".join(f"{np.median(n[f'{m} L={L}']['init_ratio']):.2g}" for L in lengths)
                    for m in MODELS)
        + ". Over the lags of one sequence, the trained attention model's weights alpha^h_t span a median of at "
        f"least {min(min(n[f'tracking trained L={L}']['alpha_decades']) for L in lengths):.1f} decades, the "
        f"factors ||u^h_t|| at most {max(max(n[f'tracking trained L={L}']['u_decades']) for L in lengths):.1f}: "
        "the gradient follows the weight, not the lag."
    )


if __name__ == "__main__":
    run(main, __doc__)
