"""The package's imports form layers: no import circle, and no import hidden inside a function.

A circle (a imports b, b imports a) forces one of the two imports to be late, inside a
function, where a reader does not see it; so both are checked. The imports are read from the
source with ``ast`` (nothing is imported), every ``import minigrad...`` and
``from minigrad... import ...`` anywhere in a file, under ``TYPE_CHECKING`` too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minigrad"

# Modules not yet checked, with the reason. Keep this list short, and empty when it can be.
NOT_YET_CHECKED: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unchecked(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in NOT_YET_CHECKED)


def _imports(path: Path, modules: set[str]) -> list[tuple[str, int, bool]]:
    """(imported minigrad module, line, at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` and `try:` blocks at the top count as module level
        if isinstance(node, (ast.If, ast.Try)):
            top_level.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from minigrad.x import y` imports the module minigrad.x.y if there is one, else minigrad.x
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                       for a in node.names]  # fmt: skip
        else:
            continue
        for target in targets:
            if target == "minigrad" or target.startswith("minigrad."):
                found.append((target, node.lineno, id(node) in top_level))
    return found


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    """The import graph of the checked modules, and every late import (inside a def or class)."""
    paths = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph, late = {}, []
    for module, path in paths.items():
        if _unchecked(module):
            continue
        graph[module] = set()
        for target, line, at_top in _imports(path, set(paths)):
            graph[module].add(target)
            if not at_top:
                late.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} inside a function")
    return graph, late


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as [a, b, ..., a], or None (depth-first search, colouring nodes)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once all its imports are seen

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [node])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [])
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_the_package():
    cycle = find_cycle(_graph()[0])
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_late_imports_of_the_package():
    late = _graph()[1]
    assert not late, "a late import hides a circle; import at the top of the file instead:\n" + "\n".join(late)
