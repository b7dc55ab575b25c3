r"""What every fused recurrent step shares: the contract, named gradients, where the arrays live.

A step op maps the state s_t to the next one, s_{t+1}, given the *input projection*
x'_t = W_ih x_t + b_ih (computed for all time steps in one matmul by the layer):

    inputs  (xp, s_t, W_hh[, b_hh])     xp: (N, G*H)   s_t: (N, S)   W_hh: (G*H, H)
    output  s_{t+1}                     (N, S)

G is ``num_gates`` (1 for the RNN, 3 for the GRU, 4 for the LSTM). RNN and GRU: s = h (S = H).
LSTM: s = [h; c] concatenated on the last axis (S = 2H), so that one state vector carries
everything the next step needs and ∂s_{t+1}/∂s_t is a single square matrix.

Besides ``vjp`` (what backward runs; it returns :class:`StepGrads`), each step gives the two
Jacobians BPTT is made of, per sample: ``state_jacobian()`` J_t = ∂s_{t+1}/∂s_t, shape
(N, S, S), and ``input_jacobian()`` ∂s_{t+1}/∂x'_t, shape (N, S, G*H) (so ∂s_{t+1}/∂x_t =
``input_jacobian() @ W_ih``). One index convention everywhere: step t reads x_t and maps s_t
to s_{t+1}, its pre-activation is z_{t+1}, and J_t is its Jacobian (docs/ARCHITECTURE.md).
The small matrix helpers the Jacobians are written with are in ``step_jacobians.py``.

Two forward options a sequence layer uses (a cell leaves them off), both about memory:
``out`` -- an (N, S) array to write s_{t+1} into (row t of the layer's (T, N, S) output
buffer); ``gate_buffer`` (LSTM, GRU) -- an (N, G*H) array to compute the gates in (row t of
the projection, which no one reads again). :meth:`RecurrentStep._new_state` and
:meth:`RecurrentStep._gate_memory` give the measured reason each is kept.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op
from minigrad.ops.step_jacobians import block_diagonal


class StepGrads(tuple):
    """What a step's ``vjp`` returns: ∂L/∂ of each input, in the inputs' order, and by name.

    ``x_proj`` = ∂L/∂x'_t, ``state`` = ∂L/∂s_t, ``weight_hh`` = ∂L/∂W_hh, and ``rest``: the
    gradients of the inputs after W_hh (``(∂L/∂b_hh,)`` for a step with a bias, ``()``
    without; the LayerNorm step's ∂L/∂γ, ∂L/∂β). It is a tuple because the engine pairs it
    with the op's inputs, one gradient per input (None: that input needs none).
    """

    __slots__ = ()

    def __new__(cls, x_proj, state, weight_hh, *rest):
        return super().__new__(cls, (x_proj, state, weight_hh) + rest)

    @property
    def x_proj(self):
        return self[0]

    @property
    def state(self):
        return self[1]

    @property
    def weight_hh(self):
        return self[2]

    @property
    def rest(self) -> tuple:
        return self[3:]


def gate_blocks(a: np.ndarray, count: int) -> list:
    """The ``count`` H-wide column blocks of ``a`` (N, count*H), as views (writing them writes ``a``)."""
    H = a.shape[-1] // count
    return [a[..., k * H:(k + 1) * H] for k in range(count)]


class RecurrentStep(Op):
    """What the step ops share: shape checks, where their arrays live, weight gradients, dense Jacobians."""

    __slots__ = ("out_buffer", "gate_buffer")

    num_gates = 1  # G: how many H-sized blocks the projections have
    state_factor = 1  # S = state_factor * H

    def __init__(self, out: np.ndarray | None = None, gate_buffer: np.ndarray | None = None):
        self.out_buffer, self.gate_buffer = out, gate_buffer

    def _new_state(self, like: np.ndarray) -> np.ndarray:
        """Where s_{t+1} goes: row t of the layer's output buffer (``out``) if given, else a new array.

        Why a layer passes one: its output is then that buffer, with no copy. Measured
        (``benchmarks/compare_trees.py``, 5 interleaved rounds, 2026-12-06; benchmarks/README.md):
        with a new array per step, copied into the output afterwards, the RNN layer (T=100) was
        9% slower and the LSTM layer's peak memory (T=64) 13% higher (17.43 MiB, not 15.42).
        """
        out = self.out_buffer
        if out is None:
            return np.empty_like(like)
        if out.shape != like.shape or out.dtype != like.dtype:
            raise ValueError(f"out must have shape {like.shape} and dtype {like.dtype}, got "
                             f"{out.shape} {out.dtype}")  # fmt: skip
        return out

    def _gate_memory(self, xp: np.ndarray) -> np.ndarray | None:
        """Where the gates go: ``gate_buffer`` (checked against this step's ``xp``), or None for new arrays.

        Why a layer passes one (row t of its projection, which step t alone reads): the gates
        then take no memory beyond the projection's, as cuDNN's "reserve space" does. Measured
        (tracemalloc, ``bench_rnn.py``'s LSTM, T=64; benchmarks/README.md): with new arrays for
        the gates the layer's peak memory was 19.42 MiB instead of 15.42 MiB (+26%).
        """
        buf = self.gate_buffer
        if buf is not None and (buf.shape != xp.shape or buf.dtype != xp.dtype):
            raise ValueError(f"gate_buffer: the gates must have shape {xp.shape} and dtype {xp.dtype}, got "
                             f"{buf.shape} {buf.dtype}")  # fmt: skip
        return buf

    def _pre_activation(self, xp: np.ndarray, h: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        """z_{t+1} = x'_t + W_hh h_t + b_hh, (N, G*H), in the gate memory (``_gate_memory``)."""
        z = np.add(xp, h @ W.T, out=self._gate_memory(xp))
        if b is not None:
            z += b
        return z

    def _check(self, xp, s_prev, W, b):
        G, S = self.num_gates, self.state_factor
        if W.ndim != 2 or W.shape[0] != G * W.shape[1]:
            raise ValueError(f"W_hh must have shape ({G}*H, H), got {W.shape}")
        H = W.shape[1]
        N = xp.shape[0] if xp.ndim == 2 else -1
        if xp.ndim != 2 or xp.shape[1] != G * H:
            raise ValueError(f"xp must have shape (N, {G * H}), got {xp.shape}")
        if s_prev.shape != (N, S * H):
            raise ValueError(f"s_prev must have shape ({N}, {S * H}), got {s_prev.shape}")
        if b is not None and b.shape != (G * H,):
            raise ValueError(f"b_hh must have shape ({G * H},), got {b.shape}")
        return H

    def _bias_grad(self, grad_pre: np.ndarray) -> tuple:
        """``(∂L/∂b_hh,)`` = (Σ_n ∂L/∂z_{t+1},) for a step with a bias, ``()`` without one."""
        if len(self.needs_grad) == 3:
            return ()
        return (grad_pre.sum(axis=0) if self.needs_grad[3] else None,)

    def _tangents(self, tangents: tuple, W: np.ndarray) -> tuple:
        """Forward mode: the tangents of (xp, s_t, W_hh, b_hh), zeros where an input has none."""
        full = [np.zeros(s, dtype=W.dtype) if t is None else t for t, s in zip(tangents, self.in_shapes, strict=True)]
        if len(full) == 3:
            full.append(np.zeros(W.shape[0], dtype=W.dtype))  # no bias: its tangent is 0
        return tuple(full)

    def state_jacobian(self) -> np.ndarray:
        raise NotImplementedError(f"{self.name}.state_jacobian")

    def input_jacobian(self) -> np.ndarray:
        raise NotImplementedError(f"{self.name}.input_jacobian")

    def jacobian(self, i: int) -> np.ndarray:
        """Dense Jacobian: block diagonal over the batch for ``xp`` (0) and ``s_prev`` (1)."""
        if i == 0:
            return block_diagonal(self.input_jacobian())
        if i == 1:
            return block_diagonal(self.state_jacobian())
        return super().jacobian(i)
