"""A 200,000-op chain: forward and backward CPU time, the cyclic garbage collector on and off.

Method. The chain of ``bench_core.py`` (rounds of ``tanh(x * 1.01 + 0.1)`` then
``x * 0.99 - 0.099``, 5 recorded ops each) for 40,000 rounds, one thread, float32. Each variant
runs in a **fresh process** (the collector's state and the heap carry over within one), the
variants in turn, ``--rounds K`` times (default 2); CPU time (``time.process_time``) of the
forward loop and of ``backward()``, the load average printed beside them. Variants: ``default``
(what a user gets; the engine pauses the collector during backward itself, ``engine._gc_paused``)
``no-pause`` (the engine as before issue 28: ``compute_grads`` without the pause, through the
decorator's ``__wrapped__``) and ``gc-off`` (the user switches the collector off for the whole
run). No target is asserted.

Run: ``python benchmarks/bench_long_chain.py``.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

ROUNDS_OF_OPS = 40_000  # x 5 ops = 200,000 recorded ops


def one_run(variant: str) -> dict:
    """Build and backpropagate the chain in this process; CPU seconds of each half."""
    import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
    import numpy as np

    import minigrad as mg

    if variant == "gc-off":
        gc.disable()
    if variant == "no-pause":
        from minigrad import engine

        engine.compute_grads = engine.compute_grads.__wrapped__
    x = mg.tensor(np.linspace(-1, 1, 8).astype(np.float32), requires_grad=True)
    c0 = time.process_time()
    h = x
    for _ in range(ROUNDS_OF_OPS):
        h = (h * 1.01 + 0.1).tanh()
        h = h * 0.99 - 0.099
    loss = h.sum()
    c1 = time.process_time()
    loss.backward()
    c2 = time.process_time()
    assert np.all(np.abs(x.grad) > 0)
    return {"forward": c1 - c0, "backward": c2 - c1}


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 2
    print(f"{ROUNDS_OF_OPS * 5:,} ops, float32, one thread, CPU time, fresh process per run")
    for _ in range(rounds):
        for variant in ("default", "no-pause", "gc-off"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", variant], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout)
            load = " ".join(f"{v:.1f}" for v in os.getloadavg())
            print(f"{variant:<8} forward {r['forward']:6.3f} s   backward {r['backward']:6.3f} s   (load {load})")


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(one_run(sys.argv[sys.argv.index("--child") + 1])))
    else:
        main()
