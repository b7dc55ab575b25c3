"""Grading: full marks for an honest solution, partial for a partial one, nothing for any cheat.

One student copy is made (``make`` with verification: every node id collects and the
reference scores full marks) and shared; each test copies it, edits the copy as a student
(or a cheater) would, and grades one task where it can, so the whole file stays fast.
"""

import json
from pathlib import Path

import pytest
from course_helpers import fresh_submission, put, write

from minigrad.course import MakeError, grade, load_tasks, make_student_copy, report_text, resolve_piece
from minigrad.course.__main__ import main
from minigrad.course.make import read_source
from minigrad.course.transplant import piece_body

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "course" / "example_tasks.toml"
pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="a student copy: no reference task file here")


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "student"
    make_student_copy(EXAMPLE, out, src=ROOT)  # raises unless the reference scores full marks
    return out


@pytest.fixture
def sub(student, tmp_path):
    return fresh_submission(student, tmp_path)


def score(sub: Path, task: str, **kwargs):
    report = grade(sub, EXAMPLE, reference=ROOT, only=task, timeout=kwargs.pop("timeout", 300), **kwargs)
    return report.tasks[0], report


# ---- make ----------------------------------------------------------------------------------


def test_student_copy_has_no_oracle_to_paste(student):
    public = "\n".join(p.read_text(encoding="utf-8") for p in (student / "tests" / "course").glob("*.py"))
    for oracle in ["reference_adam", "source_index(", "np.add.at", "exact_bptt", "expect_close"]:
        assert oracle not in public, oracle
    assert not (student / "course").exists() and not (student / "benchmarks" / "numpy_rnn.py").exists()
    assert "hidden" not in (student / ".course" / "tasks.json").read_text(encoding="utf-8")


