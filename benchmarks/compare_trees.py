"""Before and after: the same workloads on two checkouts of minigrad, interleaved, in one run.

    git worktree add --detach /tmp/before <commit>
    python benchmarks/compare_trees.py /tmp/before .          # --rounds 8 by default

Each tree is timed with *its own* ``benchmarks/bench_core.py`` and ``bench_rnn.py`` (the
workloads are the same code in both) and its own ``minigrad``, every measurement in a fresh
process, the two trees alternating round by round: before, after, before, after, ... On a shared
VM the speed of the same code drifts by 10% and more over a minute, so only measurements taken
side by side in time can be compared. Each process times one side of one workload, minigrad
or the hand-written NumPy version of it (the control: if NumPy moved too, the machine did), and
reports the best CPU time (``time.process_time``) of its runs. One side per process, as in
``bench_rnn.py``: with both in one process, the heap minigrad's GRU left behind made the NumPy
GRU after it 9% slower in one tree than in the other, though the NumPy code is the same.

The drift is not even: on the project VM, twelve runs of the *same* tree's 2,000-op chain within
a minute gave 25.0 to 32.0 ms while the NumPy chain in the same processes stayed at 5.4 to 5.7 ms
(Python-heavy code, with its larger working set, feels the neighbours more). So the headline is
the **paired ratio**: the median over rounds of after / before *within* a round, two runs
seconds apart. The minimum and the median over rounds of each tree are printed too. Peak
memory (tracemalloc) is deterministic and measured once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# workload name -> (module, what to time); "rnn:KIND:T" workloads use bench_rnn.setup(KIND, T)
WORKLOADS = {
    "MLP step": ("bench_core", "mlp"),
    "chain of 2,000 ops": ("bench_core", "chain"),
    "RNN T=100": ("bench_rnn", "rnn:RNN:100"),
    "LSTM T=64": ("bench_rnn", "rnn:LSTM:64"),
    "GRU T=64": ("bench_rnn", "rnn:GRU:64"),
    "RNN T=50": ("bench_rnn", "rnn:RNN:50"),
    "RNN T=800": ("bench_rnn", "rnn:RNN:800"),
    "LSTM T=50": ("bench_rnn", "rnn:LSTM:50"),
    "LSTM T=800": ("bench_rnn", "rnn:LSTM:800"),
    "GRU T=50": ("bench_rnn", "rnn:GRU:50"),
    "GRU T=800": ("bench_rnn", "rnn:GRU:800"),
    "RNN jacobians()": ("bench_bptt", "bptt:RNN"),
    "LSTM jacobians()": ("bench_bptt", "bptt:LSTM"),
    "GRU jacobians()": ("bench_bptt", "bptt:GRU"),
}


def best_cpu(fn, repeats: int, warmup: int = 2) -> float:
    """The least CPU time of ``repeats`` calls of ``fn``, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def bptt_numpy_control(bench_bptt):
    """The control for the jacobians() workloads: the tanh RNN's T Jacobians diag(1 − h²) W_hh in NumPy."""
    T, N, H = bench_bptt.T, bench_bptt.N, bench_bptt.H
    rng = np.random.default_rng(0)
    h, W = rng.uniform(-1, 1, (T, N, H)).astype(np.float32), rng.normal(size=(H, H)).astype(np.float32)
    return lambda: (1 - h * h)[..., None] * W


