r"""Fused steps of the remedy cells in ``minigrad/nn/extra_cells.py``: residual, highway, LayerNorm.

Same contract as ``minigrad/ops/recurrent.py`` (read that first): inputs
``(xp, h_prev, W_hh[, b_hh])`` with the input projection $x'_t = W_{ih} x_t + b_{ih}$ already
made, output $h_t$ (N, H); besides ``vjp`` each op gives ``state_jacobian()``
$J_t = \partial h_{t+1}/\partial h_t$ (N, H, H) and ``input_jacobian()``
$\partial h_{t+1}/\partial x'_t$, so ``minigrad.bptt.unroll`` takes these cells like the others.
(Here the op's own input is called ``h_prev`` and its output ``h_next``: step t maps $h_t$
to $h_{t+1}$.) What each Jacobian shows:

* residual: $J_t = I + \mathrm{diag}(1-u^2) W_{hh}$ -- the product through time is
  $\prod_k (I + D_k W_{hh})$, not a sum, so it can still grow;
* highway: $J_t = \mathrm{diag}(1-\tau) + \mathrm{diag}(\tau(1-\tilde h^2)) W_h
  + \mathrm{diag}((\tilde h - h)\,\tau(1-\tau)) W_\tau$ -- the last term, from the gate's own
  dependence on $h$, is the one that is easy to drop;
* LayerNorm: $J_t = \mathrm{diag}(1-h_{t+1}^2)\,\mathrm{diag}(\gamma)\,N_t\,W_{hh}$ with the
  normalisation's Jacobian $N_t = \frac{1}{\sigma}(I - \frac1H \mathbf 1\mathbf 1^\top
  - \frac1H \hat z \hat z^\top)$, which removes the mean and the radial direction.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.recurrent import RecurrentStep, _diag_blocks, _sigmoid_


def _row_scaled(d: np.ndarray, W: np.ndarray) -> np.ndarray:
    r"""$\mathrm{diag}(d_n) W$ for every sample n: (N, H) and (H, K) -> (N, H, K)."""
    return d[:, :, None] * W[None, :, :]


class ResidualRNNStep(RecurrentStep):
    r"""$h_{t+1} = h_t + u$, $u = \tanh(a)$, $a = x'_t + W_{hh} h_t + b_{hh}$.

    Derivation. With $g = \partial\mathcal{L}/\partial h_{t+1}$ and $\delta = g \odot (1-u^2)$:
    $\bar x'_t = \delta$, $\bar h_t = g + W_{hh}^\top\delta$ (the skip adds $g$ itself),
    $\bar W_{hh} = \delta h_t^\top$, $\bar b_{hh} = \delta$.
    $J_t = I + \mathrm{diag}(1-u^2) W_{hh}$.
    """

    __slots__ = ("u",)

    def forward(self, xp, h, W, b=None):
        self._check(xp, h, W, b)
        self.h, self.W = h, W
        a = xp + h @ W.T
        if b is not None:
            a += b
        self.u = np.tanh(a, out=a)
        return h + self.u

    def vjp(self, grad_out):
        delta = grad_out * (1 - self.u * self.u)
        dh = grad_out + delta @ self.W if self.needs_grad[1] else None
        return (delta, dh) + self._weight_grads(delta, self.h)

    def input_jacobian(self):
        r"""$\partial h_{t+1}/\partial x'_t = \mathrm{diag}(1-u^2)$, (N, H, H)."""
        return _diag_blocks([[1 - self.u * self.u]], *self.u.shape, self.u.dtype)

    def state_jacobian(self):
        r"""$J_t = I + \mathrm{diag}(1-u^2) W_{hh}$: the identity is the skip connection."""
        J = _row_scaled(1 - self.u * self.u, self.W)
        k = np.arange(self.W.shape[1])
        J[:, k, k] += 1
        return J


