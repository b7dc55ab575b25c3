"""``draw``: render :func:`minigrad.viz.to_dot` as SVG (or PNG), with or without Graphviz.

With Graphviz installed (the ``graphviz`` Python package, ``pip install 'minigrad-edu[viz]'``,
and its ``dot`` program: ``apt-get install graphviz``, ``brew install graphviz``, ``conda install
graphviz``), ``dot`` lays the graph out. Without it, ``svg.py`` draws the same DOT text with a
pure-Python layered layout, so a drawing works in a bare venv, Colab or JupyterLite (SVG only:
PNG needs ``dot``).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Sequence
from pathlib import Path

from minigrad.tensor import Tensor
from minigrad.viz.dot import to_dot
from minigrad.viz.svg import to_svg

INSTALL = (
    "pip install 'minigrad-edu[viz]' (the graphviz Python package) and Graphviz's dot program "
    "(apt-get install graphviz, brew install graphviz, or conda install graphviz)"
)
RENDERERS = ("auto", "dot", "python")


class SVG:
    """A drawing made without Graphviz: ``.svg`` is the document, ``.source`` the DOT text.

    A notebook displays it inline (``_repr_svg_``), as it does Graphviz's ``Source``.
    """

    def __init__(self, svg: str, source: str) -> None:
        self.svg = svg
        self.source = source

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<minigrad.viz SVG drawing, {len(self.svg)} characters; .svg, .source>"


def _graphviz():
    """The ``graphviz`` module, or one error that says what to install."""
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError:
        raise ImportError(f"minigrad.viz.draw(renderer='dot') needs the graphviz Python package: {INSTALL}") from None
    if shutil.which("dot") is None:
        raise RuntimeError(f"minigrad.viz.draw(renderer='dot') needs Graphviz's dot program on PATH: {INSTALL}")
    return graphviz


def has_graphviz() -> bool:
    """True when both the ``graphviz`` package and the ``dot`` program are there."""
    try:
        importlib.import_module("graphviz")
    except ImportError:
        return False
    return shutil.which("dot") is not None


def draw(output: Tensor | Sequence[Tensor], path: str | Path | None = None, format: str | None = None,
         renderer: str = "auto", **options) -> object:  # fmt: skip
    """Render the graph of ``output``; write it to ``path`` if given.

    ``format`` is ``"svg"`` or ``"png"`` (default: from ``path``'s suffix, else ``"svg"``).
    ``renderer``: ``"dot"`` (Graphviz; an error says what to install if it is missing),
    ``"python"`` (the pure-Python layout, SVG only), or ``"auto"`` (the default): Graphviz when
    it is installed, else the pure-Python layout. Both draw the same DOT text: the same boxes,
    labels, Jacobian shapes and highlights. ``options`` go to :func:`minigrad.viz.to_dot`
    (``names``, ``modules``, ``collapse``, ``jacobian_norms``, ...).
    Returns a ``graphviz.Source`` or an :class:`SVG`; a notebook displays either inline.
    """
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"draw: path must be a str or Path, got {type(path).__name__}")
    if format is None:
        suffix = Path(path).suffix.lstrip(".").lower() if path is not None else ""
        format = suffix if suffix in ("svg", "png") else "svg"
    if format not in ("svg", "png"):
        raise ValueError(f"draw: format must be 'svg' or 'png', got {format!r}")
    if renderer not in RENDERERS:
        raise ValueError(f"draw: renderer must be 'auto', 'dot' or 'python', got {renderer!r}")
    dot = to_dot(output, **options)
    if renderer == "dot" or (renderer == "auto" and has_graphviz()):
        source = _graphviz().Source(dot, format=format)
        if path is not None:
            Path(path).write_bytes(source.pipe(format=format))
        return source
    if format == "png":
        raise RuntimeError(f"draw: format='png' needs Graphviz's dot ({INSTALL}); without it, draw writes SVG")
    drawing = SVG(to_svg(dot), dot)
    if path is not None:
        Path(path).write_text(drawing.svg, encoding="utf-8")
    return drawing
