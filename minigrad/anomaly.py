r"""Anomaly mode: stop at the first op whose forward or backward produces NaN or inf.

A NaN in a loss is usually born many ops earlier: $\log 0 = -\infty$, then
$0 \cdot \infty = \mathrm{NaN}$, then everything downstream is NaN. Inside
``with minigrad.detect_anomaly():`` every op checks what it produced, and the first
non-finite value raises :class:`AnomalyError` naming the op, its input shapes, the
pass (forward or backward), and the line of *your* code that created the op.

Off by default: when off, the only cost is one check of this thread's mode per op
(``grad_mode.MODES.anomaly_enabled``).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from minigrad.grad_mode import MODES, _ModeBlock

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(RuntimeError):
    """Raised inside ``detect_anomaly()`` by the first op that produces NaN or inf."""


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return MODES.anomaly_enabled


class detect_anomaly(_ModeBlock):
    """``with minigrad.detect_anomaly():`` (or ``@minigrad.detect_anomaly``): fail at the first NaN/inf.

    Like ``torch.autograd.detect_anomaly``, but the check also runs in the forward pass.
    Ops created inside the block remember where in your code they were created, so the
    error of a backward pass run inside the block points at the forward line responsible.
    Per thread, like grad mode.
    """

    value = True

    def get(self) -> bool:
        return MODES.anomaly_enabled

    def set(self, value: bool) -> None:
        MODES.anomaly_enabled = value


def user_site() -> str:
    """``file:line (function)`` of the innermost stack frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} (in {frame.f_code.co_name})"


def _bad(a) -> bool:
    if a is None:
        return False
    a = getattr(a, "values", a)  # a sparse IndexedGrad from x[index]: check its values
    a = np.asarray(a)
    return a.dtype.kind in "fc" and not bool(np.isfinite(a).all())


def _describe(a) -> str:
    a = np.asarray(getattr(a, "values", a))
    n_nan, n_inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    return f"{n_nan} NaN and {n_inf} inf among {a.size} elements"


def check_forward(op, inputs, out: np.ndarray, site: str | None) -> None:
    """Raise :class:`AnomalyError` if ``out`` (the result of ``op`` on ``inputs``) is not finite."""
    if not _bad(out):
        return
    shapes = ", ".join(str(t.data.shape) for t in inputs)
    already = [i for i, t in enumerate(inputs) if _bad(t.data)]
    why = (
        f"input(s) {already} already contained NaN/inf" if already
        else "all its inputs were finite: this op is where the NaN/inf was born"
    )  # fmt: skip
    raise AnomalyError(
        f"detect_anomaly: {op.name} (forward) produced {_describe(out)}; input shapes: {shapes}; "
        f"{why}. The op was created at {site}"
    )


def check_backward(op, grads_in: tuple, grad_out) -> None:
    """Raise :class:`AnomalyError` if ``op.vjp`` returned a non-finite gradient for an input."""
    for i, g in enumerate(grads_in):
        if _bad(g):
            shapes = ", ".join(str(s) for s in op.in_shapes)
            why = (
                "the incoming gradient already contained NaN/inf" if _bad(grad_out)
                else "the incoming gradient was finite: this op's derivative is not"
            )  # fmt: skip
            site = getattr(op, "site", None) or "<unknown: the op was created outside detect_anomaly()>"
            raise AnomalyError(
                f"detect_anomaly: {op.name} (backward) returned {_describe(g)} in the gradient "
                f"of input {i}; input shapes: {shapes}; {why}. The op was created at {site}"
            )
