"""Hidden graded tests of task 4.1, ``topological_order``: random DAGs and fixed graphs.

A graph is described here as data (``probes/probes_engine.py`` says how); the sealed process
builds it with ops (forward only), orders it with the piece and sends back the order as node
numbers; the checks run here, on the description. They do not depend on the backward pass or
on any op's ``vjp``.
"""

import pytest
from hidden_oracle import ask
from hypothesis import given
from hypothesis import strategies as st

PIECE = "minigrad.engine.topological_order"


def inputs_of(graph):
    """Node -> its input nodes, and node -> whether it requires grad (an op: if any input does)."""
    inputs = [[] for _ in graph["leaves"]]
    needs = [bool(rg) for _, rg in graph["leaves"]]
    for kind, a, b in graph["ops"]:
        ins = [a, b] if kind in ("add", "mul") else [a]
        inputs.append(ins)
        needs.append(any(needs[i] for i in ins))
    return inputs, needs


def reachable(graph):
    """Every node that requires grad reachable from the roots through requires-grad nodes."""
    inputs, needs = inputs_of(graph)
    found, stack = set(), [r for r in graph["roots"] if needs[r]]
    while stack:
        k = stack.pop()
        if k not in found:
            found.add(k)
            stack += [p for p in inputs[k] if needs[p]]
    return found


def check_order(sealed, graph, made):
    answer = ask(sealed, PIECE, "probes_engine", "order", graph=graph)
    assert answer["type"] == "list", f"{PIECE} must return a list, got {answer['type']} ({made})"
    ids = [int(k) for k in answer["order"]]
    assert len(ids) == len(set(ids)), f"{PIECE}: a tensor appears twice in the order ({made})"
    expected = reachable(graph)
    missing, extra = len(expected - set(ids)), len(set(ids) - expected)
    assert not missing and not extra, (
        f"{PIECE}: the order must hold exactly the {len(expected)} tensors that require grad and are "
        f"reachable from the roots; {missing} missing, {extra} extra ({made})"
    )
    inputs, needs = inputs_of(graph)
    position = {k: n for n, k in enumerate(ids)}
    for k in ids:
        for parent in inputs[k]:
            if needs[parent]:
                assert position[parent] < position[k], (
                    f"{PIECE}: an input comes after its output (positions {position[parent]} "
                    f"and {position[k]} of {len(ids)}) ({made})"
                )
    return ids


@st.composite
def graphs(draw):
    """A random DAG: leaves (some not requiring grad), then ops on earlier nodes, with fan-out."""
    n_leaves = draw(st.integers(1, 4))
    leaves = [[[k + 1.0, k + 1.0], draw(st.booleans()) or k == 0] for k in range(n_leaves)]
    ops = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["add", "mul", "tanh"]))
        n = n_leaves + len(ops)
        ops.append([kind, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))])
    n = n_leaves + len(ops)
    roots = draw(st.lists(st.integers(n_leaves, n - 1), min_size=1, max_size=2))
    return {"leaves": leaves, "ops": ops, "roots": roots}


@given(graphs())
def test_random_dags(sealed, graph):
    check_order(sealed, graph, f"a random graph of adds, muls and tanhs: {graph}")


def diamond(width):
    """x feeds ``width`` branches tanh((k + 1) x), summed left to right."""
    ops = []
    for k in range(width):
        ops += [["scale", 0, float(k + 1)], ["tanh", 2 * k + 1, 0]]
    y = 2
    for k in range(1, width):
        ops.append(["add", y, 2 * k + 2])
        y = len(ops)
    return {"leaves": [[[1.0, 2.0], True]], "ops": ops, "roots": [y]}


@pytest.mark.parametrize("width", [1, 2, 5])
def test_diamonds_share_their_input_once(sealed, width):
    graph = diamond(width)
    order = check_order(sealed, graph, f"x feeds {width} branches tanh(k x) that are summed")
    assert order[0] == 0 and order[-1] == graph["roots"][0], f"{PIECE}: the input must come first and the root last"


def test_skips_tensors_that_need_no_grad(sealed):
    graph = {"leaves": [[[1.0, 2.0], True], [[3.0, 4.0], False]],
             "ops": [["mul", 0, 1], ["tanh", 2, 0], ["add", 3, 1]], "roots": [4]}  # fmt: skip
    order = check_order(sealed, graph, "y = tanh(x * c) + c, c a constant")
    assert len(order) == 4, f"{PIECE}: x, x*c, tanh, +c only"


def test_two_roots(sealed):
    graph = {"leaves": [[[1.0], True]], "ops": [["tanh", 0, 0], ["mul", 0, 0]], "roots": [1, 2]}
    check_order(sealed, graph, "roots tanh(x) and x * x")


def test_long_chain_needs_no_recursion(sealed):
    answer = ask(sealed, PIECE, "probes_engine", "chain", n=20_000)
    assert answer["length"] == 20_001, f"{PIECE}: a chain of 20,000 tanhs has 20,001 tensors, got {answer['length']:g}"
    assert answer["input_first"] and answer["root_last"], f"{PIECE}: the input first, the root last"
