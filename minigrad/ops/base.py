r"""The base class of every primitive op, and the Jacobian helpers ops share.

An op is a function $y = f(x_1, \dots, x_n)$ on NumPy arrays that knows three things:

* ``forward(*arrays)``: compute $y$ and save on ``self`` what the backward pass needs;
* ``vjp(grad_out)``: the vector-Jacobian products $J_i^\top g$ for every input $i$,
  where $g = \partial\mathcal{L}/\partial y$ (returned in $y$'s shape, or the input's;
  the engine folds broadcast axes back with :func:`minigrad.broadcast.unbroadcast`);
* ``jacobian(i)``: the dense matrix $J_i = \partial y / \partial x_i$ of shape
  ``(y.size, x_i.size)``. It exists to be *looked at*: backward never builds it.
* ``jvp(*tangents)``: forward mode, the Jacobian-vector product $\dot y = \sum_i J_i \dot x_i$
  in $y$'s shape (a NumPy scalar for a 0-d $y$, as ``forward`` may return), with ``None`` for
  an input that has no tangent (the forward-mode walk is ``minigrad/forward.py``).

* ``recorded_vjp(grad_out, xp)``: the same VJP when a graph of the backward pass is being
  created (``create_graph=True``): ``grad_out`` and the result are Tensors, computed with
  minigrad ops (``xp`` is ``minigrad.functional``, NumPy's names) so they can be differentiated
  again. This is the one place that says how a VJP is recorded (docs/ARCHITECTURE.md):
  an elementwise op gets it from its one ``derivative(i, xp)``; a fused op is replayed from
  primitive ops (``REPLAYS``); every other op writes its VJP once more with ``xp``.

The invariants the tests check for every op: ``vjp(g)[i] == J_i.T @ g.ravel()`` and
``jvp(t) == sum_i J_i @ t_i.ravel()``, so $\langle g, J t\rangle = \langle J^\top g, t\rangle$.
"""

from __future__ import annotations

import copy

import numpy as np

from minigrad.broadcast import unbroadcast
from minigrad.engine import compute_grads_recorded

#: Fused ops differentiated twice by replaying them as a composition of primitive ops: op class ->
#: ``replay(op, *inputs) -> Tensor``, the op's output recomputed from its input tensors. Filled by
#: ``minigrad/second_order.py`` (recurrent steps, StepOutputs, attention): a replay builds tensors, above the ops.
REPLAYS: dict = {}


