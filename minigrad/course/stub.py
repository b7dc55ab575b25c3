r"""Find a named piece in the source tree and replace its body with a stub.

A piece is a qualified name: ``minigrad.ops.Tanh.derivative`` (a method), or
``minigrad.engine.topological_order`` (a function). It is found by reading the syntax
tree, never by importing: the module part names a file (``minigrad/ops/__init__.py``),
and a name that module only re-exports (``from minigrad.ops.activations import Tanh``)
is followed to the file that defines it.

The stub keeps the signature, decorators and docstring (the math) and replaces the
rest of the body, and only that line range of the source text, with::

    raise NotImplementedError("Task 1.2: implement the derivative of Tanh (...)")

so every comment and every blank line elsewhere in the file survives byte for byte.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

_FUNC = (ast.FunctionDef, ast.AsyncFunctionDef)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class PieceError(ValueError):
    """A piece that cannot be found or stubbed; the message says which and why."""


@dataclass
class Piece:
    """Where a named piece lives: its file, the qualified name inside the module, and its node."""

    name: str  # as written in the task file
    path: Path  # the file that defines it
    qualname: str  # e.g. "Tanh.derivative"
    node: ast.FunctionDef | ast.AsyncFunctionDef
    owner: ast.ClassDef | None = None  # the class of a method


def _module_file(root: Path, parts: list[str]) -> Path | None:
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _absolute_module(importer: list[str], is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        return node.module.split(".")
    package = importer if is_package else importer[:-1]
    base = package[: len(package) - (node.level - 1)]
    return base + (node.module.split(".") if node.module else [])


def _find_top_level(root: Path, module: list[str], name: str, piece: str, depth: int = 0):
    """The file and top-level node (def or class) that ``module.name`` refers to."""
    path = _module_file(root, module)
    if path is None:
        raise PieceError(f"piece {piece!r}: no module {'.'.join(module)!r} under {root}")
    if depth > 10:
        raise PieceError(f"piece {piece!r}: too many re-exports while looking for {name!r}")
    tree = _parse(path)
    for node in tree.body:
        if isinstance(node, (*_FUNC, ast.ClassDef)) and node.name == name:
            return path, node
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = _absolute_module(module, path.name == "__init__.py", node)
                    if _module_file(root, source + [alias.name]) is not None:
                        raise PieceError(f"piece {piece!r}: {alias.name!r} is a module, not a function")
                    return _find_top_level(root, source, alias.name, piece, depth + 1)
    raise PieceError(
        f"piece {piece!r}: module {'.'.join(module)!r} ({path.relative_to(root)}) "
        f"defines no function or class named {name!r}"
    )


def resolve_piece(root: str | Path, name: str) -> Piece:
    """Find the function or method that the qualified ``name`` names in the tree at ``root``."""
    root = Path(root)
    parts = name.split(".")
    # The longest prefix that is a module file; the rest are attributes.
    for split in range(len(parts) - 1, 0, -1):
        if _module_file(root, parts[:split]) is not None:
            break
    else:
        raise PieceError(f"piece {name!r}: no module {parts[0]!r} under {root}")
    module, attrs = parts[:split], parts[split:]
    path, node = _find_top_level(root, module, attrs[0], name)
    qual, owner = [node.name], None
    for attr in attrs[1:]:
        if not isinstance(node, ast.ClassDef):
            raise PieceError(f"piece {name!r}: {'.'.join(qual)} is a function, it has no {attr!r}")
        members = {n.name: n for n in node.body if isinstance(n, (*_FUNC, ast.ClassDef))}
        if attr not in members:
            defined = sorted(n for n, m in members.items() if isinstance(m, _FUNC))
            bases = [ast.unparse(b) for b in node.bases]
            inherited = f"; it may inherit {attr!r} from {', '.join(bases)}" if bases else ""
            raise PieceError(
                f"piece {name!r}: class {node.name} in {path.relative_to(root)} does not define "
                f"{attr!r} itself (it defines {defined}){inherited}; "
                "name the class that defines it instead"
            )
        owner, node = node, members[attr]
        qual.append(attr)
    if not isinstance(node, _FUNC):
        raise PieceError(f"piece {name!r} is a class; name one of its methods instead")
    return Piece(name, path, ".".join(qual), node, owner)


def describe(piece: Piece) -> str:
    """The task in words: 'the VJP of Tanh', 'the Jacobian of MatMul', or the function's name."""
    parts = piece.qualname.split(".")
    if len(parts) >= 2:
        owner, method = parts[-2], parts[-1]
        words = {"vjp": "the VJP", "jacobian": "the Jacobian", "derivative": "the derivative",
                 "forward": "the forward pass"}  # fmt: skip
        if method in words:
            return f"{words[method]} of {owner}"
    return f"{piece.qualname}()"


