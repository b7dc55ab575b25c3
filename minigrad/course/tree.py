"""The instructor's tree and the student copy's files: what ``make`` writes and ``grade`` rebuilds.

``make`` and ``grade`` both build the student copy from the reference (``student_state`` in
memory, ``write_tree`` on disk); ``grade`` also checks the reference is unchanged between
tasks (``checksum``). Both import this module; neither imports the other's internals.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from minigrad.course.stub import Piece, resolve_piece, stub_message, stub_source
from minigrad.course.tasks import TaskFile

MANIFEST = Path(".course") / "tasks.json"

# Never copied: version control, environments, caches and build output.
_IGNORE_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".tox", ".nox", "__pycache__",
    ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache", "build", "dist", ".course",
}  # fmt: skip
_IGNORE_SUFFIXES = (".pyc", ".pyo", ".egg-info")


class MakeError(ValueError):
    """``make`` cannot write the student copy (or the tree is unusable); the message says why."""


def project_root() -> Path:
    """The project this minigrad was imported from: a clone (it has pyproject.toml) whose
    ``minigrad/`` is the imported package, itself or through a link to an installed copy.

    Looked for above the package *as imported* (links not followed: a clone whose ``minigrad/``
    links to site-packages, as CI tests the wheel), then above it with links followed, then in
    the working directory (an installed minigrad run from inside its clone).
    """
    package = Path(__file__).absolute().parents[1]  # .../minigrad, as imported
    for root in (package.parent, package.resolve().parent, Path.cwd()):
        init = root / "minigrad" / "__init__.py"
        if (root / "pyproject.toml").is_file() and init.is_file() and init.samefile(package / "__init__.py"):
            return root.resolve()  # the clone's own folder (its minigrad/ link is below it)
    raise MakeError(
        f"minigrad is imported from {package.resolve().parent}, which is not a clone of the project "
        "(no pyproject.toml beside it, nor in the working directory); run from a clone, or pass --src"
    )


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


def under(rel: str, paths: list[str]) -> bool:
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
    files = [f for f in list_files(src) if not under(f, left_out)]
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


def checksum(src: Path, files: list[str]) -> str:
    """One SHA-256 over the names and bytes of ``files`` under ``src``."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode("utf-8") + b"\0")
        try:
            digest.update(hashlib.sha256((src / rel).read_bytes()).digest())
        except OSError as e:
            digest.update(f"unreadable: {e.strerror}".encode())
    return digest.hexdigest()
