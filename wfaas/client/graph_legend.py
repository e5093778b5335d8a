"""What the SVG and PNG pictures of a graph show below the boxes: a legend (edge
colours by event, taken vs not taken, the state marks) and the full error of
each failed task, wrapped to the picture's width. Pixel layout only; the
drawing is in :mod:`wfaas.client.graph_image` (SVG) and
:mod:`wfaas.client.graph_png` (PNG)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from wfaas.client.graph import EVENTS, Graph

#: colour of an edge by its event, and of an edge the run did not take
EDGE_COLOURS = {"on-success": "#2e8b47", "on-error": "#c9303e", "on-complete": "#3b63b9",
                "on-skip": "#777777", "requires": "#2a8f99"}
UNTAKEN = "#c8c8c8"
DASHED = ("on-complete", "on-skip")
#: (fill, stroke) of a task box by state
FILL = {"SUCCESS": ("#e3f4e6", "#2e8b47"), "ERROR": ("#fbe4e6", "#c9303e"),
        "RUNNING": ("#fff6d6", "#c99a06"), "RUNNING_DELAYED": ("#fff6d6", "#c99a06"),
        "PAUSED": ("#e4ecfb", "#3b63b9"), "CANCELLED": ("#f1e4f8", "#8e44ad"),
        "WAITING": ("#e3f5f7", "#2a8f99"), "IDLE": ("#e3f5f7", "#2a8f99"),
        "SKIPPED": ("#eeeeee", "#777777")}
NOT_RUN = ("#ffffff", "#b0b0b0")
STATE_ORDER = ("SUCCESS", "ERROR", "RUNNING", "RUNNING_DELAYED", "WAITING", "IDLE", "PAUSED",
               "CANCELLED", "SKIPPED")

#: approximate width of one character of the 12 px sans-serif text, in pixels
CHAR_W = 7.4
SAMPLE_W, ITEM_GAP, ROW_H, NOTE_H, TOP_GAP = 30.0, 22.0, 20.0, 16.0, 22.0
#: lines of one task's error shown below the graph (the rest: SVG tooltip)
NOTE_LINES = 4


@dataclass
class LegendItem:
    """One legend entry: an edge sample (``kind="edge"``) or a state mark (``"state"``)."""

    kind: str
    label: str
    colour: str
    dashed: bool = False
    thick: bool = False
    state: str = ""
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        """Pixels taken by the sample and its label."""
        return SAMPLE_W + 6 + len(self.label) * CHAR_W


@dataclass
class Footer:
    """The legend items and error notes, placed from ``top`` within ``width`` pixels."""

    top: float
    items: list[LegendItem] = field(default_factory=list)
    notes: list[tuple[float, str, str]] = field(default_factory=list)   # (y, text, state)
    height: float = 0.0


def legend_items(graph: Graph) -> list[list[LegendItem]]:
    """The legend rows: events drawn, taken vs not taken, the task states present."""
    rows: list[list[LegendItem]] = []
    drawn = {e.event for e in graph.edges}
    events = [e for e in (*EVENTS, "requires") if e in drawn]
    if events:
        rows.append([LegendItem("edge", e, EDGE_COLOURS[e], dashed=e in DASHED)
                     for e in events])
    if graph.has_run:
        if graph.edges:
            rows.append([LegendItem("edge", "taken", "#444444", thick=True),
                         LegendItem("edge", "not taken", UNTAKEN)])
        states = {n.state for n in graph.task_nodes()}
        marks = [LegendItem("state", s, FILL[s][1], state=s) for s in STATE_ORDER
                 if s in states]
        if None in states:
            marks.append(LegendItem("state", "not run", NOT_RUN[1]))
        if marks:
            rows.append(marks)
    return rows


def error_notes(graph: Graph, width_px: float) -> list[tuple[str, str]]:
    """``(line, state)`` pairs: each failed task's error wrapped to ``width_px``."""
    chars = max(30, int(width_px / CHAR_W))
    out: list[tuple[str, str]] = []
    for node in graph.task_nodes():
        if not node.error:
            continue
        lines = textwrap.wrap(f"{node.name}: {node.error}", chars,
                              subsequent_indent="   ") or [node.name]
        if len(lines) > NOTE_LINES:
            lines = lines[:NOTE_LINES]
            lines[-1] = lines[-1][: chars - 1] + "…"
        out.extend((line, node.state or "ERROR") for line in lines)
    return out


def footer(graph: Graph, left: float, top: float, width: float) -> Footer:
    """Place the legend rows (wrapped to ``width``) and the error notes below ``top``."""
    foot = Footer(top + TOP_GAP)
    y = foot.top
    for row in legend_items(graph):
        x = left
        for item in row:
            if x > left and x + item.width > left + width:
                x, y = left, y + ROW_H
            item.x, item.y = x, y
            foot.items.append(item)
            x += item.width + ITEM_GAP
        y += ROW_H
    notes = error_notes(graph, width)
    if notes:
        y += 6
    for text, state in notes:
        foot.notes.append((y, text, state))
        y += NOTE_H
    foot.height = y - top
    return foot


def legend_width(graph: Graph) -> float:
    """The width the widest legend row would like (it wraps when the picture is narrower)."""
    return max((sum(i.width + ITEM_GAP for i in row) - ITEM_GAP
                for row in legend_items(graph)), default=0.0)
