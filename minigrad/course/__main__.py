"""Command line: ``python -m minigrad.course make | grade | check | gradescope``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minigrad.course.check import check, check_text
from minigrad.course.grade import GradeError, grade
from minigrad.course.gradescope import build
from minigrad.course.make import MakeError, make_student_copy
from minigrad.course.report import gradescope_json, report_text
from minigrad.course.stub import PieceError
from minigrad.course.tasks import TaskFileError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.course", description="Make student copies of minigrad, grade them, check them."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make", help="check a task file against the reference, then write a student copy")
    mk.add_argument("--tasks", required=True, help="the task file (TOML)")
    mk.add_argument("--out", required=True, help="a new directory for the student copy")
    mk.add_argument("--src", default=None, help="the reference tree (default: this clone)")
    mk.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run (default 600)")
    gr = sub.add_parser("grade", help="grade a submission's pieces with the reference's tests")
    gr.add_argument("submission", help="the student's copy (only its pieces are read)")
    gr.add_argument("--tasks", required=True, help="the instructor's task file (TOML)")
    gr.add_argument("--src", default=None, help="the reference tree (default: this clone)")
    gr.add_argument("--task", default=None, help="grade this task id only")
    gr.add_argument("--json", action="store_true", help="print the report as JSON")
    gr.add_argument("--format", choices=["table", "json", "gradescope"], default="table",
                    help="table (default), json, or gradescope (Gradescope's results.json)")  # fmt: skip
    gr.add_argument("--visibility", default="visible",
                    choices=["visible", "hidden", "after_due_date", "after_published"],
                    help="Gradescope visibility of the results (default visible)")  # fmt: skip
    gr.add_argument("--output", default=None, help="write the report to this file instead of printing it")
    gr.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for each task (default 300)")
    gr.add_argument("--jobs", type=int, default=1, help="tasks graded in parallel (default 1)")
    gs = sub.add_parser("gradescope", help="build a Gradescope autograder zip (setup.sh, run_autograder, ...)")
    gs.add_argument("--tasks", required=True, help="the task file (TOML)")
    gs.add_argument("--out", required=True, help="the zip to write, e.g. autograder.zip")
    gs.add_argument("--src", default=None, help="the reference tree (default: this clone)")
    gs.add_argument("--time-limit", type=int, default=540,
                    help="seconds for one submission, under the assignment's Gradescope limit (default 540)")
    gs.add_argument("--per-task", type=int, default=120, help="seconds allowed for each task (default 120)")
    gs.add_argument("--no-verify", action="store_true", help="skip grading the reference first")
    ck = sub.add_parser("check", help="students: run the public checks of your copy")
    ck.add_argument("directory", nargs="?", default=".", help="the student copy (default: here)")
    ck.add_argument("--task", default=None, help="check this task id only")
    ck.add_argument("--timeout", type=float, default=600.0, help="seconds per task (default 600)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the course command line; returns the exit status (0 ok, 2 unusable input)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "make":
            pieces = make_student_copy(args.tasks, args.out, src=args.src, timeout=args.timeout)
            files = sorted({str(p.path) for _, p in pieces})
            print(f"checked the task file against the reference (full marks); wrote {args.out}: "
                  f"{len(pieces)} pieces stubbed in {len(files)} files")  # fmt: skip
            for tid, p in pieces:
                print(f"  task {tid}: {p.name}")
            print(f"students start from {args.out}/ASSIGNMENT.md and run: python -m minigrad.course check")
        elif args.command == "gradescope":
            names = build(args.tasks, args.out, src=args.src, time_limit=args.time_limit, per_task=args.per_task,
                          verify=not args.no_verify)  # fmt: skip
            print(f"wrote {args.out}: setup.sh, run_autograder and {len(names) - 2} files of the reference; "
                  "upload it as the assignment's autograder (Gradescope: Configure Autograder, zip file)")  # fmt: skip
        elif args.command == "grade":
            report = grade(args.submission, args.tasks, reference=args.src, timeout=args.timeout,
                           only=args.task, jobs=args.jobs)  # fmt: skip
            form = "json" if args.json else args.format
            if form == "gradescope":
                text = gradescope_json(report, visibility=args.visibility)
            else:
                text = report.to_json() if form == "json" else report_text(report)
            if args.output:
                Path(args.output).parent.mkdir(parents=True, exist_ok=True)
                Path(args.output).write_text(text + "\n", encoding="utf-8")
            else:
                print(text)
        else:
            print(check_text(check(args.directory, only=args.task, timeout=args.timeout)))
    except (TaskFileError, PieceError, MakeError, GradeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
