"""minigrad.viz: the DOT text parsed back (structure, labels, Jacobian shapes), module frames and
collapsing, highlights, and rendering (when Graphviz is installed)."""

from __future__ import annotations

import gc
import re
import shutil
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, viz
from minigrad.testing import arrays, broadcastable_shapes
from minigrad.viz.dot import NONFINITE_FILL, VANISHED_FILL

_NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")
_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _attrs(text: str | None) -> dict:
    out = {}
    for key, value in _ATTR.findall(text or ""):
        out[key] = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    return out


def parse(dot: str) -> tuple[dict, list]:
    """``({node id: attrs}, [(tail, head, attrs)])`` from the DOT text ``to_dot`` writes."""
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    nodes, edges = {}, []
    for line in dot.splitlines():
        if (m := _EDGE.match(line)) is not None:
            edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
        elif (m := _NODE.match(line)) is not None and m.group(1) not in ("node", "edge"):
            nodes[m.group(1)] = _attrs(m.group(2))
    assert {a for a, _, _ in edges} | {b for _, b, _ in edges} <= set(nodes), "edge to an undeclared node"
    return nodes, edges


def ops(nodes: dict) -> dict:
    return {k: v["label"] for k, v in nodes.items() if k.startswith("o")}


def op_edges(edges: list, op_id: str) -> list:
    """``[(input node, 'J{i}: m×n')]`` into one op, in argument order."""
    ins = [(a, e["label"].split("\n")[0]) for a, b, e in edges if b == op_id]
    return sorted(ins, key=lambda item: item[1])


def check_jacobian_shapes(out) -> int:
    """Every op edge's ``J{i}: m×n`` is the shape of that op's ``jacobian(i)``; returns how many."""
    nodes, edges = parse(viz.to_dot(out))
    tensors = viz.graph_tensors([out])
    count = 0
    for a, b, e in edges:
        if not b.startswith("o"):
            continue
        op = tensors[int(b[1:])]._op
        i, m, n = re.fullmatch(r"J(\d+): (\d+)×(\d+)", e["label"]).groups()
        assert op.jacobian(int(i)).shape == (int(m), int(n)), (op.name, e["label"])
        assert tensors[int(a[1:])] is op.inputs[int(i)]
        count += 1
    return count


# ----- structure and labels -----------------------------------------------------------------
def test_elementwise_graph_has_one_node_per_tensor_and_op():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([4.0, 5.0, 6.0])
    z = x * y
    nodes, edges = parse(viz.to_dot(z, names={"x": x, "y": y, "z": z}))
    assert sorted(nodes) == ["o2", "t0", "t1", "t2"]
    assert ops(nodes) == {"o2": "Mul"}
    assert op_edges(edges, "o2") == [("t0", "J0: 3×3"), ("t1", "J1: 3×3")]
    assert ("o2", "t2", {}) in edges
    assert nodes["t0"]["label"].split("\n") == ["x", "(3,) float64", "data [1., 2., 3.]", "leaf, requires_grad"]
    assert nodes["t1"]["label"].split("\n")[-1] == "constant"
    assert nodes["t2"]["label"].split("\n")[-1] == "requires_grad, output"
    assert check_jacobian_shapes(z) == 2


def test_large_tensors_show_no_values_and_gradient_norms_after_backward():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    loss = (x * 2.0).sum()
    loss.backward()
    label = parse(viz.to_dot(loss, names={"x": x}))[0]["t0"]["label"].split("\n")
    assert label == ["x", "(2, 3) float64", f"‖grad‖ {np.linalg.norm(np.full(6, 2.0)):.3g}", "leaf, requires_grad"]
    label = parse(viz.to_dot(loss, names={"x": x}, max_values=6))[0]["t0"]["label"]
    assert "data [[0., 1., 2.], [3., 4., 5.]]" in label and "grad [[2., 2., 2.], [2., 2., 2.]]" in label


def test_broadcasting_edge_shapes_count_the_broadcast_input_once():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.ones(3), requires_grad=True)
    nodes, edges = parse(viz.to_dot(x + b))
    assert op_edges(edges, "o2") == [("t0", "J0: 6×6"), ("t1", "J1: 6×3")]
    assert check_jacobian_shapes(x + b) == 2


