"""Cost of the explicit Jacobians: ``Trajectory.jacobians()`` vs one fused forward+backward.

Issue target: for T=200, N=16, H=64 (H_in=64), building all T per-step Jacobians
$J_t = \\partial s_{t+1}/\\partial s_t$, shape (T, N, S, S), costs no more than 3x one fused
forward + backward of the same layer (loss $\\sum_t\\|h_t\\|^2$). One thread, float32; the two
run alternately after a warm-up, best of N, CPU time (wall time printed too; see
``bench_rnn.py`` for why CPU time).

Each $J_t$ is a closed form of the step op (``minigrad/ops/recurrent.py``): for the RNN
$\\mathrm{diag}(\\phi') W_{hh}$; for the LSTM (S = 2H, a 4x larger array) and the GRU the
gate derivatives are diagonal blocks, so $J_t$ is a sum of row-scaled blocks of $W_{hh}$ --
no dense (S x G*H) @ (G*H x H) product.

The output is large (RNN: 200*16*64*64 float32 = 52 MB, LSTM 210 MB), so writing it once is a
real part of the cost.

Run: ``python benchmarks/bench_bptt.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import sys

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np
from bench_rnn import interleaved, verdict

import minigrad as mg
from minigrad import bptt

T, N, H_IN, H = 200, 16, 64, 64
REPEATS = 3 if "--quick" in sys.argv else 7
LAYERS = {"RNN": mg.nn.RNN, "GRU": mg.nn.GRU, "LSTM": mg.nn.LSTM}


def setup(cls):
    """(fused forward+backward closure, jacobians() closure) for one layer class."""
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
    return fwd_bwd, jacobians


def main() -> None:
    print(f"T={T}, N={N}, H_in={H_IN}, H={H}, float32, one thread, best of {REPEATS}, CPU time")
    for kind, cls in LAYERS.items():
        fb, jac = interleaved(setup(cls), REPEATS, warmup=1)
        ratio = jac.best_cpu / fb.best_cpu
        print(
            f"{kind:<5} fwd+bwd {fb.best_cpu * 1e3:8.2f} ms   jacobians() {jac.best_cpu * 1e3:8.2f} ms"
            f"   ratio {ratio:5.2f}x  (target <= 3x: {verdict(ratio, 3.0)})"
            f"   [wall {jac.best_wall / fb.best_wall:5.2f}x]"
        )


if __name__ == "__main__":
    main()
