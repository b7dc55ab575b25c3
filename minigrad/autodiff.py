r"""Differentiate whole functions: ``grad``, ``vjp`` and ``jacobian`` (``jvp``: ``forward.py``).

These run the same backward pass as ``Tensor.backward`` (``engine.compute_grads``)
but *return* gradients instead of accumulating them into ``.grad``. ``jacobian``
builds $\partial f/\partial x$ one row at a time from vector-Jacobian products
with the basis vectors $e_k$, which is exactly what reverse mode can do cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad import engine, forward, functional
from minigrad.arguments import describe, flag, function
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like

# what torch.autograd.functional takes for inputs= and v=: one array or Tensor, or a tuple or list of them
Inputs = np.ndarray | Tensor | Sequence

def _as_list(x) -> tuple[list, bool]:
    """(list of items, whether a single item was given)."""
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: np.ndarray | Tensor | Sequence | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple | np.ndarray | Tensor:
    r"""$\sum_j g_j^\top\,\partial\,\text{outputs}_j / \partial\,\text{inputs}$, without touching ``.grad``.

    Like ``torch.autograd.grad``: ``grad_outputs`` may be omitted for one-element
    outputs. Returns one array per input (a single array when ``inputs`` is one tensor).
    An input the outputs do not depend on is an error, unless ``allow_unused`` (its gradient
    is then None) or ``materialize_grads`` (zeros). As ``backward``, it frees the graph (its
    saved arrays become writable: ``with no_grad(): w -= lr * g`` works next) unless
    ``retain_graph=True``. With ``create_graph=True`` the gradients are Tensors on a graph of
    their own, to be differentiated again (``retain_graph`` then defaults to True).
    """
    create_graph = flag(create_graph, "create_graph", "grad")
    retain_graph = create_graph if retain_graph is None else flag(retain_graph, "retain_graph", "grad")
    allow_unused = flag(allow_unused, "allow_unused", "grad")
    materialize_grads = flag(materialize_grads, "materialize_grads", "grad")
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
        seeds.append(_seed(o, g, k, create_graph))
    wanted = {id(t) for t in ins}
    found = engine.compute_grads(outs, seeds, lambda t: id(t) in wanted, not retain_graph, create_graph)
    result = []
    for k, t in enumerate(ins):
        if id(t) in found:
            g = found[id(t)][1]
            result.append(g if create_graph else np.array(g, dtype=t.dtype))
        elif materialize_grads:
            result.append(Tensor(np.zeros_like(t.data)) if create_graph else np.zeros_like(t.data))
        elif allow_unused:
            result.append(None)
        else:
            raise ValueError(
                f"grad: inputs[{k}] was not used to compute the outputs (shape {t.shape}); pass "
                "allow_unused=True to get None for it, or materialize_grads=True to get zeros"
            )
    return result[0] if single else tuple(result)


def _seed(o: Tensor, g, k: int, create_graph: bool):
    """``grad_outputs[k]`` checked against output ``o``: an array, or a Tensor kept as it is in create-graph mode."""
    if g is None:
        if o.size != 1:
            raise ValueError(f"grad: grad_outputs[{k}] is needed for an output of shape {o.shape}")
        g = np.ones_like(o.data)
    if create_graph and isinstance(g, Tensor) and g.dtype == o.dtype:
        seed = g  # it may require grad itself: hvp differentiates through it
    else:
        seed = np.asarray(tensor_like(g, f"grad_outputs[{k}]", "grad").data, dtype=o.dtype)
    if seed.shape != o.shape:
        raise ValueError(f"grad: grad_outputs[{k}] must have shape {o.shape}, got {seed.shape}")
    return Tensor(seed) if create_graph and not isinstance(seed, Tensor) else seed


def _fresh_inputs(inputs, owner: str) -> list[Tensor]:
    """Copies of the inputs as new leaves, so the caller's tensors are never modified."""
    return [Tensor(np.array(tensor_like(x, "inputs", owner).data), requires_grad=True) for x in inputs]


def vjp(
    f: Callable[..., Tensor], inputs: Inputs, v: np.ndarray | Tensor
) -> tuple[Tensor, tuple[np.ndarray, ...] | np.ndarray]:
    r"""``(f(inputs), v^\top J_f)``, like ``torch.autograd.functional.vjp``."""
    function(f, "f", "vjp")
    ins, single = _as_list(inputs)
    xs = _fresh_inputs(ins, "vjp")
    v = tensor_like(v, "v", "vjp")
    out = f(*xs)
    g = grad(out, xs, grad_outputs=v, materialize_grads=True)
    return out.detach(), (g[0] if single else g)


