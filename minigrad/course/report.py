"""A grading report and its three forms: the score table, JSON, and Gradescope's ``results.json``.

None of them holds an absolute path: the submission is named by its folder's name, tests by
their node ids in the instructor's tree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

SHOWN = 6  # failing tests shown in full per task; the rest are counted


@dataclass
class GradedTest:
    """One graded test: its node id, outcome and failure message."""

    nodeid: str
    outcome: str  # "passed", "failed", "error" or "skipped"
    message: str = ""


@dataclass
class TaskResult:
    """One task's score, the tests behind it, or the error that stopped them."""

    id: str
    title: str
    points: float
    earned: float
    passed: int
    total: int
    error: str = ""  # refused pieces, a timeout, or no test ran
    tests: list[GradedTest] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)

    @property
    def rerun(self) -> str:
        """The local command that reruns this task's check in the student copy."""
        return f"python -m minigrad.course check --task {self.id}"


@dataclass
class Report:
    """Everything ``grade`` found: per task, the total, and the edits it ignored."""

    title: str
    submission: str  # the submission folder's name
    earned: float
    max_points: float
    tasks: list[TaskResult]
    outside_edits: list[str] = field(default_factory=list)
    protections: list[str] = field(default_factory=list)  # what sealed the pieces' process

    def to_json(self) -> str:
        """The report as JSON (for tools other than Gradescope)."""
        return json.dumps(asdict(self), indent=2)


def task_feedback(t: TaskResult) -> str:
    """What a student reads for one task: the pieces, then each failing test's message."""
    lines = [f"Task {t.id} ({', '.join(t.pieces)}): {t.earned:g}/{t.points:g} points"
             + (f", {t.passed}/{t.total} graded tests passed" if t.total else "")]  # fmt: skip
    if t.error:
        lines += ["  " + line for line in t.error.splitlines()]
    failing = [r for r in t.tests if r.outcome != "passed"]
    by_message: dict = {}  # a stub fails every item the same way: say it once
    for r in failing:
        by_message.setdefault(r.message, []).append(r)
    groups = list(by_message.values())
    for same in groups[:SHOWN]:
        r = same[0]
        more = f" (and {len(same) - 1} more with the same message)" if len(same) > 1 else ""
        lines.append(f"  {r.outcome.upper()} {r.nodeid}{more}")
        lines += ["      " + line for line in r.message.splitlines()[:14]]
    if len(groups) > SHOWN:
        lines.append(f"  ... and {sum(map(len, groups[SHOWN:]))} more failing tests")
    if t.error or failing:
        lines.append(f"  rerun locally: {t.rerun}")
    return "\n".join(lines)


def report_text(report: Report) -> str:
    """The score table, then the feedback of every task that lost points, then ignored edits."""
    width = max([len(t.title) for t in report.tasks] + [5])
    lines = [report.title, f"graded: {report.submission}", "",
             f"{'task':<6} {'title':<{width}} {'points':>13}  tests"]  # fmt: skip
    for t in report.tasks:
        tests = "REFUSED" if t.error.startswith("refused") else ("ERROR" if t.error else f"{t.passed}/{t.total} passed")
        lines.append(f"{t.id:<6} {t.title:<{width}} {f'{t.earned:g}/{t.points:g}':>13}  {tests}")
    lines += ["", f"{'total':<6} {'':<{width}} {f'{report.earned:g}/{report.max_points:g}':>13}"]
    for t in report.tasks:
        if t.earned < t.points:
            lines += ["", task_feedback(t)]
    if report.outside_edits:
        lines += ["", "Edits outside the pieces (never run; a task whose pieces' file has one is refused):"]
        lines += [f"  {e}" for e in report.outside_edits]
    if report.protections:
        lines += ["", "The pieces ran sealed: " + "; ".join(report.protections)]
    return "\n".join(lines)


def gradescope_json(report: Report, visibility: str = "visible", execution_time: float | None = None) -> str:
    """Gradescope's ``results.json``: the score, the output, and one entry per task in ``tests``.

    Outputs are plain text (``output_format`` "text": Gradescope shows them in a ``<pre>``, so
    the feedback's indentation survives); each task's ``status`` is "passed" at full marks.
    """
    output = f"{report.title}: {report.earned:g}/{report.max_points:g}"
    if report.outside_edits:
        output += "\n\nEdits outside the pieces (never run; a task whose pieces' file has one is refused):\n"
        output += "\n".join(report.outside_edits)
    if report.protections:
        output += "\n\nYour pieces ran sealed: " + "; ".join(report.protections)
    results = {
        "score": report.earned,
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": [
            {"name": f"Task {t.id}: {t.title}", "number": t.id, "score": t.earned, "max_score": t.points,
             "status": "passed" if t.earned >= t.points else "failed", "output": task_feedback(t),
             "output_format": "text", "name_format": "text", "tags": list(t.pieces), "visibility": visibility}
            for t in report.tasks
        ],  # fmt: skip
    }
    if execution_time is not None:
        results["execution_time"] = round(execution_time, 1)
    return json.dumps(results, indent=2)
