"""A layered drawing of a DAG in pure Python, for :func:`minigrad.viz.draw` when Graphviz is absent.

The classic three steps of a layered ("Sugiyama") layout, each in its simplest form:

1. **Layers**: a node's layer is the length of the longest path that reaches it, so every edge
   points forward; an input then moves up to just before its first reader. An edge that skips
   layers gets one invisible *dummy* node per skipped layer, so it bends around the nodes in
   between instead of crossing them.
2. **Order within a layer**: a few sweeps of the barycentre heuristic: each node moves to the
   mean position of its neighbours in the previous layer (then the next), which removes most
   crossings on graphs of this size.
3. **Coordinates**: layers side by side along the main axis; within a layer, nodes stacked in
   their order, then pulled towards their neighbours' centres without overlapping.

Sizes and positions are in SVG user units (pixels); ``rankdir`` is Graphviz's (``"LR"``: the
layers run left to right).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAYER_GAP = 60.0  # between two layers, room for the edge labels
NODE_GAP = 18.0  # between two nodes of a layer
DUMMY = (2.0, 2.0)  # an edge's bend point takes this much room in its layer


@dataclass
class Placed:
    """The layout: centre of every node, and each edge's polyline (tail to head, through its dummies)."""

    centres: dict  # node id -> (x, y)
    routes: list  # one [(x, y), ...] per edge, in the order the edges were given
    width: float
    height: float
    layers: list = field(default_factory=list)  # node ids per layer, in order (dummies excluded)


def layers_of(nodes: list, edges: list) -> dict:
    """Longest-path layering: ``{node: layer}`` with ``layer(head) > layer(tail)`` for every edge."""
    preds: dict = {n: [] for n in nodes}
    succs: dict = {n: [] for n in nodes}
    for a, b in edges:
        succs[a].append(b)
        preds[b].append(a)
    waiting = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    layer = {n: 0 for n in ready}
    done = 0
    while ready:  # Kahn's topological order; each node is final once all its inputs are
        n = ready.pop()
        done += 1
        for s in succs[n]:
            layer[s] = max(layer.get(s, 0), layer[n] + 1)
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if done != len(nodes):
        raise ValueError("layout: the graph has a cycle; only a DAG can be layered")
    for n in nodes:  # an input (a leaf) sits just before its first reader, not all in layer 0
        if not preds[n] and succs[n]:
            layer[n] = min(layer[s] for s in succs[n]) - 1
    return layer


def _split_long_edges(nodes: list, edges: list, layer: dict) -> tuple[list, list, list]:
    """Dummy nodes on edges that skip layers: (all nodes, unit edges, each edge's chain of nodes)."""
    all_nodes, unit, chains = list(nodes), [], []
    for k, (a, b) in enumerate(edges):
        chain = [a]
        for j in range(layer[a] + 1, layer[b]):
            d = ("dummy", k, j)
            layer[d] = j
            all_nodes.append(d)
            chain.append(d)
        chain.append(b)
        unit += list(zip(chain, chain[1:]))
        chains.append(chain)
    return all_nodes, unit, chains


def _order(all_nodes: list, unit: list, layer: dict, sweeps: int = 4) -> list:
    """Nodes per layer, ordered by the barycentre heuristic (input order breaks ties)."""
    n_layers = max(layer.values(), default=-1) + 1
    rows: list = [[] for _ in range(n_layers)]
    for n in all_nodes:
        rows[layer[n]].append(n)
    up: dict = {n: [] for n in all_nodes}
    down: dict = {n: [] for n in all_nodes}
    for a, b in unit:
        down[a].append(b)
        up[b].append(a)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        indices = range(1, n_layers) if forward else range(n_layers - 2, -1, -1)
        for i in indices:
            ref = rows[i - 1] if forward else rows[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            near = up if forward else down

            def centre(item, pos=pos, near=near):
                k, n = item
                ks = [pos[m] for m in near[n] if m in pos]
                return (sum(ks) / len(ks) if ks else k, k)

            rows[i] = [n for _, n in sorted(enumerate(rows[i]), key=centre)]
    return rows


def _spread(sizes: list, want: list) -> list:
    """Centres as close to ``want`` as possible (least squares) that keep the order and ``NODE_GAP``.

    With ``s_k`` the least distance from node 0 to node k, ``z_k = centre_k - s_k`` must not
    decrease: isotonic regression of ``want_k - s_k``, solved by pooling adjacent violators.
    """
    offsets = [0.0]
    for k in range(1, len(sizes)):
        offsets.append(offsets[-1] + (sizes[k - 1] + sizes[k]) / 2 + NODE_GAP)
    blocks: list = []  # [sum, count] of pooled runs; each run sits at its mean
    for w, s in zip(want, offsets):
        blocks.append([w - s, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    z = [total / count for total, count in blocks for _ in range(count)]
    return [zk + s for zk, s in zip(z, offsets)]


def layout(sizes: dict, edges: list, rankdir: str = "LR", iterations: int = 6) -> Placed:
    """Place the nodes of a DAG: ``sizes`` maps node id -> (width, height), in drawing order."""
    nodes = list(sizes)
    layer = layers_of(nodes, edges)
    all_nodes, unit, chains = _split_long_edges(nodes, edges, layer)
    rows = _order(all_nodes, unit, layer)
    along = rankdir in ("LR", "RL")  # layers along x: a node's thickness in its layer is its width

    def main(n):  # extent along the layer axis
        w, h = sizes.get(n, DUMMY)
        return w if along else h

    def cross(n):  # extent across it, where the nodes of one layer are stacked
        w, h = sizes.get(n, DUMMY)
        return h if along else w

    thickness = [max((main(n) for n in row), default=0.0) for row in rows]
    at_layer, pos = [], 0.0
    for t in thickness:
        at_layer.append(pos + t / 2)
        pos += t + LAYER_GAP
    c: dict = {}
    for row in rows:
        y = 0.0
        for n in row:
            c[n] = y + cross(n) / 2
            y += cross(n) + NODE_GAP
    nbrs: dict = {n: [] for n in all_nodes}
    for a, b in unit:
        nbrs[a].append(b)
        nbrs[b].append(a)
    for _ in range(iterations):  # pull each node towards its neighbours' mean, keeping the order
        for row in rows:
            want = [sum(c[m] for m in nbrs[n]) / len(nbrs[n]) if nbrs[n] else c[n] for n in row]
            for n, v in zip(row, _spread([cross(n) for n in row], want)):
                c[n] = v
    low = min((c[n] - cross(n) / 2 for n in all_nodes), default=0.0)
    span = max((c[n] + cross(n) / 2 for n in all_nodes), default=0.0) - low
    length = max(pos - LAYER_GAP, 0.0)

    def point(n):
        m, q = at_layer[layer[n]], c[n] - low
        if rankdir in ("RL", "BT"):
            m = length - m
        return (m, q) if along else (q, m)

    centres = {n: point(n) for n in nodes}
    routes = [[point(n) for n in chain] for chain in chains]
    width, height = (length, span) if along else (span, length)
    return Placed(centres, routes, width, height, [[n for n in row if n in sizes] for row in rows])
