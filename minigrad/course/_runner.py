"""Run pytest on a tree for the course kit: ``python -I -B _runner.py TREE PLUGIN -- ARGS``.

Started by path in an isolated interpreter (``-I``: no ``PYTHON*`` variables, no user site, no
script or working directory on ``sys.path``), so nothing in TREE is imported before the tests
import it: pytest and the kit's plugin (loaded by path) come from the grader's environment,
then TREE goes first on ``sys.path`` so ``import minigrad`` loads the tree's copy.
"""

import importlib.util
import sys

import pytest


def main() -> int:
    tree, plugin_path, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: _runner.py TREE PLUGIN -- PYTEST_ARGS"
    spec = importlib.util.spec_from_file_location("minigrad_course_grading_by_path", plugin_path)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    import _hypothesis_pytestplugin  # plugin autoloading is off; this one the tests need

    sys.path.insert(0, tree)
    spec = importlib.util.find_spec("minigrad")  # finds, does not import
    origin = getattr(spec, "origin", None) or ""
    if not origin.startswith(tree):
        print(f"'import minigrad' would load {origin!r}, not the tree under test", file=sys.stderr)
        return 90
    return int(pytest.main(args, plugins=[_hypothesis_pytestplugin, plugin]))


if __name__ == "__main__":
    sys.exit(main())