def stub_message(task_id: str, piece: Piece) -> str:
    """The text of the stub's NotImplementedError, pointing at the docstring with the math."""
    text = f"Task {task_id}: implement {describe(piece)} ({piece.name})"
    if _docstring(piece.node) is not None:
        return text + "; see its docstring"
    if piece.owner is not None and _docstring(piece.owner) is not None:
        return text + f"; see the docstring of {piece.owner.name}"
    return text


def _docstring(node) -> ast.Expr | None:
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            return first
    return None


def split_lines(source: str) -> list[str]:
    """Lines with their endings, split where Python's tokenizer (and so ``ast``) ends a line.

    The one rule for stubbing, taking and putting bodies: ``\\r\\n``, a lone ``\\r`` and
    ``\\n`` end a line; form feeds and other Unicode line breaks (``\\x0b``, ``\\x1c``,
    ``\\x85``, ``\\u2028``...) do not, for Python or here (``str.splitlines`` would split there).
    """
    return _LINE.findall(source)


def body_span(source_lines: list[str], piece: Piece) -> tuple[int, int, str]:
    """The 0-based line range ``[start, stop)`` of the body to replace, and its indentation.

    The range runs from the line after the docstring (or the first statement when there is
    none) to the last line of the function. Comments inside that range go with the solution.
    """
    node = piece.node
    doc = _docstring(node)
    rest = node.body[1:] if doc is not None else node.body
    first = doc if doc is not None else rest[0]
    line = source_lines[first.lineno - 1]
    indent = line[: first.col_offset]
    if indent.strip() or first.lineno == node.lineno:
        raise PieceError(
            f"piece {piece.name!r} ({piece.path}:{node.lineno}): its body starts on the line of "
            "the 'def'; put the body on its own lines so it can be stubbed"
        )
    if doc is not None:
        # ast columns count UTF-8 bytes, and docstrings hold math such as "∂h_{t+1}/∂h_t"
        after = source_lines[doc.end_lineno - 1].encode("utf-8")[doc.end_col_offset :].decode("utf-8")
        if after.strip() and not after.strip().startswith("#"):
            raise PieceError(f"piece {piece.name!r} ({piece.path}:{doc.end_lineno}): "
                             "code follows the docstring on the same line")  # fmt: skip
        start = doc.end_lineno
    else:
        start = first.lineno - 1
    stop = node.end_lineno if rest else start
    return start, stop, indent


def stub_source(source: str, stubs: list[tuple[Piece, str]]) -> str:
    """``source`` with the body of each piece replaced by ``raise NotImplementedError(message)``.

    Only the lines of each replaced body change; the result is checked to parse.
    """
    lines = split_lines(source)
    spans = []
    for piece, message in stubs:
        start, stop, indent = body_span(lines, piece)
        spans.append((start, stop, indent, piece, message))
    spans.sort(key=lambda s: s[0])
    for a, b in zip(spans[:-1], spans[1:], strict=True):
        if b[0] < a[1]:
            raise PieceError(f"pieces {a[3].name!r} and {b[3].name!r} overlap; stub only one")
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\r" if lines and lines[0].endswith("\r") else "\n"
    for start, stop, indent, _, message in reversed(spans):
        literal = json.dumps(message, ensure_ascii=False)  # a valid Python string literal too
        lines[start:stop] = [f"{indent}raise NotImplementedError({literal}){newline}"]
    result = "".join(lines)
    ast.parse(result)  # a stub that does not parse is a bug here, not the student's
    return result
