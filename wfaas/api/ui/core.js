/* wfaas dashboard: shared helpers (API calls, DOM building, routing, formatting).
 * Every request goes to the REST API v2 with the caller's own token, so the API's
 * project rules apply to the page exactly as to the `mistral` client. No data is
 * ever put into the page as HTML: el() builds nodes and sets text. */
"use strict";

const W = {pages: {}, timers: [], token: sessionStorage.getItem("wfaas-token") || ""};

W.TERMINAL = new Set(["SUCCESS", "ERROR", "CANCELLED"]);

W.el = function (tag, attrs, ...children) {
  const svg = ["svg", "g", "rect", "path", "text", "line", "polyline", "title", "circle",
               "marker", "defs", "tspan"].includes(tag);
  const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
                   : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

/* replaceChildren / append without the "null" text they make of skipped parts. */
const present = (items) => items.flat().filter((c) => c !== null && c !== undefined && c !== false);
W.put = (node, ...children) => node.replaceChildren(...present(children));
W.add = (node, ...children) => node.append(...present(children));

W.flash = function (message, isError) {
  const box = document.getElementById("flash");
  box.textContent = message;
  box.className = "flash" + (isError ? " error" : "");
  clearTimeout(W.flashTimer);
  W.flashTimer = setTimeout(() => box.classList.add("hidden"), isError ? 9000 : 4000);
};

W.ApiError = class extends Error {
  constructor(status, message) { super(message); this.status = status; }
};

W.api = async function (method, path, body, contentType) {
  const headers = {"Accept": "application/json", "X-Wfaas-Precise-Times": "1"};
  if (W.token) headers["X-Auth-Token"] = W.token;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, {method, headers, body: payload});
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (response.status === 401) W.showLogin("The server asks for a Keystone token.");
  if (!response.ok) {
    const message = (data && (data.faultstring || data.message || data.error)) || text ||
                    response.statusText;
    throw new W.ApiError(response.status, `${response.status}: ${message}`);
  }
  return data;
};

/* Every item of a list endpoint, following its `next` links (at most `pages` pages). */
W.listAll = async function (path, key, pages) {
  const items = [];
  let url = path;
  for (let i = 0; url && i < (pages || 20); i++) {
    const data = await W.api("GET", url);
    items.push(...(data[key] || []));
    url = data.next ? (() => { const u = new URL(data.next, location.href); return u.pathname + u.search; })() : null;
  }
  return items;
};

W.jsonField = function (value) {
  if (typeof value !== "string") return value;
  try { return JSON.parse(value); } catch (e) { return value; }
};

W.pretty = function (value) {
  const parsed = W.jsonField(value);
  if (parsed === null || parsed === undefined || parsed === "") return "—";
  return typeof parsed === "string" ? parsed : JSON.stringify(parsed, null, 2);
};

W.parseTime = function (text) {
  if (!text) return null;
  const iso = String(text).replace(" ", "T");
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  return Number.isNaN(t) ? null : t;
};

W.duration = function (seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds % 3600 / 60)).padStart(2, "0")}m`;
};

W.span = function (item) {
  const start = W.parseTime(item.started_at) || W.parseTime(item.created_at);
  let end = W.parseTime(item.finished_at);
  if (end === null && W.TERMINAL.has(item.state)) end = W.parseTime(item.updated_at);
  return {start, end, live: end === null};
};

W.stateBadge = (state) => W.el("span", {class: `state ${state || ""}`, text: state || "—"});

W.table = function (columns, rows, onClick) {
  const head = W.el("tr", {}, columns.map((c) => W.el("th", {text: c.title})));
  const body = rows.map((row) => W.el("tr", {
    class: onClick ? "clickable" : null,
    onclick: onClick ? (ev) => { if (ev.target.tagName !== "A") onClick(row, ev); } : null,
  }, columns.map((c) => {
    const value = c.render ? c.render(row) : row[c.key];
    return W.el("td", {class: c.cls || null}, value instanceof Node ? value
                                                : (value === null || value === undefined ? "" : String(value)));
  })));
  if (!rows.length) body.push(W.el("tr", {}, W.el("td", {colspan: columns.length, class: "muted",
                                                         text: "Nothing here."})));
  return W.el("table", {}, W.el("thead", {}, head), W.el("tbody", {}, body));
};

W.link = (href, text) => W.el("a", {href}, text);

W.query = function (params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? "?" + parts.join("&") : "";
};

/* Re-run `fn` every `ms` while the page shown is the one that asked. */
W.every = function (ms, fn) {
  const id = setInterval(() => { if (!document.hidden) fn(); }, ms);
  W.timers.push(id);
  return id;
};

W.showLogin = function (note) {
  document.getElementById("login").classList.remove("hidden");
  document.getElementById("login-note").textContent = note || "";
};

W.setupLogin = function () {
  const form = document.getElementById("login-form");
  const input = document.getElementById("token");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    W.token = input.value.trim();
    sessionStorage.setItem("wfaas-token", W.token);
    input.value = "";
    document.getElementById("login").classList.add("hidden");
    W.route();
  });
  document.getElementById("token-clear").addEventListener("click", () => {
    W.token = "";
    sessionStorage.removeItem("wfaas-token");
    W.flash("Token forgotten.");
  });
  document.getElementById("token-button").addEventListener("click", () => W.showLogin(""));
};

W.route = async function () {
  W.timers.forEach(clearInterval);
  W.timers = [];
  const parts = (location.hash.replace(/^#\/?/, "") || "executions").split("/").map(decodeURIComponent);
  const [page, ...rest] = parts;
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", a.dataset.page === page);
  }
  const main = document.getElementById("main");
  const render = W.pages[page];
  main.replaceChildren();
  if (!render) {
    main.append(W.el("p", {class: "err-text", text: `No page ${page}.`}));
    return;
  }
  try {
    await render(main, ...rest);
  } catch (err) {
    main.append(W.el("p", {class: "err-text", text: `Could not load this page: ${err.message}`}));
  }
};

W.start = async function () {
  W.setupLogin();
  window.addEventListener("hashchange", W.route);
  try {
    const root = await W.api("GET", "/v2");
    document.getElementById("server").textContent = root && root.id ? `API ${root.id}` : "";
  } catch (err) { /* the page itself says what failed */ }
  W.route();
};

document.addEventListener("DOMContentLoaded", () => W.start());
