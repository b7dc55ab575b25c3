"""The course kit: task files, stubbing on the syntax tree, the piece rule, student copies.

Grading (and every cheat it must defeat) is tested in test_course_grading.py.
"""

import ast
import difflib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minigrad.course import (
    MakeError,
    PieceError,
    TaskFileError,
    load_tasks,
    make_student_copy,
    resolve_piece,
    stub_source,
    violations,
)  # fmt: skip
from minigrad.course.__main__ import main
from minigrad.course.make import read_source, student_env
from minigrad.course.tasks import parse_tasks
from minigrad.course.tree import list_files

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
    pieces = make_student_copy(EXAMPLE, out, src=ROOT, verify=False)  # grading is tested elsewhere
    return out, pieces


def test_student_copy_has_the_project_without_git_caches_or_hidden_files(student):
    out, _ = student
    for name in ["pyproject.toml", "minigrad/tensor.py", "tests/conftest.py", "ASSIGNMENT.md",
                 ".course/tasks.json", "tests/course/test_public_ops.py"]:  # fmt: skip
        assert (out / name).is_file(), name
    for name in [".git", "course", "tests/course/test_course_kit.py", "benchmarks/numpy_rnn.py"]:
        assert not (out / name).exists(), name
    assert not list(out.rglob("__pycache__"))
    public = load_tasks(out / ".course" / "tasks.json")
    example = load_tasks(EXAMPLE)
    assert [t.id for t in public.tasks] == [t.id for t in example.tasks]
    assert all(not t.tests and t.check == e.check for t, e in zip(public.tasks, example.tasks))
    assert "hidden" not in (out / ".course" / "tasks.json").read_text(encoding="utf-8")


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
        assert f"python -m minigrad.course check --task {task_id}" in text
        number = int(entry.rsplit("line ", 1)[1])
        assert lines[number - 1].lstrip().startswith(f"def {p.node.name}("), (p.name, number)
        body = "\n".join(lines[number : number + 40])
        assert f"Task {task_id}: implement" in body.split("\n    def ")[0], p.name


def test_also_stub_names_are_stubbed_too(student):
    out, _ = student
    for task in load_tasks(EXAMPLE).tasks:
        for name in task.also_stub:
            node = resolve_piece(out, name).node
            body = node.body[1:] if ast.get_docstring(node) else node.body
            assert len(body) == 1 and isinstance(body[0], ast.Raise), name
            assert f"it would give task {task.id} away" in body[0].exc.args[0].value


def test_everything_else_survives_byte_for_byte(student):
    out, pieces = student
    spans: dict = {}
    also = [resolve_piece(ROOT, n) for t in load_tasks(EXAMPLE).tasks for n in t.also_stub]
    for p in [p for _, p in pieces] + also:
        spans.setdefault(p.path, []).append((p.node.lineno, p.node.end_lineno))
    # The project's files under minigrad/ (what the copy is made of), not whatever else sits in an
    # installed package that minigrad/ may link to (CI's wheel step: the example course, caches).
    for path in [ROOT / f for f in list_files(ROOT) if f.startswith("minigrad/") and f.endswith(".py")]:
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
        make_student_copy(EXAMPLE, tmp_path, src=ROOT, verify=False)


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


# ---- the piece rule and transplanting ----------------------------------------------------


def rule(body: str, forbid=()) -> list[str]:
    """``violations`` of a method whose body is ``body``."""
    source = "def piece(self, g):\n    '''doc'''\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return violations(ast.parse(source).body[0], set(forbid))


@pytest.mark.parametrize(
    "body, words",
    [
        ("return self.state_jacobian()[0].T @ g\n", "uses 'state_jacobian'"),
        ("from minigrad.gradcheck import numerical_jacobian\nreturn numerical_jacobian\n", "uses 'gradcheck'"),
        ("return super().jacobian(0)\n", "uses 'super'"),
        ("import numpy as np\nnp.testing.assert_allclose = print\n", "assigns to 'np.testing.assert_allclose'"),
        ("import subprocess\n", "imports 'subprocess'"),
        ("from . import base\n", "relative import"),
        ("return type(self).__mro__\n", "dunder names"),
        ("global counter\n", "'global'"),
        ("return self.forward(g + 1e-20j)\n", "a complex number"),
        ("return eval('g')\n", "uses 'eval'"),
    ],
)
def test_piece_rule_refuses_what_a_task_replaces(body, words):
    found = rule(body, forbid={"state_jacobian", "super", "jacobian"})
    assert any(words in f for f in found), found
    assert all(f.startswith("line ") for f in found)


