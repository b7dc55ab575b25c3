r"""Activations and their derivatives: how much gradient each one lets through.

$\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 0.25$; $\tanh'(z) = 1-\tanh^2 z \le 1$,
and $\tanh'(z) < 0.1$ once $|z| > 3$ (saturation); $\mathrm{ReLU}'(z) = \mathbf 1[z>0]$ passes
gradients unchanged but is exactly 0 for $z \le 0$ ("dead" units); LeakyReLU keeps a slope
$\alpha$ there; GELU $= z\,\Phi(z)$ is smooth.

Measured: every derivative comes from minigrad's autograd (``backward`` of ``f(z).sum()`` gives
$f'(z)$ elementwise). Theory: the closed forms, in NumPy. The dead-ReLU experiment draws a random
layer $z = Wx + b$ with biases $b_j = -\beta\|w_j\|$, so that for $x\sim\mathcal N(0, I)$ each
pre-activation is $\mathcal N(-\beta\|w_j\|, \|w_j\|^2)$: a unit's gradient is 0 on a sample with
probability $\Phi(\beta)$, and the unit is dead on a whole batch of $B$ samples with probability
$\Phi(\beta)^B$. Autograd's $\partial\mathcal L/\partial W$ has an all-zero row for every dead unit.

    python demos/activations.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import math

import numpy as np
from _common import MARKERS, PALETTE, THEORY, Report, figure, run

import minigrad as mg
from minigrad.nn import functional as F

LEAKY_SLOPE = 0.1  # larger than PyTorch's 0.01 default so the slope is visible in the figure
BETAS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def Phi(z):
    r"""Standard normal CDF $\Phi(z) = \tfrac12(1 + \mathrm{erf}(z/\sqrt2))$, elementwise."""
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(z, dtype=float) / math.sqrt(2.0)))


def phi(z):
    r"""Standard normal density $\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}$."""
    return np.exp(-0.5 * np.asarray(z) ** 2) / math.sqrt(2 * math.pi)


# name -> (minigrad function, closed-form value, closed-form derivative)
ACTIVATIONS = {
    "sigmoid": (F.sigmoid, lambda z: 1 / (1 + np.exp(-z)),
                lambda z: (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z)))),
    "tanh": (F.tanh, np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (F.relu, lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    f"leaky_relu({LEAKY_SLOPE:g})": (lambda t: F.leaky_relu(t, LEAKY_SLOPE),
                                     lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
                                     lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE)),
    "gelu": (F.gelu, lambda z: z * Phi(z), lambda z: Phi(z) + z * phi(z)),
}  # fmt: skip


def autograd_derivative(f, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(z), f'(z)) with f'(z) from minigrad's backward of sum(f(z))."""
    zt = mg.tensor(z, requires_grad=True)
    y = f(zt)
    y.sum().backward()
    return y.data.copy(), zt.grad.copy()


