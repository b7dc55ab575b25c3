r"""``to_dot``: the graph that produced a tensor, as Graphviz DOT text (no dependency).

One box per tensor, one ellipse per op, drawn in the forward direction (inputs on the left).
The edge from input $i$ into an op is labelled with the shape of the op's local Jacobian
$J_i = \partial y/\partial x_i$, ``y.size × x_i.size``: exactly the matrix ``op.jacobian(i)``
returns, and the one backward multiplies by (as $J_i^\top g$, without building it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from minigrad.engine import topological_order
from minigrad.tensor import Tensor
from minigrad.viz.labels import grad_state, op_label, tensor_lines
from minigrad.viz.modules import ModuleTrace
from minigrad.viz.names import name_of

# fill colours; a highlighted gradient also gets a thick border in the same hue
LEAF_FILL, OUTPUT_FILL, CONSTANT_FILL, BOX_FILL = "#fff2cc", "#d9ead3", "#f3f3f3", "#e6e6fa"
VANISHED_FILL, NONFINITE_FILL = "#cfe2f3", "#f4cccc"
_BORDER = {"vanished": "#1c4587", "nonfinite": "#cc0000"}
_JACOBIAN_NORM_LIMIT = 250_000  # entries: above this, building J only to take its norm is too slow


def graph_tensors(outputs: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that ``outputs`` were computed from, constants too, inputs before the ops that read them.

    The engine's own walk (``engine.topological_order`` with ``constants=True``): iterative,
    so a graph may be 100,000 ops long, and the same order, so the same numbering, from run to run.
    """
    return topological_order(list(outputs), constants=True)


def retain_grads(output: Tensor | Sequence[Tensor]) -> None:
    """``retain_grad()`` on every intermediate of ``output``'s graph, so that after ``backward()``
    a drawing shows every node's gradient (by default only leaves keep theirs)."""
    for t in graph_tensors(_outputs(output, "retain_grads")):
        if t._op is not None:
            t.retain_grad()


def _outputs(output, fn: str) -> list[Tensor]:
    outs = [output] if isinstance(output, Tensor) else output
    if not isinstance(outs, (list, tuple)) or not outs or not all(isinstance(t, Tensor) for t in outs):
        raise TypeError(f"{fn}: output must be a Tensor or a non-empty list/tuple of Tensors, got {output!r}")
    return list(outs)


