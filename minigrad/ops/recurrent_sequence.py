r"""A sequence layer's steps: the fused step ops reading row t of the whole projection.

``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` compute the input projection $x'_t = W_{ih} x_t + b$ for
all T steps in one matmul, shape (T, N, G*H). Handing step t its row through an indexing op
(``xp[t]``) would add an op per step -- its forward, its backward, the engine's bookkeeping --
so the layer's steps take the whole projection as input 0 and read row ``t`` themselves. The
math is the step op's own (``minigrad/ops/recurrent.py``, ``gru_step.py``): ``vjp`` calls it
and only returns the projection's gradient sparse, an ``IndexedGrad`` that is zero outside row t.

:class:`StepOutputs` is the other end: the steps wrote $s_t$ into the rows of one buffer (their
``out``), so the layer's output is that buffer -- ``Stack`` without the copy
(:func:`states_without_copy` says why).
"""

from __future__ import annotations

import numpy as np

from minigrad import safety
from minigrad.ops.base import Op
from minigrad.ops.gru_step import GRUStep
from minigrad.ops.recurrent import LSTMStep, RNNStep
from minigrad.ops.recurrent_base import StepGrads, block_diagonal
from minigrad.ops.shape import IndexedGrad


class ProjectionRow:
    """Mixin for a step op: input 0 is the whole projection (T, N, G*H); row ``t`` is read."""

    __slots__ = ()

    def forward(self, xp, *rest):
        if xp.ndim != 3 or not 0 <= self.t < xp.shape[0]:
            raise ValueError(f"xp must have shape (T > {self.t}, N, G*H) for t={self.t}, got {xp.shape}")
        return super().forward(xp[self.t], *rest)

    def vjp(self, grad_out):
        grads = super().vjp(grad_out)
        if grads.x_proj is None:
            return grads
        row_t = IndexedGrad((self.t,), grads.x_proj, False)  # zero outside row t of the projection
        return StepGrads(row_t, grads.state, grads.weight_hh, *grads.rest)

    def jvp(self, t_xp, *rest):
        """The step's own ``jvp`` on row t of the projection's tangent."""
        row = np.zeros(self.in_shapes[0][1:]) if t_xp is None else t_xp[self.t]
        return super().jvp(row, *rest)

    def jacobian(self, i: int) -> np.ndarray:
        """For the projection (i = 0): the step's block-diagonal Jacobian in row t's columns."""
        if i != 0:
            return super().jacobian(i)
        J = block_diagonal(self.input_jacobian())
        full = np.zeros((J.shape[0], int(np.prod(self.in_shapes[0]))))
        full[:, self.t * J.shape[1]:(self.t + 1) * J.shape[1]] = J
        return full


class RNNSequenceStep(ProjectionRow, RNNStep):
    """``RNNStep`` reading row ``t`` of a layer's whole projection."""

    __slots__ = ("t",)

    def __init__(self, t: int, nonlinearity: str = "tanh", out: np.ndarray | None = None):
        super().__init__(nonlinearity, out)
        self.t = int(t)


class LSTMSequenceStep(ProjectionRow, LSTMStep):
    """``LSTMStep`` reading row ``t`` of a layer's whole projection."""

    __slots__ = ("t",)

    def __init__(self, t: int, out: np.ndarray | None = None, gate_buffer: np.ndarray | None = None):
        super().__init__(out, gate_buffer)
        self.t = int(t)


class GRUSequenceStep(ProjectionRow, GRUStep):
    """``GRUStep`` reading row ``t`` of a layer's whole projection."""

    __slots__ = ("t",)

    def __init__(self, t: int, reset_after: bool = True, out: np.ndarray | None = None,
                 gate_buffer: np.ndarray | None = None):  # fmt: skip
        super().__init__(reset_after, out, gate_buffer)
        self.t = int(t)


def states_without_copy(buffer: np.ndarray, cols: slice) -> np.ndarray:
    """The layer's output [s_1, ..., s_T] (columns ``cols``): the buffer the steps wrote into, not a copy.

    Measured reasons (``benchmarks/compare_trees.py``, 5 interleaved rounds, 2026-12-06;
    benchmarks/README.md): copying the T states into a new output array made the RNN layer
    (T=100) 9% slower and the LSTM layer's peak memory (T=64) 13% higher; and the RNN's states
    overwrite its projection, which step t alone reads: in a new (T, N, H) buffer instead, the
    RNN layer was 6% slower (paired; 17% by the best times, 13.45 ms against 11.53 ms).

    Safe to hand out: the steps saved rows of ``buffer`` for backward, and saving locks the
    array that owns their memory (``safety.lock``). The output is a view made from that owner
    now, after them, so it is read-only while the graph needs it, like the owner. (The RNN's
    buffer is its projection, a reshaped view of the matmul's result, which owns the memory.)
    If ``buffer`` is not the whole of its owner, the output is a copy instead.
    """
    whole = safety.owner(buffer)
    if whole.size != buffer.size or not (whole.flags.c_contiguous and buffer.flags.c_contiguous):
        return buffer[:, :, cols].copy()
    view = whole.reshape(buffer.shape)  # the same memory, seen through its owner
    return view if cols == slice(None) else view[:, :, cols]


class StepOutputs(Op):
    r"""$Y = [s_1, \dots, s_T]$ (columns ``cols`` of each), shape (T, N, C): a layer's output.

    ``Stack`` without the copy: step t wrote $s_t$ into ``rows[t]``, a row of ``buffer``
    (T, N, S), so forward returns the buffer itself -- or the view of columns ``cols``: an
    LSTM's output is the $h$ half of $s = [h; c]$. The VJP gives step t the slice $\bar Y_t$
    (an ``IndexedGrad``, zero outside ``cols``, when only some columns are output).
    """

    __slots__ = ("buffer", "rows", "cols")

    def __init__(self, buffer: np.ndarray, rows: list, cols: slice = slice(None)):
        self.buffer, self.rows, self.cols = buffer, rows, cols

    def forward(self, *states):
        if len(states) != len(self.rows):
            raise ValueError(f"expected {len(self.rows)} step outputs, got {len(states)}")
        for row, s in zip(self.rows, states):
            if s is not row:  # not written in place by its step: copy it in
                row[...] = s
        return states_without_copy(self.buffer, self.cols)

    def vjp(self, grad_out):
        if self.cols == slice(None):
            return tuple(grad_out)  # views, as in Stack
        index = (slice(None), self.cols)
        return tuple([IndexedGrad(index, g, False) for g in grad_out])

    def jvp(self, *tangents):
        """The states' tangents stacked like the states (columns ``cols``)."""
        dtype = next(t.dtype for t in tangents if t is not None)
        full = [np.zeros(s, dtype=dtype) if t is None else t for t, s in zip(tangents, self.in_shapes, strict=True)]
        return np.stack(full)[:, :, self.cols]
