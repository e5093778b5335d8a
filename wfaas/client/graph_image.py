"""Image output of a laid-out graph: SVG (written here), PNG (Pillow, else
Graphviz ``dot``) and DOT source. All share one pixel geometry."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from xml.sax.saxutils import escape

from wfaas.client.graph import Edge, Graph, Node, span
from wfaas.client.graph_legend import (
    CHAR_W,
    EDGE_COLOURS,
    FILL,
    NOT_RUN,
    UNTAKEN,
    Footer,
    LegendItem,
    footer,
    legend_width,
)
from wfaas.client.graph_render import SYMBOLS, clip, node_lines

__all__ = ["EDGE_COLOURS", "FILL", "NOT_RUN", "UNTAKEN", "GraphOutputError", "render_dot",
           "render_png", "render_svg"]

DEFINITION = ("#eef3fb", "#3b73b9")
BOX_H, GAP_X, GAP_Y, MARGIN, TITLE_H = 46, 36, 58, 24, 30
#: characters of one line inside a box; a longer line is cut (the SVG tooltip has it all)
MAX_TEXT = 40
#: the legend and the title widen a narrow picture up to this many pixels, no more
MAX_EXTRA_W = 620.0


class GraphOutputError(Exception):
    """The requested image format cannot be produced here."""


@dataclass
class Box:
    """Pixel rectangle of one node."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """Horizontal centre."""
        return self.x + self.w / 2


@dataclass
class Geometry:
    """Pixel positions: boxes by node name, canvas size, what goes below the graph."""

    boxes: dict[str, Box]
    width: float
    height: float
    footer: Footer | None = None


def box_lines(node: Node, has_run: bool) -> tuple[str, str, str]:
    """(state mark, name line, detail line) of a box, each line at most MAX_TEXT long."""
    head, sub = node_lines(node, has_run)
    mark = SYMBOLS.get(node.state or "", "") if has_run else ""
    name = node.name if has_run else head
    return mark, clip(name, MAX_TEXT - (2 if mark else 0)), clip(sub, MAX_TEXT)


def tooltip(node: Node, has_run: bool) -> str:
    """Everything about a task, uncut: name, action, state, duration, items, error."""
    _, sub = node_lines(node, has_run)
    first = f"{node.name} ({node.label})" if node.label else node.name
    return first if not has_run else f"{first}\n{sub}"


def _chars(node: Node, has_run: bool) -> int:
    mark, name, sub = box_lines(node, has_run)
    return max(len(name) + (2 if mark else 0), len(sub))


def geometry(graph: Graph) -> Geometry:
    """Place every node on a pixel grid (same layers and slots as the text)."""
    widest = max((_chars(n, graph.has_run) for n in graph.task_nodes()), default=8)
    box_w = max(120.0, widest * CHAR_W + 28)
    slot = box_w + GAP_X
    boxes: dict[str, Box] = {}
    for i, layer in enumerate(graph.layers):
        for name in layer:
            node = graph.nodes[name]
            x = MARGIN + node.x * slot
            y = MARGIN + TITLE_H + i * (BOX_H + GAP_Y)
            boxes[name] = Box(x, y, box_w, BOX_H) if not node.dummy else \
                Box(x + box_w / 2, y, 0, BOX_H)
    back = any(e.back for e in graph.edges)
    inner = span(graph) * slot - GAP_X + (60 if back else 0)
    wanted = max(legend_width(graph), len(_title(graph)) * CHAR_W * 1.2)
    inner = max(inner, min(wanted, MAX_EXTRA_W))
    bottom = MARGIN + TITLE_H + len(graph.layers) * (BOX_H + GAP_Y) - GAP_Y
    foot = footer(graph, MARGIN, bottom, inner)
    return Geometry(boxes, MARGIN * 2 + inner, bottom + foot.height + MARGIN, foot)


def edge_points(graph: Graph, geo: Geometry, edge: Edge) -> list[tuple[float, float]]:
    """The polyline of a forward edge: source bottom, dummies, target top."""
    points: list[tuple[float, float]] = []
    for k, name in enumerate(edge.path):
        box = geo.boxes[name]
        if k == 0:
            points.append((box.cx, box.y + box.h))
        elif k == len(edge.path) - 1:
            points.append((box.cx, box.y))
        else:
            points.extend([(box.cx, box.y), (box.cx, box.y + box.h)])
    return points


def _edge_colour(graph: Graph, edge: Edge) -> str:
    if graph.has_run and not edge.taken:
        return UNTAKEN
    return EDGE_COLOURS.get(edge.event, "#555555")


def _title(graph: Graph) -> str:
    title = f"workflow {graph.workflow}"
    if graph.execution:
        title += f" — execution {graph.execution.get('id', '')} {graph.execution.get('state', '')}"
    return title.strip()


def _fill(graph: Graph, state: str | None) -> tuple[str, str]:
    if not graph.has_run:
        return DEFINITION
    return FILL.get(state or "", NOT_RUN)


def _svg_edge(graph: Graph, geo: Geometry, edge: Edge) -> str:
    colour = _edge_colour(graph, edge)
    marker = "untaken" if colour == UNTAKEN else edge.event
    dash = ' stroke-dasharray="6,4"' if edge.event in ("on-complete", "on-skip") else ""
    if edge.back:
        a, b = geo.boxes[edge.source], geo.boxes[edge.target]
        bend = max(a.x + a.w, b.x + b.w) + 50
        d = (f"M{a.x + a.w:.1f},{a.y + a.h / 2:.1f} C{bend:.1f},{a.y + a.h / 2:.1f} "
             f"{bend:.1f},{b.y + b.h / 2:.1f} {b.x + b.w:.1f},{b.y + b.h / 2:.1f}")
    else:
        pts = edge_points(graph, geo, edge)
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    return (f'<path class="edge" data-event="{edge.event}" d="{d}" fill="none" '
            f'stroke="{colour}" stroke-width="{2 if edge.taken else 1.5}"{dash} '
            f'marker-end="url(#arrow-{marker})"><title>{escape(edge.source)} '
            f"{edge.event} {escape(edge.target)}</title></path>")


def _svg_task(graph: Graph, geo: Geometry, node: Node) -> str:
    box = geo.boxes[node.name]
    fill, stroke = _fill(graph, node.state)
    mark, name, sub = box_lines(node, graph.has_run)
    head = escape(name)
    if mark:
        head = f'<tspan class="mark" fill="{stroke}">{escape(mark)}</tspan> {head}'
    return (f'<g class="task" data-name="{escape(node.name)}">'
            f"<title>{escape(tooltip(node, graph.has_run))}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" '
            f'height="{box.h:.1f}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
            f'<text x="{box.cx:.1f}" y="{box.y + 19:.1f}" text-anchor="middle" '
            f'font-weight="bold">{head}</text>'
            f'<text class="detail" x="{box.cx:.1f}" y="{box.y + 36:.1f}" '
            f'text-anchor="middle" fill="#555555">{escape(sub)}</text></g>')


def _svg_legend_item(item: LegendItem) -> str:
    x, y = item.x, item.y
    if item.kind == "edge":
        dash = ' stroke-dasharray="6,4"' if item.dashed else ""
        sample = (f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 30:.1f}" y2="{y:.1f}" '
                  f'stroke="{item.colour}" stroke-width="{3 if item.thick else 1.5}"{dash}/>')
    elif item.state:
        sample = (f'<text x="{x + 15:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
                  f'font-weight="bold" fill="{item.colour}">'
                  f"{escape(SYMBOLS.get(item.state, '?'))}</text>")
    else:
        sample = (f'<rect x="{x + 9:.1f}" y="{y - 6:.1f}" width="12" height="12" rx="2" '
                  f'fill="#ffffff" stroke="{item.colour}"/>')
    return (f'<g class="legend-item" data-label="{escape(item.label)}">{sample}'
            f'<text x="{x + 36:.1f}" y="{y + 4:.1f}" fill="#333333">'
            f"{escape(item.label)}</text></g>")


def _svg_footer(foot: Footer) -> list[str]:
    out = ['<g class="legend">', *(_svg_legend_item(i) for i in foot.items), "</g>"]
    if foot.notes:
        out.append('<g class="notes">')
        out.extend(f'<text x="{MARGIN}" y="{y + 4:.1f}" fill="{FILL[state][1]}" '
                   'xml:space="preserve">'
                   f"{escape(text)}</text>" for y, text, state in foot.notes)
        out.append("</g>")
    return out


def render_svg(graph: Graph) -> str:
    """A standalone SVG document of the graph, with its legend and the tasks' errors.

    Lines in boxes are cut to MAX_TEXT characters; each task's ``<title>`` (the
    tooltip) has the whole text."""
    geo = geometry(graph)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{geo.width:.0f}" '
           f'height="{geo.height:.0f}" viewBox="0 0 {geo.width:.0f} {geo.height:.0f}" '
           'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
           "<defs>"]
    for name, colour in {**EDGE_COLOURS, "untaken": UNTAKEN}.items():
        out.append(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
                   'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect width="100%" height="100%" fill="#ffffff"/>'
               f'<text x="{MARGIN}" y="{MARGIN + 12}" font-size="14" font-weight="bold">'
               f"{escape(_title(graph))}</text>")
    out.extend(_svg_edge(graph, geo, edge) for edge in graph.edges)
    out.extend(_svg_task(graph, geo, node) for node in graph.task_nodes())
    if geo.footer is not None:
        out.extend(_svg_footer(geo.footer))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_dot(graph: Graph) -> str:
    """Graphviz DOT source of the graph."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(graph.workflow)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
             f"  label={q(_title(graph))}; labelloc=t;"]
    for node in graph.task_nodes():
        fill, stroke = _fill(graph, node.state)
        mark, name, sub = box_lines(node, graph.has_run)
        head = f"{mark} {name}" if mark else name
        lines.append(f"  {q(node.name)} [label={q(head + chr(10) + sub)}, "
                     f"tooltip={q(tooltip(node, graph.has_run))}, "
                     f"fillcolor={q(fill)}, color={q(stroke)}];")
    for edge in graph.edges:
        style = "dashed" if edge.event in ("on-complete", "on-skip") else "solid"
        lines.append(f"  {q(edge.source)} -> {q(edge.target)} [color={q(_edge_colour(graph, edge))}"
                     f", style={style}, tooltip={q(edge.event)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_png(graph: Graph) -> bytes:
    """PNG bytes: drawn with Pillow, else through Graphviz ``dot``; else GraphOutputError."""
    try:
        from wfaas.client.graph_png import draw_png
    except ImportError:
        draw_png = None  # type: ignore[assignment]
    if draw_png is not None:
        return draw_png(graph, geometry(graph))
    dot = shutil.which("dot")
    if not dot:
        raise GraphOutputError("PNG output needs Pillow (pip install pillow) or Graphviz "
                               "'dot' (apt-get install graphviz); SVG works without either")
    done = subprocess.run([dot, "-Tpng"], input=render_dot(graph).encode(),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise GraphOutputError(f"dot failed: {done.stderr.decode(errors='replace')[:200]}")
    return done.stdout
