"""The course kit: task files, stubbing on the syntax tree, student copies, grading.

The grading tests run pytest in a student copy made from ``course/example_tasks.toml``,
with a small task file (one or two tests per task) so they stay fast.
"""

import ast
import difflib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minigrad.course import (
    MakeError,
    PieceError,
    TaskFileError,
    grade,
    load_tasks,
    make_student_copy,
    resolve_piece,
    stub_source,
)  # fmt: skip
from minigrad.course.__main__ import main
from minigrad.course.grade import GradedTest, Report, TaskResult, format_report
from minigrad.course.make import read_source, student_env
from minigrad.course.tasks import parse_tasks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "course" / "example_tasks.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---- task files ---------------------------------------------------------------------------


def test_example_task_file_parses():
    tasks = load_tasks(EXAMPLE)
    assert len(tasks.tasks) >= 5
    assert tasks.pytest_args == ["--hypothesis-profile=ci"]
    assert all(t.points > 0 and t.pieces and t.tests for t in tasks.tasks)


GOOD = {"id": "1", "points": 5, "pieces": ["a.b"], "tests": ["tests/x.py"]}


@pytest.mark.parametrize(
    "change, words",
    [
        ({"points": 0}, "'points' must be a positive number"),
        ({"points": "5"}, "'points' must be a positive number"),
        ({"pieces": []}, "at least one piece"),
        ({"pieces": ["tanh"]}, "not a qualified name"),
        ({"tests": []}, "name the graded tests"),
        ({"id": "two words"}, "'id' must be a string"),
        ({"color": "red"}, "unknown key(s) ['color']"),
    ],
)
def test_task_file_errors_name_the_field(change, words):
    with pytest.raises(TaskFileError, match="task") as info:
        parse_tasks({"task": [{**GOOD, **change}]}, source="t.toml")
    assert words in str(info.value)
    assert str(info.value).startswith("t.toml")


def test_task_file_rejects_duplicates_and_empty():
    with pytest.raises(TaskFileError, match="duplicate task id"):
        parse_tasks({"task": [GOOD, GOOD]})
    with pytest.raises(TaskFileError, match="already in task 1"):
        parse_tasks({"task": [GOOD, {**GOOD, "id": "2"}]})
    with pytest.raises(TaskFileError, match="at least one"):
        parse_tasks({"title": "empty"})


def test_task_file_must_exist_and_be_toml(tmp_path):
    with pytest.raises(TaskFileError, match="does not exist"):
        load_tasks(tmp_path / "nope.toml")
    with pytest.raises(TaskFileError, match="not valid TOML"):
        load_tasks(write(tmp_path / "bad.toml", "[[task]\n"))


# ---- stubbing -----------------------------------------------------------------------------

MODULE = '''\
"""A module with the formatting a stubber must not touch."""

import functools  # a comment after an import


def plain(x, y=1):   # odd spacing kept
    """Docstring: $y = x + 1$."""
    # a comment inside the body goes with the solution
    z = x + y
    return z


@functools.lru_cache(maxsize=None)
def decorated(n):
    r"""Multi-line docstring
    with $\\LaTeX$."""
    return n


class Thing:  # a comment on the class line
    """A class."""

    def method(self):
        return 42  # no docstring: the whole body goes

    @property
    def prop(self):
        """Only a docstring."""

    async def later(self):
        """Async too."""
        return 1

    def one_liner(self): return 1


# a comment between definitions
def after():
    return plain(1)
'''


def make_package(root: Path) -> Path:
    """A tiny package: pkg/core.py defines things, pkg/__init__.py re-exports them."""
    write(root / "pkg" / "core.py", MODULE)
    write(root / "pkg" / "__init__.py", "from .core import Thing, plain\nfrom pkg.core import after as later\n")
    return root


