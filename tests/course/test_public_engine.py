"""Public checks of the engine task of course/example_tasks.toml: ``topological_order``.

They build graphs with ops (forward only) and check the order itself, so they do not
depend on the backward pass or on any op's ``vjp``.
"""


import minigrad as mg
from minigrad.engine import topological_order


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
