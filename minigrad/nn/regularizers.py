r"""Weight regularizers on $W_{hh}$ from the seed texts, built on three ops.

Penalties to add to the loss (each returns a scalar Tensor in the graph):

* :func:`frobenius_penalty`: $\lambda_f \|W\|_F^2$ (composed from primitives);
* :func:`spectral_radius_penalty`: $\lambda_s \max(0, \rho(W) - \rho_{\text{target}})^2$;
* :func:`nuclear_norm_penalty`: $\lambda_n \|W\|_* = \lambda_n \sum_i \sigma_i(W)$;
* :func:`spectral_normalize`: $W / \sigma_1(W)$ with $\sigma_1$ from power iteration (so
  $\|J_t\| \le \|W/\sigma_1\| = 1$ for a tanh RNN).

The three ops they need (σ₁, ‖W‖_*, ρ) live with the other ops, in ``minigrad/ops/spectral.py``,
so the op test factory checks their gradients like every other op's.
"""

from __future__ import annotations

from minigrad.ops.spectral import NuclearNorm, SpectralNorm, SpectralRadius
from minigrad.tensor import Tensor, apply_op, as_tensor


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
