"""Plumbing shared by every demo: command line, headless plotting, figures, tables, progress.

A demo is a script ``demos/<name>.py`` with ``main(quick=False, out=None, seed=0) -> dict``
and, at the bottom, ``if __name__ == "__main__": run(main, __doc__)``. Inside ``main``::

    report = Report("scalar_chain", out)            # one per demo; out=None -> demos/out/
    report.table("Gradient at layer k", ["k", "autograd", "w^(n-k)"], rows)
    fig, ax = figure()                              # styled, Agg backend when headless
    ax.plot(x, measured, **MEASURED); ax.plot(x, theory, **THEORY)
    report.save(fig, "decay")                       # -> out/scalar_chain_decay.png
    report.say("The figure shows ...")              # the one sentence that states what it shows
    report.finish()                                 # -> out/scalar_chain.md (used by run_all.py)
    return numbers                                  # the numbers printed, for the tests

Long loops are wrapped in ``progress(iterable, "label")``, which reports to stderr once the loop
has run for more than a second. ``Report`` and ``progress`` print; nothing here computes gradients.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "demos" / "out"

# Running ``python demos/<name>.py`` from a fresh clone works without installing minigrad.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Styles, so that every figure draws measured and theoretical curves the same way.
MEASURED = {"linewidth": 2.0, "marker": "o", "markersize": 3}
THEORY = {"linewidth": 1.5, "linestyle": "--", "color": "black"}
BOUND = {"linewidth": 1.5, "linestyle": ":", "color": "#777777"}

# The Okabe-Ito palette: distinguishable with the common colour-vision deficiencies (and in
# grey-scale print, by lightness). Every figure draws its lines from it, in this order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


# The demos whose full-mode numbers change with the BLAS kernel, measured by running every demo under
# OPENBLAS_CORETYPE=SkylakeX, Haswell, Sandybridge and Prescott. The chaotic ones train at a learning
# rate that explodes: the last-bit differences between the kernels grow into different trajectories,
# so their tests, README and docs/THEORY.md state facts that hold on every seed and kernel, and ranges
# over 5 seeds x those 4 kernels. three_ways is not chaotic, but its agreement figures are rounding
# errors (3.7e-16 to 4.4e-16) and move with the kernel. Every other demo gives the numbers it quotes
# under each kernel. CI runs the tests of KERNEL_DEPENDENT_DEMOS under a second kernel.
CHAOTIC_DEMOS: tuple[str, ...] = ("clipping", "monitor", "spectral_tracking")
KERNEL_DEPENDENT_DEMOS: tuple[str, ...] = CHAOTIC_DEMOS + ("three_ways",)


def seeds(quick: bool, seed: int = 0) -> list[int]:
    """The seeds a stochastic demo runs: 5 in full mode (``seed .. seed + 4``), 2 in quick mode.

    A claim about a training run is made only if it holds on every one of them.
    """
    return [seed + i for i in range(2 if quick else 5)]


def mean_spread(values) -> tuple[float, float, float]:
    """(mean, min, max) of a list of per-seed numbers: what tables and captions report."""
    vals = [float(v) for v in values]
    return sum(vals) / len(vals), min(vals), max(vals)


# ----- command line -----------------------------------------------------------------------
def parse_args(description: str | None = None,
               argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The demos' shared command line: ``[--quick] [--out DIR] [--seed N]``."""
    first_line = (description or "").strip().splitlines()[0] if description else None
    p = argparse.ArgumentParser(description=first_line)
    p.add_argument("--quick", action="store_true", help="smaller sizes, for CI (a few seconds)")
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return p.parse_args(argv)


def run(main: Callable[..., dict], description: str | None = None) -> dict:
    """Parse the command line and call ``main(quick=..., out=..., seed=...)``."""
    args = parse_args(description)
    return main(quick=args.quick, out=args.out, seed=args.seed)


# ----- plotting ---------------------------------------------------------------------------
def _pyplot():
    """Import pyplot, choosing the non-interactive Agg backend when there is no display."""
    import matplotlib

    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "MPLBACKEND" not in os.environ and sys.platform.startswith("linux"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import cycler  # re-exported by matplotlib: no extra dependency

    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
        "axes.labelsize": 10, "legend.fontsize": 8.5, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "legend.framealpha": 0.85,
        "axes.prop_cycle": cycler(color=PALETTE),
    })  # fmt: skip
    return plt


