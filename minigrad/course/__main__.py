"""Command line: ``python -m minigrad.course make ...`` and ``... grade ...``."""

from __future__ import annotations

import argparse
import sys

from minigrad.course.grade import GradeError, format_report, grade
from minigrad.course.make import MakeError, make_student_copy
from minigrad.course.stub import PieceError
from minigrad.course.tasks import TaskFileError


def main(argv: list[str] | None = None) -> int:
    """Run the course command line; returns the exit status (0 ok, 2 unusable input)."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.course",
        description="Make student copies of minigrad and grade them.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make", help="write a student copy with the task file's pieces stubbed")
    mk.add_argument("--tasks", required=True, help="the task file (TOML)")
    mk.add_argument("--out", required=True, help="a new directory for the student copy")
    mk.add_argument("--src", default=None, help="the project to copy (default: this clone)")
    gr = sub.add_parser("grade", help="run the graded tests in a student copy and score them")
    gr.add_argument("directory", help="the student copy")
    gr.add_argument(
        "--tasks",
        default=None,
        help="grade with this task file instead of the copy's .course/tasks.json",
    )
    gr.add_argument("--json", action="store_true", help="print the scores as JSON (for an LMS)")
    gr.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds allowed for each task's tests (default 600)",
    )
    gr.add_argument("--jobs", type=int, default=1, help="tasks graded in parallel, one pytest process each (default 1)")
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            pieces = make_student_copy(args.tasks, args.out, src=args.src)
            files = sorted({str(p.path) for _, p in pieces})
            print(f"wrote {args.out}: {len(pieces)} pieces stubbed in {len(files)} files")
            for tid, p in pieces:
                print(f"  task {tid}: {p.name}")
            print(
                f"students start from {args.out}/ASSIGNMENT.md; grade with: python -m minigrad.course grade {args.out}"
            )
        else:
            report = grade(args.directory, task_file=args.tasks, timeout=args.timeout, jobs=args.jobs)
            print(report.to_json() if args.json else format_report(report))
    except (TaskFileError, PieceError, MakeError, GradeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
