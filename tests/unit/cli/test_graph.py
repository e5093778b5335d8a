"""Task graph: structure, layout, run overlay and the four renderings."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from wfaas.client.graph import build_graph, format_duration, task_duration_text
from wfaas.client.graph_image import render_dot, render_png, render_svg
from wfaas.client.graph_render import render_text
from wfaas.lang import parse_workflows

DIRECT = """---
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b, c]
      on-error: [fail]
    b:
      action: std.echo output=1
      on-success: [d]
    c:
      with-items: i in <% [1, 2] %>
      action: std.noop
      on-success: [e]
    e:
      action: std.noop
      on-success: [d]
      on-error: [c]
      on-complete: [f]
    f:
      action: std.noop
    d:
      join: all
      workflow: sub_wf
"""

REVERSE = """---
version: '2.0'
rev:
  type: reverse
  tasks:
    fetch:
      action: std.noop
    build:
      action: std.noop
      requires: [fetch]
    ship:
      action: std.noop
      requires: [build, fetch]
"""


@pytest.fixture
def spec():
    return parse_workflows(DIRECT)[0]


def test_edges_layers_and_loops(spec) -> None:
    graph = build_graph(spec)
    edges = {(e.source, e.target, e.event, e.back) for e in graph.edges}
    assert edges == {("a", "b", "on-success", False), ("a", "c", "on-success", False),
                     ("b", "d", "on-success", False), ("c", "e", "on-success", False),
                     ("e", "d", "on-success", False), ("e", "c", "on-error", True),
                     ("e", "f", "on-complete", False)}
    layers = {n.name: n.layer for n in graph.task_nodes()}
    assert layers == {"a": 0, "b": 1, "c": 1, "e": 2, "d": 3, "f": 3}
    long_edge = next(e for e in graph.edges if (e.source, e.target) == ("b", "d"))
    assert len(long_edge.path) == 3 and graph.nodes[long_edge.path[1]].dummy
    assert graph.nodes["a"].commands == ["on-error -> fail"]
    assert graph.nodes["d"].label == "sub_wf"
    assert graph.nodes["c"].label == "std.noop [with-items]"


def test_reverse_workflow_uses_requires(spec) -> None:
    graph = build_graph(parse_workflows(REVERSE)[0])
    assert {(e.source, e.target) for e in graph.edges} == {
        ("fetch", "build"), ("build", "ship"), ("fetch", "ship")}
    assert [n.layer for n in graph.task_nodes()] == [0, 1, 2]


def test_text_rendering_draws_boxes_arrows_and_notes(spec) -> None:
    text = render_text(build_graph(spec))
    for name in ("a", "b", "c", "d", "e", "f", "std.echo"):
        assert f"│ {name} " in text
    assert text.count("▼") == 5     # one head per target: b, c, e, d, f
    assert "↺ e --on-error--> c" in text
    assert "⇒ a: on-error -> fail" in text
    assert "\x1b[" not in text
    assert "\x1b[" in render_text(build_graph(spec), colour=True)


def test_run_overlay_states_and_taken_edges(spec) -> None:
    tasks = [
        {"id": "1", "name": "a", "state": "SUCCESS", "created_at": "2026-01-01 00:00:00",
         "started_at": "2026-01-01 00:00:00", "finished_at": "2026-01-01 00:00:01.500000"},
        {"id": "2", "name": "c", "state": "ERROR", "state_info": "kaboom\nmore",
         "created_at": "2026-01-01 00:00:02",
         "runtime_context": {"triggered_by": [{"task_id": "1", "event": "on-success"}]}},
    ]
    graph = build_graph(spec, tasks, {"id": "ex1", "state": "ERROR"})
    assert graph.nodes["a"].state == "SUCCESS" and graph.nodes["a"].detail == "1.50s"
    assert graph.nodes["c"].detail == "kaboom"
    assert graph.nodes["b"].state is None
    taken = {(e.source, e.target) for e in graph.edges if e.taken}
    assert taken == {("a", "c")}
    text = render_text(graph)
    assert "✔ a" in text and "✘ c" in text and "not run" in text
    assert "execution ex1: ERROR" in text


def test_overlay_without_trigger_info_infers_from_states(spec) -> None:
    tasks = [{"id": "1", "name": "a", "state": "SUCCESS"},
             {"id": "2", "name": "b", "state": "SUCCESS"}]
    graph = build_graph(spec, tasks, {})
    assert {(e.source, e.target) for e in graph.edges if e.taken} == {("a", "b")}


def test_svg_is_valid_and_names_every_task(spec) -> None:
    svg = render_svg(build_graph(spec, [{"id": "1", "name": "a", "state": "SUCCESS"}],
                                 {"id": "x", "state": "RUNNING"}))
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    ns = {"s": "http://www.w3.org/2000/svg"}
    names = {g.get("data-name") for g in root.findall(".//s:g[@class='task']", ns)}
    assert names == {"a", "b", "c", "d", "e", "f"}
    assert len(root.findall(".//s:path[@class='edge']", ns)) == 7


def test_png_and_dot(spec) -> None:
    pytest.importorskip("PIL", reason="PNG output is drawn with Pillow")
    graph = build_graph(spec)
    data = render_png(graph)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    dot = render_dot(graph)
    assert dot.startswith('digraph "wf" {') and '"e" -> "c"' in dot


def test_durations() -> None:
    assert format_duration(0.1234) == "0.12s"
    assert format_duration(75) == "1m15s"
    assert format_duration(3725) == "1h02m"
    coarse = {"state": "SUCCESS", "started_at": "2026-01-01 00:00:00",
              "finished_at": "2026-01-01 00:00:03"}
    assert task_duration_text(coarse) == "~3s"
    assert task_duration_text({**coarse, "finished_at": "2026-01-01 00:00:00"}) == "<1s"
    assert task_duration_text({"state": "RUNNING"}) == ""


def test_layout_keeps_boxes_apart_and_chains_straight(spec) -> None:
    for graph in (build_graph(spec), build_graph(parse_workflows(REVERSE)[0])):
        for row in graph.layers:
            xs = [graph.nodes[n].x for n in row]
            assert xs == sorted(xs)
            for a, b in zip(row, row[1:], strict=False):
                gap = 1.0 if not (graph.nodes[a].dummy or graph.nodes[b].dummy) else 0.5
                assert graph.nodes[b].x - graph.nodes[a].x >= gap
            assert all(x * 2 == int(x * 2) for x in xs)          # half-slot grid
        assert min(n.x for n in graph.nodes.values()) == 0
    chain = build_graph(parse_workflows(
        "version: '2.0'\nc:\n  tasks:\n    one:\n      on-success: [two]\n"
        "    two:\n      on-success: [three]\n    three: {}\n")[0])
    assert {n.x for n in chain.task_nodes()} == {0.0}
    text = render_text(chain)
    assert text.splitlines()[4] == "      ▼"      # straight down, no track row


def _run_graph(spec, error: str = "kaboom"):
    tasks = [
        {"id": "1", "name": "a", "state": "SUCCESS", "started_at": "2026-01-01 00:00:00.000000",
         "finished_at": "2026-01-01 00:00:01.250000", "created_at": "2026-01-01 00:00:00"},
        {"id": "2", "name": "c", "state": "ERROR", "state_info": error,
         "created_at": "2026-01-01 00:00:02",
         "runtime_context": {"wi": {"count": 5, "ok": 2, "err": 1},
                             "triggered_by": [{"task_id": "1", "event": "on-success"}]}},
    ]
    return build_graph(spec, tasks, {"id": "ex1", "state": "ERROR"})


SVG_NS = {"s": "http://www.w3.org/2000/svg"}


def _svg_texts(root, cls: str) -> list[str]:
    return ["".join(t.itertext()) for t in root.findall(f".//s:text[@class='{cls}']", SVG_NS)]


def test_svg_legend_names_events_taken_and_states(spec) -> None:
    root = ET.fromstring(render_svg(_run_graph(spec)))
    labels = [g.get("data-label") for g in root.findall(".//s:g[@class='legend-item']", SVG_NS)]
    assert labels == ["on-success", "on-error", "on-complete", "taken", "not taken",
                      "SUCCESS", "ERROR", "not run"]
    definition = ET.fromstring(render_svg(build_graph(spec)))
    labels = [g.get("data-label")
              for g in definition.findall(".//s:g[@class='legend-item']", SVG_NS)]
    assert labels == ["on-success", "on-error", "on-complete"]     # no run: no states


def test_long_error_keeps_the_picture_narrow(spec) -> None:
    error = "connection refused by " + "x" * 3000 + " at the end"
    svg = render_svg(_run_graph(spec, error))
    root = ET.fromstring(svg)
    assert float(root.get("width")) < 900           # was 22,000 px: one box as wide as the error
    box = root.find(".//s:g[@data-name='c']", SVG_NS)
    assert error in box.find("s:title", SVG_NS).text        # the whole message as a tooltip
    detail = _svg_texts(box, "detail")[0]
    assert len(detail) <= 40 and detail.endswith("…") and "3/5 items" in detail
    notes = ["".join(t.itertext()) for t in root.findall(".//s:g[@class='notes']/s:text",
                                                             SVG_NS)]
    assert notes[0].startswith("c: connection refused by") and len(notes) == 4
    pytest.importorskip("PIL", reason="PNG output is drawn with Pillow")
    from PIL import Image

    image = Image.open(io.BytesIO(render_png(_run_graph(spec, error))))
    assert image.width == 2 * float(root.get("width"))      # PNG: the same picture at 2x


def test_with_items_counts_in_every_rendering(spec) -> None:
    tasks = [{"id": "1", "name": "a", "state": "SUCCESS"},
             {"id": "2", "name": "c", "state": "RUNNING",
              "runtime_context": {"wi": {"count": 5, "ok": 3}}}]
    graph = build_graph(spec, tasks, {"id": "ex1", "state": "RUNNING"})
    box = ET.fromstring(render_svg(graph)).find(".//s:g[@data-name='c']", SVG_NS)
    assert _svg_texts(box, "detail") == ["RUNNING 3/5 items"]
    assert "RUNNING 3/5 items" in render_text(graph)
    assert "RUNNING 3/5 items" in render_dot(graph)


def test_png_draws_the_state_marks(spec) -> None:
    pytest.importorskip("PIL", reason="PNG output is drawn with Pillow")
    from PIL import Image

    from wfaas.client.graph_image import FILL, geometry
    from wfaas.client.graph_png import SCALE

    graph = _run_graph(spec)
    image = Image.open(io.BytesIO(render_png(graph))).convert("RGB")
    geo = geometry(graph)

    def pixels(name: str, colour: str) -> int:
        """Pixels of exactly ``colour`` inside the box, away from its border."""
        box, rgb = geo.boxes[name], tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        inner = image.crop(tuple(int(v * SCALE) for v in (
            box.x + 6, box.y + 6, box.x + box.w - 6, box.y + box.h - 6)))
        return sum(n for n, p in inner.getcolors(1 << 20) or [] if p == rgb)

    assert pixels("a", FILL["SUCCESS"][1]) > 20        # ✔ in the state's green
    assert pixels("c", FILL["ERROR"][1]) > 20          # ✘ in the state's red
    assert pixels("b", FILL["SUCCESS"][1]) == 0        # not run: no mark
