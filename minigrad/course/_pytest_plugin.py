"""The pytest plugin of the course kit, loaded *by path* by ``_runner.py`` (never imported by name:
importing it blocks the network of the importing process).

Loading it by path means no file in a copy can stand in for it. It

* records every test's outcome and failure message in the JSON file named by the
  ``MINIGRAD_COURSE_RESULTS`` environment variable (what ``grade`` and ``check`` score);
* blocks the network: a socket that tries to connect raises ``OSError`` (grading needs none);
* keeps the Hypothesis profile the task file chose but drops the *explain* phase (it re-runs
  a failing test hundreds of times, about 15 s per failing test here) and the example
  database, so a run writes nothing into the tree it tests.
"""

import json
import os
import socket

import pytest
from hypothesis import Phase, settings


def _no_network(*args, **kwargs):
    raise OSError("the course grader allows no network access")


socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network

_RESULTS: dict = {"collected": [], "tests": {}, "collect_errors": {}}
_LIMIT = 3000  # characters of a failure message kept


def _message(call, report) -> str:
    """The exception's own text (the graded tests put names and numbers in it), then the
    'Falsifying example' lines Hypothesis added, if any."""
    if call.excinfo is None:
        return ""
    text = call.excinfo.exconly().strip()
    lines = report.longreprtext.splitlines()
    start = next((k for k, line in enumerate(lines) if line.startswith("Falsifying example")), None)
    if start is not None:
        text += "\n" + "\n".join(lines[start : start + 6])
    return text[:_LIMIT]


@pytest.hookimpl(trylast=True)  # after Hypothesis's own plugin has loaded the chosen profile
def pytest_configure(config):
    current = settings()
    settings.register_profile(
        "minigrad-course-grading",
        parent=current,
        phases=tuple(p for p in current.phases if p != Phase.explain),
        database=None,
    )
    settings.load_profile("minigrad-course-grading")


def pytest_collection_finish(session):
    _RESULTS["collected"] = [item.nodeid for item in session.items]


def pytest_collectreport(report):
    if report.failed:
        _RESULTS["collect_errors"][report.nodeid] = report.longreprtext[-_LIMIT:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or report.outcome != "passed":
        entry = _RESULTS["tests"].setdefault(item.nodeid, {"outcome": "passed", "message": ""})
        if report.when == "call" and report.outcome == "passed" and entry["outcome"] == "passed":
            return
        if entry["outcome"] == "passed" or report.when == "call":
            state = {"failed": "failed" if report.when == "call" else "error"}.get(report.outcome, report.outcome)
            entry["outcome"] = state
            entry["message"] = _message(call, report) or report.longreprtext[-_LIMIT:]


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("MINIGRAD_COURSE_RESULTS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_RESULTS, f)
