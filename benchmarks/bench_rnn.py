"""Recurrent layers vs hand-written NumPy BPTT (``numpy_rnn.py``): one run, one thread, float32.

Each measurement is forward + backward of $\\mathcal{L} = \\sum_t \\|h_t\\|^2$ over all outputs of a
one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (all parameter gradients; the input needs none),
N=32, H_in=32, H=128, written as a user would: ``(out * out).sum().backward()``.

1. RNN (tanh), T=100: target <= 1.5x.   2. LSTM, T=64 and 3. GRU, T=64: target <= 1.3x.
4. Cost linear in T: time per step at T=800 within 25% of that at T=50 (ratio <= 1.25).
5. Peak memory (tracemalloc) of the LSTM benchmark: target <= 1.5x the hand-written one.

How it measures. Every measurement runs in a **fresh process, alone** (warm-up, then the best
of several runs), minigrad and NumPy alternating process by process, and the best over the
rounds is kept. Fresh and alone because the memory allocator's state carries over: glibc gives
freed memory back to the OS when a large block at the top of the heap is freed, and touching
fresh pages again costs about 2 us per 4 KiB page on the project's VM -- so in one shared
process whichever side runs second inherits (or pays for) the other's heap, and ratios swung
from 1.2x to 1.5x with the order alone. Page faults per run are printed (last column). Two
clocks: **CPU time** of the process (``time.process_time``: the run's own cost, including the
kernel's work for its page faults, not time spent waiting for a core while other processes
run) and **wall time**; on an idle machine they agree, on a shared one wall times swing, so
the verdicts use CPU time and both are printed. ``MALLOC_TRIM_THRESHOLD_=268435456
MALLOC_MMAP_THRESHOLD_=67108864`` removes the page-fault cost for both sides (a diagnostic,
not the headline: the default allocator is).

Run: ``python benchmarks/bench_rnn.py`` (``--quick`` for fewer repeats). Both implementations
are first checked to give the same loss and gradients.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tracemalloc

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np
import numpy_rnn

import minigrad as mg

N, H_IN, H = 32, 32, 128
REPEATS = 4 if "--quick" in sys.argv else 10
ROUNDS = 2 if "--quick" in sys.argv else 3
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


def worker(impl: str, kind: str, T: int, repeats: int) -> None:
    """(In a fresh process.) Time one implementation alone; print the result as JSON."""
    run_minigrad, run_numpy = setup(kind, T)
    (timing,) = interleaved([run_minigrad if impl == "minigrad" else run_numpy], repeats)
    print(json.dumps({"cpu": timing.best_cpu, "wall": timing.best_wall,
                      "faults": timing.median_faults}))  # fmt: skip


def fresh_process(impl: str, kind: str, T: int, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", impl, kind, str(T), str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(kind: str, T: int, rounds: int = ROUNDS, repeats: int = REPEATS) -> dict:
    """Best CPU/wall time and faults of each implementation, each alone in fresh processes."""
    best = {}
    for _ in range(rounds):
        for impl in ("minigrad", "numpy"):
            r = fresh_process(impl, kind, T, repeats)
            b = best.setdefault(impl, dict(r))
            b["cpu"], b["wall"] = min(b["cpu"], r["cpu"]), min(b["wall"], r["wall"])
            b["faults"] = min(b["faults"], r["faults"])
    return best


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
    print(f"each side alone in fresh processes, {ROUNDS} rounds x best of {REPEATS}; CPU time\n")
    print(f"{'':<10}{'minigrad cpu':>13}{'numpy cpu':>11}{'ratio':>8}{'target':>8}"
          f"{'':>8}{'wall: minigrad':>16}{'numpy':>8}{'ratio':>7}{'faults m/n':>14}")  # fmt: skip
    for kind, T, target in (("RNN", 100, 1.5), ("LSTM", 64, 1.3), ("GRU", 64, 1.3)):
        b = compare(kind, T)
        m, n = b["minigrad"], b["numpy"]
        r_cpu, r_wall = m["cpu"] / n["cpu"], m["wall"] / n["wall"]
        print(
            f"{kind + f' T={T}':<10}{m['cpu'] * 1e3:10.2f} ms{n['cpu'] * 1e3:8.2f} ms"
            f"{r_cpu:7.2f}x{target:7.2f}x  {verdict(r_cpu, target):<6}"
            f"{m['wall'] * 1e3:13.2f} ms{n['wall'] * 1e3:6.2f} ms{r_wall:6.2f}x"
            f"{m['faults']:8.0f}/{n['faults']:.0f}"
        )

    print("\ncost linear in T: time per step at T=800 / at T=50 (target <= 1.25), CPU time")
    for kind in MODELS:
        per_step = {T: compare(kind, T, rounds=2, repeats=reps)
                    for T, reps in ((50, REPEATS), (800, max(2, REPEATS // 4)))}  # fmt: skip
        m50, m800 = per_step[50]["minigrad"]["cpu"] / 50, per_step[800]["minigrad"]["cpu"] / 800
        n_ratio = per_step[800]["numpy"]["cpu"] / per_step[50]["numpy"]["cpu"] / 16
        ratio = m800 / m50
        print(
            f"{kind:<5} minigrad per step: T=50 {m50 * 1e6:6.1f} us   T=800 {m800 * 1e6:6.1f} us"
            f"   ratio {ratio:4.2f}  ({verdict(ratio, 1.25)})   [numpy {n_ratio:4.2f}]"
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
    if "--worker" in sys.argv:
        i = sys.argv.index("--worker")
        impl, kind, T, repeats = sys.argv[i + 1:i + 5]
        worker(impl, kind, int(T), int(repeats))
    else:
        main()
