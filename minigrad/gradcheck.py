r"""Check analytic gradients against central differences.

$$\frac{\partial f}{\partial x_j} \approx \frac{f(x + \epsilon e_j) - f(x - \epsilon e_j)}{2\epsilon}$$

with error $O(\epsilon^2)$. In float64 with $\epsilon = 10^{-6}$ this agrees with a correct
analytic gradient to about $10^{-8}$; a wrong VJP is off by $O(1)$.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from minigrad.arguments import flag, function, number_in
from minigrad.autodiff import jacobian
from minigrad.engine import no_grad
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic and a numerical Jacobian disagree."""


def _arrays(inputs, owner: str) -> tuple[list[np.ndarray], bool]:
    single = not isinstance(inputs, (list, tuple))
    items = [inputs] if single else list(inputs)
    return [np.array(tensor_like(x, "inputs", owner).data) for x in items], single


def _step(eps, owner: str) -> float:
    """The finite-difference step: eps = NaN would make every numerical entry NaN, and blame the gradient."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not 0 < eps < math.inf:
        raise ValueError(f"{owner}: eps must be a positive finite number, got {eps!r}")
    return float(eps)


def numerical_jacobian(
    f: Callable, inputs: np.ndarray | Tensor | Sequence, eps: float = 1e-6
) -> np.ndarray | tuple[np.ndarray, ...]:
    r"""Central-difference Jacobian of ``f`` for every input: shape ``out.shape + in.shape``.

    ``inputs`` is a tensor/array (one result) or a tuple of them (a tuple of results).
    ``f`` is evaluated under ``no_grad`` on perturbed copies; the inputs are not modified.
    """
    function(f, "f", "numerical_jacobian")
    eps = _step(eps, "numerical_jacobian")
    arrays, single = _arrays(inputs, "numerical_jacobian")
    with no_grad():
        out_shape = np.shape(f(*[Tensor(a, dtype=a.dtype) for a in arrays]).data)
        result = []
        for i, a in enumerate(arrays):
            J = np.zeros((int(np.prod(out_shape)), a.size))
            for j in range(a.size):
                values = []
                for step in (eps, -eps):
                    shifted = [x.copy() for x in arrays]
                    shifted[i].flat[j] += step
                    y = f(*[Tensor(x, dtype=x.dtype) for x in shifted])
                    values.append(np.asarray(y.data, dtype=np.float64))
                J[:, j] = ((values[0] - values[1]) / (2 * eps)).ravel()
            result.append(J.reshape(out_shape + a.shape))
    return result[0] if single else tuple(result)


def gradcheck(
    f: Callable,
    inputs: np.ndarray | Tensor | Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    r"""True if ``f``'s autograd Jacobian matches central differences for every input that requires grad.

    PyTorch's meaning: element $(k, j)$ passes when
    $|J^{\text{analytic}}_{kj} - J^{\text{numeric}}_{kj}| \le \text{atol} + \text{rtol}\,|J^{\text{numeric}}_{kj}|$.
    Inputs that are not float64 draw a warning (float32 differences are too coarse).
    On failure it raises :class:`GradcheckError` naming the input, the element and both
    values (or returns False with ``raise_exception=False``).
    """
    function(f, "f", "gradcheck")
    eps = _step(eps, "gradcheck")
    atol = number_in(atol, "atol", "gradcheck", 0, high_open=True)
    rtol = number_in(rtol, "rtol", "gradcheck", 0, high_open=True)
    flag(raise_exception, "raise_exception", "gradcheck")
    items = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    for x in items:
        tensor_like(x, "inputs", "gradcheck")
    checked = [
        k for k, x in enumerate(items) if not isinstance(x, Tensor) or x.requires_grad
    ]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for k in checked:
        dtype = np.asarray(getattr(items[k], "data", items[k])).dtype
        if dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {k} is {dtype}, not float64; finite differences "
                f"will be inaccurate", UserWarning, stacklevel=2,
            )
    analytic = jacobian(f, *items)
    numeric = numerical_jacobian(f, tuple(items), eps=eps)
    if len(items) == 1:
        analytic = (analytic,)
    for k in checked:
        a, n = np.asarray(analytic[k]), np.asarray(numeric[k])
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
        if bad.any():
            # Plain ints and floats: NumPy 2 would print np.int64(0) and np.float64(1.0).
            idx = tuple(int(j) for j in np.unravel_index(int(np.argmax(bad)), a.shape))
            out_ndim = a.ndim - np.ndim(getattr(items[k], "data", items[k]))
            msg = (
                f"gradcheck: Jacobian mismatch for input {k} at output index {idx[:out_ndim]}, "
                f"input element {idx[out_ndim:]}: analytic {float(a[idx])!r} "
                f"vs numerical {float(n[idx])!r} "
                f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
