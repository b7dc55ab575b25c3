"""SVG from :func:`minigrad.viz.to_dot`'s text in pure Python: ``draw`` without Graphviz.

The drawing is made from the DOT text itself, so it carries exactly what Graphviz would draw:
the same nodes with the same labels, fills and highlight borders, the same edges with their
Jacobian shapes, and the module frames. Only the placement differs (``layout.py``'s layered
layout instead of Graphviz's). Text widths are estimated from the character count (no font
metrics), which is all a box's size needs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape

from minigrad.viz.layout import layout

_NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")
_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\d+) \{$")
_RANKDIR = re.compile(r"^\s*rankdir=(\w+);$")

FONT = "Helvetica,Arial,sans-serif"
NODE_FONT, EDGE_FONT = 10.0, 9.0  # the sizes to_dot asks Graphviz for
CHAR_WIDTH = 0.56  # mean glyph width in em for Helvetica (digits and lower case); an estimate
LINE_HEIGHT = 1.25  # em
PAD_X, PAD_Y = 8.0, 5.0  # inside a box
MARGIN = 12.0  # around the drawing
FRAME_PAD = 10.0  # between a module frame and what it holds


@dataclass
class Graph:
    """What the DOT text says: nodes (attrs, in order), edges, frames (label, member ids)."""

    nodes: dict = field(default_factory=dict)  # id -> {attr: value}
    edges: list = field(default_factory=list)  # (tail, head, {attr: value})
    frames: list = field(default_factory=list)  # (label, [node ids, nested frames' included])
    rankdir: str = "LR"


def _unquote(value: str) -> str:
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def _attrs(text: str | None) -> dict:
    return {key: _unquote(value) for key, value in _ATTR.findall(text or "")}


def parse(dot: str) -> Graph:
    """Read the DOT subset that ``to_dot`` writes (one statement per line)."""
    g = Graph()
    open_frames: list = []  # indices into g.frames of the subgraphs we are inside
    for line in dot.splitlines():
        if (m := _EDGE.match(line)) is not None:
            g.edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
        elif (m := _CLUSTER.match(line)) is not None:
            g.frames.append(["", []])
            open_frames.append(len(g.frames) - 1)
        elif line.strip() == "}" and open_frames:
            open_frames.pop()
        elif (m := _NODE.match(line)) is not None and m.group(1) not in ("node", "edge"):
            g.nodes[m.group(1)] = _attrs(m.group(2))
            for k in open_frames:
                g.frames[k][1].append(m.group(1))
        elif open_frames and line.strip().startswith("label="):
            g.frames[open_frames[-1]][0] = _attrs(line)["label"]
        elif (m := _RANKDIR.match(line)) is not None:
            g.rankdir = m.group(1)
    for a, b, _ in g.edges:
        for end in (a, b):
            g.nodes.setdefault(end, {"label": end})
    return g


def text_width(text: str, size: float) -> float:
    """Estimated width of one line of text at font size ``size``."""
    return len(text) * size * CHAR_WIDTH


def node_size(attrs: dict) -> tuple[float, float]:
    """Width and height of a node: its label's lines plus padding (an ellipse needs more room)."""
    lines = attrs.get("label", "").split("\n")
    w = max(text_width(line, NODE_FONT) for line in lines) + 2 * PAD_X
    h = len(lines) * NODE_FONT * LINE_HEIGHT + 2 * PAD_Y
    if attrs.get("shape") == "ellipse":
        w, h = w * math.sqrt(2), h * math.sqrt(2)  # the ellipse through the text box's corners
    return max(w, 28.0), max(h, 22.0)


def _text(lines: list, x: float, y: float, size: float, anchor: str = "middle") -> str:
    top = y - (len(lines) - 1) * size * LINE_HEIGHT / 2
    return "".join(
        f'<text x="{x:.1f}" y="{top + k * size * LINE_HEIGHT + size * 0.35:.1f}" text-anchor="{anchor}" '
        f'font-family="{FONT}" font-size="{size:g}" xml:space="preserve">{escape(line)}</text>'
        for k, line in enumerate(lines)
    )


def _shape(attrs: dict, x: float, y: float, w: float, h: float) -> str:
    fill = attrs.get("fillcolor", "white") if "filled" in attrs.get("style", "") else "white"
    stroke, width = attrs.get("color", "black"), attrs.get("penwidth", "1")
    paint = f'fill="{escape(fill)}" stroke="{escape(stroke)}" stroke-width="{escape(width)}"'
    shape = attrs.get("shape", "box")
    if shape == "ellipse":
        return f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" {paint}/>'
    rx = 6 if "rounded" in attrs.get("style", "") else 0
    rect = f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" {paint}/>'
    if shape == "box3d":  # a second box behind, offset up and right
        back = f'<rect x="{x - w / 2 + 4:.1f}" y="{y - h / 2 - 4:.1f}" width="{w:.1f}" height="{h:.1f}" {paint}/>'
        return back + rect
    return rect


