r"""What every fused recurrent step shares: the contract, named gradients, small matrix helpers.

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

Two forward options a sequence layer uses (a cell leaves them off), both about memory:
``out`` -- an (N, S) array to write s_{t+1} into (row t of the layer's (T, N, S) output
buffer); ``gate_buffer`` (LSTM, GRU) -- an (N, G*H) array to compute the gates in (row t of
the projection, which no one reads again). See :meth:`RecurrentStep._new_state` and
:meth:`RecurrentStep._pre_activation` for why each is kept.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op


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


def diag(v: np.ndarray) -> np.ndarray:
    """diag(v_n) for every sample n: (N, H) -> (N, H, H)."""
    N, H = v.shape
    D = np.zeros((N, H, H), dtype=v.dtype)
    k = np.arange(H)
    D[:, k, k] = v
    return D


def diag_times(d: np.ndarray, W: np.ndarray) -> np.ndarray:
    """diag(d_n) W for every sample n: row k of W times d_n[k]; (N, H) and (H, K) -> (N, H, K)."""
    return d[:, :, None] * W[None, :, :]


def gates_diag_times(ds: list, W: np.ndarray) -> np.ndarray:
    """Σ_k diag(d_k) W_k over the gates k, W_k the k-th block of H rows of W (G*H, H): (N, H, H).

    Computed per unit u as the (N x G) @ (G x H) product of the slopes d_k[:, u] and the rows
    W_k[u], all units in one batched matmul: measured 30x faster (21 µs against 640 µs for
    N=16, H=64, four gates, float32) than summing the G row-scaled (N, H, H) arrays, which
    made ``Trajectory.jacobians()`` of an LSTM 2.4x slower.
    """
    G, H = len(ds), W.shape[1]
    slopes = np.stack(ds, axis=-1).transpose(1, 0, 2)  # (H, N, G): unit u's slopes
    rows = W.reshape(G, H, H).transpose(1, 0, 2)  # (H, G, H): unit u's row of each W_k
    return (slopes @ rows).transpose(1, 0, 2)


def plus_diag(J: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J + diag(v_n) for every sample n, in place (J (N, H, H), v (N, H)); returns J."""
    k = np.arange(v.shape[1])
    J[:, k, k] += v
    return J


def block_matrix(rows: list) -> np.ndarray:
    """Per-sample blocks joined as one block matrix, like ``np.block`` for each sample.

    ``rows[r][c]`` is an (N, h_r, w_c) array. The blocks are copied into one new array
    (two nested ``np.concatenate`` calls copy everything twice).
    """
    heights, widths = [row[0].shape[1] for row in rows], [block.shape[2] for block in rows[0]]
    J = np.empty((rows[0][0].shape[0], sum(heights), sum(widths)), dtype=rows[0][0].dtype)
    top = 0
    for row, height in zip(rows, heights, strict=True):
        left = 0
        for block, width in zip(row, widths, strict=True):
            J[:, top:top + height, left:left + width] = block
            left += width
        top += height
    return J


def block_diagonal(blocks: np.ndarray) -> np.ndarray:
    """The dense (N*A, N*B) matrix with the N per-sample blocks (N, A, B) on its diagonal.

    Samples do not interact, so the Jacobian of a whole (N, S) state is block diagonal.
    """
    N, A, B = blocks.shape
    J = np.zeros((N * A, N * B), dtype=np.float64)
    for n in range(N):
        J[n * A:(n + 1) * A, n * B:(n + 1) * B] = blocks[n]
    return J


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

        Why a layer passes one: its output is then that buffer, with no copy. Stacking the T
        states into a fresh output array instead made RNN and LSTM layers 9-13% slower in a
        before/after run of ``benchmarks/compare_trees.py`` (see benchmarks/README.md).
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
        then take no memory beyond the projection's, as cuDNN's "reserve space" does; with a
        new array for them, the LSTM layer's peak memory grows by the figure in
        benchmarks/README.md.
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
