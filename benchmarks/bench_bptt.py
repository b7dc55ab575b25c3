"""Cost of the explicit Jacobians: ``Trajectory.jacobians()`` vs one fused forward+backward.

Issue target: for T=200, N=16, H=64 (H_in=64), building all T per-step Jacobians
$J_t = \\partial s_{t+1}/\\partial s_t$, shape (T, N, S, S), costs no more than 3x one fused
forward + backward of the same layer (``nn.RNN``; loss $\\sum_t\\|h_t\\|^2$). One thread,
float32, best of N runs. LSTM and GRU are printed too (S = 2H for the LSTM: a 4x larger
array, and a per-step (2H x 4H) @ (4H x H) matmul inside ``LSTMStep.state_jacobian``).

The output is large (RNN: 200*16*64*64 float32 = 52 MB), so the first touch of fresh memory
(page faults) is part of the cost; "best" is with the allocator's memory already warm,
"median" includes cold runs.

Run: ``python benchmarks/bench_bptt.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import statistics
import sys
import time

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np

import minigrad as mg
from minigrad import bptt

T, N, H_IN, H = 200, 16, 64, 64
REPEATS = 3 if "--quick" in sys.argv else 7
LAYERS = {"RNN": mg.nn.RNN, "GRU": mg.nn.GRU, "LSTM": mg.nn.LSTM}


def times(fn, repeats=REPEATS, warmup=1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def measure(cls) -> tuple[list[float], list[float]]:
    """(fused forward+backward times, jacobians() times) for one layer class."""
    mg.manual_seed(0)
    layer = cls(H_IN, H).to(np.float32)
    x = np.random.default_rng(0).standard_normal((T, N, H_IN)).astype(np.float32)

    def fwd_bwd():
        layer.zero_grad()
        out = layer(mg.tensor(x))[0]
        (out * out).sum().backward()

    (traj,) = bptt.unroll(layer, x)

    def jacobians():
        traj._jacobians = None  # drop the cache: time the computation, not the lookup
        return traj.jacobians()

    assert jacobians().shape[0] == T
    return times(fwd_bwd), times(jacobians)


def main() -> None:
    print(f"T={T}, N={N}, H_in={H_IN}, H={H}, float32, one thread, {REPEATS} repeats")
    for kind, cls in LAYERS.items():
        t_fb, t_j = measure(cls)
        best = min(t_j) / min(t_fb)
        med = statistics.median(t_j) / statistics.median(t_fb)
        verdict = "" if kind != "RNN" else f"  (target <= 3x: {'ok' if best <= 3 else 'MISSED'})"
        print(
            f"{kind:<5} fwd+bwd {min(t_fb) * 1e3:8.2f} ms   jacobians() {min(t_j) * 1e3:8.2f} ms"
            f"   ratio best {best:5.2f}x   median {med:5.2f}x{verdict}"
        )

if __name__ == "__main__":
    main()
