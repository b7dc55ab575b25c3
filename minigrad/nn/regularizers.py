r"""Weight regularizers on $W_{hh}$ that bound or shrink its spectrum, built on three ops.

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

from minigrad.arguments import number_in
from minigrad.ops.spectral import NuclearNorm, SpectralNorm, SpectralRadius
from minigrad.tensor import Tensor, apply_op
from minigrad.tensor_arguments import tensor_like


def spectral_norm(W, n_iter: int = 50) -> Tensor:
    r"""$\sigma_1(W)$ as a Tensor in the graph (power iteration, ``n_iter`` steps)."""
    return apply_op(SpectralNorm(n_iter), tensor_like(W, "W", "spectral_norm"))


def nuclear_norm(W) -> Tensor:
    r"""$\|W\|_* = \sum_i\sigma_i(W)$ as a Tensor in the graph."""
    return apply_op(NuclearNorm(), tensor_like(W, "W", "nuclear_norm"))


def spectral_radius(W) -> Tensor:
    r"""$\rho(W) = \max_i|\lambda_i(W)|$ as a Tensor in the graph."""
    return apply_op(SpectralRadius(), tensor_like(W, "W", "spectral_radius"))


def frobenius_penalty(W, weight: float = 1.0) -> Tensor:
    r"""$\lambda_f \|W\|_F^2 = \lambda_f \sum_{ij} W_{ij}^2$ (gradient $2\lambda_f W$)."""
    W = tensor_like(W, "W", "frobenius_penalty")
    return (W * W).sum() * _strength(weight, "weight", "frobenius_penalty")


def spectral_radius_penalty(W, target: float = 1.0, weight: float = 1.0) -> Tensor:
    r"""$\lambda_s \max(0, \rho(W) - \rho_{\text{target}})^2$: zero while $\rho \le$ target."""
    target = _strength(target, "target", "spectral_radius_penalty")
    weight = _strength(weight, "weight", "spectral_radius_penalty")
    excess = (spectral_radius(W) - target).relu()
    return excess * excess * weight


def nuclear_norm_penalty(W, weight: float = 1.0) -> Tensor:
    r"""$\lambda_n \|W\|_*$: pushes singular values to zero (low rank)."""
    return nuclear_norm(W) * _strength(weight, "weight", "nuclear_norm_penalty")


def spectral_normalize(W, n_iter: int = 50) -> Tensor:
    r"""$W / \sigma_1(W)$: the largest singular value becomes 1 (gradients flow through both)."""
    W = tensor_like(W, "W", "spectral_normalize")
    return W / spectral_norm(W, n_iter)


def _strength(value, name: str, owner: str) -> float:
    """A penalty's weight or target: a finite number >= 0 (a negative weight would reward the norm)."""
    return number_in(value, name, owner, 0, high_open=True)
