"""minigrad.viz without Graphviz: the pure-Python layered layout and SVG writer (viz/layout.py,
viz/svg.py), and ``draw``'s choice between them and Graphviz."""

from __future__ import annotations

import html
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import viz
from minigrad.viz.layout import NODE_GAP, layers_of, layout
from minigrad.viz.svg import parse, to_svg
from tests.test_viz import TinyLSTM

SVG_NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list:
    """The words drawn in an SVG (one per <text>), sorted: what a reader sees, layout aside."""
    return sorted(t.text or "" for t in ET.fromstring(svg.encode()).iter(f"{SVG_NS}text"))


def first_look():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    W = mg.tensor(np.eye(3) * 0.9, requires_grad=True)
    h = mg.tanh(W @ x)
    loss = (h * h).sum()
    viz.retain_grads(loss)
    loss.backward(retain_graph=True)
    return loss, {"x": x, "W": W, "h": h, "loss": loss}




def tiny_lstm(T=3):
    mg.manual_seed(0)
    model = TinyLSTM()
    with viz.trace_modules(model) as trace:
        out = model(mg.tensor(np.random.default_rng(0).normal(size=(T, 1, 2))))
    return out, trace


def expected_words(dot: str) -> list:
    """Every line of every node and edge label, and every frame label, of the DOT text."""
    g = parse(dot)
    words = [line for a in g.nodes.values() for line in a["label"].split("\n")]
    words += [line for _, _, a in g.edges if "label" in a for line in a["label"].split("\n")]
    words += [label for label, _ in g.frames]
    return sorted(words)


# ----- the same information as the DOT text ----------------------------------------------------
@pytest.mark.parametrize("case", ["first_look", "collapsed", "frames"])
def test_svg_draws_every_label_of_the_dot_text(case):
    if case == "first_look":
        loss, names = first_look()
        dot = viz.to_dot(loss, names=names, jacobian_norms=True)
    else:
        out, trace = tiny_lstm()
        dot = viz.to_dot(out, modules=trace, collapse=1 if case == "collapsed" else None)
    svg = to_svg(dot)
    root = ET.fromstring(svg.encode())  # well-formed XML
    assert texts(svg) == expected_words(dot)
    g = parse(dot)
    drawn_nodes = [e for e in root.iter(f"{SVG_NS}g") if "node" in e.get("class", "").split()]
    assert sorted(e.get("id") for e in drawn_nodes) == sorted(g.nodes)
    assert sum(1 for e in root.iter(f"{SVG_NS}polyline")) == len(g.edges)
    if case == "first_look":
        assert "J1: 3×3" in texts(svg) and "‖J‖₂ 0.9" in texts(svg)
    if case == "frames":
        assert len(g.frames) >= 4 and sum(1 for e in root.iter(f"{SVG_NS}g") if e.get("class") == "cluster") == len(
            g.frames)


def test_highlights_keep_their_fill_border_and_class():
    x = mg.tensor([0.3, -0.2], requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 1e-9).sum() + (y * np.inf).sum()
    viz.retain_grads(loss)
    loss.backward()
    svg = to_svg(viz.to_dot(loss, names={"x": x, "y": y}))
    root = ET.fromstring(svg.encode())
    by_class = {e.get("id"): e for e in root.iter(f"{SVG_NS}g") if "node" in e.get("class", "")}
    vanished = [e for e in by_class.values() if "vanished" in e.get("class").split()]
    nonfinite = [e for e in by_class.values() if "nonfinite" in e.get("class").split()]
    assert vanished and nonfinite
    shape = vanished[0].find(f"{SVG_NS}rect")
    assert shape.get("fill") == viz.dot.VANISHED_FILL and shape.get("stroke-width") == "2.5"
    assert nonfinite[0].find(f"{SVG_NS}rect").get("fill") == viz.dot.NONFINITE_FILL


