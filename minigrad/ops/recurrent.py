r"""Fused recurrent steps: one op per time step of an RNN, LSTM or GRU, with a hand-derived VJP.

Step t maps the state s_t to the next, s_{t+1}, given the *input projection*
x'_t = W_ih x_t + b_ih (computed for all time steps in one matmul by the layer):

    inputs  (xp, s_prev, W_hh[, b_hh])     xp: (N, G*H)   s_prev = s_t: (N, S)   W_hh: (G*H, H)
    output  s_next = s_{t+1}                (N, S)

G is ``num_gates`` (1 for the RNN, 3 for the GRU, 4 for the LSTM).

RNN and GRU: $s = h$ ($S = H$). LSTM: $s = [h; c]$ concatenated on the last axis ($S = 2H$),
so that one state vector carries everything the next step needs and the seed texts'
$\partial s_{t+1}/\partial s_t$ is a single square matrix.

Two forward options a sequence layer uses (a cell leaves them off): ``out`` -- an (N, S)
array to write s_{t+1} into (a row of one (T, N, S) buffer, so the T outputs need no copy);
``gate_buffer`` (LSTM, GRU) -- an (N, G*H) array to compute the gates in: the layer passes row t of
the projection itself, which nothing reads again, so the gates of all T steps (what backward
needs) take no memory beyond the projection's (cuDNN's "reserve space" does the same).
``minigrad/ops/recurrent_sequence.py`` has the layer's variants of these ops (they read row t
of the whole projection) and ``StepOutputs``.

Besides ``vjp`` (what backward runs), each op gives the two Jacobians BPTT is made of, per sample:
``state_jacobian()`` J_t = ∂s_{t+1}/∂s_t, shape (N, S, S), and
``input_jacobian()`` ∂s_{t+1}/∂x'_t, shape (N, S, G*H)
(so ∂s_{t+1}/∂x_t = ``input_jacobian() @ W_ih``). One index convention everywhere:
step t reads x_t and maps s_t to s_{t+1}, and J_t is its Jacobian (docs/ARCHITECTURE.md).

Sigmoid is computed as $\sigma(a) = \tfrac12(1 + \tanh(a/2))$: exact, never overflows, and done
in place on the gate buffer (no temporaries) -- the same formula as the NumPy benchmark reference.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    r"""$\sigma(a) = \frac12(1+\tanh(a/2))$ in place (no overflow for any $a$); returns ``a``."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _diag_blocks(blocks: list[list], N: int, H: int, dtype) -> np.ndarray:
    r"""(N, R*H, C*H) array whose (r, c) block is $\mathrm{diag}(v)$ for ``blocks[r][c] = v``.

    Each ``v`` has shape (N, H); None gives a zero block.
    """
    R, C = len(blocks), len(blocks[0])
    J = np.zeros((N, R * H, C * H), dtype=dtype)
    k = np.arange(H)
    for r, row in enumerate(blocks):
        for c, v in enumerate(row):
            if v is not None:
                J[:, r * H + k, c * H + k] = v
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


class RecurrentStep(Op):
    """What the three step ops share: shape checks, weight gradients, dense Jacobians.

    ``out``: None, or an (N, S) array to write s_{t+1} into. ``gate_buffer``: None, or an
    (N, G*H) array to compute the gate activations in (see the module docstring).
    """

    __slots__ = ("out_buffer", "gate_buffer")

    num_gates = 1  # G: how many H-sized blocks the projections have
    state_factor = 1  # S = state_factor * H

    def __init__(self, out: np.ndarray | None = None, gate_buffer: np.ndarray | None = None):
        self.out_buffer, self.gate_buffer = out, gate_buffer

    def _new_state(self, like: np.ndarray) -> np.ndarray:
        """Where s_{t+1} goes: the layer's buffer row ``out`` if given, else a new array."""
        out = self.out_buffer
        if out is None:
            return np.empty_like(like)
        if out.shape != like.shape or out.dtype != like.dtype:
            raise ValueError(f"out must have shape {like.shape} and dtype {like.dtype}, got "
                             f"{out.shape} {out.dtype}")  # fmt: skip
        return out

    def _gate_rows(self, xp: np.ndarray) -> np.ndarray | None:
        """The ``gate_buffer`` (checked against this step's projection ``xp``), or None."""
        buf = self.gate_buffer
        if buf is not None and (buf.shape != xp.shape or buf.dtype != xp.dtype):
            raise ValueError(f"gate_buffer must have shape {xp.shape} and dtype {xp.dtype}, got "
                             f"{buf.shape} {buf.dtype}")  # fmt: skip
        return buf

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

    def _weight_grads(self, grad_pre: np.ndarray, h: np.ndarray) -> tuple:
        r"""$\bar W_{hh} = \sum_n g_n h_n^\top$, $\bar b_{hh} = \sum_n g_n$."""
        need = self.needs_grad
        dW = grad_pre.T @ h if need[2] else None
        if len(need) == 3:
            return (dW,)
        return (dW, grad_pre.sum(axis=0) if need[3] else None)

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


