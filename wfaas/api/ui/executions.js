/* wfaas dashboard: the executions list and one execution (graph, timeline, tasks). */
"use strict";

const EX_STATES = ["", "RUNNING", "SUCCESS", "ERROR", "PAUSED", "CANCELLED", "IDLE"];

W.executionsQuery = function (filters, marker) {
  const params = {limit: 50, sort_keys: "created_at", sort_dirs: "desc", marker};
  if (filters.state) params.state = filters.state;
  if (filters.workflow) params.workflow_name = filters.workflow;
  if (filters.since) params.created_at = "gte:" + filters.since.replace("T", " ");
  if (filters.all) params.all_projects = "true";
  return "/v2/executions" + W.query(params);
};

W.pages.executions = async function (main, id) {
  if (id) return W.pages.execution(main, id);
  const saved = JSON.parse(sessionStorage.getItem("wfaas-ex-filters") || "{}");
  const filters = {state: "", workflow: "", since: "", all: false, live: true, ...saved};
  const markers = [null];
  const results = W.el("div");
  const pager = W.el("div", {class: "pager"});
  const field = (key) => (ev) => {
    filters[key] = ev.target.type === "checkbox" ? ev.target.checked : ev.target.value;
    sessionStorage.setItem("wfaas-ex-filters", JSON.stringify(filters));
    markers.splice(1);
    load();
  };
  const form = W.el("form", {class: "filters", onsubmit: (ev) => ev.preventDefault()},
    W.el("label", {}, "State", W.el("select", {name: "state", onchange: field("state")},
      EX_STATES.map((s) => W.el("option", {value: s, selected: s === filters.state}, s || "any")))),
    W.el("label", {}, "Workflow", W.el("input", {name: "workflow", value: filters.workflow,
                                                  placeholder: "name", onchange: field("workflow")})),
    W.el("label", {}, "Created since", W.el("input", {type: "datetime-local", name: "since",
                                                       value: filters.since, onchange: field("since")})),
    W.el("label", {class: "inline"}, W.el("input", {type: "checkbox", name: "all",
                                                     checked: filters.all, onchange: field("all")}),
         "all projects (admin)"),
    W.el("label", {class: "inline"}, W.el("input", {type: "checkbox", name: "live",
                                                     checked: filters.live, onchange: field("live")}),
         "live"));
  main.append(W.el("h1", {text: "Executions"}), form, results, pager);

  async function load() {
    const marker = markers[markers.length - 1];
    let data;
    try {
      data = await W.api("GET", W.executionsQuery(filters, marker));
    } catch (err) {
      results.replaceChildren(W.el("p", {class: "err-text", text: err.message}));
      return;
    }
    const rows = data.executions || [];
    results.replaceChildren(W.table([
      {title: "Workflow", render: (r) => W.link(`#/executions/${r.id}`, r.workflow_name)},
      {title: "State", render: (r) => W.stateBadge(r.state)},
      {title: "Info", render: (r) => W.el("div", {class: "truncate", text: r.state_info || ""})},
      {title: "Created", key: "created_at"},
      {title: "Duration", render: (r) => { const s = W.span(r); return W.duration(((s.end || Date.now()) - s.start) / 1000); }},
      {title: "Id", key: "id", cls: "id"},
    ], rows, (r) => { location.hash = `#/executions/${r.id}`; }));
    const nextMarker = data.next ? new URL(data.next, location.href).searchParams.get("marker") : null;
    pager.replaceChildren(
      W.el("button", {class: "secondary small", disabled: markers.length < 2,
                      onclick: () => { markers.pop(); load(); }}, "\u2190 newer"),
      W.el("span", {class: "muted", text: `page ${markers.length}`}),
      W.el("button", {class: "secondary small", disabled: !nextMarker,
                      onclick: () => { markers.push(nextMarker); load(); }}, "older \u2192"));
  }
  await load();
  W.every(2000, () => { if (filters.live) load(); });
};

