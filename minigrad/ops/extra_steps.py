r"""Fused steps of the remedy cells in ``minigrad/nn/extra_cells.py``: residual, highway, LayerNorm.

Same contract as the RNN, LSTM and GRU steps (``minigrad/ops/recurrent_base.py``; read
``minigrad/ops/recurrent.py`` first): inputs
``(xp, h_t, W_hh[, b_hh])`` with the input projection x'_t = W_ih x_t + b_ih already made,
output h_{t+1} (N, H); besides ``vjp`` each op gives ``state_jacobian()``
J_t = ∂h_{t+1}/∂h_t (N, H, H) and ``input_jacobian()`` ∂h_{t+1}/∂x'_t, so
``minigrad.bptt.unroll`` takes these cells like the others. What each Jacobian shows:

* residual: J_t = I + diag(1 − u²) W_hh. Through time the product is ∏_k (I + D_k W_hh),
  not a sum, so it can grow.
* highway: J_t = diag(1 − τ) + diag(τ(1 − h̃²)) W_h + diag((h̃ − h_t) τ(1 − τ)) W_τ. The last
  term, from the gate's own dependence on h_t, is the one that is easy to drop.
* LayerNorm: J_t = diag((1 − h_{t+1}²) γ) N_t W_hh with the normalisation's Jacobian
  N_t = (I − 11ᵀ/H − ẑẑᵀ/H)/σ, which removes the mean and the radial direction.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.activations import sigmoid_in_place
from minigrad.ops.recurrent_base import RecurrentStep, StepGrads
from minigrad.ops.step_jacobians import block_matrix, diag, diag_times, gates_diag_times, plus_diag


class ResidualRNNStep(RecurrentStep):
    r"""h_{t+1} = h_t + u,  u = tanh(a),  a = x'_t + W_hh h_t + b_hh.

    Derivation. With g = ∂L/∂h_{t+1} and δ = g ⊙ (1 − u²):
    ∂L/∂x'_t = δ,  ∂L/∂h_t = g + W_hhᵀ δ (the skip passes g on unchanged),
    ∂L/∂W_hh = δ h_tᵀ,  ∂L/∂b_hh = δ.  J_t = I + diag(1 − u²) W_hh.
    """

    __slots__ = ()

    def forward(self, xp, h, W, b=None):
        self._check(xp, h, W, b)
        a = xp + h @ W.T
        if b is not None:
            a += b
        u = np.tanh(a, out=a)
        self.save(h, W, u)
        return h + u

    def vjp(self, grad_out):
        h, W, u = self.saved
        delta = grad_out * (1 - u * u)  # δ = g ⊙ (1 − u²)
        need = self.needs_grad
        return StepGrads(
            delta,  # ∂L/∂x'_t = δ
            grad_out + delta @ W if need[1] else None,  # ∂L/∂h_t = g + W_hhᵀ δ
            delta.T @ h if need[2] else None,  # ∂L/∂W_hh = δ h_tᵀ
            *self._bias_grad(delta),  # ∂L/∂b_hh = δ
        )

    def jvp(self, *tangents):
        r"""ḣ_{t+1} = ḣ_t + (1 − u²) ⊙ ȧ,  ȧ = ẋ'_t + W_hh ḣ_t + Ẇ_hh h_t + ḃ_hh."""
        h, W, u = self.saved
        txp, th, tW, tb = self._tangents(tangents, W)
        return th + (1 - u * u) * (txp + th @ W.T + h @ tW.T + tb)

    def input_jacobian(self):
        """∂h_{t+1}/∂x'_t = diag(1 − u²), (N, H, H)."""
        u = self.saved[2]
        return diag(1 - u * u)

    def state_jacobian(self):
        """J_t = I + diag(1 − u²) W_hh: the identity is the skip connection."""
        _, W, u = self.saved
        return plus_diag(diag_times(1 - u * u, W), np.ones_like(u))