class RNNStep(RecurrentStep):
    r"""h_{t+1} = φ(z), z = x'_t + W_hh h_t + b_hh, φ = tanh or relu.

    Derivation. With g = ∂L/∂h_{t+1} and δ = g ⊙ φ'(z)  (tanh' = 1 − h_{t+1}²; relu' = [z > 0]):
    ∂L/∂x'_t = δ,  ∂L/∂h_t = W_hhᵀ δ,  ∂L/∂W_hh = δ h_tᵀ,  ∂L/∂b_hh = δ (batch rows summed).
    The Jacobian through time: J_t = ∂h_{t+1}/∂h_t = diag(φ'(z)) W_hh.
    """

    __slots__ = ("nonlinearity",)

    def __init__(self, nonlinearity: str = "tanh", out: np.ndarray | None = None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(out)
        self.nonlinearity = nonlinearity

    def forward(self, xp, h, W, b=None):
        self._check(xp, h, W, b)
        z = np.add(xp, h @ W.T, out=self._new_state(h))  # ``out`` may be xp's own memory
        if b is not None:
            z += b
        if self.nonlinearity == "tanh":
            h_next = np.tanh(z, out=z)
            self.save(h, W, h_next, None)  # tanh' = 1 - h_next², from the output
        else:
            relu_mask = z > 0  # relu' (0 at the kink, like PyTorch)
            h_next = np.maximum(z, 0, out=z)
            self.save(h, W, h_next, relu_mask)
        return h_next

    def derivative(self) -> np.ndarray:
        r"""φ'(z), shape (N, H)."""
        h, W, h_next, relu_mask = self.saved
        if self.nonlinearity == "tanh":
            return 1 - h_next * h_next
        return relu_mask.astype(h_next.dtype)

    def vjp(self, grad_out):
        h, W, h_next, relu_mask = self.saved
        if self.nonlinearity == "tanh":
            delta = h_next * h_next
            np.subtract(1, delta, out=delta)
            delta *= grad_out
        else:
            delta = grad_out * relu_mask
        dh = delta @ W if self.needs_grad[1] else None
        return (delta, dh) + self._weight_grads(delta, h)

    def input_jacobian(self):
        r"""∂h_{t+1}/∂x'_t = diag(φ'(z)), shape (N, H, H)."""
        d = self.derivative()
        return _diag_blocks([[d]], *d.shape, d.dtype)

    def state_jacobian(self):
        r"""J_t = diag(φ'(z)) W_hh: row k of W_hh times φ'_k."""
        W = self.saved[1]
        return self.derivative()[:, :, None] * W[None, :, :]


class LSTMStep(RecurrentStep):
    r"""s_{t+1} = [h_{t+1}; c_{t+1}] with c_{t+1} = f ⊙ c_t + i ⊙ g, h_{t+1} = o ⊙ tanh(c_{t+1}).

    Gates (PyTorch's order i, f, g, o): a = x'_t + W_hh h_t + b_hh split in four,
    i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o).

    Derivation (a bar is ∂L/∂). Given h̄, c̄ for h_{t+1}, c_{t+1} (the two halves of the
    incoming gradient), with τ = tanh(c_{t+1}), the total gradient reaching c_{t+1} is
    c̄' = c̄ + h̄ ⊙ o ⊙ (1 − τ²), then
    ā_i = c̄' ⊙ g ⊙ i(1−i),  ā_f = c̄' ⊙ c_t ⊙ f(1−f),  ā_g = c̄' ⊙ i ⊙ (1−g²),  ā_o = h̄ ⊙ τ ⊙ o(1−o);
    x̄'_t = ā,  h̄_t = W_hhᵀ ā,  W̄_hh = ā h_tᵀ,  c̄_t = c̄' ⊙ f -- the cell's "gradient highway":
    no weight matrix, only the forget gate.
    """

    __slots__ = ()

    num_gates = 4
    state_factor = 2

    def forward(self, xp, s, W, b=None):
        H = self._check(xp, s, W, b)
        h, c = s[:, :H], s[:, H:]
        a = self._gate_rows(xp)
        if a is None:
            a = h @ W.T
            a += xp
        else:  # in place when ``gate_buffer`` is this step's row of the projection
            np.add(xp, h @ W.T, out=a)
        if b is not None:
            a += b
        _sigmoid_(a[:, :2 * H])  # i, f
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])  # g
        _sigmoid_(a[:, 3 * H:])  # o
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        out = self._new_state(s)
        c_new = out[:, H:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tc = np.tanh(c_new)
        np.multiply(o, tc, out=out[:, :H])
        self.save(h, c, W, a, tc)  # a: the four gate activations
        return out

    def _gates(self):
        """``h_t, c_t, W_hh, (i, f, g, o), tanh(c_{t+1})`` from what forward saved."""
        h, c, W, a, tc = self.saved
        H = W.shape[1]
        return h, c, W, (a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]), tc

    def vjp(self, grad_out):
        h, c, W, (i, f, g, o), tc = self._gates()
        H = W.shape[1]
        gh, gc = grad_out[:, :H], grad_out[:, H:]
        dc = tc * tc
        np.subtract(1, dc, out=dc)
        dc *= o
        dc *= gh
        dc += gc  # total gradient reaching c_{t+1}
        da = np.empty((h.shape[0], 4 * H), dtype=tc.dtype)
        np.multiply(dc, g, out=da[:, :H])
        da[:, :H] *= i * (1 - i)
        np.multiply(dc, c, out=da[:, H:2 * H])
        da[:, H:2 * H] *= f * (1 - f)
        np.multiply(dc, i, out=da[:, 2 * H:3 * H])
        da[:, 2 * H:3 * H] *= 1 - g * g
        np.multiply(gh, tc, out=da[:, 3 * H:])
        da[:, 3 * H:] *= o * (1 - o)
        ds = None
        if self.needs_grad[1]:
            ds = np.empty_like(grad_out)
            np.matmul(da, W, out=ds[:, :H])
            np.multiply(dc, f, out=ds[:, H:])
        return (da, ds) + self._weight_grads(da, h)

    def input_jacobian(self):
        r"""∂[h_{t+1}; c_{t+1}]/∂a, shape (N, 2H, 4H): diagonal blocks.

        ∂c_{t+1}/∂a_i = diag(g i(1−i)),  ∂c_{t+1}/∂a_f = diag(c_t f(1−f)),
        ∂c_{t+1}/∂a_g = diag(i(1−g²)),  ∂c_{t+1}/∂a_o = 0;
        ∂h_{t+1}/∂a_k = diag(o(1−τ²)) ∂c_{t+1}/∂a_k for k = i, f, g, and ∂h_{t+1}/∂a_o = diag(τ o(1−o)).
        """
        h, c, W, (i, f, g, o), tc = self._gates()
        dc = [g * i * (1 - i), c * f * (1 - f), i * (1 - g * g)]
        k = o * (1 - tc * tc)
        dh = [k * d for d in dc] + [tc * o * (1 - o)]
        return _diag_blocks([dh, dc + [None]], *tc.shape, tc.dtype)

    def state_jacobian(self):
        r"""J_t = ∂[h_{t+1}; c_{t+1}]/∂[h_t; c_t], (N, 2H, 2H), the block matrix

            J_t = [ (∂s_{t+1}/∂a) W_hh  |  diag(o(1−τ²) f) ]
                  [                     |  diag(f)         ]

        Left column: h_t reaches s_{t+1} only through a = x'_t + W_hh h_t + b_hh.
        Right column: c_t reaches c_{t+1} through f alone -- a diagonal, no W_hh to shrink it.
        ∂s_{t+1}/∂a is made of diagonal blocks diag(d_k) (``input_jacobian``), so row u of the
        left column is Σ_k d_k[u] W_k[u, :] over the gates' row blocks W_k of W_hh: for each
        unit u an (N x 4) @ (4 x H) product, batched over u -- never the dense
        (2H x 4H) @ (4H x H) one (70x the work).
        """
        h, c, W, (i, f, g, o), tc = self._gates()
        N, H = f.shape
        k = o * (1 - tc * tc)  # dh_{t+1}/dc_{t+1}
        # D[r, u, n, j] = d(block r: h, c; unit u)/d a_j[u] of sample n, for gates j = i, f, g, o
        D = np.zeros((2, H, N, 4), dtype=f.dtype)
        D[1, :, :, 0] = (g * i * (1 - i)).T
        D[1, :, :, 1] = (c * f * (1 - f)).T
        D[1, :, :, 2] = (i * (1 - g * g)).T  # dc_{t+1}/da_o = 0
        np.multiply(D[1, :, :, :3], k.T[:, :, None], out=D[0, :, :, :3])
        D[0, :, :, 3] = (tc * o * (1 - o)).T
        left = D @ W.reshape(4, H, H).transpose(1, 0, 2)  # (2, H, N, H)
        J = np.empty((N, 2 * H, 2 * H), dtype=f.dtype)
        J.reshape(N, 2, H, 2 * H)[:, :, :, :H] = left.transpose(2, 0, 1, 3)
        J[:, :, H:] = 0
        u = np.arange(H)
        J[:, u, H + u] = k * f
        J[:, H + u, H + u] = f
        return J


