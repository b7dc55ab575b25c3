r"""Ops on a matrix's spectrum: σ₁(W), the nuclear norm ‖W‖_*, the spectral radius ρ(W).

The spectral regularizers (``minigrad/nn/regularizers.py``) are built on them. Their derivatives
come from perturbation theory of the SVD / eigenproblem and hold where the quantity is
differentiable: a simple top singular value, a simple top eigenvalue modulus, nonzero singular
values.

* :class:`SpectralNorm`: σ₁(W);  ∂σ₁/∂W = u₁ v₁ᵀ.
* :class:`NuclearNorm`: ‖W‖_* = Σ σ_i;  ∂‖W‖_*/∂W = U Vᵀ (thin SVD).
* :class:`SpectralRadius`: ρ = |λ|; with W x = λ x and Wᵀ w = λ w:  ∂ρ/∂W = Re(λ̄ w xᵀ / (wᵀ x)) / |λ|.
"""

from __future__ import annotations

import numpy as np

from minigrad.diagnostics.spectral import power_iteration
from minigrad.ops.base import Op


def _square(W: np.ndarray, name: str) -> None:
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name}: W must be a square matrix, got shape {W.shape}")


class SpectralNorm(Op):
    r"""$y = \sigma_1(W)$ by power iteration;  $\partial y/\partial W = u_1 v_1^\top$.

    ``u`` is the starting vector; after ``forward`` it holds the converged $u_1$, so passing it
    to the next call (as spectral normalization does during training) needs very few iterations.
    """

    __slots__ = ("n_iter", "u", "v", "dtype")

    def __init__(self, n_iter: int = 50, u: np.ndarray | None = None) -> None:
        self.n_iter, self.u = n_iter, u

    def forward(self, W):
        if W.ndim != 2:
            raise ValueError(f"SpectralNorm: W must be 2-D, got shape {W.shape}")
        sigma, self.u, self.v = power_iteration(W, self.n_iter, u=self.u)
        self.dtype = W.dtype
        return np.asarray(sigma, dtype=W.dtype)

    def vjp(self, grad_out):
        return ((grad_out * np.outer(self.u, self.v)).astype(self.dtype),)

    def jvp(self, t):
        """ẏ = ⟨u_1 v_1ᵀ, Ẇ⟩ = u_1ᵀ Ẇ v_1."""
        return np.asarray(self.u @ t @ self.v, dtype=self.dtype)

    def jacobian(self, i):
        return np.outer(self.u, self.v).reshape(1, -1)


class NuclearNorm(Op):
    r"""$y = \|W\|_* = \sum_i \sigma_i(W)$;  $\partial y/\partial W = U V^\top$."""

    __slots__ = ("uv",)

    def forward(self, W):
        if W.ndim != 2:
            raise ValueError(f"NuclearNorm: W must be 2-D, got shape {W.shape}")
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        self.uv = (U @ Vt).astype(W.dtype)
        return np.asarray(s.sum(), dtype=W.dtype)

    def vjp(self, grad_out):
        return (grad_out * self.uv,)

    def jvp(self, t):
        """ẏ = ⟨U Vᵀ, Ẇ⟩."""
        return np.sum(self.uv * t)

    def jacobian(self, i):
        return self.uv.reshape(1, -1).astype(np.float64)


class SpectralRadius(Op):
    r"""$\rho(W) = |\lambda_{\max}|$; $\nabla\rho = \mathrm{Re}(\bar\lambda G)/|\lambda|$.

    $G = w x^\top / (w^\top x) = \partial\lambda/\partial W$, with $x$ the right eigenvector
    ($W x = \lambda x$) and $w$ the left one as a column ($W^\top w = \lambda w$). A complex pair
    $\lambda, \bar\lambda$ gives the same $\rho$ and the same gradient. At a defective
    eigenvalue ($w^\top x = 0$) $\rho$ is not differentiable: the gradient is NaN.
    """

    __slots__ = ("grad_rho",)

    def forward(self, W):
        _square(W, "SpectralRadius")
        lam, X = np.linalg.eig(W)
        k = int(np.argmax(np.abs(lam)))
        lamT, Y = np.linalg.eig(W.T)
        j = int(np.argmin(np.abs(lamT - lam[k])))
        x, w = X[:, k], Y[:, j]
        rho = np.abs(lam[k])
        wx = w @ x
        if abs(wx) <= 1e-12 * np.linalg.norm(w) * np.linalg.norm(x):
            # w ⟂ x: a defective (Jordan-block) eigenvalue, where rho is not differentiable
            self.grad_rho = np.full(W.shape, np.nan, dtype=W.dtype)
        elif rho == 0:
            self.grad_rho = np.zeros(W.shape, dtype=W.dtype)
        else:
            dlam = np.outer(w, x) / wx
            self.grad_rho = (np.real(np.conj(lam[k]) * dlam) / rho).astype(W.dtype)
        return np.asarray(rho, dtype=W.dtype)

    def vjp(self, grad_out):
        return (grad_out * self.grad_rho,)

    def jvp(self, t):
        """ρ̇ = ⟨∇ρ, Ẇ⟩."""
        return np.sum(self.grad_rho * t)

    def jacobian(self, i):
        return self.grad_rho.reshape(1, -1).astype(np.float64)
