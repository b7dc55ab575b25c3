r"""Gradient clipping, PyTorch's ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Clipping by norm is the standard cure for *exploding* gradients in recurrent networks
(Pascanu et al., 2013): when $\|g\|$ is larger than ``max_norm``, every gradient is scaled
by the same factor, so the update keeps its direction and only its length is capped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.arguments import describe
from minigrad.nn.arguments import flag, real_number
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


def _threshold(value, name: str, owner: str) -> float:
    """A clipping threshold: a real number >= 0 (inf: no clipping). A negative one would flip
    every gradient's sign (the scale factor becomes negative), a NaN would make them all NaN."""
    c = real_number(value, name, owner)
    if not c >= 0:
        raise ValueError(f"{owner}: {name} must be >= 0 (inf for no clipping), got {value!r}")
    return c


def _with_grad(parameters, name: str) -> list[Tensor]:
    """The parameters (a Tensor or an iterable, consumed once) that have a ``.grad``."""
    return [p for p in parameter_list(parameters, name) if p.grad is not None]


def parameter_list(parameters, name: str) -> list[Tensor]:
    """``parameters`` (a Tensor or an iterable of them, consumed once) as a list, checked."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable) or isinstance(parameters, (Module, str, bytes)):
        raise TypeError(
            f"{name}: parameters must be a Tensor or an iterable of Tensors (e.g. model.parameters()), "
            f"got {describe(parameters)}"
        )
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameters must be Tensors (e.g. model.parameters()), got {describe(p)}")
    return params


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Scale all gradients by $\min(1, \text{max\_norm} / (\|g\|_p + 10^{-6}))$; return $\|g\|_p$.

    $\|g\|_p$ is the norm of all gradients concatenated into one vector (``norm_type`` $p$,
    ``float('inf')`` for the max-abs norm), measured *before* clipping. Parameters without a
    gradient are skipped. A non-finite norm raises ``RuntimeError`` when
    ``error_if_nonfinite`` (PyTorch's behaviour); otherwise the gradients become NaN.
    """
    norm_type = math.inf if norm_type == "inf" else real_number(norm_type, "norm_type", "clip_grad_norm_")  # as torch
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}")
    max_norm = _threshold(max_norm, "max_norm", "clip_grad_norm_")
    error_if_nonfinite = flag(error_if_nonfinite, "error_if_nonfinite", "clip_grad_norm_")
    params = _with_grad(parameters, "clip_grad_norm_")
    if not params:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # an inf/nan norm is reported below
        if math.isinf(norm_type):
            total = max(float(np.max(np.abs(p.grad), initial=0.0)) for p in params)
        else:
            # the norm of the per-tensor norms equals the norm of everything concatenated
            norms = [np.linalg.norm(p.grad.ravel().astype(np.float64), norm_type) for p in params]
            total = float(np.linalg.norm(np.array(norms), norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
            f"so they cannot be clipped; set error_if_nonfinite=False to allow this"
        )
    # as PyTorch: an inf norm gives coefficient 0 (so inf * 0 = NaN), a NaN norm NaN
    clip_coef = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    with np.errstate(invalid="ignore"):
        for p in params:
            p.grad = (p.grad * clip_coef).astype(p.grad.dtype)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    r"""Clamp every gradient element to $[-c, c]$, $c$ = ``clip_value``.

    Unlike norm clipping, this can change the gradient's direction.
    """
    c = _threshold(clip_value, "clip_value", "clip_grad_value_")
    for p in _with_grad(parameters, "clip_grad_value_"):
        p.grad = np.clip(p.grad, -c, c)
