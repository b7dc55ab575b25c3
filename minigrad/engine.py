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

import contextlib
import gc
import sys
import threading

import numpy as np

from minigrad import safety
from minigrad.anomaly import check_backward
from minigrad.broadcast import unbroadcast
from minigrad.grad_array import GradArray, grad_array
from minigrad.grad_mode import MODES, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["backward", "compute_grads", "compute_grads_recorded", "topological_order", "release", "release_graph",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]  # fmt: skip

#: create_graph mode writes each op's VJP with minigrad's functions on tensors (``minigrad.functional``:
#: exp, where, sum, ...) where the plain pass uses NumPy's. That module imports the tensors, which import
#: this engine, so it cannot be imported here: ``minigrad/second_order.py`` sets it when minigrad is imported.
GRAPH_MATH = None


def topological_order(roots, constants: bool = False, stop=None) -> list:
    """Every tensor that requires grad and is reachable from ``roots``, inputs before outputs.

    Iterative depth-first search: a node is emitted only after all of its inputs,
    so reversing the list gives an order in which every consumer comes before
    what it consumes. ``constants=True`` is the order a drawing of the graph
    (``minigrad.viz``) numbers its nodes in: the tensors that need no grad are kept
    too, and an op's inputs are visited in argument order (x before y in x * y).
    Backward keeps its own order, so its sums of gradients stay bit for bit the same.
    A node whose id is in ``stop`` is emitted, but not walked past.
    """
    order = []
    seen = set()
    stack = [(r, False) for r in (reversed(roots) if constants else roots) if constants or r.requires_grad]
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
        if op is not None and (stop is None or id(node) not in stop):
            for parent in reversed(op.inputs) if constants else op.inputs:
                if (constants or parent.requires_grad) and id(parent) not in seen:
                    stack.append((parent, False))
    return order