def test_the_words_are_the_same_as_graphvizs():
    pytest.importorskip("graphviz", reason="the graphviz Python package (minigrad-edu[viz]) is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    loss, names = first_look()
    by_dot = viz.draw(loss, names=names, jacobian_norms=True, renderer="dot").pipe(format="svg").decode()
    by_python = viz.draw(loss, names=names, jacobian_norms=True, renderer="python").svg

    def words(svg):  # Graphviz writes '-' as &#45; and keeps a second space as &#160;
        return sorted(html.unescape(t).replace("\xa0", " ") for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))

    assert words(by_python) == words(by_dot)


# ----- the layout ---------------------------------------------------------------------------
@st.composite
def dags(draw):
    n = draw(st.integers(1, 14))
    sizes = {f"n{k}": (draw(st.floats(10, 120)), draw(st.floats(10, 80))) for k in range(n)}
    edges = [(f"n{a}", f"n{b}") for b in range(n) for a in range(b) if draw(st.booleans())]
    return sizes, edges


@settings(max_examples=60, deadline=None)
@given(dags(), st.sampled_from(["LR", "TB", "RL", "BT"]))
def test_layout_edges_point_along_rankdir_and_nodes_never_overlap(dag, rankdir):
    sizes, edges = dag
    placed = layout(sizes, edges, rankdir=rankdir)
    axis = 0 if rankdir in ("LR", "RL") else 1
    sign = 1 if rankdir in ("LR", "TB") else -1
    for a, b in edges:
        assert sign * (placed.centres[b][axis] - placed.centres[a][axis]) > 0, (a, b)
    for row in placed.layers:  # within a layer, boxes are stacked with a gap
        spans = sorted((placed.centres[n][1 - axis], sizes[n][1 - axis]) for n in row)
        for (c0, s0), (c1, s1) in zip(spans, spans[1:]):
            assert c1 - c0 >= (s0 + s1) / 2 + NODE_GAP - 1e-6
    for n, (x, y) in placed.centres.items():  # inside the drawing
        w, h = sizes[n]
        assert -1e-6 <= x - w / 2 and x + w / 2 <= placed.width + 1e-6
        assert -1e-6 <= y - h / 2 and y + h / 2 <= placed.height + 1e-6
    assert [len(r) for r in placed.routes] == [
        abs(_layer(placed, b, axis) - _layer(placed, a, axis)) + 1 for a, b in edges]  # fmt: skip


def _layer(placed, n, axis):
    return next(k for k, row in enumerate(placed.layers) if n in row)


def test_layout_refuses_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        layers_of(["a", "b"], [("a", "b"), ("b", "a")])


# ----- draw chooses ---------------------------------------------------------------------------
def test_draw_without_graphviz_writes_svg(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # no graphviz package
    monkeypatch.setattr("minigrad.viz.render.has_graphviz", lambda: False)
    loss, names = first_look()
    drawing = viz.draw(loss, tmp_path / "g.svg", names=names)
    assert isinstance(drawing, viz.SVG) and drawing._repr_svg_().startswith("<?xml")
    assert (tmp_path / "g.svg").read_text(encoding="utf-8") == drawing.svg
    assert drawing.source == viz.to_dot(loss, names=names)
    with pytest.raises(RuntimeError, match="format='png' needs Graphviz's dot"):
        viz.draw(loss, tmp_path / "g.png")
    with pytest.raises(ImportError, match=r"pip install 'minigrad-edu\[viz\]'"):
        viz.draw(loss, renderer="dot")
    with pytest.raises(ValueError, match="renderer must be 'auto', 'dot' or 'python', got 'neato'"):
        viz.draw(loss, renderer="neato")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]


def test_draw_uses_dot_when_it_is_there(monkeypatch):
    pytest.importorskip("graphviz", reason="the graphviz Python package (minigrad-edu[viz]) is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    loss, _ = first_look()
    assert not isinstance(viz.draw(loss), viz.SVG)
    assert isinstance(viz.draw(loss, renderer="python"), viz.SVG)
