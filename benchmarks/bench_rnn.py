"""Recurrent layers vs hand-written NumPy BPTT (``numpy_rnn.py``): one run, one thread, float32.

Each measurement is forward + backward of $\\mathcal{L} = \\sum_t \\|h_t\\|^2$ over all outputs of a
one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (all parameter gradients; the input needs none),
N=32, H_in=32, H=128:

1. RNN (tanh), T=100: target <= 1.5x.   2. LSTM, T=64 and 3. GRU, T=64: target <= 1.3x.
4. Cost linear in T: time per step at T=800 within 25% of that at T=50 (ratio <= 1.25).
5. Peak memory (tracemalloc) of the LSTM benchmark: target <= 1.5x the hand-written one.

Allocator note: minigrad makes more large temporaries than the hand-written loop (gradient
buffers, the loss's VJP). Where first-touch page faults are expensive (small VMs), glibc handing
freed memory back to the OS between iterations costs minigrad more; running with
``MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456`` keeps freed memory in the
process for both sides. Report both figures if they differ.

Run: ``python benchmarks/bench_rnn.py`` (``--quick`` for fewer repeats). Both implementations
are first checked to give the same loss and gradients.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import _timing  # noqa: I001  (sets one BLAS thread before NumPy loads)
import numpy as np
import numpy_rnn

import minigrad as mg

N, H_IN, H = 32, 32, 128
REPEATS = 5 if "--quick" in sys.argv else 20
MODELS = {
    "RNN": (lambda: mg.nn.RNN(H_IN, H), numpy_rnn.rnn_tanh),
    "LSTM": (lambda: mg.nn.LSTM(H_IN, H), numpy_rnn.lstm),
    "GRU": (lambda: mg.nn.GRU(H_IN, H), numpy_rnn.gru),
}


def setup(kind: str, T: int, seed: int = 0):
    """(minigrad fwd+bwd closure, NumPy fwd+bwd closure) on the same weights and input."""
    mg.manual_seed(seed)
    make, numpy_fn = MODELS[kind]
    model = make().to(np.float32)
    params = model.state_dict()
    x = np.random.default_rng(seed).standard_normal((T, N, H_IN)).astype(np.float32)

    def run_minigrad():
        model.zero_grad()
        out = model(mg.tensor(x))[0]
        loss = (out * out).sum()
        loss.backward()
        return float(loss.item()), {k: p.grad for k, p in model.named_parameters()}

    def run_numpy():
        return numpy_fn(x, params)

    return run_minigrad, run_numpy


def check_same(kind: str) -> None:
    run_minigrad, run_numpy = setup(kind, T=20)
    loss_m, grads_m = run_minigrad()
    loss_n, grads_n = run_numpy()
    assert np.isclose(loss_m, loss_n, rtol=1e-4), (kind, loss_m, loss_n)
    for k, g in grads_n.items():
        assert grads_m[k].dtype == np.float32, (kind, k, grads_m[k].dtype)
        assert np.allclose(grads_m[k], g, rtol=1e-3, atol=1e-3 * np.abs(g).max()), (kind, k)


def interleaved_best(fa, fb, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` wall times of ``fa`` and ``fb``, run alternately.

    Alternating keeps a change in machine load from favouring one side of the ratio.
    """
    fa(), fb()  # warm up
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def peak_memory(fn) -> int:
    fn()  # warm up (first-call allocations)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    for kind in MODELS:
        check_same(kind)
    print(f"one thread, float32, N={N}, H_in={H_IN}, H={H}; fwd+bwd of sum(h_t^2) over all outputs")
    for kind, T, target in (("RNN", 100, 1.5), ("LSTM", 64, 1.3), ("GRU", 64, 1.3)):
        run_minigrad, run_numpy = setup(kind, T)
        t_m, t_n = interleaved_best(run_minigrad, run_numpy, REPEATS)
        _timing.report(f"{kind} T={T}", t_m, t_n, target)

    print("\ncost linear in T: time per step at T=800 / at T=50 (target <= 1.25)")
    for kind in MODELS:
        per_step = {}
        for T in (50, 800):
            run_minigrad, _ = setup(kind, T)
            per_step[T] = _timing.best_time(run_minigrad, max(3, REPEATS // 2)) / T
        ratio = per_step[800] / per_step[50]
        verdict = "ok" if ratio <= 1.25 else "MISSED"
        print(
            f"{kind:<5} per step: T=50 {per_step[50] * 1e6:7.1f} us   "
            f"T=800 {per_step[800] * 1e6:7.1f} us   ratio {ratio:4.2f}  ({verdict})"
        )

    print("\npeak memory (tracemalloc), LSTM T=64 (target <= 1.5x)")
    run_minigrad, run_numpy = setup("LSTM", 64)
    m_m, m_n = peak_memory(run_minigrad), peak_memory(run_numpy)
    verdict = "ok" if m_m / m_n <= 1.5 else "MISSED"
    print(
        f"LSTM T=64 peak memory: minigrad {m_m / 2**20:6.2f} MiB   numpy {m_n / 2**20:6.2f} MiB   "
        f"ratio {m_m / m_n:4.2f}x  ({verdict})"
    )


if __name__ == "__main__":
    main()
