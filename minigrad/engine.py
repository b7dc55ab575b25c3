r"""The backward pass: walk the graph in reverse topological order, applying the chain rule.

Every tensor produced by an op remembers that op (``tensor._op``), and the op
remembers its input tensors (``op.inputs``). That is the whole graph. For a loss
$\mathcal{L}$ and a node $y = f(x_1, \dots, x_n)$, reverse mode computes

$$\frac{\partial \mathcal{L}}{\partial x_i} \mathrel{+}= J_{f,i}^\top \, \frac{\partial \mathcal{L}}{\partial y}$$

(the op's ``vjp``), visiting each node only after *every* node that uses it, so that
its gradient is complete before it is passed on. The ``+=`` is fan-out: a tensor used
twice receives two contributions.

The order is found with an explicit stack, never recursion, so a 100,000-op chain
(an RNN unrolled over a long sequence) is an ordinary input.
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.anomaly import _AnomalyMode, check_backward
from minigrad.broadcast import unbroadcast
from minigrad.ops.base import _SAVED_SLOTS, saved_slots


class _GradMode:
    """Whether ops record the graph. A class attribute, so reading it is cheap."""

    enabled = True


def is_grad_enabled() -> bool:
    """True when new ops record themselves for backward."""
    return _GradMode.enabled


class set_grad_enabled:
    """Turn graph recording on or off: as a call, a context manager, or a decorator.

    As in PyTorch, ``minigrad.set_grad_enabled(False)`` on its own switches recording
    off at once; ``with set_grad_enabled(False):`` restores the previous mode on exit.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        _GradMode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        """Use as a decorator: ``fn`` runs with recording set to ``mode``."""
        _GradMode.enabled = self.prev  # decorating must not change the mode (PyTorch does this too)
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


class no_grad(set_grad_enabled):
    """``with minigrad.no_grad():`` (or ``@minigrad.no_grad()``): build no graph.

    Use it for evaluation and for optimizer updates, which must not become part
    of the graph they update. Unlike ``set_grad_enabled``, creating it changes nothing
    until the ``with`` block is entered.
    """

    def __init__(self) -> None:
        self.mode = False
        self.prev = _GradMode.enabled

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = False


class enable_grad(set_grad_enabled):
    """Turn graph recording back on inside a ``no_grad`` block."""

    def __init__(self) -> None:
        self.mode = True
        self.prev = _GradMode.enabled

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = True


def topological_order(roots) -> list:
    """Every tensor that requires grad and is reachable from ``roots``, inputs before outputs.

    Iterative depth-first search: a node is emitted only after all of its inputs,
    so reversing the list gives an order in which every consumer comes before
    what it consumes.
    """
    order = []
    seen = set()
    stack = [(r, False) for r in roots if r.requires_grad]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        op = node._op
        if op is not None:
            for parent in op.inputs:
                if parent.requires_grad and id(parent) not in seen:
                    stack.append((parent, False))
    return order


RELEASED = None  # op.needs_grad after backward() released the op: its vjp must not run again

_SECOND_BACKWARD = (
    "backward() through a graph a second time: the first backward() released it (its saved "
    "arrays were unlocked so they may be modified again). Call the first backward() with "
    "retain_graph=True if you need to backpropagate through the same graph twice."
)


def free_op(node) -> None:
    """Release ``node``'s op: its saved arrays become writable again, and its vjp may not run again.

    The op (and what it saved) stays referenced until the user drops the output, as any
    Python object would: dropping it here, mid-backward, made the allocator hand large
    blocks back to the OS and fault them in again on the next step (1.6x slower MLP step).
    """
    op = node._op
    if op is None or op.needs_grad is RELEASED:
        return
    names = _SAVED_SLOTS.get(type(op))
    for name in saved_slots(type(op)) if names is None else names:
        a = getattr(op, name, None)
        if type(a) is np.ndarray:
            # unlock the owner of the memory; a view (e.g. from broadcast_to) stays read-only
            base = a.base
            if base is None:
                a.setflags(True)  # write=True
            elif type(base) is np.ndarray:
                base.setflags(True)
    op.needs_grad = RELEASED


