"""Run every demo and write an index (``<out>/index.md``) with all their tables and figures.

    python demos/run_all.py            # full sizes (< 5 min on 2 cores); everything -> demos/out/
    python demos/run_all.py --quick    # small sizes (< 60 s), what CI runs; the same files, smaller runs
    python demos/run_all.py --only scalar_chain,activations
    python demos/run_all.py --docs     # full run, then copy its figures to docs/figures/

Every run writes only to ``--out`` (default ``demos/out/``, which git ignores), so running the
demos leaves a clone's ``git status`` clean. ``--docs`` regenerates the README gallery's figures
in ``docs/figures/``: a full run only (the gallery's captions quote the full run), after all demos ran.
Every demo in ``DEMOS`` is run; a missing module or a demo that raises is reported and makes
the exit status non-zero: nothing is skipped silently.
"""

from __future__ import annotations

import os

# The demos multiply small matrices: BLAS threads only add overhead (and contend on 2 cores).
# Set before anything imports NumPy; an explicit setting in the environment wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import DEFAULT_OUT, REPO  # noqa: E402  (needs the sys.path line above)

# The demos in reading order. Adding a demo is adding its module name here.
DEMOS: tuple[str, ...] = (
    "scalar_chain",
    "activations",
    "deep_mlp",
    "rnn_gradient_flow",
    "spectral_sweep",
    "gated_vs_vanilla",
    "long_range",
    "clipping",
    "lr_zero_baseline",
    "monitor",
    "remedies_cells",
    "remedies_training",
    "spectral_tracking",
    "three_ways",
    "edge_of_chaos",
    "cliff",
    "latching",
    "attention_path",
)
DOCS_FIGURES = REPO / "docs" / "figures"


def main(argv: list[str] | None = None) -> int:
    """Run the demos; write ``index.md``; return the process exit status (0 when all ran)."""
    p = argparse.ArgumentParser(description="Run every minigrad demo and write an index.")
    p.add_argument("--quick", action="store_true", help="small sizes (what CI runs)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default=None, help="comma-separated demo names (default: all)")
    p.add_argument("--docs", action="store_true",
                   help="also copy the figures to docs/figures/ (full run only; default: demos/out only)")
    args = p.parse_args(argv)
    if args.docs and args.quick:
        p.error("--docs regenerates docs/figures/, whose captions quote the full run: drop --quick")

    names = DEMOS
    if args.only:
        names = tuple(n.strip() for n in args.only.split(",") if n.strip())
        unknown = [n for n in names if n not in DEMOS]
        if unknown:
            p.error(f"--only: unknown demo(s) {unknown}; expected names from {list(DEMOS)}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    sections, failures, timings = [], [], []
    total_start = time.perf_counter()
    mode = "quick" if args.quick else "full"
    for i, name in enumerate(names, 1):
        start = time.perf_counter()
        _progress(f"[{i}/{len(names)}] {name}: starting ({mode} mode, {start - total_start:.1f} s elapsed)")
        try:
            module = importlib.import_module(name)  # a missing file fails here, loudly
            numbers = module.main(quick=args.quick, out=out, seed=args.seed)
        except Exception:  # noqa: BLE001  (report every failure, then fail at the end)
            traceback.print_exc()
            failures.append(name)
            sections.append(f"## {name}\n\n**FAILED** (see the run's output)\n")
            timings.append((name, time.perf_counter() - start, "-", "FAILED"))
            _progress(f"[{i}/{len(names)}] {name}: FAILED after {time.perf_counter() - start:.1f} s")
            continue
        seconds = time.perf_counter() - start
        used = _seeds_text(numbers, args.seed)
        timings.append((name, seconds, used, "ok"))
        _progress(f"[{i}/{len(names)}] {name}: done in {seconds:.1f} s, seeds {used} "
                  f"({time.perf_counter() - total_start:.1f} s elapsed)")
        body = (out / f"{name}.md").read_text()
        sections.append(f"## {name}\n\n*{seconds:.1f} s, seeds {used}*\n\n{body}")
        print()
    total = time.perf_counter() - total_start

    (out / "index.md").write_text(index_header(mode, args.seed, total, timings) + "\n\n" + "\n".join(sections))
    print(f"wrote {out / 'index.md'} ({mode} run, {total:.1f} s)")

    if args.docs and not failures:
        DOCS_FIGURES.mkdir(parents=True, exist_ok=True)
        figures = sorted(f for n in names for f in out.glob(f"{n}_*.png"))
        for f in figures:
            shutil.copy2(f, DOCS_FIGURES / f.name)
        print(f"copied {len(figures)} figures to {DOCS_FIGURES}")
    if failures:
        print(f"FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def index_header(mode: str, seed: int, total: float, timings: list[tuple[str, float, str, str]]) -> str:
    """The index's title and its table of demos: (name, seconds, seeds, status) per row."""
    lines = [f"# minigrad demos ({mode} run, base seed {seed}, {total:.1f} s)", "",
             "| demo | seconds | seeds | status |", "|---|---:|---|---|"]
    lines += [f"| [{n}](#{n}) | {s:.1f} | {sd} | {st} |" for n, s, sd, st in timings]
    return "\n".join(lines)


def _progress(message: str) -> None:
    """One progress line on stderr (stdout keeps the demos' tables), flushed at once for CI logs."""
    print(message, file=sys.stderr, flush=True)


def _seeds_text(numbers, seed: int) -> str:
    """The seeds a demo ran: its ``numbers["seeds"]`` if it reports them (stochastic demos), else
    the one ``seed`` it was given."""
    used = numbers.get("seeds") if isinstance(numbers, dict) else None
    return ", ".join(str(s) for s in used) if used else str(seed)


if __name__ == "__main__":
    sys.exit(main())
