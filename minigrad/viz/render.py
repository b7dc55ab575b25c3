"""``draw``: render :func:`minigrad.viz.to_dot` with Graphviz (``pip install 'minigrad-edu[viz]'``).

The ``graphviz`` Python package is a thin wrapper around Graphviz's ``dot`` program, so both
are needed: the package from PyPI, the program from the system (``apt-get install graphviz``,
``brew install graphviz``, ``conda install graphviz``).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Sequence
from pathlib import Path

from minigrad.tensor import Tensor
from minigrad.viz.dot import to_dot

INSTALL = (
    "pip install 'minigrad-edu[viz]' (the graphviz Python package) and Graphviz's dot program "
    "(apt-get install graphviz, brew install graphviz, or conda install graphviz)"
)


def _graphviz():
    """The ``graphviz`` module, or one error that says what to install."""
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError:
        raise ImportError(f"minigrad.viz.draw needs the graphviz Python package: {INSTALL}") from None
    if shutil.which("dot") is None:
        raise RuntimeError(f"minigrad.viz.draw needs Graphviz's dot program on PATH: {INSTALL}")
    return graphviz


def draw(output: Tensor | Sequence[Tensor], path: str | Path | None = None, format: str | None = None,
         **options) -> object:  # fmt: skip
    """Render the graph of ``output`` with Graphviz; write it to ``path`` if given.

    ``format`` is ``"svg"`` or ``"png"`` (default: from ``path``'s suffix, else ``"svg"``);
    ``options`` go to :func:`minigrad.viz.to_dot` (``names``, ``modules``, ``collapse``, ...).
    Returns a ``graphviz.Source``, which a notebook displays inline.
    """
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"draw: path must be a str or Path, got {type(path).__name__}")
    if format is None:
        suffix = Path(path).suffix.lstrip(".").lower() if path is not None else ""
        format = suffix if suffix in ("svg", "png") else "svg"
    if format not in ("svg", "png"):
        raise ValueError(f"draw: format must be 'svg' or 'png', got {format!r}")
    dot = to_dot(output, **options)
    graphviz = _graphviz()
    source = graphviz.Source(dot, format=format)
    if path is not None:
        Path(path).write_bytes(source.pipe(format=format))
    return source
