/* wfaas dashboard: the task graph (drawn from POST /v2/graphs, laid out by the server
 * with the same code as `wfaas execution graph`) and the timeline of tasks. */
"use strict";

const G = {COL: 210, ROW: 92, BOX_W: 176, BOX_H: 50, PAD: 24};
G.COLOURS = {"on-success": "#1f8a4c", "on-error": "#c62f2f", "on-complete": "#5b6b8c",
             "on-skip": "#7a7f8c", "requires": "#5b6b8c"};
G.FILL = {SUCCESS: "#e3f4ea", ERROR: "#fde8e8", RUNNING: "#e3edfb", WAITING: "#fdf1dc",
          PAUSED: "#fdf1dc", CANCELLED: "#eceef2", SKIPPED: "#eceef2", RUNNING_DELAYED: "#e3edfb"};
G.STROKE = {SUCCESS: "#1f8a4c", ERROR: "#c62f2f", RUNNING: "#2f7bd3", WAITING: "#b7791f",
            PAUSED: "#b7791f", CANCELLED: "#7a7f8c"};
G.MARK = {SUCCESS: "\u2714", ERROR: "\u2718", CANCELLED: "\u25A0", RUNNING: "\u25B6",
          WAITING: "\u23F8", PAUSED: "\u23F8", SKIPPED: "\u21B7"};

G.point = function (node) {
  return {x: G.PAD + node.x * G.COL + G.BOX_W / 2, y: G.PAD + node.layer * G.ROW};
};

G.clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "\u2026" : text);

G.drawNode = function (node) {
  const {x, y} = G.point(node);
  const left = x - G.BOX_W / 2;
  const state = node.state || "";
  const box = W.el("g", {class: "node", "data-task": node.name, "data-state": state},
    W.el("title", {text: [node.name, node.label, state, node.detail, node.error]
                            .filter(Boolean).join("\n")}),
    W.el("rect", {x: left, y, width: G.BOX_W, height: G.BOX_H, rx: 6,
                  fill: G.FILL[state] || "#ffffff", stroke: G.STROKE[state] || "#9aa1ae",
                  "stroke-width": state ? 2 : 1, "stroke-dasharray": state ? null : "4 3"}),
    W.el("text", {x: left + 8, y: y + 18, "font-size": 13, "font-weight": 600,
                  fill: "#1d2330", text: G.clip((G.MARK[state] ? G.MARK[state] + " " : "") + node.name, 24)}),
    W.el("text", {x: left + 8, y: y + 33, "font-size": 11, fill: "#6b7385",
                  text: G.clip(node.label, 28)}),
    W.el("text", {x: left + 8, y: y + 45, "font-size": 10.5,
                  fill: state === "ERROR" ? "#c62f2f" : "#6b7385",
                  text: G.clip(node.detail || (node.runs > 1 ? `${node.runs} runs` : ""), 30)}));
  return box;
};

G.drawEdge = function (edge, nodes) {
  const points = edge.path.map((name) => {
    const n = nodes[name];
    const p = G.point(n);
    return n.dummy ? [{x: p.x, y: p.y}, {x: p.x, y: p.y + G.BOX_H}] : [p];
  });
  const src = G.point(nodes[edge.source]);
  const dst = G.point(nodes[edge.target]);
  let d;
  if (edge.back) {
    const side = Math.max(src.x, dst.x) + G.BOX_W / 2 + 18;
    d = `M${src.x + G.BOX_W / 2},${src.y + G.BOX_H / 2} C${side},${src.y + G.BOX_H / 2} ` +
        `${side},${dst.y + G.BOX_H / 2} ${dst.x + G.BOX_W / 2},${dst.y + G.BOX_H / 2}`;
  } else {
    const mids = points.slice(1, -1).flat();
    const all = [{x: src.x, y: src.y + G.BOX_H}, ...mids, {x: dst.x, y: dst.y}];
    d = "M" + all.map((p) => `${p.x},${p.y}`).join(" L");
  }
  const colour = edge.taken ? (G.COLOURS[edge.event] || "#5b6b8c") : "#b8bfcc";
  return W.el("path", {d, fill: "none", stroke: colour, "stroke-width": edge.taken ? 2.4 : 1.2,
                       "stroke-dasharray": edge.taken ? null : "5 4",
                       "marker-end": `url(#arrow-${edge.taken ? edge.event : "none"})`,
                       class: "edge", "data-edge": `${edge.source}->${edge.target}`},
                  W.el("title", {text: `${edge.source} \u2192 ${edge.target} (${edge.event}` +
                                       `${edge.conditional ? ", guarded" : ""})`}));
};