@given(broadcastable_shapes(), st.sampled_from(["add", "mul", "div"]), st.data())
def test_edge_labels_are_the_shapes_of_each_ops_jacobian(shapes, kind, data):
    a = mg.tensor(data.draw(arrays(shapes[0], min_value=1.0, max_value=2.0)), requires_grad=True)
    b = mg.tensor(data.draw(arrays(shapes[1], min_value=1.0, max_value=2.0)), requires_grad=True)
    y = {"add": a + b, "mul": a * b, "div": a / b}[kind]
    out = mg.tanh(y).sum(axis=0) if y.ndim else mg.tanh(y)
    assert check_jacobian_shapes(out) == (4 if y.ndim else 3)  # a, b -> op; op -> tanh; (tanh -> sum)


def test_matmul_jacobian_shapes():
    A = mg.tensor(np.ones((2, 3)), requires_grad=True)
    B = mg.tensor(np.ones((3, 4)), requires_grad=True)
    nodes, edges = parse(viz.to_dot(A @ B))
    assert ops(nodes) == {"o2": "MatMul"}
    assert op_edges(edges, "o2") == [("t0", "J0: 8×6"), ("t1", "J1: 8×12")]
    assert check_jacobian_shapes(A @ B) == 2


def test_reductions_show_their_parameters():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    out = x.sum(axis=0).sum() + x.mean(axis=1, keepdims=True).sum() + x.var(ddof=1)
    labels = sorted(ops(parse(viz.to_dot(out))[0]).values())
    assert labels == ["Add", "Add", "Mean(axis=1, keepdims=True)", "Sum", "Sum", "Sum(axis=0)", "Var(ddof=1)"]
    assert check_jacobian_shapes(out) == 9
    _, edges = parse(viz.to_dot(x.sum(axis=0)))
    assert op_edges(edges, "o1") == [("t0", "J0: 3×6")]


def test_indexing_shows_the_index_as_written():
    x = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    for y, text, shape in [(x[1:, 0], "GetItem[1:, 0]", "2×6"), (x[::2], "GetItem[::2]", "4×6"),
                           (x[np.array([0, 2])], "GetItem[[0, 2]]", "4×6"), (x[..., 1], "GetItem[..., 1]", "3×6")]:
        nodes, edges = parse(viz.to_dot(y))
        assert ops(nodes) == {"o1": text}
        assert op_edges(edges, "o1") == [("t0", f"J0: {shape}")]
        assert check_jacobian_shapes(y) == 1


def test_other_op_parameters():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    labels = [ops(parse(viz.to_dot(y))[0])["o1"] for y in
              (x.reshape(3, 2), mg.softmax(x, axis=0), mg.leaky_relu(x, 0.2), x.clip(0.0, None), x.T)]
    assert labels == ["Reshape(shape=(3, 2))", "Softmax(axis=0)", "LeakyReLU(negative_slope=0.2)",
                      "Clip(a_min=0.0)", "Transpose(axes=(1, 0))"]


def test_fan_out_draws_one_edge_per_use_and_the_summed_gradient():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    y = x * x + mg.exp(x)
    y.sum().backward()
    nodes, edges = parse(viz.to_dot(y, names={"x": x}))
    x_id = next(k for k, v in nodes.items() if v["label"].startswith("x\n"))
    uses = sorted((nodes[b]["label"], e["label"]) for a, b, e in edges if a == x_id)
    assert uses == [("Exp", "J0: 2×2"), ("Mul", "J0: 2×2"), ("Mul", "J1: 2×2")]
    expected = 2 * x.data + np.exp(x.data)
    assert f"grad {np.array2string(expected, precision=3, separator=', ')}" in nodes[x_id]["label"]


def test_jacobian_norms_are_the_spectral_norms_of_the_ops_jacobians():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    W = mg.tensor(np.eye(3) * 0.9, requires_grad=True)
    out = mg.tanh(W @ x)
    _, edges = parse(viz.to_dot(out, jacobian_norms=True))
    tensors = viz.graph_tensors([out])
    for _, b, e in edges:
        if b.startswith("o"):
            head, note = e["label"].split("\n")
            op = tensors[int(b[1:])]._op
            i = int(head[1])
            assert note == f"‖J‖₂ {np.linalg.norm(op.jacobian(i), 2):.3g}"
    assert any(e["label"].endswith("‖J‖₂ 0.9") for _, _, e in edges)  # J wrt x of W @ x is W = 0.9 I


def test_retain_grads_shows_every_intermediate_gradient():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    h = mg.tanh(x)
    loss = (h * h).sum()
    viz.retain_grads(loss)
    loss.backward()
    nodes, _ = parse(viz.to_dot(loss, names={"h": h}))
    label = next(v["label"] for v in nodes.values() if v["label"].startswith("h\n"))
    assert f"grad {np.array2string(2 * h.data, precision=3, separator=', ')}" in label
    assert "retains_grad" in label


