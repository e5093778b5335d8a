"""PNG drawing of a graph with Pillow (no files or downloads needed at run time).

Text uses DejaVu Sans when the system has it (Debian's ``fonts-dejavu-core``),
else Pillow's built-in font. The state marks (✔, ✘, ...) are drawn as shapes,
so they show whatever font is found.

Importing this module raises ImportError when Pillow is not installed; the
caller then falls back to Graphviz ``dot``.
"""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw, ImageFont

from wfaas.client.graph import Graph
from wfaas.client.graph_image import (
    MARGIN,
    UNTAKEN,
    Geometry,
    _edge_colour,
    _fill,
    _title,
    box_lines,
    edge_points,
)
from wfaas.client.graph_legend import FILL, Footer, LegendItem

SCALE = 2
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
#: font files tried in order (Pillow also searches the system font directories)
FONT_FILES = {False: ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
              True: ("DejaVuSans-Bold.ttf",
                     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")}


@functools.cache
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans (bold) at ``size`` pixels, else Pillow's default font."""
    for name in FONT_FILES[bold]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def _fit(text: str, face: Font, width: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


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


def draw_mark(draw: ImageDraw.ImageDraw, state: str, cx: float, cy: float, r: float,
              colour: str) -> None:
    """The mark of ``state`` as shapes centred on (cx, cy), ``r`` pixels in radius:
    ✔ a tick, ✘ a cross, ⟳ an open circle, ⏸ two bars, ⊘ a barred circle, … dots."""
    w = max(2, round(r / 3))
    box = (cx - r, cy - r, cx + r, cy + r)
    if state == "SUCCESS":
        draw.line([(cx - r * 0.8, cy), (cx - r * 0.2, cy + r * 0.7), (cx + r * 0.9, cy - r * 0.8)],
                  fill=colour, width=w, joint="curve")
    elif state == "ERROR":
        draw.line([(cx - r * 0.75, cy - r * 0.75), (cx + r * 0.75, cy + r * 0.75)],
                  fill=colour, width=w)
        draw.line([(cx - r * 0.75, cy + r * 0.75), (cx + r * 0.75, cy - r * 0.75)],
                  fill=colour, width=w)
    elif state in ("RUNNING", "RUNNING_DELAYED"):
        draw.arc(box, 40, 340, fill=colour, width=w)
    elif state == "PAUSED":
        for x in (cx - r * 0.45, cx + r * 0.45):
            draw.rectangle((x - w / 2, cy - r * 0.8, x + w / 2, cy + r * 0.8), fill=colour)
    elif state == "CANCELLED":
        draw.ellipse(box, outline=colour, width=w)
        draw.line([(cx - r * 0.7, cy + r * 0.7), (cx + r * 0.7, cy - r * 0.7)], fill=colour,
                  width=w)
    elif state:                               # WAITING, IDLE, SKIPPED, ...
        for x in (cx - r * 0.7, cx, cx + r * 0.7):
            draw.ellipse((x - w / 2, cy - w / 2, x + w / 2, cy + w / 2), fill=colour)
    else:                                     # not run: an empty box
        draw.rectangle(box, outline=colour, width=max(1, w // 2))


def _draw_edges(draw: ImageDraw.ImageDraw, graph: Graph, geo: Geometry) -> None:
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


def _draw_tasks(draw: ImageDraw.ImageDraw, graph: Graph, geo: Geometry) -> None:
    bold, small = font(13 * SCALE, True), font(11 * SCALE)
    for node in graph.task_nodes():
        box = geo.boxes[node.name]
        fill, stroke = _fill(graph, node.state)
        rect = (box.x * SCALE, box.y * SCALE, (box.x + box.w) * SCALE, (box.y + box.h) * SCALE)
        draw.rounded_rectangle(rect, radius=6 * SCALE, fill=fill, outline=stroke,
                               width=2 * SCALE)
        mark, name, sub = box_lines(node, graph.has_run)
        room = (box.w - 16) * SCALE
        mark_w = 16 * SCALE if mark else 0
        name = _fit(name, bold, room - mark_w)
        text_w = bold.getlength(name)
        left = box.cx * SCALE - (text_w + mark_w) / 2
        y = (box.y + 16) * SCALE
        if mark:
            draw_mark(draw, str(node.state), left + 5 * SCALE, y, 5 * SCALE, stroke)
        draw.text((left + mark_w, y), name, fill="black", font=bold, anchor="lm")
        draw.text((box.cx * SCALE, (box.y + 33) * SCALE), _fit(sub, small, room),
                  fill="#555555", font=small, anchor="mm")


def _draw_legend_item(draw: ImageDraw.ImageDraw, item: LegendItem) -> None:
    x, y = item.x * SCALE, item.y * SCALE
    if item.kind == "edge":
        _line(draw, [(x, y), (x + 30 * SCALE, y)], item.colour,
              (3 if item.thick else 1) * SCALE, item.dashed)
    else:
        draw_mark(draw, item.state, x + 15 * SCALE, y, 5 * SCALE, item.colour)
    draw.text((x + 36 * SCALE, y), item.label, fill="#333333", font=font(11 * SCALE),
              anchor="lm")


def _draw_footer(draw: ImageDraw.ImageDraw, foot: Footer, width: float) -> None:
    for item in foot.items:
        _draw_legend_item(draw, item)
    small = font(11 * SCALE)
    for y, text, state in foot.notes:
        draw.text((MARGIN * SCALE, y * SCALE), _fit(text, small, (width - 2 * MARGIN) * SCALE),
                  fill=FILL.get(state, FILL["ERROR"])[1], font=small, anchor="lm")


def draw_png(graph: Graph, geo: Geometry) -> bytes:
    """The graph as PNG bytes (twice the SVG's pixel size, for sharp text)."""
    image = Image.new("RGB", (int(geo.width * SCALE), int(geo.height * SCALE)), "white")
    draw = ImageDraw.Draw(image)
    title_font = font(14 * SCALE, True)
    title = _title(graph)
    if "DejaVu" not in str(getattr(title_font, "path", "")):
        title = title.replace("\u2014", "-")     # Pillow's own font may lack the dash
    draw.text((MARGIN * SCALE, 18 * SCALE), title, fill="black", font=title_font)
    _draw_edges(draw, graph, geo)
    _draw_tasks(draw, graph, geo)
    if geo.footer is not None:
        _draw_footer(draw, geo.footer, geo.width)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
