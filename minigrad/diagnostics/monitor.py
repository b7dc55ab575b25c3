r"""Watch gradients during training: per-parameter statistics, flags, a plot, a table.

The usual detection criteria, for the global gradient norm
$G_t = \|\partial\mathcal{L}/\partial\theta\|_t$:

* vanishing: $G_t < \epsilon_{\min}$;
* exploding: $G_t > \epsilon_{\max}$ or $G_t > k\,G_{t-1}$;
* non-finite: any gradient entry is ``inf`` or ``nan``.

Use it after ``loss.backward()`` and before ``optimizer.step()``::

    monitor = GradientMonitor(model)
    for batch in data:
        optimizer.zero_grad(); loss = ...; loss.backward()
        flags = monitor.step()        # record this step's statistics; returns its flags
        optimizer.step()
    monitor.plot("grad_norms.png")
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from minigrad.arguments import describe, number_in

STATS = ("mean", "std", "min", "max", "norm", "ratio")


class Flag(NamedTuple):
    """One warning: at training ``step``, parameter ``name`` (or ``"<global>"``) was ``kind``."""

    step: int
    name: str
    kind: str  # "vanishing" | "exploding" | "nonfinite"
    value: float


def _named_parameters(model) -> list:
    """``model.named_parameters()`` for a Module, or the (name, tensor) pairs given directly."""
    if isinstance(model, (str, bytes)):
        pairs = None  # iterable, but not of pairs
    elif hasattr(model, "named_parameters"):
        pairs = list(model.named_parameters())
    elif isinstance(model, dict):
        pairs = list(model.items())
    else:
        try:
            pairs = list(model)
        except TypeError:
            pairs = None
    if pairs is None:
        raise TypeError(
            f"model must be a Module, a dict name -> tensor or a list of (name, tensor) "
            f"pairs, got {describe(model)}"
        )
    for item in pairs:
        if not (isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "data")):
            raise TypeError(f"model: expected (name, tensor) pairs, got {item!r:.80}")
    return pairs


def _stats(param) -> dict:
    """mean, std, min, max, norm of ``param.grad`` and grad-norm / param-norm."""
    g = np.asarray(param.grad, dtype=np.float64)
    with np.errstate(all="ignore"):  # a non-finite gradient is data to record, not an error
        norm = float(np.linalg.norm(g))
        pnorm = float(np.linalg.norm(np.asarray(param.data, dtype=np.float64)))
        return {
            "mean": float(g.mean()),
            "std": float(g.std()),
            "min": float(g.min()),
            "max": float(g.max()),
            "norm": norm,
            "ratio": norm / pnorm if pnorm > 0 else math.inf,
        }


class GradientMonitor:
    r"""Record gradient statistics per parameter; flag vanishing, exploding, non-finite steps.

    ``eps_min``, ``eps_max`` and ``growth`` are $\epsilon_{\min}$, $\epsilon_{\max}$ and $k$ above;
    they apply to the global norm and to each parameter's norm. After each :meth:`step`:
    ``history[name][stat]`` is a list over steps (stats: mean, std, min, max, norm, ratio =
    grad norm / param norm; ``nan`` for a step where that parameter had no gradient),
    ``global_norm`` the list of $G_t$, ``flags`` every :class:`Flag` so far.
    """

    def __init__(
        self, model, eps_min: float = 1e-7, eps_max: float = 1e3, growth: float = 10.0
    ) -> None:
        for name, value in (("eps_min", eps_min), ("eps_max", eps_max), ("growth", growth)):
            number_in(value, name, "GradientMonitor", 0, low_open=True, high_open=True)
        if eps_min >= eps_max:
            raise ValueError(f"GradientMonitor: eps_min ({eps_min}) must be < eps_max ({eps_max})")
        self.model = model
        self.eps_min, self.eps_max, self.growth = float(eps_min), float(eps_max), float(growth)
        names = [name for name, _ in _named_parameters(model)]
        self.history: dict[str, dict[str, list]] = {n: {s: [] for s in STATS} for n in names}
        self.global_norm: list[float] = []
        self.flags: list[Flag] = []

    @property
    def steps(self) -> int:
        """How many steps have been recorded."""
        return len(self.global_norm)

    def _check(self, step: int, name: str, norm: float, prev: float | None, finite: bool) -> list:
        if not finite:
            return [Flag(step, name, "nonfinite", norm)]
        flags = []
        if norm < self.eps_min:
            flags.append(Flag(step, name, "vanishing", norm))
        if norm > self.eps_max or (prev is not None and prev > 0 and norm > self.growth * prev):
            flags.append(Flag(step, name, "exploding", norm))
        return flags

    def step(self) -> list[Flag]:
        """Record the current ``.grad`` of every parameter; return this step's flags."""
        step = self.steps
        new_flags = []
        total_sq, all_finite = 0.0, True
        for name, p in _named_parameters(self.model):
            hist = self.history.setdefault(name, {s: [math.nan] * step for s in STATS})
            if p.grad is None:
                for s in STATS:
                    hist[s].append(math.nan)
                continue
            st = _stats(p)
            finite = bool(np.all(np.isfinite(p.grad)))
            all_finite &= finite
            prev = next((v for v in reversed(hist["norm"]) if not math.isnan(v)), None)
            new_flags += self._check(step, name, st["norm"], prev, finite)
            for s in STATS:
                hist[s].append(st[s])
            total_sq += st["norm"] ** 2
        G = math.sqrt(total_sq) if all_finite else math.nan
        prev_G = self.global_norm[-1] if self.global_norm else None
        new_flags += self._check(step, "<global>", G, prev_G, all_finite and math.isfinite(G))
        self.global_norm.append(G)
        self.flags += new_flags
        return new_flags


    def plot(self, path: str, names: list[str] | None = None) -> None:
        """Save a figure: gradient norm per parameter and global (log scale), and grad/param ratio.

        matplotlib is imported here, so the library itself never needs it; the backend is left
        as the user set it (``savefig`` works under any backend). Steps where a gradient is
        exactly 0 (which a log axis cannot show) are drawn as markers on the panel's floor, which
        on the norm panel lies below the ``eps_min`` line: a zero gradient is a vanishing one.
        """
        if self.steps == 0:
            raise ValueError("GradientMonitor.plot: nothing recorded yet; call step() first")
        import matplotlib.pyplot as plt

        names = list(self.history) if names is None else names
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 4.8))
        steps = np.arange(self.steps)
        for ax, stat in ((ax1, "norm"), (ax2, "ratio")):
            values = {n: np.asarray(self.history[n][stat], dtype=float) for n in names}
            positive = [v[(v > 0) & np.isfinite(v)] for v in values.values()]
            positive = np.concatenate(positive) if positive else np.array([])
            floor = float(positive.min()) / 10 if positive.size else 1e-12
            if stat == "norm":  # an exact 0 is vanishing (and flagged): draw it below the eps_min line too
                floor = min(floor, self.eps_min / 10)
            zero_label = "gradient exactly 0 (" + ("below eps_min: vanishing)" if stat == "norm" else "on the floor)")
            for n, v in values.items():
                (line,) = ax.plot(steps, np.where(v > 0, v, np.nan), label=n)
                zero = np.flatnonzero(v == 0)
                if zero.size:
                    ax.plot(zero, np.full(zero.size, floor), "v", ms=5, color=line.get_color(), label=zero_label)
                    zero_label = None  # one legend entry for all parameters
        ax1.plot(steps, self.global_norm, "k--", label="global norm (all parameters)")
        ax1.axhline(self.eps_min, color="grey", lw=1.0, ls=":",
                    label=f"eps_min = {self.eps_min:g} (vanishing below)")
        ax1.axhline(self.eps_max, color="grey", lw=1.0, ls="-.",
                    label=f"eps_max = {self.eps_max:g} (exploding above)")
        bad = [f.step for f in self.flags if f.name == "<global>"]
        if bad:
            ys = [self.global_norm[s] for s in bad]
            ys = [g if math.isfinite(g) else self.eps_max for g in ys]
            ax1.plot(bad, ys, "rx", label="global flag raised (non-finite drawn at eps_max)")
        ax1.set(yscale="log", xlabel="training step", ylabel="gradient norm ||grad||",
                title="Gradient norm per parameter, and the global norm")
        ax2.set(yscale="log", xlabel="training step", ylabel="||grad|| / ||param||",
                title="Relative gradient size per parameter (update scale / lr)")
        finite = [g for g in self.global_norm if math.isfinite(g) and g > 0]
        top = max(finite + [self.eps_max]) * 10
        ax1.set_ylim(min(self.eps_min, ax1.get_ylim()[0]) / 10, top)  # both thresholds in view
        ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=7.5)
        ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=7.5)
        fig.subplots_adjust(wspace=0.3)
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)