G.markers = function () {
  const defs = W.el("defs");
  for (const [event, colour] of [...Object.entries(G.COLOURS), ["none", "#b8bfcc"]]) {
    defs.append(W.el("marker", {id: `arrow-${event}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
                                markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"},
                     W.el("path", {d: "M0,0 L10,5 L0,10 z", fill: colour})));
  }
  return defs;
};

G.render = function (graph, onSelect) {
  const nodes = Object.fromEntries(graph.nodes.map((n) => [n.name, n]));
  const width = G.PAD * 2 + Math.max(1, graph.width) * G.COL + 40;
  const height = G.PAD * 2 + graph.layers * G.ROW;
  const svg = W.el("svg", {width, height, viewBox: `0 0 ${width} ${height}`,
                           role: "img", "aria-label": `task graph of ${graph.workflow}`});
  svg.append(G.markers());
  for (const edge of graph.edges) svg.append(G.drawEdge(edge, nodes));
  for (const node of graph.nodes) {
    if (node.dummy) continue;
    const drawn = G.drawNode(node);
    if (onSelect) {
      drawn.addEventListener("click", () => onSelect(node.name));
      drawn.setAttribute("cursor", "pointer");
    }
    svg.append(drawn);
  }
  return svg;
};

G.legend = function () {
  const item = (cls, text) => W.el("span", {}, W.el("i", {class: cls}), text);
  return W.el("div", {class: "legend"},
    item("success", "on-success"), item("error", "on-error"), item("complete", "on-complete / requires"),
    item("dashed", "not taken"),
    W.el("span", {text: "\u2714 success  \u2718 error  \u25B6 running  \u23F8 waiting/paused  \u25A0 cancelled"}));
};

/* Fetch the laid-out graph of `definition` (+ the run's tasks) and draw it into `box`. */
G.show = async function (box, definition, workflow, tasks, onSelect) {
  const body = {definition, workflow};
  if (tasks) body.tasks = tasks.map((t) => ({...t, runtime_context: W.jsonField(t.runtime_context)}));
  try {
    const graph = await W.api("POST", "/v2/graphs", body);
    box.replaceChildren(W.el("div", {class: "graph"}, G.render(graph, onSelect)), G.legend());
  } catch (err) {
    box.replaceChildren(W.el("p", {class: "muted", text: `No graph: ${err.message}`}));
  }
};

/* A Gantt-like row per task, on one time axis from the execution's start. */
G.timeline = function (execution, tasks) {
  const exSpan = W.span(execution);
  const now = Date.now();
  const spans = tasks.map((t) => ({task: t, ...W.span(t)})).filter((s) => s.start !== null);
  if (!spans.length) return W.el("p", {class: "muted", text: "No task has started yet."});
  const t0 = Math.min(exSpan.start || Infinity, ...spans.map((s) => s.start));
  const t1 = Math.max(exSpan.end || 0, ...spans.map((s) => s.end || now));
  const total = Math.max(1, t1 - t0);
  spans.sort((a, b) => a.start - b.start || String(a.task.name).localeCompare(b.task.name));
  const rows = spans.map((s) => {
    const end = s.end === null ? now : s.end;
    const bar = W.el("div", {class: `tl-bar ${s.task.state}`,
                             title: `${s.task.name}: ${W.duration((end - s.start) / 1000)}`});
    bar.style.left = `${((s.start - t0) / total) * 100}%`;
    bar.style.width = `${Math.max(0.3, ((end - s.start) / total) * 100)}%`;
    return W.el("div", {class: "tl-row", "data-task": s.task.name},
      W.el("span", {class: "truncate", text: s.task.name}),
      W.el("div", {class: "tl-track"}, bar),
      W.el("span", {class: "muted", text: W.duration((end - s.start) / 1000) + (s.end === null ? "\u2026" : "")}));
  });
  return W.el("div", {class: "timeline"}, rows,
              W.el("div", {class: "muted", text: `0 \u2192 ${W.duration(total / 1000)}`}));
};