def worker(tree: str, what: str, side: str) -> None:
    """(In a fresh process whose path starts at ``tree``.) Time one side of a workload; print JSON."""
    sys.path[:0] = [os.path.join(tree, "benchmarks"), tree]
    import minigrad

    if not os.path.abspath(minigrad.__file__).startswith(os.path.abspath(tree)):
        raise SystemExit(f"imported minigrad from {minigrad.__file__}, not from {tree}")
    if what == "memory":
        import bench_rnn

        run_minigrad, _ = bench_rnn.setup("LSTM", 64)
        print(json.dumps({"peak": bench_rnn.peak_memory(run_minigrad)}))
        return
    if what.startswith("bptt:"):  # Trajectory.jacobians() of bench_bptt.py's layer
        import bench_bptt

        _, jacobians = bench_bptt.setup(bench_bptt.LAYERS[what.split(":")[1]])
        ours, numpy_side = jacobians, bptt_numpy_control(bench_bptt)
        print(json.dumps({"cpu": best_cpu(ours if side == "minigrad" else numpy_side, 3, warmup=1)}))
        return
    if what in ("mlp", "chain"):
        import bench_core

        ours, numpy_side = getattr(bench_core, f"{what}_minigrad"), getattr(bench_core, f"{what}_numpy")
        repeats = 15
    else:
        import bench_rnn

        _, kind, T = what.split(":")
        ours, numpy_side = bench_rnn.setup(kind, int(T))
        repeats = 10 if int(T) <= 100 else 3
    print(json.dumps({"cpu": best_cpu(ours if side == "minigrad" else numpy_side, repeats)}))


def fresh_process(tree: str, what: str, side: str = "minigrad") -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", os.path.abspath(tree), what, side]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tree, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(before: str, after: str, rounds: int, only: list | None = None) -> None:
    trees = {"before": before, "after": after}
    workloads = {name: w for name, w in WORKLOADS.items() if not only or any(o in name for o in only)}
    times = {(side, name): [] for side in trees for name in workloads}
    controls = {(side, name): [] for side in trees for name in workloads}
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}", file=sys.stderr)
        for name, (_, what) in workloads.items():
            for side, tree in trees.items():
                times[(side, name)].append(fresh_process(tree, what, "minigrad")["cpu"])
                controls[(side, name)].append(fresh_process(tree, what, "numpy")["cpu"])
    peaks = {side: fresh_process(tree, "memory")["peak"] for side, tree in trees.items()}

    print(f"before: {before}\nafter:  {after}\n{rounds} rounds, interleaved; best CPU time per process\n")
    print(f"{'':<20}{'before':>20}{'after':>20}{'after / before':>30}{'NumPy control':>16}")
    print(f"{'workload':<20}{'min / median':>20}{'min / median':>20}{'paired':>10}{'mins':>10}"
          f"{'medians':>10}{'paired':>16}")  # fmt: skip
    for name in workloads:
        b, a = times[("before", name)], times[("after", name)]
        nb, na = controls[("before", name)], controls[("after", name)]
        paired = statistics.median([x / y for x, y in zip(a, b)])
        control = statistics.median([x / y for x, y in zip(na, nb)])
        print(
            f"{name:<20}{min(b) * 1e3:10.2f} /{statistics.median(b) * 1e3:7.2f} ms"
            f"{min(a) * 1e3:10.2f} /{statistics.median(a) * 1e3:7.2f} ms"
            f"{paired:10.3f}{min(a) / min(b):10.3f}{statistics.median(a) / statistics.median(b):10.3f}"
            f"{control:16.3f}"
        )
    print("\ntime per step, T=800 / T=50 (from the minima)")
    for kind in [k for k in ("RNN", "LSTM", "GRU") if f"{k} T=800" in workloads and f"{k} T=50" in workloads]:
        ratios = [min(times[(side, f"{kind} T=800")]) / 800 / (min(times[(side, f"{kind} T=50")]) / 50)
                  for side in trees]  # fmt: skip
        print(f"  {kind:<5} before {ratios[0]:.2f}   after {ratios[1]:.2f}")
    print("\nLSTM T=64 peak memory (tracemalloc): "
          f"before {peaks['before'] / 2**20:.2f} MiB, after {peaks['after'] / 2**20:.2f} MiB")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("before", help="a checkout of minigrad (e.g. a git worktree of the old commit)")
        parser.add_argument("after", nargs="?", default=".", help="another checkout (default: this one)")
        parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds (default 8)")
        parser.add_argument("--only", nargs="*", help="run only the workloads whose name contains one of these")
        args = parser.parse_args()
        main(args.before, args.after, args.rounds, args.only)
