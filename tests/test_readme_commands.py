"""README's Quick start commands are what CI runs (.ci/readme_commands.py), and the test extra suffices."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
_spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
readme_commands = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_commands)


def test_the_two_quick_start_commands_are_extracted_verbatim():
    cmds = readme_commands.quick_start_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(cmds) == 2
    demo, tests = cmds
    assert demo.startswith("python3 -m venv .venv && ") and demo.endswith("demos/run_all.py")
    assert '.venv/bin/pip install -q -e ".[test]"' in tests and "pytest" in tests
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_commands.py")], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert out.split("\0")[:-1] == cmds


def test_only_the_quick_start_section_counts_and_errors_are_clear():
    text = "# x\n## Quick start\n```bash\na\n```\ntext\n```python\nno\n```\n```bash\nb\n```\n## Next\n```bash\nc\n```\n"
    assert readme_commands.quick_start_commands(text) == ["a", "b"]
    with pytest.raises(ValueError, match="never closed"):
        readme_commands.quick_start_commands("## Quick start\n```bash\na\n")


def test_readme_says_quick_is_what_ci_appends():
    # .ci/run appends --quick to the demo command; that is honest only while README says what it does
    assert "add `--quick` for a one-minute version" in (ROOT / "README.md").read_text(encoding="utf-8").lower()


def _extra(name: str) -> set[str]:
    line = re.search(rf"^{name} = \[(.*)\]", (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    return {re.match(r'"([A-Za-z0-9_-]+)', part.strip()).group(1).lower() for part in line.split(",")}


def _imported_modules(paths) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_test_extra_installs_every_third_party_module_the_tests_use():
    # the tests import the demos and minigrad (GradientMonitor.plot imports matplotlib lazily): scan all three
    imported = _imported_modules(p for d in ("tests", "demos", "minigrad") for p in (ROOT / d).rglob("*.py"))
    local = {p.stem for p in ROOT.rglob("*.py")} | {"minigrad", "tests"}  # demos, test helpers
    third_party = {name for name in imported if name not in sys.stdlib_module_names} - local
    # numpy: a runtime dependency; torch: only the fixture scripts; tomli: an optional fallback (course kit);
    # the viz and notebooks extras: their tests skip with a reason (but the demo tests always need matplotlib)
    optional = {"numpy", "torch", "tomli"} | (_extra("viz") | _extra("notebooks")) - _extra("demos")
    optional |= {"_hypothesis_pytestplugin", "_pytest"}  # modules that hypothesis and pytest themselves install
    missing = third_party - _extra("test") - optional
    assert not missing, f"the test extra misses {sorted(missing)}"
