"""Sealed evaluation: every cheat that once scored, built as a submission, scores 0 for the work it
did not do, and the instructor's clone stays byte for byte as it was.

The cheats get past the piece rule the way a determined student would: ``collections._sys`` is
``sys``, and ``getattr(b, "op" + "en")`` is ``open``. What stops them is the sealed process
(``minigrad/course/sandbox.py``): it cannot see the reference, the expected values or the
grader's files, and its answers are only data. One student copy (made without verification)
is shared; each test edits a fresh copy of it and grades one task.
"""

import glob
import os
import shutil
import sys
from pathlib import Path

import pytest
from course_helpers import ROOT, fresh_submission, put, write

from minigrad.course import grade, make_student_copy, sandbox
from minigrad.course.tree import checksum, list_files

EXAMPLE = ROOT / "course" / "example_tasks.toml"
pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="a student copy: no reference task file here")
BACKDOOR = """\
    import collections
    s = getattr(collections, "_sys")
    b = s.modules["buil" + "tins"]
    o = s.modules["os"]
"""


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("sealed") / "student"
    make_student_copy(EXAMPLE, out, src=ROOT, verify=False, check_import=False)
    return out


@pytest.fixture
def sub(student, tmp_path):
    return fresh_submission(student, tmp_path)


@pytest.fixture
def clone():
    """The instructor's clone: its checksum must not change (checked after the test)."""
    files = list_files(ROOT)
    before = checksum(ROOT, files)
    yield
    assert checksum(ROOT, list_files(ROOT)) == before, "grading changed the instructor's clone"


def score(sub, task, **kwargs):
    report = grade(sub, EXAMPLE, reference=ROOT, only=task, timeout=kwargs.pop("timeout", 300), **kwargs)
    return report.tasks[0]


def cheat(body: str) -> str:
    return BACKDOOR + body


TANH, SIGMOID, RELU = "minigrad.ops.Tanh.derivative", "minigrad.ops.Sigmoid.derivative", "minigrad.ops.ReLU.derivative"
ELEMENTWISE = {TANH: "Tanh", SIGMOID: "Sigmoid", RELU: "ReLU"}

# Looks for the reference from its own process (argv, every module's __file__, the clone's path
# itself) and runs the real derivative on its own op.
FIND_REFERENCE = """\
    paths = [REF] + list(s.argv) + [str(getattr(m, "__fi" + "le__", "") or "") for m in list(s.modules.values())]
    for p in paths:
        root = p
        while root not in ("", "/"):
            try:
                text = getattr(b, "op" + "en")(root + "/minigrad/ops/activations.py").read()
            except OSError:
                text = ""
            if "class CLASS" in text and "Task 1.1: implement" not in text:
                ns = {}
                getattr(b, "ex" + "ec")(text, ns)
                return ns["CLASS"].derivative(self, i)
            root = root.rsplit("/", 1)[0]
    raise RuntimeError("no reference found")
"""


def test_a_piece_cannot_find_and_run_the_reference(sub, clone):
    for name, cls in ELEMENTWISE.items():
        put(sub, name, cheat(FIND_REFERENCE.replace("REF", repr(str(ROOT))).replace("CLASS", cls)))
    result = score(sub, "1.1")
    assert result.earned == 0 and result.total == 10 and not result.error, result.tests[0].message
    assert all("no reference found" in t.message for t in result.tests), result.tests[0].message


FORGE_RESULTS = """\
    fake = '{"collected": ["x"], "tests": {"x": {"outcome": "passed", "message": ""}}, "collect_errors": {}}'
    def forge():
        for top in ("/tmp", o.environ.get("TMPDIR", "/tmp"), REF):
            for d, _, files in o.walk(top):
                for f in files:
                    if f.endswith(".json"):
                        try:
                            with getattr(b, "op" + "en")(d + "/" + f, "w") as h:
                                h.write(fake)
                        except OSError:
                            pass
    forge()
    getattr(b, "__imp" + "ort__")("atexit").register(forge)
    o._exit(0)
"""


