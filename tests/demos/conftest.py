"""Make the demo scripts in ``demos/`` importable by name and keep matplotlib headless."""

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
DEMOS = Path(__file__).resolve().parents[2] / "demos"
if str(DEMOS) not in sys.path:
    sys.path.insert(0, str(DEMOS))
