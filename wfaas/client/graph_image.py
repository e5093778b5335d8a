"""Image output of a laid-out graph: SVG (written here), PNG (Pillow, else
Graphviz ``dot``) and DOT source. All share one pixel geometry."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from xml.sax.saxutils import escape

from wfaas.client.graph import Edge, Graph, span
from wfaas.client.graph_render import node_lines

FILL = {"SUCCESS": ("#e3f4e6", "#2e8b47"), "ERROR": ("#fbe4e6", "#c9303e"),
        "RUNNING": ("#fff6d6", "#c99a06"), "RUNNING_DELAYED": ("#fff6d6", "#c99a06"),
        "PAUSED": ("#e4ecfb", "#3b63b9"), "CANCELLED": ("#f1e4f8", "#8e44ad"),
        "WAITING": ("#e3f5f7", "#2a8f99"), "IDLE": ("#e3f5f7", "#2a8f99"),
        "SKIPPED": ("#eeeeee", "#777777")}
DEFINITION = ("#eef3fb", "#3b73b9")
NOT_RUN = ("#ffffff", "#b0b0b0")
EDGE_COLOURS = {"on-success": "#2e8b47", "on-error": "#c9303e", "on-complete": "#3b63b9",
                "on-skip": "#777777", "requires": "#2a8f99"}
UNTAKEN = "#c8c8c8"
CHAR_W, BOX_H, GAP_X, GAP_Y, MARGIN, TITLE_H = 7.4, 46, 36, 58, 24, 30


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
    """Pixel positions: boxes by node name, canvas size."""

    boxes: dict[str, Box]
    width: float
    height: float


def geometry(graph: Graph) -> Geometry:
    """Place every node on a pixel grid (same layers and slots as the text)."""
    widest = max((len(t) for n in graph.task_nodes() for t in node_lines(n, graph.has_run)),
                 default=8)
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
    width = MARGIN * 2 + span(graph) * slot - GAP_X + (60 if back else 0)
    height = MARGIN * 2 + TITLE_H + len(graph.layers) * (BOX_H + GAP_Y) - GAP_Y
    return Geometry(boxes, width, height)


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


def render_svg(graph: Graph) -> str:
    """A standalone SVG document of the graph."""
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
    for edge in graph.edges:
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
        out.append(f'<path class="edge" data-event="{edge.event}" d="{d}" fill="none" '
                   f'stroke="{colour}" stroke-width="{2 if edge.taken else 1.5}"{dash} '
                   f'marker-end="url(#arrow-{marker})"><title>{escape(edge.source)} '
                   f"{edge.event} {escape(edge.target)}</title></path>")
    for node in graph.task_nodes():
        box = geo.boxes[node.name]
        fill, stroke = _fill(graph, node.state)
        head, sub = node_lines(node, graph.has_run)
        out.append(f'<g class="task" data-name="{escape(node.name)}">'
                   f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" '
                   f'height="{box.h:.1f}" rx="6" fill="{fill}" stroke="{stroke}" '
                   'stroke-width="1.5"/>'
                   f'<text x="{box.cx:.1f}" y="{box.y + 19:.1f}" text-anchor="middle" '
                   f'font-weight="bold">{escape(head.strip())}</text>'
                   f'<text x="{box.cx:.1f}" y="{box.y + 36:.1f}" text-anchor="middle" '
                   f'fill="#555555">{escape(sub)}</text></g>')
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
        head, sub = node_lines(node, graph.has_run)
        lines.append(f"  {q(node.name)} [label={q(head.strip() + chr(10) + sub)}, "
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