def test_a_piece_cannot_rewrite_the_results(sub, clone):
    for name in ELEMENTWISE:
        put(sub, name, cheat(FORGE_RESULTS.replace("REF", repr(str(ROOT)))))
    result = score(sub, "1.1")
    assert result.earned == 0 and result.total == 10 and not result.error
    assert all("exited before answering" in t.message or "twice" in t.message for t in result.tests)


STEAL_EXPECTED = """\
    f = s._getframe(1)
    while f is not None:
        if "expected" in f.f_locals:
            return f.f_locals["expected"]
        f = f.f_back
    for m in list(s.modules.values()):
        if hasattr(m, "expect_close"):
            getattr(b, "set" + "attr")(m, "expect_close", lambda *a, **k: None)
    np = s.modules["numpy"]
    getattr(b, "set" + "attr")(np, "abs", lambda x: 0 * x)
    return 0 * self.saved[0]
"""


def test_a_piece_cannot_read_the_expected_value_or_patch_the_comparison(sub, clone):
    for name in ELEMENTWISE:
        put(sub, name, cheat(STEAL_EXPECTED))
    result = score(sub, "1.1")
    assert result.earned == 0 and result.total == 10 and not result.error
    assert all("entries differ" in t.message for t in result.tests), result.tests[0].message


POISON = """\
    for rel in ("course/hidden/hidden_oracle.py", "course/hidden/conftest.py", "minigrad/course/grade.py"):
        try:
            with getattr(b, "op" + "en")(REF + "/" + rel, "a") as h:
                h.write("\\nexpect_close = lambda *a, **k: None\\n")
        except OSError:
            pass
    return 0 * self.saved[0]
"""


def test_a_piece_cannot_poison_the_clone_for_the_next_student(sub, student, tmp_path, clone):
    for name in ELEMENTWISE:
        put(sub, name, cheat(POISON.replace("REF", repr(str(ROOT)))))
    assert score(sub, "1.1").earned == 0
    blank = tmp_path / "next"
    shutil.copytree(student, blank)
    assert score(blank, "1.1").earned == 0  # the next student's blank copy


def test_a_lone_carriage_return_cannot_smuggle_module_level_code(sub, clone):
    put(sub, TANH)
    put(sub, RELU)
    path = sub / "minigrad" / "ops" / "activations.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "# the end\rSigmoid.derivative = Tanh.derivative\n", encoding="utf-8")
    result = score(sub, "1.1")
    assert result.earned == 0 and result.error.startswith("refused"), result.error
    assert "edited outside the pieces" in result.error and "(module level)" in result.error


def test_line_breaks_inside_a_piece_are_read_as_python_reads_them(sub, clone):
    # \r ends a line for Python; \x0c and \u2028 do not: the body transplanted is the body checked.
    body = "(y,) = self.saved\r# a note \x0c with \u2028 odd characters\rreturn 1 - y * y\r"
    path = sub / "minigrad" / "ops" / "activations.py"
    stub = 'raise NotImplementedError("Task 1.1: implement the derivative of Tanh'
    lines = path.read_text(encoding="utf-8").split("\n")
    k = next(n for n, line in enumerate(lines) if line.strip().startswith(stub))
    indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
    lines[k] = indent + body.replace("\r", "\r" + indent).rstrip(indent)
    path.write_text("\n".join(lines), encoding="utf-8", newline="")
    result = score(sub, "1.1")
    passed = sorted(t.nodeid for t in result.tests if t.outcome == "passed")
    assert not result.error and len(passed) == 3 and all("Tanh" in n for n in passed), (result.error, passed)


# ---- derivatives without a derivation ---------------------------------------------------------

STEP_ONE = {  # forward differences with step 1: exact in exact arithmetic for these bilinear ops
    "minigrad.ops.Mul.derivative": """\
        a, b = self.saved
        return ((a + 1) * b - a * b) if i == 0 else (a * (b + 1) - a * b)
    """,
    "minigrad.ops.Div.derivative": """\
        a, b = self.saved[:2]
        return ((a + 1) / b - a / b) if i == 0 else (a / (b + 1) - a / b)
    """,
}


