r"""Exploding gradients as Pascanu, Mikolov and Bengio (2013) analysed them: the condition, and the cliff.

**The condition.** For $h_{t+1} = \tanh(W h_t + x_t)$ the step Jacobian is
$J_t = \mathrm{diag}(\tanh'(z_{t+1}))\,W$, $z_{t+1} = W h_t + x_t$, with $0 < \tanh' \le \gamma = 1$, so
$\lVert\partial h_T/\partial h_0\rVert \le (\gamma\,\sigma_1(W))^T$: $\sigma_1(W) < 1/\gamma$ is
*sufficient* for vanishing, whatever the inputs. The spectral radius is not: the inputs choose
which units saturate, and the product of the switched Jacobians can grow although $\rho(W) < 1$.
Here $W = \begin{pmatrix}1.5 & 1\\ -2 & -1.5\end{pmatrix}$ has $W^2 = 0.25 I$, so $\rho(W) = 0.5$
($\sigma_1(W) = 3.08$): with zero input $\lVert\partial h_T/\partial h_0\rVert = 0.5^T$, but an
input that saturates unit 2 leaves $J_t \approx \mathrm{diag}(1, 0)W$, whose loop on unit 1 has
gain 1.5: the gradient grows as $1.5^T$. The same $W$ rescaled to $\sigma_1 = 0.95$ stays under
$0.95^T$ for every input tried.

**The cliff.** A one-unit RNN $h_{t+1} = \tanh(w h_t + b)$ over T = 50 steps with
$\mathcal L = (h_T - y)^2$: near $w \approx 1.5$ a stable fixed point is born (a saddle-node
bifurcation), and $h_T$ jumps from about $-0.9$ to $+0.6$ within $10^{-4}$ of $w$. The loss has a
wall there. The gradient at the wall is huge and points along $w$ only; one plain SGD step throws
$w$ far past the wall onto a plateau where the gradient is zero, while the clipped step (same
direction, norm at most $c$) moves $w$ by $\eta c$ and training goes on: clipping works because the
gradient's *direction* is still right at the wall, only its size is not.

Every gradient here is minigrad's autograd.

    python demos/cliff.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import numpy as np
from _common import BOUND, PALETTE, THEORY, Report, figure, run

import minigrad as mg

W_SWITCH = np.array([[1.5, 1.0], [-2.0, -1.5]])  # W @ W = 0.25 I: rho = 0.5, sigma_1 = 3.08
T_SWITCH = 30
SATURATING = np.array([-1.0, 10.0])  # unit 2 pinned at tanh ~ 1; unit 1's input cancels it
T_CLIFF, BIAS, H0, TARGET = 50, -0.2, 0.5, 0.8
LR, CLIP = 0.02, 1.0


def jacobian_norms(W: np.ndarray, xs: np.ndarray, h0: np.ndarray) -> np.ndarray:
    r"""$\lVert\partial h_t/\partial h_0\rVert_2$ for t = 0..T, each Jacobian from autograd."""
    out = [1.0]
    for t in range(1, len(xs) + 1):
        def f(h, t=t):
            for x in xs[:t]:
                h = mg.tanh(h @ mg.tensor(W.T) + mg.tensor(x))
            return h

        out.append(float(np.linalg.norm(mg.autodiff.jacobian(f, h0), 2)))
    return np.array(out)


def switching(report: Report, quick: bool, seed: int) -> tuple[dict, object]:
    """Zero input, the saturating input and random inputs through W and W rescaled to sigma_1 = 0.95."""
    sigma = np.linalg.svd(W_SWITCH, compute_uv=False)
    rho = float(np.max(np.abs(np.linalg.eigvals(W_SWITCH))))
    W_safe = W_SWITCH * 0.95 / sigma[0]
    T = T_SWITCH
    h0 = np.array([0.0, 1.0])  # unit 2 starts where the input holds it; unit 1 at its (unstable) zero
    zero, sat = np.zeros((T, 2)), np.tile(SATURATING, (T, 1))
    rng = np.random.default_rng(seed)
    n_random = 5 if quick else 40
    randoms = [rng.normal(size=(T, 2)) * scale for scale in (0.3, 1.0, 3.0, 10.0) for _ in range(n_random // 4)]
    curves = {"W, zero input": jacobian_norms(W_SWITCH, zero, np.full(2, 0.01)),
              "W, unit 2 saturated": jacobian_norms(W_SWITCH, sat, h0),
              "sigma_1 = 0.95, unit 2 saturated": jacobian_norms(W_safe, sat, h0),
              "sigma_1 = 0.95, zero input": jacobian_norms(W_safe, zero, np.full(2, 0.01))}  # fmt: skip
    worst_safe = max(float(jacobian_norms(W_safe, xs, h0)[-1]) for xs in randoms)
    worst_W = max(float(jacobian_norms(W_SWITCH, xs, h0)[-1]) for xs in randoms)
    numbers = {"rho": rho, "sigma_1": float(sigma[0]), "T": T, "n_random": len(randoms),
               "final": {k: float(v[-1]) for k, v in curves.items()},
               "worst_random_safe": worst_safe, "worst_random_W": worst_W,
               "bound_safe": 0.95**T, "rho_T": rho**T, "sigma_T": float(sigma[0]) ** T}  # fmt: skip
    report.table(
        f"||dh_T/dh_0||_2 after T = {T} steps, W with rho = {rho:g}, sigma_1 = {sigma[0]:.3f}",
        ["case", "measured", "compare"],
        [["W, zero input", curves["W, zero input"][-1], f"rho^T = {rho**T:.3g}"],
         ["W, unit 2 saturated", curves["W, unit 2 saturated"][-1], f"1.5^T = {1.5**T:.3g}"],
         [f"W, worst of {len(randoms)} random inputs", worst_W, f"sigma_1^T = {sigma[0] ** T:.3g}"],
         ["sigma_1 = 0.95, unit 2 saturated", curves["sigma_1 = 0.95, unit 2 saturated"][-1],
          f"bound 0.95^T = {0.95**T:.3g}"],
         [f"sigma_1 = 0.95, worst of {len(randoms)} random inputs", worst_safe, f"bound 0.95^T = {0.95**T:.3g}"]],
    )  # fmt: skip
    return numbers, curves


def cliff_loss(w):
    r"""$\mathcal L(w) = (h_T - y)^2$ for one or many $w$ at once (elementwise), by minigrad ops."""
    h = mg.tensor(np.full(np.shape(w.data), H0))
    for _ in range(T_CLIFF):
        h = mg.tanh(w * h + BIAS)
    return (h - TARGET) ** 2, h


def loss_and_grad(w: float) -> tuple[float, float, float]:
    """(loss, dL/dw, h_T) at one w, by autograd."""
    wt = mg.tensor(np.array(w), requires_grad=True)
    loss, h = cliff_loss(wt)
    loss.backward()
    return float(loss.item()), float(wt.grad), float(h.item())


def wall(lo: float = 1.45, hi: float = 1.55) -> float:
    """The w where h_T crosses 0: the middle of the wall (bisection on the forward pass)."""
    for _ in range(70):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if loss_and_grad(mid)[2] < 0 else (lo, mid)
    return (lo + hi) / 2


def descend(w: float, steps: int, clip: float | None) -> list[float]:
    """Plain (``clip=None``) or norm-clipped SGD on w; the w after each step."""
    path = [w]
    for _ in range(steps):
        _, g, _ = loss_and_grad(w)
        if clip is not None and abs(g) > clip:
            g = g * clip / abs(g)  # same direction, norm c
        w = w - LR * g
        path.append(w)
    return path


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    report = Report("cliff", out)
    numbers: dict = {"seeds": [seed]}
    numbers["switching"], curves = switching(report, quick, seed)
    w_wall = wall()
    loss0, g0, _ = loss_and_grad(w_wall)
    steps = 40 if quick else 150
    plain, clipped = descend(w_wall, steps, None), descend(w_wall, steps, CLIP)
    final = {name: loss_and_grad(p[-1]) for name, p in (("plain", plain), ("clipped", clipped))}
    numbers["cliff"] = {"w_wall": w_wall, "loss_at_wall": loss0, "grad_at_wall": g0, "lr": LR, "clip": CLIP,
                        "steps": steps, "plain_first_step": plain[1] - plain[0],
                        "clipped_first_step": clipped[1] - clipped[0], "plain_final_w": plain[-1],
                        "clipped_final_w": clipped[-1], "plain_final_loss": final["plain"][0],
                        "plain_final_grad": final["plain"][1], "clipped_final_loss": final["clipped"][0],
                        "loss_after_first_step": {"plain": loss_and_grad(plain[1])[0],
                                                  "clipped": loss_and_grad(clipped[1])[0]}}  # fmt: skip
    c = numbers["cliff"]
    c["h_T_either_side"] = [loss_and_grad(w_wall - 1e-3)[2], loss_and_grad(w_wall + 1e-3)[2]]
    report.table(
        f"The cliff: h_t = tanh(w h_(t-1) + b), b = {BIAS:g}, T = {T_CLIFF}, L = (h_T - {TARGET:g})^2, "
        f"lr {LR:g}, clip {CLIP:g}",
        ["", "w", "loss", "dL/dw"],
        [["at the wall", w_wall, loss0, g0],
         ["after 1 plain step", plain[1], c["loss_after_first_step"]["plain"], loss_and_grad(plain[1])[1]],
         ["after 1 clipped step", clipped[1], c["loss_after_first_step"]["clipped"], loss_and_grad(clipped[1])[1]],
         [f"after {steps} plain steps", plain[-1], c["plain_final_loss"], c["plain_final_grad"]],
         [f"after {steps} clipped steps", clipped[-1], c["clipped_final_loss"], final["clipped"][1]]],
    )  # fmt: skip
    _plot(report, numbers, curves, plain, clipped)
    s = numbers["switching"]
    report.say(
        f"The first panel shows that rho(W) = {s['rho']:g} does not make the gradient vanish: with zero input "
        f"||dh_T/dh_0|| = {s['final']['W, zero input']:.2g} after {s['T']} steps (rho^T), but with unit 2 "
        f"saturated it is {s['final']['W, unit 2 saturated']:.3g} (1.5^T = {1.5 ** s['T']:.3g}), while the same W "
        f"rescaled to sigma_1 = 0.95 stays under 0.95^T for every input tried (worst {s['worst_random_safe']:.3g}). "
        f"The second shows the wall at w = {w_wall:.4f}, where dL/dw = {g0:.4g}: one plain SGD step (lr {LR:g}) "
        f"moves w by {c['plain_first_step']:.4g} onto a plateau where the gradient is {c['plain_final_grad']:.2g} "
        f"and the loss stays {c['plain_final_loss']:.3g}; the clipped step moves it by "
        f"{c['clipped_first_step']:.3g}, and after {steps} clipped steps the loss is {c['clipped_final_loss']:.2g}."
    )
    report.finish()
    return numbers


def _plot(report: Report, numbers: dict, curves: dict, plain: list, clipped: list) -> None:
    fig, (ax_s, ax_c, ax_t) = figure(1, 3, width=16)
    ts = np.arange(numbers["switching"]["T"] + 1)
    for k, (name, v) in enumerate(curves.items()):
        ax_s.plot(ts, v, "o", ms=3, color=PALETTE[k], label=name)
    for base, lab in ((0.5, r"$\rho^t = 0.5^t$"), (1.5, r"$1.5^t$"), (0.95, r"bound $0.95^t$")):
        ax_s.plot(ts, base**ts, **(BOUND if base == 0.95 else THEORY), label=lab)
    ax_s.set(yscale="log", xlabel="step t", ylabel=r"$\Vert\partial h_t/\partial h_0\Vert_2$",
             title=r"$\rho(W) = 0.5 < 1$, yet the gradient grows")
    ax_s.legend(fontsize=7.5)
    c = numbers["cliff"]
    ws = np.linspace(1.3, 2.0, 1401)
    loss, _ = cliff_loss(mg.tensor(ws))
    ax_c.plot(ws, loss.data, color=PALETTE[0], lw=1.5, label=r"$\mathcal{L}(w)$")
    w0, l0 = c["w_wall"], c["loss_at_wall"]
    ax_c.annotate("", xy=(clipped[1], c["loss_after_first_step"]["clipped"]), xytext=(w0, l0),
                  arrowprops={"arrowstyle": "->", "color": PALETTE[2], "lw": 1.8})  # fmt: skip
    ax_c.plot(clipped, [loss_and_grad(w)[0] for w in clipped], ".", color=PALETTE[2], ms=3,
              label=f"clipped SGD, step 1 moves {c['clipped_first_step']:.2g}")  # fmt: skip
    ax_c.annotate(f"plain SGD step: w -> {plain[1]:.0f}\n(off the axis; loss {c['plain_final_loss']:.3g}, "
                  f"gradient {c['plain_final_grad']:.1g})", xy=(2.0, c["loss_after_first_step"]["plain"]),
                  xytext=(1.62, 1.6), arrowprops={"arrowstyle": "->", "color": PALETTE[1], "lw": 1.8},
                  fontsize=8.5, color=PALETTE[1])  # fmt: skip
    ax_c.plot([w0], [l0], "o", color="black", ms=5, label=f"the wall: w = {w0:.4f}, dL/dw = {c['grad_at_wall']:.3g}")
    ax_c.set(xlabel="w", ylabel=r"$\mathcal{L} = (h_{50} - 0.8)^2$", title="The cliff (T = 50)")
    ax_c.legend(fontsize=7.5, loc="upper right")
    steps = np.arange(len(plain))
    ax_t.plot(steps, [loss_and_grad(w)[0] for w in plain], color=PALETTE[1], lw=2, label="plain SGD")
    ax_t.plot(steps, [loss_and_grad(w)[0] for w in clipped], color=PALETTE[2], lw=2, label=f"clipped (c = {CLIP:g})")
    ax_t.set(yscale="log", xlabel="SGD step", ylabel="loss", title=f"Training from the wall (lr {LR:g})")
    ax_t.legend()
    report.save(fig, "cliff")


if __name__ == "__main__":
    run(main, __doc__)
