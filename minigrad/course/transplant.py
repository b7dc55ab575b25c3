"""Take a piece's body out of a submission and put it into the instructor's copy; list other edits.

Only the *body* travels (the statements after the docstring): the signature, decorators and
docstring stay the instructor's. Everything else a student changed is reported by
:func:`outside_edits` (file and name) and ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path

from minigrad.course.stub import Piece, PieceError, body_span, split_lines

_SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".tox", ".nox", "__pycache__", ".pytest_cache",
    ".hypothesis", ".ruff_cache", ".mypy_cache", "build", "dist", ".course", ".ipynb_checkpoints",
}  # fmt: skip
_GENERATED = {"ASSIGNMENT.md"}


def piece_body(source: str, piece: Piece) -> list[tuple[str, bool]]:
    """The piece's body in ``source`` as (line without its indentation, was-indented) pairs.

    A line that lacks the body's indentation (inside a multi-line string) is kept as is.
    """
    node = piece.node
    rest = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if not rest:
        return [("pass\n", True)]
    lines = split_lines(source)
    first = rest[0]
    if first.lineno == node.lineno:
        raise PieceError(f"piece {piece.name!r}: its body starts on the line of the 'def'; put it on its own lines")
    indent = lines[first.lineno - 1][: first.col_offset]
    out = []
    for line in lines[first.lineno - 1 : node.end_lineno]:
        text = line.rstrip("\r\n") + "\n"
        out.append((text[len(indent) :], True) if text.startswith(indent) else (text, False))
    return out


def replace_bodies(source: str, bodies: list[tuple[Piece, list[tuple[str, bool]]]]) -> str:
    """``source`` with each piece's body (after its docstring) replaced by the given lines."""
    lines = split_lines(source)
    spans = sorted(((*body_span(lines, p)[:3], body) for p, body in bodies), key=lambda s: s[0])
    for start, stop, indent, body in reversed(spans):
        lines[start:stop] = [indent + text if indented else text for text, indented in body]
    result = "".join(lines)
    ast.parse(result)
    return result


def _without_docstring(node) -> list:
    return node.body[1:] if ast.get_docstring(node) is not None else node.body


def _blank(tree: ast.Module, pieces: set[str]) -> tuple[str, dict]:
    """A dump of ``tree`` with the bodies of ``pieces`` emptied, and each piece's node by name."""
    found = {}

    def visit(nodes, prefix):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and prefix + node.name in pieces:
                found[prefix + node.name] = node
            elif isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")

    visit(tree.body, "")
    saved = {name: node.body for name, node in found.items()}
    for node in found.values():
        node.body = [ast.Pass()]
    text = ast.dump(tree)
    for name, node in found.items():
        node.body = saved[name]
    return text, found


def same_except_pieces(stubbed: str, result: str, bodies: dict) -> str:
    """Why ``result`` (the copy with bodies put in) is not ``stubbed`` with exactly ``bodies``.

    ``bodies`` maps each piece's qualified name (in the module) to its node in the submission:
    the piece in ``result`` must have the same statements; everything else must equal ``stubbed``.
    '' when all holds.
    """
    before, _ = _blank(ast.parse(stubbed), set(bodies))
    after, found = _blank(ast.parse(result), set(bodies))
    if before != after:
        return "the copy changed outside the pieces (a line break Python and the kit read differently?)"
    for name, node in bodies.items():
        mine = ast.dump(ast.Module(_without_docstring(found[name]), []))
        if mine != ast.dump(ast.Module(_without_docstring(node), [])):
            return f"{name}: the body in the copy is not the body in the submission (an unusual line break?)"
    return ""


def _members(tree: ast.Module, pieces: set[str]) -> dict[str, str]:
    """qualified name -> a dump of its definition (a piece without its body); '' holds the rest."""
    found, rest = {}, []

    def dump(node, qual):
        if qual in pieces:
            node = ast.FunctionDef(name=node.name, args=node.args, body=[ast.Pass()],
                                   decorator_list=node.decorator_list, returns=node.returns)
        return ast.dump(node)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = dump(node, node.name)
        elif isinstance(node, ast.ClassDef):
            other = []
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    qual = f"{node.name}.{member.name}"
                    found[qual] = dump(member, qual)
                else:
                    other.append(ast.dump(member))
            found[node.name] = repr((ast.dump(ast.Tuple(node.bases, ast.Load())), other))
        else:
            rest.append(ast.dump(node))
    found["(module level)"] = repr(rest)
    return found


def _changed_names(base: str, theirs: str, pieces: set[str]) -> list[str]:
    try:
        mine, yours = _members(ast.parse(base), pieces), _members(ast.parse(theirs), pieces)
    except SyntaxError as e:
        return [f"does not parse (line {e.lineno})"]
    changed = [n for n in mine if mine[n] != yours.get(n)]
    return changed + [f"{n} (new)" for n in yours if n not in mine]


def outside_edits(submission: Path, base: dict[str, str], pieces: dict[str, set[str]]) -> list[str]:
    """Every change in ``submission`` outside the pieces, as 'file: name' lines.

    ``base`` maps each file of the student copy (a relative path) to its text as handed out;
    ``pieces`` maps a file to the qualified names (inside the module) of its pieces.
    """
    edits = []
    for rel, text in sorted(base.items()):
        path = submission / rel
        if not path.is_file():
            edits.append(f"{rel}: deleted")
            continue
        theirs = path.read_bytes().decode("utf-8", errors="replace")
        if theirs.replace("\r\n", "\n") == text.replace("\r\n", "\n"):
            continue
        if rel.endswith(".py"):
            edits += [f"{rel}: {name}" for name in _changed_names(text, theirs, pieces.get(rel, set()))]
        else:
            edits.append(f"{rel}: changed")
    for path in sorted(submission.rglob("*")):
        rel = path.relative_to(submission)
        if any(p in _SKIP_DIRS or p.endswith(".egg-info") for p in rel.parts[:-1]) or not path.is_file():
            continue
        if rel.as_posix() not in base and rel.name not in _GENERATED and path.suffix not in (".pyc", ".pyo"):
            edits.append(f"{rel.as_posix()}: new file")
    return edits
