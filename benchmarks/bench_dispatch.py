"""Where one small op's time goes: each piece of ``x * 0.99`` and of its backward step, timed alone.

Method. 1. ``timeit`` of each piece on an 8-element float32 array (the chain of ``bench_core.py``),
best of 7 repeats of 200,000 calls, one thread, CPU time (``time.process_time`` as ``timeit``'s
timer), the collector on as a user has it. Each row is one call as the engine makes it (plus the
lambda's own call, ~40 ns), so the rows nested under a line add up to roughly that line; read them
as a profile without a profiler's overhead (cProfile doubles the cost of each small call).
2. What two costs are worth in the whole 2,000-op chain: ``bench_core.chain_minigrad`` as it is,
with ``safety.lock``/``unlock`` replaced by no-ops (what in-place safety costs), and with the
cyclic collector off; the variants in turn in one process, ``--rounds K`` (default 15), best CPU
time of each. Both are diagnostics, not options: the engine keeps its safety and leaves the
collector to the user outside backward. No target.

Run: ``python benchmarks/bench_dispatch.py``.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import timeit

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import bench_core
import numpy as np

import minigrad as mg
from minigrad import engine, safety
from minigrad.ops.activations import Tanh
from minigrad.ops.arithmetic import Mul
from minigrad.ops.base import _shapes
from minigrad.tensor import _arrays_and_flags, _new_tensor, _operand, _shared_constant, apply_op

A = np.linspace(-1, 1, 8).astype(np.float32)
X = mg.tensor(A, requires_grad=True)
K = _shared_constant(0.99, A.dtype)
OP = Mul()
OP(A, K.data)
TANH = Tanh()
TANH(A)
G = np.ones_like(A)
GRADS = engine.Gradients()

PIECES = [
    ("NumPy: a * c", lambda: A * K.data),
    ("NumPy: np.tanh(a)", lambda: np.tanh(A)),
    ("x * 0.99 (whole, recorded)", lambda: X * 0.99),
    ("x.tanh() (whole, recorded)", lambda: X.tanh()),
    ("  _operand(0.99, x): the shared constant", lambda: _operand(0.99, X)),
    ("  Mul(): a new op", lambda: Mul()),
    ("  apply_op(Mul(), x, c)", lambda: apply_op(Mul(), X, K)),
    ("    _arrays_and_flags", lambda: _arrays_and_flags((X, K))),
    ("    op(a, c): Op.__call__ with forward", lambda: OP(A, K.data)),
    ("      _shapes (in_shapes)", lambda: _shapes((A, K.data))),
    ("      op.forward(a, c) with save", lambda: OP.forward(A, K.data)),
    ("    _new_tensor", lambda: _new_tensor(A)),
    ("    safety.lock of two arrays", lambda: safety.lock((A, K.data))),
    ("backward: Mul.vjp(g)", lambda: OP.vjp(G)),
    ("backward: Tanh.vjp(g) (1 - y*y, times g)", lambda: TANH.vjp(G)),
    ("backward: Gradients.add then pop", lambda: (GRADS.add(X, G), GRADS.pop(X))),
    ("backward: safety.unlock of two arrays", lambda: safety.unlock((A, K.data))),
]


def main() -> None:
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"one call of each piece, ns (best of 7 x 200,000, CPU time; load {load})")
    for name, fn in PIECES:
        best = min(timeit.repeat(fn, number=200_000, repeat=7, timer=time.process_time)) / 200_000
        print(f"{name:<46} {best * 1e9:7.0f}")
    safety.unlock((A,))
    ablation(int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 15)


def ablation(rounds: int) -> None:
    """The whole chain, then without in-place safety, then without the collector, in turn."""
    lock, unlock = safety.lock, safety.unlock
    times: dict = {"as it is": [], "no lock/unlock": [], "collector off": []}
    for _ in range(rounds):
        for variant, ts in times.items():
            if variant == "no lock/unlock":
                safety.lock = safety.unlock = lambda arrays: None
            if variant == "collector off":
                gc.disable()
            try:
                bench_core.chain_minigrad()  # a warm-up in this variant
                t0 = time.process_time()
                bench_core.chain_minigrad()
                ts.append(time.process_time() - t0)
            finally:
                safety.lock, safety.unlock = lock, unlock
                gc.enable()
    base = min(times["as it is"])
    print(f"\nthe 2,000-op chain, fwd+bwd, best CPU time of {rounds} (variants in turn)")
    for variant, ts in times.items():
        print(f"{variant:<46} {min(ts) * 1e3:7.2f} ms  ({min(ts) / base:.3f})")


if __name__ == "__main__":
    main()