class Op:
    """One node of the graph. The instance is the context: it keeps what ``vjp`` needs.

    ``forward`` calls ``self.save(a, b, ...)`` with exactly the arrays ``vjp`` will read
    (PyTorch's ``ctx.save_for_backward``); ``vjp`` reads them back as ``a, b = self.saved``.
    While the graph waits for backward, those arrays are read-only (``minigrad/safety.py``).
    Parameters of the op (an axis, a slope) are plain attributes set in ``__init__``.
    """

    # inputs: the input tensors (set when the op is recorded); needs_grad: which of them
    # require grad; saved: what forward saved; released: backward has used the op;
    # site: where in the user's code the op was created (recorded only in detect_anomaly mode)
    __slots__ = ("inputs", "needs_grad", "saved", "released", "in_shapes", "out_shape", "site", "__weakref__")

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        """Run ``forward`` and record the shapes that ``jacobian`` needs."""
        self.in_shapes = _shapes(arrays)
        self.needs_grad = (True,) * len(arrays)  # apply_op narrows this when it records the op
        self.saved = ()
        self.released = False
        out = self.forward(*arrays)
        if type(out) is not np.ndarray:  # NumPy returns scalars for 0-d results
            out = np.asarray(out)
        self.out_shape = out.shape
        return out

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for ``vjp``; they stay read-only until backward has used them."""
        self.saved = arrays

    @property
    def name(self) -> str:
        """The op's class name, used in error messages."""
        return type(self).__name__

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name}.forward")

    def vjp(self, grad_out: np.ndarray) -> tuple:
        raise NotImplementedError(f"{self.name}.vjp")

    def jvp(self, *tangents: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError(f"{self.name}.jvp")

    def recorded_vjp(self, grad_out, xp) -> tuple:
        r"""create_graph: $J_i^\top g$ as Tensors on the graph. Default: replay the op (``REPLAYS``).

        The replay recomputes $y$ from the op's input tensors with primitive ops, and the VJP is
        that composition's own recorded backward pass, walked back to the inputs and no further.
        """
        replay = REPLAYS.get(type(self))
        if replay is None:
            raise NotImplementedError(
                f"{self.name} cannot be differentiated twice: it has no recorded VJP for create_graph=True"
            )
        inputs = self.inputs
        out = replay(self, *inputs)
        stop = {id(x) for x in inputs}
        found = compute_grads_recorded([out], [grad_out], lambda t: id(t) in stop, False, stop)
        return tuple([
            found[id(x)][1] if need and id(x) in found else None
            for x, need in zip(inputs, self.needs_grad)
        ])  # fmt: skip

    def jacobian(self, i: int) -> np.ndarray:
        r"""Dense $J_i = \partial y / \partial x_i$, shape ``(y.size, x_i.size)``.

        The default builds it one row at a time from basis VJPs: row $k$ is
        $e_k^\top J_i$ = ``vjp(e_k)[i]``. Ops override it where the closed form is the lesson.
        """
        out_size = int(np.prod(self.out_shape))
        in_shape = self.in_shapes[i]
        rows = []
        for k in range(out_size):
            e = np.zeros(out_size)
            e[k] = 1.0
            g = dense_grad(self.vjp(e.reshape(self.out_shape))[i], in_shape)
            rows.append(np.ravel(g))
        return np.array(rows, dtype=np.float64).reshape(out_size, int(np.prod(in_shape)))


def _shapes(arrays: tuple) -> tuple:
    """``tuple([a.shape for a in arrays])``, written out for the one- and two-input ops.

    It runs for every op of every pass. On Python 3.11 a comprehension is a function call
    of its own: measured at about 100 ns per op, 5% of a small op's whole cost.
    """
    if len(arrays) == 2:
        return (arrays[0].shape, arrays[1].shape)
    if len(arrays) == 1:
        return (arrays[0].shape,)
    return tuple([a.shape for a in arrays])


def dense_grad(g, shape: tuple) -> np.ndarray:
    """A VJP result as a plain array of ``shape``: zeros for None, scattered for an IndexedGrad."""
    if g is None:
        return np.zeros(shape)
    if hasattr(g, "dense"):
        return g.dense(shape)
    return unbroadcast(np.asarray(g), shape)


def source_index(in_shape: tuple, out_shape: tuple) -> np.ndarray:
    """For each element of a broadcast output, the flat index of the input element it came from."""
    flat = np.arange(int(np.prod(in_shape))).reshape(in_shape)
    return np.broadcast_to(flat, out_shape).ravel()


def diagonal_jacobian(derivative: np.ndarray, in_shape: tuple, out_shape: tuple) -> np.ndarray:
    r"""The Jacobian of an elementwise op: $J = \mathrm{diag}(f'(x))$, with broadcasting.

    Output element $k$ depends on one input element only, ``source_index[k]``, so each
    row has a single nonzero entry. Without broadcasting this is exactly a diagonal matrix.
    """
    out_size = int(np.prod(out_shape))
    J = np.zeros((out_size, int(np.prod(in_shape))))
    d = np.broadcast_to(derivative, out_shape).ravel()
    J[np.arange(out_size), source_index(in_shape, out_shape)] = d
    return J


class Elementwise(Op):
    r"""An op applied element by element: $y_k = f(x_{1,k}, \dots, x_{n,k})$.

    Subclasses give ``derivative(i, xp)`` $= \partial y / \partial x_i$ elementwise; then
    the VJP is a product, $g \odot f'$, and the Jacobian is diagonal. ``derivative`` reads what
    forward saved and calls NumPy's functions as ``xp.exp``, ``xp.where``: in create-graph mode
    the same code runs on tensors (``saved_tensors``) with minigrad's functions.
    """

    __slots__ = ()

    def derivative(self, i: int, xp=np) -> np.ndarray:
        raise NotImplementedError(f"{self.name}.derivative")

    def saved_tensors(self, xp) -> tuple:
        """What forward saved, as Tensors on the graph (recomputed from ``self.inputs``).

        The default keeps forward's arrays, which then enter the recorded VJP as constants:
        right for an op whose derivative is constant between kinks (ReLU, abs, max, where),
        whose second derivative is 0. An op whose derivative curves overrides it; the op tests
        check every op's second derivative against central differences.
        """
        return self.saved

    def recorded_vjp(self, grad_out, xp) -> tuple:
        r"""$g \odot f'_i$ with $f'_i$ from ``derivative(i, xp)`` run on tensors."""
        twin = copy.copy(self)  # the same op, reading tensors where forward saved arrays
        twin.saved = self.saved_tensors(xp)
        return tuple([
            grad_out * _same_dtype(twin.derivative(i, xp), grad_out) if need else None
            for i, need in enumerate(self.needs_grad)
        ])  # fmt: skip

    def vjp(self, grad_out: np.ndarray) -> tuple:
        if len(self.needs_grad) == 1:  # unary (tanh, exp, ...): recorded only if x needs grad
            return (grad_out * self.derivative(0),)
        return tuple([
            grad_out * self.derivative(i) if need else None
            for i, need in enumerate(self.needs_grad)
        ])  # fmt: skip

    def jvp(self, *tangents: np.ndarray | None) -> np.ndarray:
        r"""$\dot y = \sum_i f'_i \odot \dot x_i$, broadcast to the output's shape."""
        out = None
        for i, t in enumerate(tangents):
            if t is not None:
                term = t * self.derivative(i)
                out = term if out is None else out + term
        return np.broadcast_to(out, self.out_shape)

    def jacobian(self, i: int) -> np.ndarray:
        return diagonal_jacobian(self.derivative(i), self.in_shapes[i], self.out_shape)


def _same_dtype(derivative, grad_out):
    """A constant derivative (an array: a mask, a routing share) in ``grad_out``'s dtype, so that a
    float32 gradient stays float32 (an array operand would promote it; a Tensor is left as it is)."""
    if isinstance(derivative, np.ndarray):
        return derivative.astype(grad_out.dtype, copy=False)
    return derivative
