"""One isolated pytest run on a tree: what ``make`` (collect), ``grade`` and ``check`` share.

The run: ``python -I -B minigrad/course/_runner.py TREE PLUGIN -- ids...`` with the tree as the
working directory, pytest's configuration from a file the kit writes (``-c``; nothing from the
tree's pyproject.toml), ``--rootdir`` and ``--confcutdir`` at the tree, no cache, plugin
autoloading off, a clean environment (no proxies, ``HOME`` and temporary files in a fresh
folder), and a timeout after which the whole process group is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_HERE = Path(__file__).resolve().parent
RUNNER = _HERE / "_runner.py"
PLUGIN = _HERE / "_pytest_plugin.py"
_CONFIG = "[pytest]\naddopts =\npython_files = test_*.py\n"


@dataclass
class RunResult:
    """What one run gave: exit code (None: timed out), output, and the plugin's records."""

    code: int | None
    output: str
    collected: list[str] = field(default_factory=list)
    tests: dict = field(default_factory=dict)  # node id -> {"outcome": ..., "message": ...}
    collect_errors: dict = field(default_factory=dict)  # file -> error text


def clean_env(tmp: Path) -> dict:
    """The environment of a run: only what Python and NumPy need, nothing of the caller's."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp / "hypothesis"),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }  # fmt: skip
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[proxy] = ""
    env["no_proxy"] = env["NO_PROXY"] = "*"
    if os.name == "nt":  # Python needs it there
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
    return env


def run_pytest(tree: Path, args: list[str], timeout: float, collect_only: bool = False,
               env: dict | None = None) -> RunResult:  # fmt: skip
    """Run pytest with ``args`` (node ids, options) in ``tree``, isolated (see the module docstring).

    ``env``: variables added to the clean environment.
    """
    tree = Path(tree).resolve()
    with tempfile.TemporaryDirectory(prefix="minigrad-course-") as tmp:
        tmp = Path(tmp)
        config = tmp / "pytest.ini"
        config.write_text(_CONFIG, encoding="utf-8")
        results = tmp / "results.json"
        extra, env = env, clean_env(tmp)
        env.update(extra or {})
        env["MINIGRAD_COURSE_RESULTS"] = str(results)
        cmd = [sys.executable, "-I", "-B", str(RUNNER), str(tree), str(PLUGIN), "--", *args,
               "-c", str(config), "--rootdir", str(tree), "--confcutdir", str(tree),
               "-p", "no:cacheprovider", "-p", "no:terminal"]  # fmt: skip
        if collect_only:
            cmd.append("--collect-only")
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)  # fmt: skip
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return RunResult(None, "")
        raw = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}
    output = output.replace(str(tree) + os.sep, "").replace(str(tree), ".")
    return RunResult(proc.returncode, output, raw.get("collected", []), raw.get("tests", {}),
                     raw.get("collect_errors", {}))  # fmt: skip


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the run and anything it started (it is the leader of its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.communicate()


def selects(selector: str, nodeid: str) -> bool:
    """Whether the path or node id ``selector`` (as given to pytest) covers ``nodeid``."""
    selector = selector.rstrip("/")
    return nodeid == selector or nodeid.startswith((selector + "::", selector + "[", selector + "/"))