def test_differences_with_step_one_score_nothing(sub, clone):
    for name, body in STEP_ONE.items():
        put(sub, name, body)
    result = score(sub, "1.2")
    assert result.earned == 0 and result.total == 12 and not result.error, [t.message for t in result.tests[:2]]


# Steps adapted to the input: for an op linear in x, (f(x + h) - f(x)) / h with h = |x| (or x, or
# a power of two far above x) is exact to the last bit on finite inputs, so no tolerance, not even
# bit for bit, can tell it from the derivative. The graded inputs hold +inf and -inf where the op is
# linear: a quotient taken at x is inf - inf = nan there, whatever the step.
ADAPTED_STEPS = {
    "h = |x|": "np.where(x == 0, 1.0, np.abs(x))",
    "h = x": "np.where(x == 0, 1.0, x)",
    "h = 2^60 |x|": "2.0 ** (np.floor(np.log2(np.where(x == 0, 1.0, np.abs(x)))) + 60)",
}
ADAPTED = """\
    import numpy as np
    a, b = self.saved[:2]
    def f(u, v):
        return OP
    with np.errstate(all="ignore"):
        x = a if i == 0 else b
        h = STEP
        if i == 0:
            return (f(a + h, b) - f(a, b)) / h
        return (f(a, b + h) - f(a, b - h)) / (2 * h)
"""


@pytest.mark.parametrize("step", sorted(ADAPTED_STEPS))
def test_differences_with_a_step_adapted_to_the_input_score_nothing(sub, step, clone):
    for name, op in (("minigrad.ops.Mul.derivative", "u * v"), ("minigrad.ops.Div.derivative", "u / v")):
        put(sub, name, ADAPTED.replace("OP", op).replace("STEP", ADAPTED_STEPS[step]))
    result = score(sub, "1.2")
    assert result.earned == 0 and result.total == 12 and not result.error, [t.message for t in result.tests]


# A quotient taken somewhere else than the input: for an op linear in a, f(1, b) - f(0, b) is b bit
# for bit wherever b is finite. Where the other input is infinite it is inf - 0 * inf = nan, while
# the derivative is inf (PyTorch's g * b); the hidden items hold such entries.
ELSEWHERE = """\
    import numpy as np
    a, b = self.saved
    one, zero = np.ones_like(a), np.zeros_like(a)
    with np.errstate(all="ignore"):
        return (one * b - zero * b) if i == 0 else (a * one - a * zero)
"""


def test_differences_at_a_unit_input_score_nothing(sub, clone):
    put(sub, "minigrad.ops.Mul.derivative", ELSEWHERE)
    put(sub, "minigrad.ops.Div.derivative")  # the reference's: only Mul is under test
    result = score(sub, "1.2")
    mul = [t for t in result.tests if "Mul" in t.nodeid]
    assert len(mul) == 6 and all(t.outcome != "passed" and "nan" in t.message for t in mul), [t.message for t in mul]
    assert result.earned == 5 and result.total == 12 and not result.error, (result.earned, result.error)


# Richardson-extrapolated central differences (12 forward evaluations) are within about 3e-14 of
# the derivative of a smooth op: they met 1e-12, but every item has entries where they miss the
# 1e-15 (absolute: the derivatives are at most 1) that any honest form from y meets (docs/COURSE.md).
RICHARDSON = """\
    import numpy as np
    (y,) = self.saved
    x = INVERSE
    def f(u):
        return FORWARD
    h, rows = 0.25, []
    for k in range(6):
        s = h / 2 ** k
        rows.append((f(x + s) - f(x - s)) / (2 * s))
    for m in range(1, 6):
        rows = [(4 ** m * rows[k + 1] - rows[k]) / (4 ** m - 1) for k in range(len(rows) - 1)]
    return rows[0]
"""


