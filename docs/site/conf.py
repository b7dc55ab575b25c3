"""Sphinx configuration of the documentation site (``pip install -e ".[docs]"``, then README's docs command).

The site is built from the files the repository already has: the source directory is the
repository root, and ``include_patterns`` picks README's sections (through ``{include}`` in
``docs/site/*.md``), docs/*.md, benchmarks/README.md and the three notebooks, which MyST-NB
executes at build time (a failing cell fails the build). The API pages are autodoc's, from
the docstrings. Math is typeset by MathJax 3 copied from the ``sphinx-mathjax-offline`` package
into the build: the site loads nothing from the network (no CDN, no web fonts).
"""

from __future__ import annotations

import re
from pathlib import Path

project = "minigrad"
author = "minigrad contributors"
copyright = "minigrad contributors, MIT licence"
root_doc = "docs/site/index"

extensions = [
    "myst_nb",  # Markdown (MyST) pages and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # sets mathjax_path to a local copy of MathJax 3 and copies it
]

# Only these files are pages; the rest of the repository (sources, tests, .venv) is not walked.
include_patterns = ["docs/site/**.md", "docs/*.md", "benchmarks/README.md", "notebooks/*.ipynb"]
exclude_patterns = [".venv", ".git", "build", "dist", "demos/out", "**/.ipynb_checkpoints"]

# ----- MyST: $...$ math as GitHub renders it, heading anchors as README's links expect ---------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# ----- notebooks: executed on every build, an error fails it -------------------------------------
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_show_tb = True
nb_ipywidgets_js = {}  # the sliders' JavaScript would come from a CDN: show their static output only
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

# ----- API reference -------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# NumPy's aliases by name: expanded, ArrayLike alone is a dozen lines of private NumPy types
autodoc_type_aliases = {"ArrayLike": "numpy.typing.ArrayLike", "DTypeLike": "numpy.typing.DTypeLike"}
nitpicky = True  # a reference that resolves nowhere is a warning, and -W makes it an error
# Names from outside minigrad (NumPy, the standard library): no intersphinx, since the build is offline.
nitpick_ignore_regex = [
    ("py:class", r"(np|numpy|numpy\.typing|collections\.abc|typing|types|pathlib|os|io|enum|threading|ast)\..*"),
    ("py:class", r"(Tensor|Module|Parameter|ArrayLike|DTypeLike|Path|Sequence|Mapping|Iterable|Iterator"
                 r"|Callable|Any|NamedTuple|Generator|optional|array_like|ndarray|callable)"),
    ("py:class", r"(int|float|str|bool|dict|list|tuple|object|bytes|type|None)"),
    # minigrad's own internal classes, shown as bases or in signatures but not public (no page of their own)
    ("py:class", r"minigrad\.[\w.]*\._\w+"),
    ("py:class", r"minigrad\.(inplace\.InPlaceMethods|tensor_methods\.TensorMethods|nn\.module\.IncompatibleKeys"
                 r"|course\.stub\.Piece|course\.report\.GradedTest|pytorch_rules\.ValuesIndices|size\.ElementCount)"),
]

_INLINE_MATH = re.compile(r"(?<![\\$`\w])\$(?!\$)([^$\n]+?)(?<!\\)\$(?![\w$])")
_LITERAL = re.compile(r"(``.*?``|:\w+:`[^`]*`)")  # inline literals and roles: left as they are
_LONE_STAR = re.compile(r"(?<=[(\s,])\*(?=\w)(?![^*\n]*\*)")  # "(N, S, *shape)": a star that closes nothing


def _docstring_math(app, what, name, obj, options, lines):
    """Docstrings are read in the source, so they write math as $...$, norms as |x| and shapes as
    (N, *shape); autodoc reads reST, where those are plain text, a substitution and an unclosed
    emphasis: make the first :math:, escape the others (not in doctest lines)."""
    _display_math(lines)
    for k, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        line = _INLINE_MATH.sub(lambda m: ":math:`" + m.group(1).replace("`", "") + "`", line)
        parts = _LITERAL.split(line)  # odd indices are literals
        lines[k] = "".join(p if i % 2 else _LONE_STAR.sub(r"\\*", p.replace("|", "\\|")) for i, p in enumerate(parts))


def _display_math(lines: list) -> None:
    """``$$ ... $$`` (over one line or several) becomes a ``.. math::`` block, in place."""
    k = 0
    while k < len(lines):
        start = lines[k].lstrip()
        if start.startswith("$$"):
            end = next((j for j in range(k, len(lines)) if lines[j].rstrip().endswith("$$")
                        and (j > k or len(start.rstrip()) > 2)), None)  # fmt: skip
            if end is not None:
                indent = lines[k][: len(lines[k]) - len(start)]
                body = " ".join(x.strip() for x in lines[k:end + 1]).strip()[2:-2].strip()
                lines[k:end + 1] = ["", indent + ".. math::", "", indent + "   " + body, ""]
                k += 5
                continue
        k += 1


_FORWARD_REF = re.compile(r"TypeAliasForwardRef\('([\w.]+)'\)")


def _alias_names(app, what, name, obj, options, signature, return_annotation):
    """An alias inside a union comes out as ``TypeAliasForwardRef('numpy.typing.ArrayLike')``: its name."""
    def fix(text):
        return _FORWARD_REF.sub(r"\1", text) if text else text
    return fix(signature), fix(return_annotation)


def _short_python_names(app, env, node, contnode):
    """:meth:`Trajectory.backprop` written in another module than the class's: resolve it by its
    unique suffix, as Sphinx does for names written with a leading dot (no match stays an error)."""
    if node.get("refdomain") != "py" or node.get("refspecific"):
        return None
    node["refspecific"] = True
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                              node["reftarget"], node, contnode)


def _redirect(app, exc):
    """A root index.html that opens the home page, so the build folder opens as a site."""
    if exc is None and app.builder.format == "html":
        Path(app.outdir, "index.html").write_text(
            '<!DOCTYPE html><meta charset="utf-8"><title>minigrad</title>'
            '<meta http-equiv="refresh" content="0; url=docs/site/index.html">'
            '<a href="docs/site/index.html">minigrad documentation</a>\n', encoding="utf-8")


def setup(app):
    app.connect("autodoc-process-docstring", _docstring_math)
    app.connect("missing-reference", _short_python_names)
    app.connect("autodoc-process-signature", _alias_names)
    app.connect("build-finished", _redirect)


# ----- HTML ------------------------------------------------------------------------------------------
html_theme = "furo"  # system fonts only: no web font is fetched
html_title = "minigrad"
html_show_sourcelink = False
html_copy_source = False
