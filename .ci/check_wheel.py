"""Check what ``python -m build`` made, before CI installs the wheel and tests it.

    python .ci/check_wheel.py DIST_DIR

* the wheel holds every file git tracks under minigrad/ (a subpackage the build missed would
  otherwise surface only as an ImportError on a user's machine), and the example course
  (course/example_tasks.toml and course/hidden/) under minigrad/course/example/, which the
  course kit reads at run time;
* its METADATA is complete: summary, Python range, licence and licence file, classifiers, project
  URLs, README as a Markdown long description, numpy as the only requirement, every extra;
* the sdist holds what a rebuild or a test run needs (tests, docs, notebooks, course, LICENSE).

Exits 1 with the list of what is missing.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = {"demos", "test", "dev", "viz", "notebooks", "docs"}


def tracked(prefix: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", prefix], capture_output=True, check=True)
    return [p for p in out.stdout.decode().split("\0") if p]


def main() -> int:
    dist = Path(sys.argv[1])
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"FAIL: expected one wheel and one sdist in {dist}, got {wheels + sdists}")
        return 1
    problems = []
    with zipfile.ZipFile(wheels[0]) as z:
        names = set(z.namelist())
        problems += [f"wheel lacks {p}" for p in tracked("minigrad") if p not in names]
        for p in tracked("course"):
            shipped = "minigrad/course/example/" + p.removeprefix("course/")
            if shipped not in names:
                problems.append(f"wheel lacks the example course's {p} (as {shipped})")
        problems += [f"wheel holds a stray file {n}" for n in names if "__pycache__" in n or n.endswith(".pyc")]
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(meta_name).decode())
    for field in ("Name", "Version", "Summary", "Requires-Python", "License-Expression", "License-File",
                  "Description-Content-Type", "Author"):  # fmt: skip
        if not meta.get(field):
            problems.append(f"METADATA has no {field}")
    if meta.get("Description-Content-Type", "").split(";")[0] != "text/markdown":
        problems.append("METADATA: the long description is not README as Markdown")
    if len(meta.get_all("Classifier") or []) < 5:
        problems.append("METADATA: fewer than 5 classifiers")
    if len(meta.get_all("Project-URL") or []) < 2:
        problems.append("METADATA: fewer than 2 project URLs")
    required = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    if [r.split(">")[0].strip() for r in required] != ["numpy"]:
        problems.append(f"METADATA: the runtime requirements are {required}, not numpy only")
    if set(meta.get_all("Provides-Extra") or []) != EXTRAS:
        problems.append(f"METADATA: extras {meta.get_all('Provides-Extra')}, expected {sorted(EXTRAS)}")
    with tarfile.open(sdists[0]) as t:  # paths inside the sdist's top folder
        inside = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for need in ("tests/conftest.py", "docs/THEORY.md", "docs/site/conf.py", "notebooks/01_first_look.ipynb",
                 "course/example_tasks.toml", "LICENSE", "README.md", "pyproject.toml"):  # fmt: skip
        if need not in inside:
            problems.append(f"sdist lacks {need}")
    for p in problems:
        print("FAIL:", p)
    print(f"{wheels[0].name}: {len(names)} files; {sdists[0].name}; metadata {meta['Name']} {meta['Version']}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
