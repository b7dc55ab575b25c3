"""Make the demo scripts in ``demos/`` importable by name, keep matplotlib headless, and run each
demo once per test session in the mode the tests check.

The mode comes from the environment variable ``MINIGRAD_DEMO_MODE``: ``quick`` (the default, what
a plain ``pytest`` runs) or ``full`` (the sizes and seeds that made ``docs/figures/`` and the
numbers README quotes)::

    MINIGRAD_DEMO_MODE=full python -m pytest tests/demos -q -p no:cacheprovider

Every demo test asks the session-scoped ``demo_run`` fixture for ``(out, numbers)``; the demo's
``main`` runs at most once per session, so the full-mode tests cost one full run of each demo.
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
DEMOS = Path(__file__).resolve().parents[2] / "demos"
if str(DEMOS) not in sys.path:
    sys.path.insert(0, str(DEMOS))

MODES = ("quick", "full")


def demo_mode() -> str:
    """``quick`` or ``full``, from ``MINIGRAD_DEMO_MODE``; anything else is an error, not a guess."""
    mode = os.environ.get("MINIGRAD_DEMO_MODE", "quick").strip().lower()
    if mode not in MODES:
        raise ValueError(f"MINIGRAD_DEMO_MODE must be one of {MODES}, got {mode!r}")
    return mode


FULL = demo_mode() == "full"


@pytest.fixture(scope="session")
def full_mode() -> bool:
    """True when the demo tests check the full run (``MINIGRAD_DEMO_MODE=full``)."""
    return FULL


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``demo_run(name) -> (out, numbers)``: ``demos/<name>.py``'s ``main`` in the session's mode,
    seed 0, run once and cached for the session."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            module = __import__(name)
            out = tmp_path_factory.mktemp(name)
            cache[name] = (out, module.main(quick=not FULL, out=out, seed=0))
        return cache[name]

    return get