def dead_relu(beta: float, units: int, fan_in: int, batch: int, rng) -> tuple[float, float]:
    r"""(fraction of zero gradients per sample, fraction of units dead on the whole batch).

    Both measured from autograd's $\partial\mathcal L/\partial z$ and
    $\partial\mathcal L/\partial W$ for
    $\mathcal L = \sum \mathrm{ReLU}(xW^\top + b)$, Kaiming-normal $W$, $b_j = -\beta\|w_j\|$.
    """
    W = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(units, fan_in))
    b = -beta * np.linalg.norm(W, axis=1)
    x = rng.normal(size=(batch, fan_in))
    Wt = mg.tensor(W, requires_grad=True)
    z = mg.matmul(mg.tensor(x), Wt.T) + b
    z.retain_grad()
    F.relu(z).sum().backward()
    zero_per_sample = float(np.mean(z.grad == 0))
    dead = float(np.mean(np.all(Wt.grad == 0, axis=1)))
    return zero_per_sample, dead


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    """Derivatives of five activations, and dead ReLUs on a random layer."""
    rng = np.random.default_rng(seed)
    report = Report("activations", out)
    units, fan_in, batch = (2048, 64, 32) if quick else (4096, 128, 32)
    z = np.linspace(-8.0, 8.0, 1601)  # contains z = 0 exactly (step 0.01)
    numbers: dict = {}

    fig, (ax_f, ax_d) = figure(1, 2, width=11)
    rows = []
    for name, (f, f_np, df_np) in ACTIVATIONS.items():
        y, dy = autograd_derivative(f, z)
        err = float(np.max(np.abs(dy - df_np(z))))
        sat = np.abs(z) > 3
        numbers[name] = {
            "max_derivative": float(dy.max()), "argmax": float(z[np.argmax(dy)]),
            "min_derivative": float(dy.min()), "max_derivative_abs_z_gt_3": float(dy[sat].max()),
            "max_abs_err_vs_closed_form": err,
            "max_abs_err_value": float(np.max(np.abs(y - f_np(z)))),
            "fraction_zero_derivative": float(np.mean(dy == 0)),
        }  # fmt: skip
        r = numbers[name]
        rows.append([name, r["max_derivative"], r["argmax"], r["min_derivative"],
                     r["max_derivative_abs_z_gt_3"], r["fraction_zero_derivative"], err])
        lw = 4.0 if name == "relu" else 2.0  # ReLU' = 1 lies under LeakyReLU' = 1 for z > 0
        i = len(rows) - 1
        color, marker = PALETTE[i], MARKERS[i]
        ax_f.plot(z, y, lw=lw, color=color, label=name)
        # ReLU' and LeakyReLU' jump at z = 0: a NaN there keeps the line from drawing a vertical
        # segment that no derivative takes
        jump = name.startswith(("relu", "leaky")) & (np.abs(z) < 1e-12)
        ax_d.plot(z, np.where(jump, np.nan, dy), lw=lw, color=color, label=f"{name}' (autograd)")
        zs = z[20 + 8 * i::80]  # closed-form markers, staggered so they do not sit on each other
        ax_d.plot(zs, df_np(zs), marker, ms=6, color=color, markerfacecolor="white", markeredgewidth=1.4,
                  ls="none", label=f"{name}' closed form")  # fmt: skip
    ax_d.axhline(0.25, **THEORY, lw=0.8)
    ax_d.text(-7.8, 0.27, r"max $\sigma' = 0.25$", fontsize=9)
    for s in (-3, 3):
        ax_d.axvline(s, color="#777777", lw=0.8, ls=":")
    ax_d.text(3.15, 0.55, r"$|z|>3$: $\tanh' < 0.1$", fontsize=9)
    ax_f.set(xlabel="pre-activation z", ylabel="f(z)", title="Activations", ylim=(-1.5, 4))
    ax_d.set(xlabel="pre-activation z", ylabel="f'(z)", ylim=(-0.25, 1.2),
             title="Derivatives (what backprop multiplies by)")
    ax_f.legend(loc="upper left")
    ax_d.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8.5)
    report.table("Derivatives on z in [-8, 8] (autograd), against the closed forms",
                 ["activation", "max f'", "at z", "min f'", "max f' (|z|>3)", "frac f'=0",
                  "max |err|"], rows)
    report.save(fig, "derivatives")
    report.say("The first figure shows each activation and its autograd derivative on the closed "
               "form (open markers): sigmoid' peaks at 0.25, tanh' falls below 0.1 past |z| = 3, ReLU' is 0 "
               "for every z < 0 while LeakyReLU keeps slope 0.1 and GELU stays smooth.")

    # Dead ReLUs on a random layer, against Phi(beta) and Phi(beta)^B.
    dead_rows = []
    measured_zero, measured_dead = [], []
    for beta in BETAS:
        zero, dead = dead_relu(beta, units, fan_in, batch, rng)
        measured_zero.append(zero)
        measured_dead.append(dead)
        p = float(Phi(beta))
        dead_rows.append([beta, zero, p, dead, p**batch])
    numbers["dead_relu"] = {
        "betas": list(BETAS), "zero_fraction": measured_zero, "dead_fraction": measured_dead,
        "theory_zero": [float(Phi(b)) for b in BETAS],
        "theory_dead": [float(Phi(b)) ** batch for b in BETAS],
        "units": units, "batch": batch,
    }  # fmt: skip
    leaky_zero = autograd_derivative(ACTIVATIONS[f"leaky_relu({LEAKY_SLOPE:g})"][0], z)[1]
    numbers["leaky_relu_fraction_zero"] = float(np.mean(leaky_zero == 0))
    report.table(f"Dead ReLUs: random layer, {units} units, batch of {batch}, b_j = -beta ||w_j||",
                 ["beta", "frac ReLU'=0", "Phi(beta)", "frac dead units", "Phi(beta)^B"],
                 dead_rows)
    bb = np.linspace(0, 3.2, 200)
    fig, ax = figure(width=6.2)
    ax.plot(BETAS, measured_zero, "o", ms=6, label="zero gradient per sample (autograd)")
    ax.plot(bb, Phi(bb), **{**THEORY, "color": PALETTE[0]}, label=r"theory $\Phi(\beta)$")
    ax.plot(BETAS, measured_dead, "s", ms=6, color=PALETTE[1],
            label=f"dead on the whole batch (B = {batch})")
    ax.plot(bb, Phi(bb) ** batch, **{**THEORY, "color": PALETTE[1]},
            label=r"theory $\Phi(\beta)^B$")
    ax.set(xlabel=r"bias shift $\beta$  ($b_j = -\beta\,\|w_j\|$)", ylabel="fraction of units",
           title="ReLU: inactive and dead units on a random layer", ylim=(-0.03, 1.05))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8.5)
    report.save(fig, "dead_relu")
    report.say("The second figure shows the fraction of ReLU units with zero gradient rising as "
               "Phi(beta) as the biases shift negative, and whole units going dead on a batch as "
               "Phi(beta)^B; LeakyReLU's and GELU's derivatives are never exactly 0.")
    report.finish()
    return numbers


if __name__ == "__main__":
    run(main, __doc__)
