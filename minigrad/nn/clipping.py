r"""Clipping beyond norm and value (those are ``minigrad.nn.utils``): adaptive and per-parameter.

* :class:`AdaptiveGradClipper`: the threshold follows the gradient history,
  $\theta_t = \alpha\theta_{t-1} + (1-\alpha)\|\tilde g_t\|$; step $t$ is clipped to $\theta_{t-1}$.
* :func:`clip_grad_value_per_param_`: $\tilde g_i = \mathrm{clip}(g_i, -\theta_i, \theta_i)$ with a
  threshold per parameter; :func:`clip_grad_norm_per_param_` scales each parameter's gradient
  to its own maximum norm.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from minigrad.nn.arguments import real_number
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, parameter_list
from minigrad.tensor import Tensor

__all__ = [
    "AdaptiveGradClipper", "clip_grad_norm_", "clip_grad_value_",
    "clip_grad_norm_per_param_", "clip_grad_value_per_param_",
]  # fmt: skip


class AdaptiveGradClipper:
    r"""Clip to a moving threshold $\theta_t = \alpha\theta_{t-1} + (1-\alpha)\|\tilde g_t\|$.

    Call it after ``backward()``: it clips the global gradient norm to $\theta_{t-1}$ (in place,
    with :func:`clip_grad_norm_`) and returns the norm before clipping. The first call only
    measures ($\theta_0 = \|g_0\|$). The average is fed the *clipped* norm $\|\tilde g_t\|$: fed
    the raw norm, one spike of $10^{20}$ would lift $\theta$ to about $10^{19}$ and let the next
    spike through. ``max_norm`` (optional) is a fixed ceiling on $\theta$.
    """

    def __init__(self, alpha: float = 0.9, max_norm: float = math.inf) -> None:
        if not 0 <= real_number(alpha, "alpha", "AdaptiveGradClipper") < 1:  # a NumPy scalar is fine
            raise ValueError(f"AdaptiveGradClipper: alpha must be in [0, 1), got {alpha!r}")
        if not real_number(max_norm, "max_norm", "AdaptiveGradClipper") > 0:
            raise ValueError(f"AdaptiveGradClipper: max_norm must be > 0, got {max_norm!r}")
        self.alpha, self.max_norm = float(alpha), float(max_norm)
        self.threshold: float | None = None  # theta_{t-1}; None before the first call

    def __call__(self, parameters: Tensor | Iterable[Tensor]) -> float:
        params = parameter_list(parameters, "AdaptiveGradClipper")
        limit = self.max_norm if self.threshold is None else min(self.threshold, self.max_norm)
        norm = clip_grad_norm_(params, limit)
        clipped = min(norm, limit) if math.isfinite(norm) else limit
        if self.threshold is None:
            self.threshold = clipped
        elif math.isfinite(clipped):
            self.threshold = self.alpha * self.threshold + (1 - self.alpha) * clipped
        return norm


def _pairs(parameters, thresholds, name: str) -> list:
    params = parameter_list(parameters, name)
    if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, (bool, np.bool_)):
        thresholds = [thresholds] * len(params)  # one number for all (a NumPy scalar too)
    if isinstance(thresholds, str) or not isinstance(thresholds, Iterable):
        raise TypeError(f"{name}: thresholds must be a number or one number per parameter, got {thresholds!r}")
    thresholds = list(thresholds)
    if len(thresholds) != len(params):
        raise ValueError(
            f"{name}: need one threshold per parameter ({len(params)}), got {len(thresholds)}"
        )
    for c in thresholds:
        if not real_number(c, "thresholds", name) >= 0:
            raise ValueError(f"{name}: thresholds must be >= 0, got {c!r}")
    return [(p, float(c)) for p, c in zip(params, thresholds, strict=True) if p.grad is not None]


def clip_grad_value_per_param_(parameters, clip_values) -> None:
    r"""$\tilde g_i = \mathrm{clip}(g_i, -\theta_i, \theta_i)$, $\theta_i$ = ``clip_values[i]``."""
    for p, c in _pairs(parameters, clip_values, "clip_grad_value_per_param_"):
        p.grad = np.clip(p.grad, -c, c)


def clip_grad_norm_per_param_(parameters, max_norms) -> list[float]:
    r"""Scale each parameter's gradient to norm $\le \theta_i$ on its own; return the norms before.

    Unlike :func:`clip_grad_norm_` (one factor for all), a parameter with an exploding
    gradient (say $W_{hh}$) is shrunk without shrinking the others.
    """
    pairs = _pairs(parameters, max_norms, "clip_grad_norm_per_param_")
    return [clip_grad_norm_([p], c) for p, c in pairs]
