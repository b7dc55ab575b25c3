"""Shared benchmark plumbing: one thread, best-of-N wall time with the two sides in turn, ratio printing.

Import this module *before* NumPy anywhere else, so the BLAS thread count is set
before the library loads.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402


def best_times_alternating(
    fns: list[Callable[[], object]], repeats: int = 7, warmup: int = 2, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """The minimum time of each function (wall time, or ``clock=time.process_time`` for CPU time),
    the functions run in turn (a, b, a, b, ...).

    The project's VM has slow phases lasting seconds: timing one side's runs and then the
    other's put them in different phases, and the chain's ratio ranged 2.8x to 6.0x over seven
    runs of the same code. Run in turn, both sides see the same phases.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = clock()
            fn()
            ts.append(clock() - t0)
    return [min(ts) for ts in times]


def report(name: str, t_minigrad: float, t_numpy: float, target: float) -> float:
    """Print one row: both times and the ratio minigrad / NumPy against its target."""
    ratio = t_minigrad / t_numpy
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{name:<38} minigrad {t_minigrad * 1e3:9.2f} ms   numpy {t_numpy * 1e3:9.2f} ms   "
        f"ratio {ratio:5.2f}x  (target <= {target}x: {verdict})"
    )
    return ratio
