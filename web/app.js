// app.js — roost ui's small framework: the JSON API client, element building, formatting, the
// #fragment router and the timers of the live views (stopped when the view changes).
"use strict";
const App = (() => {
  const pages = {};
  let timers = [];
  let token = sessionStorage.getItem("roost-token") || "";

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (options.method === "POST") headers["X-Roost-Token"] = token;
    const res = await fetch(path, Object.assign({}, options, { headers }));
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    return body;
  }

  // el("td", {class: "x"}, "text" | node | [nodes]).
  function el(tag, attrs = {}, children = []) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "onclick" || k === "onchange" || k === "oninput") n[k] = v;
      else if (v !== undefined && v !== null) n.setAttribute(k, v);
    }
    for (const c of [].concat(children)) n.append(c instanceof Node ? c : String(c ?? ""));
    return n;
  }

  const pad = (n) => String(n).padStart(2, "0");
  function time(seconds) {
    if (seconds == null) return "-";
    const d = new Date(seconds * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
  function duration(s) {
    if (s == null) return "-";
    s = Math.round(s);
    return s >= 3600 ? `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${pad(s % 60)}s` : `${s}s`;
  }
  const num = (v, digits = 4) => (v == null ? "-" : Number(v).toFixed(digits));
  const fileUrl = (path, download) => `/files?path=${encodeURIComponent(path)}${download ? "&download=1" : ""}`;
  const status = (s) => el("span", { class: `status status-${s}` }, s);
  const terminal = (s) => ["Completed", "Failed", "Canceled"].includes(s);

  function every(ms, fn) { timers.push(setInterval(fn, ms)); }

  async function route() {
    timers.forEach(clearInterval);
    timers = [];
    const hash = location.hash.replace(/^#/, "") || "/";
    const m = hash.match(/^token=([0-9a-f]+)$/);
    if (m) {  // the address roost ui printed with --allow-actions
      token = m[1];
      sessionStorage.setItem("roost-token", token);
      history.replaceState(null, "", "#/");
      return route();
    }
    const [path, query] = hash.split("?");
    const params = new URLSearchParams(query || "");
    // A fresh element per view: what a page still loading for an earlier address appends later
    // lands in its own, detached one.
    const view = el("div");
    document.getElementById("view").replaceChildren(view);
    const found = Object.entries(pages).map(([re, page]) => [path.match(new RegExp(`^${re}$`)), page]).find((e) => e[0]);
    try {
      if (!found) throw new Error(`no page ${path}`);
      await found[1](view, found[0].slice(1), params);
    } catch (e) {
      view.append(el("p", { class: "error" }, e.message));
    }
  }

  async function start() {
    const config = await api("/api/config");
    App.config = config;
    document.getElementById("workspace").textContent = config.workspace;
    window.addEventListener("hashchange", route);
    route();
  }

  return { pages, api, el, time, duration, num, fileUrl, status, terminal, every, start, config: {} };
})();