def jacobian(
    f: Callable[..., Tensor], *inputs: np.ndarray | Tensor, strategy: str = "reverse-mode", create_graph: bool = False
) -> np.ndarray | tuple[np.ndarray, ...]:
    r"""$\partial f / \partial x_i$ for each input, each of shape ``out.shape + inputs[i].shape``.

    ``strategy`` as in ``torch.autograd.functional.jacobian``: ``"reverse-mode"`` runs one
    backward pass per output element (row $k$ is the VJP with $e_k$); ``"forward-mode"`` one
    forward-mode walk per input element (column $k$ is the JVP with $e_k$, ``minigrad/forward.py``).
    Same matrix; the cheaper one has fewer passes. With one input it returns one array; with
    several, a tuple. ``create_graph=True`` (reverse mode) returns Tensors on a graph back to
    the Tensor ``inputs`` the caller passed with ``requires_grad=True``, to be differentiated again.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    function(f, "f", "jacobian")
    if not inputs:
        raise ValueError("jacobian: give at least one input")
    if flag(create_graph, "create_graph", "jacobian"):
        if strategy != "reverse-mode":
            raise ValueError("jacobian: create_graph=True needs strategy='reverse-mode', got 'forward-mode'")
        return _recorded_jacobian(f, inputs)
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


def _recorded_jacobian(f: Callable[..., Tensor], inputs: tuple) -> Tensor | tuple[Tensor, ...]:
    """``jacobian(create_graph=True)``: rows from recorded VJPs, stacked into Tensors on the graph.

    As in PyTorch, a Tensor input that requires grad is used itself (not a copy), so the
    Jacobian can be differentiated with respect to it.
    """
    xs = [x if isinstance(x, Tensor) and x.requires_grad else _fresh_inputs([x], "jacobian")[0] for x in inputs]
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"jacobian: f must return a Tensor, got {describe(out)}")
    rows = [[] for _ in xs]
    for k in range(out.size):
        e = np.zeros(out.size, dtype=out.dtype)
        e[k] = 1
        gs = grad(out, xs, e.reshape(out.shape), retain_graph=True, create_graph=True, materialize_grads=True)
        for row, g in zip(rows, gs):
            row.append(g)
    mats = tuple(
        functional.reshape(functional.stack(row), out.shape + x.shape) if row else Tensor(np.zeros(out.shape + x.shape))
        for row, x in zip(rows, xs)
    )
    return mats[0] if len(inputs) == 1 else mats


def _scalar_function(f: Callable[..., Tensor], inputs, owner: str) -> tuple[list[Tensor], Tensor, bool]:
    """Fresh leaves for ``inputs``, ``f`` called on them, and whether one input was given."""
    function(f, "f", owner)
    ins, single = _as_list(inputs)
    xs = _fresh_inputs(ins, owner)
    out = f(*xs)
    if not isinstance(out, Tensor) or out.size != 1:
        raise ValueError(f"{owner}: f must return a one-element Tensor (a scalar), got {describe(out)}")
    return xs, out, single


def _directions(v, xs: list[Tensor], owner: str) -> list[np.ndarray]:
    """``v`` as one array per input, each of that input's shape."""
    vs, _ = _as_list(v)
    if len(vs) != len(xs):
        raise ValueError(f"{owner}: v must have one entry per input ({len(xs)}), got {len(vs)}")
    arrays = []
    for k, (vk, x) in enumerate(zip(vs, xs)):
        a = np.asarray(tensor_like(vk, "v", owner).data, dtype=x.dtype)
        if a.shape != x.shape:
            raise ValueError(f"{owner}: v[{k}] must have the shape of inputs[{k}], {x.shape}, got {a.shape}")
        arrays.append(a)
    return arrays


def _result(values, single: bool, create_graph: bool):
    values = tuple(v if create_graph or not isinstance(v, Tensor) else v.data for v in values)
    return values[0] if single else values


def vhp(
    f: Callable[..., Tensor], inputs: Inputs, v: Inputs | None = None, create_graph: bool = False, strict: bool = False
) -> tuple[Tensor, np.ndarray | Tensor | tuple]:
    r"""``(f(inputs), v^\top H)``, like ``torch.autograd.functional.vhp``: reverse over reverse.

    The gradient is computed with ``create_graph=True``, so it is a Tensor on a graph; one more
    backward pass through it, seeded with $v$, gives $v^\top H$. ``v`` may be omitted for an
    input of one element. ``strict`` is accepted for PyTorch's signature (minigrad gives zeros,
    never None, for an input the output does not depend on).
    """
    return _vhp(f, inputs, v, create_graph, strict, "vhp")


