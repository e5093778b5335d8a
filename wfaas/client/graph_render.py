"""Draw a laid-out :class:`~wfaas.client.graph.Graph`: box-and-arrow text for the
terminal (ANSI colours optional), SVG written by hand, PNG through Pillow (or
Graphviz ``dot`` when Pillow is missing), and DOT source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wfaas.client.graph import Edge, Graph, Node, span

U, D, L, R = 1, 2, 4, 8
LIGHT = {U | D: "│", L | R: "─", D | R: "┌", D | L: "┐", U | R: "└", U | L: "┘",
         U | D | R: "├", U | D | L: "┤", D | L | R: "┬", U | L | R: "┴", U | D | L | R: "┼",
         U: "│", D: "│", L: "─", R: "─"}
DOUBLE = {U | D: "║", L | R: "═", D | R: "╔", D | L: "╗", U | R: "╚", U | L: "╝",
          U | D | R: "╠", U | D | L: "╣", D | L | R: "╦", U | L | R: "╩", U | D | L | R: "╬",
          U: "║", D: "║", L: "═", R: "═"}
DASHED = {**LIGHT, U | D: "┆", L | R: "┄", U: "┆", D: "┆", L: "┄", R: "┄"}
STYLES = {"on-success": LIGHT, "on-error": DOUBLE, "on-complete": DASHED,
          "on-skip": DASHED, "requires": LIGHT}
EVENT_COLOURS = {"on-success": "32", "on-error": "31", "on-complete": "34", "on-skip": "90",
                 "requires": "36"}
STATE_COLOURS = {"SUCCESS": "32", "ERROR": "31", "RUNNING": "33", "RUNNING_DELAYED": "33",
                 "WAITING": "36", "IDLE": "36", "PAUSED": "34", "CANCELLED": "35",
                 "SKIPPED": "90"}
SYMBOLS = {"SUCCESS": "✔", "ERROR": "✘", "RUNNING": "⟳", "RUNNING_DELAYED": "⟳",
           "WAITING": "…", "IDLE": "…", "PAUSED": "⏸", "CANCELLED": "⊘", "SKIPPED": "↷"}
LEGEND = {"on-success": "─ on-success", "on-error": "═ on-error", "on-complete": "┄ on-complete",
          "on-skip": "┄ on-skip", "requires": "─ requires"}
ARROW_LABELS = {"on-error": "error", "on-complete": "always", "on-skip": "skip"}
MAX_BOX = 34


def node_lines(node: Node, has_run: bool) -> tuple[str, str]:
    """The two text lines inside a task box."""
    if not has_run:
        return node.name, node.label
    if node.state is None:
        return f"  {node.name}", "not run"
    runs = f" x{node.runs}" if node.runs > 1 else ""
    head = f"{SYMBOLS.get(node.state, '?')} {node.name}"
    return head, f"{node.state}{runs} {node.detail}".strip()


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


class Canvas:
    """A character grid with line masks (merged into box-drawing junctions) and colours."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.text: list[list[str]] = [[" "] * width for _ in range(height)]
        self.colour: list[list[str | None]] = [[None] * width for _ in range(height)]
        self.mask: dict[tuple[int, int], int] = {}
        self.style: dict[tuple[int, int], dict[int, str]] = {}

    def put(self, x: int, y: int, text: str, colour: str | None = None) -> None:
        """Write ``text`` from (x, y)."""
        for i, ch in enumerate(text):
            if 0 <= x + i < self.width and 0 <= y < self.height:
                self.text[y][x + i] = ch
                self.colour[y][x + i] = colour

    def line(self, x: int, y: int, bits: int, style: dict[int, str], colour: str | None) -> None:
        """Add connection ``bits`` to cell (x, y)."""
        self.mask[(x, y)] = self.mask.get((x, y), 0) | bits
        styles = self.style.setdefault((x, y), {})
        styles[id(style)] = style  # type: ignore[assignment]
        self.colour[y][x] = colour

    def render(self, colour: bool) -> str:
        """The grid as text (ANSI colours when ``colour``)."""
        for (x, y), bits in self.mask.items():
            styles = list(self.style[(x, y)].values())
            table: Any = styles[0] if len(styles) == 1 else LIGHT
            self.text[y][x] = table.get(bits, "┼")
        rows = []
        for y in range(self.height):
            parts: list[str] = []
            current: str | None = None
            for x in range(self.width):
                ch, code = self.text[y][x], self.colour[y][x]
                code = code if colour and ch != " " else None
                if code != current:
                    parts.append("\x1b[0m" if current else "")
                    parts.append(f"\x1b[{code}m" if code else "")
                    current = code
                parts.append(ch)
            if current:
                parts.append("\x1b[0m")
            rows.append("".join(parts).rstrip())
        while rows and not rows[-1]:
            rows.pop()
        return "\n".join(rows)


@dataclass
class _Geometry:
    box: int
    slot: int

    def left(self, graph: Graph, node: Node) -> int:
        return round(node.x * self.slot)

    def port(self, graph: Graph, node: Node) -> int:
        return self.left(graph, node) + self.box // 2


def _edge_colour(edge: Edge, has_run: bool) -> str:
    if has_run and not edge.taken:
        return "90"
    return EVENT_COLOURS.get(edge.event, "0")