class HighwayRNNStep(RecurrentStep):
    r"""$h_{t+1} = \tau \odot \tilde h + (1-\tau) \odot h_t$, gates in the order (h, T).

    $a = x'_t + W_{hh} h_t + b_{hh}$ split in two: $\tilde h = \tanh(a_h)$, $\tau = \sigma(a_T)$.

    Derivation. With $g = \partial\mathcal{L}/\partial h_{t+1}$:
    $\bar a_h = g \odot \tau \odot (1-\tilde h^2)$,
    $\bar a_T = g \odot (\tilde h - h_t) \odot \tau(1-\tau)$;
    $\bar x'_t = \bar a$, $\bar h_t = g \odot (1-\tau) + W_{hh}^\top \bar a$,
    $\bar W_{hh} = \bar a\, h_t^\top$, $\bar b_{hh} = \bar a$.
    """

    __slots__ = ("cand", "gate")

    gates = 2

    def forward(self, xp, h, W, b=None):
        H = self._check(xp, h, W, b)
        self.h, self.W = h, W
        a = xp + h @ W.T
        if b is not None:
            a += b
        self.cand = np.tanh(a[:, :H])
        self.gate = _sigmoid_(a[:, H:])
        return h + self.gate * (self.cand - h)  # = tau h~ + (1 - tau) h

    def _gate_derivatives(self) -> tuple[np.ndarray, np.ndarray]:
        r"""$\partial h_{t+1}/\partial a_h = \tau(1-\tilde h^2)$, $\partial h_{t+1}/\partial a_T
        = (\tilde h - h_t)\tau(1-\tau)$, both (N, H)."""
        tau, cand = self.gate, self.cand
        return tau * (1 - cand * cand), (cand - self.h) * tau * (1 - tau)

    def vjp(self, grad_out):
        d_h, d_T = self._gate_derivatives()
        da = np.concatenate([grad_out * d_h, grad_out * d_T], axis=1)
        dh = grad_out * (1 - self.gate) + da @ self.W if self.needs_grad[1] else None
        return (da, dh) + self._weight_grads(da, self.h)

    def input_jacobian(self):
        r"""$\partial h_{t+1}/\partial x'_t = [\mathrm{diag}(\tau(1-\tilde h^2)) \mid
        \mathrm{diag}((\tilde h - h_t)\tau(1-\tau))]$, (N, H, 2H)."""
        d_h, d_T = self._gate_derivatives()
        return _diag_blocks([[d_h, d_T]], *d_h.shape, d_h.dtype)

    def state_jacobian(self):
        r"""$J_t = \mathrm{diag}(1-\tau) + \mathrm{diag}(d_h) W_h + \mathrm{diag}(d_T) W_T$.

        The carry term $\mathrm{diag}(1-\tau)$ is the highway ($\tau \to 0$: $J_t \to I$); the
        $W_T$ term is the gate's own dependence on $h_t$.
        """
        H = self.W.shape[1]
        d_h, d_T = self._gate_derivatives()
        J = _row_scaled(d_h, self.W[:H]) + _row_scaled(d_T, self.W[H:])
        k = np.arange(H)
        J[:, k, k] += 1 - self.gate
        return J


class LayerNormRNNStep(RecurrentStep):
    r"""$h_{t+1} = \tanh(\gamma \odot \hat z + \beta)$, $\hat z = (z - \mu)/\sigma$, $z = x'_t + W_{hh} h_t$.

    Inputs ``(xp, h_prev, W_hh, gamma, beta)``; $\mu$, $\sigma^2$ are the mean and variance of
    the H entries of each sample's $z$, $\sigma = \sqrt{\sigma^2 + \epsilon}$.

    Derivation. With $g = \partial\mathcal{L}/\partial h_{t+1}$: $\bar y = g \odot (1-h_{t+1}^2)$,
    $\bar\gamma = \sum_n \bar y \odot \hat z$, $\bar\beta = \sum_n \bar y$; with
    $e = \bar y \odot \gamma$, $\bar z = \frac1\sigma(e - \mathrm{mean}(e) - \hat z\,
    \mathrm{mean}(e \odot \hat z))$ (LayerNorm's VJP); then $\bar x'_t = \bar z$,
    $\bar h_t = W_{hh}^\top\bar z$, $\bar W_{hh} = \bar z\, h_t^\top$.
    """

    __slots__ = ("eps", "zhat", "sigma", "gamma", "out")

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = float(eps)

    def forward(self, xp, h, W, gamma, beta):
        H = self._check(xp, h, W, None)
        for name, v in (("gamma", gamma), ("beta", beta)):
            if v.shape != (H,):
                raise ValueError(f"LayerNormRNNStep: {name} must have shape ({H},), got {v.shape}")
        self.h, self.W, self.gamma = h, W, gamma
        z = xp + h @ W.T
        z -= z.mean(axis=1, keepdims=True)
        self.sigma = np.sqrt((z * z).mean(axis=1, keepdims=True) + self.eps)
        self.zhat = z / self.sigma
        self.out = np.tanh(self.zhat * gamma + beta)
        return self.out

    def _normalised_grad(self, e: np.ndarray) -> np.ndarray:
        r"""$N_t^\top e$ for each row: $\frac1\sigma(e - \mathrm{mean}(e) - \hat z\,\mathrm{mean}(e\hat z))$."""
        zhat = self.zhat
        centred = e - e.mean(axis=1, keepdims=True)
        return (centred - zhat * (e * zhat).mean(axis=1, keepdims=True)) / self.sigma

    def vjp(self, grad_out):
        dy = grad_out * (1 - self.out * self.out)
        dz = self._normalised_grad(dy * self.gamma)
        need = self.needs_grad
        dh = dz @ self.W if need[1] else None
        dW = dz.T @ self.h if need[2] else None
        dgamma = (dy * self.zhat).sum(axis=0) if need[3] else None
        dbeta = dy.sum(axis=0) if need[4] else None
        return dz, dh, dW, dgamma, dbeta

    def input_jacobian(self):
        r"""$\partial h_{t+1}/\partial x'_t = \mathrm{diag}((1-h_{t+1}^2)\gamma)\, N_t$, (N, H, H)."""
        N, H = self.out.shape
        zhat = self.zhat
        Nt = np.eye(H, dtype=zhat.dtype) - 1.0 / H - zhat[:, :, None] * zhat[:, None, :] / H
        Nt /= self.sigma[:, :, None]
        return ((1 - self.out * self.out) * self.gamma)[:, :, None] * Nt

    def state_jacobian(self):
        r"""$J_t = \mathrm{diag}((1-h_{t+1}^2)\gamma)\, N_t\, W_{hh}$: $z$ reaches $h_{t+1}$ only via $\hat z$."""
        return self.input_jacobian() @ self.W