def compute_grads(roots, root_grads, keep, free: bool = False) -> dict:
    r"""Backpropagate ``root_grads`` from ``roots``; return ``{id(t): (t, dL/dt)}`` for ``t`` in ``keep``.

    ``keep(t)`` decides which gradients are returned; every other intermediate
    gradient is dropped as soon as it has been passed on, so memory stays
    proportional to the graph's width, not its length. With ``free``, each op is
    released (``free_op``) as soon as its vjp has run.
    """
    grads: dict = {}
    owned: set = set()  # ids whose gradient buffer we allocated, so += on it is safe
    for r, g in zip(roots, root_grads):
        _accumulate(grads, owned, r, g)
    kept: dict = {}
    for node in reversed(topological_order(roots)):
        g = grads.pop(id(node), None)
        if g is None:  # nothing downstream of this node reached a root
            if free:
                free_op(node)
            continue
        op = node._op
        if (op is None or node._retains_grad) if keep is _keeps_grad else keep(node):  # inlined: hot
            kept[id(node)] = (node, g)
        if op is None:
            continue
        if op.needs_grad is RELEASED:
            raise RuntimeError(_SECOND_BACKWARD)
        grads_in = op.vjp(g)
        if _AnomalyMode.enabled:
            check_backward(op, grads_in, g)
        if free:
            free_op(node)
        for parent, g_in in zip(op.inputs, grads_in):
            if g_in is None or not parent.requires_grad:
                continue
            key = id(parent)
            data = parent.data
            if key not in grads and type(g_in) is np.ndarray and g_in.shape == data.shape and g_in.dtype == data.dtype:
                grads[key] = g_in  # the usual case, written out: a first gradient, already in shape
            else:
                _accumulate(grads, owned, parent, g_in)
    return kept


def _accumulate(grads: dict, owned: set, t, g_in) -> None:
    """``grads[t] += g_in``: fold broadcasting, keep t's dtype, reuse buffers we own."""
    data = t.data
    key = id(t)
    prev = grads.get(key)
    # A sparse IndexedGrad from x[index]: scatter it into a buffer of t's shape.
    if type(g_in) is not np.ndarray and hasattr(g_in, "add_to"):
        if key not in owned:
            buf = np.zeros(data.shape, dtype=data.dtype)
            if prev is not None:
                buf += prev
            grads[key] = prev = buf
            owned.add(key)
        g_in.add_to(prev)
        return
    if g_in.shape != data.shape:
        g_in = unbroadcast(g_in, data.shape)
    if g_in.dtype != data.dtype:  # float32 stays float32
        g_in = g_in.astype(data.dtype)
    if prev is None:
        grads[key] = g_in  # may be shared with another tensor's gradient: not owned
    elif key in owned:
        prev += g_in
    else:
        # asarray: a 0-d sum comes back as a NumPy scalar, on which `+=` would not add in place
        grads[key] = np.asarray(prev + g_in)
        owned.add(key)


def _keeps_grad(t) -> bool:
    return t._op is None or t._retains_grad


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate ``d root / d leaf`` (seeded with ``grad``) into every leaf's ``.grad``.

    PyTorch semantics: leaves *accumulate* (call ``zero_grad`` between steps);
    non-leaf tensors keep ``.grad`` only after ``retain_grad()``; the graph is freed
    unless ``retain_graph``.
    """
    for node, g in compute_grads([root], [grad], _keeps_grad, free=not retain_graph).values():
        if node._op is not None:  # an intermediate with retain_grad(): overwrite, like PyTorch
            node.grad = np.array(g, dtype=node.data.dtype)
        elif node.grad is None:  # copy: g may be shared with another tensor's gradient
            node.grad = np.array(g, dtype=node.data.dtype)
        else:
            node.grad = node.grad + g
