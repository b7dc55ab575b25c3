"""Probe of task 7.1, run in the sealed process: clip_grad_norm_ on parameters with these gradients."""

import numpy as np

from minigrad.nn import Parameter
from minigrad.nn.utils import clip_grad_norm_


def clip(grads, max_norm, norm_type=2.0, error_if_nonfinite=False, float32=False, as_iterator=False):
    """The returned norm, the gradients after, their dtypes, or the exception (name and text)."""
    dtype = np.float32 if float32 else np.float64
    ps = []
    for g in grads:
        p = Parameter(np.zeros(np.shape(g) if g is not None else 2, dtype=dtype))
        p.grad = None if g is None else np.asarray(g, dtype=dtype)
        ps.append(p)
    try:
        total = clip_grad_norm_(iter(ps) if as_iterator else ps, max_norm, norm_type=norm_type,
                                error_if_nonfinite=error_if_nonfinite)  # fmt: skip
        error = None
    except Exception as e:  # noqa: BLE001 - the exception is the answer
        total, error = None, [type(e).__name__, str(e), [c.__name__ for c in type(e).__mro__]]
    grads = [None if p.grad is None else np.asarray(p.grad, dtype=float) for p in ps]
    dtypes = [None if p.grad is None else str(p.grad.dtype) for p in ps]
    return {"total": None if total is None else float(total), "grads": grads, "dtypes": dtypes, "error": error}
