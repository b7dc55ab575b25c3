r"""Ops on a matrix's spectrum: σ₁(W), the nuclear norm ‖W‖_*, the spectral radius ρ(W).

The spectral regularizers (``minigrad/nn/regularizers.py``) are built on them. Their derivatives
come from perturbation theory of the SVD / eigenproblem and hold where the quantity is
differentiable: a simple top singular value, a simple top eigenvalue modulus, nonzero singular
values.

* :class:`SpectralNorm`: σ₁(W);  ∂σ₁/∂W = u₁ v₁ᵀ.
* :class:`NuclearNorm`: ‖W‖_* = Σ σ_i;  ∂‖W‖_*/∂W = U Vᵀ (thin SVD).
* :class:`SpectralRadius`: ρ = |λ|; with W x = λ x and Wᵀ w = λ w:  ∂ρ/∂W = Re(λ̄ w xᵀ / (wᵀ x)) / |λ|.

Differentiated twice (``create_graph=True``), each records ``g * D(W)`` with its derivative ``D`` an
op of ``W`` (``ops/spectral_derivatives.py``), whose VJP is the closed-form second derivative.
"""

from __future__ import annotations

import numpy as np

from minigrad.diagnostics.spectral import power_iteration
from minigrad.ops.base import Op
from minigrad.ops.spectral_derivatives import PolarFactor, RadiusGradient, TopSingularOuter, top_eigen
from minigrad.tensor import apply_op


def _square(W: np.ndarray, name: str) -> None:
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.size == 0:
        raise ValueError(f"{name}: W must be a non-empty square matrix, got shape {W.shape}")


def _finite(W: np.ndarray) -> None:
    """The spectrum of a matrix with inf or NaN is undefined (np.linalg refuses it): say so, at once."""
    if not np.isfinite(W).all():
        raise ValueError("W must be finite, got a matrix containing inf or NaN")


class _ScalarOfMatrix(Op):
    r"""A number $y = f(W)$ whose gradient $D = \partial y/\partial W$ ``forward`` saves.

    Every derivative below reads $D$: the VJP is $g D$, the JVP $\langle D, \dot W\rangle$, the
    Jacobian $D$ as one row. Differentiated twice, $D$ is recomputed as an op of $W$ (``derivative``,
    from ``ops/spectral_derivatives.py``) whose own VJP is $f$'s Hessian.
    """

    __slots__ = ()
    derivative: type[Op]  # the op D(W), for create_graph

    def vjp(self, grad_out):
        (D,) = self.saved
        return (grad_out * D,)

    def recorded_vjp(self, grad_out, xp):
        r"""$g\,D(W)$, with $D$ an op of $W$, so that it can be differentiated again."""
        return (grad_out * apply_op(self.derivative(), self.inputs[0]),)

    def jvp(self, t):
        r"""$\dot y = \langle D, \dot W\rangle$."""
        (D,) = self.saved
        return np.asarray(np.sum(D * t), dtype=D.dtype)

    def jacobian(self, i):
        (D,) = self.saved
        return D.reshape(1, -1).astype(np.float64)


class SpectralNorm(_ScalarOfMatrix):
    r"""$y = \sigma_1(W)$ by power iteration;  $\partial y/\partial W = u_1 v_1^\top$.

    ``u`` is the starting vector; after ``forward`` it holds the converged $u_1$, so passing it
    to the next call (as spectral normalization does during training) needs very few iterations.
    Differentiated twice, $u_1v_1^\top$ is recomputed by an exact SVD: the same as the saved one once
    the power iteration has converged (to $(\sigma_2/\sigma_1)^{2k}$ after $k$ iterations).
    """

    __slots__ = ("n_iter", "u")
    derivative = TopSingularOuter

    def __init__(self, n_iter: int = 50, u: np.ndarray | None = None) -> None:
        self.n_iter, self.u = n_iter, u

    def forward(self, W):
        if W.ndim != 2:
            raise ValueError(f"SpectralNorm: W must be 2-D, got shape {W.shape}")
        _finite(W)
        sigma, u, v = power_iteration(W, self.n_iter, u=self.u)
        self.u = u  # the warm start for the next call
        self.save(np.outer(u, v).astype(W.dtype))  # ∂σ₁/∂W = u₁ v₁ᵀ
        return np.asarray(sigma, dtype=W.dtype)


class NuclearNorm(_ScalarOfMatrix):
    r"""$y = \|W\|_* = \sum_i \sigma_i(W)$;  $\partial y/\partial W = U V^\top$."""

    __slots__ = ()
    derivative = PolarFactor

    def forward(self, W):
        if W.ndim != 2:
            raise ValueError(f"NuclearNorm: W must be 2-D, got shape {W.shape}")
        _finite(W)
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        self.save((U @ Vt).astype(W.dtype))  # ∂‖W‖_*/∂W = U Vᵀ
        return np.asarray(s.sum(), dtype=W.dtype)


class SpectralRadius(_ScalarOfMatrix):
    r"""$\rho(W) = |\lambda_{\max}|$; $\nabla\rho = \mathrm{Re}(\bar\lambda G)/|\lambda|$.

    $G = w x^\top / (w^\top x) = \partial\lambda/\partial W$, with $x$ the right eigenvector
    ($W x = \lambda x$) and $w$ the left one as a column ($W^\top w = \lambda w$). A complex pair
    $\lambda, \bar\lambda$ gives the same $\rho$ and the same gradient. At a defective
    eigenvalue ($w^\top x = 0$) $\rho$ is not differentiable: the gradient is NaN.
    """

    __slots__ = ()
    derivative = RadiusGradient

    def forward(self, W):
        _square(W, "SpectralRadius")
        _finite(W)
        lam, k, x, w = top_eigen(W)
        rho = np.abs(lam[k])
        wx = w @ x
        if abs(wx) <= 1e-12 * np.linalg.norm(w) * np.linalg.norm(x):
            # w ⟂ x: a defective (Jordan-block) eigenvalue, where rho is not differentiable
            grad_rho = np.full(W.shape, np.nan, dtype=W.dtype)
        elif rho == 0:
            grad_rho = np.zeros(W.shape, dtype=W.dtype)
        else:
            dlam = np.outer(w, x) / wx
            grad_rho = (np.real(np.conj(lam[k]) * dlam) / rho).astype(W.dtype)
        self.save(grad_rho)
        return np.asarray(rho, dtype=W.dtype)

