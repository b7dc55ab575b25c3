"""``make``: write a student copy of the project with the task file's pieces stubbed out.

The copy is the whole project (package, tests, demos, docs, pyproject.toml): the files git
lists (tracked, or untracked and not ignored), or, outside a git checkout, every file but
version control, virtual environments and caches. Each stubbed file differs from the original only
in the stubbed bodies. The copy also gets ``ASSIGNMENT.md`` (the tasks, for students) and
``.course/tasks.json`` (the tasks, for ``grade``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
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


def _ignore(out: Path):
    def ignore(directory: str, names: list[str]) -> set[str]:
        skip = set()
        for name in names:
            full = Path(directory, name)
            if name in _IGNORE_DIRS and full.is_dir() or name.endswith(_IGNORE_SUFFIXES):
                skip.add(name)
            elif full.resolve() == out:  # --out inside the project
                skip.add(name)
        return skip

    return ignore


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


def copy_project(src: Path, out: Path) -> None:
    """Copy the project: what git lists when it is a checkout, else everything but caches."""
    files = _git_files(src)
    if files is None:
        shutil.copytree(src, out, ignore=_ignore(out), dirs_exist_ok=True)
        return
    for name in files:
        source = src / name
        parts = Path(name).parts
        if not source.is_file() or any(p in _IGNORE_DIRS for p in parts[:-1]):
            continue  # deleted in the working tree, or a cache that .gitignore forgot
        if out == source.resolve() or out in source.resolve().parents:
            continue  # --out inside the project
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def resolve_all(src: Path, tasks: TaskFile) -> list[tuple[str, Piece]]:
    """Every (task id, piece) of the task file, found in ``src``; raises on a missing one."""
    return [(t.id, resolve_piece(src, name)) for t in tasks.tasks for name in t.pieces]


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
        args = " ".join(t.pytest_selection() + tasks.pytest_args)
        lines += ["", "Graded by:", "", "```", f"python -m pytest {args}", "```", ""]
    return "\n".join(lines)


def make_student_copy(task_file: str | Path, out: str | Path, src: str | Path | None = None,
                      check_import: bool = True) -> list[tuple[str, Piece]]:  # fmt: skip
    """Copy the project at ``src`` to ``out`` with every piece of ``task_file`` stubbed.

    Every piece is resolved before anything is written, so a task file naming a missing
    piece leaves no half-made copy behind. Returns the (task id, piece) pairs stubbed.
    """
    src = Path(src).resolve() if src is not None else project_root()
    out = Path(out).resolve()
    tasks = load_tasks(task_file)
    pieces = resolve_all(src, tasks)
    if out.exists() and any(out.iterdir()):
        raise MakeError(f"--out {str(out)!r} exists and is not empty; choose a new directory")

    by_file = defaultdict(list)
    for tid, piece in pieces:
        by_file[piece.path].append((piece, stub_message(tid, piece)))
    # Stub in memory first: an unstubbable piece must not leave a partial copy behind.
    stubbed = {path: stub_source(read_source(path), stubs)
               for path, stubs in by_file.items()}  # fmt: skip

    copy_project(src, out)
    for path, text in stubbed.items():
        with open(out / path.relative_to(src), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    (out / MANIFEST).parent.mkdir(exist_ok=True)
    (out / MANIFEST).write_text(tasks.to_json(), encoding="utf-8")
    (out / "ASSIGNMENT.md").write_text(assignment_text(tasks, pieces, src, out), encoding="utf-8")
    if check_import:
        check_imports(out)
    return pieces


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
