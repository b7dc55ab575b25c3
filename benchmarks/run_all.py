"""Run every benchmark script in this folder, one after the other, each in a fresh process.

A fresh process per script keeps one benchmark's memory and caches from skewing the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name}", flush=True)
        status |= subprocess.call([sys.executable, str(script)], cwd=HERE)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
