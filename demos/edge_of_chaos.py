r"""The edge of chaos: where a deep tanh network's "gamma = 1" actually holds, and what it is not.

A deep network $h^l = W^l \tanh(h^{l-1}) + b^l$ with $W^l_{ij} \sim \mathcal N(0, \sigma_w^2/N)$ and
$b^l_i \sim \mathcal N(0, \sigma_b^2)$. For wide layers (mean-field theory) the pre-activations'
variance settles at the fixed point $q^*$ of

$$q = \sigma_w^2\, \mathbb E_{z}[\tanh(\sqrt q\, z)^2] + \sigma_b^2, \qquad z \sim \mathcal N(0, 1),$$

and one layer of backpropagation multiplies the expected squared gradient norm by

$$\chi_1 = \sigma_w^2\, \mathbb E_z[\tanh'(\sqrt{q^*} z)^2]:$$

$\chi_1 < 1$ is the ordered phase (gradients vanish), $\chi_1 > 1$ the chaotic one (they explode),
$\chi_1 = 1$ the critical line, the edge of chaos. Over $l$ layers $\lVert g\rVert^2$ changes by
$\chi_1^l = e^{-l/\xi}$: the depth scale $\xi = 1/|\ln\chi_1|$ diverges at criticality.

Measured here with minigrad's autograd (``retain_grad`` on every $h^l$): the per-layer factor of
$\lVert\partial\mathcal L/\partial h^l\rVert^2$ (geometric mean over the layers), against $\chi_1$
computed by Gauss-Hermite quadrature, for $\sigma_w$ from 0.8 to 2 at two bias scales.

Critical is not the same as well conditioned (dynamical isometry): at $\chi_1 = 1$ the *mean* squared
singular value of the input-output Jacobian $J = \partial h^D/\partial h^0$ is 1, but with Gaussian
weights its singular values spread over many decades, while with orthogonal weights (and a small
$q^*$, so that $\tanh' \approx 1$) they all stay near 1. The demo measures the standard deviation of
$\log_{10}\sigma_i(J)$ for both.

    python demos/edge_of_chaos.py [--quick] [--out DIR] [--seed N]
"""

from __future__ import annotations

import numpy as np
from _common import BOUND, PALETTE, THEORY, Report, figure, run

import minigrad as mg

SIGMA_WS = tuple(round(0.8 + 0.1 * i, 1) for i in range(13))  # 0.8, 0.9, ..., 2.0
SIGMA_BS = (0.05, 0.3)
GRADIENT_PANEL = (0.8, None, 2.0)  # None: the critical sigma_w of the first sigma_b
ISOMETRY_SIGMA_B = 1e-3  # small q*: tanh' close to 1 on the critical line
ISOMETRY_DEPTHS = (1, 2, 4, 8)  # deeper, Gaussian J's smallest singular values reach rounding
_Z, _W = np.polynomial.hermite_e.hermegauss(121)
_W = _W / _W.sum()  # E[f(z)] = sum_i w_i f(z_i), z ~ N(0, 1)


def q_star(sigma_w: float, sigma_b: float) -> float:
    r"""The fixed point of the variance map $q \mapsto \sigma_w^2 E[\tanh(\sqrt q z)^2] + \sigma_b^2$."""
    q = 1.0
    for _ in range(10_000):
        new = sigma_w**2 * float(np.sum(_W * np.tanh(np.sqrt(q) * _Z) ** 2)) + sigma_b**2
        if abs(new - q) < 1e-15:
            break
        q = new
    return q


def chi_1(sigma_w: float, sigma_b: float) -> float:
    r"""$\chi_1 = \sigma_w^2 E[\tanh'(\sqrt{q^*} z)^2]$: the mean-field factor of $\lVert g\rVert^2$ per layer."""
    q = q_star(sigma_w, sigma_b)
    return sigma_w**2 * float(np.sum(_W * (1 - np.tanh(np.sqrt(q) * _Z) ** 2) ** 2))


