"""``make``: check a task file against the reference, then write a student copy from it.

The copy is the project (the files git lists, or, outside a git checkout, every file but
version control, environments and caches) without the task file's ``hidden`` paths (the hidden
graded tests) and ``remove`` paths, with every piece and every ``also_stub`` stubbed. Each
stubbed file differs from the original only in the stubbed bodies. The copy also gets
``ASSIGNMENT.md`` (the tasks, for students) and ``.course/tasks.json`` (the public part of the
tasks, for ``check``). Before anything is written, every test node id of the task file must
collect in the reference, every reference piece must pass the piece rule, and grading the
reference itself must give full marks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from minigrad.course.grade import grade
from minigrad.course.report import report_text
from minigrad.course.run import run_pytest, selects
from minigrad.course.stub import Piece, resolve_piece
from minigrad.course.tasks import TaskFile, load_tasks
from minigrad.course.tree import MANIFEST, MakeError, project_root, read_source, student_state, write_tree

__all__ = ["make_student_copy", "MakeError", "MANIFEST", "read_source", "student_env", "check_imports"]

def assignment_text(tasks: TaskFile, pieces: list[tuple[str, Piece]], src: Path, out: Path) -> str:
    """ASSIGNMENT.md for students: each task, its points, what to implement and how it is graded."""
    lines = [f"# {tasks.title}", "",
             f"{len(tasks.tasks)} tasks, {tasks.max_points:g} points. Each piece below raises",
             "`NotImplementedError`; its docstring states the math.",
             "Replace the `raise` with code.", ""]  # fmt: skip
    by_task = defaultdict(list)
    for tid, piece in pieces:
        by_task[tid].append(piece)
    for t in tasks.tasks:
        lines.append(f"## Task {t.id}: {t.title} ({t.points:g} points)")
        lines.append("")
        for p in by_task[t.id]:
            where = p.path.relative_to(src).as_posix()
            line = resolve_piece(out, p.name).node.lineno  # in the copy: stubs above it shift it
            lines.append(f"- `{p.name}` in `{where}`, line {line}")
        forbid = sorted(set(t.forbid) | set(tasks.forbid))
        if forbid:
            lines += ["", "The body may not use: " + ", ".join(f"`{n}`" for n in forbid)
                      + " (see docs/COURSE.md, \"What a piece may not do\")."]  # fmt: skip
        lines += ["", "Graded by hidden tests (exact, float64, 1e-12 relative). Check your work with:", "",
                  "```", f"python -m minigrad.course check --task {t.id}", "```", ""]  # fmt: skip
    return "\n".join(lines)


def validate_ids(src: Path, tasks: TaskFile, timeout: float = 600.0) -> None:
    """Every test id of the task file (graded and check) must select a test in the reference."""
    ids = [i for t in tasks.tasks for i in t.tests + t.check]
    files = [f for f in dict.fromkeys(i.split("::")[0] for i in ids) if (src / f).exists()]
    run = run_pytest(src, files + ["--continue-on-collection-errors"], timeout, collect_only=True) if files else None
    collected = run.collected if run else []
    for t in tasks.tasks:
        for i in t.tests + t.check:
            if not any(selects(i, n) for n in collected):
                errors = run.collect_errors.get(i.split("::")[0], "") if run else ""
                detail = "\n".join(errors.strip().splitlines()[-5:])
                raise MakeError(f"task {t.id}: test {i!r} collects no test in the reference\n{detail}".strip())


def make_student_copy(task_file: str | Path, out: str | Path, src: str | Path | None = None,
                      check_import: bool = True, verify: bool = True,
                      timeout: float = 600.0) -> list[tuple[str, Piece]]:  # fmt: skip
    """Check ``task_file`` against the reference ``src``, then write the student copy to ``out``.

    ``verify``: collect every test id in the reference and grade the reference itself (it must
    score full marks); both happen before anything is written. Returns the (task id, piece)
    pairs stubbed.
    """
    src = Path(src).resolve() if src is not None else project_root()
    out = Path(out).resolve()
    tasks = load_tasks(task_file)
    state = student_state(src, tasks)
    if out.exists() and any(out.iterdir()):
        raise MakeError(f"--out {str(out)!r} exists and is not empty; choose a new directory")
    if verify:
        validate_ids(src, tasks, timeout)
        report = grade(src, tasks, reference=src, timeout=timeout)
        if report.earned != report.max_points:
            raise MakeError("the reference does not score full marks on its own task file:\n" + report_text(report))
    write_tree(src, out, state)
    (out / MANIFEST).parent.mkdir(exist_ok=True)
    (out / MANIFEST).write_text(tasks.public_json(), encoding="utf-8")
    (out / "ASSIGNMENT.md").write_text(assignment_text(tasks, state.pieces, src, out), encoding="utf-8")
    if check_import:
        check_imports(out)
    return state.pieces


def student_env(directory: Path, *extra: Path) -> dict:
    """The environment that makes ``import minigrad`` load the copy in ``directory``.

    ``extra`` folders go on ``PYTHONPATH`` after the copy.
    """
    env = dict(os.environ)
    paths = [str(directory), *map(str, extra), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_imports(directory: Path) -> None:
    """Raise unless ``import minigrad`` in a fresh interpreter loads the copy in ``directory``."""
    code = "import minigrad, pathlib; print(pathlib.Path(minigrad.__file__).resolve())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=directory, env=student_env(directory),
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise MakeError(f"the copy in {directory} does not import:\n{proc.stderr.strip()}")
    loaded = Path(proc.stdout.strip())
    if Path(directory).resolve() not in loaded.parents:
        raise MakeError(f"'import minigrad' in {directory} loads {loaded}, not the copy")