def test_piece_rule_accepts_an_honest_body():
    body = """\
        import numpy as np
        out = np.zeros_like(g)
        for k, row in enumerate(g):
            out[k] = row * self.W[k]
        self.cache = out
        return (out,)
    """
    assert rule(body, forbid={"jacobian"}) == []


@pytest.mark.parametrize("task", load_tasks(EXAMPLE).tasks, ids=lambda t: t.id)
def test_every_reference_piece_passes_the_rule(task):
    forbid = set(task.forbid) | set(load_tasks(EXAMPLE).forbid)
    for name in task.pieces:
        assert violations(resolve_piece(ROOT, name).node, forbid) == [], name


def test_transplant_moves_only_the_body(tmp_path):
    from minigrad.course.transplant import piece_body, replace_bodies

    mine = make_package(tmp_path / "mine")
    theirs = write(tmp_path / "theirs" / "pkg" / "core.py", MODULE.replace(
        "    # a comment inside the body goes with the solution\n    z = x + y\n    return z\n",
        "  # their body, their indentation\n  if x:\n    return '''a\nstring'''\n  return y\n",
    ).replace('def plain(x, y=1):   # odd spacing kept\n    """Docstring: $y = x + 1$."""\n',
              "def plain(x, y=2, *extra):\n  '''Their docstring.'''\n"))  # fmt: skip
    body = piece_body(theirs.read_text(encoding="utf-8"), resolve_piece(tmp_path / "theirs", "pkg.core.plain"))
    source = read_source(mine / "pkg" / "core.py")
    result = replace_bodies(source, [(resolve_piece(mine, "pkg.core.plain"), body)])
    assert 'def plain(x, y=1):   # odd spacing kept\n    """Docstring: $y = x + 1$."""\n' in result
    assert "    if x:\n      return '''a\nstring'''\n    return y\n" in result  # relative indentation kept
    namespace: dict = {}
    exec(compile(result, "core.py", "exec"), namespace)
    assert namespace["plain"](1) == "a\nstring" and namespace["plain"](0) == 1


@pytest.mark.parametrize(
    "change, words",
    [
        ({"also_stub": ["tanh"]}, "also_stub 'tanh' is not a qualified name"),
        ({"also_stub": ["a.b"]}, "already stubbed by task 1"),
        ({"remove": ["../outside.py"]}, "paths inside the project"),
        ({"forbid": "jacobian"}, "'forbid' must be a list"),
    ],
)
def test_task_file_new_keys_are_checked(change, words):
    with pytest.raises(TaskFileError) as info:
        parse_tasks({"task": [{**GOOD, **change}]}, source="t.toml")
    assert words in str(info.value)


def test_a_run_is_isolated_from_the_tree_and_the_callers_environment(tmp_path, monkeypatch):
    from minigrad.course.run import run_pytest

    tree = tmp_path / "tree"
    write(tree / "minigrad" / "__init__.py", "")
    write(tree / "sitecustomize.py", "raise SystemExit('sitecustomize ran')\n")
    write(tree / "pytest.py", "raise SystemExit('the tree shadowed pytest')\n")
    write(tree / "tests" / "test_env.py", f"""\
        import os, socket, sys
        import pytest

        def test_environment_is_clean():
            assert "MINIGRAD_SECRET" not in os.environ and os.environ["https_proxy"] == ""
            assert sys.flags.isolated and "sitecustomize" not in sys.modules

        def test_no_network():
            with pytest.raises(OSError, match="no network"):
                socket.create_connection(("127.0.0.1", 9))
            with pytest.raises(OSError, match="no network"):
                socket.socket().connect(("127.0.0.1", 9))

        def test_minigrad_is_the_trees():
            import minigrad
            assert minigrad.__file__.startswith({str(tree.resolve())!r})
    """)
    monkeypatch.setenv("MINIGRAD_SECRET", "1")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    run = run_pytest(tree, ["tests/test_env.py"], timeout=120)
    assert run.code == 0, run.output
    assert len(run.collected) == 3 and all(t["outcome"] == "passed" for t in run.tests.values()), run.tests
    assert not (tree / ".pytest_cache").exists() and not list(tree.rglob("__pycache__"))
