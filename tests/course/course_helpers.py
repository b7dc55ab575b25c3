"""Editing a submission as a student (or a cheater) would: shared by the grading tests."""

import shutil
import textwrap
from pathlib import Path

from minigrad.course import resolve_piece
from minigrad.course.make import read_source
from minigrad.course.transplant import piece_body, replace_bodies

ROOT = Path(__file__).resolve().parents[2]


def put(sub: Path, name: str, body: str | None = None) -> None:
    """Write ``body`` (or the reference's own body) into piece ``name`` of the submission."""
    if body is None:
        ref = resolve_piece(ROOT, name)
        lines = piece_body(read_source(ref.path), ref)
    else:
        lines = [(line + "\n", True) for line in textwrap.dedent(body).strip("\n").split("\n")]
    piece = resolve_piece(sub, name)
    text = replace_bodies(read_source(piece.path), [(piece, lines)])
    with open(piece.path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def fresh_submission(student: Path, tmp_path: Path) -> Path:
    """A fresh submission: the student copy as handed out."""
    target = tmp_path / "submission"
    shutil.copytree(student, target)
    return target
