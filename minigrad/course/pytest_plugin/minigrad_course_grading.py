"""A pytest plugin that ``grade`` loads (``-p minigrad_course_grading``) in the student copy.

It keeps the Hypothesis profile the task file chose (``--hypothesis-profile=ci``) but drops
the *explain* phase, which re-runs a failing test hundreds of times to say which argument
mattered (about 15 s per failing test here: a stubbed piece fails every test that uses it),
and the example database, so grading writes nothing into the student's copy.

This folder is put on ``PYTHONPATH`` after the student copy: it is a top-level module,
so a student's copy of minigrad cannot replace it.
"""

import pytest
from hypothesis import Phase, settings


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