def _quote(text: str) -> str:
    """A DOT string literal; lines joined with DOT's centred line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs) -> str:
    return "[" + ", ".join(f"{k}={_quote(str(v))}" for k, v in attrs.items()) + "]"


def _jacobian_note(op, i: int) -> str:
    r"""`` ‖J‖₂ 0.81``: the spectral norm of ``op.jacobian(i)``, the most it can stretch a gradient."""
    m, n = math.prod(op.out_shape), math.prod(op.in_shapes[i])
    if m * n > _JACOBIAN_NORM_LIMIT:
        return f"\n‖J‖ not computed ({m * n} entries)"
    try:
        J = np.asarray(op.jacobian(i), dtype=np.float64)
    except (NotImplementedError, AttributeError, TypeError, ValueError, IndexError):
        return "\n‖J‖ n/a"
    if not np.all(np.isfinite(J)):
        return "\n‖J‖ non-finite"
    return f"\n‖J‖₂ {float(np.linalg.norm(J, 2)) if J.size else 0.0:.3g}"


def _tensor_style(t: Tensor, is_output: bool, vanish: float) -> dict:
    state = grad_state(t.grad, vanish)
    if state is not None:
        fill = VANISHED_FILL if state == "vanished" else NONFINITE_FILL
        return {"fillcolor": fill, "color": _BORDER[state], "penwidth": 2.5, "class": state}
    if is_output:
        return {"fillcolor": OUTPUT_FILL}
    if t._op is None:
        return {"fillcolor": LEAF_FILL if t.requires_grad else CONSTANT_FILL}
    return {"fillcolor": "white"}


def to_dot(
    output: Tensor | Sequence[Tensor],
    names: Mapping[str, Tensor] | None = None,
    *,
    modules: ModuleTrace | None = None,
    collapse: int | None = None,
    max_values: int = 4,
    jacobian_norms: bool = False,
    vanish: float = 1e-6,
    max_nodes: int = 500,
    rankdir: str = "LR",
) -> str:
    r"""Graphviz DOT text for the graph that produced ``output`` (a tensor or a list of them).

    * Tensor boxes: name (``names={"x": x}``, :func:`minigrad.viz.name`, or a traced model's
      parameter name), shape and dtype, the values when ``size <= max_values``, and after
      ``backward()`` the gradient (its values, or its norm for a larger tensor), then
      ``leaf``/``constant``, ``requires_grad``, ``retains_grad``, ``output``. A gradient with
      ``‖grad‖ < vanish`` is drawn blue ("vanished"), one with inf or nan red ("non-finite").
      Only leaves keep ``.grad``: call :func:`retain_grads` before ``backward()`` to see all.
    * Op ellipses: the op's name and non-default parameters, e.g. ``Sum(axis=0)``.
    * Edges into an op: ``J{i}: m×n``, the shape of $J_i = \partial y/\partial x_i$, plus its
      spectral norm $\|J_i\|_2$ with ``jacobian_norms=True`` (``n/a`` for an op that builds $J$
      from its ``vjp`` once ``backward()`` has released the graph: draw before ``backward()``,
      or call it with ``retain_graph=True``).
    * ``modules``: a :func:`minigrad.viz.trace_modules` record. Alone, each module call is drawn
      as a labelled frame around its ops; with ``collapse=d``, each call at nesting depth ``d``
      (0 = the traced model's own calls) becomes one box, whose input edges give the shape of
      the call's Jacobian (all its outputs × that input). Parameters are named as in the model.

    ``max_nodes`` guards Graphviz against a graph too large to lay out (ValueError). Node ids
    are ``t{k}`` for ``graph_tensors(output)[k]`` and ``o{k}`` for the op that made it.
    """
    outputs = _outputs(output, "to_dot")
    if names is not None and (
        not isinstance(names, Mapping)
        or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in names.items())
    ):
        raise TypeError(f"to_dot: names must map str to Tensor, e.g. {{'x': x}}, got {names!r}")
    if modules is not None and not isinstance(modules, ModuleTrace):
        raise TypeError(f"to_dot: modules must come from viz.trace_modules(model), got {type(modules).__name__}")
    if collapse is not None and (modules is None or isinstance(collapse, bool) or not isinstance(collapse, int)
                                 or collapse < 0):  # fmt: skip
        raise ValueError(f"to_dot: collapse must be a depth >= 0 and needs modules=trace, got collapse={collapse!r}")
    if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 0:
        raise ValueError(f"to_dot: max_values must be an int >= 0, got {max_values!r}")
    if not isinstance(vanish, (int, float)) or isinstance(vanish, bool) or not vanish >= 0:
        raise ValueError(f"to_dot: vanish must be a number >= 0, got {vanish!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"to_dot: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")

    label_of = dict(modules.parameter_names) if modules is not None else {}
    tensors = graph_tensors(outputs)
    for t in tensors:
        given = name_of(t)
        if given is not None:
            label_of[id(t)] = given
    for key, t in (names or {}).items():
        label_of[id(t)] = key
    is_output = {id(t) for t in outputs}

    # group[id(op)]: the collapsed call that owns the op, or None (the op is drawn itself)
    group = {}
    if collapse is not None:
        group = {id(t._op): modules.call_at(t._op, collapse) for t in tensors if t._op is not None}
    owner = {id(t): group.get(id(t._op)) if t._op is not None else None for t in tensors}

    # A tensor made inside a collapsed call is hidden unless it leaves the call or is an output.
    visible = {id(t) for t in tensors if owner[id(t)] is None or id(t) in is_output}
    box_inputs: dict = {}  # Call -> [tensors it reads from outside]
    for t in tensors:
        if t._op is None:
            continue
        g = owner[id(t)]
        for p in t._op.inputs:
            if owner[id(p)] is not g:
                visible.add(id(p))
                if g is not None and all(q is not p for q in box_inputs.setdefault(g, [])):
                    box_inputs[g].append(p)
    used = {id(g) for g in owner.values() if g is not None}
    boxes = [c for c in modules.calls if id(c) in used] if modules is not None else []  # in call order
    n_nodes = len(visible) + len(boxes) + sum(1 for t in tensors if t._op is not None and owner[id(t)] is None)
    if n_nodes > max_nodes:
        raise ValueError(
            f"to_dot: the graph has {n_nodes} nodes, more than max_nodes={max_nodes}; collapse module "
            "calls (modules=trace, collapse=1) or raise max_nodes"
        )

    node_id = {id(t): f"t{k}" for k, t in enumerate(tensors)}
    box_id = {id(g): f"m{k}" for k, g in enumerate(boxes)}
    frames: dict = {}  # frame (Call) -> DOT lines drawn inside it (modules without collapse)

    def place(line: str, op) -> None:
        call = modules.call_of(op) if modules is not None and collapse is None and op is not None else None
        frames.setdefault(call, []).append(line)

    edges = []
    for t in tensors:
        op = t._op
        if id(t) in visible:
            style = _tensor_style(t, id(t) in is_output, vanish)
            lines = tensor_lines(t, label_of.get(id(t)), max_values, vanish, id(t) in is_output)
            attrs = _attrs(shape="box", style="rounded,filled", label="\n".join(lines), **style)
            place(f"  {node_id[id(t)]} {attrs};", op)
        if op is None:
            continue
        if owner[id(t)] is not None:  # inside a collapsed call: edges come from the box
            if id(t) in visible:
                edges.append(f"  {box_id[id(owner[id(t)])]} -> {node_id[id(t)]};")
            continue
        oid = "o" + node_id[id(t)][1:]
        place(f"  {oid} {_attrs(shape='ellipse', label=op_label(op))};", op)
        for i, p in enumerate(op.inputs):
            src = node_id[id(p)] if id(p) in visible else box_id[id(owner[id(p)])]
            m, n = math.prod(op.out_shape), math.prod(op.in_shapes[i])
            note = _jacobian_note(op, i) if jacobian_norms else ""
            edges.append(f"  {src} -> {oid} {_attrs(label=f'J{i}: {m}×{n}{note}')};")
        edges.append(f"  {oid} -> {node_id[id(t)]};")

    for g in boxes:
        outs = [t for t in tensors if owner[id(t)] is g and id(t) in visible]
        m = sum(t.data.size for t in outs)
        n_ops = sum(1 for t in tensors if owner[id(t)] is g)
        label = f"{g.label}\n{n_ops} op{'s' if n_ops != 1 else ''}"
        frames.setdefault(None, []).append(
            f"  {box_id[id(g)]} {_attrs(shape='box3d', style='filled', fillcolor=BOX_FILL, label=label)};"
        )
        for p in box_inputs.get(g, []):
            src = node_id[id(p)] if id(p) in visible else box_id[id(owner[id(p)])]
            edges.append(f"  {src} -> {box_id[id(g)]} {_attrs(label=f'J: {m}×{p.data.size}')};")

    out = ["digraph minigrad {", f"  rankdir={rankdir};",
           '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];']  # fmt: skip
    out += frames.pop(None, [])
    out += _frames(frames)
    out += edges
    out.append("}")
    return "\n".join(out) + "\n"


def _frames(frames: dict) -> list:
    """Nested ``subgraph cluster_k`` blocks, one per module call, each inside its parent call's."""
    calls = set(frames)
    for call in list(calls):  # a call with no op of its own still frames its inner calls
        while call.parent is not None:
            call = call.parent
            calls.add(call)
    ordered = sorted(calls, key=lambda c: (c.depth, c.name, c.index))
    number = {id(c): k for k, c in enumerate(ordered)}
    children: dict = {}
    for c in ordered:
        children.setdefault(id(c.parent) if c.parent is not None else None, []).append(c)
    lines = []
    stack = [(c, False) for c in reversed(children.get(None, []))]
    while stack:  # depth first, so that each frame's block closes after its children's
        c, close = stack.pop()
        if close:
            lines.append("  }")
            continue
        lines.append(f"  subgraph cluster_{number[id(c)]} {{")
        lines.append(f"  label={_quote(c.label)}; style=rounded; color=\"#7f7fbf\";")
        lines += frames.get(c, [])
        stack.append((c, True))
        stack.extend((k, False) for k in reversed(children.get(id(c), [])))
    return lines