@pytest.mark.parametrize(
    "name, qualname",
    [
        ("pkg.core.plain", "plain"),
        ("pkg.plain", "plain"),  # followed through a relative re-export
        ("pkg.later", "after"),  # and an absolute one with an alias
        ("pkg.Thing.method", "Thing.method"),
        ("pkg.core.Thing.prop", "Thing.prop"),
    ],
)
def test_resolve_piece_follows_reexports(tmp_path, name, qualname):
    piece = resolve_piece(make_package(tmp_path), name)
    assert piece.qualname == qualname
    assert piece.path == tmp_path / "pkg" / "core.py"


@pytest.mark.parametrize(
    "name, words",
    [
        ("pkg.core.missing", "defines no function or class named 'missing'"),
        ("pkg.Thing.missing", "does not define 'missing' itself"),
        ("pkg.Thing", "is a class; name one of its methods"),
        ("pkg.plain.x", "is a function, it has no 'x'"),
        ("nothere.f", "no module 'nothere'"),
        ("pkg.core.functools", "defines no function or class"),
    ],
)
def test_missing_piece_is_a_clear_error(tmp_path, name, words):
    with pytest.raises(PieceError) as info:
        resolve_piece(make_package(tmp_path), name)
    assert words in str(info.value) and repr(name) in str(info.value)


def test_inherited_method_names_the_defining_class():
    # Tanh inherits vjp from Elementwise: stubbing "Tanh.vjp" would stub every elementwise op.
    with pytest.raises(PieceError, match="inherit 'vjp' from Elementwise"):
        resolve_piece(ROOT, "minigrad.ops.Tanh.vjp")


def stub_all(root: Path, names: list[str]) -> tuple[str, str]:
    pieces = [resolve_piece(root, n) for n in names]
    source = read_source(pieces[0].path)
    return source, stub_source(source, [(p, f"Task 9: {p.name}") for p in pieces])


def test_stub_replaces_only_the_bodies(tmp_path):
    names = ["pkg.core.plain", "pkg.core.decorated", "pkg.core.Thing.method",
             "pkg.core.Thing.prop", "pkg.core.Thing.later"]  # fmt: skip
    source, stubbed = stub_all(make_package(tmp_path), names)
    expected = (
        source.replace(
            "    # a comment inside the body goes with the solution\n    z = x + y\n    return z\n",
            '    raise NotImplementedError("Task 9: pkg.core.plain")\n',
        )
        .replace("    return n\n", '    raise NotImplementedError("Task 9: pkg.core.decorated")\n')
        .replace(
            "        return 42  # no docstring: the whole body goes\n",
            '        raise NotImplementedError("Task 9: pkg.core.Thing.method")\n',
        )
        .replace(
            '        """Only a docstring."""\n',
            '        """Only a docstring."""\n        raise NotImplementedError("Task 9: pkg.core.Thing.prop")\n',
        )
        .replace(
            '        """Async too."""\n        return 1\n',
            '        """Async too."""\n        raise NotImplementedError("Task 9: pkg.core.Thing.later")\n',
        )
    )
    assert stubbed == expected


def test_stubbed_function_raises_with_its_message(tmp_path):
    _, stubbed = stub_all(make_package(tmp_path), ["pkg.core.plain"])
    namespace: dict = {}
    exec(compile(stubbed, "core.py", "exec"), namespace)
    assert namespace["plain"].__doc__ == "Docstring: $y = x + 1$."
    with pytest.raises(NotImplementedError, match="Task 9: pkg.core.plain"):
        namespace["plain"](1)
    assert namespace["after"] is not None and namespace["Thing"]().method() == 42


def test_non_ascii_docstrings_and_form_feeds(tmp_path):
    # ast columns count UTF-8 bytes; str.splitlines would also split at the form feed.
    source = (
        'def f(h):\n    """∂h_t/∂h_{t-1} ≤ γ."""  # ∂ again\n    return h\n\x0c\n# page two\ndef g():\n    return 1\n'
    )
    write(tmp_path / "m.py", "")
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    piece = resolve_piece(tmp_path, "m.f")
    stubbed = stub_source(source, [(piece, "Task 1: f")])
    assert stubbed == source.replace("    return h\n", '    raise NotImplementedError("Task 1: f")\n', 1)


