"""``check``: the students' local run, in their own copy: the piece rule, then the public tests.

It reads the copy's ``.course/tasks.json`` (the public part of the task file), tells which
pieces ``grade`` would refuse (``rules.py``), and runs each task's ``check`` tests with the
kit's pytest plugin (no Hypothesis *explain* phase, so a stubbed piece fails fast). Passing
them is a good sign, not the grade: the graded tests are hidden and exact.
"""

from __future__ import annotations

from pathlib import Path

from minigrad.course.report import GradedTest, TaskResult, task_feedback
from minigrad.course.rules import violations
from minigrad.course.run import run_pytest
from minigrad.course.stub import PieceError, resolve_piece
from minigrad.course.tasks import TaskFileError, load_tasks
from minigrad.course.tree import MANIFEST, read_source


def check(directory: str | Path = ".", only: str | None = None, timeout: float = 600.0) -> list[TaskResult]:
    """Run the public checks of every task (or task ``only``) in the student copy ``directory``."""
    directory = Path(directory).resolve()
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise TaskFileError(f"{directory} has no {MANIFEST}: run check in a student copy made by 'make'")
    tasks = load_tasks(manifest)
    results = []
    for task in [tasks.task(only)] if only is not None else tasks.tasks:
        result = TaskResult(task.id, task.title, task.points, 0.0, 0, 0, pieces=list(task.pieces))
        problems = []
        for name in task.pieces:
            try:
                piece = resolve_piece(directory, name)
                read_source(piece.path)
            except (PieceError, SyntaxError) as e:
                problems.append(f"{name}: {e}")
                continue
            problems += [f"{name}: {v}" for v in violations(piece.node, set(task.forbid) | set(tasks.forbid))]
        if problems:
            result.error = "grade would refuse this task:\n" + "\n".join(problems)
        if task.check:
            run = run_pytest(directory, task.pytest_selection(public=True) + tasks.pytest_args, timeout)
            if run.code is None:
                result.error += f"\nthe checks did not finish within {timeout:g} s"
            for nodeid in run.collected:
                record = run.tests.get(nodeid, {"outcome": "failed", "message": "did not report"})
                result.tests.append(GradedTest(nodeid, record["outcome"], record["message"]))
            result.total = len(result.tests)
            result.passed = sum(t.outcome == "passed" for t in result.tests)
            if result.total and not problems:
                result.earned = round(task.points * result.passed / result.total, 2)
        results.append(result)
    return results


def check_text(results: list[TaskResult]) -> str:
    """One line per task, then the feedback of every task whose checks did not all pass."""
    lines = []
    for r in results:
        state = "no public checks" if not r.total else f"{r.passed}/{r.total} checks passed"
        lines.append(f"task {r.id:<6} {state}" + ("  (REFUSED by grade as written)" if r.error else ""))
    for r in results:
        if r.error or r.passed < r.total:
            lines += ["", task_feedback(r).split("\n", 1)[-1]]
    return "\n".join(lines)