W.setExecutionState = async function (id, state) {
  try {
    await W.api("PUT", `/v2/executions/${id}`, {state});
    W.flash(`Execution ${state === "RUNNING" ? "resumed" : state.toLowerCase()}.`);
  } catch (err) { W.flash(err.message, true); }
  W.route();
};

W.executionHeader = function (ex, parentTask) {
  const act = (label, state, cls) => W.el("button", {class: cls || "secondary", "data-action": state,
                                                      onclick: () => W.setExecutionState(ex.id, state)}, label);
  const buttons = W.el("div", {class: "toolbar"},
    ex.state === "RUNNING" ? act("Pause", "PAUSED") : null,
    ex.state === "PAUSED" ? act("Resume", "RUNNING") : null,
    ["RUNNING", "PAUSED", "IDLE"].includes(ex.state) ? act("Cancel", "CANCELLED", "danger") : null);
  const s = W.span(ex);
  return W.el("div", {class: "panel"},
    W.el("h1", {}, W.stateBadge(ex.state), " ", ex.workflow_name, " ",
         W.el("span", {class: "muted mono", text: ex.id})),
    W.el("div", {class: "grid"},
      W.el("div", {text: "workflow"}), W.el("div", {}, W.link(`#/workflows/${ex.workflow_id}`, ex.workflow_name)),
      W.el("div", {text: "started / updated"}), W.el("div", {text: `${ex.created_at} / ${ex.updated_at}`}),
      W.el("div", {text: "duration"}), W.el("div", {text: W.duration(((s.end || Date.now()) - s.start) / 1000)}),
      parentTask ? W.el("div", {text: "parent"}) : null,
      parentTask ? W.el("div", {}, W.link(`#/executions/${parentTask.workflow_execution_id}`,
                                          `task ${parentTask.name} of its parent execution`)) : null,
      W.el("div", {text: "state info"}), W.el("div", {class: ex.state === "ERROR" ? "err-text" : "",
                                                       text: ex.state_info || "—"})),
    buttons);
};

W.taskDetail = async function (box, task) {
  box.replaceChildren(W.el("p", {class: "muted", text: `Loading ${task.name}\u2026`}));
  const [full, actions, subs] = await Promise.all([
    W.api("GET", `/v2/tasks/${task.id}`),
    task.type === "WORKFLOW" ? Promise.resolve({action_executions: []})
                             : W.api("GET", `/v2/tasks/${task.id}/action_executions`),
    task.type === "WORKFLOW" ? W.api("GET", `/v2/executions${W.query({task_execution_id: task.id})}`)
                             : Promise.resolve({executions: []}),
  ]);
  const rerun = full.state === "ERROR" ? W.el("button", {class: "small", "data-action": "rerun", onclick: async () => {
    try {
      await W.api("PUT", `/v2/tasks/${task.id}`, {state: "RUNNING", reset: true});
      W.flash(`Task ${task.name} re-run.`);
    } catch (err) { W.flash(err.message, true); }
    W.route();
  }}, "Rerun") : null;
  const items = full.runtime_context ? W.jsonField(full.runtime_context) : null;
  const wi = items && (items.wi || items.with_items);
  W.put(box,
    W.el("h2", {}, W.stateBadge(full.state), " ", full.name, " ", rerun),
    W.el("div", {class: "grid"},
      W.el("div", {text: "type"}), W.el("div", {text: full.type}),
      W.el("div", {text: "duration"}), W.el("div", {text: (() => { const s = W.span(full); return W.duration(((s.end || Date.now()) - s.start) / 1000); })()}),
      wi ? W.el("div", {text: "with-items"}) : null,
      wi ? W.el("div", {text: wi.ok !== undefined ? `${wi.ok} ok, ${wi.err} failed, ${wi.running} running of ${wi.count}` : `${wi.count} items`}) : null,
      W.el("div", {text: "state info"}), W.el("div", {class: full.state === "ERROR" ? "err-text" : "", text: full.state_info || "—"})),
    W.el("h2", {text: "Published"}), W.el("pre", {text: W.pretty(full.published)}),
    W.el("h2", {text: "Result"}), W.el("pre", {text: W.pretty(full.result)}),
    (actions.action_executions || []).length ? W.el("h2", {text: "Action executions"}) : null,
    (actions.action_executions || []).length ? W.table([
      {title: "Action", key: "name"}, {title: "State", render: (r) => W.stateBadge(r.state)},
      {title: "Input", render: (r) => W.el("pre", {text: W.pretty(r.input)})},
      {title: "Output", render: (r) => W.el("pre", {text: W.pretty(r.output)})},
    ], actions.action_executions) : null,
    (subs.executions || []).length ? W.el("h2", {text: "Sub-workflow executions"}) : null,
    (subs.executions || []).length ? W.table([
      {title: "Workflow", render: (r) => W.link(`#/executions/${r.id}`, r.workflow_name)},
      {title: "State", render: (r) => W.stateBadge(r.state)}, {title: "Id", key: "id", cls: "id"},
    ], subs.executions) : null);
};