def test_body_on_the_def_line_is_refused(tmp_path):
    with pytest.raises(PieceError, match="put the body on its own lines"):
        stub_all(make_package(tmp_path), ["pkg.core.Thing.one_liner"])


def test_crlf_line_endings_survive(tmp_path):
    root = make_package(tmp_path)
    core = root / "pkg" / "core.py"
    core.write_bytes(MODULE.replace("\n", "\r\n").encode())
    _, stubbed = stub_all(root, ["pkg.core.plain"])
    assert "\n" not in stubbed.replace("\r\n", "")
    assert 'raise NotImplementedError("Task 9: pkg.core.plain")\r\n' in stubbed


# ---- make: a student copy of this project -------------------------------------------------


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "student"
    pieces = make_student_copy(EXAMPLE, out, src=ROOT)
    return out, pieces


def test_student_copy_has_the_project_without_git_or_caches(student):
    out, _ = student
    for name in ["pyproject.toml", "minigrad/tensor.py", "tests/conftest.py", "ASSIGNMENT.md",
                 ".course/tasks.json", "course/example_tasks.toml"]:  # fmt: skip
        assert (out / name).is_file(), name
    assert not (out / ".git").exists()
    assert not list(out.rglob("__pycache__"))
    assert load_tasks(out / ".course" / "tasks.json") == load_tasks(EXAMPLE)


def test_every_piece_is_stubbed_and_keeps_its_docstring(student):
    out, pieces = student
    assert {p.name for _, p in pieces} == {n for t in load_tasks(EXAMPLE).tasks for n in t.pieces}
    for task_id, original in pieces:
        copy = resolve_piece(out, original.name)
        assert ast.get_docstring(copy.node) == ast.get_docstring(original.node)
        body = copy.node.body[1:] if ast.get_docstring(copy.node) else copy.node.body
        assert len(body) == 1 and isinstance(body[0], ast.Raise), original.name
        message = body[0].exc.args[0].value
        assert message.startswith(f"Task {task_id}: implement ") and original.name in message
        assert ast.unparse(copy.node.args) == ast.unparse(original.node.args)


def test_assignment_lists_each_piece_at_its_line_in_the_copy(student):
    out, pieces = student
    text = (out / "ASSIGNMENT.md").read_text(encoding="utf-8")
    for task_id, p in pieces:
        where = p.path.relative_to(ROOT).as_posix()
        lines = (out / where).read_text(encoding="utf-8").splitlines()
        entry = next(line for line in text.splitlines() if line.startswith(f"- `{p.name}` in `{where}`"))
        number = int(entry.rsplit("line ", 1)[1])
        assert lines[number - 1].lstrip().startswith(f"def {p.node.name}("), (p.name, number)
        body = "\n".join(lines[number : number + 40])
        assert f"Task {task_id}: implement" in body.split("\n    def ")[0], p.name


def test_everything_else_survives_byte_for_byte(student):
    out, pieces = student
    spans: dict = {}
    for _, p in pieces:
        spans.setdefault(p.path, []).append((p.node.lineno, p.node.end_lineno))
    for path in ROOT.joinpath("minigrad").rglob("*.py"):
        copied = out / path.relative_to(ROOT)
        before = path.read_text(encoding="utf-8").splitlines(keepends=True)
        after = copied.read_text(encoding="utf-8").splitlines(keepends=True)
        if path not in spans:
            assert before == after, path
            continue
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            # Each change is one body (within a piece's lines) replaced by one raise line.
            assert j2 - j1 == 1 and "raise NotImplementedError(" in after[j1], (path, i1)
            assert any(start <= i1 + 1 and i2 <= end for start, end in spans[path]), (path, i1)


