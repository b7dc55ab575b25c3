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
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from minigrad.course.stub import Piece, resolve_piece, stub_message, stub_source
from minigrad.course.tasks import TaskFile, load_tasks

MANIFEST = Path(".course") / "tasks.json"

# Never copied: version control, environments, caches and build output.
_IGNORE_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".tox", ".nox", "__pycache__",
    ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache", "build", "dist", ".course",
}  # fmt: skip
_IGNORE_SUFFIXES = (".pyc", ".pyo", ".egg-info")


class MakeError(ValueError):
    """``make`` cannot write the student copy; the message says why."""


def project_root() -> Path:
    """The project this minigrad was imported from (a clone: it has pyproject.toml)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise MakeError(
            f"minigrad is imported from {root}, which is not a clone of the project "
            "(no pyproject.toml); run from a clone, or pass --src"
        )
    return root


def read_source(path: Path) -> str:
    """A source file's text with its line endings as they are (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _git_files(src: Path) -> list[str] | None:
    """The project's files as git sees them (tracked, plus untracked but not ignored)."""
    try:
        proc = subprocess.run(["git", "-C", str(src), "ls-files", "-z", "--cached", "--others",
                               "--exclude-standard", "--full-name"],
                              capture_output=True, text=True, check=False)  # fmt: skip
    except OSError:  # no git
        return None
    if proc.returncode != 0:  # not a git checkout
        return None
    top = subprocess.run(["git", "-C", str(src), "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    if Path(top).resolve() != src:  # src is a folder inside some other repository
        return None
    return [f for f in proc.stdout.split("\0") if f]


def list_files(src: Path) -> list[str]:
    """The project's files (relative, '/'-separated): what git lists, else a walk without caches."""
    files = _git_files(src)
    if files is None:
        files = []
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_file() and not any(p in _IGNORE_DIRS or p.endswith(_IGNORE_SUFFIXES) for p in rel.parts):
                files.append(rel.as_posix())
    keep = []
    for name in files:
        if (src / name).is_file() and not any(p in _IGNORE_DIRS for p in Path(name).parts[:-1]):
            keep.append(name)  # not deleted in the working tree, not a cache .gitignore forgot
    return keep


def resolve_all(src: Path, tasks: TaskFile) -> list[tuple[str, Piece]]:
    """Every (task id, piece) of the task file, found in ``src``; raises on a missing one."""
    return [(t.id, resolve_piece(src, name)) for t in tasks.tasks for name in t.pieces]


def _under(rel: str, paths: list[str]) -> bool:
    return any(rel == p.rstrip("/") or rel.startswith(p.rstrip("/") + "/") for p in paths)


@dataclass
class StudentState:
    """The student copy, in memory: its files, the stubbed texts, and what was stubbed."""

    files: list[str]  # relative paths, copied from the reference unless in ``texts``
    texts: dict  # relative path -> stubbed text
    pieces: list  # (task id, Piece) of the task file's pieces, found in the reference
    stubs: list  # (task id, Piece) of its also_stub names


def student_state(src: Path, tasks: TaskFile) -> StudentState:
    """Resolve every piece and also_stub in ``src`` and stub them in memory (raises on a bad one)."""
    pieces = resolve_all(src, tasks)
    extra = [(t.id, resolve_piece(src, n)) for t in tasks.tasks for n in t.also_stub]
    by_file = defaultdict(list)
    for tid, piece in pieces:
        by_file[piece.path].append((piece, stub_message(tid, piece)))
    for tid, piece in extra:
        message = f"Task {tid}: {piece.name} is not part of this assignment (it would give task {tid} away)"
        by_file[piece.path].append((piece, message))
    texts = {path.relative_to(src).as_posix(): stub_source(read_source(path), stubs)
             for path, stubs in by_file.items()}  # fmt: skip
    left_out = tasks.hidden + tasks.removed()
    files = [f for f in list_files(src) if not _under(f, left_out)]
    for rel in texts:
        if rel not in files:
            raise MakeError(f"{rel} holds a piece but is hidden or removed by the task file")
    return StudentState(files, texts, pieces, extra)


def write_tree(src: Path, out: Path, state: StudentState, files: list[str] | None = None) -> None:
    """Write the student copy's ``files`` (default: all) from ``state`` into ``out``."""
    for rel in state.files if files is None else files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in state.texts:
            with open(target, "w", encoding="utf-8", newline="") as f:
                f.write(state.texts[rel])
        else:
            shutil.copy2(src / rel, target)


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
    from minigrad.course.run import run_pytest, selects

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
        from minigrad.course.grade import grade, report_text

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