class HighwayRNNStep(RecurrentStep):
    r"""h_{t+1} = τ ⊙ h̃ + (1 − τ) ⊙ h_t, with the two gate blocks in the order (h, T).

    a = x'_t + W_hh h_t + b_hh split in two: h̃ = tanh(a_h), τ = σ(a_T).

    Derivation. With g = ∂L/∂h_{t+1}:  ∂L/∂a_h = g ⊙ τ(1 − h̃²),
    ∂L/∂a_T = g ⊙ (h̃ − h_t) τ(1 − τ);  ∂L/∂x'_t = ∂L/∂a,
    ∂L/∂h_t = g ⊙ (1 − τ) + W_hhᵀ ∂L/∂a,  ∂L/∂W_hh = (∂L/∂a) h_tᵀ,  ∂L/∂b_hh = ∂L/∂a.
    """

    __slots__ = ()

    num_gates = 2

    def forward(self, xp, h, W, b=None):
        H = self._check(xp, h, W, b)
        a = xp + h @ W.T
        if b is not None:
            a += b
        cand = np.tanh(a[:, :H])
        tau = sigmoid_in_place(a[:, H:])
        self.save(h, W, cand, tau)
        return h + tau * (cand - h)  # = τ h̃ + (1 − τ) h

    def _gate_derivatives(self) -> tuple[np.ndarray, np.ndarray]:
        """∂h_{t+1}/∂a_h = τ(1 − h̃²) and ∂h_{t+1}/∂a_T = (h̃ − h_t) τ(1 − τ), both (N, H)."""
        h, _, cand, tau = self.saved
        return tau * (1 - cand * cand), (cand - h) * tau * (1 - tau)

    def vjp(self, grad_out):
        h, W, _, tau = self.saved
        d_h, d_T = self._gate_derivatives()
        da = np.concatenate([grad_out * d_h, grad_out * d_T], axis=1)  # ∂L/∂a = [g ⊙ d_h, g ⊙ d_T]
        need = self.needs_grad
        return StepGrads(
            da,  # ∂L/∂x'_t = ∂L/∂a
            grad_out * (1 - tau) + da @ W if need[1] else None,  # ∂L/∂h_t = g ⊙ (1 − τ) + W_hhᵀ ∂L/∂a
            da.T @ h if need[2] else None,  # ∂L/∂W_hh = (∂L/∂a) h_tᵀ
            *self._bias_grad(da),  # ∂L/∂b_hh = ∂L/∂a
        )

    def jvp(self, *tangents):
        r"""ḣ_{t+1} = d_h ⊙ ȧ_h + d_T ⊙ ȧ_T + (1 − τ) ⊙ ḣ_t,  ȧ = ẋ'_t + W_hh ḣ_t + Ẇ_hh h_t + ḃ_hh."""
        h, W, _, tau = self.saved
        H = W.shape[1]
        txp, th, tW, tb = self._tangents(tangents, W)
        da = txp + th @ W.T + h @ tW.T + tb
        d_h, d_T = self._gate_derivatives()
        return d_h * da[:, :H] + d_T * da[:, H:] + (1 - tau) * th

    def input_jacobian(self):
        """∂h_{t+1}/∂x'_t = [diag(τ(1 − h̃²)) | diag((h̃ − h_t) τ(1 − τ))], (N, H, 2H)."""
        d_h, d_T = self._gate_derivatives()
        return block_matrix([[diag(d_h), diag(d_T)]])

    def state_jacobian(self):
        """J_t = diag(1 − τ) + diag(d_h) W_h + diag(d_T) W_T.

        The carry term diag(1 − τ) is the highway (τ → 0: J_t → I); the W_T term is the
        gate's own dependence on h_t.
        """
        _, W, _, tau = self.saved
        d_h, d_T = self._gate_derivatives()
        return plus_diag(gates_diag_times([d_h, d_T], W), 1 - tau)


