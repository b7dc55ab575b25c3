"""What a piece's body may not do: the rule ``grade`` (and ``check``) apply on the syntax tree.

A piece is graded on what it computes, so it must compute it: a body that calls into the code
its task replaces (the numerical Jacobian, the closed-form step Jacobians, autograd inside a
hand-derived VJP, ``super().jacobian``) or that reaches outside itself (imports beyond NumPy
and minigrad, monkeypatching a module, ``eval``) is refused before any test runs, and its task
scores 0 with the reason. The rule reads *names*: every identifier, attribute and imported
name in the body (nested functions included) is compared with

* :data:`ALWAYS_FORBIDDEN` (every task), the task file's top-level ``forbid`` and the task's
  own ``forbid`` (e.g. ``jacobian``, ``state_jacobian``, ``numerical_jacobian``, ``backward``);
* dunder names (``__class__``, ``__dict__``, ``__import__``): the way around every other rule;
* ``global``/``nonlocal``, complex literals, names and dtype strings (complex-step
  differentiation), and assignments
  to anything the piece does not own (``np.testing.assert_allclose = ...``: the root of the
  target must be an argument or a local name).

Names are a guard against the obvious; the grading copy is the second wall (everything a task
can be assembled from is stubbed there too, see ``also_stub``) and the graded tests' tolerance
(1e-12 relative, which central differences cannot meet) the third.
"""

from __future__ import annotations

import ast

ALWAYS_FORBIDDEN = frozenset({
    "eval", "exec", "compile", "globals", "locals", "vars", "setattr", "delattr", "open",
    "importlib", "builtins", "sys", "os", "subprocess", "socket", "ctypes", "inspect",
    "gradcheck", "numerical_jacobian", "testing", "pytest", "hypothesis", "course",
    # complex-step differentiation: Im f(x + ih) / h is exact to rounding for analytic f
    "complex", "complex64", "complex128", "complex256", "cdouble", "csingle", "clongdouble", "cfloat",
    "complexfloating", "imag", "emath", "angle", "conj", "conjugate", "iscomplexobj",
})  # fmt: skip
# dtype strings that make complex arrays (astype("D"), dtype="c16")
COMPLEX_DTYPES = frozenset({"D", "G", "c8", "c16", "c32", "complex", "complex64", "complex128", "complex256",
                            "cdouble", "csingle", "clongdouble", "cfloat"})  # fmt: skip
ALLOWED_IMPORTS = frozenset({"numpy", "math", "itertools", "functools", "collections", "operator", "minigrad"})


def _bound_names(node: ast.AST) -> set[str]:
    """The piece's own names: its arguments and every name it binds (nested defs included)."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            names.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
    return names


def _root(target: ast.AST) -> ast.AST:
    while isinstance(target, (ast.Attribute, ast.Subscript, ast.Starred)):
        target = target.value
    return target


def _targets(n: ast.AST) -> list:
    if isinstance(n, ast.Assign):
        return list(n.targets)
    if isinstance(n, (ast.AugAssign, ast.AnnAssign)):
        return [n.target]
    if isinstance(n, ast.Delete):
        return list(n.targets)
    return []


def _flatten(targets: list) -> list:
    out = []
    for t in targets:
        if isinstance(t, (ast.Tuple, ast.List)):
            out += _flatten(list(t.elts))
        else:
            out.append(t)
    return out


def violations(node: ast.FunctionDef | ast.AsyncFunctionDef, forbid: set[str] | frozenset) -> list[str]:
    """Why the piece ``node`` is refused: one sentence per offending use ([] if it is fine)."""
    forbidden = set(forbid) | ALWAYS_FORBIDDEN
    own = _bound_names(node)
    found = []
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    for statement in body:
        for n in ast.walk(statement):
            line = getattr(n, "lineno", node.lineno)
            names = []
            if isinstance(n, ast.Name):
                names = [n.id]
            elif isinstance(n, ast.Attribute):
                names = [n.attr]
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in n.names] if isinstance(n, ast.Import) else [n.module or ""]
                for m in modules:
                    if isinstance(n, ast.ImportFrom) and n.level:
                        found.append(f"line {line}: relative import (import from minigrad by its full name)")
                    elif m.split(".")[0] not in ALLOWED_IMPORTS:
                        found.append(f"line {line}: imports {m!r} (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
                    names += m.split(".")
                if isinstance(n, ast.ImportFrom):
                    names += [a.name for a in n.names]
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                found.append(f"line {line}: '{type(n).__name__.lower()}' (a piece keeps its names to itself)")
            elif isinstance(n, ast.Constant) and (
                isinstance(n.value, complex) or (isinstance(n.value, str) and n.value.lstrip("<>=|") in COMPLEX_DTYPES)
            ):
                found.append(f"line {line}: a complex number (complex-step differentiation is not a derivation)")
            for name in names:
                if name in forbidden:
                    found.append(f"line {line}: uses {name!r}, which this task may not use")
                elif name.startswith("__") and name.endswith("__"):
                    found.append(f"line {line}: uses {name!r} (dunder names are not allowed in a piece)")
            for target in _flatten(_targets(n)):
                root = _root(target)
                if target is not root and not (isinstance(root, ast.Name) and root.id in own):
                    found.append(
                        f"line {line}: assigns to {ast.unparse(target)!r}, which the piece does not own "
                        "(only its arguments and local names may be changed)"
                    )
    return list(dict.fromkeys(found))
