"""PNG drawing of a graph with Pillow (no files or downloads needed at run time).

Importing this module raises ImportError when Pillow is not installed; the
caller then falls back to Graphviz ``dot``.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from wfaas.client.graph import Graph
from wfaas.client.graph_image import (
    UNTAKEN,
    Geometry,
    _edge_colour,
    _fill,
    _title,
    edge_points,
)
from wfaas.client.graph_render import node_lines

SCALE = 2


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def _arrow(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float],
           colour: str) -> None:
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    size = 9 * SCALE
    left = (b[0] - size * math.cos(angle - 0.4), b[1] - size * math.sin(angle - 0.4))
    right = (b[0] - size * math.cos(angle + 0.4), b[1] - size * math.sin(angle + 0.4))
    draw.polygon([b, left, right], fill=colour)


def _line(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], colour: str,
          width: int, dashed: bool) -> None:
    if not dashed:
        draw.line(pts, fill=colour, width=width)
        return
    for a, b in zip(pts, pts[1:], strict=False):
        length = math.dist(a, b)
        steps = max(1, int(length // (10 * SCALE)))
        for k in range(steps):
            t0, t1 = k / steps, (k + 0.6) / steps
            draw.line([(a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0),
                       (a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1)],
                      fill=colour, width=width)


def draw_png(graph: Graph, geo: Geometry) -> bytes:
    """The graph as PNG bytes (twice the SVG's pixel size, for sharp text)."""
    image = Image.new("RGB", (int(geo.width * SCALE), int(geo.height * SCALE)), "white")
    draw = ImageDraw.Draw(image)
    bold, small = _font(13 * SCALE), _font(11 * SCALE)
    title = _title(graph).replace("\u2014", "-")
    draw.text((24 * SCALE, 18 * SCALE), title, fill="black", font=bold)
    for edge in graph.edges:
        colour = _edge_colour(graph, edge)
        dashed = edge.event in ("on-complete", "on-skip")
        width = (2 if edge.taken else 1) * SCALE
        if edge.back:
            a, b = geo.boxes[edge.source], geo.boxes[edge.target]
            bend = max(a.x + a.w, b.x + b.w) + 40
            raw = [(a.x + a.w, a.y + a.h / 2), (bend, a.y + a.h / 2), (bend, b.y + b.h / 2),
                   (b.x + b.w, b.y + b.h / 2)]
        else:
            raw = edge_points(graph, geo, edge)
        pts = [(x * SCALE, y * SCALE) for x, y in raw]
        _line(draw, pts, colour, width, dashed)
        _arrow(draw, pts[-2], pts[-1], colour if colour != UNTAKEN else UNTAKEN)
    for node in graph.task_nodes():
        box = geo.boxes[node.name]
        fill, stroke = _fill(graph, node.state)
        rect = (box.x * SCALE, box.y * SCALE, (box.x + box.w) * SCALE, (box.y + box.h) * SCALE)
        draw.rounded_rectangle(rect, radius=6 * SCALE, fill=fill, outline=stroke,
                               width=2 * SCALE)
        _, sub = node_lines(node, graph.has_run)
        draw.text((box.cx * SCALE, (box.y + 16) * SCALE), node.name, fill="black",
                  font=bold, anchor="mm")
        draw.text((box.cx * SCALE, (box.y + 33) * SCALE), sub, fill="#555555", font=small,
                  anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
