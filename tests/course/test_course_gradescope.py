"""The Gradescope bundle, end to end, in a simulated ``/autograder`` (a temporary directory).

The bundle is built from a three-task file (tasks 1.1, 1.2 and 2.1 of the example course, 30
points) to keep the runs short; ``run_autograder`` is run as Gradescope runs it (``bash``, as
this user) with ``AUTOGRADER_ROOT`` pointing at the simulated root. Each run must leave
``results/results.json`` with the spec's fields and no absolute path.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from course_helpers import ROOT, put, write

from minigrad.course import make_student_copy
from minigrad.course.__main__ import main

EXAMPLE = ROOT / "course" / "example_tasks.toml"
pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="a student copy: no reference task file here")
KEEP = ("1.1", "1.2", "2.1")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """(the zip, the three-task file, a blank student copy)."""
    tmp = tmp_path_factory.mktemp("gradescope")
    text = EXAMPLE.read_text(encoding="utf-8")
    blocks = text.split("\n[[task]]\n")
    kept = [b for b in blocks[1:] if re.search(r'^id = "(.*)"', b, re.M).group(1) in KEEP]
    tasks = tmp / "tasks.toml"
    write(tasks, blocks[0] + "".join("\n[[task]]\n" + b for b in kept))
    zipped = tmp / "autograder.zip"
    assert main(["gradescope", "--tasks", str(tasks), "--out", str(zipped), "--src", str(ROOT), "--no-verify",
                 "--per-task", "120"]) == 0  # fmt: skip
    student = tmp / "student"
    make_student_copy(tasks, student, src=ROOT, verify=False, check_import=False)
    return zipped, tasks, student


def run_autograder(tmp_path, zipped, fill) -> dict:
    """Unpack the bundle into tmp/autograder/source, let ``fill`` make the submission, run it."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zipped) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    fill(root / "submission")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), MINIGRAD_AUTOGRADER_PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = (root / "results" / "results.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(ROOT) not in text and "/tmp/" not in text, text
    return json.loads(text)


def check_fields(data: dict, tests: int) -> None:
    for key in ("score", "execution_time", "output", "output_format", "visibility", "stdout_visibility", "tests"):
        assert key in data, key
    assert data["output_format"] == "text" and len(data["tests"]) == tests
    for t in data["tests"]:
        for key in ("score", "max_score", "status", "name", "number", "output", "tags", "visibility"):
            assert key in t, key
        assert t["status"] in ("passed", "failed") and t["output_format"] == "text"


def test_bundle_has_gradescopes_layout(bundle):
    names = zipfile.ZipFile(bundle[0]).namelist()
    assert "setup.sh" in names and "run_autograder" in names and "tasks.json" in names
    assert "reference/minigrad/ops/activations.py" in names and "reference/course/hidden/conftest.py" in names
    setup = zipfile.ZipFile(bundle[0]).read("setup.sh").decode()
    assert "numpy==" in setup and "chmod -R go-rwx /autograder/source" in setup


def test_reference_scores_full_marks(tmp_path, bundle):
    zipped, _, student = bundle

    def fill(target):
        shutil.copytree(student, target, dirs_exist_ok=True)
        for name in ("minigrad.ops.Sigmoid.derivative", "minigrad.ops.Tanh.derivative", "minigrad.ops.ReLU.derivative",
                     "minigrad.ops.Mul.derivative", "minigrad.ops.Div.derivative", "minigrad.broadcast.unbroadcast"):
            put(target, name)

    data = run_autograder(tmp_path, zipped, fill)
    check_fields(data, 3)
    assert data["score"] == 30 and all(t["status"] == "passed" for t in data["tests"]), data["output"]


def test_blank_scores_zero_in_a_zip_with_a_top_folder(tmp_path, bundle):
    zipped, _, student = bundle

    def fill(target):  # Gradescope unzips uploads; a zip inside the upload is unpacked here
        shutil.make_archive(str(tmp_path / "upload"), "zip", root_dir=student.parent, base_dir=student.name)
        shutil.copy(tmp_path / "upload.zip", target / "my_work.zip")

    data = run_autograder(tmp_path, zipped, fill)
    check_fields(data, 3)
    assert data["score"] == 0 and "NotImplementedError: Task 1.1" in data["tests"][0]["output"]


def test_partial_credit_from_only_the_edited_file(tmp_path, bundle):
    zipped, _, student = bundle
    edited = tmp_path / "edited"
    shutil.copytree(student, edited)
    put(edited, "minigrad.ops.Sigmoid.derivative")
    put(edited, "minigrad.ops.Tanh.derivative")

    def fill(target):  # only activations.py, uploaded on its own
        shutil.copy(edited / "minigrad" / "ops" / "activations.py", target / "activations.py")

    data = run_autograder(tmp_path, zipped, fill)
    first = data["tests"][0]
    assert first["number"] == "1.1" and first["score"] == 6 and first["status"] == "failed", first
    assert "activations.py -> minigrad/ops/activations.py" in data["output"]
    assert "FAILED course/hidden/test_hidden_ops.py::test_elementwise_derivative[ReLU" in first["output"]


def test_a_crashing_submission_still_gets_results(tmp_path, bundle):
    zipped, _, student = bundle

    def fill(target):
        shutil.copytree(student, target, dirs_exist_ok=True)
        put(target, "minigrad.broadcast.unbroadcast")
        crash = "import collections\ngetattr(collections, '_sys').modules['os'].abort()"
        put(target, "minigrad.ops.Tanh.derivative", crash)

    data = run_autograder(tmp_path, zipped, fill)
    check_fields(data, 3)
    assert data["score"] == 10 and data["tests"][2]["status"] == "passed"
    assert "exited before answering" in data["tests"][0]["output"]


def test_a_crash_of_the_grader_itself_still_writes_results(tmp_path, bundle):
    zipped, _, student = bundle
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(zipped) as z, zipfile.ZipFile(broken, "w") as out:
        for info in z.infolist():
            out.writestr(info, b"not json" if info.filename == "tasks.json" else z.read(info))
    data = run_autograder(tmp_path, broken, lambda target: shutil.copytree(student, target, dirs_exist_ok=True))
    assert data["score"] == 0 and "could not grade" in data["output"] and data["tests"] == []