def critical_sigma_w(sigma_b: float) -> float:
    r"""The $\sigma_w$ with $\chi_1 = 1$ (bisection; $\chi_1$ grows with $\sigma_w$ on [1, 3])."""
    lo, hi = 1.0, 3.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if chi_1(mid, sigma_b) < 1 else (lo, mid)
    return (lo + hi) / 2


def gradient_norms(sigma_w: float, sigma_b: float, width: int, depth: int, batch: int, seed: int) -> np.ndarray:
    r"""$\lVert\partial\mathcal L/\partial h^l\rVert^2$ for $l = 0..D$ (summed over the batch), by autograd.

    The inputs $h^0$ start at the fixed point ($\mathcal N(0, q^*)$), so every layer is in the
    regime the theory describes; $\mathcal L = \langle r, h^D\rangle$ with $r \sim \mathcal N(0, 1)$.
    """
    rng = np.random.default_rng(seed)
    h = mg.tensor(rng.normal(size=(batch, width)) * np.sqrt(q_star(sigma_w, sigma_b)), requires_grad=True)
    hs = [h]
    for _ in range(depth):
        W = mg.tensor(rng.normal(size=(width, width)) * sigma_w / np.sqrt(width))
        b = mg.tensor(rng.normal(size=width) * sigma_b)
        h = mg.tanh(h) @ W.T + b
        h.retain_grad()
        hs.append(h)
    (h * mg.tensor(rng.normal(size=h.shape))).sum().backward()
    return np.array([float(np.sum(t.grad**2)) for t in hs])


def per_layer_factor(norms: np.ndarray) -> float:
    """The geometric mean of ‖g^(l-1)‖² / ‖g^l‖² over the layers."""
    return float(np.exp(np.mean(np.log(norms[:-1] / norms[1:]))))


def jacobian_layers(kind: str, sigma_w: float, sigma_b: float, width: int, depth: int, seed: int):
    """The weights, biases and fixed-point input of a ``depth``-layer net (Gaussian or orthogonal W)."""
    rng = np.random.default_rng(seed)
    h0 = rng.normal(size=width) * np.sqrt(q_star(sigma_w, sigma_b))
    layers = []
    for _ in range(depth):
        if kind == "gaussian":
            W = rng.normal(size=(width, width)) * sigma_w / np.sqrt(width)
        else:  # Haar orthogonal: QR of a Gaussian matrix with the signs of R's diagonal fixed
            q, r = np.linalg.qr(rng.normal(size=(width, width)))
            W = sigma_w * q * np.sign(np.diag(r))
        layers.append((W, rng.normal(size=width) * sigma_b))
    return h0, layers


def net(layers):
    """The network as a minigrad function of its input, for ``mg.autodiff.jacobian``."""

    def f(h):
        for W, b in layers:
            h = mg.tanh(h) @ mg.tensor(W.T) + mg.tensor(b)
        return h

    return f


def layer_products(h0, layers) -> list[np.ndarray]:
    r"""$J_d = \prod_{l \le d} W^l \mathrm{diag}(\tanh'(h^{l-1}))$ for d = 1..D: each layer's Jacobian, explicit."""
    h, J, out = h0, np.eye(h0.size), []
    for W, b in layers:
        J = W @ ((1 - np.tanh(h) ** 2)[:, None] * J)
        h = W @ np.tanh(h) + b
        out.append(J)
    return out


def log_spread(J: np.ndarray) -> tuple[float, float]:
    r"""(std of $\log_{10}\sigma_i(J)$, mean of $\sigma_i^2$): the spread, and the mean that $\chi_1 = 1$ fixes."""
    s = np.linalg.svd(J, compute_uv=False)
    return float(np.std(np.log10(s))), float(np.mean(s**2))


