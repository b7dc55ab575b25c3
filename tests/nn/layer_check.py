"""A gradient check for whole modules: every parameter and every input, against central differences.

``assert_module_gradients_match(module, inputs)`` compares, for the scalar
$\\phi = \\langle g, \\text{module}(x) \\rangle$ with a fixed pseudo-random $g$, the
gradients autograd leaves in ``p.grad`` (and in each input's ``.grad``) with central
differences of $\\phi$ taken by nudging ``p.data`` in place. Outputs may be a Tensor or
a (nested) tuple of Tensors, e.g. an LSTM's ``output, (h_n, c_n)``.
"""

from __future__ import annotations

import numpy as np

from minigrad import no_grad
from minigrad.tensor import Tensor


def _flatten(out) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    return [t for o in out for t in _flatten(o)]


def assert_module_gradients_match(
    module, inputs, *, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0
) -> None:
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    rng = np.random.default_rng(seed)
    module.zero_grad()
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    outs = _flatten(module(*xs))
    gs = [rng.normal(size=o.shape) for o in outs]
    phi = (outs[0] * Tensor(gs[0])).sum()
    for o, g in zip(outs[1:], gs[1:], strict=True):
        phi = phi + (o * Tensor(g)).sum()
    phi.backward()

    def value() -> float:
        with no_grad():
            ys = _flatten(module(*[Tensor(a) for a in arrays]))
        return float(sum(np.sum(y.data * g) for y, g in zip(ys, gs, strict=True)))

    targets = [(f"input {i}", arrays[i], xs[i].grad) for i in range(len(arrays))]
    targets += [(name, p.data, p.grad) for name, p in module.named_parameters()]
    for name, data, analytic in targets:
        assert analytic is not None, f"{name}: no gradient reached it"
        numeric = np.zeros(data.shape)
        for j in range(data.size):
            old = data.flat[j]
            data.flat[j] = old + eps
            up = value()
            data.flat[j] = old - eps
            down = value()
            data.flat[j] = old
            numeric.flat[j] = (up - down) / (2 * eps)
        bad = ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            k = int(np.argmax(bad.ravel()))
            raise AssertionError(
                f"{name}: gradient mismatch at flat index {k}: autograd {analytic.flat[k]!r} vs "
                f"numerical {numeric.flat[k]!r} ({int(bad.sum())} of {bad.size} differ)"
            )
