r"""Fused recurrent steps: one op per time step of an RNN, LSTM or GRU, with a hand-derived VJP.

Every step maps the previous state $s_{t-1}$ to the next, $s_t$, given the *input projection*
$x'_t = W_{ih} x_t + b_{ih}$ (computed for all time steps in one matmul by the layer):

    inputs  (xp, s_prev, W_hh[, b_hh])     xp: (N, G*H)   s_prev: (N, S)   W_hh: (G*H, H)
    output  s_next                          (N, S)

RNN and GRU: $s = h$ ($S = H$). LSTM: $s = [h; c]$ concatenated on the last axis ($S = 2H$),
so that one state vector carries everything the next step needs and the seed texts'
$\partial s_{t+1}/\partial s_t$ is a single square matrix.

Two forward options a sequence layer uses (a cell leaves them off): ``out`` -- an (N, S)
array to write $s_t$ into (a row of one (T, N, S) buffer, so the T outputs need no copy);
``gates`` (LSTM, GRU) -- an (N, G*H) array to compute the gates in: the layer passes row t of
the projection itself, which nothing reads again, so the gates of all T steps (what backward
needs) take no memory beyond the projection's (cuDNN's "reserve space" does the same).
``minigrad/ops/recurrent_sequence.py`` has the layer's variants of these ops (they read row t
of the whole projection) and ``StepOutputs``.

Besides ``vjp`` (what backward runs), each op gives the two Jacobians BPTT is made of, per sample:
``state_jacobian()`` $J_t = \partial s_t/\partial s_{t-1}$, shape (N, S, S), and
``input_jacobian()`` $\partial s_t/\partial x'_t$, shape (N, S, G*H)
(so $\partial s_t/\partial x_t$ = ``input_jacobian() @ W_ih``).

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

    ``out``: None, or an (N, S) array to write $s_t$ into. ``gates``: None, or an (N, G*H)
    array to compute the gate activations in (see the module docstring).
    """

    __slots__ = ("h", "W", "dest", "work")

    gates = 1  # G: how many H-sized blocks the projections have
    state_factor = 1  # S = state_factor * H

    def __init__(self, out: np.ndarray | None = None, gates: np.ndarray | None = None):
        self.dest, self.work = out, gates

    def _new_state(self, like: np.ndarray) -> np.ndarray:
        """Where $s_t$ goes: the layer's buffer row ``out`` if given, else a new array."""
        if self.dest is None:
            return np.empty_like(like)
        if self.dest.shape != like.shape or self.dest.dtype != like.dtype:
            raise ValueError(f"out must have shape {like.shape} and dtype {like.dtype}, got "
                             f"{self.dest.shape} {self.dest.dtype}")  # fmt: skip
        return self.dest

    def _gate_rows(self, xp: np.ndarray) -> np.ndarray | None:
        """The ``gates`` array (checked against this step's projection ``xp``), or None."""
        work = self.work
        if work is not None and (work.shape != xp.shape or work.dtype != xp.dtype):
            raise ValueError(f"gates must have shape {xp.shape} and dtype {xp.dtype}, got "
                             f"{work.shape} {work.dtype}")  # fmt: skip
        return work

    def _check(self, xp, s_prev, W, b):
        G, S = self.gates, self.state_factor
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
    r"""$h_t = \phi(z_t)$, $z_t = x'_t + W_{hh} h_{t-1} + b_{hh}$, $\phi$ = tanh or relu.

    Derivation. With $g = \partial\mathcal{L}/\partial h_t$ and $\delta = g \odot \phi'(z_t)$
    ($\tanh' = 1 - h_t^2$; relu' $= [z_t > 0]$):
    $\partial\mathcal{L}/\partial x'_t = \delta$,
    $\partial\mathcal{L}/\partial h_{t-1} = W_{hh}^\top\delta$,
    $\partial\mathcal{L}/\partial W_{hh} = \delta\, h_{t-1}^\top$,
    $\partial\mathcal{L}/\partial b_{hh} = \delta$ (batch rows summed). The seeds' Jacobian:
    $J_t = \partial h_t/\partial h_{t-1} = \mathrm{diag}(\phi'(z_t))\, W_{hh}$.
    """

    __slots__ = ("nonlinearity", "out", "dphi")

    def __init__(self, nonlinearity: str = "tanh", out: np.ndarray | None = None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(out)
        self.nonlinearity = nonlinearity
        self.dphi = None

    def forward(self, xp, h, W, b=None):
        self._check(xp, h, W, b)
        self.h, self.W = h, W
        z = np.add(xp, h @ W.T, out=self._new_state(h))  # ``out`` may be xp's own memory
        if b is not None:
            z += b
        if self.nonlinearity == "tanh":
            self.out = np.tanh(z, out=z)
        else:
            self.dphi = z > 0  # relu' (0 at the kink, like PyTorch)
            self.out = np.maximum(z, 0, out=z)
        return self.out

    def derivative(self) -> np.ndarray:
        r"""$\phi'(z_t)$, shape (N, H)."""
        if self.nonlinearity == "tanh":
            return 1 - self.out * self.out
        return self.dphi.astype(self.out.dtype)

    def vjp(self, grad_out):
        if self.nonlinearity == "tanh":
            delta = self.out * self.out
            np.subtract(1, delta, out=delta)
            delta *= grad_out
        else:
            delta = grad_out * self.dphi
        dh = delta @ self.W if self.needs_grad[1] else None
        return (delta, dh) + self._weight_grads(delta, self.h)

    def input_jacobian(self):
        r"""$\partial h_t/\partial x'_t = \mathrm{diag}(\phi'(z_t))$, shape (N, H, H)."""
        return _diag_blocks([[self.derivative()]], *self.out.shape, self.out.dtype)

    def state_jacobian(self):
        r"""$J_t = \mathrm{diag}(\phi'(z_t))\, W_{hh}$: row $k$ of $W_{hh}$ times $\phi'_k$."""
        return self.derivative()[:, :, None] * self.W[None, :, :]


class LSTMStep(RecurrentStep):
    r"""$s_t = [h_t; c_t]$ with $c_t = f \odot c_{t-1} + i \odot g$, $h_t = o \odot \tanh(c_t)$.

    Gates (PyTorch's order i, f, g, o): $a = x'_t + W_{hh} h_{t-1} + b_{hh}$ split in four,
    $i = \sigma(a_i)$, $f = \sigma(a_f)$, $g = \tanh(a_g)$, $o = \sigma(a_o)$.

    Derivation (a bar is $\partial\mathcal{L}/\partial$). Given $\bar h$, $\bar c$ for $h_t$, $c_t$
    (the two halves of the incoming gradient), with $\tau = \tanh(c_t)$, the total
    gradient reaching $c_t$ is $\bar c_t = \bar c + \bar h \odot o \odot (1 - \tau^2)$, then
    $\bar a_i = \bar c_t \odot g \odot i(1-i)$, $\bar a_f = \bar c_t \odot c_{t-1} \odot f(1-f)$,
    $\bar a_g = \bar c_t \odot i \odot (1-g^2)$, $\bar a_o = \bar h \odot \tau \odot o(1-o)$;
    $\bar x'_t = \bar a$, $\bar h_{t-1} = W_{hh}^\top \bar a$, $\bar W_{hh} = \bar a h_{t-1}^\top$,
    $\bar c_{t-1} = \bar c_t \odot f$ -- the cell's "gradient highway":
    no weight matrix, only the forget gate.
    """

    __slots__ = ("acts", "tc", "c")

    gates = 4
    state_factor = 2

    def forward(self, xp, s, W, b=None):
        H = self._check(xp, s, W, b)
        h, c = s[:, :H], s[:, H:]
        self.h, self.c, self.W = h, c, W
        a = self._gate_rows(xp)
        if a is None:
            a = h @ W.T
            a += xp
        else:  # in place when ``gates`` is this step's row of the projection
            np.add(xp, h @ W.T, out=a)
        if b is not None:
            a += b
        _sigmoid_(a[:, :2 * H])  # i, f
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])  # g
        _sigmoid_(a[:, 3 * H:])  # o
        self.acts = a
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        out = self._new_state(s)
        c_new = out[:, H:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        self.tc = np.tanh(c_new)
        np.multiply(o, self.tc, out=out[:, :H])
        return out

    def _gates(self):
        H = self.W.shape[1]
        a = self.acts
        return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]

    def vjp(self, grad_out):
        H = self.W.shape[1]
        i, f, g, o = self._gates()
        tc = self.tc
        gh, gc = grad_out[:, :H], grad_out[:, H:]
        dc = tc * tc
        np.subtract(1, dc, out=dc)
        dc *= o
        dc *= gh
        dc += gc  # total gradient reaching c_t
        da = np.empty_like(self.acts)
        np.multiply(dc, g, out=da[:, :H])
        da[:, :H] *= i * (1 - i)
        np.multiply(dc, self.c, out=da[:, H:2 * H])
        da[:, H:2 * H] *= f * (1 - f)
        np.multiply(dc, i, out=da[:, 2 * H:3 * H])
        da[:, 2 * H:3 * H] *= 1 - g * g
        np.multiply(gh, tc, out=da[:, 3 * H:])
        da[:, 3 * H:] *= o * (1 - o)
        ds = None
        if self.needs_grad[1]:
            ds = np.empty_like(grad_out)
            np.matmul(da, self.W, out=ds[:, :H])
            np.multiply(dc, f, out=ds[:, H:])
        return (da, ds) + self._weight_grads(da, self.h)

    def input_jacobian(self):
        r"""$\partial [h_t; c_t] / \partial a$, shape (N, 2H, 4H): diagonal blocks.

        $\partial c_t/\partial a_i = \mathrm{diag}(g\, i(1-i))$,
        $\partial c_t/\partial a_f = \mathrm{diag}(c_{t-1} f(1-f))$,
        $\partial c_t/\partial a_g = \mathrm{diag}(i(1-g^2))$, $\partial c_t/\partial a_o = 0$;
        $\partial h_t/\partial a_k = \mathrm{diag}(o(1-\tau^2)) \partial c_t/\partial a_k$,
        for k = i, f, g, and $\partial h_t/\partial a_o = \mathrm{diag}(\tau\, o(1-o))$.
        """
        i, f, g, o = self._gates()
        tc = self.tc
        dc = [g * i * (1 - i), self.c * f * (1 - f), i * (1 - g * g)]
        k = o * (1 - tc * tc)
        dh = [k * d for d in dc] + [tc * o * (1 - o)]
        return _diag_blocks([dh, dc + [None]], *tc.shape, tc.dtype)

    def state_jacobian(self):
        r"""$J_t = \partial [h_t; c_t]/\partial [h_{t-1}; c_{t-1}]$, (N, 2H, 2H), the block matrix

        $$J_t = \left(\frac{\partial s_t}{\partial a} W_{hh} \;\middle|\;
              \begin{matrix}\mathrm{diag}(o(1-\tau^2) f) \\ \mathrm{diag}(f)\end{matrix}\right)$$

        Left: $h_{t-1}$ reaches $s_t$ only through $a = x'_t + W_{hh} h_{t-1} + b_{hh}$.
        Right: $c_{t-1}$ reaches $c_t$ through $f$ alone -- a diagonal, no $W_{hh}$ to shrink it.
        $\partial s_t/\partial a$ is made of diagonal blocks $\mathrm{diag}(d_k)$ (``input_jacobian``),
        so row $u$ of the left column is $\sum_k d_k[u]\, W_k[u, :]$ over the gates' row blocks
        $W_k$ of $W_{hh}$: for each unit $u$ an (N x 4) @ (4 x H) product, batched over $u$ --
        never the dense (2H x 4H) @ (4H x H) one (70x the work).
        """
        i, f, g, o = self._gates()
        N, H = f.shape
        tc = self.tc
        k = o * (1 - tc * tc)  # dh_t/dc_t
        # D[r, u, n, j] = d(block r: h, c; unit u)/d a_j[u] of sample n, for gates j = i, f, g, o
        D = np.zeros((2, H, N, 4), dtype=f.dtype)
        D[1, :, :, 0] = (g * i * (1 - i)).T
        D[1, :, :, 1] = (self.c * f * (1 - f)).T
        D[1, :, :, 2] = (i * (1 - g * g)).T  # dc_t/da_o = 0
        np.multiply(D[1, :, :, :3], k.T[:, :, None], out=D[0, :, :, :3])
        D[0, :, :, 3] = (tc * o * (1 - o)).T
        left = D @ self.W.reshape(4, H, H).transpose(1, 0, 2)  # (2, H, N, H)
        J = np.empty((N, 2 * H, 2 * H), dtype=f.dtype)
        J.reshape(N, 2, H, 2 * H)[:, :, :, :H] = left.transpose(2, 0, 1, 3)
        J[:, :, H:] = 0
        u = np.arange(H)
        J[:, u, H + u] = k * f
        J[:, H + u, H + u] = f
        return J