W.pages.execution = async function (main, id) {
  const header = W.el("div");
  const graphBox = W.el("div");
  const timelineBox = W.el("div");
  const tasksBox = W.el("div");
  const detail = W.el("div", {class: "panel", id: "task-detail"},
                      W.el("p", {class: "muted", text: "Select a task in the graph or the table."}));
  const io = W.el("div");
  main.append(header,
    W.el("div", {class: "split"},
      W.el("div", {}, W.el("h2", {text: "Graph"}), graphBox, W.el("h2", {text: "Timeline"}), timelineBox,
           W.el("h2", {text: "Tasks"}), tasksBox, io),
      W.el("div", {}, detail)));
  let definition = null;
  let selected = null;
  let lastSignature = "";
  const select = (tasks) => (name) => {
    const task = tasks.filter((t) => t.name === name).pop();
    if (task) { selected = task.id; W.taskDetail(detail, task).catch((e) => W.flash(e.message, true)); }
  };

  async function load() {
    const ex = await W.api("GET", `/v2/executions/${id}`);
    const tasks = (await W.api("GET", `/v2/executions/${id}/tasks`)).tasks || [];
    const parent = ex.task_execution_id ? await W.api("GET", `/v2/tasks/${ex.task_execution_id}`).catch(() => null) : null;
    const signature = JSON.stringify([ex.state, ex.updated_at, tasks.map((t) => [t.id, t.state, t.updated_at, t.runtime_context])]);
    if (signature === lastSignature) return ex;
    lastSignature = signature;
    header.replaceChildren(W.executionHeader(ex, parent));
    if (definition === null) {
      const wf = await W.api("GET", `/v2/workflows/${ex.workflow_id}`).catch(() => null);
      definition = wf ? wf.definition : "";
    }
    if (definition) await G.show(graphBox, definition, ex.workflow_name, tasks, select(tasks));
    timelineBox.replaceChildren(G.timeline(ex, tasks));
    tasksBox.replaceChildren(W.table([
      {title: "Task", key: "name"}, {title: "State", render: (r) => W.stateBadge(r.state)},
      {title: "Type", key: "type"},
      {title: "Duration", render: (r) => { const s = W.span(r); return s.start ? W.duration(((s.end || Date.now()) - s.start) / 1000) : ""; }},
      {title: "Info", render: (r) => W.el("div", {class: "truncate", text: r.state_info || ""})},
    ], tasks, (r) => select(tasks)(r.name)));
    io.replaceChildren(W.el("h2", {text: "Input"}), W.el("pre", {text: W.pretty(ex.input)}),
                       W.el("h2", {text: "Output"}), W.el("pre", {text: W.pretty(ex.output)}));
    if (selected) {
      const task = tasks.find((t) => t.id === selected);
      if (task) W.taskDetail(detail, task).catch(() => {});
    }
    return ex;
  }
  const ex = await load();
  if (!W.TERMINAL.has(ex.state)) {
    const timer = W.every(1000, async () => {
      try {
        const now = await load();
        if (W.TERMINAL.has(now.state)) clearInterval(timer);
      } catch (err) { /* shown on the next successful load */ }
    });
  }
};
