r"""Gradient diagnostics: watch, measure and explain vanishing and exploding gradients.

* ``monitor.py``: :class:`GradientMonitor` (per-parameter history, flags, plot),
  :func:`grad_stats`.
* ``spectral.py``: $\rho(W)$, $\sigma_i(W)$, $\kappa(W)$, power iteration, Lyapunov exponents,
  and the time scales $\tau_{\text{eff}}$, $\tau_{\max}$, $\tau_{\text{inst}}$.
* ``temporal.py``: $\gamma_\tau$ and EGF, gradient entropy, gradient SNR.
"""

from minigrad.diagnostics.monitor import Flag, GradientMonitor, grad_stats
from minigrad.diagnostics.spectral import (
    condition_number,
    effective_horizon,
    instability_threshold,
    lyapunov_exponent,
    memory_span,
    power_iteration,
    singular_values,
    spectral_radius,
)  # fmt: skip
from minigrad.diagnostics.temporal import gradient_entropy, gradient_snr, temporal_gradient_profile

__all__ = [
    "GradientMonitor", "Flag", "grad_stats",
    "spectral_radius", "singular_values", "condition_number", "power_iteration",
    "lyapunov_exponent", "effective_horizon", "memory_span", "instability_threshold",
    "temporal_gradient_profile", "gradient_entropy", "gradient_snr",
]  # fmt: skip
