"""``grade``: run each task's graded tests in a student copy and score them.

The tests run in ``python -m pytest`` (this interpreter) with the student copy as the
working directory and first on ``PYTHONPATH``, so they exercise the copy's code, not an
installed minigrad. Tasks named by node ids share one pytest run; a task selected by
markers or a keyword, or one the shared run could not report on, gets its own.
A task earns ``points * passed / collected``: a failing, erroring or skipped test earns
nothing. Results are read from pytest's JUnit XML.
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
class GradedTest:
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
    tests: list[GradedTest] = field(default_factory=list)


@dataclass
class Report:
    title: str
    directory: str
    earned: float
    max_points: float
    tasks: list[TaskResult]
    import_error: str = ""  # why ``import minigrad`` fails in the copy, if it does

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


def parse_junit(path: Path) -> list[GradedTest]:
    """One :class:`GradedTest` per ``<testcase>`` in pytest's JUnit XML report."""
    results = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = _first_assertion(el.text or "", el.get("message", ""))
                break
        results.append(GradedTest(_nodeid(case), outcome, message))
    return results


def run_pytest(selection: list[str], directory: Path, pytest_args: list[str], timeout: float):
    """Run pytest on ``selection`` in ``directory``: (exit code or None on timeout, output, tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "report.xml"
        # No terminal output (results come from the XML; the terminal reporter would also run
        # Hypothesis's slow patch writer), no cache, and the grading plugin (see its docstring).
        cmd = [sys.executable, "-m", "pytest", *selection, *pytest_args,
               "-o", "addopts=", "-p", "no:terminal", "-p", "no:cacheprovider",
               "-p", "minigrad_course_grading", "-o", "junit_family=xunit1",
               f"--junitxml={xml}"]  # fmt: skip
        env = student_env(directory, _PLUGIN_DIR)
        env["HYPOTHESIS_STORAGE_DIRECTORY"] = tmp  # keep .hypothesis/ out of the copy
        try:
            proc = subprocess.run(cmd, cwd=directory, env=env,
                                  capture_output=True, text=True, timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            return None, "", []
        tests = parse_junit(xml) if xml.is_file() else []
    return proc.returncode, proc.stdout + proc.stderr, tests


def score(task: Task, code: int | None, output: str, tests: list[GradedTest],
          timeout: float) -> TaskResult:  # fmt: skip
    """A task's result from its graded tests: ``points * passed / total``."""
    result = TaskResult(task.id, task.title, task.points, 0.0, 0, 0)
    if code is None:
        result.error = f"the graded tests did not finish within {timeout:g} s"
    elif not tests or code in (3, 4, 5):
        tail = "\n".join(output.strip().splitlines()[-5:])
        result.error = f"pytest exit code {code}; no graded test ran:\n{tail}".strip()
    else:
        result.tests = tests
        result.total = len(tests)
        result.passed = sum(t.outcome == "passed" for t in tests)
        result.earned = round(task.points * result.passed / result.total, 2)
    return result


def run_task(task: Task, directory: Path, pytest_args: list[str], timeout: float) -> TaskResult:
    """Run one task's graded tests in their own pytest process and score them."""
    code, output, tests = run_pytest(task.pytest_selection(), directory, pytest_args, timeout)
    return score(task, code, output, tests, timeout)


def _selects(selector: str, nodeid: str) -> bool:
    """Whether the path or node id ``selector`` (as given to pytest) covers ``nodeid``.

    Also true when ``nodeid`` is a whole file that failed to collect and ``selector`` is
    inside it: every test of that file is lost.
    """
    selector = selector.rstrip("/")
    return any(
        a == b or a.startswith(b + "::") or a.startswith(b + "[") or a.startswith(b + "/")
        for a, b in ((nodeid, selector), (selector, nodeid))
    )


def run_tasks(tasks: TaskFile, directory: Path, timeout: float, jobs: int) -> list[TaskResult]:
    """Grade every task. Tasks chosen by node ids alone share one pytest run (it is the
    start-up that costs); a task with markers or a keyword, or whose tests the shared run
    could not report, runs on its own."""
    shared = [t for t in tasks.tasks if not t.markers and not t.keyword]
    results: dict[str, TaskResult] = {}
    if len(shared) > 1:
        selection = list(dict.fromkeys(s for t in shared for s in t.tests))
        code, output, tests = run_pytest(selection, directory, tasks.pytest_args, timeout)
        if code in (0, 1, 2) and tests:  # 2: some file failed to collect; it is reported
            for t in shared:
                mine = {r.nodeid: r for r in tests if any(_selects(s, r.nodeid) for s in t.tests)}
                if mine:
                    results[t.id] = score(t, code, output, list(mine.values()), timeout)
    alone = [t for t in tasks.tasks if t.id not in results]
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each task is its own process
        for r in pool.map(lambda t: run_task(t, directory, tasks.pytest_args, timeout), alone):
            results[r.id] = r
    return [results[t.id] for t in tasks.tasks]


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
    """Grade the student copy in ``directory`` (see :func:`run_tasks`)."""
    directory = Path(directory).resolve()
    if not (directory / "minigrad").is_dir():
        raise GradeError(f"{str(directory)!r} is not a student copy: it has no minigrad/ folder")
    tasks = load_manifest(directory, task_file)
    import_error = _check_interpreter_loads_copy(directory)
    if jobs < 1:
        raise GradeError(f"jobs must be at least 1, got {jobs}")
    results = run_tasks(tasks, directory, timeout, jobs)
    earned = round(sum(r.earned for r in results), 2)
    return Report(tasks.title, str(directory), earned, tasks.max_points, results, import_error)


def _check_interpreter_loads_copy(directory: Path) -> str:
    """Why ``import minigrad`` fails in the copy ("" if it works).

    A copy that fails to import is the student's to fix (its tests fail, and the report
    says why); a copy shadowed by another minigrad would grade the wrong code, so that
    stops grading.
    """
    code = "import pathlib, minigrad; print(pathlib.Path(minigrad.__file__).resolve())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=directory, env=student_env(directory),
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode == 0 and directory not in Path(proc.stdout.strip()).parents:
        raise GradeError(f"'import minigrad' in {directory} loads {proc.stdout.strip()}, not the copy")
    if proc.returncode != 0:
        return "\n".join(proc.stderr.strip().splitlines()[-4:])
    return ""


def format_report(report: Report) -> str:
    """The score table: one row per task, then its failing tests with their first assertion."""
    width = max([len(t.title) for t in report.tasks] + [5])
    lines = [report.title, f"graded: {report.directory}", ""]
    if report.import_error:
        lines += [
            "'import minigrad' fails in this copy, so its tests cannot run:",
            *["    " + line for line in report.import_error.splitlines()],
            "",
        ]
    lines.append(f"{'task':<6} {'title':<{width}} {'points':>13}  tests")
    for t in report.tasks:
        points = f"{t.earned:g}/{t.points:g}"
        tests = f"{t.passed}/{t.total} passed" if not t.error else "ERROR"
        lines.append(f"{t.id:<6} {t.title:<{width}} {points:>13}  {tests}")
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
