r"""Fused recurrent steps, RNN and LSTM: one op per time step, with a hand-derived VJP.

Read ``recurrent_base.py`` first (the contract: inputs (xp, s_t, W_hh[, b_hh]), output s_{t+1},
``StepGrads``); the GRU step is in ``gru_step.py``, the layer's variants (reading row t of the
whole projection) in ``recurrent_sequence.py``.

How to read a step: its docstring states the forward equations and derives the gradients;
``forward`` computes the equations in order; ``vjp`` computes the derivation's lines in the
same order, one line of math per line of code (a bar is ∂L/∂, the gradient of the loss);
``jvp`` pushes a tangent (a dot) forward through the same equations; ``input_jacobian`` and
``state_jacobian`` write out ∂s_{t+1}/∂x'_t and J_t = ∂s_{t+1}/∂s_t as (N, ., .) arrays, one
matrix per sample. The tests check every one of them against central differences.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.activations import sigmoid_in_place
from minigrad.ops.gru_step import GRUStep
from minigrad.ops.recurrent_base import RecurrentStep, StepGrads, gate_blocks
from minigrad.ops.step_jacobians import block_diagonal, block_matrix, diag, diag_times, gates_diag_times, plus_diag

__all__ = ["RNNStep", "LSTMStep", "GRUStep", "RecurrentStep", "StepGrads", "block_diagonal"]


class RNNStep(RecurrentStep):
    r"""h_{t+1} = φ(z_{t+1}),  z_{t+1} = x'_t + W_hh h_t + b_hh,  φ = tanh or relu.

    Derivation. With g = ∂L/∂h_{t+1} and δ = g ⊙ φ'(z_{t+1})  (tanh' = 1 − h_{t+1}²; relu' = [z_{t+1} > 0]):
    ∂L/∂x'_t = δ,  ∂L/∂h_t = W_hhᵀ δ,  ∂L/∂W_hh = δ h_tᵀ,  ∂L/∂b_hh = δ (batch rows summed).
    The Jacobian through time: J_t = ∂h_{t+1}/∂h_t = diag(φ'(z_{t+1})) W_hh.
    """

    __slots__ = ("nonlinearity",)

    def __init__(self, nonlinearity: str = "tanh", out: np.ndarray | None = None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(out)
        self.nonlinearity = nonlinearity

    def forward(self, xp, h, W, b=None):
        self._check(xp, h, W, b)
        z = np.add(xp, h @ W.T, out=self._new_state(h))  # z_{t+1} = x'_t + W_hh h_t, where h_{t+1} goes
        if b is not None:
            z += b  # + b_hh
        if self.nonlinearity == "tanh":
            h_next = np.tanh(z, out=z)  # h_{t+1} = tanh(z_{t+1})
            self.save(h, W, h_next, None)  # tanh' = 1 − h_{t+1}², from the output
        else:
            relu_mask = z > 0  # relu' = [z_{t+1} > 0] (0 at the kink, like PyTorch)
            h_next = np.maximum(z, 0, out=z)  # h_{t+1} = max(z_{t+1}, 0)
            self.save(h, W, None, relu_mask)  # relu' needs only the mask
        return h_next

    def derivative(self) -> np.ndarray:
        r"""φ'(z_{t+1}), shape (N, H)."""
        h, W, h_next, relu_mask = self.saved
        if self.nonlinearity == "tanh":
            return 1 - h_next * h_next
        return relu_mask.astype(W.dtype)

    def vjp(self, grad_out):
        h, W, h_next, relu_mask = self.saved
        if self.nonlinearity == "tanh":
            delta = grad_out * (1 - h_next * h_next)  # δ = g ⊙ tanh'(z_{t+1})
        else:
            delta = grad_out * relu_mask  # δ = g ⊙ relu'(z_{t+1})
        need = self.needs_grad
        return StepGrads(
            delta,  # ∂L/∂x'_t = δ
            delta @ W if need[1] else None,  # ∂L/∂h_t = W_hhᵀ δ
            delta.T @ h if need[2] else None,  # ∂L/∂W_hh = δ h_tᵀ
            *self._bias_grad(delta),  # ∂L/∂b_hh = δ
        )

    def jvp(self, *tangents):
        r"""ḣ_{t+1} = φ'(z_{t+1}) ⊙ ż_{t+1},  ż_{t+1} = ẋ'_t + W_hh ḣ_t + Ẇ_hh h_t + ḃ_hh."""
        h, W = self.saved[:2]
        txp, th, tW, tb = self._tangents(tangents, W)
        return self.derivative() * (txp + th @ W.T + h @ tW.T + tb)

    def input_jacobian(self):
        r"""∂h_{t+1}/∂x'_t = diag(φ'(z_{t+1})), shape (N, H, H)."""
        return diag(self.derivative())

    def state_jacobian(self):
        r"""J_t = diag(φ'(z_{t+1})) W_hh, shape (N, H, H)."""
        return diag_times(self.derivative(), self.saved[1])


class LSTMStep(RecurrentStep):
    r"""s_{t+1} = [h_{t+1}; c_{t+1}] with c_{t+1} = f ⊙ c_t + i ⊙ g, h_{t+1} = o ⊙ tanh(c_{t+1}).

    Gates (PyTorch's order i, f, g, o): z_{t+1} = x'_t + W_hh h_t + b_hh split in four blocks
    (a_i, a_f, a_g, a_o), i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o).

    Derivation (a bar is ∂L/∂). Given h̄, c̄ for h_{t+1}, c_{t+1} (the two halves of the
    incoming gradient), with τ = tanh(c_{t+1}), the total gradient reaching c_{t+1} is
    c̄' = c̄ + h̄ ⊙ o ⊙ (1 − τ²), then
    ā_i = c̄' ⊙ g ⊙ i(1−i),  ā_f = c̄' ⊙ c_t ⊙ f(1−f),  ā_g = c̄' ⊙ i ⊙ (1−g²),  ā_o = h̄ ⊙ τ ⊙ o(1−o);
    x̄'_t = ā = [ā_i, ā_f, ā_g, ā_o],  h̄_t = W_hhᵀ ā,  W̄_hh = ā h_tᵀ,  b̄_hh = ā,
    c̄_t = c̄' ⊙ f -- the cell's "gradient highway": no weight matrix, only the forget gate.
    """

    __slots__ = ()

    num_gates = 4
    state_factor = 2

    def forward(self, xp, s, W, b=None):
        H = self._check(xp, s, W, b)
        h, c = s[:, :H], s[:, H:]
        z = self._pre_activation(xp, h, W, b)  # z_{t+1} = x'_t + W_hh h_t + b_hh
        i, f, g, o = gate_blocks(z, 4)  # views of z: each gate is computed in place
        sigmoid_in_place(i)  # i = σ(a_i)
        sigmoid_in_place(f)  # f = σ(a_f)
        np.tanh(g, out=g)  # g = tanh(a_g)
        sigmoid_in_place(o)  # o = σ(a_o)
        s_next = self._new_state(s)
        h_next, c_next = s_next[:, :H], s_next[:, H:]
        np.add(f * c, i * g, out=c_next)  # c_{t+1} = f ⊙ c_t + i ⊙ g
        tau = np.tanh(c_next)  # τ = tanh(c_{t+1})
        np.multiply(o, tau, out=h_next)  # h_{t+1} = o ⊙ τ
        self.save(h, c, W, i, f, g, o, tau)
        return s_next

    def vjp(self, grad_out):
        h, c, W, i, f, g, o, tau = self.saved
        H = W.shape[1]
        h_bar, c_bar = grad_out[:, :H], grad_out[:, H:]  # h̄, c̄: ∂L/∂h_{t+1}, ∂L/∂c_{t+1}
        c_total = c_bar + h_bar * o * (1 - tau * tau)  # c̄' = c̄ + h̄ ⊙ o ⊙ (1 − τ²)
        a_i_bar = c_total * g * i * (1 - i)  # ā_i = c̄' ⊙ g ⊙ i(1−i)
        a_f_bar = c_total * c * f * (1 - f)  # ā_f = c̄' ⊙ c_t ⊙ f(1−f)
        a_g_bar = c_total * i * (1 - g * g)  # ā_g = c̄' ⊙ i ⊙ (1−g²)
        a_o_bar = h_bar * tau * o * (1 - o)  # ā_o = h̄ ⊙ τ ⊙ o(1−o)
        a_bar = np.concatenate([a_i_bar, a_f_bar, a_g_bar, a_o_bar], axis=1)  # x̄'_t = ā
        need = self.needs_grad
        s_bar = None
        if need[1]:
            s_bar = np.concatenate([a_bar @ W, c_total * f], axis=1)  # [h̄_t; c̄_t] = [W_hhᵀ ā; c̄' ⊙ f]
        return StepGrads(
            a_bar,  # x̄'_t = ā
            s_bar,  # s̄_t = [h̄_t; c̄_t]
            a_bar.T @ h if need[2] else None,  # W̄_hh = ā h_tᵀ
            *self._bias_grad(a_bar),  # b̄_hh = ā
        )

    def jvp(self, *tangents):
        r"""ȧ = ẋ'_t + W_hh ḣ_t + Ẇ_hh h_t + ḃ_hh through the gates; ċ_{t+1} = ḟ c_t + f ċ_t + i̇ g + i ġ,
        ḣ_{t+1} = ȯ τ + o (1−τ²) ċ_{t+1}."""
        h, c, W, i, f, g, o, tau = self.saved
        H = W.shape[1]
        txp, ts, tW, tb = self._tangents(tangents, W)
        dot_a = txp + ts[:, :H] @ W.T + h @ tW.T + tb  # ȧ = ż_{t+1}
        da_i, da_f, da_g, da_o = gate_blocks(dot_a, 4)
        dot_i = i * (1 - i) * da_i  # i̇ = σ'(a_i) ȧ_i
        dot_f = f * (1 - f) * da_f  # ḟ = σ'(a_f) ȧ_f
        dot_g = (1 - g * g) * da_g  # ġ = tanh'(a_g) ȧ_g
        dot_o = o * (1 - o) * da_o  # ȯ = σ'(a_o) ȧ_o
        dot_c = dot_f * c + f * ts[:, H:] + dot_i * g + i * dot_g  # ċ_{t+1}
        dot_h = dot_o * tau + o * (1 - tau * tau) * dot_c  # ḣ_{t+1}
        return np.concatenate([dot_h, dot_c], axis=1)

    def _gate_slopes(self) -> tuple[list, list]:
        r"""(∂h_{t+1}/∂a_k, ∂c_{t+1}/∂a_k) for k = i, f, g, o: each a diagonal, given as its (N, H) vector.

        ∂c_{t+1}/∂a_i = g i(1−i),  ∂c_{t+1}/∂a_f = c_t f(1−f),  ∂c_{t+1}/∂a_g = i(1−g²),
        ∂c_{t+1}/∂a_o = 0;  ∂h_{t+1}/∂a_k = o(1−τ²) ∂c_{t+1}/∂a_k for k = i, f, g, and
        ∂h_{t+1}/∂a_o = τ o(1−o).
        """
        h, c, W, i, f, g, o, tau = self.saved
        dc = [g * i * (1 - i), c * f * (1 - f), i * (1 - g * g), np.zeros_like(o)]
        dh_dc = o * (1 - tau * tau)  # ∂h_{t+1}/∂c_{t+1}
        dh = [dh_dc * dc[0], dh_dc * dc[1], dh_dc * dc[2], tau * o * (1 - o)]
        return dh, dc

    def input_jacobian(self):
        r"""∂[h_{t+1}; c_{t+1}]/∂x'_t, shape (N, 2H, 4H): a 2 x 4 grid of diagonal blocks (``_gate_slopes``)."""
        dh, dc = self._gate_slopes()
        return block_matrix([[diag(d) for d in dh], [diag(d) for d in dc]])

    def state_jacobian(self):
        r"""J_t = ∂[h_{t+1}; c_{t+1}]/∂[h_t; c_t], (N, 2H, 2H), the block matrix

            J_t = [ Σ_k diag(∂h_{t+1}/∂a_k) W_k  |  diag(o(1−τ²) f) ]
                  [ Σ_k diag(∂c_{t+1}/∂a_k) W_k  |  diag(f)         ]

        over the gates k = i, f, g, o, W_k the gate's H rows of W_hh. Left column: h_t reaches
        s_{t+1} only through z_{t+1} = x'_t + W_hh h_t + b_hh. Right column: c_t reaches c_{t+1}
        through f alone -- a diagonal, no W_hh to shrink it.
        """
        h, c, W, i, f, g, o, tau = self.saved
        dh, dc = self._gate_slopes()
        N, H = f.shape
        J = np.zeros((N, 2 * H, 2 * H), dtype=f.dtype)
        J[:, :H, :H] = gates_diag_times(dh, W)  # ∂h_{t+1}/∂h_t = Σ_k diag(∂h_{t+1}/∂a_k) W_k
        J[:, H:, :H] = gates_diag_times(dc, W)  # ∂c_{t+1}/∂h_t = Σ_k diag(∂c_{t+1}/∂a_k) W_k
        plus_diag(J[:, :H, H:], o * (1 - tau * tau) * f)  # ∂h_{t+1}/∂c_t = diag(o(1−τ²) f)
        plus_diag(J[:, H:, H:], f)  # ∂c_{t+1}/∂c_t = diag(f)
        return J
