"""``grade``: run each task's graded tests in a student copy and score them.

Each task runs in its own ``python -m pytest`` (this interpreter), with the student copy
as the working directory and first on ``PYTHONPATH``, so the tests exercise the copy's
code, not an installed minigrad. A task earns ``points * passed / collected``; a failing,
erroring or skipped test earns nothing. Results are read from pytest's JUnit XML.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from minigrad.course.make import MANIFEST, student_env
from minigrad.course.tasks import Task, TaskFile, load_tasks

_PLUGIN_DIR = Path(__file__).resolve().parent / "pytest_plugin"


class GradeError(ValueError):
    """Grading cannot run at all (no task file, wrong environment); the message says why."""


@dataclass
class TestResult:
    nodeid: str
    outcome: str  # "passed", "failed", "error" or "skipped"
    message: str = ""  # the first assertion (``E ...``) line of a failure


@dataclass
class TaskResult:
    id: str
    title: str
    points: float
    earned: float
    passed: int
    total: int
    error: str = ""  # set when pytest itself could not run the task's tests
    tests: list[TestResult] = field(default_factory=list)


@dataclass
class Report:
    title: str
    directory: str
    earned: float
    max_points: float
    tasks: list[TaskResult]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _nodeid(case: ET.Element) -> str:
    name, classname, file = case.get("name", ""), case.get("classname", ""), case.get("file")
    if file:
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file
        inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        return "::".join(filter(None, [file, *inner.split("."), name]))
    return "::".join(filter(None, [classname, name]))


def _first_assertion(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("E "):
            return line[1:].strip()
    return (fallback or text).strip().splitlines()[0] if (fallback or text).strip() else ""


def parse_junit(path: Path) -> list[TestResult]:
    """One :class:`TestResult` per ``<testcase>`` in pytest's JUnit XML report."""
    results = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = _first_assertion(el.text or "", el.get("message", ""))
                break
        results.append(TestResult(_nodeid(case), outcome, message))
    return results


def run_task(task: Task, directory: Path, pytest_args: list[str], timeout: float) -> TaskResult:
    """Run one task's graded tests in ``directory`` and score them."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "report.xml"
        # No terminal output (results come from the XML; the terminal reporter would also run
        # Hypothesis's slow patch writer), no cache, and the grading plugin (see its docstring).
        cmd = [sys.executable, "-m", "pytest", *task.pytest_selection(), *pytest_args,
               "-o", "addopts=", "-p", "no:terminal", "-p", "no:cacheprovider",
               "-p", "minigrad_course_grading", "-o", "junit_family=xunit1",
               f"--junitxml={xml}"]  # fmt: skip
        result = TaskResult(task.id, task.title, task.points, 0.0, 0, 0)
        try:
            env = student_env(directory, _PLUGIN_DIR)
            env["HYPOTHESIS_STORAGE_DIRECTORY"] = tmp  # keep .hypothesis/ out of the copy
            proc = subprocess.run(cmd, cwd=directory, env=env,
                                  capture_output=True, text=True, timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            result.error = f"the graded tests did not finish within {timeout:g} s"
            return result
        tests = parse_junit(xml) if xml.is_file() else []
    if not tests or proc.returncode in (3, 4, 5):
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        result.error = f"pytest exit code {proc.returncode}; no graded test ran:\n{tail}"
        return result
    result.tests = tests
    result.total = len(tests)
    result.passed = sum(t.outcome == "passed" for t in tests)
    result.earned = round(task.points * result.passed / result.total, 2)
    return result


def load_manifest(directory: Path, task_file: str | Path | None) -> TaskFile:
    """The tasks to grade: ``task_file`` if given, else the copy's ``.course/tasks.json``."""
    if task_file is not None:
        return load_tasks(task_file)
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise GradeError(f"{directory} has no {MANIFEST} (not made by 'make'?); pass --tasks FILE")
    return load_tasks(manifest)


def grade(directory: str | Path, task_file: str | Path | None = None,
          timeout: float = 600.0, jobs: int = 1) -> Report:  # fmt: skip
    """Grade the student copy in ``directory``: one pytest run per task, ``jobs`` at a time."""
    directory = Path(directory).resolve()
    if not (directory / "minigrad").is_dir():
        raise GradeError(f"{str(directory)!r} is not a student copy: it has no minigrad/ folder")
    tasks = load_manifest(directory, task_file)
    _check_interpreter_loads_copy(directory)
    if jobs < 1:
        raise GradeError(f"jobs must be at least 1, got {jobs}")
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each task is its own process
        results = list(pool.map(lambda t: run_task(t, directory, tasks.pytest_args, timeout),
                                tasks.tasks))  # fmt: skip
    earned = round(sum(r.earned for r in results), 2)
    return Report(tasks.title, str(directory), earned, tasks.max_points, results)


def _check_interpreter_loads_copy(directory: Path) -> None:
    # A copy that fails to import is the student's to fix (its tests fail); a copy that is
    # shadowed by another minigrad would grade the wrong code, so that stops grading.
    code = "import pathlib, minigrad.tensor as t; print(pathlib.Path(t.__file__).resolve())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=directory, env=student_env(directory),
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode == 0 and directory not in Path(proc.stdout.strip()).parents:
        raise GradeError(f"'import minigrad' in {directory} loads {proc.stdout.strip()}, not the copy")


def format_report(report: Report) -> str:
    """The score table: one row per task, then its failing tests with their first assertion."""
    width = max([len(t.title) for t in report.tasks] + [5])
    lines = [report.title, f"graded: {report.directory}", "",
             f"{'task':<6} {'title':<{width}} {'points':>13}  tests"]  # fmt: skip
    for t in report.tasks:
        score = f"{t.earned:g}/{t.points:g}"
        tests = f"{t.passed}/{t.total} passed" if not t.error else "ERROR"
        lines.append(f"{t.id:<6} {t.title:<{width}} {score:>13}  {tests}")
        if t.error:
            lines += ["       " + line for line in t.error.splitlines()]
        for r in t.tests:
            if r.outcome != "passed":
                lines.append(f"       {r.outcome.upper()} {r.nodeid}")
                if r.message:
                    lines.append(f"           {r.message}")
    total = f"{report.earned:g}/{report.max_points:g}"
    lines += ["", f"{'total':<6} {'':<{width}} {total:>13}"]
    return "\n".join(lines)