class GRUStep(RecurrentStep):
    r"""h_{t+1} = (1−z) ⊙ n + z ⊙ h_t, gates in PyTorch's order r, z, n.

    r = σ(x'_r + W_hr h_t + b_hr),  z = σ(x'_z + W_hz h_t + b_hz),  and

    * ``reset_after=True`` (PyTorch, cuDNN):  n = tanh(x'_n + r ⊙ (W_hn h_t + b_hn))
    * ``reset_after=False`` (Cho et al. 2014): n = tanh(x'_n + W_hn (r ⊙ h_t) + b_hn)

    The same parameters fit both; only where r is applied differs.

    Derivation (a bar is ∂L/∂). With g = h̄_{t+1}:
    n̄ = g ⊙ (1−z),  z̄ = g ⊙ (h_t − n),  ā_n = n̄ ⊙ (1−n²),  ā_z = z̄ ⊙ z(1−z),  ā_r = r̄ ⊙ r(1−r),
    where r̄ = ā_n ⊙ (W_hn h_t + b_hn) (reset_after) or r̄ = (W_hnᵀ ā_n) ⊙ h_t (Cho);
    x̄'_t = [ā_r, ā_z, ā_n],
    h̄_t = g ⊙ z + W_hrᵀ ā_r + W_hzᵀ ā_z + W_hnᵀ(r ⊙ ā_n) (reset_after) or + r ⊙ (W_hnᵀ ā_n) (Cho).
    """

    __slots__ = ("reset_after",)

    num_gates = 3

    def __init__(self, reset_after: bool = True, out: np.ndarray | None = None,
                 gate_buffer: np.ndarray | None = None):  # fmt: skip
        super().__init__(out, gate_buffer)
        self.reset_after = bool(reset_after)

    def forward(self, xp, h, W, b=None):
        H = self._check(xp, h, W, b)
        buf = self._gate_rows(xp)  # where r, z and n go (None: new arrays)
        hn = rh = None
        if self.reset_after:
            gh = h @ W.T  # (N, 3H): W_hr h, W_hz h, W_hn h
            if b is not None:
                gh += b
            rz_h, hn = gh[:, :2 * H], gh[:, 2 * H:]
            if buf is not None:
                hn = hn.copy()  # copy: the rest of gh is not kept
        else:
            rz_h = h @ W[:2 * H].T
            if b is not None:
                rz_h += b[:2 * H]
        rz = rz_h if buf is None else buf[:, :2 * H]
        np.add(rz_h, xp[:, :2 * H], out=rz)
        _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        if self.reset_after:
            n_h = r * hn
        else:
            rh = r * h
            n_h = rh @ W[2 * H:].T
            if b is not None:
                n_h += b[2 * H:]
        n = n_h if buf is None else buf[:, 2 * H:]
        np.add(n_h, xp[:, 2 * H:], out=n)
        np.tanh(n, out=n)
        out = np.subtract(h, n, out=self._new_state(h))  # h_{t+1} = n + z (h_t - n)
        out *= z
        out += n
        self.save(h, W, rz, n, hn, rh)  # hn = W_hn h + b_hn (reset_after), rh = r ⊙ h (Cho)
        return out

    @staticmethod
    def _dn(z, n):
        r"""∂h_{t+1}/∂a_n = (1−z)(1−n²)."""
        return (1 - z) * (1 - n * n)

    def vjp(self, grad_out):
        h, W, rz, n, hn, rh = self.saved
        H = W.shape[1]
        r, z = rz[:, :H], rz[:, H:]
        dx = np.empty_like(rz, shape=(h.shape[0], 3 * H))
        dan = dx[:, 2 * H:]
        np.multiply(grad_out, self._dn(z, n), out=dan)
        if self.reset_after:
            dr = dan * hn
        else:
            drh = dan @ W[2 * H:]  # gradient reaching r * h
            dr = drh * h
        np.multiply(dr, r * (1 - r), out=dx[:, :H])
        np.multiply(grad_out * (h - n), z * (1 - z), out=dx[:, H:2 * H])
        need = self.needs_grad
        if self.reset_after:
            dgh = dx.copy()  # gradient reaching W_hh h + b_hh: the n block is scaled by r
            dgh[:, 2 * H:] *= r
            dh = grad_out * z + dgh @ W if need[1] else None
            return (dx, dh) + self._weight_grads(dgh, h)
        dh = None
        if need[1]:
            dh = grad_out * z
            dh += dx[:, :2 * H] @ W[:2 * H]
            dh += drh * r
        dW = db = None
        if need[2]:
            dW = np.concatenate([dx[:, :2 * H].T @ h, dan.T @ rh])
        if len(need) == 3:
            return dx, dh, dW
        if need[3]:
            db = dx.sum(axis=0)
        return dx, dh, dW, db

    def input_jacobian(self):
        r"""∂h_{t+1}/∂x'_t, shape (N, H, 3H): three blocks [D_r, D_z, D_n].

        D_z = diag((h_t − n) z(1−z)),  D_n = diag((1−z)(1−n²)),  and
        D_r = D_n diag((W_hn h_t + b_hn) r(1−r)) (reset_after), or the dense
        D_r = D_n W_hn diag(h_t r(1−r)) (Cho: r acts before W_hn).
        """
        h, W, rz, n, hn, rh = self.saved
        N, H = n.shape
        r, z = rz[:, :H], rz[:, H:]
        dn = self._dn(z, n)
        dr = r * (1 - r)
        J = _diag_blocks([[None, (h - n) * z * (1 - z), dn]], N, H, n.dtype)
        if self.reset_after:
            J[:, :, :H] = _diag_blocks([[dn * hn * dr]], N, H, n.dtype)
        else:
            J[:, :, :H] = dn[:, :, None] * W[None, 2 * H:] * (h * dr)[:, None, :]
        return J

    def state_jacobian(self):
        r"""J_t = ∂h_{t+1}/∂h_t, shape (N, H, H).

        J_t = diag(z) + D_r W_hr + D_z W_hz + D_n diag(r) W_hn (reset_after); for Cho the last
        term is D_n W_hn diag(r) (D: see ``input_jacobian``). diag(z) is the GRU's highway:
        z → 1 copies the state, and J_t → I.
        """
        h, W, rz, n, hn, rh = self.saved
        N, H = n.shape
        r, z = rz[:, :H], rz[:, H:]
        dn = self._dn(z, n)
        dr = r * (1 - r)
        # D_z W_hz (a row scaling: D_z is diagonal)
        J = ((h - n) * z * (1 - z))[:, :, None] * W[None, H:2 * H]
        if self.reset_after:
            J += (dn * hn * dr)[:, :, None] * W[None, :H]  # D_r W_hr
            J += (dn * r)[:, :, None] * W[None, 2 * H:]  # D_n diag(r) W_hn
        else:
            A = dn[:, :, None] * W[None, 2 * H:]  # D_n W_hn
            J += (A * (h * dr)[:, None, :]) @ W[:H]  # D_r W_hr, D_r = D_n W_hn diag(h r(1-r))
            A *= r[:, None, :]  # D_n W_hn diag(r)
            J += A
        k = np.arange(H)
        J[:, k, k] += z
        return J