# ----- highlights ---------------------------------------------------------------------------
def test_vanished_and_non_finite_gradients_are_highlighted():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 1e-9).sum().backward()
    node = parse(viz.to_dot(x * 1.0, names={"x": x}))[0]["t0"]
    assert node["fillcolor"] == VANISHED_FILL and "grad vanished (‖grad‖ < 1e-06)" in node["label"]
    node = parse(viz.to_dot(x * 1.0, names={"x": x}, vanish=1e-12))[0]["t0"]  # threshold below it
    assert node["fillcolor"] != VANISHED_FILL and "vanished" not in node["label"]

    z = mg.tensor([1.0, 2.0], requires_grad=True)
    y = z * 2.0
    y.backward(np.array([np.inf, 1.0]))
    node = parse(viz.to_dot(y, names={"z": z}))[0]["t0"]
    assert node["fillcolor"] == NONFINITE_FILL and "grad non-finite (inf or nan)" in node["label"]

    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    node = parse(viz.to_dot(w * 1.0))[0]["t0"]
    assert node["fillcolor"] not in (VANISHED_FILL, NONFINITE_FILL) and "penwidth" not in node


def test_a_vanishing_chain_is_blue_at_the_start_only():
    x = mg.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(30):
        h = mg.sigmoid(h * 0.5)  # each step multiplies the gradient by at most 0.125
    viz.retain_grads(h)
    h.sum().backward()
    nodes, _ = parse(viz.to_dot(h))
    tensors = viz.graph_tensors([h])
    blue = [tensors[int(k[1:])] for k, v in nodes.items() if v.get("fillcolor") == VANISHED_FILL]
    assert blue and x in blue
    assert all(np.linalg.norm(t.grad) < 1e-6 for t in blue)
    others = [t for t in tensors if t.grad is not None and not any(t is b for b in blue)]
    assert others and all(np.linalg.norm(t.grad) >= 1e-6 for t in others)


# ----- names --------------------------------------------------------------------------------
def test_names_from_the_registry_and_the_argument():
    x = viz.name(mg.tensor([1.0], requires_grad=True), "input")
    assert viz.name_of(x) == "input"
    nodes, _ = parse(viz.to_dot(x * 2.0))
    assert nodes["t0"]["label"].startswith("input\n")
    nodes, _ = parse(viz.to_dot(x * 2.0, names={"x": x}))  # the argument wins
    assert nodes["t0"]["label"].startswith("x\n")


def test_the_name_registry_does_not_keep_tensors_alive():
    from minigrad.viz.names import _NAMES

    before = len(_NAMES)
    x = viz.name(mg.tensor([1.0]), "tmp")
    assert len(_NAMES) == before + 1
    del x
    gc.collect()
    assert len(_NAMES) == before


