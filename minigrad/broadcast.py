r"""The one place where broadcasting meets gradients.

If a forward op broadcast an input of shape ``(3, 1)`` up to ``(4, 3, 5)``, every
element of the input was *reused* many times, so by the multivariable chain rule
its gradient is the **sum** of the gradients of all its copies:

$$\frac{\partial \mathcal{L}}{\partial x_{i}} = \sum_{\text{copies } j \text{ of } x_i}
\frac{\partial \mathcal{L}}{\partial y_j}$$

Ops return gradients in their output's (broadcast) shape; the engine calls
:func:`unbroadcast` to fold them back to each input's own shape, so no op author
ever has to think about broadcasting.
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    >>> unbroadcast(np.ones((4, 3, 5)), (3, 1)).tolist()
    [[20.0], [20.0], [20.0]]
    """
    if grad.shape == shape:
        return grad
    # Axes that broadcasting prepended: the input had no such axis at all.
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    # Axes where the input had size 1 and was stretched.
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"unbroadcast: gradient of shape {grad.shape} cannot be reduced to {shape}")
    return grad
