/* wfaas dashboard: workflows (source, validation, graph, start form), workbooks, actions,
 * cron and event triggers, environments. */
"use strict";

W.source = function (text, badLines) {
  const bad = new Set(badLines || []);
  return W.el("pre", {class: "source"},
              String(text || "").split("\n").map((line, i) => W.el("span", {class: bad.has(i + 1) ? "bad" : null, text: line || " "})));
};

/* Validation answer -> list of problems (Mistral: {valid, error}; wfaas adds line numbers). */
W.problems = function (answer) {
  if (!answer || answer.valid) return [];
  const text = String(answer.error || "invalid");
  return text.split("\n").filter((l) => l.trim());
};

W.validateBox = function (kind, text) {
  const out = W.el("div");
  const button = W.el("button", {class: "secondary", "data-action": "validate", onclick: async () => {
    try {
      const answer = await W.api("POST", `/v2/${kind}/validate`, text, "text/plain");
      const problems = W.problems(answer);
      const lines = problems.map((p) => Number((p.match(/line (\d+)/) || [])[1])).filter(Boolean);
      out.replaceChildren(problems.length
        ? W.el("ul", {class: "problems"}, problems.map((p) => W.el("li", {text: p})))
        : W.el("p", {class: "ok-text", text: "Valid."}));
      out.dataset.lines = lines.join(",");
    } catch (err) { out.replaceChildren(W.el("p", {class: "err-text", text: err.message})); }
  }}, "Validate");
  return W.el("div", {}, button, out);
};

/* The workflow's input as form fields: [name, {name: default}, ...] from `interface`. */
W.inputFields = function (wf) {
  const iface = W.jsonField(wf.interface) || {};
  const spec = iface.input || [];
  return spec.map((item) => {
    if (typeof item === "string") return {name: item, required: true, value: ""};
    const [name, value] = Object.entries(item)[0];
    return {name, required: false, value: JSON.stringify(value)};
  });
};

W.parseValue = function (text) {
  try { return JSON.parse(text); } catch (e) { return text; }
};

W.startForm = async function (wf) {
  const fields = W.inputFields(wf);
  const envs = await W.api("GET", "/v2/environments").catch(() => ({environments: []}));
  const inputs = fields.map((f) => W.el("label", {}, `${f.name}${f.required ? " *" : ""}`,
    W.el("input", {name: f.name, "data-input": f.name, value: f.value, required: f.required,
                   placeholder: f.required ? "required (JSON or text)" : "default"})));
  const env = W.el("select", {name: "env"}, W.el("option", {value: ""}, "no environment"),
                   (envs.environments || []).map((e) => W.el("option", {value: e.name}, e.name)));
  const description = W.el("input", {name: "description", placeholder: "optional"});
  const form = W.el("form", {class: "filters", id: "start-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const input = {};
    fields.forEach((f, i) => {
      const text = inputs[i].querySelector("input").value;
      if (text !== "" || f.required) input[f.name] = W.parseValue(text);
    });
    const body = {workflow_id: wf.id, input: JSON.stringify(input), description: description.value};
    if (env.value) body.params = JSON.stringify({env: env.value});
    try {
      const ex = await W.api("POST", "/v2/executions", body);
      location.hash = `#/executions/${ex.id}`;
    } catch (err) { W.flash(err.message, true); }
  }}, inputs, W.el("label", {}, "Environment", env), W.el("label", {}, "Description", description),
     W.el("button", {type: "submit"}, "Start"));
  return W.el("div", {class: "panel"}, W.el("h2", {text: "Start an execution"}), form);
};

W.pages.workflows = async function (main, id) {
  if (id) return W.pages.workflow(main, id);
  const data = await W.api("GET", "/v2/workflows?limit=1000&sort_keys=name&sort_dirs=asc");
  main.append(W.el("h1", {text: "Workflows"}), W.table([
    {title: "Name", render: (r) => W.link(`#/workflows/${r.id}`, r.name)},
    {title: "Namespace", key: "namespace"}, {title: "Scope", key: "scope"},
    {title: "Input", key: "input"}, {title: "Tags", render: (r) => (r.tags || []).join(", ")},
    {title: "Updated", render: (r) => r.updated_at || r.created_at},
  ], data.workflows || [], (r) => { location.hash = `#/workflows/${r.id}`; }));
};

W.pages.workflow = async function (main, id) {
  const wf = await W.api("GET", `/v2/workflows/${encodeURIComponent(id)}`);
  const graphBox = W.el("div");
  main.append(W.el("h1", {}, wf.name, " ", W.el("span", {class: "muted", text: wf.namespace ? `(${wf.namespace})` : ""})),
    await W.startForm(wf),
    W.el("div", {class: "split"},
      W.el("div", {}, W.el("h2", {text: "Graph"}), graphBox),
      W.el("div", {}, W.el("h2", {text: "Source"}), W.validateBox("workflows", wf.definition),
           W.source(wf.definition))));
  await G.show(graphBox, wf.definition, wf.name, null, null);
};

W.pages.workbooks = async function (main, name) {
  if (name) {
    const wb = await W.api("GET", `/v2/workbooks/${encodeURIComponent(name)}`);
    main.append(W.el("h1", {text: `Workbook ${wb.name}`}), W.validateBox("workbooks", wb.definition),
                W.source(wb.definition));
    return;
  }
  const data = await W.api("GET", "/v2/workbooks?limit=1000");
  main.append(W.el("h1", {text: "Workbooks"}), W.table([
    {title: "Name", render: (r) => W.link(`#/workbooks/${encodeURIComponent(r.name)}`, r.name)},
    {title: "Namespace", key: "namespace"}, {title: "Scope", key: "scope"},
    {title: "Tags", render: (r) => (r.tags || []).join(", ")}, {title: "Created", key: "created_at"},
  ], data.workbooks || []));
};

