"""The dependency graph drawn at build time: a layered layout written out as one inline SVG.

Nodes are claims, an arrow runs from a cited claim to each claim that cites
it, and every node is a link to its claim on the page. No script and no
layout engine runs in the browser: the positions are computed here, in the
manner of Sugiyama's layered drawing:

1. the graph is cut into connected components; a claim that cites none and is
   cited by none goes into a grid of its own below them;
2. layers: a claim sits one layer below the lowest claim it cites (claims that
   cite nothing are on top), so every arrow points down;
3. an arrow that spans several layers passes through a chain of invisible
   points, one per layer it crosses;
4. the order within each layer comes from sweeps of the barycentre heuristic
   (the order with the fewest crossings seen is kept);
5. horizontal positions: each node as close as possible to the mean position
   of its neighbours, in its order, with a minimum gap (an exact least-squares
   fit under those constraints, by pool-adjacent-violators).

>>> g = layout([{"id": "a:x", "number": "1.1", "title": "X", "status": "proved"},
...             {"id": "a:y", "number": "1.2", "title": "Y", "status": "proved"}],
...            [("a:y", "a:x")])
>>> [(n.id, n.layer) for n in g.nodes]
[('a:x', 0), ('a:y', 1)]
>>> svg(g).startswith('<svg')
True
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

NODE_W, NODE_H = 168, 38  # px; room for "(10.5)" and about 27 characters of title
GAP_X, GAP_Y = 16, 44  # between nodes of a layer, between layers (layers down the page)
GAP_STACK, GAP_RIGHT = 10, 56  # the same when the layers run to the right
WIDE, NARROW = 1200, 360  # px: rows of components no wider than this (unless one is wider)
MARGIN = 8
CHAR_W = 6.3  # a generous average character of the 11 px sans-serif labels, for cutting titles
SWEEPS = 12

# Status kinds (llmsym.derivation.Kind values) as the colour classes the page's CSS knows.
STATUS_CLASS = {"proved": "ok", "proved_for": "partial", "stated": "stated", "assumed": "stated",
                "definition": "stated", "failed": "bad", "timeout": "bad", "error": "bad",
                "missing": "bad"}


@dataclass
class Node:
    """A claim (or a point an arrow passes through: ``dummy``) and where it is drawn."""

    id: str
    number: str = ""
    title: str = ""  # plain text, for the tooltip
    runs: tuple = ()  # the title to draw: (text, "" | "sub" | "sup") pieces; empty: ``title``
    status: str = "missing"
    label: str = ""
    own: str = ""
    own_label: str = ""
    href: str = ""
    dummy: bool = False
    layer: int = 0
    x: float = 0.0
    y: float = 0.0


@dataclass
class Drawing:
    """A laid-out graph: nodes with positions, arrows as point lists, the canvas size."""

    nodes: list[Node] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    loose_top: float | None = None  # where the grid of unconnected claims starts


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def number_key(number: str) -> tuple:
    """Sort numbers as a reader does: 2.10 after 2.9, 3a.1 after 3.4."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                 for p in re.findall(r"\d+|[^\d.]+", number))


def layout(nodes: list[dict[str, Any]], edges: list[tuple[str, str]],
           max_width: float = WIDE) -> Drawing:
    """Positions for ``nodes`` (dicts with id, number, title, status...) and ``edges``
    (citing id, cited id), packed into rows about ``max_width`` wide. A cited id with no node
    gets a node of status ``missing``."""
    found = {n["id"]: Node(**{k: v for k, v in n.items() if k in Node.__annotations__})
             for n in nodes}
    for _citing, cited in edges:
        if cited not in found:
            found[cited] = Node(cited, title="not verified in this run", status="missing")
    edges = [(a, b) for a, b in dict.fromkeys(edges) if a != b]
    ordered = sorted(found.values(), key=lambda n: (number_key(n.number), n.id))
    linked = {x for e in edges for x in e}
    parts = components([n.id for n in ordered if n.id in linked], edges)
    drawings = [_component(found, part, edges, max_width) for part in parts]
    drawing = _pack(drawings, max_width)
    loose = [n for n in ordered if n.id not in linked]
    if loose:
        _grid(drawing, loose, max_width)
    return drawing