def main(quick: bool = False, out=None, seed: int = 0) -> dict:
    report = Report("edge_of_chaos", out)
    width, depth, batch = (100, 10, 4) if quick else (256, 30, 8)
    iso_width = 50 if quick else 100
    numbers: dict = {"width": width, "depth": depth, "batch": batch, "seeds": [seed], "sweep": {}}
    crit = {sb: critical_sigma_w(sb) for sb in SIGMA_BS}
    numbers["critical_sigma_w"] = {str(sb): crit[sb] for sb in SIGMA_BS}
    rows = []
    fig, (ax_chi, ax_g) = figure(1, 2, width=11.5)
    for k, sb in enumerate(SIGMA_BS):
        measured, theory = [], []
        for j, sw in enumerate(SIGMA_WS):
            norms = gradient_norms(sw, sb, width, depth, batch, seed + 1000 * k + j)
            chi_hat, chi = per_layer_factor(norms), chi_1(sw, sb)
            xi, xi_hat = (1 / abs(np.log(c)) if c != 1 else np.inf for c in (chi, chi_hat))
            phase = "ordered" if chi < 1 else "chaotic"
            numbers["sweep"][f"{sw:g},{sb:g}"] = {"q_star": q_star(sw, sb), "chi_1": chi, "measured": chi_hat,
                                                  "rel_err": chi_hat / chi - 1, "xi": xi, "xi_measured": xi_hat}
            rows.append([sb, sw, q_star(sw, sb), chi, chi_hat, f"{100 * (chi_hat / chi - 1):+.2f}%", xi, xi_hat, phase])
            measured.append(chi_hat)
            theory.append(chi)
        grid = np.linspace(0.8, 2.0, 121)
        ax_chi.plot(grid, [chi_1(s, sb) for s in grid], color=PALETTE[k], lw=1.5,
                    label=rf"$\chi_1$, $\sigma_b$ = {sb:g}")
        ax_chi.plot(SIGMA_WS, measured, "o", color=PALETTE[k], ms=5, label=f"measured, $\\sigma_b$ = {sb:g}")
        ax_chi.axvline(crit[sb], color=PALETTE[k], lw=0.8, ls=":")
    errs = [abs(v["rel_err"]) for v in numbers["sweep"].values()]
    numbers["max_abs_rel_err"] = max(errs)
    ax_chi.axhline(1.0, **BOUND)
    ax_chi.text(0.83, 0.55, "ordered\n(vanishing)", fontsize=9)
    ax_chi.text(1.72, 1.12, "chaotic\n(exploding)", fontsize=9)
    ax_chi.set(xlabel=r"$\sigma_w$", ylabel=r"per-layer factor of $\Vert g\Vert^2$",
               title=f"Mean-field $\\chi_1$ vs autograd (N = {width}, {depth} layers)")
    ax_chi.legend(loc="lower right")
    sb0 = SIGMA_BS[0]
    for k, sw in enumerate(GRADIENT_PANEL):
        sw = crit[sb0] if sw is None else sw
        norms = gradient_norms(sw, sb0, width, depth, batch, seed + 500 + k)
        ls = np.arange(depth + 1)
        ax_g.plot(ls, norms / norms[-1], "o", ms=3, color=PALETTE[k], label=rf"$\sigma_w$ = {sw:.3g}")
        ax_g.plot(ls, chi_1(sw, sb0) ** (depth - ls), **THEORY)
    ax_g.plot([], [], label=r"$\chi_1^{D-l}$", **THEORY)
    ax_g.set(yscale="log", xlabel="layer l", ylabel=r"$\Vert g^l\Vert^2 / \Vert g^D\Vert^2$",
             title=f"Ordered, critical, chaotic ($\\sigma_b$ = {sb0:g})")
    ax_g.legend()
    report.table(
        f"Per-layer factor of ||g||^2: mean-field chi_1 vs autograd (N = {width}, D = {depth}, batch {batch})",
        ["sigma_b", "sigma_w", "q*", "chi_1", "measured", "error", "xi", "xi measured", "phase"], rows,
    )
    report.note("Critical sigma_w (chi_1 = 1): " + ", ".join(f"{crit[sb]:.4f} at sigma_b = {sb:g}" for sb in SIGMA_BS))
    report.save(fig, "chi")
    numbers["isometry"] = isometry(report, iso_width, seed)
    iso = numbers["isometry"]
    report.say(
        f"The first figure shows autograd's per-layer factor of ||g||^2 on the mean-field chi_1 at every sigma_w "
        f"from 0.8 to 2 and both bias scales (largest deviation {100 * numbers['max_abs_rel_err']:.1f}%); "
        f"chi_1 crosses 1 at sigma_w = {crit[0.05]:.3f} (sigma_b = 0.05) and {crit[0.3]:.3f} (sigma_b = 0.3), "
        f"not at 1. The second shows that on the critical line (sigma_b = {iso['sigma_b']:g}, "
        f"sigma_w = {iso['sigma_w']:.4f}), where the "
        f"mean squared singular value of J is "
        f"{iso['gaussian']['mean_sq'][-1]:.2f} (Gaussian) and {iso['orthogonal']['mean_sq'][-1]:.2f} (orthogonal), "
        f"the spread of log10 sigma_i(J) after {ISOMETRY_DEPTHS[-1]} layers is {iso['gaussian']['spread'][-1]:.2f} "
        f"with Gaussian weights and {iso['orthogonal']['spread'][-1]:.3f} with orthogonal ones."
    )
    report.finish()
    return numbers