/* `a, b=1, c=null` -> [{name, default, required}] (Mistral's input string). */
W.parseParams = function (text) {
  const out = [];
  let depth = 0, current = "";
  for (const ch of String(text || "")) {
    if ("[{(".includes(ch)) depth++;
    if ("]})".includes(ch)) depth--;
    if (ch === "," && depth === 0) { out.push(current); current = ""; } else current += ch;
  }
  if (current.trim()) out.push(current);
  return out.map((p) => p.trim()).filter(Boolean).map((p) => {
    const at = p.indexOf("=");
    return at < 0 ? {name: p, required: !p.startsWith("*"), default: ""}
                  : {name: p.slice(0, at).trim(), required: false, default: p.slice(at + 1).trim()};
  });
};

/* An action's input JSON Schema -> [{name, required, type, default}] (required first). */
W.schemaParams = function (schema) {
  const props = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  return Object.entries(props).map(([name, prop]) => ({
    name, required: required.has(name),
    type: [].concat(prop.type || []).filter((t) => t !== "null").join(", "),
    default: "default" in prop ? JSON.stringify(prop.default) : "",
  })).sort((a, b) => Number(b.required) - Number(a.required));
};

W.pages.actions = async function (main, name) {
  if (name) {
    const fields = "name,input,description,definition,params_schema";
    const action = await W.api("GET", `/v2/actions/${encodeURIComponent(name)}?fields=${fields}`);
    const schema = action.params_schema ? W.jsonField(action.params_schema) : null;
    const params = schema ? W.schemaParams(schema) : W.parseParams(action.input);
    W.add(main, W.el("h1", {text: action.name}),
      W.el("div", {class: "panel"}, W.el("pre", {text: action.description || "(no description)"})),
      W.el("h2", {text: "Input"}), W.table([
        {title: "Parameter", key: "name", cls: "mono"}, {title: "Required", render: (r) => (r.required ? "yes" : "")},
        {title: "Type", key: "type"}, {title: "Default", key: "default", cls: "mono"}], params),
      schema && schema.additionalProperties ? W.el("p", {text: "Other keys are accepted too."}) : null,
      schema ? W.el("h2", {text: "Input JSON Schema"}) : null,
      schema ? W.el("pre", {class: "schema", text: JSON.stringify(schema, null, 2)}) : null,
      action.definition ? W.el("h2", {text: "Definition"}) : null,
      action.definition ? W.source(action.definition) : null);
    return;
  }
  const all = await W.listAll("/v2/actions?limit=1000&sort_keys=name&sort_dirs=asc", "actions");
  const results = W.el("div");
  const show = (filter) => results.replaceChildren(W.table([
    {title: "Name", render: (r) => W.link(`#/actions/${encodeURIComponent(r.name)}`, r.name)},
    {title: "Input", render: (r) => W.el("div", {class: "truncate mono", text: r.input || ""})},
    {title: "Description", render: (r) => W.el("div", {class: "truncate", text: (r.description || "").split("\n")[0]})},
  ], all.filter((a) => a.name.includes(filter)).slice(0, 300)));
  main.append(W.el("h1", {text: `Actions (${all.length})`}),
    W.el("form", {class: "filters", onsubmit: (ev) => ev.preventDefault()},
      W.el("label", {}, "Filter", W.el("input", {name: "filter", placeholder: "std.", oninput: (ev) => show(ev.target.value)}))),
    results);
  show("");
};

W.simpleList = function (title, path, key, columns, detailHash) {
  return async function (main, name) {
    if (name && detailHash) {
      const item = await W.api("GET", `${path}/${encodeURIComponent(name)}`);
      main.append(W.el("h1", {text: `${title}: ${item.name || name}`}),
        W.el("div", {class: "grid panel"}, Object.entries(item).flatMap(([k, v]) => [
          W.el("div", {text: k}), W.el("pre", {text: W.pretty(v)})])));
      return;
    }
    const data = await W.api("GET", `${path}?limit=1000`);
    main.append(W.el("h1", {text: title}), W.table(columns, data[key] || [],
      detailHash ? (r) => { location.hash = `${detailHash}/${encodeURIComponent(r.name || r.id)}`; } : null));
  };
};

W.pages.cron_triggers = W.simpleList("Cron triggers", "/v2/cron_triggers", "cron_triggers", [
  {title: "Name", key: "name"}, {title: "Workflow", key: "workflow_name"}, {title: "Pattern", key: "pattern", cls: "mono"},
  {title: "Next run", key: "next_execution_time"}, {title: "Remaining", key: "remaining_executions"},
  {title: "Scope", key: "scope"}], "#/cron_triggers");
W.pages.event_triggers = W.simpleList("Event triggers", "/v2/event_triggers", "event_triggers", [
  {title: "Name", key: "name"}, {title: "Workflow", key: "workflow_id", cls: "id"}, {title: "Exchange", key: "exchange"},
  {title: "Topic", key: "topic"}, {title: "Event", key: "event"}, {title: "Scope", key: "scope"}], null);
W.pages.environments = W.simpleList("Environments", "/v2/environments", "environments", [
  {title: "Name", key: "name"}, {title: "Description", key: "description"}, {title: "Scope", key: "scope"},
  {title: "Updated", render: (r) => r.updated_at || r.created_at}], "#/environments");
