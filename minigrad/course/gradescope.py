"""A Gradescope autograder in one command: ``python -m minigrad.course gradescope --tasks T --out Z``.

The zip holds, at its root, Gradescope's two scripts and what they need:

* ``setup.sh`` (run once, as root, when Gradescope builds the image): installs Python, the
  ``unshare`` tool and NumPy, pytest and Hypothesis at the versions the bundle was built
  with, and makes ``source/`` readable by root only;
* ``run_autograder`` (run per submission, as root): grades under ``timeout`` and, whatever
  happens (a crash, a timeout, a kill), leaves ``results/results.json``: a "did not finish"
  file is written first and replaced when grading ends;
* ``reference/``: the instructor's tree (hidden tests included), and ``tasks.json``: the task
  file as JSON (no TOML reader needed on the image).

Student code never runs in the grading process: it runs in the sealed process (``sandbox.py``:
user ``nobody``, its own root without ``/autograder``, no network), so the bundle's reference
bodies are out of its reach. :func:`run` is what ``run_autograder`` calls.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

from minigrad.course.grade import grade
from minigrad.course.report import gradescope_json, report_text
from minigrad.course.tasks import load_tasks
from minigrad.course.tree import MakeError, list_files, project_root, student_state, write_tree

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get install -y python3 python3-venv python3-pip util-linux
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir {pins}
chmod -R go-rwx /autograder/source   # the reference and the hidden tests: root only
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this per submission, as root. It always leaves results/results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{MINIGRAD_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
mkdir -p "$ROOT/results"
cd "$ROOT"
export PYTHONHASHSEED=0 LANG=C.UTF-8
timeout -k 10 {limit} "$PY" -I -B -c 'import sys; sys.path.insert(0, sys.argv[2])
from minigrad.course.gradescope import run; run(sys.argv[1], sys.argv[2], float(sys.argv[3]))' \
  "$ROOT" "$HERE/reference" {per_task}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '{{"score": 0, "output": "The autograder stopped (exit status %s) before writing results; '\\
'please tell your instructor.", "output_format": "text", "stdout_visibility": "hidden", "tests": []}}\\n' \\
    "$status" > "$ROOT/results/results.json"
fi
exit 0
"""


def _pins() -> str:
    """NumPy, pytest and Hypothesis pinned at the versions this bundle was built and tested with."""
    return " ".join(f"{name}=={metadata.version(name)}" for name in ("numpy", "pytest", "hypothesis"))


def build(task_file: str | Path, out: str | Path, src: str | Path | None = None, time_limit: int = 540,
          per_task: int = 120, verify: bool = True) -> list[str]:  # fmt: skip
    """Write the autograder zip ``out`` for ``task_file`` and the reference ``src``; its member names.

    ``verify``: grade the reference first (it must score full marks). ``time_limit``: seconds for
    a whole submission (keep it under the assignment's Gradescope timeout); ``per_task``: per task.
    """
    src = Path(src).resolve() if src is not None else project_root()
    tasks = load_tasks(task_file)
    student_state(src, tasks)  # every piece resolves, or this raises
    if verify:
        report = grade(src, tasks, reference=src, timeout=per_task)
        if report.earned != report.max_points:
            raise MakeError("the reference does not score full marks on its own task file:\n" + report_text(report))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP.format(pins=_pins())),
                           ("run_autograder", RUN.format(limit=int(time_limit), per_task=int(per_task)))):  # fmt: skip
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            z.writestr(info, text)
            names.append(name)
        for rel in list_files(src):
            z.write(src / rel, "reference/" + rel)
            names.append("reference/" + rel)
        z.writestr("tasks.json", tasks.to_json())
        names.append("tasks.json")
    return names


# ---- run_autograder's side ------------------------------------------------------------------


def _write(path: Path, results: dict) -> None:
    """Replace ``path`` at once (a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _failure(message: str, elapsed: float) -> dict:
    return {"score": 0.0, "execution_time": round(elapsed, 1), "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}  # fmt: skip


def _safe_extract(archive: Path, into: Path, limit: int = 200 * 2**20) -> None:
    """Unzip a student's zip without leaving ``into`` (no absolute paths, no '..', size capped)."""
    with zipfile.ZipFile(archive) as z:
        total = 0
        for info in z.infolist():
            parts = Path(info.filename).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or info.is_dir():
                continue
            total += info.file_size
            if total > limit:
                raise ValueError("the uploaded zip unpacks to more than 200 MB")
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as f, open(target, "wb") as g:
                shutil.copyfileobj(f, g)


def find_submission(upload: Path, reference: Path, tasks, work: Path) -> tuple[Path, list[str]]:
    """The folder to grade, and notes: the upload itself, its one top folder, or the student copy
    with the uploaded files put at the paths they match (only the edited files uploaded)."""
    for archive in sorted(upload.rglob("*.zip")):
        _safe_extract(archive, work / "unzipped" / archive.stem)
    roots = [upload] + ([work / "unzipped"] if (work / "unzipped").exists() else [])
    for root in roots:
        found = sorted(p.parent.parent for p in root.rglob("minigrad/__init__.py"))
        if found:
            return min(found, key=lambda p: len(p.parts)), []
    state = student_state(reference, tasks)
    tree = work / "submission"
    write_tree(reference, tree, state)
    notes = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*.py") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            matches = [f for f in state.files if f == rel or f.endswith("/" + rel)]
            if len(matches) > 1:  # demos/activations.py and minigrad/ops/activations.py: the one with pieces
                matches = [f for f in matches if f in state.texts] or matches
            if len(matches) == 1:
                shutil.copyfile(path, tree / matches[0])
                notes.append(f"{rel} -> {matches[0]}")
            else:
                notes.append(f"{rel}: {'matches no file' if not matches else 'matches several files'} of the copy"
                             " (not used)")  # fmt: skip
    return tree, notes


def run(root: str | Path, reference: str | Path, per_task: float = 120.0) -> dict:
    """Grade ``root``/submission with the bundle's reference; write ``root``/results/results.json."""
    start = time.monotonic()
    root, reference = Path(root), Path(reference)
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    _write(results, _failure("Grading did not finish (timed out or crashed); the score is 0. "
                             "Please tell your instructor.", 0.0))  # fmt: skip
    try:
        tasks = load_tasks(reference.parent / "tasks.json")
        with tempfile.TemporaryDirectory(prefix="minigrad-upload-") as tmp:
            submission, notes = find_submission(root / "submission", reference, tasks, Path(tmp))
            report = grade(submission, tasks, reference=reference, timeout=per_task, jobs=2)
        data = json.loads(gradescope_json(report, execution_time=time.monotonic() - start))
        if notes:
            data["output"] += "\n\nUploaded files used:\n" + "\n".join(f"  {n}" for n in notes)
    except Exception as e:  # noqa: BLE001 - any failure still gives the student a results.json
        text = f"{type(e).__name__}: {e}".replace(str(root.resolve()) + "/", "").replace(str(root) + "/", "")
        data = _failure(f"The autograder could not grade this submission: {text}", time.monotonic() - start)
    _write(results, data)
    return data
