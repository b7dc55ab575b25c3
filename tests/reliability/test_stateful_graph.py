"""A Hypothesis state machine: random graphs, backward anywhere, zeroing, retained grads.

It builds random graphs over three 2x2 leaves (add, mul, matmul, tanh, with intermediates
reused), calls backward on random nodes with random seeds (retaining the graph or not),
zeroes gradients and retains non-leaf gradients, and checks every value and every gradient
against an independent evaluator written below: forward-mode derivatives (dual numbers) on
plain NumPy, which share no code with minigrad's reverse mode.
"""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import minigrad as mg

SHAPE = (2, 2)
MAX_NODES = 10
values = arrays(np.float64, SHAPE, elements=st.floats(-1.0, 1.0, allow_subnormal=False))


def evaluate(expr, leaves, tangent_at=None, direction=None, memo=None):
    """(value, tangent) of ``expr``; the tangent is seeded with ``direction`` at node ``tangent_at``."""
    memo = {} if memo is None else memo
    key = id(expr)
    if key in memo:
        return memo[key]
    kind = expr[0]
    if kind == "leaf":
        v, t = leaves[expr[1]], np.zeros(SHAPE)
    else:
        args = [evaluate(e, leaves, tangent_at, direction, memo) for e in expr[1:]]
        (va, ta) = args[0]
        if kind == "tanh":
            v = np.tanh(va)
            t = (1 - v * v) * ta
        else:
            (vb, tb) = args[1]
            if kind == "add":
                v, t = va + vb, ta + tb
            elif kind == "mul":
                v, t = va * vb, ta * vb + va * tb
            else:
                v, t = va @ vb, ta @ vb + va @ tb
    if expr is tangent_at:  # perturb this node itself: everything downstream follows
        t = direction
    memo[key] = (v, t)
    return v, t


def ancestors(expr, out=None):
    out = {} if out is None else out
    if id(expr) not in out:
        out[id(expr)] = expr
        for e in expr[1:] if expr[0] != "leaf" else ():
            ancestors(e, out)
    return out


def gradient(root, seed, wrt, leaves):
    """d sum(seed * root) / d wrt, one basis direction at a time (forward mode)."""
    g = np.zeros(SHAPE)
    for k in range(4):
        e = np.zeros(4)
        e[k] = 1.0
        _, t = evaluate(root, leaves, tangent_at=wrt, direction=e.reshape(SHAPE))
        g.flat[k] = np.sum(seed * t)
    return g


class GraphMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.leaf_values = []
        self.nodes = []  # (tensor, expr)
        self.expected_grad = {}  # id(expr) -> expected .grad (None or array)
        self.freed = set()  # ids of non-leaf exprs whose graph a backward freed
        self.retained = set()

    @precondition(lambda self: len(self.leaf_values) < 3)
    @rule(v=values)
    def add_leaf(self, v):
        i = len(self.leaf_values)
        self.leaf_values.append(v.copy())
        expr = ("leaf", i)
        self.nodes.append((mg.tensor(v, requires_grad=True), expr))
        self.expected_grad[id(expr)] = None

    @precondition(lambda self: 0 < len(self.nodes) < MAX_NODES)
    @rule(kind=st.sampled_from(["add", "mul", "matmul"]), data=st.data())
    def binary(self, kind, data):
        (a, ea) = data.draw(st.sampled_from(self.nodes))
        (b, eb) = data.draw(st.sampled_from(self.nodes))  # may be a: reuse
        out = {"add": a + b, "mul": a * b, "matmul": a @ b}[kind]
        self._add(out, (kind, ea, eb))

    @precondition(lambda self: 0 < len(self.nodes) < MAX_NODES)
    @rule(data=st.data())
    def tanh(self, data):
        (a, ea) = data.draw(st.sampled_from(self.nodes))
        self._add(a.tanh(), ("tanh", ea))

    def _add(self, tensor, expr):
        self.nodes.append((tensor, expr))
        self.expected_grad[id(expr)] = None

    @precondition(lambda self: any(e[0] != "leaf" for _, e in self.nodes))
    @rule(data=st.data())
    def retain(self, data):
        t, e = data.draw(st.sampled_from([n for n in self.nodes if n[1][0] != "leaf"]))
        t.retain_grad()
        self.retained.add(id(e))

    @precondition(lambda self: len(self.nodes) > 0)
    @rule(data=st.data(), seed=values, retain_graph=st.booleans())
    def backward(self, data, seed, retain_graph):
        t, root = data.draw(st.sampled_from(self.nodes))
        anc = ancestors(root)
        inner = [k for k, e in anc.items() if e[0] != "leaf"]
        if id(root) in self.freed:
            try:
                t.backward(seed)
            except RuntimeError as err:
                assert "retain_graph=True" in str(err)
                return
            raise AssertionError("backward through a freed graph did not fail")
        if any(k in self.freed for k in inner):
            return  # a partly freed graph: covered by the case above and by tests/reliability
        t.backward(seed, retain_graph=retain_graph)
        for k, e in anc.items():
            if e[0] == "leaf" or k in self.retained:  # PyTorch: a retained .grad accumulates too
                g = gradient(root, seed, e, self.leaf_values)
                prev = self.expected_grad[k]
                self.expected_grad[k] = g if prev is None else prev + g
        if not retain_graph:
            self.freed.update(inner)

    @rule()
    def zero_grad(self):
        for t, e in self.nodes:
            if e[0] == "leaf":
                t.zero_grad()
                self.expected_grad[id(e)] = None

    @invariant()
    def values_and_grads_match(self):
        memo = {}
        for t, e in self.nodes:
            v, _ = evaluate(e, self.leaf_values, memo=memo)
            np.testing.assert_allclose(t.data, v, rtol=1e-12, atol=1e-12)
            want = self.expected_grad[id(e)]
            if e[0] == "leaf" or id(e) in self.retained:
                if want is None:
                    assert t.grad is None
                else:
                    np.testing.assert_allclose(t.grad, want, rtol=1e-9, atol=1e-9)
            else:
                assert t.grad is None  # non-leaves keep no .grad unless retained


GraphMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestGraphMachine = GraphMachine.TestCase
