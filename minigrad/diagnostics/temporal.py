r"""Temporal and statistical gradient measures: how the gradient decays with distance in time, and how it is spread.

* :func:`temporal_gradient_profile`:
  $\gamma_\tau = \mathbb{E}\,\|\partial\mathcal{L}_T/\partial h_{T-\tau}\|$
  and $\mathrm{EGF}(\tau) = \gamma_\tau/\gamma_0$. Plot $\log\gamma_\tau$ against $\tau$: a
  straight line of slope $\log\rho$ is exponential vanishing ($\rho<1$) or explosion ($\rho>1$).
* :func:`gradient_entropy`: $H = -\sum_i p_i\log p_i$ with $p_i = |\nabla_i|/\sum_j|\nabla_j|$;
  high when the gradient is spread over many coordinates, 0 when it sits on one.
* :func:`gradient_snr`: $\mathrm{SNR} = \|\mathbb{E}[g]\|^2 / \mathrm{Var}[g]$ across mini-batches;
  below about 1 the mini-batch noise is larger than the signal it averages to.

The adjoints $\partial\mathcal{L}/\partial h_t$ come from :meth:`minigrad.bptt.Trajectory.backprop`
(``.adjoints``), or from ``retain_grad()`` on the states of an autograd run.
"""

from __future__ import annotations

import numpy as np

from minigrad.arguments import flag, integer
from minigrad.diagnostics.spectral import _real_array


def _array(x, name: str) -> np.ndarray:
    return _real_array(x, name).astype(np.float64, copy=False)


def temporal_gradient_profile(adjoints) -> tuple[np.ndarray, np.ndarray]:
    r"""$\gamma_\tau$ and $\mathrm{EGF}(\tau)$ from $\partial\mathcal{L}_T/\partial h_t$.

    ``adjoints``: shape ``(T+1, N, S)`` (batch; $\mathbb{E}$ is the mean over the N samples
    of the per-sample norm) or ``(T+1, S)``, or an object with ``.adjoints`` (a BPTT result).
    Index $\tau$ of the result is lag $\tau$: ``gamma[tau]`` $= \gamma_\tau$ measures
    $h_{T-\tau}$, so ``gamma[0]`` is the last state. ``EGF`` divides by $\gamma_0$ (``nan`` if
    $\gamma_0 = 0$). For a linear RNN $h_{t+1} = \rho Q h_t$ with orthogonal $Q$,
    $\gamma_\tau = \gamma_0 \rho^\tau$ exactly.
    """
    a = _array(getattr(adjoints, "adjoints", adjoints), "adjoints")
    if a.ndim == 2:
        a = a[:, None, :]
    if a.ndim != 3 or a.shape[0] < 1:
        raise ValueError(f"adjoints must have shape (T+1, N, S) or (T+1, S), got {a.shape}")
    norms = np.linalg.norm(a, axis=-1).mean(axis=1)  # (T+1,), indexed by t
    gamma = norms[::-1].copy()  # indexed by lag tau = T - t
    with np.errstate(divide="ignore", invalid="ignore"):
        egf = gamma / gamma[0] if gamma[0] > 0 else np.full_like(gamma, np.nan)
    return gamma, egf


def _flat(grads, name: str) -> np.ndarray:
    """One vector from an array, a tensor, or a list of them (e.g. every parameter's grad)."""
    if isinstance(grads, (list, tuple)):
        if not grads:
            raise ValueError(f"{name} must not be empty")
        return np.concatenate([_array(g, name).ravel() for g in grads])
    return _array(grads, name).ravel()


def gradient_entropy(grad, normalize: bool = False) -> float:
    r"""$H = -\sum_i p_i \log p_i$, $p_i = |\nabla_i| / \sum_j |\nabla_j|$ ($0\log 0 = 0$).

    ``grad``: an array, a tensor, or a list of them (concatenated, e.g. all parameters' grads).
    $H$ is between 0 (one nonzero coordinate) and $\log n$ (all equal in magnitude);
    ``normalize=True`` divides by $\log n$ to give a number in $[0, 1]$. A gradient that is
    exactly zero has no distribution: ValueError.
    """
    flag(normalize, "normalize", "gradient_entropy")
    g = np.abs(_flat(grad, "grad"))
    if not np.all(np.isfinite(g)):
        raise ValueError("gradient_entropy: grad contains inf or nan")
    total = g.sum()
    if total == 0:
        raise ValueError("gradient_entropy: grad is exactly zero, so p_i is undefined")
    p = g / total
    nz = p[p > 0]
    H = float(-(nz * np.log(nz)).sum())
    if normalize:
        return H / np.log(g.size) if g.size > 1 else 0.0
    return H


def gradient_snr(grads, ddof: int = 0) -> float:
    r"""$\mathrm{SNR} = \|\mathbb{E}[g]\|^2 / \mathrm{Var}[g]$ over mini-batch gradients $g^{(b)}$.

    ``grads``: shape ``(B, ...)`` (one gradient per mini-batch, any shape after the first
    axis), or a list of B arrays. $\mathbb{E}[g]$ is the mean over B; $\mathrm{Var}[g] =
    \frac{1}{B - \text{ddof}}\sum_b \|g^{(b)} - \mathbb{E}[g]\|^2$, the total variance (the
    trace of the covariance). All batches equal: ``inf`` (no noise), 0/0: ``nan``.
    """
    ddof = integer(ddof, "ddof", "gradient_snr", low=0)
    if isinstance(grads, (list, tuple)):
        if not grads:
            raise ValueError("gradient_snr: grads must not be empty")
        G = np.stack([_array(g, "grads").ravel() for g in grads])
    else:
        G = _array(grads, "grads")
        if G.ndim < 2:
            raise ValueError(f"gradient_snr: grads must have shape (B, ...), got {G.shape}")
        G = G.reshape(G.shape[0], -1)
    B = G.shape[0]
    if B - ddof < 1:
        raise ValueError(f"gradient_snr: need more than ddof={ddof} gradients, got B={B}")
    mean = G.mean(axis=0)
    var = ((G - mean) ** 2).sum() / (B - ddof)
    signal = float(mean @ mean)
    if var == 0:
        return np.inf if signal > 0 else np.nan
    return signal / var