def test_make_names_a_bad_node_id_and_writes_nothing(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("::test_matmul_vjp", "::test_typo")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(MakeError, match=r"task 3\.1: test 'course/hidden/test_hidden_ops.py::test_typo'"):
        make_student_copy(bad, tmp_path / "out", src=ROOT)
    assert not (tmp_path / "out").exists()


# ---- honest and partial solutions -------------------------------------------------------------


def test_honest_full_solution_gets_full_marks(sub):
    for task in load_tasks(EXAMPLE).tasks:
        for name in task.pieces:
            put(sub, name)
    report = grade(sub, EXAMPLE, reference=ROOT, jobs=2)
    assert report.earned == report.max_points == 145, [(t.id, t.earned, t.error) for t in report.tasks]
    assert report.outside_edits == []


def test_partial_solution_scores_the_items_it_gets_right(sub):
    put(sub, "minigrad.ops.Sigmoid.derivative")
    put(sub, "minigrad.ops.Tanh.derivative", "(y,) = self.saved\nreturn 1 - y")  # wrong: 1 - y, not 1 - y^2
    result, report = score(sub, "1.1")
    assert (result.passed, result.total, result.earned) == (3, 10, pytest.approx(3.0, abs=0.01))
    tanh = [t for t in result.tests if "Tanh" in t.nodeid and t.outcome == "failed"]
    assert len(tanh) == 3
    message = next(t.message for t in tanh if "(2, 3)" in t.nodeid)
    for words in ["minigrad.ops.Tanh.derivative", "dtanh(x)/dx is wrong", "shape (2, 3)", "entries differ",
                  "expected", "got", "seed 2", "atol=1e-15"]:  # fmt: skip
        assert words in message, (words, message)
    relu = next(t.message for t in result.tests if "ReLU" in t.nodeid)
    assert "NotImplementedError: Task 1.1" in relu
    # The Gradescope file: one entry per task, the feedback as output, no absolute paths.
    results = sub.parent / "results.json"
    assert main(["grade", str(sub), "--tasks", str(EXAMPLE), "--task", "1.1", "--format", "gradescope",
                 "--output", str(results)]) == 0  # fmt: skip
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["score"] == pytest.approx(3.0, abs=0.01)
    (entry,) = data["tests"]
    assert entry["name"] == "Task 1.1: Elementwise derivatives" and entry["max_score"] == 10
    assert entry["visibility"] == "visible" and "dtanh(x)/dx is wrong" in entry["output"]
    assert "rerun locally: python -m minigrad.course check --task 1.1" in entry["output"]
    as_json = report.to_json()
    for text in (results.read_text(encoding="utf-8"), as_json):
        assert str(sub) not in text and str(ROOT) not in text and "/tmp" not in text
    assert json.loads(as_json)["submission"] == "submission"


def test_explicit_bptt_checks_every_output(sub):
    # Right adjoints[0], parameter and input gradients; adjoints[1:] and contributions zero.
    ref = resolve_piece(ROOT, "minigrad.bptt.Trajectory.backprop")
    body = "".join(line for line, _ in piece_body(read_source(ref.path), ref)).replace(
        "return BPTTResult(delta, param_grads, contributions, input_grads)",
        "delta[1:] = 0\nreturn BPTTResult(delta, param_grads, 0 * contributions, input_grads)",
    )
    put(sub, "minigrad.bptt.Trajectory.backprop", body)
    result, _ = score(sub, "6.1")
    failed = {t.nodeid.rsplit("-", 1)[1][:-1] for t in result.tests if t.outcome != "passed"}
    assert failed == {"adjoints[1:]", "contributions"}
    assert result.total == 27 and result.passed == 21 and result.earned == pytest.approx(20 * 21 / 27, abs=0.01)


# ---- the four full-marks cheats, and patching the assertions ----------------------------------

ZERO_DERIVATIVES = ["minigrad.ops.Sigmoid.derivative", "minigrad.ops.Tanh.derivative", "minigrad.ops.ReLU.derivative"]
PATCH = "import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
PASSING_JUNIT = """\
    import sys
    for a in sys.argv:
        if a.startswith("--junitxml="):
            open(a.split("=", 1)[1], "w").write('<testsuite><testcase name="t" classname="x"/></testsuite>')
    sys.exit(0)
"""
CHEATS = {
    "manifest": (".course/tasks.json", None),
    "pytest.py": ("pytest.py", PASSING_JUNIT),
    "conftest.py": ("conftest.py", """\
        import pytest
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            outcome.get_result().outcome = "passed"
    """),
    "plugin": ("minigrad_course_grading.py", "def pytest_runtest_makereport(item, call):\n    return None\n"),
    "minigrad/__init__.py": ("minigrad/__init__.py", None),
    "sitecustomize.py": ("sitecustomize.py", PATCH),
    "edited public test": ("tests/course/test_public_ops.py", "def test_elementwise_derivative():\n    pass\n"),
    # The project's tests/nn/test_clip.py, which students have, mirror task 7.1's hidden tests.
    "edited graded test": ("tests/nn/test_clip.py", "def test_small_gradients_are_left_exactly_alone():\n    pass\n"),
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheats_score_nothing(sub, cheat):
    for name in ZERO_DERIVATIVES:
        put(sub, name, "import numpy as np\nreturn np.zeros_like(self.saved[0])")
    path, text = CHEATS[cheat]
    if cheat == "manifest":
        manifest = json.loads((sub / path).read_text(encoding="utf-8"))
        for t in manifest["tasks"]:
            t["tests"] = ["tests/test_tensor.py"]
        text = json.dumps(manifest)
    elif cheat == "minigrad/__init__.py":
        text = (sub / path).read_text(encoding="utf-8") + PATCH
    write(sub / path, text)
    task, total = ("7.1", 6) if cheat == "edited graded test" else ("1.1", 10)
    result, report = score(sub, task)
    assert result.earned == 0 and result.total == total and not result.error
    if cheat not in ("manifest",):
        assert any(e.startswith(path) for e in report.outside_edits), report.outside_edits


def test_grade_needs_the_instructors_task_file(sub, capsys):
    with pytest.raises(SystemExit):
        main(["grade", str(sub)])  # no --tasks: the submission's manifest is never read
    assert "--tasks" in capsys.readouterr().err


# ---- leaks: what a piece could be assembled from ------------------------------------------------

REFUSED = {
    "RNNStep.vjp from J_t": ("5.1", "minigrad.ops.recurrent.RNNStep.vjp", """\
        import numpy as np
        J, D = self.state_jacobian(), self.input_jacobian()
        delta = np.einsum("nij,ni->nj", D, grad_out)
        return delta, np.einsum("nij,ni->nj", J, grad_out), delta.T @ self.saved[0], delta.sum(0)
    """, "'state_jacobian'"),
    "LSTMStep.vjp from J_t": ("5.2", "minigrad.ops.recurrent.LSTMStep.vjp", """\
        import numpy as np
        da = np.einsum("nij,ni->nj", self.input_jacobian(), grad_out)
        return da, np.einsum("nij,ni->nj", self.state_jacobian(), grad_out), da.T @ self.saved[0], da.sum(0)
    """, "'input_jacobian'"),
    "numerical_jacobian": ("3.1", "minigrad.ops.MatMul.vjp", """\
        from minigrad.gradcheck import numerical_jacobian
        return numerical_jacobian
    """, "'numerical_jacobian'"),
    "numpy_rnn": ("5.1", "minigrad.ops.recurrent.RNNStep.vjp", "import numpy_rnn\nreturn numpy_rnn\n", "numpy_rnn"),
    "monkeypatch": ("3.1", "minigrad.ops.MatMul.vjp", """\
        import numpy as np
        np.testing.assert_allclose = print
        return grad_out, grad_out
    """, "assigns to 'np.testing.assert_allclose'"),
    "autograd": ("6.1", "minigrad.bptt.Trajectory.backprop", "self.states[-1].sum().backward()\n", "'backward'"),
}


@pytest.mark.parametrize("leak", sorted(REFUSED))
def test_a_piece_built_from_what_the_task_replaces_is_refused(sub, leak):
    task, name, body, words = REFUSED[leak]
    put(sub, name, body)
    result, report = score(sub, task)
    assert result.earned == 0 and result.error.startswith("refused") and words in result.error, result.error
    assert "REFUSED" in report_text(report)


FAILS = {
    # The same leaks, written so that no forbidden name appears: the stubs in the grading copy stop them.
    "RNNStep.vjp via getattr": ("5.1", "minigrad.ops.recurrent.RNNStep.vjp", """\
        import numpy as np
        J = getattr(self, "state_" + "jacobian")()
        delta = np.einsum("nij,ni->nj", getattr(self, "input_" + "jacobian")(), grad_out)
        return delta, np.einsum("nij,ni->nj", J, grad_out), delta.T @ self.saved[0], delta.sum(0)
    """),
    "super().jacobian": ("3.2", None, "return super().jacobian(i)\n"),
    # Central differences inline (no forbidden name): the 1e-12 tolerance stops them, and on the
    # large item the budget per call.
    "central differences": ("3.1", "minigrad.ops.MatMul.vjp", """\
        import numpy as np
        a, b = self.saved
        grads = []
        for which in (0, 1):
            x = (a, b)[which].copy()
            out = np.zeros_like(x)
            for j in range(x.size):
                up, down = x.copy(), x.copy()
                up.flat[j] += 1e-6
                down.flat[j] -= 1e-6
                pair_up = (up, b) if which == 0 else (a, up)
                pair_down = (down, b) if which == 0 else (a, down)
                diff = (np.matmul(*pair_up) - np.matmul(*pair_down)) / 2e-6
                out.flat[j] = np.sum(diff * grad_out)
            grads.append(out)
        return tuple(grads)
    """),
}


@pytest.mark.parametrize("leak", sorted(FAILS))
def test_a_leak_that_gets_past_the_rule_still_scores_nothing(sub, leak):
    task, name, body = FAILS[leak]
    for piece in [name] if name else ["minigrad.ops.MatMul.jacobian", "minigrad.ops.Softmax.jacobian"]:
        put(sub, piece, body)
    result, _ = score(sub, task)
    assert result.earned == 0 and result.total > 0 and not result.error, (result.error, result.tests[:1])
    if leak != "central differences":
        assert all("is not part of this assignment" in t.message for t in result.tests), result.tests[0].message
    else:
        stopped = ("entries differ beyond rtol=1e-12", "no answer within", "timed out twice")
        assert all(any(s in t.message for s in stopped) for t in result.tests), [t.message for t in result.tests]


def test_an_endless_loop_costs_its_task_only(sub):
    put(sub, "minigrad.ops.Tanh.derivative", "while True:\n    pass")
    put(sub, "minigrad.broadcast.unbroadcast")
    loop, _ = score(sub, "1.1", timeout=5)
    assert loop.earned == 0 and "did not finish within 5 s" in loop.error
    fine, _ = score(sub, "2.1")
    assert fine.earned == 10
