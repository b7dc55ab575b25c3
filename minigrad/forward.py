r"""Forward mode: push tangents through the graph inputs-first, applying each op's ``jvp``.

The backward pass (``engine.py``) walks the graph outputs-first and applies each op's ``vjp``,
$\bar x_i \mathrel{+}= J_i^\top \bar y$. Forward mode is its mirror image: walk the same graph
inputs-first and apply each op's ``jvp``,

$$\dot y = \sum_i J_i\, \dot x_i ,$$

so one walk gives $J_f v$ for one direction $v$ of the inputs -- one *column* of $J_f$ for
$v = e_k$ -- where one backward walk gives one *row*, $u^\top J_f$. A function
$\mathbb{R}^n \to \mathbb{R}^m$ therefore costs n forward walks or m backward walks for its
whole Jacobian: forward mode for few inputs, reverse mode for few outputs (a loss: m = 1).

How it runs here: f is called as usual, which records the graph (every op and what it saved);
then :func:`push_tangents` visits the recorded tensors in ``engine.topological_order``
(inputs before outputs). A tensor that no input tangent reaches has no tangent (None, i.e.
zero); an op whose inputs all have none is skipped, and ``jvp`` gets None for those inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad.arguments import describe, function
from minigrad.engine import release_graph, topological_order
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


def push_tangents(outputs: Sequence[Tensor], tangents: dict) -> dict:
    r"""The forward-mode walk: ``tangents`` maps ``id(leaf) -> array``; returns ``id(t) -> tangent``.

    Every tensor of the graph behind ``outputs`` that some tangent reaches is in the result;
    the others' tangent is zero.
    """
    found = dict(tangents)
    for node in topological_order(list(outputs)):  # inputs first
        op = node._op
        if op is None:
            continue
        ins = [found.get(id(t)) for t in op.inputs]
        if all(t is None for t in ins):
            continue
        found[id(node)] = np.asarray(op.jvp(*ins), dtype=node.data.dtype)
    return found


def _as_list(x) -> tuple[list, bool]:
    """(list of items, whether a single item was given)."""
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def jvp(
    f: Callable[..., Tensor], inputs: np.ndarray | Tensor | Sequence, v: np.ndarray | Tensor | Sequence | None = None
) -> tuple[Tensor, np.ndarray]:
    r"""``(f(inputs) detached, J_f v)``, like ``torch.autograd.functional.jvp``.

    ``v`` has one tangent per input (a single array for a single input), each of the input's
    shape; it may be omitted when every input has one element (then $v = 1$). The inputs
    are copied into fresh leaves, so the caller's tensors are untouched.
    """
    function(f, "f", "jvp")
    ins, single = _as_list(inputs)
    xs = [Tensor(np.array(tensor_like(x, "inputs", "jvp").data), requires_grad=True) for x in ins]
    if v is None:
        if any(x.size != 1 for x in xs):
            shapes = [x.shape for x in xs]
            raise ValueError(f"jvp: v is needed unless every input has one element, got inputs of shapes {shapes}")
        vs = [np.ones_like(x.data) for x in xs]
    else:
        vs, _ = _as_list(v) if not single else ([v], True)
    if len(vs) != len(xs):
        raise ValueError(f"jvp: got {len(xs)} inputs but {len(vs)} tangents in v")
    seeds = {}
    for k, (x, t) in enumerate(zip(xs, vs, strict=True)):
        t = np.asarray(tensor_like(t, "v", "jvp").data, dtype=x.dtype)
        if t.shape != x.shape:
            raise ValueError(f"jvp: v[{k}] must have the shape of inputs[{k}], {x.shape}, got {t.shape}")
        seeds[id(x)] = t
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"jvp: f must return a Tensor, got {describe(out)}")
    tangent = push_tangents([out], seeds).get(id(out)) if out.requires_grad else None
    release_graph([out])  # f may have saved tensors it closed over: unlock them
    if tangent is None:  # the output does not depend on the inputs
        tangent = np.zeros_like(out.data)
    return out.detach(), tangent
