"""Hidden graded tests of task 4.1, ``topological_order``: random DAGs and fixed graphs.

They build graphs with ops (forward only) and check the order itself, so they do not depend
on the backward pass or on any op's ``vjp``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.engine import topological_order

PIECE = "minigrad.engine.topological_order"


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


def check_order(roots, made):
    order = topological_order(roots)
    assert isinstance(order, list), f"{PIECE} must return a list, got {type(order).__name__} ({made})"
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids)), f"{PIECE}: a tensor appears twice in the order ({made})"
    expected = reachable(roots)
    missing, extra = len(set(expected) - set(ids)), len(set(ids) - set(expected))
    assert not missing and not extra, (
        f"{PIECE}: the order must hold exactly the {len(expected)} tensors that require grad and are "
        f"reachable from the roots; {missing} missing, {extra} extra ({made})"
    )
    position = {i: k for k, i in enumerate(ids)}
    for t in order:
        for parent in inputs_of(t):
            if parent.requires_grad:
                assert position[id(parent)] < position[id(t)], (
                    f"{PIECE}: an input comes after its output (positions {position[id(parent)]} "
                    f"and {position[id(t)]} of {len(ids)}) ({made})"
                )
    return order


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
def test_random_dags(graph):
    check_order(graph[1], "a random graph of adds, muls and tanhs; see the Falsifying example")


def diamond(width):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    branches = [mg.tanh(x * float(k + 1)) for k in range(width)]
    y = branches[0]
    for b in branches[1:]:
        y = y + b
    return x, y


@pytest.mark.parametrize("width", [1, 2, 5])
def test_diamonds_share_their_input_once(width):
    x, y = diamond(width)
    order = check_order([y], f"x feeds {width} branches tanh(k x) that are summed")
    assert order[0] is x and order[-1] is y, f"{PIECE}: the input must come first and the root last"


def test_skips_tensors_that_need_no_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    y = mg.tanh(x * c) + c
    order = check_order([y], "y = tanh(x * c) + c, c a constant")
    assert len(order) == 4 and all(t.requires_grad for t in order), f"{PIECE}: x, x*c, tanh, +c only"


def test_two_roots():
    x = mg.tensor([1.0], requires_grad=True)
    a, b = mg.tanh(x), x * x
    check_order([a, b], "roots tanh(x) and x * x")


def test_long_chain_needs_no_recursion():
    x = mg.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = mg.tanh(y)
    order = topological_order([y])
    assert len(order) == 20_001, f"{PIECE}: a chain of 20,000 tanhs has 20,001 tensors, got {len(order)}"
    assert order[0] is x and order[-1] is y, f"{PIECE}: the input first, the root last"
