"""The task file: which pieces a course removes, what each task is worth, which tests grade it.

A task file is TOML (see ``course/example_tasks.toml``)::

    title = "Backpropagation from scratch"
    pytest_args = ["--hypothesis-profile=ci"]    # optional; this is the default

    [[task]]
    id = "1.1"
    title = "Elementwise derivatives"
    points = 10
    pieces = ["minigrad.ops.Tanh.derivative"]    # qualified names, never markers in the source
    tests = ["course/hidden/test_hidden_ops.py::test_tanh"]   # graded: node ids, files, folders
    check = ["tests/course/test_public_ops.py::test_tanh"]    # optional: the students' local check
    also_stub = ["minigrad.ops.Tanh.jacobian"]   # optional: stubbed too (they give the piece away)
    remove = ["benchmarks/numpy_rnn.py"]         # optional: files left out of the copies
    forbid = ["jacobian"]                        # optional: names the piece's body may not use
    markers = "not slow"                          # optional: pytest -m
    keyword = "tanh"                              # optional: pytest -k
    depends = ["1.1"]                             # optional: tasks whose pieces this one runs on
    budget = 20                                   # optional: seconds one call of a piece may take

Top-level ``hidden = ["course"]`` lists paths of the instructor's tree that are never
shipped to students (the hidden graded tests, the task file); ``forbid`` there applies to
every task; ``probes = "course/hidden/probes"`` names the folder of probe modules, the only
hidden files the sealed process gets (they run the pieces; they hold no expected value).

``depends``: the grading copy of this task gets the submission's own pieces of those tasks
too (a stubbed dependency would break this task with nothing the student can do about it);
a refused dependency refuses this task.

Parsing needs :mod:`tomllib` (Python 3.11+). On Python 3.10 ``make`` accepts the task file
only if the third-party ``tomli`` package happens to be installed; it is not a dependency of
minigrad. ``check`` (the students' local run) never needs TOML: ``make`` writes the public
part of the tasks into the student copy as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_PYTEST_ARGS = ("--hypothesis-profile=ci",)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_QUALNAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


class TaskFileError(ValueError):
    """A task file that cannot be used: the message names the file, the task and the field."""


@dataclass
class Task:
    """One assignment task: pieces to implement, points, and the pytest selection that grades it."""

    id: str
    title: str
    points: float
    pieces: list[str]
    tests: list[str] = field(default_factory=list)
    markers: str = ""
    keyword: str = ""
    check: list[str] = field(default_factory=list)
    also_stub: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    forbid: list[str] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    budget: float = 20.0  # seconds one call into the sealed process may take

    def pytest_selection(self, public: bool = False) -> list[str]:
        """The pytest arguments that select this task's graded tests (``public``: its check)."""
        chosen = self.check if public else self.tests
        args = list(chosen) or ["tests"]
        if self.markers:
            args += ["-m", self.markers]
        if self.keyword:
            args += ["-k", self.keyword]
        return args


@dataclass
class TaskFile:
    """A parsed task file: a title, extra pytest arguments, and the tasks in order."""

    title: str
    tasks: list[Task]
    pytest_args: list[str] = field(default_factory=lambda: list(DEFAULT_PYTEST_ARGS))
    hidden: list[str] = field(default_factory=list)
    forbid: list[str] = field(default_factory=list)
    probes: str = ""

    @property
    def max_points(self) -> float:
        """The sum of the tasks' points."""
        return sum(t.points for t in self.tasks)

    def task(self, task_id: str) -> Task:
        """The task with id ``task_id``; ValueError naming the known ids otherwise."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise TaskFileError(f"no task {task_id!r}; the task file has {[t.id for t in self.tasks]}")

    def stubbed(self) -> list[tuple[str, str]]:
        """(task id, qualified name) of everything a student copy stubs: pieces, then also_stub."""
        return [(t.id, n) for t in self.tasks for n in t.pieces + t.also_stub]

    def removed(self) -> list[str]:
        """Paths left out of every copy (student and grading): each task's ``remove``."""
        return list(dict.fromkeys([p for t in self.tasks for p in t.remove]))

    def to_json(self) -> str:
        """All of it as JSON (the instructor's view)."""
        return json.dumps(asdict(self), indent=2) + "\n"

    def public_json(self) -> str:
        """What the student copy may know: no graded (hidden) test ids, no hidden paths."""
        raw = asdict(self)
        raw.pop("hidden")
        raw.pop("probes")
        raw["public"] = True
        for t in raw["tasks"]:
            t["tests"], t["markers"], t["keyword"] = [], "", ""
        return json.dumps(raw, indent=2) + "\n"


def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # optional, not a dependency of minigrad
        except ModuleNotFoundError:
            raise TaskFileError(
                f"{path}: reading a TOML task file needs Python 3.11+ (tomllib) "
                "or the 'tomli' package on Python 3.10 (pip install tomli)"
            ) from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise TaskFileError(f"{path}: not valid TOML: {e}") from None


def load_tasks(path: str | Path) -> TaskFile:
    """Read and check a task file (``.toml``, or the ``.json`` that ``make`` writes)."""
    path = Path(path)
    if not path.is_file():
        raise TaskFileError(f"task file {str(path)!r} does not exist")
    if path.suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise TaskFileError(f"{path}: not valid JSON: {e}") from None
        raw["task"] = raw.pop("tasks", [])
    else:
        raw = _load_toml(path)
    return parse_tasks(raw, source=str(path))


