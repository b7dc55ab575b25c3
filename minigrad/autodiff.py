r"""Differentiate whole functions: ``grad``, ``vjp`` and ``jacobian`` (``jvp``: ``forward.py``).

These run the same backward pass as ``Tensor.backward`` (``engine.compute_grads``)
but *return* gradients instead of accumulating them into ``.grad``. ``jacobian``
builds $\partial f/\partial x$ one row at a time from vector-Jacobian products
with the basis vectors $e_k$, which is exactly what reverse mode can do cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad import engine, forward
from minigrad.arguments import describe, function
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


def _as_list(x) -> tuple[list, bool]:
    """(list of items, whether a single item was given)."""
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: np.ndarray | Tensor | Sequence | None = None,
    retain_graph: bool = False,
) -> tuple[np.ndarray, ...] | np.ndarray:
    r"""$\sum_j g_j^\top\,\partial\,\text{outputs}_j / \partial\,\text{inputs}$, without touching ``.grad``.

    Like ``torch.autograd.grad``: ``grad_outputs`` may be omitted for one-element
    outputs. Returns one array per input (a single array when ``inputs`` is one tensor);
    an input the outputs do not depend on gets zeros. As ``backward``, it frees the graph
    (its saved arrays become writable: ``with no_grad(): w -= lr * g`` works next) unless
    ``retain_graph=True``.
    """
    if not isinstance(retain_graph, (bool, np.bool_)):
        raise TypeError(f"grad: retain_graph must be True or False, got {retain_graph!r}")
    outs, _ = _as_list(outputs)
    ins, single = _as_list(inputs)
    for k, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"grad: inputs[{k}] must be a tensor with requires_grad=True, got {describe(t)}")
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    gos, _ = _as_list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(outs)} outputs but {len(gos)} grad_outputs")
    seeds = []
    for k, (o, g) in enumerate(zip(outs, gos)):
        if not isinstance(o, Tensor) or not o.requires_grad:
            raise ValueError(f"grad: outputs[{k}] must be a tensor that requires grad, got {describe(o)}")
        if g is None:
            if o.size != 1:
                raise ValueError(f"grad: grad_outputs[{k}] is needed for an output of shape {o.shape}")
            g = np.ones_like(o.data)
        g = np.asarray(tensor_like(g, f"grad_outputs[{k}]", "grad").data, dtype=o.dtype)
        if g.shape != o.shape:
            raise ValueError(f"grad: grad_outputs[{k}] must have shape {o.shape}, got {g.shape}")
        seeds.append(g)
    wanted = {id(t) for t in ins}
    found = engine.compute_grads(outs, seeds, lambda t: id(t) in wanted, free=not retain_graph)
    result = tuple(
        np.array(found[id(t)][1], dtype=t.dtype) if id(t) in found else np.zeros_like(t.data)
        for t in ins
    )
    return result[0] if single else result


def _fresh_inputs(inputs, owner: str) -> list[Tensor]:
    """Copies of the inputs as new leaves, so the caller's tensors are never modified."""
    return [Tensor(np.array(tensor_like(x, "inputs", owner).data), requires_grad=True) for x in inputs]


def vjp(
    f: Callable[..., Tensor], inputs: np.ndarray | Tensor | Sequence, v: np.ndarray | Tensor
) -> tuple[Tensor, tuple[np.ndarray, ...] | np.ndarray]:
    r"""``(f(inputs), v^\top J_f)``, like ``torch.autograd.functional.vjp``."""
    function(f, "f", "vjp")
    ins, single = _as_list(inputs)
    xs = _fresh_inputs(ins, "vjp")
    v = tensor_like(v, "v", "vjp")
    out = f(*xs)
    g = grad(out, xs, grad_outputs=v)
    return out.detach(), (g[0] if single else g)


def jacobian(
    f: Callable[..., Tensor], *inputs: np.ndarray | Tensor, strategy: str = "reverse-mode"
) -> np.ndarray | tuple[np.ndarray, ...]:
    r"""$\partial f / \partial x_i$ for each input, each of shape ``out.shape + inputs[i].shape``.

    ``strategy`` as in ``torch.autograd.functional.jacobian``: ``"reverse-mode"`` runs one
    backward pass per output element (row $k$ is the VJP with $e_k$); ``"forward-mode"`` one
    forward-mode walk per input element (column $k$ is the JVP with $e_k$, ``minigrad/forward.py``).
    Same matrix; the cheaper one has fewer passes. With one input it returns one array; with
    several, a tuple.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    function(f, "f", "jacobian")
    if not inputs:
        raise ValueError("jacobian: give at least one input")
    xs = _fresh_inputs(inputs, "jacobian")
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"jacobian: f must return a Tensor, got {describe(out)}")
    mats = [np.zeros((out.size, x.size), dtype=x.dtype) for x in xs]
    if out.requires_grad and strategy == "reverse-mode":
        wanted = {id(x) for x in xs}
        for k in range(out.size):
            e = np.zeros(out.size, dtype=out.dtype)
            e[k] = 1
            found = engine.compute_grads([out], [e.reshape(out.shape)], lambda t: id(t) in wanted)
            for J, x in zip(mats, xs):
                if id(x) in found:
                    J[k] = np.ravel(found[id(x)][1])
    elif out.requires_grad:
        for J, x in zip(mats, xs):
            for k in range(x.size):
                e = np.zeros(x.size, dtype=x.dtype)
                e[k] = 1
                tangent = forward.push_tangents([out], {id(x): e.reshape(x.shape)}).get(id(out))
                if tangent is not None:
                    J[:, k] = np.ravel(np.broadcast_to(tangent, out.shape))
    engine.release_graph([out])  # f may have saved tensors it closed over: unlock them
    result = tuple(J.reshape(out.shape + x.shape) for J, x in zip(mats, xs))
    return result[0] if len(inputs) == 1 else result
