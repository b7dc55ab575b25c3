"""The course kit: turn minigrad into assignments, with the test suite as the grader.

``python -m minigrad.course make --tasks FILE --out DIR`` writes a student copy of the
project in which the pieces a task file names (an op's ``vjp``, a function, a method)
raise ``NotImplementedError``; ``python -m minigrad.course grade DIR`` runs the graded tests
in that copy and prints a score table (or JSON). See docs/COURSE.md.
"""

from minigrad.course.grade import GradeError, Report, format_report, grade
from minigrad.course.make import MakeError, make_student_copy
from minigrad.course.stub import PieceError, resolve_piece, stub_source
from minigrad.course.tasks import Task, TaskFile, TaskFileError, load_tasks

__all__ = [
    "make_student_copy", "grade", "format_report", "Report", "load_tasks", "Task", "TaskFile",
    "resolve_piece", "stub_source", "MakeError", "GradeError", "PieceError", "TaskFileError",
]  # fmt: skip