def figure(nrows: int = 1, ncols: int = 1, width: float | None = None, height: float | None = None,
           squeeze: bool = True, **kwargs):
    """A styled ``(fig, axes)`` pair; the size grows with the grid unless given."""
    plt = _pyplot()
    width = width if width is not None else min(4.6 * ncols + 0.6, 18.0)
    height = height if height is not None else 3.6 * nrows + 0.4
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=squeeze, **kwargs)
    return fig, axes


# ----- tables -----------------------------------------------------------------------------
def fmt(x) -> str:
    """A number as a short string: integers as is, floats in 4 significant digits."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return str(x)
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3e}"


def escape_cell(text: str) -> str:
    r"""A table cell's text with ``|`` written ``\|``: a bare ``|`` (as in ``||W||_2``) would
    end the cell and break the table's column count."""
    return text.replace("\\|", "|").replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table (readable as plain text too), numbers formatted by :func:`fmt`."""
    cells = [[escape_cell(str(h)) for h in headers]] + [[escape_cell(fmt(v)) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


# ----- progress ---------------------------------------------------------------------------
def progress(items: Iterable, label: str, total: int | None = None, after: float = 1.0) -> Iterator:
    """Yield from ``items``; once more than ``after`` seconds have passed, report ``i/total``.

    On a terminal the line is redrawn in place; otherwise (CI logs) a line is printed at most
    every few seconds. Output goes to stderr so that stdout keeps the tables.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    tty = sys.stderr.isatty()
    start = last = time.perf_counter()
    shown = False
    i = 0
    for i, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if now - start > after and (now - last > (0.2 if tty else 5.0) or i == total):
            of = f"/{total}" if total else ""
            msg = f"  {label}: {i}{of} ({now - start:.1f}s)"
            print("\r" + msg if tty else msg, end="" if tty else "\n", file=sys.stderr, flush=True)
            last, shown = now, True
    if shown and tty:
        print(file=sys.stderr, flush=True)


# ----- the report of one demo -------------------------------------------------------------
class Report:
    """Collects what a demo prints and saves, and writes ``out/<name>.md`` for the index.

    Figures are saved as ``out/<name>_<figure>.png`` so that all demos can share one folder
    (and ``docs/figures/``) without clashing.
    """

    def __init__(self, name: str, out: Path | str | None = None) -> None:
        self.name = name
        self.out = Path(out) if out is not None else DEFAULT_OUT
        self.out.mkdir(parents=True, exist_ok=True)
        self.parts: list[str] = []
        self.figures: list[Path] = []
        self.start = time.perf_counter()
        print(f"== {name}")

    def table(self, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> str:
        """Print a titled table and keep it for the index; return its Markdown text."""
        text = markdown_table(headers, list(rows))
        print(f"\n{title}\n{text}")
        self.parts.append(f"**{title}**\n\n{text}")
        return text

    def note(self, text: str) -> None:
        """Print a line of text and keep it for the index."""
        print(text)
        self.parts.append(text)

    def say(self, sentence: str) -> None:
        """Print the sentence that states what the figure shows."""
        print(f"\n{sentence}")
        self.parts.append(sentence)

    def save(self, fig, figure_name: str) -> Path:
        """Save ``fig`` as ``out/<demo>_<figure_name>.png``, close it, and link it in the index."""
        path = self.out / f"{self.name}_{figure_name}.png"
        fig.savefig(path, bbox_inches="tight")
        _pyplot().close(fig)
        self.figures.append(path)
        self.parts.append(f"![{self.name}: {figure_name}]({path.name})")
        print(f"saved {path}")
        return path

    def finish(self) -> Path:
        """Write ``out/<demo>.md`` (tables, sentences, figure links); return its path."""
        seconds = time.perf_counter() - self.start
        path = self.out / f"{self.name}.md"
        path.write_text("\n\n".join(self.parts) + "\n")
        print(f"({self.name} took {seconds:.1f} s)")
        return path
