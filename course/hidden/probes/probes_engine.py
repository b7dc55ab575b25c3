"""Probe of task 4.1, run in the sealed process: build a graph from its description, order it.

A graph is ``{"leaves": [[values, requires_grad], ...], "ops": [[kind, a, b_or_k], ...],
"roots": [node, ...]}``; nodes are numbered leaves first, then ops in order. The answer is
the order as node numbers (-1 for a tensor that is not a node).
"""

import minigrad as mg
from minigrad.engine import topological_order


def build(graph):
    nodes = [mg.tensor(values, requires_grad=bool(rg)) for values, rg in graph["leaves"]]
    for kind, a, b in graph["ops"]:
        x = nodes[int(a)]
        if kind == "add":
            nodes.append(x + nodes[int(b)])
        elif kind == "mul":
            nodes.append(x * nodes[int(b)])
        elif kind == "scale":
            nodes.append(x * float(b))
        else:
            nodes.append(mg.tanh(x))
    return nodes


def order(graph):
    nodes = build(graph)
    result = topological_order([nodes[int(r)] for r in graph["roots"]])
    if not isinstance(result, list):
        return {"type": type(result).__name__, "order": []}
    number = {id(t): k for k, t in enumerate(nodes)}
    return {"type": "list", "order": [float(number.get(id(t), -1)) for t in result]}


def chain(n):
    """A chain of ``n`` tanhs: the length of the order and where the input and the root are."""
    x = mg.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(int(n)):
        y = mg.tanh(y)
    result = topological_order([y])
    return {"length": float(len(result)), "input_first": result[0] is x, "root_last": result[-1] is y}
