r"""For ``three_ways``: the cost of ``jacobian`` in forward and in reverse mode, f: ℝⁿ → ℝᵐ.

f is a small tanh MLP, $f(x) = W_3 \tanh(W_2 \tanh(W_1 x))$ (hidden width 32), so that the
only thing that changes with n and m is the size of the first and last matrices. Passes are
*counted*, not assumed: the output goes through :class:`CountingIdentity`, an identity op
that counts how often the backward pass calls its ``vjp`` and the forward-mode walk its ``jvp``.
"""

from __future__ import annotations

import gc
import time

import numpy as np

import minigrad as mg
from minigrad.ops import Elementwise
from minigrad.tensor import apply_op

HIDDEN = 32


class CountingIdentity(Elementwise):
    """y = x, counting the backward passes (``vjp`` calls) and forward-mode walks (``jvp`` calls)."""

    __slots__ = ()
    calls = {"vjp": 0, "jvp": 0}

    def forward(self, x):
        return x.copy()

    def derivative(self, i):
        return 1.0

    def vjp(self, grad_out):
        CountingIdentity.calls["vjp"] += 1
        return (grad_out,)

    def jvp(self, t):
        CountingIdentity.calls["jvp"] += 1
        return t


def mlp(n: int, m: int, seed: int):
    """f: ℝⁿ → ℝᵐ, a fixed random tanh MLP whose output passes through :class:`CountingIdentity`."""
    rng = np.random.default_rng(seed)
    W1 = mg.tensor(rng.normal(size=(n, HIDDEN)) / np.sqrt(n))
    W2 = mg.tensor(rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN))
    W3 = mg.tensor(rng.normal(size=(HIDDEN, m)) / np.sqrt(HIDDEN))

    def f(x):
        return apply_op(CountingIdentity(), mg.tanh(mg.tanh(x @ W1) @ W2) @ W3)

    return f


def cost(n: int, m: int, repeats: int, seed: int) -> dict:
    """Passes and best-of-``repeats`` seconds (garbage collector off) of ``jacobian`` in each mode, and
    their agreement."""
    f = mlp(n, m, seed)
    x = np.random.default_rng(seed + 1).normal(size=n)
    row = {"n": n, "m": m}
    J = {}
    for strategy in ("forward-mode", "reverse-mode"):
        best = float("inf")
        for _ in range(repeats):
            CountingIdentity.calls.update(vjp=0, jvp=0)
            gc.collect()
            gc.disable()  # as timeit does: a full collection of the demo's objects would land in one run
            try:
                t0 = time.perf_counter()
                J[strategy] = mg.jacobian(f, x, strategy=strategy)
                best = min(best, time.perf_counter() - t0)
            finally:
                gc.enable()
        row[strategy] = {"passes": CountingIdentity.calls["jvp" if strategy == "forward-mode" else "vjp"],
                         "other_passes": CountingIdentity.calls["vjp" if strategy == "forward-mode" else "jvp"],
                         "seconds": best}  # fmt: skip
    row["max_abs_diff"] = float(np.max(np.abs(J["forward-mode"] - J["reverse-mode"])))
    return row


def sweep(sizes, fixed: int, repeats: int, seed: int) -> dict:
    """``cost`` as n varies (m = ``fixed``) and as m varies (n = ``fixed``)."""
    return {"vary_n": [cost(n, fixed, repeats, seed) for n in sizes],
            "vary_m": [cost(fixed, m, repeats, seed) for m in sizes], "fixed": fixed}  # fmt: skip