_GC_LOCK = threading.Lock()
_gc_pauses = 0  # backward passes running now (threads), and whether the collector was on before the first
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused():
    """The cyclic garbage collector off while backward passes run, then as it was before.

    Measured reason (2026-12-06, load average ~17 on 2 cores, CPU time, fresh processes): the
    backward pass of a 200,000-op chain took 0.79-0.84 s with the collector on and 0.60-0.63 s
    with it off. Backward allocates a few objects per op (gradients, the vjp's tuple), so the
    collector runs every few hundred ops, and its older generations re-scan the whole live
    graph. Nothing backward creates needs it: reference counting frees each gradient as soon
    as it has been passed on. Counted under a lock, so two threads' passes leave the collector
    on when the last one ends, and off if the user had turned it off.
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


@_gc_paused()  # the collector off during the pass (measured: the helper's docstring)
def compute_grads(roots, root_grads, keep, free: bool = False, create_graph: bool = False) -> dict:
    r"""Backpropagate ``root_grads`` from ``roots``; return ``{id(t): (t, ∂L/∂t)}`` for each ``t`` with ``keep(t)``.

    ``keep=None`` keeps what ``backward()`` stores in ``.grad``: leaves, and tensors that
    called ``retain_grad()``.

    Every other intermediate gradient is dropped as soon as it has been passed on, so memory
    stays proportional to the graph's width, not its length. With ``free``, each op is
    released as soon as its vjp has run (PyTorch's ``retain_graph=False``).

    With ``create_graph`` the root gradients are Tensors and so is every gradient: each op's
    VJP runs as minigrad ops (``op.recorded_vjp``, ``ops/base.py``), recorded like any forward
    computation, so the result can be differentiated again. The plain pass is untouched.
    """
    if create_graph:
        return compute_grads_recorded(roots, root_grads, keep, free)
    grads = Gradients()
    for root, g in zip(roots, root_grads):
        grads.add(root, g)
    kept = {}
    for node in reversed(topological_order(roots)):  # outputs first
        g = grads.pop(node)  # ∂L/∂node: complete, since every consumer has been visited
        op = node._op
        # keep=None: the rule of backward() -- leaves, and non-leaves after retain_grad()
        if g is not None and ((op is None or node._retains_grad) if keep is None else keep(node)):
            kept[id(node)] = (node, g)
        if op is None:  # a leaf: nothing further back
            continue
        if g is not None:
            if op.released:
                raise RuntimeError(_SECOND_BACKWARD)
            grads_in = op.vjp(g)  # x̄ᵢ = Jᵢᵀ ȳ for each input
            if MODES.anomaly_enabled:
                check_backward(op, grads_in, g)
            for parent, g_in in zip(op.inputs, grads_in):
                if g_in is not None and parent.requires_grad:
                    grads.add(parent, g_in)  # x̄ᵢ += Jᵢᵀ ȳ: a tensor used twice gets two terms
        if free:
            release(op)
    return kept


def compute_grads_recorded(roots, root_grads, keep, free: bool, stop=None) -> dict:
    """``compute_grads`` with Tensor gradients: the same walk, each VJP recorded as minigrad ops.

    The walk ends at tensors whose id is in ``stop`` (an op replayed from its inputs, ``ops/base.py``).
    """
    grads = {}
    for root, g in zip(roots, root_grads):
        _add_recorded(grads, root, g)
    kept = {}
    with enable_grad():  # the VJPs are recorded even when the caller's code runs under no_grad
        for node in reversed(topological_order(roots, stop)):
            g = grads.pop(id(node), None)
            op = node._op if stop is None or id(node) not in stop else None
            if g is not None and ((op is None or node._retains_grad) if keep is None else keep(node)):
                kept[id(node)] = (node, g)
            if op is None:
                continue
            if g is not None:
                if op.released:
                    raise RuntimeError(_SECOND_BACKWARD)
                grads_in = op.recorded_vjp(g, GRAPH_MATH)  # x̄ᵢ = Jᵢᵀ ȳ, as tensors on the graph
                for parent, g_in in zip(op.inputs, grads_in):
                    if g_in is not None and parent.requires_grad:
                        _add_recorded(grads, parent, g_in)
            if free:
                release(op)
    return kept


def _add_recorded(grads: dict, t, g) -> None:
    """``grads[t] += g`` for Tensor gradients, summing broadcast axes back to ``t``'s shape."""
    if g.shape != t.data.shape:
        lead = g.ndim - t.data.ndim  # axes broadcasting added in front, then size-1 axes it stretched
        g = g.sum(axis=tuple(range(lead))) if lead else g
        stretched = tuple(a for a, n in enumerate(t.data.shape) if n == 1 and g.shape[a] != 1)
        g = g.sum(axis=stretched, keepdims=True) if stretched else g
    prev = grads.get(id(t))
    grads[id(t)] = g if prev is None else prev + g


class Gradients:
    """∂L/∂t for the tensors the backward pass has reached but not yet passed on.

    ``add`` sums contributions (fan-out), folds broadcast axes back to the tensor's shape
    (``unbroadcast``) and keeps the tensor's dtype (a float32 leaf gets a float32 gradient).
    """

    def __init__(self) -> None:
        self.grads: dict = {}
        self.owned: set = set()  # ids whose buffer we allocated here, so += on it is safe

    def pop(self, t):
        """The finished gradient of ``t`` (None if nothing reached it), forgotten here."""
        return self.grads.pop(id(t), None)

    def add(self, t, g) -> None:
        """``grads[t] += g``."""
        key, data = id(t), t.data
        prev = self.grads.get(key)
        if type(g) is not np.ndarray and hasattr(g, "add_to"):  # a sparse IndexedGrad from x[index]
            g.add_to(self._own_buffer(key, data, prev))
            return
        if g.shape != data.shape:
            g = unbroadcast(g, data.shape)
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        if prev is None:
            self.grads[key] = g  # may be shared with another tensor's gradient: not ours to modify
        elif key in self.owned:
            prev += g
        else:
            # asarray: a 0-d sum comes back as a NumPy scalar, on which += would not add in place
            self.grads[key] = np.asarray(prev + g)
            self.owned.add(key)

    def _own_buffer(self, key, data, prev) -> np.ndarray:
        """A buffer of ``data``'s shape that belongs to this pass, holding ``prev`` so far."""
        if key in self.owned:
            return prev
        buf = np.zeros(data.shape, dtype=data.dtype)
        if prev is not None:
            buf += prev
        self.grads[key] = buf
        self.owned.add(key)
        return buf


_SECOND_BACKWARD = (
    "backward() through a graph a second time: the first backward() released it (its saved "
    "arrays were unlocked so they may be modified again). Call the first backward() with "
    "retain_graph=True if you need to backpropagate through the same graph twice."
)


def release(op) -> None:
    """Backward has used ``op``: its saved arrays become writable again, and its vjp may not run again.

    The op (and what it saved) stays referenced until the user drops the output, as any
    Python object would: dropping it here, mid-backward, made the allocator hand large
    blocks back to the OS and fault them in again on the next step (1.6x slower MLP step).
    """
    if not op.released:
        if op.saved:
            safety.unlock(op.saved)
        op.released = True


def release_graph(roots) -> None:
    """Release every op reachable from ``roots`` (what ``grad``, ``jacobian`` and ``jvp`` used).

    Their forward may have saved tensors the caller's function closed over (a weight ``W``);
    left locked, ``with no_grad(): W -= lr * g`` would be refused after the call.
    """
    for node in topological_order(roots):
        if node._op is not None:
            release(node._op)


_GRAD_LOCK = threading.Lock()  # two threads' backward passes may add into the same leaf's .grad


def backward(root, grad, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate ``∂root/∂t`` (seeded with ``grad``) into ``.grad`` of every leaf that needs it.

    PyTorch semantics: ``.grad`` *accumulates* across calls (call ``zero_grad`` between steps),
    on leaves and on non-leaves that called ``retain_grad()``; the graph is released unless
    ``retain_graph``. With ``create_graph`` (``grad`` is then a Tensor) ``.grad`` becomes a
    Tensor on a graph of its own, and a later pass adds to it out of place, ``grad = grad + g``.
    """
    if create_graph:
        for t, g in compute_grads([root], [grad], None, not retain_graph, create_graph=True).values():
            with _GRAD_LOCK:
                t.grad = g if t.grad is None else g + t.grad  # g first: ndarray + Tensor would drop the graph
        return
    for t, g in compute_grads([root], [grad], None, free=not retain_graph).values():
        with _GRAD_LOCK:
            # always .grad's own type and dtype: a 0-d sum alone would come back a NumPy scalar
            t.grad = _grad_without_copy(g if t.grad is None else t.grad + g, t.data.dtype)


def _grad_without_copy(g, dtype) -> GradArray:
    """``grad_array(g, dtype)``, without its copy when nothing but ``backward`` holds ``g``'s memory.

    ``grad_array`` copies because a gradient may be shared: ``x + y`` hands one array to both
    inputs; a leaf's gradient may be the caller's seed, a view of another tensor's gradient, or
    an array an op keeps. An array that owns its memory (``base is None``: not a view into
    another array) and that nothing else references is shared with nothing, so ``.grad`` may
    look into it as it is. "Nothing else" is counted by ``sys.getrefcount``: the ``(t, g)`` pair
    in the dict ``compute_grads`` returned, ``backward``'s loop variable, this call's argument and
    getrefcount's own (``_ONLY_BACKWARD``); a view made of ``g``, another tensor's entry in that
    dict, the caller's seed or an op holding ``g`` adds one more. tests/test_grad_handover.py
    checks each of these cases, and that the count is exact.

    Measured reason (2026-12-06, ``benchmarks/compare_trees.py``, 8 interleaved rounds, fresh
    processes, one thread, float32, CPU time, load ~3 on 2 cores): the MLP step of
    ``bench_core.py`` (784-512-512-10, batch 256) went from 12.70 to 12.07 ms (paired 0.946):
    the copy wrote each parameter's gradient once more, into memory faulted in afresh.
    """
    if type(g) is np.ndarray and g.base is None and g.dtype == dtype and sys.getrefcount(g) <= _ONLY_BACKWARD:
        return g.view(GradArray)
    return grad_array(g, dtype)


_ONLY_BACKWARD = 4  # references to g that only backward holds, as _grad_without_copy counts them