def _clip(centre: tuple, size: tuple, toward: tuple) -> tuple:
    """Where the segment from a node's centre towards ``toward`` leaves the node's box."""
    (x, y), (w, h), (tx, ty) = centre, size, toward
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return centre
    t = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
    return (x + dx * min(t, 1.0), y + dy * min(t, 1.0))


def to_svg(dot: str) -> str:
    """An SVG document of the graph in ``dot`` (text from :func:`minigrad.viz.to_dot`)."""
    g = parse(dot)
    sizes = {n: node_size(a) for n, a in g.nodes.items()}
    placed = layout(sizes, [(a, b) for a, b, _ in g.edges], rankdir=g.rankdir)
    shift = MARGIN + FRAME_PAD * (1 + max((_depth(g, f) for f in g.frames), default=0))
    frames_top = 2 * EDGE_FONT * LINE_HEIGHT if g.frames else 0.0  # room for the outermost frame's label
    pos = {n: (x + shift, y + shift + frames_top) for n, (x, y) in placed.centres.items()}
    width = placed.width + 2 * shift
    height = placed.height + 2 * shift + frames_top
    body = []
    for label, members in sorted(g.frames, key=lambda f: -len(f[1])):  # outer frames first
        body.append(_frame(label, [(pos[n], sizes[n]) for n in members], _depth_of(g, members)))
    seen: dict = {}  # (tail, head) -> how many edges between them so far (x * x has two)
    for (a, b, attrs), route in zip(g.edges, placed.routes):
        nth = seen[a, b] = seen.get((a, b), -1) + 1
        body.append(_edge(a, b, attrs, [(x + shift, y + shift + frames_top) for x, y in route],
                          sizes[a], sizes[b], nth))  # fmt: skip
    for n, attrs in g.nodes.items():
        x, y = pos[n]
        w, h = sizes[n]
        cls = " ".join(["node", *attrs.get("class", "").split()])
        words = _text(attrs.get("label", n).split("\n"), x, y, NODE_FONT)
        body.append(f'<g id="{escape(n)}" class="{escape(cls)}"><title>{escape(n)}</title>'
                    f"{_shape(attrs, x, y, w, h)}{words}</g>")  # fmt: skip
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.1f} {height:.1f}">\n'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="black"/></marker></defs>\n'
        f'<g id="graph0" class="graph"><rect x="0" y="0" width="{width:.1f}" height="{height:.1f}" fill="white"/>\n'
        + "\n".join(body) + "\n</g>\n</svg>\n"
    )


def _depth(g: Graph, frame) -> int:
    """How many frames hold all of ``frame``'s members (itself included)."""
    return _depth_of(g, frame[1])


def _depth_of(g: Graph, members: list) -> int:
    inside = set(members)
    return sum(1 for _, other in g.frames if inside <= set(other))


def _frame(label: str, boxes: list, depth: int) -> str:
    """A rounded frame around ``boxes`` [(centre, size)], inset by its nesting ``depth``."""
    if not boxes:
        return ""
    pad = FRAME_PAD * (1 + max(0, 3 - depth)) / 2 + 4
    x0 = min(x - w / 2 for (x, _), (w, _) in boxes) - pad
    y0 = min(y - h / 2 for (_, y), (_, h) in boxes) - pad - EDGE_FONT * LINE_HEIGHT
    x1 = max(x + w / 2 for (x, _), (w, _) in boxes) + pad
    y1 = max(y + h / 2 for (_, y), (_, h) in boxes) + pad
    return (f'<g class="cluster"><title>{escape(label)}</title><rect x="{x0:.1f}" y="{y0:.1f}" '
            f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="8" fill="none" stroke="#7f7fbf"/>'
            f'{_text([label], x0 + 6, y0 + EDGE_FONT, EDGE_FONT, anchor="start")}</g>')  # fmt: skip


def _edge(a: str, b: str, attrs: dict, route: list, size_a: tuple, size_b: tuple, nth: int = 0) -> str:
    """A polyline from ``a``'s border to ``b``'s, through its bend points, with its label
    (the ``nth`` edge between the same two nodes has its label moved down, clear of the others)."""
    points = [_clip(route[0], size_a, route[1]), *route[1:-1], _clip(route[-1], size_b, route[-2])]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    out = (f'<g class="edge"><title>{escape(a)}-&gt;{escape(b)}</title>'
           f'<polyline points="{path}" fill="none" stroke="black" marker-end="url(#arrow)"/>')  # fmt: skip
    label = attrs.get("label")
    if label:
        (x0, y0), (x1, y1) = points[0], points[1]  # on the first segment, near the tail
        x, y = x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5
        lines = label.split("\n")
        w = max(text_width(line, EDGE_FONT) for line in lines) + 4
        h = len(lines) * EDGE_FONT * LINE_HEIGHT + 2
        y += nth * (h + 2)
        out += (f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="white" fill-opacity="0.85"/>{_text(lines, x, y, EDGE_FONT)}')  # fmt: skip
    return out + "</g>"
