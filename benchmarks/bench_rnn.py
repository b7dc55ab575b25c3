"""Recurrent layers vs hand-written NumPy BPTT (``numpy_rnn.py``): one run, one thread, float32.

Each measurement is forward + backward of $\\mathcal{L} = \\sum_t \\|h_t\\|^2$ over all outputs of a
one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (all parameter gradients; the input needs none),
N=32, H_in=32, H=128, written as a user would: ``(out * out).sum().backward()``.

1. RNN (tanh), T=100: target <= 1.5x.   2. LSTM, T=64 and 3. GRU, T=64: target <= 1.3x.
4. Cost linear in T: time per step at T=800 within 25% of that at T=50 (ratio <= 1.25).
5. Peak memory (tracemalloc) of the LSTM benchmark: target <= 1.5x the hand-written one.

How it measures. The two sides run alternately (a change in machine load cannot favour one),
after warm-ups, and each keeps its best run. Two clocks: **CPU time** of the process
(``time.process_time``: what the run itself costs, including the kernel's work for its page
faults, but not time spent waiting for a core while other processes run) and **wall time**.
On an idle machine they agree; on a shared one wall times swing by 2x between runs, so the
verdicts use CPU time and both are printed.

Page faults (the last column) matter more than one would think: glibc hands freed memory
back to the OS when a large block at the top of the heap is freed, so every iteration
touches fresh pages again, and a first touch costs about 2 us per 4 KiB page on the project's
VM. The count per iteration tracks peak memory; minigrad's extra is mostly the autograd
graph's (the loss's gradient, (T, N, H), as one array). Run with
``MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=67108864`` to see both sides
without that cost (not the headline figure: the default allocator is).

Run: ``python benchmarks/bench_rnn.py`` (``--quick`` for fewer repeats). Both implementations
are first checked to give the same loss and gradients.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np
import numpy_rnn

import minigrad as mg

N, H_IN, H = 32, 32, 128
REPEATS = 7 if "--quick" in sys.argv else 25
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


class Timing:
    """Best CPU time, best wall time and median page faults of one function's runs."""

    def __init__(self) -> None:
        self.cpu, self.wall, self.faults = [], [], []

    def run(self, fn) -> None:
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        c1, w1 = time.process_time(), time.perf_counter()
        self.cpu.append(c1 - c0)
        self.wall.append(w1 - w0)
        self.faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)

    @property
    def best_wall(self) -> float:
        return min(self.wall)

    @property
    def median_faults(self) -> float:
        return float(np.median(self.faults))


def interleaved(fns, repeats: int, warmup: int = 2) -> list[Timing]:
    """Run ``fns`` alternately ``repeats`` times after ``warmup`` rounds; one Timing each."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    timings = [Timing() for _ in fns]
    for _ in range(repeats):
        for fn, timing in zip(fns, timings):
            timing.run(fn)
    return timings


def verdict(ratio: float, target: float) -> str:
    return "ok" if ratio <= target else "MISSED"


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
    print(f"one thread, float32, N={N}, H_in={H_IN}, H={H}; fwd+bwd of sum(h_t^2) over all outputs;")
    print(f"interleaved, best of {REPEATS}; ratios of CPU time (wall time in brackets)\n")
    print(f"{'':<10}{'minigrad cpu':>13}{'numpy cpu':>11}{'ratio':>8}{'target':>8}"
          f"{'':>8}{'wall: minigrad':>16}{'numpy':>8}{'ratio':>7}{'faults m/n':>14}")  # fmt: skip
    for kind, T, target in (("RNN", 100, 1.5), ("LSTM", 64, 1.3), ("GRU", 64, 1.3)):
        m, n = interleaved(setup(kind, T), REPEATS)
        r_cpu, r_wall = m.best_cpu / n.best_cpu, m.best_wall / n.best_wall
        print(
            f"{kind + f' T={T}':<10}{m.best_cpu * 1e3:10.2f} ms{n.best_cpu * 1e3:8.2f} ms"
            f"{r_cpu:7.2f}x{target:7.2f}x  {verdict(r_cpu, target):<6}"
            f"{m.best_wall * 1e3:13.2f} ms{n.best_wall * 1e3:6.2f} ms{r_wall:6.2f}x"
            f"{m.median_faults:8.0f}/{n.median_faults:.0f}"
        )

    print("\ncost linear in T: time per step at T=800 / at T=50 (target <= 1.25), CPU time")
    for kind in MODELS:
        per_step = {}
        for T, repeats in ((50, REPEATS), (800, max(3, REPEATS // 4))):
            m, n = interleaved(setup(kind, T), repeats, warmup=1)
            per_step[T] = (m.best_cpu / T, n.best_cpu / T, m.best_wall / T)
        ratio = per_step[800][0] / per_step[50][0]
        print(
            f"{kind:<5} minigrad per step: T=50 {per_step[50][0] * 1e6:6.1f} us   "
            f"T=800 {per_step[800][0] * 1e6:6.1f} us   ratio {ratio:4.2f}  ({verdict(ratio, 1.25)})"
            f"   [numpy {per_step[800][1] / per_step[50][1]:4.2f};"
            f" minigrad wall {per_step[800][2] / per_step[50][2]:4.2f}]"
        )

    print("\npeak memory (tracemalloc), T=64 (target for the LSTM <= 1.5x)")
    for kind in MODELS:
        run_minigrad, run_numpy = setup(kind, 64)
        m_m, m_n = peak_memory(run_minigrad), peak_memory(run_numpy)
        note = f"  ({verdict(m_m / m_n, 1.5)})" if kind == "LSTM" else ""
        print(
            f"{kind:<5} T=64 peak memory: minigrad {m_m / 2**20:6.2f} MiB   numpy {m_n / 2**20:6.2f} MiB"
            f"   ratio {m_m / m_n:4.2f}x{note}"
        )


if __name__ == "__main__":
    main()
