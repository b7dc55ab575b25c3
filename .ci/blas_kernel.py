"""Which OpenBLAS kernel NumPy runs here, and which demo tests depend on it (for .ci/run).

    python .ci/blas_kernel.py            # prints e.g. "openblas 0.3.31 kernel SkylakeX (OPENBLAS_CORETYPE unset)"
    python .ci/blas_kernel.py --tests    # prints the test files of demos/_common.py's KERNEL_DEPENDENT_DEMOS

OpenBLAS picks its kernel by CPU (``OPENBLAS_CORETYPE`` overrides it); the chaotic demos' trajectories
depend on it, so CI runs their tests under two kernels and says which ran. threadpoolctl (in the test
extra) reports the kernel of the BLAS library NumPy loaded; NumPy is imported first so that it is loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def kernel() -> str:
    """The BLAS libraries NumPy loaded: API, version, kernel (threadpoolctl's "architecture")."""
    import numpy  # noqa: F401  (threadpoolctl reports only libraries already loaded)
    import threadpoolctl

    libs = [f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}"
            for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]  # fmt: skip
    if not libs:
        raise SystemExit("no BLAS library found by threadpoolctl")
    return "; ".join(libs) + f" (OPENBLAS_CORETYPE {os.environ.get('OPENBLAS_CORETYPE', 'unset')})"


def kernel_dependent_tests() -> list[str]:
    """tests/demos/test_<name>.py for every demo whose numbers depend on the kernel."""
    sys.path.insert(0, str(REPO / "demos"))
    from _common import KERNEL_DEPENDENT_DEMOS

    paths = [f"tests/demos/test_{name}.py" for name in KERNEL_DEPENDENT_DEMOS]
    missing = [p for p in paths if not (REPO / p).exists()]
    if missing:
        raise SystemExit(f"KERNEL_DEPENDENT_DEMOS names demos without a test file: {missing}")
    return paths


if __name__ == "__main__":
    print(" ".join(kernel_dependent_tests()) if sys.argv[1:] == ["--tests"] else kernel())
