"""Draw the graph of the README's first snippet to docs/figures/first_look_graph.svg and .png.

    python examples/draw_first_look.py      (needs: pip install -e ".[viz]" and Graphviz's dot: the PNG
                                             and the committed SVG's layout are Graphviz's)

The graph is drawn after ``backward()`` with every intermediate's gradient kept
(``viz.retain_grads``), and with the spectral norm of each local Jacobian (computed before
``backward()``, which releases the graph).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import viz

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def first_look() -> tuple[mg.Tensor, dict]:
    """The README's first snippet up to ``backward()``: returns the loss and the named tensors."""
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    W = mg.tensor(np.eye(3) * 0.9, requires_grad=True)
    h = mg.tanh(W @ x)  # one recurrent step
    loss = (h * h).sum()
    return loss, {"x": x, "W": W, "h": h, "loss": loss}


def main(out: Path = FIGURES) -> list[Path]:
    """Render the graph twice (SVG for the README, PNG for viewers without SVG); return the paths."""
    loss, names = first_look()
    viz.retain_grads(loss)
    loss.backward(retain_graph=True)  # keep the graph so that each op can still build its Jacobian
    paths = []
    for fmt in ("svg", "png"):
        path = Path(out) / f"first_look_graph.{fmt}"
        viz.draw(loss, path, names=names, jacobian_norms=True, renderer="dot")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in main():
        print(p)