def test_student_copy_imports_and_unstubbed_code_runs(student):
    out, _ = student
    code = (
        "import numpy as np, minigrad as mg\n"
        "x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)\n"
        "y = mg.softmax(mg.tanh(x) @ mg.tensor(np.ones((3, 2))) * 2, axis=-1)\n"
        "print(mg.__file__, float(y.sum().item()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=out, env=student_env(out),
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    path, total = proc.stdout.split()
    assert Path(path).resolve().is_relative_to(out.resolve())
    assert float(total) == pytest.approx(2.0)  # forward passes do not use any stubbed piece


def test_make_refuses_a_missing_piece_and_writes_nothing(tmp_path, capsys):
    bad = write(tmp_path / "bad.toml", """\
        [[task]]
        id = "1"
        points = 1
        pieces = ["minigrad.ops.Tanh.derivative", "minigrad.ops.Tanh.second_derivative"]
        tests = ["tests"]
    """)  # fmt: skip
    out = tmp_path / "student"
    assert main(["make", "--tasks", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "minigrad.ops.Tanh.second_derivative" in err and "does not define" in err
    assert not out.exists()


def test_make_refuses_a_non_empty_out(tmp_path):
    write(tmp_path / "keep.txt", "x")
    with pytest.raises(MakeError, match="not empty"):
        make_student_copy(EXAMPLE, tmp_path, src=ROOT)


# ---- grade --------------------------------------------------------------------------------

# The example's tasks, and a control task whose test uses no stubbed piece.
CONTROL = """
[[task]]
id = "control"
points = 1
pieces = ["minigrad.ops.Exp.derivative"]
tests = ["tests/course/test_course_kit.py::test_task_file_rejects_duplicates_and_empty"]
"""


def grade_json(directory: Path, task_file: Path, capsys) -> dict:
    assert main(["grade", str(directory), "--tasks", str(task_file), "--json", "--jobs", "2"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.skipif(
    (ROOT / ".course" / "tasks.json").exists(),
    reason="this project is a student copy: the reference implementation to restore is not here",
)
def test_grade_fails_exactly_the_stubbed_pieces_then_full_marks(tmp_path, capsys):
    out = tmp_path / "student"
    pieces = make_student_copy(EXAMPLE, out, src=ROOT)
    example = load_tasks(EXAMPLE)
    grading = write(tmp_path / "grading.toml", EXAMPLE.read_text(encoding="utf-8") + CONTROL)
    report = grade_json(out, grading, capsys)
    assert report["import_error"] == ""
    by_id = {t["id"]: t for t in report["tasks"]}
    for task in example.tasks:
        result = by_id[task.id]
        assert result["earned"] == 0 and result["passed"] == 0 and result["total"] >= 1, result
        for test in result["tests"]:  # each fails on its own task's stub, nothing else
            assert test["outcome"] == "failed", test
            assert test["message"].startswith(f"NotImplementedError: Task {task.id}: implement"), test
    assert by_id["control"]["earned"] == 1 and by_id["control"]["passed"] == 1
    total = example.max_points + 1
    assert report["earned"] == 1 and report["max_points"] == total
    assert not (out / ".hypothesis").exists() and not (out / ".pytest_cache").exists()

    # Putting the reference implementation back gives full marks.
    for path in {p.path for _, p in pieces}:
        shutil.copyfile(path, out / path.relative_to(ROOT))
    report = grade_json(out, grading, capsys)
    assert report["earned"] == report["max_points"] == total
    assert all(t["passed"] == t["total"] > 0 and not t["error"] for t in report["tasks"])


def test_grade_isolates_a_bad_selection_and_runs_keyword_tasks_alone(student, tmp_path):
    out, _ = student
    tasks = write(tmp_path / "mixed.toml", """\
        [[task]]
        id = "typo"
        points = 3
        pieces = ["minigrad.ops.Tanh.derivative"]
        tests = ["tests/course/test_graded_ops.py::test_no_such_test"]

        [[task]]
        id = "ok"
        points = 2
        pieces = ["minigrad.ops.Exp.derivative"]
        tests = ["tests/course/test_course_kit.py::test_task_file_rejects_duplicates_and_empty"]

        [[task]]
        id = "2.1"
        points = 4
        pieces = ["minigrad.broadcast.unbroadcast"]
        tests = ["tests/course/test_graded_ops.py"]
        keyword = "rejects_incompatible"
    """)  # fmt: skip
    typo, ok, by_keyword = grade(out, task_file=tasks, jobs=3).tasks
    # A node id that does not exist stops pytest (exit 4) for that task only.
    assert typo.earned == 0 and typo.total == 0
    assert "no graded test ran" in typo.error and "pytest exit code 4" in typo.error
    assert ok.earned == 2 and ok.passed == ok.total == 1
    assert [t.nodeid for t in by_keyword.tests] == [
        "tests/course/test_graded_ops.py::test_unbroadcast_rejects_incompatible_shape"
    ]
    assert by_keyword.earned == 0 and "Task 2.1" in by_keyword.tests[0].message


def test_grade_scores_a_copy_that_does_not_import_as_zero(tmp_path):
    out = tmp_path / "student"
    make_student_copy(EXAMPLE, out, src=ROOT)
    with open(out / "minigrad" / "ops" / "linalg.py", "a", encoding="utf-8") as f:
        f.write("\ndef broken(:\n")  # a student's syntax error
    tasks = write(tmp_path / "t.toml", """\
        [[task]]
        id = "a"
        points = 1
        pieces = ["minigrad.ops.Tanh.derivative"]
        tests = ["tests/course/test_graded_ops.py::test_elementwise_derivative"]

        [[task]]
        id = "b"
        points = 1
        pieces = ["minigrad.engine.topological_order"]
        tests = ["tests/course/test_graded_engine.py"]
    """)  # fmt: skip
    report = grade(out, task_file=tasks)
    assert report.earned == 0
    assert "SyntaxError" in report.import_error
    assert "'import minigrad' fails" in format_report(report)
    for task in report.tasks:
        assert task.passed == 0 and (task.error or task.total >= 1)
        assert all(t.outcome == "error" for t in task.tests)


def test_grade_table_and_errors(tmp_path, capsys):
    assert main(["grade", str(tmp_path)]) == 2  # not a student copy
    assert "no minigrad/ folder" in capsys.readouterr().err
    (tmp_path / "minigrad").mkdir()
    assert main(["grade", str(tmp_path)]) == 2  # no manifest and no --tasks
    assert "pass --tasks FILE" in capsys.readouterr().err


def test_format_report_lists_scores_and_first_assertions():
    failing = GradedTest("tests/t.py::test_a", "failed", "AssertionError: 1 != 2")
    report = Report("Course", "/tmp/s", 7.5, 20, [
        TaskResult("1.1", "Derivatives", 10, 7.5, 3, 4, tests=[failing]),
        TaskResult("2.1", "Broadcasting", 10, 0, 0, 0, error="pytest exit code 4; no graded test ran"),
    ])  # fmt: skip
    lines = format_report(report).splitlines()
    row = next(line for line in lines if line.startswith("1.1"))
    assert "7.5/10" in row and "3/4 passed" in row
    assert any("FAILED tests/t.py::test_a" in line for line in lines)
    assert any(line.strip() == "AssertionError: 1 != 2" for line in lines)
    assert "ERROR" in next(line for line in lines if line.startswith("2.1"))
    assert lines[-1].split() == ["total", "7.5/20"]


def test_without_tomllib_or_tomli_the_error_says_what_to_install(monkeypatch):
    # Python 3.10 has no tomllib; tomli is optional, not a dependency of minigrad.
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(TaskFileError, match=r"Python 3\.11\+ \(tomllib\).*pip install tomli"):
        load_tasks(EXAMPLE)


def test_json_manifest_round_trips_without_toml(tmp_path, monkeypatch):
    manifest = tmp_path / "tasks.json"
    manifest.write_text(load_tasks(EXAMPLE).to_json(), encoding="utf-8")
    expected = load_tasks(EXAMPLE)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # grade reads JSON: no TOML parser needed
    assert load_tasks(manifest) == expected