class LayerNormRNNStep(RecurrentStep):
    r"""h_{t+1} = tanh(γ ⊙ ẑ + β),  ẑ = (z − μ)/σ,  z = x'_t + W_hh h_t.

    Inputs ``(xp, h_t, W_hh, gamma, beta)``; μ and σ² are the mean and variance of the H
    entries of each sample's z, σ = √(σ² + ε).

    Derivation. With g = ∂L/∂h_{t+1}:  ȳ = g ⊙ (1 − h_{t+1}²),  ∂L/∂γ = Σ_n ȳ ⊙ ẑ,
    ∂L/∂β = Σ_n ȳ;  with e = ȳ ⊙ γ, LayerNorm's VJP  z̄ = (e − mean(e) − ẑ mean(e ⊙ ẑ))/σ;
    then ∂L/∂x'_t = z̄,  ∂L/∂h_t = W_hhᵀ z̄,  ∂L/∂W_hh = z̄ h_tᵀ.
    """

    __slots__ = ("eps",)

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = float(eps)

    def forward(self, xp, h, W, gamma, beta):
        H = self._check(xp, h, W, None)
        for name, v in (("gamma", gamma), ("beta", beta)):
            if v.shape != (H,):
                raise ValueError(f"LayerNormRNNStep: {name} must have shape ({H},), got {v.shape}")
        z = xp + h @ W.T
        z -= z.mean(axis=1, keepdims=True)
        sigma = np.sqrt((z * z).mean(axis=1, keepdims=True) + self.eps)
        zhat = z / sigma
        h_next = np.tanh(zhat * gamma + beta)
        self.save(h, W, gamma, zhat, sigma, h_next)
        return h_next

    def _normalised_grad(self, e: np.ndarray) -> np.ndarray:
        """N_tᵀ e per row: (e − mean(e) − ẑ mean(e ⊙ ẑ))/σ."""
        zhat, sigma = self.saved[3], self.saved[4]
        centred = e - e.mean(axis=1, keepdims=True)
        return (centred - zhat * (e * zhat).mean(axis=1, keepdims=True)) / sigma

    def vjp(self, grad_out):
        h, W, gamma, zhat, _, h_next = self.saved
        dy = grad_out * (1 - h_next * h_next)
        dz = self._normalised_grad(dy * gamma)
        need = self.needs_grad
        return StepGrads(
            dz,  # ∂L/∂x'_t = z̄
            dz @ W if need[1] else None,  # ∂L/∂h_t = W_hhᵀ z̄
            dz.T @ h if need[2] else None,  # ∂L/∂W_hh = z̄ h_tᵀ
            (dy * zhat).sum(axis=0) if need[3] else None,  # ∂L/∂γ = Σ_n ȳ ⊙ ẑ
            dy.sum(axis=0) if need[4] else None,  # ∂L/∂β = Σ_n ȳ
        )

    def jvp(self, *tangents):
        r"""ż = ẋ'_t + W_hh ḣ_t + Ẇ_hh h_t;  ẑ̇ = N_t ż;  ḣ_{t+1} = (1 − h_{t+1}²) ⊙ (γ ⊙ ẑ̇ + γ̇ ⊙ ẑ + β̇)."""
        h, W, gamma, zhat, sigma, h_next = self.saved
        zeros = [np.zeros(s, dtype=W.dtype) for s in self.in_shapes]
        txp, th, tW, tg, tbeta = [z if t is None else t for t, z in zip(tangents, zeros, strict=True)]
        dz = txp + th @ W.T + h @ tW.T
        centred = dz - dz.mean(axis=1, keepdims=True)
        dzhat = (centred - zhat * (centred * zhat).mean(axis=1, keepdims=True)) / sigma  # N_t ż
        return (1 - h_next * h_next) * (gamma * dzhat + tg * zhat + tbeta)

    def input_jacobian(self):
        """∂h_{t+1}/∂x'_t = diag((1 − h_{t+1}²) γ) N_t, (N, H, H)."""
        _, _, gamma, zhat, sigma, h_next = self.saved
        H = zhat.shape[1]
        Nt = np.eye(H, dtype=zhat.dtype) - 1.0 / H - zhat[:, :, None] * zhat[:, None, :] / H
        Nt /= sigma[:, :, None]
        return ((1 - h_next * h_next) * gamma)[:, :, None] * Nt

    def state_jacobian(self):
        """J_t = diag((1 − h_{t+1}²) γ) N_t W_hh: z reaches h_{t+1} only through ẑ."""
        return self.input_jacobian() @ self.saved[1]
