"""Shared benchmark plumbing: one thread, best-of-N wall time, ratio printing.

Import this module *before* NumPy anywhere else, so the BLAS thread count is set
before the library loads.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402


def best_time(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    """The minimum wall time of ``fn()`` over ``repeats`` runs (the least noisy estimate)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def report(name: str, t_minigrad: float, t_numpy: float, target: float) -> float:
    """Print one row: both times and the ratio minigrad / NumPy against its target."""
    ratio = t_minigrad / t_numpy
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{name:<38} minigrad {t_minigrad * 1e3:9.2f} ms   numpy {t_numpy * 1e3:9.2f} ms   "
        f"ratio {ratio:5.2f}x  (target <= {target}x: {verdict})"
    )
    return ratio