def test_richardson_differences_on_smooth_ops_score_nothing(sub, clone):
    put(sub, TANH, RICHARDSON.replace("INVERSE", "np.arctanh(y)").replace("FORWARD", "np.tanh(u)"))
    put(sub, SIGMOID, RICHARDSON.replace("INVERSE", "np.log(y / (1 - y))").replace("FORWARD", "1 / (1 + np.exp(-u))"))
    put(sub, RELU)  # the reference's: only Tanh and Sigmoid are under test
    result = score(sub, "1.1")
    smooth = [t for t in result.tests if "Tanh" in t.nodeid or "Sigmoid" in t.nodeid]
    assert len(smooth) == 6 and all(t.outcome == "failed" and "atol=1e-15" in t.message for t in smooth), [
        t.message for t in smooth]  # fmt: skip
    assert result.passed == 4 and result.total == 10 and not result.error, (result.passed, result.error)


@pytest.mark.parametrize("body", [
    "(y,) = self.saved\nx = 0.5 * np.log((1 + y) / (1 - y))\nreturn np.tanh(x + 1e-20j).imag / 1e-20",
    "(y,) = self.saved\nx = 0.5 * np.log((1 + y) / (1 - y))\nz = x.astype('D')\nz += np.sqrt(np.array(-1e-40, 'D'))\n"
    "return (np.tanh(z) - np.tanh(x)).view(float)[1::2] / 1e-20",
], ids=["literal", "dtype string"])  # fmt: skip
def test_complex_step_is_refused(sub, body, clone):
    put(sub, TANH, "import numpy as np\n" + body)
    result = score(sub, "1.1")
    assert result.earned == 0 and result.error.startswith("refused") and "complex" in result.error, result.error


SIBLING = """\
    from minigrad.ops.extra_steps import ResidualRNNStep
    h, W, h_next, mask = self.saved
    r = ResidualRNNStep()
    r.save(h, W, h_next)
    r.needs_grad = self.needs_grad
    dxp, dh, *rest = getattr(r, "v" + "jp")(grad_out)
    return (dxp, dh - grad_out, *rest)
"""


def test_a_sibling_that_solves_the_piece_is_stubbed(sub, clone):
    put(sub, "minigrad.ops.recurrent.RNNStep.vjp", SIBLING)
    result = score(sub, "5.1")
    assert result.earned == 0 and not result.error
    assert all("is not part of this assignment" in t.message for t in result.tests), result.tests[0].message


SYMPY = """\
    s.path.extend(SITES)
    sp = getattr(b, "__imp" + "ort__")("sympy")
    X, Y = sp.symbols("X Y")
    d = sp.diff(sp.tanh(X), X).subs(sp.tanh(X), Y)
    (y,) = self.saved
    return sp.lambdify(Y, d, "numpy")(y)
"""


def test_symbolic_packages_cannot_be_imported(sub, clone):
    sites = sorted(set(glob.glob(os.path.join(sys.base_prefix, "lib", "python3*", "site-packages")) + sys.path[1:]))
    put(sub, TANH, cheat(SYMPY.replace("SITES", repr(sites))))
    result = score(sub, "1.1")
    tanh = [t for t in result.tests if "Tanh" in t.nodeid]
    assert tanh and all(t.outcome != "passed" and "sympy" in t.message for t in tanh), tanh[0].message


DETACHED = """\
    if o.fork() == 0:
        o.setsid()
        if o.fork() == 0:
            o.execv("/bin/sleep", ["sleep", "4242.5"])
        o._exit(0)
    (y,) = self.saved
    return 1 - y
"""


def _sleepers() -> list[str]:
    found = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if b"4242.5" in Path(cmdline).read_bytes():
                found.append(cmdline)
        except OSError:
            pass
    return found


@pytest.mark.skipif(sandbox.mode() == "plain", reason="only a PID namespace kills what leaves the session")
def test_a_detached_child_does_not_outlive_its_task(sub, clone):
    put(sub, TANH, cheat(DETACHED))
    result = score(sub, "1.1", timeout=120)
    assert not result.error and result.earned == 0
    assert _sleepers() == [], "a child of the sealed process outlived grading"