def _vhp(f, inputs, v, create_graph, strict, owner: str):
    """``vhp`` (and ``hvp``), with ``owner`` naming the function the user called in error messages."""
    create_graph = flag(create_graph, "create_graph", owner)
    flag(strict, "strict", owner)
    xs, out, single = _scalar_function(f, inputs, owner)
    if v is None:
        if any(x.size != 1 for x in xs):
            raise ValueError(f"{owner}: v can be omitted only for one-element inputs")
        v = np.ones_like(xs[0].data) if single else [np.ones_like(x.data) for x in xs]
    vs = _directions([v] if single else v, xs, owner)
    g = grad(out, xs, create_graph=True, materialize_grads=True)  # xs is a list: a tuple comes back
    used = [(gk, vk) for gk, vk in zip(g, vs) if gk.requires_grad]
    if not used:  # f is linear: H = 0
        return out.detach(), _result([Tensor(np.zeros_like(x.data)) for x in xs], single, create_graph)
    prods = grad([gk for gk, _ in used], xs, [vk for _, vk in used], create_graph=create_graph, materialize_grads=True)
    if not create_graph:  # f may have saved tensors it closed over (a weight W): unlock them
        engine.release_graph([out])
    return out.detach(), _result(prods, single, create_graph)


def hvp(
    f: Callable[..., Tensor], inputs: Inputs, v: Inputs | None = None, create_graph: bool = False, strict: bool = False
) -> tuple[Tensor, np.ndarray | Tensor | tuple]:
    r"""``(f(inputs), H v)``, like ``torch.autograd.functional.hvp``.

    $H$ is the Hessian of a scalar $f$: symmetric wherever $f$ is twice continuously
    differentiable, so $Hv = (v^\top H)^\top$ and this is :func:`vhp` (PyTorch's own docs make
    the same remark; its ``hvp`` runs a third backward pass to get $Hv$ for any $H$).
    """
    return _vhp(f, inputs, v, create_graph, strict, "hvp")


def hessian(
    f: Callable[..., Tensor],
    inputs: Inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> np.ndarray | Tensor | tuple:
    r"""$\partial^2 f / \partial x_i \partial x_j$ of a scalar ``f``, like ``torch.autograd.functional.hessian``.

    For one input, an array of shape ``x.shape + x.shape``; for a tuple of inputs, a tuple of
    tuples, ``H[i][j]`` of shape ``x_i.shape + x_j.shape``. Row $k$ of input $i$'s block is one
    more backward pass through the recorded gradient (reverse over reverse), seeded with $e_k$.
    ``vectorize`` is accepted for PyTorch's signature; minigrad always loops.
    """
    create_graph = flag(create_graph, "create_graph", "hessian")
    flag(strict, "strict", "hessian")
    flag(vectorize, "vectorize", "hessian")
    if outer_jacobian_strategy != "reverse-mode":
        raise ValueError(f"hessian: outer_jacobian_strategy must be 'reverse-mode', got {outer_jacobian_strategy!r}")
    xs, out, single = _scalar_function(f, inputs, "hessian")
    g = grad(out, xs, create_graph=True, materialize_grads=True)
    blocks = []
    for gi, xi in zip(g, xs):
        rows = []
        for k in range(xi.size):
            if not gi.requires_grad:  # this part of the gradient is constant: its rows are 0
                rows.append([Tensor(np.zeros_like(x.data)) for x in xs])
                continue
            e = np.zeros(xi.size, dtype=xi.dtype)
            e[k] = 1
            hk = grad(gi, xs, e.reshape(xi.shape), retain_graph=True, create_graph=create_graph, materialize_grads=True)
            rows.append(list(hk))
        blocks.append(tuple(
            _stack_rows([r[j] for r in rows], xi.shape + xj.shape, create_graph) for j, xj in enumerate(xs)
        ))  # fmt: skip
    engine.release_graph([out])
    return blocks[0][0] if single else tuple(blocks)


def _stack_rows(rows: list, shape: tuple, create_graph: bool):
    if create_graph:
        return functional.reshape(functional.stack(rows), shape)
    return np.stack([np.asarray(r.data if isinstance(r, Tensor) else r) for r in rows]).reshape(shape)