def components(ids: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components (arrows taken both ways), each in the order of ``ids``,
    largest first."""
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=len, reverse=True)


def layers(ids: list[str], cites: dict[str, list[str]]) -> dict[str, int]:
    """Layer of each node: 0 when it cites nothing, else one below the lowest it cites.
    A citation that closes a cycle is ignored (the report marks such claims failed)."""
    depth: dict[str, int] = {}
    active: set[str] = set()

    def visit(i: str) -> int:
        if i in depth:
            return depth[i]
        active.add(i)
        below = [visit(j) for j in cites.get(i, []) if j not in active]
        active.discard(i)
        depth[i] = 1 + max(below) if below else 0
        return depth[i]

    for i in ids:
        visit(i)
    return depth


@dataclass(frozen=True)
class Flow:
    """Which way the layers run: down the page (layers are rows) or to the right (columns)."""

    down: bool = True

    def size(self, n: Node) -> float:
        """A node's extent along its layer (a point an arrow passes through has none)."""
        return 0.0 if n.dummy else (NODE_W if self.down else NODE_H)

    def space(self, a: Node, b: Node) -> float:
        gap = GAP_X if self.down else GAP_STACK
        return gap / 2 if a.dummy and b.dummy else gap

    @property
    def pitch(self) -> float:
        """From one layer to the next."""
        return NODE_H + GAP_Y if self.down else NODE_W + GAP_RIGHT

    def ports(self, n: Node) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where arrows come in and go out of ``n`` (for a passing point: its two ends)."""
        if self.down:
            mid = n.x + (0 if n.dummy else NODE_W / 2)
            return (mid, n.y), (mid, n.y + NODE_H)
        mid = n.y + (0 if n.dummy else NODE_H / 2)
        return (n.x, mid), (n.x + NODE_W, mid)


@dataclass
class Arrow:
    """From a cited claim to a claim citing it, through ``points``: out of the cited node,
    into and out of each layer it crosses, into the citing node."""

    cited: str
    citing: str
    points: list[tuple[float, float]]
    down: bool = True


def _component(found: dict[str, Node], ids: list[str], edges: list[tuple[str, str]],
               max_width: float) -> Drawing:
    """One connected component, top-left corner at (0, 0): layers run down the page, or to
    the right when that is narrower and the rows would be wider than ``max_width``."""
    inside = set(ids)
    mine = [(a, b) for a, b in edges if a in inside and b in inside]
    cites: dict[str, list[str]] = {}
    for a, b in mine:
        cites.setdefault(a, []).append(b)
    depth = layers(ids, cites)
    rows: list[list[Node]] = [[] for _ in range(max(depth.values()) + 1)]
    for i in ids:
        node = found[i]
        node.layer = depth[i]
        rows[node.layer].append(node)
    # each arrow as a chain of segments between adjacent layers (cited first)
    chains: list[tuple[str, str, list[Node]]] = []
    for citing, cited in mine:
        first, last = found[cited], found[citing]
        if last.layer <= first.layer:  # the edge closing a cycle: not drawn
            continue
        chain = [first]
        for k in range(first.layer + 1, last.layer):
            point = Node(f"{citing}>{cited}@{k}", dummy=True, layer=k)
            rows[k].append(point)
            chain.append(point)
        chain.append(last)
        chains.append((cited, citing, chain))
    _order(rows, chains)
    drawing = _drawn(rows, chains, Flow(down=True))
    if drawing.width > max_width:
        across = _drawn(rows, chains, Flow(down=False))
        if across.width < drawing.width:
            return across
        drawing = _drawn(rows, chains, Flow(down=True))
    return drawing


def _drawn(rows: list[list[Node]], chains: list, flow: Flow) -> Drawing:
    """Place the ordered layers along ``flow`` and collect nodes, arrows and size."""
    _place(rows, chains, flow)
    for k, row in enumerate(rows):
        for n in row:
            n.x, n.y = (n.x, k * flow.pitch) if flow.down else (k * flow.pitch, n.x)
    drawing = Drawing()
    for row in rows:
        drawing.nodes += [n for n in row if not n.dummy]
    for cited, citing, chain in chains:
        points = [flow.ports(chain[0])[1]]
        for n in chain[1:]:
            into, out = flow.ports(n)
            points += [into, out] if n.dummy else [into]
        drawing.arrows.append(Arrow(cited, citing, points, flow.down))
    every = [n for row in rows for n in row]
    drawing.width = max(n.x + (NODE_W if not n.dummy or not flow.down else 0) for n in every)
    drawing.height = max(n.y + (NODE_H if not n.dummy or flow.down else 0) for n in every)
    return drawing


def _neighbours(chains: list[tuple[str, str, list[Node]]]) -> tuple[dict, dict]:
    """For each node (by identity), its neighbours in the layer before and in the layer after."""
    up: dict[int, list[Node]] = {}
    down: dict[int, list[Node]] = {}
    for _a, _b, chain in chains:
        for upper, lower in zip(chain, chain[1:], strict=False):
            down.setdefault(id(upper), []).append(lower)
            up.setdefault(id(lower), []).append(upper)
    return up, down


def crossings(rows: list[list[Node]], down: dict) -> int:
    """Pairs of segments between adjacent layers that cross."""
    total = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        where = {id(n): k for k, n in enumerate(lower)}
        segs = [(k, where[id(m)]) for k, n in enumerate(upper) for m in down.get(id(n), [])]
        total += sum(1 for i, (a, b) in enumerate(segs) for c, d in segs[i + 1:]
                     if (a - c) * (b - d) < 0)
    return total


def _order(rows: list[list[Node]], chains: list) -> None:
    """Reorder each layer by the barycentre of its neighbours; keep the best order seen."""
    up, down = _neighbours(chains)
    best, fewest = [list(r) for r in rows], crossings(rows, down)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        span = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for k in span:
            fixed = rows[k - 1] if downward else rows[k + 1]
            where = {id(n): j for j, n in enumerate(fixed)}
            links = up if downward else down

            def centre(item: tuple[int, Node], where=where, links=links) -> float:
                j, n = item
                near = [where[id(m)] for m in links.get(id(n), []) if id(m) in where]
                return sum(near) / len(near) if near else float(j)

            rows[k] = [n for _j, n in sorted(enumerate(rows[k]), key=centre)]
        count = crossings(rows, down)
        if count < fewest:
            best, fewest = [list(r) for r in rows], count
    rows[:] = best


def _place(rows: list[list[Node]], chains: list, flow: Flow) -> None:
    """Each node's place along its layer (kept in ``x`` until :func:`_drawn` turns it):
    near the mean of its neighbours, order kept, gaps kept."""
    up, down = _neighbours(chains)
    for row in rows:
        start = 0.0
        for n in row:
            n.x = start
            start += flow.size(n) + (GAP_X if flow.down else GAP_STACK)
    for sweep in range(8):
        span = range(len(rows)) if sweep % 2 == 0 else range(len(rows) - 1, -1, -1)
        for k in span:
            wanted = []
            for n in rows[k]:
                near = up.get(id(n), []) + down.get(id(n), [])
                mid = n.x + flow.size(n) / 2
                if near:
                    mid = sum(m.x + flow.size(m) / 2 for m in near) / len(near)
                wanted.append(mid - flow.size(n) / 2)
            _settle(rows[k], wanted, flow)
    low = min(n.x for row in rows for n in row)
    for row in rows:
        for n in row:
            n.x -= low


def _settle(row: list[Node], wanted: list[float], flow: Flow = Flow()) -> None:
    """Set x as close to ``wanted`` as possible (least squares), in order, with the gaps kept.

    With ``offset[k]`` the least distance from the first node, ``x[k] - offset[k]`` must
    not decrease: an isotonic regression, solved by pool-adjacent-violators.
    """
    offsets = [0.0]
    for a, b in zip(row, row[1:], strict=False):
        offsets.append(offsets[-1] + flow.size(a) + flow.space(a, b))
    blocks: list[list[float]] = []  # [mean, weight, count]
    for w, o in zip(wanted, offsets, strict=True):
        blocks.append([w - o, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    k = 0
    for mean, _w, count in blocks:
        for _ in range(count):
            row[k].x = mean + offsets[k]
            k += 1


def _pack(drawings: list[Drawing], max_width: float) -> Drawing:
    """Components side by side in rows no wider than ``max_width``, largest first."""
    out = Drawing()
    x = y = row_height = 0.0
    for d in drawings:
        if x > 0 and x + d.width + 2 * MARGIN > max_width:
            x, y, row_height = 0.0, y + row_height + GAP_Y, 0.0
        for n in d.nodes:
            n.x += x + MARGIN
            n.y += y + MARGIN
        out.nodes += d.nodes
        out.arrows += [Arrow(a.cited, a.citing,
                             [(px + x + MARGIN, py + y + MARGIN) for px, py in a.points], a.down)
                       for a in d.arrows]
        out.width = max(out.width, x + d.width + 2 * MARGIN)
        row_height = max(row_height, d.height)
        x += d.width + 2 * GAP_X
    out.height = (y + row_height + 2 * MARGIN) if drawings else 0.0
    return out


def _grid(drawing: Drawing, loose: list[Node], max_width: float) -> None:
    """The claims with no citation either way, in reading order, as a grid below the rest."""
    width = min(max_width, len(loose) * (NODE_W + GAP_X) + 2 * MARGIN)
    columns = max(1, int((width - 2 * MARGIN + GAP_X) // (NODE_W + GAP_X)))
    top = drawing.height + (GAP_Y if drawing.nodes else 0) + 16  # room for the caption
    drawing.loose_top = top - 16 + MARGIN
    for k, n in enumerate(loose):
        n.x = MARGIN + (k % columns) * (NODE_W + GAP_X)
        n.y = top + MARGIN + (k // columns) * (NODE_H + GAP_X)
    drawing.nodes += loose
    rows = -(-len(loose) // columns)
    drawing.width = max(drawing.width, columns * (NODE_W + GAP_X) - GAP_X + 2 * MARGIN)
    drawing.height = top + rows * (NODE_H + GAP_X) - GAP_X + 2 * MARGIN


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def cut(text: str, room: float) -> str:
    """``text`` shortened with an ellipsis to about ``room`` pixels of label."""
    most = max(1, int(room / CHAR_W))
    return text if len(text) <= most else text[: most - 1].rstrip() + "\u2026"


_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|\([^()]*\)|[\w']+|\S)")


def script_runs(text: str) -> list[tuple[str, str]]:
    """A formula's Unicode text (``llmsym.texmath.to_text``) split into plain pieces and the
    scripts it could not raise (``R_{Θ,pos}``, ``e^(u/T)``), to draw those as tspans.

    >>> script_runs("R_{Θ,pos} q")
    [('R', ''), ('Θ,pos', 'sub'), (' q', '')]
    """
    runs: list[tuple[str, str]] = []
    last = 0
    for match in _SCRIPT.finditer(text):
        if match.start() > last:
            runs.append((text[last:match.start()], ""))
        body = match.group(2)
        if body[0] in "{(" and len(body) > 1:
            body = body[1:-1] if body[0] == "{" else body
        runs.append((body, "sub" if match.group(1) == "_" else "sup"))
        last = match.end()
    if last < len(text):
        runs.append((text[last:], ""))
    return runs


def _runs_svg(runs: tuple, room: float) -> str:
    """Tspans for the pieces (scripts smaller, shifted), cut with an ellipsis to ``room``."""
    out, used, shift = [], 0.0, 0
    for text, kind in runs:
        width = CHAR_W * (0.75 if kind else 1.0)
        take = text[: max(0, int((room - used) / width))]
        short = len(take) < len(text)
        if short:
            take = take[:-1].rstrip() + "\u2026" if take else "\u2026"
        want = {"sub": 3, "sup": -4}.get(kind, 0)
        size = ' font-size="8.5"' if kind else ""
        out.append(f'<tspan dy="{want - shift}"{size}>{_esc(take)}</tspan>')
        shift = want
        used += len(take) * width
        if short:
            break
    return "".join(out)


def _node_svg(n: Node) -> str:
    colour = STATUS_CLASS.get(n.status, "bad")
    differs = n.own and n.own != n.status
    tip = f"({n.number}) {n.title}: {n.label or n.status}" if n.number else f"{n.id}: {n.title}"
    if differs:
        tip += f" (its own chain: {n.own_label or n.own})"
    head = f"({n.number})" if n.number else cut(n.id, NODE_W - 12)
    mark = ""
    if differs:  # its own chain is stronger than what it rests on: a ring in the own colour
        mark = (f'<circle class="g-own g-{STATUS_CLASS.get(n.own, "bad")}" '
                f'cx="{n.x + NODE_W - 9:.1f}" cy="{n.y + 9:.1f}" r="4.5"/>')
    body = (f'<title>{_esc(tip)}</title>'
            f'<rect class="g-node g-{colour}" x="{n.x:.1f}" y="{n.y:.1f}" '
            f'width="{NODE_W}" height="{NODE_H}" rx="5"/>{mark}'
            f'<text x="{n.x + 7:.1f}" y="{n.y + 15:.1f}" class="g-num">{_esc(head)}</text>'
            f'<text x="{n.x + 7:.1f}" y="{n.y + 30:.1f}">'
            f'{_runs_svg(n.runs or ((n.title, ""),), NODE_W - 14)}</text>')
    if n.href:
        return f'<a href="{_esc(n.href)}">{body}</a>'
    return f"<g>{body}</g>"


def _path(arrow: Arrow) -> str:
    """A smooth path: curved from layer to layer, straight through each layer it crosses,
    ending just short of the citing node, where the arrowhead goes."""
    pts = arrow.points
    bend = (GAP_Y if arrow.down else GAP_RIGHT) / 2
    ax, ay = (0.0, 1.0) if arrow.down else (1.0, 0.0)  # the direction of flow
    (x0, y0) = pts[0]
    d = f"M{x0:.1f},{y0:.1f}"
    for k in range(0, len(pts) - 1, 2):
        (x1, y1), (x2, y2) = pts[k], pts[k + 1]
        if k + 2 == len(pts):
            x2, y2 = x2 - ax, y2 - ay
        d += (f" C{x1 + ax * bend:.1f},{y1 + ay * bend:.1f} {x2 - ax * bend:.1f},"
              f"{y2 - ay * bend:.1f} {x2:.1f},{y2:.1f}")
        if k + 2 < len(pts):
            d += f" L{pts[k + 2][0]:.1f},{pts[k + 2][1]:.1f}"
    return d


def svg(drawing: Drawing, name: str = "graph", title: str = "Which claim cites which") -> str:
    """The drawing as one ``<svg>`` element (classes ``g-ok``... for the page's CSS);
    ``name`` keeps its arrowhead's id apart from another drawing's on the same page."""
    w, h = drawing.width, drawing.height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" role="group" '
             f'width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" '
             f'aria-label="{_esc(title)}">',
             f'<defs><marker id="depgraph-arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M0,0L10,5L0,10z" class="g-head"/></marker></defs>']
    for arrow in drawing.arrows:
        parts.append(f'<path class="g-edge" d="{_path(arrow)}" '
                     f'marker-end="url(#depgraph-arrow-{name})"><title>{_esc(arrow.citing)} '
                     f'cites {_esc(arrow.cited)}</title></path>')
    if drawing.loose_top is not None:
        parts.append(f'<text class="g-caption" x="{MARGIN}" y="{drawing.loose_top + 8:.1f}">'
                     "Claims that cite no claim and that no claim cites</text>")
    parts += [_node_svg(n) for n in drawing.nodes]
    parts.append("</svg>")
    return "".join(parts)