GREEDY = {
    "8 GiB at once": """\
        import numpy as np
        hoard = np.empty(2 ** 30)  # 8 GiB, never touched: only the limit refuses it
        (y,) = self.saved
        return 1 - y * y + 0 * hoard[:1]
    """,
    "without end": """\
        import numpy as np
        hoard = []
        while True:
            hoard.append(np.ones(2 ** 24))  # 128 MiB a step, touched
    """,
}


@pytest.mark.parametrize("kind", sorted(GREEDY))
def test_a_piece_that_allocates_without_limit_fails_its_own_items(sub, kind, clone):
    put(sub, TANH, GREEDY[kind])
    put(sub, SIGMOID)
    put(sub, RELU)
    result = score(sub, "1.1")
    failed = [t for t in result.tests if t.outcome != "passed"]
    assert not result.error and len(failed) == 3 and result.passed == 7, [t.message for t in failed]
    for t in failed:
        assert "Tanh" in t.nodeid and "MemoryError" in t.message, t.message
        assert f"may use {sandbox.MEMORY_LIMIT / 2**30:g} GiB of memory" in t.message, t.message


def test_protections_in_force_are_reported(sub):
    report = grade(sub, EXAMPLE, reference=ROOT, only="2.1", timeout=300)
    assert report.protections[0] == f"mode {sandbox.mode()}"
    if os.geteuid() == 0 and sandbox.mode() == "root":
        assert "unprivileged user 'nobody'" in report.protections
        assert "no network (empty network namespace)" in report.protections
    assert sandbox.MEMORY in report.protections


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root has a user to drop")
def test_plain_mode_as_root_runs_the_pieces_as_nobody(request, sub, monkeypatch, clone):
    """Without a jail (namespaces refused, or forced), a grader running as root still never runs
    student code as root: the worker becomes 'nobody', and grading still works."""
    import pwd
    import subprocess
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="minigrad-plain-"))  # pytest's tmp_path is not reachable by 'nobody'
    request.addfinalizer(lambda: shutil.rmtree(top, ignore_errors=True))
    os.chmod(top, 0o711)
    copy = top / "copy"
    (copy / "minigrad" / "course").mkdir(parents=True)
    shutil.copy(sandbox.WORKER, copy / "minigrad" / "course" / "_worker.py")
    (copy / "probes").mkdir()
    (copy / "probes" / "probe_who.py").write_text(
        "import os\n\ndef who():\n    try:\n        open('/root/.minigrad-probe', 'w')\n        wrote = 1.0\n"
        "    except OSError:\n        wrote = 0.0\n    return [float(os.getuid()), float(os.geteuid()), wrote]\n")
    for path in [copy, *copy.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    # 'nobody' must be able to run the worker's Python: a Python under /root (pyenv) is not, so
    # try the system's (NumPy comes from this environment's site-packages, by path).
    pythons = [sandbox._python(), *sorted(glob.glob(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"))]
    def runs_as_nobody(python):
        # the check grade itself makes (sandbox.refusal): a throwaway worker as 'nobody' imports NumPy.
        # Starting Python is not enough: a venv inside a folder only root can read (CI's mktemp -d
        # clone) starts, but NumPy's folder is not readable by 'nobody'
        with monkeypatch.context() as m:
            m.setattr(sandbox, "_python", lambda: python)
            return sandbox._try("plain")

    runnable = [p for p in pythons if runs_as_nobody(p)]
    if runnable:
        monkeypatch.setattr(sandbox, "_python", lambda: runnable[0])
        sealed = sandbox.Sealed("plain", top / "work", copy, "probes", call_timeout=30)
        try:
            uid, euid, wrote = sealed.call("probe_who", "who")
        finally:
            sealed.close()
        nobody = pwd.getpwnam("nobody").pw_uid
        assert (uid, euid, wrote) == (nobody, nobody, 0.0)
        assert not os.path.exists("/root/.minigrad-probe")
        monkeypatch.undo()
    # A whole grade in mode plain: as 'nobody', or refused with the reason; never as root.
    env = {**os.environ, "MINIGRAD_COURSE_SEAL": "plain"}
    put(sub, "minigrad.broadcast.unbroadcast")
    run = subprocess.run([sys.executable, "-m", "minigrad.course", "grade", str(sub), "--tasks", str(EXAMPLE),
                          "--src", str(ROOT), "--task", "2.1"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)  # fmt: skip
    if pythons[0] in runnable:
        assert run.returncode == 0 and "10/10" in run.stdout and "'nobody' (no jail)" in run.stdout, run.stdout
    else:
        assert run.returncode == 2 and "refusing to run student code as root" in run.stderr, run.stderr
        assert "cannot run" in run.stderr and not run.stdout, run.stdout


@pytest.mark.skipif(sandbox.mode() != "root", reason="the jail's user 'nobody' must read the copy")
def test_a_reference_readable_by_root_only_still_grades(tmp_path, sub, clone):
    """The Gradescope bundle's setup.sh makes the reference root-only (chmod -R go-rwx); the
    sealed copies made from it must still be readable by 'nobody'."""
    ref = tmp_path / "reference"
    for rel in list_files(ROOT):
        (ref / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, ref / rel)
    for path in [ref, *ref.rglob("*")]:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    put(sub, "minigrad.broadcast.unbroadcast")
    report = grade(sub, ref / "course" / "example_tasks.toml", reference=ref, only="2.1", timeout=300)
    assert report.earned == 10, report.tasks[0].error or report.tasks[0].tests[0].message


def test_a_dependency_runs_the_students_own_pieces(tmp_path, sub, clone):
    # Task 6.1 declared to depend on 5.1 and 5.2: their pieces go into 6.1's copy from the
    # submission; a refused dependency refuses 6.1 with the reason.
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'pieces = ["minigrad.bptt.Trajectory.backprop"]',
        'pieces = ["minigrad.bptt.Trajectory.backprop"]\ndepends = ["5.1", "5.2"]')  # fmt: skip
    tasks = tmp_path / "tasks.toml"
    write(tasks, text)
    put(sub, "minigrad.bptt.Trajectory.backprop")
    put(sub, "minigrad.ops.recurrent.RNNStep.vjp", "import os\nreturn grad_out")
    report = grade(sub, tasks, reference=ROOT, only="6.1", timeout=300)
    error = report.tasks[0].error
    assert report.earned == 0 and "depends on task 5.1" in error and "imports 'os'" in error, error
    put(sub, "minigrad.ops.recurrent.RNNStep.vjp")
    assert grade(sub, tasks, reference=ROOT, only="6.1", timeout=300).earned == 20


@pytest.mark.skipif(sandbox.mode() == "plain", reason="only a PID namespace kills what leaves the session")
def test_a_busy_worker_dies_when_the_grader_side_dies_without_closing(tmp_path):
    """The grader killed mid-call (no close()): the worker, spinning in a piece, must not live on
    as PID 1 of its namespace (dropping to 'nobody' clears unshare's parent-death signal)."""
    import json
    import signal
    import subprocess
    import time

    os.chmod(tmp_path, 0o755)
    copy = tmp_path / "copy"
    (copy / "minigrad" / "course").mkdir(parents=True)
    shutil.copy(sandbox.WORKER, copy / "minigrad" / "course" / "_worker.py")
    (copy / "probes").mkdir()
    (copy / "probes" / "probe_spin.py").write_text("def spin():\n    while True:\n        pass\n")
    sealed = sandbox.Sealed(sandbox.mode(), tmp_path / "work", copy, "probes", call_timeout=5)
    sealed._start()
    request = {"nonce": "n", "module": "probe_spin", "function": "spin", "args": {}}
    sealed.proc.stdin.write(json.dumps(request).encode() + b"\n")
    sealed.proc.stdin.flush()
    time.sleep(1.0)
    os.kill(sealed.proc.pid, signal.SIGKILL)  # unshare dies; nobody calls close()
    sealed.proc.wait()

    def spinning():
        ps = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
        return [line for line in ps.splitlines() if "_worker.py" in line and "/sealed/copy/probes" in line
                and not line.startswith("Z")]

    deadline = time.monotonic() + 10
    while spinning() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not spinning()