# ----- modules ------------------------------------------------------------------------------
class TinyLSTM(nn.Module):
    """An LSTMCell stepped by hand over T inputs, then a linear head."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(2, 3)
        self.head = nn.Linear(3, 1)

    def forward(self, xs):
        hx = None
        for t in range(xs.shape[0]):
            hx = self.cell(xs[t], hx)
        return self.head(hx[0])


def _tiny(T: int = 4):
    mg.manual_seed(0)
    model = TinyLSTM()
    xs = mg.tensor(np.random.default_rng(0).normal(size=(T, 1, 2)))
    with viz.trace_modules(model) as trace:
        out = model(xs)
    return model, out, trace


def test_trace_records_every_call_and_restores_module_call():
    original = nn.Module.__call__
    _, _, trace = _tiny(T=3)
    assert nn.Module.__call__ is original
    assert [c.label for c in trace.calls] == ["TinyLSTM: TinyLSTM #0", "cell: LSTMCell #0", "cell: LSTMCell #1",
                                              "cell: LSTMCell #2", "head: Linear #0"]
    assert [c.depth for c in trace.calls] == [0, 1, 1, 1, 1]
    with pytest.raises(ZeroDivisionError):
        with viz.trace_modules(TinyLSTM()):
            raise ZeroDivisionError
    assert nn.Module.__call__ is original


def test_lstm_collapsed_one_box_per_call():
    T = 4
    model, out, trace = _tiny(T)
    nodes, edges = parse(viz.to_dot(out, modules=trace, collapse=1))
    boxes = {k: v["label"].split("\n")[0] for k, v in nodes.items() if k.startswith("m")}
    assert list(boxes.values()) == [f"cell: LSTMCell #{t}" for t in range(T)] + ["head: Linear #0"]
    assert not ops(nodes), "every op was made inside a module call at depth 1"
    names = {v["label"].split("\n")[0] for v in nodes.values()}
    assert {"cell.weight_ih", "cell.weight_hh", "cell.bias_ih", "cell.bias_hh", "head.weight", "head.bias"} <= names
    box = {label: k for k, label in boxes.items()}
    for t in range(1, T):  # step t reads (h, c) made by step t-1: two tensors from box t-1 into box t
        made_before = {b for a, b, _ in edges if a == box[f"cell: LSTMCell #{t - 1}"]}
        into = [(a, e["label"]) for a, b, e in edges if b == box[f"cell: LSTMCell #{t}"] and a in made_before]
        size = 6 if t < T - 1 else 3  # outputs (h, c) leave the box; the last step's c is unused
        assert sorted(into) == sorted((a, f"J: {size}×3") for a in made_before)
    weight_edges = [e["label"] for a, b, e in edges if nodes[a]["label"].startswith("cell.weight_hh\n")]
    assert weight_edges == ["J: 6×36"] * (T - 1) + ["J: 3×36"]


def test_lstm_collapsed_box_jacobian_is_the_calls_jacobian():
    # The box of step 1 maps x_1 to (h_2, c_2): its Jacobian, by autograd, has 6 × 2 entries.
    model, out, trace = _tiny(T=3)
    h, c = model.cell(mg.tensor(np.zeros((1, 2))))
    J = mg.jacobian(lambda x: mg.concatenate(list(model.cell(x, (h, c))), axis=1), np.ones((1, 2)))
    _, edges = parse(viz.to_dot(out, modules=trace, collapse=1))
    x_edges = [e["label"] for a, b, e in edges if b == "m1" and e["label"].endswith("×2")]
    assert x_edges == [f"J: {J.size // 2}×2"]


def test_lstm_frames_without_collapse():
    T = 3
    model, out, trace = _tiny(T)
    dot = viz.to_dot(out, modules=trace)
    nodes, _ = parse(dot)
    assert dot.count("subgraph cluster_") == T + 2  # the model, T cell calls, the head
    assert sorted(ops(nodes).values()).count("LSTMStep") == T
    frame = dot[dot.index('label="cell: LSTMCell #1"'):]
    frame = frame[:frame.index("  }")]
    assert "LSTMStep" in frame and "cell: LSTMCell #2" not in frame


def test_fused_lstm_layer_collapses_to_one_box():
    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 3)
            self.head = nn.Linear(3, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[-1])

    mg.manual_seed(0)
    model = Seq()
    with viz.trace_modules(model) as trace:
        out = model(np.random.default_rng(0).normal(size=(50, 1, 2)))
    nodes, edges = parse(viz.to_dot(out, modules=trace, collapse=1))
    assert [v["label"].split("\n")[0] for k, v in nodes.items() if k.startswith("m")] == \
        ["lstm: LSTM #0", "head: Linear #0"]
    assert ops(nodes) == {k: "GetItem[-1]" for k in ops(nodes)} and len(ops(nodes)) == 1
    with pytest.raises(ValueError, match="max_nodes"):
        viz.to_dot(out, modules=trace, max_nodes=50)  # 50 fused steps, drawn op by op


def test_calls_from_another_thread_are_not_recorded():
    model = nn.Linear(2, 2)
    x = mg.tensor(np.ones((1, 2)))
    results = []
    with viz.trace_modules(model) as trace:
        worker = threading.Thread(target=lambda: results.append(model(x)))
        worker.start()
        worker.join()
        out = model(x)
    assert len(trace.calls) == 1 and trace.call_of(out._op) is trace.calls[0]
    assert trace.call_of(results[0]._op) is None


# ----- bad input ----------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="output must be a Tensor"):
        viz.to_dot(np.ones(2))
    with pytest.raises(TypeError, match="names must map str to Tensor"):
        viz.to_dot(x * 2.0, names={"x": np.ones(1)})
    with pytest.raises(ValueError, match="collapse must be a depth >= 0 and needs modules"):
        viz.to_dot(x * 2.0, collapse=1)
    with pytest.raises(ValueError, match="vanish must be a number >= 0"):
        viz.to_dot(x * 2.0, vanish=-1.0)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        viz.trace_modules(lambda v: v)
    with pytest.raises(TypeError, match="label must be a non-empty str"):
        viz.name(x, "")
    with pytest.raises(ValueError, match="format must be 'svg' or 'png', got 'pdf'"):
        viz.draw(x * 2.0, format="pdf")


def test_draw_with_renderer_dot_without_graphviz_says_what_to_install(monkeypatch):
    # (renderer='auto', the default, draws without Graphviz instead: tests/test_viz_svg.py)
    import sys

    x = mg.tensor([1.0], requires_grad=True)
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=r"pip install 'minigrad-edu\[viz\]'"):
        viz.draw(x * 2.0, renderer="dot")
    monkeypatch.undo()
    pytest.importorskip("graphviz", reason="the graphviz package (minigrad-edu[viz]) is not installed")
    monkeypatch.setattr("minigrad.viz.render.shutil.which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.draw(x * 2.0, renderer="dot")


# ----- rendering ----------------------------------------------------------------------------
def _need_graphviz():
    pytest.importorskip("graphviz", reason="the graphviz Python package (minigrad-edu[viz]) is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_draw_renders_svg_and_png(tmp_path, fmt, magic):
    _need_graphviz()
    model, out, trace = _tiny(T=3)
    path = tmp_path / f"graph.{fmt}"
    shown = viz.draw(out, path, modules=trace, collapse=1)
    assert path.read_bytes().startswith(magic)
    assert hasattr(shown, "_repr_mimebundle_") or hasattr(shown, "_repr_svg_")  # displays inline
    if fmt == "svg":
        svg = path.read_text()
        assert "cell: LSTMCell #2" in svg and "J: 6×36" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no stray .gv file


def test_fifty_lstm_steps_are_fifty_boxes_instead_of_348_ops():  # the number docs/ARCHITECTURE.md gives
    model, out, trace = _tiny(T=50)
    tensors = viz.graph_tensors([out])
    in_cells = [t for t in tensors if t._op is not None and trace.call_at(t._op, 1).module is model.cell]
    assert len(in_cells) == 348
    nodes, _ = parse(viz.to_dot(out, modules=trace, collapse=1))
    assert sum(1 for k in nodes if k.startswith("m")) == 50 + 1 and not ops(nodes)


# ----- the README's figure --------------------------------------------------------------------
def test_first_look_example_is_the_readme_snippet_and_its_figure_is_current(tmp_path):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    for line in ("x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)",
                 "W = mg.tensor(np.eye(3) * 0.9, requires_grad=True)", "h = mg.tanh(W @ x)"):  # fmt: skip
        assert line in readme
        assert line in (root / "examples" / "draw_first_look.py").read_text()
    assert "![The computation graph of the first snippet](docs/figures/first_look_graph.svg)" in readme
    _need_graphviz()
    spec = importlib.util.spec_from_file_location("draw_first_look", root / "examples" / "draw_first_look.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    svg, png = example.main(out=tmp_path)
    assert png.read_bytes().startswith(b"\x89PNG")

    def texts(path):  # the words in the figure (the layout may differ between Graphviz versions)
        return sorted(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text()))

    fresh = texts(svg)
    assert "J1: 3×3" in fresh and "‖J‖₂ 0.9" in fresh  # the caption's numbers: J = W = 0.9 I
    assert texts(root / "docs" / "figures" / "first_look_graph.svg") == fresh, \
        "docs/figures/first_look_graph.svg is stale: run python examples/draw_first_look.py"


# ----- documentation ------------------------------------------------------------------------
def test_the_examples_in_the_docstrings_run():
    import doctest

    from minigrad.viz import modules, names

    for module in (viz, modules, names):
        failed, _ = doctest.testmod(module)
        assert failed == 0, module.__name__


@pytest.mark.parametrize("name", viz.__all__)
def test_public_names_have_docstrings_and_type_hints(name):
    import inspect

    obj = getattr(viz, name)
    assert inspect.getdoc(obj), f"viz.{name} has no docstring"
    functions = [obj] if inspect.isfunction(obj) else [
        f for n, f in vars(obj).items() if inspect.isfunction(f) and not n.startswith("_")]  # fmt: skip
    for f in functions:
        assert inspect.getdoc(f), f"viz.{name}.{f.__name__} has no docstring"
        assert inspect.signature(f).return_annotation is not inspect.Signature.empty, f"{f.__name__}: no return hint"
