"""Graded tests for the engine task of course/example_tasks.toml: ``topological_order``.

They build graphs with ops (forward only) and check the order itself, so they do not
depend on the backward pass or on any op's ``vjp``.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.engine import topological_order


def inputs_of(t):
    return [] if t._op is None else list(t._op.inputs)


def reachable(roots):
    """Every tensor that requires grad reachable from ``roots`` through requires-grad tensors."""
    found, stack = {}, [r for r in roots if r.requires_grad]
    while stack:
        t = stack.pop()
        if id(t) not in found:
            found[id(t)] = t
            stack += [p for p in inputs_of(t) if p.requires_grad]
    return found


@st.composite
def graphs(draw):
    """A random DAG: leaves (some not requiring grad), then ops on earlier nodes, with fan-out."""
    n_leaves = draw(st.integers(1, 4))
    nodes = [mg.tensor(np.full(2, k + 1.0), requires_grad=draw(st.booleans()) or k == 0) for k in range(n_leaves)]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["add", "mul", "tanh"]))
        a = draw(st.sampled_from(nodes))
        b = draw(st.sampled_from(nodes))
        nodes.append({"add": a + b, "mul": a * b, "tanh": mg.tanh(a)}[kind])
    roots = draw(st.lists(st.sampled_from(nodes[n_leaves:]), min_size=1, max_size=2))
    return nodes, roots


@given(graphs())
def test_topological_order_inputs_before_outputs(graph):
    _, roots = graph
    order = topological_order(roots)
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids)), "a tensor appears twice"
    assert set(ids) == set(reachable(roots)), "order must hold exactly the reachable tensors"
    position = {i: k for k, i in enumerate(ids)}
    for t in order:
        for parent in inputs_of(t):
            if parent.requires_grad:
                assert position[id(parent)] < position[id(t)], "an input comes after its output"


def test_topological_order_skips_tensors_that_need_no_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    y = mg.tanh(x * c) + c
    order = topological_order([y])
    assert all(t.requires_grad for t in order)
    assert order[0] is x and order[-1] is y and len(order) == 4  # x, x*c, tanh, +c


def test_topological_order_long_chain_needs_no_recursion():
    # 20,000 nodes: far past Python's recursion limit, like an RNN unrolled over a long sequence.
    x = mg.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = mg.tanh(y)
    order = topological_order([y])
    assert len(order) == 20_001
    assert order[0] is x and order[-1] is y
