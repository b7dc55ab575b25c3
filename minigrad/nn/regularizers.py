r"""Weight regularizers on $W_{hh}$ from the seed texts, and the three ops they need.

Penalties to add to the loss (each returns a scalar Tensor in the graph):

* :func:`frobenius_penalty`: $\lambda_f \|W\|_F^2$ (composed from primitives);
* :func:`spectral_radius_penalty`: $\lambda_s \max(0, \rho(W) - \rho_{\text{target}})^2$;
* :func:`nuclear_norm_penalty`: $\lambda_n \|W\|_* = \lambda_n \sum_i \sigma_i(W)$;
* :func:`spectral_normalize`: $W / \sigma_1(W)$ with $\sigma_1$ from power iteration (so
  $\|J_t\| \le \|W/\sigma_1\| = 1$ for a tanh RNN).

The ops, with their derivatives (all from perturbation theory of the SVD / eigenproblem; they hold
where the quantity is differentiable: a simple top singular value, simple top eigenvalue modulus,
nonzero singular values):

* :class:`SpectralNorm`: $\sigma_1(W)$; $\partial\sigma_1/\partial W = u_1 v_1^\top$.
* :class:`NuclearNorm`: $\|W\|_*$; $\partial\|W\|_*/\partial W = U V^\top$ (thin SVD).
* :class:`SpectralRadius`: $\rho = |\lambda|$; with $W x = \lambda x$, $W^\top w = \lambda w$:
  $\partial\rho/\partial W = \mathrm{Re}(\bar\lambda\, w x^\top / (w^\top x))/|\lambda|$.
"""

from __future__ import annotations

import numpy as np

from minigrad.diagnostics.spectral import power_iteration
from minigrad.ops.base import Op
from minigrad.tensor import Tensor, apply_op, as_tensor


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

    def jacobian(self, i):
        return self.grad_rho.reshape(1, -1).astype(np.float64)


def spectral_norm(W, n_iter: int = 50) -> Tensor:
    r"""$\sigma_1(W)$ as a Tensor in the graph (power iteration, ``n_iter`` steps)."""
    return apply_op(SpectralNorm(n_iter), as_tensor(W))


def nuclear_norm(W) -> Tensor:
    r"""$\|W\|_* = \sum_i\sigma_i(W)$ as a Tensor in the graph."""
    return apply_op(NuclearNorm(), as_tensor(W))


def spectral_radius(W) -> Tensor:
    r"""$\rho(W) = \max_i|\lambda_i(W)|$ as a Tensor in the graph."""
    return apply_op(SpectralRadius(), as_tensor(W))


def frobenius_penalty(W, weight: float = 1.0) -> Tensor:
    r"""$\lambda_f \|W\|_F^2 = \lambda_f \sum_{ij} W_{ij}^2$ (gradient $2\lambda_f W$)."""
    W = as_tensor(W)
    return (W * W).sum() * weight


def spectral_radius_penalty(W, target: float = 1.0, weight: float = 1.0) -> Tensor:
    r"""$\lambda_s \max(0, \rho(W) - \rho_{\text{target}})^2$: zero while $\rho \le$ target."""
    excess = (spectral_radius(W) - target).relu()
    return excess * excess * weight


def nuclear_norm_penalty(W, weight: float = 1.0) -> Tensor:
    r"""$\lambda_n \|W\|_*$: pushes singular values to zero (low rank)."""
    return nuclear_norm(W) * weight


def spectral_normalize(W, n_iter: int = 50) -> Tensor:
    r"""$W / \sigma_1(W)$: the largest singular value becomes 1 (gradients flow through both)."""
    W = as_tensor(W)
    return W / spectral_norm(W, n_iter)
