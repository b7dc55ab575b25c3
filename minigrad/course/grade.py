"""``grade``: score a submission with the instructor's tests, its pieces sealed away from them.

For each task:

1. the instructor's tree (the reference) must be unchanged since grading began (a checksum of
   its files); if it changed, grading stops (:class:`GradeError`);
2. the bodies of the task's pieces, and of the pieces of the tasks it ``depends`` on, are read
   from the submission by qualified name and checked against the piece rule (``rules.py``); a
   task whose pieces' files were edited outside the pieces is refused;
3. a sealed copy is written: the student copy's state of the reference (pieces and
   ``also_stub`` stubbed, hidden and removed paths gone) plus the task file's probes, with the
   bodies put in. The copy is parsed again and must equal the submission's pieces, and the
   stubbed reference everywhere else: the text transplanted is the text the rule checked;
4. the task's graded tests run in the grader's own pytest process, on the reference, beside
   their expected values (``run.py``); every piece runs in the sealed process on the copy
   (``sandbox.py``) and its results come back as data.

Nothing else of the submission is read. A task earns ``points * passed / collected``: a
failing, erroring or skipped test earns nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from minigrad.course import sandbox
from minigrad.course.report import GradedTest, Report, TaskResult, report_text
from minigrad.course.rules import violations
from minigrad.course.run import run_pytest
from minigrad.course.stub import PieceError, resolve_piece
from minigrad.course.tasks import Task, TaskFile, load_tasks
from minigrad.course.transplant import outside_edits, piece_body, replace_bodies, same_except_pieces
from minigrad.course.tree import (
    StudentState,
    checksum,
    list_files,
    project_root,
    read_source,
    student_state,
    under,
    write_tree,
)

__all__ = ["GradeError", "grade", "report_text", "Report", "TaskResult", "GradedTest"]


# ast.parse is not thread-safe on CPython 3.11 (with --jobs 2 it raised "SystemError: AST
# constructor recursion depth mismatch" here), so tasks prepare their copies one at a time
# and only the pytest processes run in parallel.
_PREPARE = threading.Lock()


class GradeError(ValueError):
    """Grading cannot run at all (no submission, unknown task, a changed reference)."""


@dataclass
class _Setup:
    """What every task of one grading run shares."""

    reference: Path
    submission: Path
    tasks: TaskFile
    state: StudentState
    files: list[str]  # the reference's files, as checksummed
    digest: str
    edits: dict = field(default_factory=dict)  # file -> its edits outside the pieces


def _take_pieces(task: Task, setup: _Setup) -> tuple[list, str]:
    """The (piece name, body) of each piece in the submission, or a reason to refuse the task."""
    bodies, refusals = [], []
    forbid = set(task.forbid) | set(setup.tasks.forbid)
    for name in task.pieces:
        try:
            piece = resolve_piece(setup.submission, name)
            body = piece_body(read_source(piece.path), piece)
        except (PieceError, SyntaxError, UnicodeDecodeError, ValueError) as e:
            refusals.append(f"{name}: cannot be read from the submission: {e}")
            continue
        where = piece.path.relative_to(setup.submission).as_posix()
        refusals += [f"{name} ({where}) {v}" for v in violations(piece.node, forbid)]
        refusals += [f"{where}: edited outside the pieces: {e}" for e in setup.edits.get(where, [])]
        bodies.append((name, body, piece.node))
    if refusals:
        return [], "refused (see docs/COURSE.md, 'What a piece may not do'):\n" + "\n".join(dict.fromkeys(refusals))
    return bodies, ""


def _with_dependencies(task: Task, setup: _Setup) -> tuple[list, str]:
    """The task's bodies and those of every task it depends on (the student's own, cascaded)."""
    bodies, order, seen = [], [task], set()
    while order:
        t = order.pop()
        if t.id in seen:
            continue
        seen.add(t.id)
        found, refusal = _take_pieces(t, setup)
        if refusal and t is task:
            return [], refusal
        if refusal:
            return [], f"refused: this task depends on task {t.id}, whose pieces are {refusal}"
        bodies += found
        order += [setup.tasks.task(d) for d in t.depends]
    return bodies, ""


def _sealed_copy(tree: Path, setup: _Setup, bodies: list) -> None:
    """The student copy's state plus the probes, with ``bodies`` put into their pieces, checked."""
    write_tree(setup.reference, tree, setup.state)
    if setup.tasks.probes:
        probes = [f for f in setup.files if under(f, [setup.tasks.probes])]
        write_tree(setup.reference, tree, setup.state, files=probes)
    by_file: dict = {}
    for name, body, node in bodies:
        piece = resolve_piece(tree, name)
        by_file.setdefault(piece.path, []).append((piece, body, node))
    for path, triples in by_file.items():
        stubbed = read_source(path)
        text = replace_bodies(stubbed, [(piece, body) for piece, body, _ in triples])
        problem = same_except_pieces(stubbed, text, {p.qualname: node for p, _, node in triples})
        if problem:
            raise PieceError(f"{path.relative_to(tree).as_posix()}: {problem}")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    # Readable by the sealed user ('nobody'), writable only by the grader: the reference may be
    # readable by its owner only (the Gradescope bundle's setup.sh makes it so), and copies keep modes.
    for path in [tree, *tree.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _clean(text: str, *paths: Path) -> str:
    for p in paths:
        text = text.replace(str(p) + "/", "").replace(str(p), ".")
    return text


def grade_task(task: Task, setup: _Setup, timeout: float) -> TaskResult:
    """Take the task's pieces, build its sealed copy, run its graded tests, score them."""
    result = TaskResult(task.id, task.title, task.points, 0.0, 0, 0, pieces=list(task.pieces))
    with _PREPARE:
        if checksum(setup.reference, setup.files) != setup.digest:
            raise GradeError("the instructor's tree changed during grading; grading stopped (grade it again)")
        bodies, refusal = _with_dependencies(task, setup)
    if refusal:
        result.error = refusal
        return result
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-") as tmp:
        os.chmod(tmp, 0o711)  # mode 'plain' as root: 'nobody' reaches the copy, cannot list the folder
        tree = Path(tmp) / "copy"
        try:
            with _PREPARE:
                _sealed_copy(tree, setup, bodies)
        except (PieceError, SyntaxError) as e:
            result.error = f"refused: the pieces do not fit into the instructor's copy: {e}"
            return result
        config = Path(tmp) / "sealed.json"
        config.write_text(json.dumps({"mode": sandbox.mode(), "workdir": str(Path(tmp) / "work"), "copy": str(tree),
                                      "probes": setup.tasks.probes, "call_timeout": task.budget}),
                          encoding="utf-8")  # fmt: skip
        run = run_pytest(setup.reference, task.pytest_selection() + setup.tasks.pytest_args, timeout,
                         env={sandbox.ENV: str(config)})  # fmt: skip
        shutil.rmtree(Path(tmp) / "work", ignore_errors=True)
    if run.code is None:
        result.error = f"the graded tests did not finish within {timeout:g} s (an endless loop in a piece?)"
        return result
    if not run.collected:
        tail = "\n".join(run.output.strip().splitlines()[-5:])
        result.error = _clean(f"pytest exit code {run.code}; no graded test ran:\n{tail}".strip(), setup.reference)
        return result
    for nodeid in run.collected:
        record = run.tests.get(nodeid, {"outcome": "failed", "message": "the test did not report (crashed?)"})
        message = _clean(record["message"], setup.submission, setup.reference, Path(tmp))
        result.tests.append(GradedTest(nodeid, record["outcome"], message))
    result.total = len(result.tests)
    result.passed = sum(t.outcome == "passed" for t in result.tests)
    result.earned = round(task.points * result.passed / result.total, 2)
    return result


def _base_texts(setup: _Setup) -> dict:
    """Each file of the student copy as handed out (for finding the submission's other edits)."""
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
        raise GradeError(f"submission {submission.name!r} is not a directory")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradeError(f"jobs must be an integer >= 1, got {jobs!r}")
    reference = Path(reference).resolve() if reference is not None else project_root()
    tasks = tasks if isinstance(tasks, TaskFile) else load_tasks(tasks)
    if sandbox.refusal():  # root without a jail, and 'nobody' cannot run the pieces: never as root
        raise GradeError(sandbox.refusal())
    chosen = [tasks.task(only)] if only is not None else tasks.tasks
    files = list_files(reference)
    setup = _Setup(reference, submission, tasks, student_state(reference, tasks), files, checksum(reference, files))
    pieces_by_file: dict = {}
    for _, p in setup.state.pieces:
        pieces_by_file.setdefault(p.path.relative_to(reference).as_posix(), set()).add(p.qualname)
    edits = [] if submission == reference else outside_edits(submission, _base_texts(setup), pieces_by_file)
    for line in edits:
        rel, what = line.split(": ", 1)
        if rel in pieces_by_file:
            setup.edits.setdefault(rel, []).append(what)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each task is its own pytest process
        results = list(pool.map(lambda t: grade_task(t, setup, timeout), chosen))
    if checksum(reference, files) != setup.digest:
        raise GradeError("the instructor's tree changed during grading; no report (grade it again)")
    earned = round(sum(r.earned for r in results), 2)
    return Report(tasks.title, submission.name, earned, sum(t.points for t in chosen), results, edits,
                  sandbox.protections())  # fmt: skip
