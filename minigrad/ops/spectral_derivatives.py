r"""The spectral ops' derivatives as ops of their own, so that they can be differentiated again.

A spectral op's VJP is $g\,D(W)$ with $D = \partial y/\partial W$ a matrix function of $W$:
$u_1v_1^\top$ for $\sigma_1$, $UV^\top$ for $\|W\|_*$, $\nabla\rho$ for $\rho$. In create-graph mode
(``recorded_vjp`` in ``ops/spectral.py``) the op records ``g * D(W)`` with ``D`` one of the ops
below, whose own VJP is the closed-form derivative of the singular or eigen-vectors (perturbation
theory), not an unrolled power iteration. Each $D$ is the gradient of a scalar, so its Jacobian is a
Hessian: symmetric, and ``vjp`` and ``jvp`` are the same linear map. Where the second derivative
does not exist, the op refuses with a ValueError instead of returning a number:

* :class:`TopSingularOuter`, $u_1v_1^\top$: $\sigma_1 > \sigma_2$ (a simple top singular value), $\sigma_1 > 0$;
* :class:`PolarFactor`, $UV^\top$: full rank, $\sigma_{\min} > 0$ (ties are fine: only $\sigma_i + \sigma_j$ divides);
* :class:`RadiusGradient`, $\nabla\rho$: $\lambda_1 \ne 0$ simple, every other eigenvalue but $\bar\lambda_1$
  smaller in modulus.

These ops have no recorded VJP themselves: a third derivative raises NotImplementedError.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op

#: A relative gap below this is a tie at float64's precision: the decomposition's own error
#: (about 1e-16 σ₁) divided by the gap would already cost half the digits of the derivative.
TIE = 1e-8


def top_eigen(W: np.ndarray) -> tuple:
    r"""The eigenvalues ``lam``, the index ``k`` of $\lambda_1$ (largest modulus), its right
    eigenvector $x$ ($Wx = \lambda_1 x$) and its left one $w$ as a column ($W^\top w = \lambda_1 w$)."""
    lam, X = np.linalg.eig(W)
    k = int(np.argmax(np.abs(lam)))
    lamT, Y = np.linalg.eig(W.T)
    j = int(np.argmin(np.abs(lamT - lam[k])))  # the same eigenvalue, found again for Wᵀ
    return lam, k, X[:, k], Y[:, j]


def _top_resolvent(U: np.ndarray, s: np.ndarray) -> np.ndarray:
    r"""$K = \sum_{j\ge2} u_j u_j^\top/(\sigma_1^2-\sigma_j^2) + (I - UU^\top)/\sigma_1^2$.

    $(\sigma_1^2 I - WW^\top)^{-1}$ on the directions orthogonal to $u_1$ ($U$ from the thin SVD;
    the last term covers the directions where $WW^\top$ has eigenvalue 0). The same with $V$ for $W^\top W$.
    """
    rest = U[:, 1:]
    return (rest / (s[0] ** 2 - s[1:] ** 2)) @ rest.T + (np.eye(len(U)) - U @ U.T) / s[0] ** 2


class TopSingularOuter(Op):
    r"""$D(W) = u_1 v_1^\top = \partial\sigma_1/\partial W$ (the derivative of ``SpectralNorm``).

    $u_1, v_1$ are the top eigenvectors of $WW^\top$ and $W^\top W$ ($Wv_1 = \sigma_1 u_1$,
    $W^\top u_1 = \sigma_1 v_1$), so with $K_u, K_v$ from :func:`_top_resolvent`:

    $\dot u_1 = K_u(\sigma_1 \dot W v_1 + W \dot W^\top u_1)$,
    $\dot v_1 = K_v(\sigma_1 \dot W^\top u_1 + W^\top \dot W v_1)$,
    $\dot D = \dot u_1 v_1^\top + u_1 \dot v_1^\top$. Its adjoint, with $a = K_u \bar D v_1$, $b = K_v \bar D^\top u_1$:
    $\bar W = \sigma_1(a v_1^\top + u_1 b^\top) + u_1 (W^\top a)^\top + (W b) v_1^\top$.
    Needs $\sigma_1 > \sigma_2$: the terms $1/(\sigma_1^2 - \sigma_j^2)$.
    """

    __slots__ = ()

    def forward(self, W):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        second = s[1] if s.size > 1 else 0.0
        if s.size == 0 or s[0] - second <= TIE * s[0]:
            raise ValueError(
                "differentiating SpectralNorm twice needs a simple top singular value sigma_1 > sigma_2 "
                f"(and sigma_1 > 0), got singular values {s[:2].tolist()}"
            )
        self.save(W, U[:, 0], Vt[0], s[0], _top_resolvent(U, s), _top_resolvent(Vt.T, s))
        return np.outer(U[:, 0], Vt[0]).astype(W.dtype, copy=False)

    def vjp(self, grad_out):
        W, u, v, sigma, Ku, Kv = self.saved
        a = Ku @ (grad_out @ v)  # a = K_u D̄ v₁
        b = Kv @ (grad_out.T @ u)  # b = K_v D̄ᵀ u₁
        return (sigma * (np.outer(a, v) + np.outer(u, b)) + np.outer(u, W.T @ a) + np.outer(W @ b, v),)

    def jvp(self, t):
        W, u, v, sigma, Ku, Kv = self.saved
        du = Ku @ (sigma * (t @ v) + W @ (t.T @ u))  # u̇₁ = K_u(σ₁ Ẇ v₁ + W Ẇᵀ u₁)
        dv = Kv @ (sigma * (t.T @ u) + W.T @ (t @ v))  # v̇₁ = K_v(σ₁ Ẇᵀ u₁ + Wᵀ Ẇ v₁)
        return np.outer(du, v) + np.outer(u, dv)


class PolarFactor(Op):
    r"""$D(W) = UV^\top = \partial\|W\|_*/\partial W$ (the derivative of ``NuclearNorm``; thin SVD).

    With $P = U^\top \dot W V$ and $C_{ij} = 1/(\sigma_i + \sigma_j)$ (from the SVD's
    $1/(\sigma_j^2 - \sigma_i^2)$ terms, whose differences cancel):

    $\dot D = U[(P - P^\top)\odot C]V^\top + (I - UU^\top)\dot W V S^{-1} V^\top$
    $\qquad + U S^{-1} U^\top \dot W (I - VV^\top)$.
    The map is self-adjoint, so the VJP is the same formula applied to $\bar D$.
    Needs full rank, $\sigma_{\min} > 0$: at a rank drop $\|W\|_*$ has a kink.
    """

    __slots__ = ()

    def forward(self, W):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        if s.size and s[-1] <= TIE * s[0]:
            raise ValueError(
                "differentiating NuclearNorm twice needs W of full rank (smallest singular value > 0), "
                f"got singular values {s.tolist()}"
            )
        self.save(U, s, Vt.T)
        return (U @ Vt).astype(W.dtype, copy=False)

    def vjp(self, grad_out):
        return (self._derivative(grad_out),)

    def jvp(self, t):
        return self._derivative(t)

    def _derivative(self, t):
        """Ḋ for a direction t: the Jacobian is symmetric, so this is both the JVP and the VJP."""
        U, s, V = self.saved
        P = U.T @ t @ V  # P = Uᵀ Ẇ V
        C = 1.0 / (s[:, None] + s[None, :])  # C_ij = 1/(σ_i + σ_j)
        inside = U @ ((P - P.T) * C) @ V.T  # U [(P − Pᵀ) ⊙ C] Vᵀ: rotation within the singular vectors
        left = (t - U @ (U.T @ t)) @ (V / s) @ V.T  # (I − UUᵀ) Ẇ V S⁻¹ Vᵀ: 0 unless m > n
        right = (U / s) @ U.T @ (t - (t @ V) @ V.T)  # U S⁻¹ Uᵀ Ẇ (I − VVᵀ): 0 unless m < n
        return inside + left + right


class RadiusGradient(Op):
    r"""$D(W) = \nabla\rho = \mathrm{Re}(\bar\lambda_1 G)/\rho$, $G = \partial\lambda_1/\partial W = P^\top$.

    $P = x w^\top/(w^\top x)$ is the spectral projector of $\lambda_1$ and $S$ its reduced resolvent,
    $\sum_{j\ne1} P_j/(\lambda_j - \lambda_1) = (W - \lambda_1 I + P)^{-1} - P$ (no full eigenbasis needed). Then

    $\dot\lambda_1 = \langle G, \dot W\rangle$, $\dot\rho = \mathrm{Re}(\bar\lambda_1\dot\lambda_1)/\rho$,
    $\dot P = -(P\dot W S + S\dot W P)$ (Kato),
    $\dot D = \mathrm{Re}(\bar{\dot\lambda}_1 G + \bar\lambda_1 \dot P^\top)/\rho - D\dot\rho/\rho$.
    Its adjoint, with $\beta = \langle\bar D, G\rangle$, $h = \langle\bar D, D\rangle$:
    $\bar W = \mathrm{Re}(\bar\beta G - \bar\lambda_1 (S\bar D P + P\bar D S)^\top)/\rho - h D/\rho$.
    Needs $\lambda_1 \ne 0$ simple, and every eigenvalue but $\lambda_1, \bar\lambda_1$ of modulus $< \rho$.
    """

    __slots__ = ()

    def forward(self, W):
        lam, k, x, w = top_eigen(W)
        rho = np.abs(lam[k])
        others = np.delete(np.abs(lam), [k, int(np.argmin(np.abs(lam - np.conj(lam[k]))))]
                           if abs(lam[k].imag) > TIE * rho else [k])  # fmt: skip
        wx = w @ x
        if rho == 0 or np.any(others >= (1 - TIE) * rho) or abs(wx) <= TIE * np.linalg.norm(w) * np.linalg.norm(x):
            raise ValueError(
                "differentiating SpectralRadius twice needs a simple top eigenvalue lambda_1 != 0 with "
                f"every other eigenvalue (but its conjugate) smaller in modulus, got eigenvalues {lam.tolist()}"
            )
        P = np.outer(x, w) / wx  # spectral projector: P x = x, P² = P
        S = np.linalg.inv(W - lam[k] * np.eye(len(W)) + P) - P  # reduced resolvent Σ_{j≠1} P_j/(λ_j − λ₁)
        D = np.real(np.conj(lam[k]) * P.T) / rho  # ∇ρ = Re(λ̄₁ G)/ρ
        self.save(P, S, lam[k], rho, D)
        return D.astype(W.dtype, copy=False)

    def vjp(self, grad_out):
        P, S, lam1, rho, D = self.saved
        beta = np.sum(P.T * grad_out)  # β = ⟨D̄, G⟩
        h = np.sum(D * grad_out)  # h = ⟨D̄, D⟩
        moved = (S @ grad_out @ P + P @ grad_out @ S).T  # the adjoint of Ẇ ↦ Ṗᵀ, up to its sign
        return (np.real(np.conj(beta) * P.T - np.conj(lam1) * moved) / rho - h * D / rho,)

    def jvp(self, t):
        P, S, lam1, rho, D = self.saved
        lam_dot = np.sum(P.T * t)  # λ̇₁ = ⟨G, Ẇ⟩
        rho_dot = np.real(np.conj(lam1) * lam_dot) / rho  # ρ̇ = Re(λ̄₁ λ̇₁)/ρ
        P_dot = -(P @ t @ S + S @ t @ P)  # Ṗ = −(P Ẇ S + S Ẇ P)
        return np.real(np.conj(lam_dot) * P.T + np.conj(lam1) * P_dot.T) / rho - D * rho_dot / rho