def isometry(report: Report, width: int, seed: int) -> dict:
    """Singular values of J at criticality, Gaussian vs orthogonal weights; figure and table."""
    sb = ISOMETRY_SIGMA_B
    sw = critical_sigma_w(sb)
    result: dict = {"sigma_w": sw, "sigma_b": sb, "q_star": q_star(sw, sb), "width": width}
    fig, (ax_h, ax_d) = figure(1, 2, width=11.5)
    rows = []
    for k, kind in enumerate(("gaussian", "orthogonal")):
        h0, layers = jacobian_layers(kind, sw, sb, width, ISOMETRY_DEPTHS[-1], seed)
        products = layer_products(h0, layers)
        J = mg.autodiff.jacobian(net(layers), h0)  # the same matrix, by reverse-mode autograd
        result[kind] = {"autograd_vs_product": float(np.max(np.abs(J - products[-1])) / np.max(np.abs(J)))}
        stats = [log_spread(products[d - 1]) for d in ISOMETRY_DEPTHS]
        result[kind]["spread"] = [s for s, _ in stats]
        result[kind]["mean_sq"] = [m for _, m in stats]
        s = np.linalg.svd(J, compute_uv=False)
        result[kind]["log10_sigma_range"] = [float(np.log10(s.min())), float(np.log10(s.max()))]
        ax_h.plot(np.arange(1, s.size + 1), s, "o", ms=3, color=PALETTE[k], label=f"{kind} W")
        ax_d.plot(ISOMETRY_DEPTHS, result[kind]["spread"], "o-", color=PALETTE[k], label=f"{kind} W")
        rows += [[kind, d, sp, m] for d, (sp, m) in zip(ISOMETRY_DEPTHS, stats)]
    ax_h.set(yscale="log", xlabel="i (largest first)", ylabel=r"singular value $\sigma_i(J)$",
             title=f"Singular values of J, {ISOMETRY_DEPTHS[-1]} layers at $\\chi_1$ = 1 (N = {width})")
    ax_h.legend()
    ax_d.set(xscale="log", yscale="log", xlabel="depth D", ylabel=r"std of $\log_{10}\sigma_i(J)$",
             title=rf"Spread vs depth ($\sigma_w$ = {sw:.4f}, $\sigma_b$ = {sb:g})")
    ax_d.set_xticks(ISOMETRY_DEPTHS, [str(d) for d in ISOMETRY_DEPTHS])
    ax_d.minorticks_off()
    ax_d.legend()
    report.table(f"Input-output Jacobian at criticality (sigma_w = {sw:.4f}, sigma_b = {sb:g}, N = {width})",
                 ["weights", "depth", "std of log10 sigma_i", "mean sigma_i^2"], rows)
    report.save(fig, "isometry")
    return result


if __name__ == "__main__":
    run(main, __doc__)
