r"""The fused GRU step, both forms (PyTorch's reset-after and Cho et al.'s), with a hand-derived VJP.

Same contract as the RNN and LSTM steps (``recurrent_base.py``; how to read a step:
``recurrent.py``'s docstring).
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.activations import sigmoid_in_place
from minigrad.ops.recurrent_base import RecurrentStep, StepGrads, gate_blocks
from minigrad.ops.step_jacobians import block_matrix, diag, diag_times, gates_diag_times, plus_diag


class GRUStep(RecurrentStep):
    r"""h_{t+1} = (1−z) ⊙ n + z ⊙ h_t, gates in PyTorch's order r, z, n.

    r = σ(a_r),  a_r = x'_r + W_hr h_t + b_hr;  z = σ(a_z),  a_z = x'_z + W_hz h_t + b_hz;  n = tanh(a_n):

    * ``reset_after=True`` (PyTorch, cuDNN):  a_n = x'_n + r ⊙ (W_hn h_t + b_hn)
    * ``reset_after=False`` (Cho et al. 2014): a_n = x'_n + W_hn (r ⊙ h_t) + b_hn

    The same parameters fit both; only where r is applied differs.

    Derivation (a bar is ∂L/∂). With g = h̄_{t+1}:
    n̄ = g ⊙ (1−z),  z̄ = g ⊙ (h_t − n),  ā_n = n̄ ⊙ (1−n²),
    r̄ = ā_n ⊙ (W_hn h_t + b_hn) (reset_after) or r̄ = (W_hnᵀ ā_n) ⊙ h_t (Cho),
    ā_r = r̄ ⊙ r(1−r),  ā_z = z̄ ⊙ z(1−z);  x̄'_t = [ā_r, ā_z, ā_n];
    reset_after: with ū = [ā_r, ā_z, r ⊙ ā_n] (what reaches W_hh h_t + b_hh),
    h̄_t = g ⊙ z + W_hhᵀ ū,  W̄_hh = ū h_tᵀ,  b̄_hh = ū;
    Cho: h̄_t = g ⊙ z + W_hrᵀ ā_r + W_hzᵀ ā_z + r ⊙ (W_hnᵀ ā_n),
    W̄_hh = [ā_r h_tᵀ; ā_z h_tᵀ; ā_n (r ⊙ h_t)ᵀ],  b̄_hh = x̄'_t.
    """

    __slots__ = ("reset_after",)

    num_gates = 3

    def __init__(self, reset_after: bool = True, out: np.ndarray | None = None,
                 gate_buffer: np.ndarray | None = None):  # fmt: skip
        super().__init__(out, gate_buffer)
        self.reset_after = bool(reset_after)

    def forward(self, xp, h, W, b=None):
        H = self._check(xp, h, W, b)
        if b is None:
            b = np.zeros(3 * H, dtype=W.dtype)  # no bias: b_hh = 0
        W_rz, W_n = W[:2 * H], W[2 * H:]
        mem = self._gate_memory(xp)  # where r, z and n go (None: new arrays)
        rz_mem, n_mem = (None, None) if mem is None else (mem[:, :2 * H], mem[:, 2 * H:])
        rz = np.add(xp[:, :2 * H], h @ W_rz.T + b[:2 * H], out=rz_mem)  # [a_r, a_z]
        sigmoid_in_place(rz)  # r = σ(a_r), z = σ(a_z)
        r, z = rz[:, :H], rz[:, H:]
        hn = rh = None
        if self.reset_after:
            hn = h @ W_n.T + b[2 * H:]  # W_hn h_t + b_hn
            a_n = xp[:, 2 * H:] + r * hn  # a_n = x'_n + r ⊙ (W_hn h_t + b_hn)
        else:
            rh = r * h  # r ⊙ h_t
            a_n = xp[:, 2 * H:] + rh @ W_n.T + b[2 * H:]  # a_n = x'_n + W_hn (r ⊙ h_t) + b_hn
        n = np.tanh(a_n, out=a_n if n_mem is None else n_mem)  # n = tanh(a_n)
        h_next = np.add(n, z * (h - n), out=self._new_state(h))  # h_{t+1} = (1−z) ⊙ n + z ⊙ h_t
        self.save(h, W, r, z, n, hn, rh)
        return h_next

    def reset_gate(self) -> np.ndarray:
        """r, the reset gate forward computed, (N, H) (RTRL reads it)."""
        return self.saved[2]

    def vjp(self, grad_out):
        h, W, r, z, n, hn, rh = self.saved
        H = W.shape[1]
        W_rz, W_n = W[:2 * H], W[2 * H:]
        n_bar = grad_out * (1 - z)  # n̄ = g ⊙ (1−z)
        z_bar = grad_out * (h - n)  # z̄ = g ⊙ (h_t − n)
        an_bar = n_bar * (1 - n * n)  # ā_n = n̄ ⊙ (1−n²)
        if self.reset_after:
            r_bar = an_bar * hn  # r̄ = ā_n ⊙ (W_hn h_t + b_hn)
        else:
            rh_bar = an_bar @ W_n  # W_hnᵀ ā_n: what reaches r ⊙ h_t
            r_bar = rh_bar * h  # r̄ = (W_hnᵀ ā_n) ⊙ h_t
        ar_bar = r_bar * r * (1 - r)  # ā_r = r̄ ⊙ r(1−r)
        az_bar = z_bar * z * (1 - z)  # ā_z = z̄ ⊙ z(1−z)
        xp_bar = np.concatenate([ar_bar, az_bar, an_bar], axis=1)  # x̄'_t = [ā_r, ā_z, ā_n]
        need = self.needs_grad
        if self.reset_after:
            u_bar = np.concatenate([ar_bar, az_bar, r * an_bar], axis=1)  # ū = [ā_r, ā_z, r ⊙ ā_n]
            h_bar = grad_out * z + u_bar @ W if need[1] else None  # h̄_t = g ⊙ z + W_hhᵀ ū
            W_bar = u_bar.T @ h if need[2] else None  # W̄_hh = ū h_tᵀ
            return StepGrads(xp_bar, h_bar, W_bar, *self._bias_grad(u_bar))  # b̄_hh = ū
        h_bar = None
        if need[1]:
            # h̄_t = g ⊙ z + W_hrᵀ ā_r + W_hzᵀ ā_z + r ⊙ (W_hnᵀ ā_n)
            h_bar = grad_out * z + xp_bar[:, :2 * H] @ W_rz + r * rh_bar
        W_bar = None
        if need[2]:
            W_bar = np.concatenate([xp_bar[:, :2 * H].T @ h, an_bar.T @ rh])  # [ā_r h_tᵀ; ā_z h_tᵀ; ā_n (r ⊙ h_t)ᵀ]
        return StepGrads(xp_bar, h_bar, W_bar, *self._bias_grad(xp_bar))  # b̄_hh = x̄'_t

    def jvp(self, *tangents):
        r"""ṙ, ż from their pre-activations, ṅ = (1−n²) ȧ_n, then ḣ_{t+1} = (1−z) ṅ + ż (h_t − n) + z ḣ_t.

        ȧ_n = ẋ'_n + ṙ ⊙ (W_hn h_t + b_hn) + r ⊙ (Ẇ_hn h_t + W_hn ḣ_t + ḃ_hn) (reset_after), or
        ȧ_n = ẋ'_n + W_hn (ṙ ⊙ h_t + r ⊙ ḣ_t) + Ẇ_hn (r ⊙ h_t) + ḃ_hn (Cho).
        """
        h, W, r, z, n, hn, rh = self.saved
        H = W.shape[1]
        txp, th, tW, tb = self._tangents(tangents, W)
        x_r, x_z, x_n = gate_blocks(txp, 3)
        dot_u = th @ W.T + h @ tW.T + tb  # (W_hh h_t + b_hh)˙, all three blocks
        u_r, u_z, u_n = gate_blocks(dot_u, 3)
        dot_r = r * (1 - r) * (x_r + u_r)  # ṙ = σ'(a_r) ȧ_r
        dot_z = z * (1 - z) * (x_z + u_z)  # ż = σ'(a_z) ȧ_z
        if self.reset_after:
            dot_an = x_n + dot_r * hn + r * u_n
        else:
            dot_an = x_n + (dot_r * h + r * th) @ W[2 * H:].T + rh @ tW[2 * H:].T + tb[2 * H:]
        dot_n = (1 - n * n) * dot_an  # ṅ = (1−n²) ȧ_n
        return (1 - z) * dot_n + dot_z * (h - n) + z * th

    def _slopes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""The diagonals d_r, d_z, d_n (each (N, H)) of the GRU's Jacobian pieces.

        D_z = ∂h_{t+1}/∂a_z = diag(d_z), d_z = (h_t − n) z(1−z);  D_n = ∂h_{t+1}/∂a_n = diag(d_n),
        d_n = (1−z)(1−n²);  d_r = r(1−r), the slope of r = σ(a_r).
        """
        h, W, r, z, n, hn, rh = self.saved
        return r * (1 - r), (h - n) * z * (1 - z), (1 - z) * (1 - n * n)

    def input_jacobian(self):
        r"""∂h_{t+1}/∂x'_t, shape (N, H, 3H): three blocks [D_r, D_z, D_n].

        D_z = diag(d_z),  D_n = diag(d_n),  and D_r = diag(d_n ⊙ (W_hn h_t + b_hn) ⊙ d_r)
        (reset_after), or the dense D_r = D_n W_hn diag(h_t ⊙ d_r) (Cho: r acts before W_hn).
        """
        h, W, r, z, n, hn, rh = self.saved
        H = W.shape[1]
        d_r, d_z, d_n = self._slopes()
        if self.reset_after:
            D_r = diag(d_n * hn * d_r)
        else:
            D_r = diag_times(d_n, W[2 * H:]) * (h * d_r)[:, None, :]
        return block_matrix([[D_r, diag(d_z), diag(d_n)]])

    def state_jacobian(self):
        r"""J_t = ∂h_{t+1}/∂h_t, shape (N, H, H).

        J_t = diag(z) + D_r W_hr + D_z W_hz + D_n diag(r) W_hn (reset_after); for Cho the last
        term is D_n W_hn diag(r) (D_r, D_z, D_n: see ``input_jacobian``). diag(z) is the GRU's
        highway: z → 1 copies the state, and J_t → I.
        """
        h, W, r, z, n, hn, rh = self.saved
        H = W.shape[1]
        W_r, W_z, W_n = W[:H], W[H:2 * H], W[2 * H:]
        d_r, d_z, d_n = self._slopes()
        if self.reset_after:
            D_r_diagonal = d_n * hn * d_r  # D_r = diag(d_n ⊙ (W_hn h_t + b_hn) ⊙ d_r)
            J = gates_diag_times([D_r_diagonal, d_z, d_n * r], W)  # D_r W_hr + D_z W_hz + D_n diag(r) W_hn
        else:
            D_r = diag_times(d_n, W_n) * (h * d_r)[:, None, :]  # D_n W_hn diag(h_t ⊙ d_r)
            J = D_r @ W_r + diag_times(d_z, W_z) + diag_times(d_n, W_n) * r[:, None, :]  # ... + D_n W_hn diag(r)
        return plus_diag(J, z)  # + diag(z)
