"""The course kit: assignments made from minigrad, graded so that students cannot game it.

``python -m minigrad.course make --tasks FILE --out DIR`` checks the task file against this
clone (the reference) and writes a student copy in which the named pieces raise
``NotImplementedError``; ``python -m minigrad.course grade SUBMISSION --tasks FILE`` takes only
those pieces from a submission, puts them into a fresh copy of the reference and runs the
instructor's (hidden) tests there; ``python -m minigrad.course check`` is the students' local
run. See docs/COURSE.md.
"""

from minigrad.course.check import check
from minigrad.course.grade import GradeError, grade
from minigrad.course.make import MakeError, make_student_copy
from minigrad.course.report import Report, TaskResult, gradescope_json, report_text
from minigrad.course.rules import violations
from minigrad.course.stub import PieceError, resolve_piece, stub_source
from minigrad.course.tasks import Task, TaskFile, TaskFileError, load_tasks

__all__ = [
    "make_student_copy", "grade", "check", "report_text", "gradescope_json", "Report", "TaskResult",
    "load_tasks", "Task", "TaskFile", "violations", "resolve_piece", "stub_source",
    "MakeError", "GradeError", "PieceError", "TaskFileError",
]  # fmt: skip