class GRUStep(RecurrentStep):
    r"""$h_t = (1-z) \odot n + z \odot h_{t-1}$, gates in PyTorch's order r, z, n.

    $r = \sigma(x'_r + W_{hr} h_{t-1} + b_{hr})$, $z = \sigma(x'_z + W_{hz} h_{t-1} + b_{hz})$, and

    * ``reset_after=True`` (PyTorch, cuDNN):  $n = \tanh(x'_n + r \odot (W_{hn} h_{t-1} + b_{hn}))$
    * ``reset_after=False`` (Cho et al. 2014): $n = \tanh(x'_n + W_{hn} (r \odot h_{t-1}) + b_{hn})$

    The same parameters fit both; only where $r$ is applied differs.

    Derivation (a bar is $\partial\mathcal{L}/\partial$). With $g = \bar h_t$:
    $\bar n = g \odot (1-z)$, $\bar z = g \odot (h_{t-1} - n)$, $\bar a_n = \bar n \odot (1-n^2)$,
    $\bar a_z = \bar z \odot z(1-z)$, $\bar a_r = \bar r \odot r(1-r)$ where
    $\bar r = \bar a_n \odot (W_{hn}h_{t-1} + b_{hn})$ (reset_after)
    or $\bar r = (W_{hn}^\top \bar a_n) \odot h_{t-1}$ (Cho);
    $\bar x'_t = [\bar a_r, \bar a_z, \bar a_n]$,
    $\bar h_{t-1} = g \odot z + W_{hr}^\top \bar a_r + W_{hz}^\top \bar a_z + {}$
    $W_{hn}^\top(r \odot \bar a_n)$ (reset_after) or $r \odot (W_{hn}^\top \bar a_n)$ (Cho).
    """

    __slots__ = ("reset_after", "rz", "n", "hn", "rh")

    gates = 3

    def __init__(self, reset_after: bool = True, out: np.ndarray | None = None,
                 gates: np.ndarray | None = None):  # fmt: skip
        super().__init__(out, gates)
        self.reset_after = bool(reset_after)

    def forward(self, xp, h, W, b=None):
        H = self._check(xp, h, W, b)
        self.h, self.W = h, W
        work = self._gate_rows(xp)  # where r, z and n go (None: new arrays)
        if self.reset_after:
            gh = h @ W.T  # (N, 3H): W_hr h, W_hz h, W_hn h
            if b is not None:
                gh += b
            rz_h, hn = gh[:, :2 * H], gh[:, 2 * H:]
            self.hn = hn if work is None else hn.copy()  # copy: the rest of gh is not kept
        else:
            rz_h = h @ W[:2 * H].T
            if b is not None:
                rz_h += b[:2 * H]
        rz = rz_h if work is None else work[:, :2 * H]
        np.add(rz_h, xp[:, :2 * H], out=rz)
        self.rz = _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        if self.reset_after:
            n_h = r * self.hn
        else:
            self.rh = r * h
            n_h = self.rh @ W[2 * H:].T
            if b is not None:
                n_h += b[2 * H:]
        n = n_h if work is None else work[:, 2 * H:]
        np.add(n_h, xp[:, 2 * H:], out=n)
        self.n = np.tanh(n, out=n)
        out = np.subtract(h, n, out=self._new_state(h))  # h_t = n + z (h_{t-1} - n)
        out *= z
        out += n
        return out

    def _dn(self, z):
        r"""$\partial h_t/\partial a_n = (1-z)(1-n^2)$."""
        return (1 - z) * (1 - self.n * self.n)

    def vjp(self, grad_out):
        H = self.W.shape[1]
        h, n, W = self.h, self.n, self.W
        r, z = self.rz[:, :H], self.rz[:, H:]
        dx = np.empty_like(self.rz, shape=(h.shape[0], 3 * H))
        dan = dx[:, 2 * H:]
        np.multiply(grad_out, self._dn(z), out=dan)
        if self.reset_after:
            dr = dan * self.hn
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
            dW = np.concatenate([dx[:, :2 * H].T @ h, dan.T @ self.rh])
        if len(need) == 3:
            return dx, dh, dW
        if need[3]:
            db = dx.sum(axis=0)
        return dx, dh, dW, db

    def input_jacobian(self):
        r"""$\partial h_t/\partial x'_t$, shape (N, H, 3H): three blocks $[D_r, D_z, D_n]$.

        $D_z = \mathrm{diag}((h_{t-1}-n) z(1-z))$, $D_n = \mathrm{diag}((1-z)(1-n^2))$, and
        $D_r = D_n\,\mathrm{diag}((W_{hn}h_{t-1}+b_{hn})\, r(1-r))$ (reset_after), or the dense
        $D_r = D_n W_{hn}\, \mathrm{diag}(h_{t-1} r(1-r))$ (Cho: r acts before $W_{hn}$).
        """
        N, H = self.n.shape
        r, z = self.rz[:, :H], self.rz[:, H:]
        dn = self._dn(z)
        dr = r * (1 - r)
        J = _diag_blocks([[None, (self.h - self.n) * z * (1 - z), dn]], N, H, self.n.dtype)
        if self.reset_after:
            J[:, :, :H] = _diag_blocks([[dn * self.hn * dr]], N, H, self.n.dtype)
        else:
            J[:, :, :H] = dn[:, :, None] * self.W[None, 2 * H:] * (self.h * dr)[:, None, :]
        return J

    def state_jacobian(self):
        r"""$J_t = \partial h_t/\partial h_{t-1}$, shape (N, H, H).

        $J_t = \mathrm{diag}(z) + D_r W_{hr} + D_z W_{hz} + D_n \mathrm{diag}(r) W_{hn}$
        (reset_after); for Cho the last term is $D_n W_{hn} \mathrm{diag}(r)$ ($D$: see
        ``input_jacobian``). $\mathrm{diag}(z)$ is the GRU's highway: $z \to 1$ copies the
        state, and $J_t \to I$.
        """
        N, H = self.n.shape
        r, z = self.rz[:, :H], self.rz[:, H:]
        W = self.W
        dn = self._dn(z)
        dr = r * (1 - r)
        # D_z W_hz (a row scaling: D_z is diagonal)
        J = ((self.h - self.n) * z * (1 - z))[:, :, None] * W[None, H:2 * H]
        if self.reset_after:
            J += (dn * self.hn * dr)[:, :, None] * W[None, :H]  # D_r W_hr
            J += (dn * r)[:, :, None] * W[None, 2 * H:]  # D_n diag(r) W_hn
        else:
            A = dn[:, :, None] * W[None, 2 * H:]  # D_n W_hn
            J += (A * (self.h * dr)[:, None, :]) @ W[:H]  # D_r W_hr, D_r = D_n W_hn diag(h r(1-r))
            A *= r[:, None, :]  # D_n W_hn diag(r)
            J += A
        k = np.arange(H)
        J[:, k, k] += z
        return J

