"""Packaging and reach: the wheel's package is the one under test when CI says so, the example
course ships inside it, README's Colab badges and docs command, and the notebooks' install cell."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCE = re.search(r'^Source = "https://github\.com/([\w.-]+/[\w.-]+)"$', PYPROJECT, re.M).group(1)


def test_each_notebook_has_a_colab_badge_in_the_projects_repository():
    links = re.findall(r"\(https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/main/(notebooks/[\w.]+)\)",
                       README)  # fmt: skip
    assert sorted(path for _, path in links) == [f"notebooks/{p.name}" for p in NOTEBOOKS]
    assert {repo for repo, _ in links} == {SOURCE}, "README's Colab links and pyproject's Source URL differ"


def _first_cell(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["cells"][0]


def _run_first_cell(path: Path, monkeypatch, missing: set) -> list:
    """Run the notebook's first cell with ``missing`` modules absent; return the %pip lines it ran."""
    calls = []

    class Shell:
        def run_line_magic(self, magic, line):
            calls.append((magic, line))

    # every other module counts as installed, whatever this venv has (README's test command installs
    # only the test extra, without ipywidgets): the cell asks find_spec only whether a module is there
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else object())
    exec("".join(_first_cell(path)["source"]), {"get_ipython": Shell})  # noqa: S102 - the notebook's own cell
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_first_cell_installs_only_what_is_missing(path, monkeypatch):
    cell = _first_cell(path)
    assert cell["cell_type"] == "code" and "remove-cell" in cell["metadata"]["tags"]  # not shown on the site
    assert _run_first_cell(path, monkeypatch, set()) == []  # installed (a clone, CI): a no-op
    calls = _run_first_cell(path, monkeypatch, {"minigrad"})  # Colab: minigrad is missing
    assert len(calls) == 1 and calls[0][0] == "pip"
    assert '"minigrad-edu' in calls[0][1] and f"@ git+https://github.com/{SOURCE}\"" in calls[0][1]
    source = "".join(cell["source"])
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"][1:]
    body = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for module in ("matplotlib", "ipywidgets"):  # a module a later cell imports is in the install list
        assert (re.search(rf"^\s*(import|from) {module}\b", body, re.M) is None) == (f'"{module}"' not in source)


def test_readme_has_one_docs_command_and_the_docs_extra_has_what_it_needs():
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    readme_commands = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_commands)
    (cmd,) = readme_commands.quick_start_commands(README, "Documentation site")
    assert '.venv/bin/pip install -q -e ".[docs]"' in cmd
    assert re.search(r"sphinx-build .*-W .*-n .*-c docs/site \. build/site$", cmd)
    docs = re.search(r"^docs = \[(.*?)\]", PYPROJECT, re.M | re.S).group(1)
    for package in ("sphinx", "myst-nb", "furo", "sphinx-mathjax-offline", "ipywidgets", "ipykernel", "matplotlib"):
        assert f'"{package}>=' in docs, package


@pytest.mark.skipif(os.environ.get("MINIGRAD_TEST_INSTALLED") != "1",
                    reason="only in CI's wheel step (MINIGRAD_TEST_INSTALLED=1)")  # fmt: skip
def test_the_package_under_test_is_the_installed_wheel():
    here = Path(minigrad.__file__).resolve()
    assert "site-packages" in here.parts, f"minigrad imported from {here}, not from an installed wheel"
    assert ROOT not in here.parents, f"minigrad imported from the source tree: {here}"
    assert not Path(sys.prefix, "lib").joinpath(f"python{sys.version_info[0]}.{sys.version_info[1]}",
                                                "site-packages", "_minigrad_edu.pth").exists()  # fmt: skip
    example = here.parent / "course" / "example"
    assert (example / "example_tasks.toml").read_bytes() == (ROOT / "course" / "example_tasks.toml").read_bytes()
    shipped = sorted(p.relative_to(example / "hidden").as_posix() for p in (example / "hidden").rglob("*.py"))
    assert shipped == sorted(p.relative_to(ROOT / "course" / "hidden").as_posix()
                             for p in (ROOT / "course" / "hidden").rglob("*.py"))  # fmt: skip
