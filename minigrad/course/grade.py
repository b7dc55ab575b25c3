"""``grade``: score a submission with the instructor's tree and tests, taking only its pieces.

For each task: the bodies of the task's pieces are read from the submission by qualified name
(on the syntax tree) and checked against the piece rule (``rules.py``); a fresh grading copy is
written from the *reference* (the instructor's tree, as the student copy has it: every piece and
``also_stub`` stubbed, ``remove`` paths gone; plus the ``hidden`` tests); the bodies go into it;
and the task's graded tests run there in an isolated pytest (``run.py``) with a timeout.
Nothing else of the submission is read: not its tests, conftest files, ``pytest.py``,
``sitecustomize.py``, plugins or manifest. Its other edits are listed, then ignored.

A task earns ``points * passed / collected``: a failing, erroring or skipped test earns nothing.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from minigrad.course.make import StudentState, _under, list_files, project_root, read_source, student_state, write_tree
from minigrad.course.report import GradedTest, Report, TaskResult, report_text
from minigrad.course.rules import violations
from minigrad.course.run import run_pytest
from minigrad.course.stub import PieceError, resolve_piece
from minigrad.course.tasks import Task, TaskFile, load_tasks
from minigrad.course.transplant import outside_edits, piece_body, replace_bodies

__all__ = ["GradeError", "grade", "report_text", "Report", "TaskResult", "GradedTest"]


# ast.parse is not thread-safe on CPython 3.11 (with --jobs 2 it raised "SystemError: AST
# constructor recursion depth mismatch" here), so tasks prepare their copies one at a time
# and only the pytest processes run in parallel.
_PREPARE = threading.Lock()


class GradeError(ValueError):
    """Grading cannot run at all (no submission, unknown task); the message says why."""


@dataclass
class _Setup:
    """What every task of one grading run shares."""

    reference: Path
    submission: Path
    tasks: TaskFile
    state: StudentState
    hidden: list[str] = field(default_factory=list)  # hidden files, copied into grading copies only


def _take_pieces(task: Task, setup: _Setup) -> tuple[list, str]:
    """The (piece name, body) of each piece in the submission, or a reason to refuse the task."""
    bodies, refusals = [], []
    forbid = set(task.forbid) | set(setup.tasks.forbid)
    for name in task.pieces:
        try:
            piece = resolve_piece(setup.submission, name)
            body = piece_body(read_source(piece.path), piece)
        except (PieceError, SyntaxError, UnicodeDecodeError) as e:
            refusals.append(f"{name}: cannot be read from the submission: {e}")
            continue
        where = piece.path.relative_to(setup.submission).as_posix()
        refusals += [f"{name} ({where}) {v}" for v in violations(piece.node, forbid)]
        bodies.append((name, body))
    if refusals:
        return [], "refused (see docs/COURSE.md, 'What a piece may not do'):\n" + "\n".join(refusals)
    return bodies, ""


def _grading_copy(tree: Path, setup: _Setup, bodies: list) -> None:
    """The student copy's state plus the hidden tests, with ``bodies`` put into their pieces."""
    write_tree(setup.reference, tree, setup.state)
    write_tree(setup.reference, tree, setup.state, files=setup.hidden)
    by_file: dict = {}
    for name, body in bodies:
        piece = resolve_piece(tree, name)
        by_file.setdefault(piece.path, []).append((piece, body))
    for path, pairs in by_file.items():
        text = replace_bodies(read_source(path), pairs)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)


def _clean(text: str, *paths: Path) -> str:
    for p in paths:
        text = text.replace(str(p) + "/", "").replace(str(p), ".")
    return text


def grade_task(task: Task, setup: _Setup, timeout: float) -> TaskResult:
    """Take the task's pieces, build its grading copy, run its graded tests, score them."""
    result = TaskResult(task.id, task.title, task.points, 0.0, 0, 0, pieces=list(task.pieces))
    with _PREPARE:
        bodies, refusal = _take_pieces(task, setup)
    if refusal:
        result.error = refusal
        return result
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-") as tmp:
        tree = Path(tmp) / "copy"
        try:
            with _PREPARE:
                _grading_copy(tree, setup, bodies)
        except (PieceError, SyntaxError) as e:
            result.error = f"the pieces do not fit into the instructor's copy: {e}"
            return result
        run = run_pytest(tree, task.pytest_selection() + setup.tasks.pytest_args, timeout)
        tree_path = tree.resolve()
    if run.code is None:
        result.error = f"the graded tests did not finish within {timeout:g} s (an endless loop in a piece?)"
        return result
    if not run.collected:
        tail = "\n".join(run.output.strip().splitlines()[-5:])
        result.error = _clean(f"pytest exit code {run.code}; no graded test ran:\n{tail}".strip(), tree_path)
        return result
    for nodeid in run.collected:
        record = run.tests.get(nodeid, {"outcome": "failed", "message": "the test did not report (crashed?)"})
        message = _clean(record["message"], tree_path, setup.submission, setup.reference)
        result.tests.append(GradedTest(nodeid, record["outcome"], message))
    result.total = len(result.tests)
    result.passed = sum(t.outcome == "passed" for t in result.tests)
    result.earned = round(task.points * result.passed / result.total, 2)
    return result


def _base_texts(setup: _Setup) -> dict:
    """Each file of the student copy as handed out (for listing the submission's other edits)."""
    texts = {}
    for rel in setup.state.files:
        if rel in setup.state.texts:
            texts[rel] = setup.state.texts[rel]
        else:
            texts[rel] = (setup.reference / rel).read_bytes().decode("utf-8", errors="replace")
    return texts


def grade(submission: str | Path, tasks: TaskFile | str | Path, reference: str | Path | None = None,
          timeout: float = 600.0, only: str | None = None, jobs: int = 1) -> Report:  # fmt: skip
    """Grade ``submission`` with the instructor's ``tasks`` and tree ``reference`` (default: this clone).

    ``only``: a task id, to grade that task alone. ``jobs``: tasks graded at a time.
    """
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise GradeError(f"submission {str(submission)!r} is not a directory")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradeError(f"jobs must be an integer >= 1, got {jobs!r}")
    reference = Path(reference).resolve() if reference is not None else project_root()
    tasks = tasks if isinstance(tasks, TaskFile) else load_tasks(tasks)
    chosen = [tasks.task(only)] if only is not None else tasks.tasks
    state = student_state(reference, tasks)
    hidden = [f for f in list_files(reference) if _under(f, tasks.hidden) and not _under(f, tasks.removed())]
    setup = _Setup(reference, submission, tasks, state, hidden)
    pieces_by_file: dict = {}
    for _, p in state.pieces:
        pieces_by_file.setdefault(p.path.relative_to(reference).as_posix(), set()).add(p.qualname)
    edits = [] if submission == reference else outside_edits(submission, _base_texts(setup), pieces_by_file)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each task is its own pytest process
        results = list(pool.map(lambda t: grade_task(t, setup, timeout), chosen))
    earned = round(sum(r.earned for r in results), 2)
    return Report(tasks.title, submission.name, earned, sum(t.points for t in chosen), results, edits)
