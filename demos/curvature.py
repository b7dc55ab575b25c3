r"""Curvature you can see: Hessian-vector products from double backward (``create_graph=True``).

**The cliff through the Hessian.** The one-unit RNN of the ``cliff`` demo, $h_{t+1} = \tanh(w h_t + b)$
over T = 50 steps with $\mathcal L = (h_T - y)^2$, now with both parameters $\theta = (w, b)$. The
curvature along the gradient, $\kappa = g^\top H g / \lVert g\rVert^2$ (one HVP), is the second
derivative of the loss on the line the gradient points along. At the wall both $g$ and $\kappa$ are
huge; on the plateau beyond it both are zero. A Newton-like step along the gradient,
$-g/\kappa$ (the minimum of the quadratic model on that line), is short where the curvature is
large, which is what clipping imitates without the HVP; plain SGD's step $\eta g$ is not.

**Newton's method against gradient descent** on Rosenbrock's valley
$f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$ from $(-1.2, 1)$: Newton's step $-H^{-1} g$, with $H$ from
``minigrad.hessian``, against gradient descent, whose step the valley's largest curvature limits.
The HVPs minigrad computes there equal PyTorch's (a committed fixture; ``tests/demos``).

**The top Hessian eigenvalue and 2/η.** Gradient descent with step $\eta$ on a quadratic is stable
only while the curvature is below $2/\eta$. For a small tanh network (2-16-1, mean squared error,
full batch) the top eigenvalue $\lambda_{max}$ of the loss's Hessian is found by power iteration on
HVPs (checked against the eigenvalues of the full Hessian) and tracked while gradient descent runs
with two step sizes; whether and where $\lambda_{max}$ meets $2/\eta$ is measured, not assumed.

    python demos/curvature.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import numpy as np
from _common import PALETTE, THEORY, Report, figure, run

import minigrad as mg

T_CLIFF, BIAS, H0, TARGET = 50, -0.2, 0.5, 0.8  # the cliff demo's RNN
LR_CLIFF, CLIP = 0.02, 1.0
ROSENBROCK_START = np.array([-1.2, 1.0])
LR_GD = 1e-3
SIZES = (2, 16, 1)
LRS = (0.1, 0.4)


# ----- the cliff -----------------------------------------------------------------------------
def cliff_loss(theta):
    r"""$(h_T - y)^2$ with $h_{t+1} = \tanh(w h_t + b)$, $\theta = (w, b)$."""
    w, b = theta[0], theta[1]
    h = mg.tensor(H0)
    for _ in range(T_CLIFF):
        h = mg.tanh(w * h + b)
    return (h - TARGET) ** 2


def cliff_point(theta: np.ndarray) -> dict:
    """Loss, gradient, curvature along the gradient and the three steps at ``theta``."""
    t = mg.tensor(theta, requires_grad=True)
    loss = cliff_loss(t)
    g = np.asarray(mg.grad(loss, t))
    gn = float(np.linalg.norm(g))
    kappa = float(g @ mg.hvp(cliff_loss, theta, g)[1]) / gn**2 if gn > 0 else 0.0
    newton = gn / abs(kappa) if kappa != 0 else float("inf")
    return {"theta": theta.tolist(), "loss": float(loss.item()), "grad_norm": gn, "curvature": kappa,
            "sgd_step": LR_CLIFF * gn, "clipped_step": LR_CLIFF * min(gn, CLIP), "newton_step": newton}  # fmt: skip


def wall_w(lo: float = 1.45, hi: float = 1.55) -> float:
    """The w where h_T crosses 0 (b fixed): bisection on the forward pass."""
    for _ in range(70):
        mid = (lo + hi) / 2
        h = 0.5
        for _ in range(T_CLIFF):
            h = np.tanh(mid * h + BIAS)
        lo, hi = (mid, hi) if h < 0 else (lo, mid)
    return (lo + hi) / 2


# ----- Newton against gradient descent -------------------------------------------------------
def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def newton_path(steps: int) -> np.ndarray:
    path = [ROSENBROCK_START]
    for _ in range(steps):
        p = path[-1]
        t = mg.tensor(p, requires_grad=True)
        g = np.asarray(mg.grad(rosenbrock(t), t))
        path.append(p - np.linalg.solve(mg.hessian(rosenbrock, p), g))
    return np.array(path)


def gd_path(steps: int) -> np.ndarray:
    path = [ROSENBROCK_START]
    for _ in range(steps):
        t = mg.tensor(path[-1], requires_grad=True)
        path.append(path[-1] - LR_GD * np.asarray(mg.grad(rosenbrock(t), t)))
    return np.array(path)


# ----- the top eigenvalue against 2/eta ------------------------------------------------------
def data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(64, 2))
    return X, (np.sin(X[:, :1]) * np.cos(X[:, 1:]))


def init(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    parts = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        parts += [rng.normal(size=n_out * n_in) / np.sqrt(n_in), np.zeros(n_out)]
    return np.concatenate(parts)


def mlp_loss(X: np.ndarray, y: np.ndarray):
    """The mean squared error of the 2-16-1 tanh network as a function of its flat parameters."""

    def loss(theta):
        h, at = mg.tensor(X), 0
        for k, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            W = theta[at:at + n_out * n_in].reshape(n_out, n_in)
            b = theta[at + n_out * n_in:at + n_out * n_in + n_out]
            at += n_out * n_in + n_out
            h = h @ W.T + b
            if k < len(SIZES) - 2:
                h = mg.tanh(h)
        return ((h - y) ** 2).mean()

    return loss


def top_eigenvalue(loss, theta: np.ndarray, iters: int, seed: int) -> float:
    r"""$\lambda$ of largest magnitude by power iteration, $v \leftarrow Hv / \lVert Hv\rVert$, on HVPs."""
    v = np.random.default_rng(seed).normal(size=theta.shape)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(iters):
        hv = mg.hvp(loss, theta, v)[1]
        lam = float(v @ hv)
        v = hv / np.linalg.norm(hv)
    return lam


def train(loss, theta: np.ndarray, lr: float, steps: int, every: int, iters: int, seed: int) -> dict:
    history = {"step": [], "lambda_max": [], "loss": []}
    for step in range(steps + 1):
        if step % every == 0:
            history["step"].append(step)
            history["lambda_max"].append(top_eigenvalue(loss, theta, iters, seed))
            history["loss"].append(float(loss(mg.tensor(theta)).item()))
        if step < steps:
            t = mg.tensor(theta, requires_grad=True)
            theta = theta - lr * np.asarray(mg.grad(loss(t), t))
    history["theta"] = theta
    return history


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    report = Report("curvature", out)
    numbers: dict = {"seeds": [seed]}
    # 1. the cliff
    w0 = wall_w()
    points = {"at the wall": cliff_point(np.array([w0, BIAS])),
              "before the wall": cliff_point(np.array([w0 - 0.05, BIAS])),
              "on the plateau": cliff_point(np.array([w0 + LR_CLIFF * 1.6e4, BIAS]))}  # fmt: skip
    numbers["cliff"] = {"w_wall": w0, "points": points}
    report.table(
        f"The cliff through the Hessian: h_(t+1) = tanh(w h_t + b), T = {T_CLIFF}, theta = (w, b); "
        f"curvature along the gradient kappa = g'Hg / |g|^2; steps: SGD lr {LR_CLIFF:g}, clipped at {CLIP:g}, "
        "Newton along g = |g| / |kappa|",
        ["where", "loss", "|g|", "kappa", "SGD step", "clipped step", "Newton step"],
        [[k, p["loss"], p["grad_norm"], p["curvature"], p["sgd_step"], p["clipped_step"], p["newton_step"]]
         for k, p in points.items()],
    )  # fmt: skip
    # 2. Newton against gradient descent
    n_newton, n_gd = 8, (2000 if quick else 20000)
    newton, gd = newton_path(n_newton), gd_path(n_gd)
    dist = {"newton": [float(np.linalg.norm(p - 1)) for p in newton], "gd": [float(np.linalg.norm(p - 1)) for p in gd]}
    H0_ros = mg.hessian(rosenbrock, ROSENBROCK_START)
    numbers["rosenbrock"] = {"newton_steps": n_newton, "gd_steps": n_gd, "lr": LR_GD,
                             "newton_final_distance": dist["newton"][-1], "gd_final_distance": dist["gd"][-1],
                             "newton_distance": dist["newton"], "newton_path": newton.tolist(),
                             "start_hessian_eigenvalues": np.linalg.eigvalsh(H0_ros).tolist()}  # fmt: skip
    report.table(
        f"Rosenbrock from (-1.2, 1): distance to the minimum (1, 1); gradient descent lr {LR_GD:g} "
        f"(2/lr = {2 / LR_GD:g}, the valley's top curvature at the start {np.linalg.eigvalsh(H0_ros)[-1]:.4g})",
        ["method", "steps", "distance"],
        [["Newton (H from minigrad.hessian)", n_newton, dist["newton"][-1]],
         ["gradient descent", n_gd, dist["gd"][-1]]],
    )  # fmt: skip
    # 3. the top eigenvalue against 2/eta
    X, y = data(seed)
    loss = mlp_loss(X, y)
    theta0 = init(seed)
    steps, every, iters = (600, 100, 30) if quick else (4000, 200, 60)
    runs = {lr: train(loss, theta0, lr, steps, every, iters, seed) for lr in LRS}
    dense = np.linalg.eigvalsh(mg.hessian(loss, runs[LRS[0]]["theta"]))
    numbers["sharpness"] = {
        "steps": steps, "every": every, "power_iterations": iters,
        "power_vs_dense": [runs[LRS[0]]["lambda_max"][-1], float(dense[np.argmax(np.abs(dense))])],
        "runs": {str(lr): {"two_over_lr": 2 / lr, "lambda_max": runs[lr]["lambda_max"], "loss": runs[lr]["loss"],
                           "max_lambda": max(runs[lr]["lambda_max"]), "final_lambda": runs[lr]["lambda_max"][-1]}
                 for lr in LRS},
    }  # fmt: skip
    s = numbers["sharpness"]
    report.table(
        f"Top Hessian eigenvalue of a 2-16-1 tanh network's MSE (power iteration, {iters} HVPs), "
        f"full-batch gradient descent, {steps} steps",
        ["lr", "2/lr", "lambda_max at step 0", "largest lambda_max seen", "final lambda_max", "final loss"],
        [[lr, 2 / lr, runs[lr]["lambda_max"][0], max(runs[lr]["lambda_max"]), runs[lr]["lambda_max"][-1],
          runs[lr]["loss"][-1]] for lr in LRS],
    )  # fmt: skip
    _plot(report, numbers, newton, gd, runs)
    c = points["at the wall"]
    p = points["on the plateau"]
    r = numbers["rosenbrock"]
    report.say(
        f"At the wall (w = {w0:.4f}) the gradient's norm is {c['grad_norm']:.3g} and the curvature along it "
        f"{c['curvature']:.3g}: plain SGD would move theta by {c['sgd_step']:.3g}, the clipped step by "
        f"{c['clipped_step']:.3g}, the Newton step along g by {c['newton_step']:.3g}; on the plateau the gradient "
        f"is {p['grad_norm']:.2g} and the curvature {p['curvature']:.2g}. Newton's method reaches Rosenbrock's "
        f"minimum to {r['newton_final_distance']:.2g} in {n_newton} steps; gradient descent is still "
        f"{r['gd_final_distance']:.3g} away after {n_gd}. Power iteration gives lambda_max = "
        f"{s['power_vs_dense'][0]:.6g} where the full Hessian's eigenvalues give {s['power_vs_dense'][1]:.6g}; "
        + "; ".join(f"with lr {lr:g} (2/lr = {2 / lr:g}) the largest lambda_max seen is "
                    f"{max(runs[lr]['lambda_max']):.3g}" for lr in LRS) + "."
    )
    report.finish()
    return numbers


def _plot(report: Report, numbers: dict, newton: np.ndarray, gd: np.ndarray, runs: dict) -> None:
    fig, (ax_c, ax_r, ax_s) = figure(1, 3, width=16)
    ws = np.linspace(1.3, 1.8, 201)
    kappas = [cliff_point(np.array([w, BIAS]))["curvature"] for w in ws]
    ax_c.plot(ws, np.abs(kappas), color=PALETTE[0], lw=1.5, label=r"$|\kappa| = |g^\top H g| / \Vert g\Vert^2$")
    ax_c.axvline(numbers["cliff"]["w_wall"], color="black", lw=1, ls=":", label="the wall")
    wall = abs(numbers["cliff"]["points"]["at the wall"]["curvature"])  # the grid's points step over its peak
    ax_c.plot([numbers["cliff"]["w_wall"]], [wall], "o", color=PALETTE[1], ms=6, label=f"at the wall: {wall:.3g}")
    ax_c.set(yscale="log", xlabel="w (b = -0.2)", ylabel="curvature along the gradient",
             title="The cliff: curvature along g (T = 50)")
    ax_c.legend(fontsize=8)
    xs, ys = np.meshgrid(np.linspace(-1.6, 1.4, 200), np.linspace(-3.5, 1.6, 200))
    ax_r.contour(xs, ys, (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2, levels=np.logspace(-1, 3, 14), colors="#bbbbbb")
    ax_r.plot(gd[:, 0], gd[:, 1], color=PALETTE[1], lw=1.5, label=f"gradient descent ({len(gd) - 1} steps)")
    ax_r.plot(newton[:, 0], newton[:, 1], "o-", color=PALETTE[2], ms=4, label=f"Newton ({len(newton) - 1} steps)")
    ax_r.plot([1], [1], "*", color="black", ms=10, label="minimum (1, 1)")
    ax_r.set(xlabel="x", ylabel="y", title="Rosenbrock: Newton against gradient descent")
    ax_r.legend(fontsize=8)
    for k, (lr, h) in enumerate(runs.items()):
        ax_s.plot(h["step"], h["lambda_max"], "o-", ms=3, color=PALETTE[k], label=rf"$\lambda_{{max}}$, lr {lr:g}")
        ax_s.axhline(2 / lr, **{**THEORY, "color": PALETTE[k]}, label=f"2/lr = {2 / lr:g}")
    ax_s.set(yscale="log", xlabel="gradient descent step", ylabel=r"top Hessian eigenvalue",
             title="Sharpness against the stability threshold")
    ax_s.legend(fontsize=8)
    report.save(fig, "curvature")


if __name__ == "__main__":
    run(main, __doc__)