def _expect(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise TaskFileError(f"{where}: {msg}")


def _str_list(value, where: str, name: str) -> list[str]:
    _expect(
        isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        where, f"'{name}' must be a list of non-empty strings, got {value!r}",
    )  # fmt: skip
    return list(value)


def parse_tasks(raw: dict, source: str = "<task file>") -> TaskFile:
    """Check the structure of a parsed task file and build a :class:`TaskFile`."""
    known = {"title", "pytest_args", "task", "hidden", "forbid", "public", "probes"}
    public = raw.get("public", False) is True  # the student copy's manifest: no graded tests
    unknown = sorted(set(raw) - known)
    _expect(not unknown, source, f"unknown top-level key(s) {unknown}; expected {sorted(known)}")
    title = raw.get("title", "minigrad course")
    _expect(isinstance(title, str), source, f"'title' must be a string, got {title!r}")
    pytest_args = _str_list(raw.get("pytest_args", list(DEFAULT_PYTEST_ARGS)), source, "pytest_args")
    hidden = [_relative_path(p, source, "hidden") for p in _str_list(raw.get("hidden", []), source, "hidden")]
    forbid = _str_list(raw.get("forbid", []), source, "forbid")
    probes = raw.get("probes", "")
    _expect(isinstance(probes, str), source, f"'probes' must be a path (a string), got {probes!r}")
    probes = _relative_path(probes, source, "probes") if probes else ""
    entries = raw.get("task", [])
    _expect(
        isinstance(entries, list) and len(entries) > 0, source,
        "expected at least one [[task]] table",
    )  # fmt: skip
    tasks, seen_ids, seen_pieces = [], set(), {}
    task_keys = {"id", "title", "points", "pieces", "tests", "markers", "keyword", "check", "also_stub",
                 "remove", "forbid", "depends", "budget"}  # fmt: skip
    for n, entry in enumerate(entries, start=1):
        where = f"{source}: task #{n}"
        _expect(isinstance(entry, dict), where, f"expected a table, got {entry!r}")
        unknown = sorted(set(entry) - task_keys)
        _expect(not unknown, where, f"unknown key(s) {unknown}; expected {sorted(task_keys)}")
        tid = entry.get("id")
        _expect(isinstance(tid, str) and bool(_ID.match(tid)), where,
                f"'id' must be a string like \"2.3\", got {tid!r}")  # fmt: skip
        where = f"{source}: task {tid}"
        _expect(tid not in seen_ids, where, "duplicate task id")
        seen_ids.add(tid)
        title_ = entry.get("title", "")
        _expect(isinstance(title_, str), where, f"'title' must be a string, got {title_!r}")
        points = entry.get("points")
        _expect(
            isinstance(points, (int, float)) and not isinstance(points, bool) and points > 0,
            where, f"'points' must be a positive number, got {points!r}",
        )  # fmt: skip
        pieces = _str_list(entry.get("pieces"), where, "pieces")
        _expect(len(pieces) > 0, where, "'pieces' must name at least one piece")
        for p in pieces:
            _expect(
                bool(_QUALNAME.match(p)),
                where,
                f"piece {p!r} is not a qualified name like 'minigrad.ops.Tanh.derivative'",
            )
            _expect(p not in seen_pieces, where, f"piece {p!r} is already in task {seen_pieces.get(p)}")
            seen_pieces[p] = tid
        also_stub = _str_list(entry.get("also_stub", []), where, "also_stub")
        for p in also_stub:
            _expect(bool(_QUALNAME.match(p)), where, f"also_stub {p!r} is not a qualified name")
            _expect(p not in seen_pieces, where, f"{p!r} is already stubbed by task {seen_pieces.get(p)}")
            seen_pieces[p] = tid
        tests = _str_list(entry.get("tests", []), where, "tests")
        check = _str_list(entry.get("check", []), where, "check")
        remove = [_relative_path(p, where, "remove") for p in _str_list(entry.get("remove", []), where, "remove")]
        forbid_ = _str_list(entry.get("forbid", []), where, "forbid")
        depends = _str_list(entry.get("depends", []), where, "depends")
        for d in depends:
            _expect(d in seen_ids and d != tid, where, f"depends on {d!r}, which is not an earlier task")
        budget = entry.get("budget", 20.0)
        _expect(isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget > 0, where,
                f"'budget' must be a positive number of seconds, got {budget!r}")  # fmt: skip
        markers = entry.get("markers", "")
        keyword = entry.get("keyword", "")
        _expect(isinstance(markers, str), where, f"'markers' must be a string, got {markers!r}")
        _expect(isinstance(keyword, str), where, f"'keyword' must be a string, got {keyword!r}")
        _expect(
            bool(tests or markers or keyword or public),
            where,
            "name the graded tests: 'tests' (node ids), 'markers' (-m) or 'keyword' (-k)",
        )
        tasks.append(Task(tid, title_, float(points), pieces, tests, markers, keyword,
                          check, also_stub, remove, forbid_, depends, float(budget)))  # fmt: skip
    return TaskFile(title, tasks, pytest_args, hidden, forbid, probes)


def _relative_path(path: str, where: str, name: str) -> str:
    """A path inside the project, with '/' separators, not escaping it."""
    p = Path(path)
    _expect(not p.is_absolute() and ".." not in p.parts, where,
            f"'{name}' entries must be paths inside the project, got {path!r}")  # fmt: skip
    return p.as_posix()