def _draw_box(canvas: Canvas, graph: Graph, geo: _Geometry, node: Node, top: int,
              outgoing: bool) -> None:
    x = geo.left(graph, node)
    inner = geo.box - 2
    code = STATE_COLOURS.get(node.state or "", "90" if graph.has_run else None)
    head, sub = node_lines(node, graph.has_run)
    border_top = "┌" + "─" * inner + "┐"
    border_bottom = "└" + "─" * inner + "┘"
    mid = geo.box // 2
    if outgoing:
        border_bottom = border_bottom[:mid] + "┬" + border_bottom[mid + 1:]
    canvas.put(x, top, border_top, code)
    canvas.put(x, top + 1, "│" + (" " + clip(head, inner - 2)).ljust(inner) + "│", code)
    canvas.put(x, top + 2, "│" + (" " + clip(sub, inner - 2)).ljust(inner) + "│", code)
    canvas.put(x, top + 3, border_bottom, code)


def _segments(graph: Graph, layer: int) -> dict[tuple[str, str], list[tuple[Edge, str]]]:
    groups: dict[tuple[str, str], list[tuple[Edge, str]]] = {}
    for edge in graph.edges:
        if edge.back:
            continue
        for a, b in zip(edge.path, edge.path[1:], strict=False):
            if graph.nodes[a].layer == layer:
                groups.setdefault((a, edge.event), []).append((edge, b))
    return groups


def _bent(graph: Graph, geo: _Geometry,
          groups: dict[tuple[str, str], list[tuple[Edge, str]]]) -> list[tuple[str, str]]:
    """The groups needing a horizontal track (not straight down), left to right."""
    keys = [k for k, edges in groups.items()
            if {geo.port(graph, graph.nodes[b]) for _, b in edges}
            != {geo.port(graph, graph.nodes[k[0]])}]
    return sorted(keys, key=lambda k: (geo.port(graph, graph.nodes[k[0]]), k[1]))


def _draw_channel(canvas: Canvas, graph: Graph, geo: _Geometry, top: int,
                  groups: dict[tuple[str, str], list[tuple[Edge, str]]]) -> None:
    bent = _bent(graph, geo, groups)
    arrow_row = top + len(bent)
    for key, edges in groups.items():
        row = top + bent.index(key) if key in bent else None
        src = geo.port(graph, graph.nodes[key[0]])
        style = STYLES.get(key[1], LIGHT)
        taken = any(e.taken for e, _ in edges)
        colour = EVENT_COLOURS.get(key[1], "0") if taken else \
            _edge_colour(edges[0][0], graph.has_run)
        targets = sorted({geo.port(graph, graph.nodes[b]) for _, b in edges})
        if row is None:                      # straight down: no track
            row = top - 1
        else:
            for y in range(top, row):
                canvas.line(src, y, U | D, style, colour)
            canvas.line(src, row, U, style, colour)
            lo, hi = min(src, *targets), max(src, *targets)
            for x in range(lo, hi + 1):
                canvas.line(x, row, (L if x > lo else 0) | (R if x < hi else 0), style, colour)
        for tx in targets:
            if row >= top:
                canvas.line(tx, row, D, style, colour)
            for y in range(row + 1, arrow_row):
                canvas.line(tx, y, U | D, style, colour)
            target = next(b for _, b in edges if geo.port(graph, graph.nodes[b]) == tx)
            if graph.nodes[target].dummy:
                canvas.line(tx, arrow_row, U | D, style, colour)
            else:
                label = ARROW_LABELS.get(key[1], "")
                canvas.put(tx, arrow_row, "▼" + (" " + label if label else "")[: geo.box // 2 + 1],
                           colour)


def render_text(graph: Graph, colour: bool = False) -> str:
    """The graph as box-and-arrow text; loops and engine commands are listed below it."""
    tasks = graph.task_nodes()
    widest = max((len(t) for n in tasks for t in node_lines(n, graph.has_run)), default=4)
    box = min(MAX_BOX, widest + 4)
    box += 1 - box % 2
    geo = _Geometry(box, box + 3)
    channels = [_segments(graph, i) for i in range(len(graph.layers))]
    tracks = [len(_bent(graph, geo, c)) for c in channels]
    height = sum(4 + t + 1 for t in tracks) + 1
    canvas = Canvas(int(span(graph) * geo.slot) + 2, height)
    top = 0
    for i, layer in enumerate(graph.layers):
        has_out = {k[0] for k in channels[i]}
        for name in layer:
            node = graph.nodes[name]
            if node.dummy:
                edge = next(e for e in graph.edges if name in e.path)
                style = STYLES.get(edge.event, LIGHT)
                for y in range(top, top + 4):
                    canvas.line(geo.port(graph, node), y, U | D, style,
                                _edge_colour(edge, graph.has_run))
            else:
                _draw_box(canvas, graph, geo, node, top, name in has_out)
        _draw_channel(canvas, graph, geo, top + 4, channels[i])
        top += 4 + tracks[i] + 1
    lines = [canvas.render(colour)]
    lines.extend(_notes(graph))
    return "\n".join(lines) + "\n"


def _notes(graph: Graph) -> list[str]:
    notes = []
    events = sorted({e.event for e in graph.edges if not e.back})
    if events:
        notes.append("   ".join(LEGEND.get(e, e) for e in events))
    for edge in graph.edges:
        if edge.back:
            mark = " (taken)" if edge.taken else ""
            notes.append(f"↺ {edge.source} --{edge.event}--> {edge.target}{mark}")
    for node in graph.task_nodes():
        for cmd in node.commands:
            notes.append(f"⇒ {node.name}: {cmd}")
    for node in graph.task_nodes():
        if node.error:
            notes.append(f"✘ {node.name}: {node.error}")
    if graph.execution:
        ex = graph.execution
        notes.append(f"execution {ex.get('id', '')}: {ex.get('state', '')}".rstrip(": "))
    return notes