def grad_stats(model, file=None) -> list[dict]:
    """Print a ``grad_stats`` table (grad norm, param norm, ratio, note); return the rows.

    Parameters without a gradient are listed with ``-``. ``file`` is passed to ``print``.
    """
    rows = []
    head = f"{'parameter':<28}{'shape':>14}{'grad_norm':>12}{'param_norm':>12}{'ratio':>11}"
    lines = [head + "  note"]
    for name, p in _named_parameters(model):
        pnorm = float(np.linalg.norm(np.asarray(p.data, dtype=np.float64)))
        if p.grad is None:
            row = {"name": name, "grad_norm": None, "param_norm": pnorm, "ratio": None}
            rows.append({**row, "note": "no grad"})
            shape = str(tuple(p.shape))
            lines.append(f"{name:<28}{shape:>14}{'-':>12}{pnorm:>12.3e}{'-':>11}  no grad")
            continue
        st = _stats(p)
        note = "" if np.all(np.isfinite(p.grad)) else "NON-FINITE"
        row = {"name": name, "grad_norm": st["norm"], "param_norm": pnorm, "ratio": st["ratio"]}
        rows.append({**row, "note": note})
        cells = f"{str(tuple(p.shape)):>14}{st['norm']:>12.3e}{pnorm:>12.3e}{st['ratio']:>11.2e}"
        lines.append(f"{name:<28}{cells}  {note}")
    print("\n".join(lines), file=file)
    return rows
