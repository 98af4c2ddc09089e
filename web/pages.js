// pages.js — the views of roost ui: runs (by experiment, sortable, filterable), one run (live
// curves and logs, history, files, actions), compare runs on one chart, the models, and the
// sweeps (their list; one sweep's trials, its metric per epoch and best metric per parameter).
"use strict";
(() => {
  const { api, el, time, duration, num, fileUrl, status, terminal, every, pages } = App;

  // --- runs ------------------------------------------------------------------------------
  const columns = [
    ["id", "Run"], ["experiment", "Experiment"], ["status", "Status"], ["target", "Target"], ["np", "Ranks"],
    ["started_at", "Started (UTC)"], ["duration_s", "Duration"], ["epochs", "Epochs"], ["best_val_acc", "Best val_acc"],
  ];
  const cell = {
    id: (r) => el("a", { href: `#/runs/${r.id}` }, `#${r.id}`), status: (r) => status(r.status),
    started_at: (r) => time(r.started_at), duration_s: (r) => duration(r.duration_s), best_val_acc: (r) => num(r.best_val_acc),
  };

  function runRows(runs, state) {
    const shown = runs.filter((r) => (!state.experiment || r.experiment === state.experiment) &&
      (!state.filter || JSON.stringify([r.id, r.experiment, r.status, r.target]).toLowerCase().includes(state.filter)));
    const [key, dir] = state.sort;
    shown.sort((a, b) => ((a[key] ?? -Infinity) > (b[key] ?? -Infinity) ? 1 : (a[key] ?? -Infinity) < (b[key] ?? -Infinity) ? -1 : 0) * dir);
    return shown.map((r) => el("tr", { "data-run-id": r.id, "data-status": r.status }, [
      el("td", {}, el("input", { type: "checkbox", class: "pick", value: r.id, ...(state.picked.has(r.id) ? { checked: "" } : {}),
        onchange: (e) => (e.target.checked ? state.picked.add(r.id) : state.picked.delete(r.id)) })),
      ...columns.map(([k]) => el("td", { class: `col-${k}` }, cell[k] ? cell[k](r) : r[k])),
    ]));
  }

  pages["/"] = async (view) => {
    const state = { experiment: "", filter: "", sort: ["id", -1], picked: new Set(), runs: (await api("/api/runs")).runs };
    const experiments = [...new Set(state.runs.map((r) => r.experiment))].sort();
    const body = el("tbody");
    const redraw = () => body.replaceChildren(...runRows(state.runs, state));
    const head = columns.map(([k, label]) => el("th", { class: "sortable", "data-key": k, onclick: (e) => {
      state.sort = [k, state.sort[0] === k ? -state.sort[1] : 1];
      head.forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
      e.target.classList.add(state.sort[1] > 0 ? "sorted-asc" : "sorted-desc");
      redraw();
    } }, label));
    view.append(el("h2", {}, "Runs"), el("div", { class: "toolbar" }, [
      el("select", { id: "experiment", onchange: (e) => { state.experiment = e.target.value; redraw(); } },
        [el("option", { value: "" }, "all experiments"), ...experiments.map((x) => el("option", { value: x }, x))]),
      el("input", { id: "filter", placeholder: "filter", oninput: (e) => { state.filter = e.target.value.toLowerCase(); redraw(); } }),
      el("button", { id: "compare", onclick: () => { location.hash = `#/compare?ids=${[...state.picked].join(",")}`; } }, "Compare selected"),
    ]), el("table", { id: "runs" }, [el("thead", {}, el("tr", {}, [el("th"), ...head])), body]));
    redraw();
    every(3000, async () => { state.runs = (await api("/api/runs")).runs; redraw(); });
  };

  const paramsText = (p) => Object.entries(p || {}).map(([k, v]) => `${k}=${v}`).join(" ");

  // --- one run ---------------------------------------------------------------------------
  const series = (rows, key) => ({ label: key, xs: rows.map((r) => r.epoch), ys: rows.map((r) => r[key] ?? null) });
  function drawCharts(box, rows) {
    const charts = [
      ["chart-acc", "Accuracy", ["train_acc", "val_acc"]], ["chart-loss", "Loss", ["train_loss", "val_loss"]],
      ["chart-speed", "Throughput (images/s)", ["images_per_sec"]],
      ["chart-time", "Time per epoch (s)", ["epoch_time_s", "allreduce_s", "data_wait_s"]],
    ];
    for (const [id, title, keys] of charts) {
      const c = box.querySelector(`#${id}`) || box.appendChild(el("div", { class: "chart", id }));
      RoostChart.draw(c, { title, series: keys.map((k) => series(rows, k)) });
    }
  }

  function infoTable(run) {
    const rows = [["Experiment", run.experiment], ["Status", status(run.status)], ["Target", run.target], ["Ranks", run.np],
      ["Started (UTC)", time(run.started_at)], ["Duration", duration(run.duration_s)], ["Epochs", run.epochs],
      ["Best val_acc", num(run.best_val_acc)], ["Command", el("code", {}, run.command || "-")],
      ["Options", el("code", {}, Array.isArray(run.train_args) ? run.train_args.join(" ") : String(run.train_args))],
      ["Folder", el("code", {}, run.run_dir)]];
    if (run.sweep) {
      rows.push(["Sweep", el("span", { id: "sweep-of-run" }, [el("a", { href: `#/sweeps/${run.sweep.sweep}` }, `sweep #${run.sweep.sweep}`),
        `, trial ${run.sweep.trial}: ${paramsText(run.sweep.params)}`])]);
    }
    if (run.restarts > 0) rows.push(["Restarts", el("span", { id: "restarts" }, `${run.restarts} (see the status history)`)]);
    if (run.exit_code != null) rows.push(["Exit code", run.exit_code]);
    if (run.message) rows.push(["Message", run.message]);
    if (run.monitor_stale) rows.push(["Warning", "its monitor is not running: the status may be stale"]);
    return el("table", { id: "info" }, rows.map(([k, v]) => el("tr", {}, [el("th", {}, k), el("td", {}, v)])));
  }

  const historyTable = (run) => el("table", { id: "history" }, run.history.map((e) =>
    el("tr", {}, [el("td", {}, time(e.at)), el("td", {}, status(e.status)), el("td", {}, e.note)])));

  function logPanel(run) {
    const pre = el("pre", { class: "log", id: "log" });
    const state = { stream: "rank", rank: 0, next: null };
    const reset = () => { pre.textContent = ""; state.next = null; poll(); };
    const poll = async () => {
      const q = `stream=${state.stream}&rank=${state.rank}` + (state.next == null ? "" : `&offset=${state.next}`);
      const chunk = await api(`/api/runs/${run.id}/log?${q}`).catch((e) => ({ text: e.message + "\n", next: null }));
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(chunk.text);
      state.next = chunk.next;
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    };
    const ranks = [...Array(run.np).keys()].map((r) => el("option", { value: r }, `rank ${r}`));
    const bar = el("div", { class: "toolbar" }, [
      el("select", { id: "log-stream", onchange: (e) => { state.stream = e.target.value; reset(); } },
        [["rank", "stdout/stderr"], ["train", "roost train's log"], ["driver", "launcher"]].map(([v, t]) => el("option", { value: v }, t))),
      el("select", { id: "log-rank", onchange: (e) => { state.rank = Number(e.target.value); reset(); } }, ranks)]);
    poll();
    every(2000, poll);
    return [el("h3", {}, "Logs"), bar, pre];
  }

  async function filesList(run) {
    const { files } = await api(`/api/runs/${run.id}/files`);
    const png = files.find((f) => f.name.endsWith("training_curves.png"));
    return [el("h3", {}, "Outputs and checkpoints"), el("ul", { id: "files" }, files.map((f) =>
      el("li", {}, [el("a", { href: fileUrl(f.path) }, f.name), ` (${f.size} bytes)`]))),
    ...(png ? [el("h3", {}, "Training curves (PNG)"), el("img", { class: "curves", src: fileUrl(png.path) })] : [])];
  }

  function actions(run, refresh) {
    if (!App.config.actions) return [];
    const msg = el("span", { id: "action-result" });
    const act = (fn) => async () => { try { msg.textContent = await fn(); refresh(); } catch (e) { msg.textContent = e.message; } };
    const name = el("input", { id: "model-name", placeholder: "model name" });
    return [el("h3", {}, "Actions"), el("div", { class: "toolbar" }, [
      el("button", { id: "cancel", onclick: act(async () => { await api(`/api/runs/${run.id}/cancel`, { method: "POST", body: "{}" }); return "canceled"; }) }, "Cancel run"),
      name, el("button", { id: "register", onclick: act(async () => {
        const m = await api("/api/models", { method: "POST", body: JSON.stringify({ run_id: run.id, name: name.value }) });
        return `registered ${m.name} version ${m.version}`;
      }) }, "Register model"), msg])];
  }

  pages["/runs/(\\d+)"] = async (view, [id]) => {
    let run = await api(`/api/runs/${id}`);
    const top = el("div");
    const charts = el("div", { class: "charts", id: "charts" });
    const render = () => top.replaceChildren(el("h2", {}, `Run #${run.id} `, ), infoTable(run), el("h3", {}, "Status history"), historyTable(run));
    render();
    drawCharts(charts, run.metrics);
    view.append(top, el("h3", {}, "Metrics per epoch"), charts, ...actions(run, async () => { run = await api(`/api/runs/${id}`); render(); }),
      ...logPanel(run), ...(await filesList(run)));
    every(2000, async () => {
      if (terminal(run.status)) return;
      run = await api(`/api/runs/${id}`);
      render();
      drawCharts(charts, run.metrics);
    });
  };

  // --- compare ---------------------------------------------------------------------------
  pages["/compare"] = async (view, _, params) => {
    const ids = (params.get("ids") || "").split(",").filter((x) => /^\d+$/.test(x));
    if (ids.length < 2 || ids.length > 5) throw new Error("pick 2 to 5 runs on the run list to compare");
    const runs = await Promise.all(ids.map((i) => api(`/api/runs/${i}`)));
    const box = el("div", { class: "charts" });
    view.append(el("h2", {}, `Compare runs ${ids.map((i) => `#${i}`).join(", ")}`), box);
    for (const [key, title] of [["val_acc", "val_acc"], ["train_loss", "train_loss"]]) {
      const c = box.appendChild(el("div", { class: "chart", id: `compare-${key}` }));
      RoostChart.draw(c, { title, series: runs.map((r) => ({ ...series(r.metrics, key), label: `#${r.id} ${r.experiment}` })) });
    }
  };

  // --- models ----------------------------------------------------------------------------
  pages["/models"] = async (view) => {
    const { models } = await api("/api/models");
    view.append(el("h2", {}, "Models"), el("table", { id: "models" }, [
      el("tr", {}, ["Name", "Version", "Source run", "Best val_acc", "SHA-256", "Size", "Registered (UTC)", "Download"].map((h) => el("th", {}, h))),
      ...models.map((m) => el("tr", { "data-model": `${m.name}:${m.version}` }, [m.name, m.version,
        el("a", { href: `#/runs/${m.run_id}` }, `#${m.run_id}`), num(m.metrics && m.metrics.best_val_acc), el("code", {}, m.sha256),
        m.size, time(m.created_at), el("span", {}, [el("a", { href: fileUrl(m.path, true) }, "h5"),
          ...m.files.map((f) => el("span", {}, [" ", el("a", { href: fileUrl(f.path, true) }, f.format)]))])].map((v) => el("td", {}, v)))),
    ]));
  };

  // --- sweeps ----------------------------------------------------------------------------
  pages["/sweeps"] = async (view) => {
    const { sweeps } = await api("/api/sweeps");
    view.append(el("h2", {}, "Sweeps"), el("table", { id: "sweeps" }, [
      el("tr", {}, ["Sweep", "Experiment", "Status", "Trials", "Sampling", "Policy", "Best", "Created (UTC)"].map((h) => el("th", {}, h))),
      ...sweeps.map((s) => el("tr", { "data-sweep-id": s.id, "data-status": s.status }, [
        el("a", { href: `#/sweeps/${s.id}` }, `#${s.id}`), s.experiment,
        el("span", {}, [status(s.status), s.driver_stale ? " (its driver is gone: roost sweep --resume)" : ""]),
        s.trials, s.sampling, s.policy, `${s.metric} ${num(s.best)} (${s.goal})`, time(s.created_at)].map((v) => el("td", {}, v)))),
    ]));
  };

  const trialsTable = (s) => el("table", { id: "trials" }, [
    el("tr", {}, ["Trial", "Run", "Parameters", "Status", "Epochs", `Best ${s.settings.metric}`, "Stopped by"].map((h) => el("th", {}, h))),
    ...s.trials.map((t) => el("tr", { "data-trial": t.trial, "data-run-id": t.run, "data-status": t.status }, [
      t.trial, el("a", { href: `#/runs/${t.run}` }, `#${t.run}`), el("code", {}, paramsText(t.params)), status(t.status),
      t.epochs, num(t.best), t.stopped_by || "-"].map((v) => el("td", {}, v)))),
  ]);

  // Each trial's best metric against one parameter: numbers as they are (log scale for
  // loguniform), words of a choice by their place in it.
  function parameterChart(s, name, spec) {
    const words = /^choice\((.*)\)$/.exec(spec);
    const choices = words ? words[1].split(",").map((w) => w.trim()) : [];
    const numeric = s.trials.every((t) => !Number.isNaN(Number(t.params[name])));
    const xOf = (w) => (numeric ? Number(w) : choices.indexOf(w));
    const shown = s.trials.filter((t) => t.best != null && t.params[name] !== undefined);
    return { title: `best ${s.settings.metric} vs ${name}`, scatter: true, logX: spec.startsWith("loguniform("),
      xLabel: numeric ? name : `${name} (${choices.map((w, i) => `${i}=${w}`).join(", ")})`,
      series: [{ label: `best ${s.settings.metric}`, xs: shown.map((t) => xOf(t.params[name])), ys: shown.map((t) => t.best) }] };
  }

  function drawSweepCharts(box, s) {
    const perEpoch = box.querySelector("#sweep-curves") || box.appendChild(el("div", { class: "chart", id: "sweep-curves" }));
    RoostChart.draw(perEpoch, { title: `${s.settings.metric} per epoch`, series: s.trials.map((t) => ({
      label: `trial ${t.trial}${t.stopped_by ? " (stopped)" : ""}`, xs: t.values.map((_, i) => i + 1), ys: t.values })) });
    for (const [name, spec] of Object.entries(s.settings.space || {})) {
      const id = `sweep-param-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      const c = box.querySelector(`#${id}`) || box.appendChild(el("div", { class: "chart param-chart", id, "data-param": name }));
      RoostChart.draw(c, parameterChart(s, name, spec));
    }
  }

  function sweepInfo(s) {
    const set = s.settings;
    const rows = [["Experiment", s.experiment], ["Status", status(s.status)], ["Metric", `${set.metric} (${set.goal})`],
      ["Sampling", set.sampling], ["Policy", set.policy ? set.policy.name : "-"], ["Trial epochs", s.trial_epochs],
      ["Best", s.best ? el("span", {}, [el("a", { href: `#/runs/${s.best.run}` }, `trial ${s.best.trial} (run #${s.best.run})`),
        ` ${num(s.best.value)}: ${paramsText(s.best.params)}`]) : "none yet"]];
    if (s.message) rows.push(["Message", s.message]);
    return el("table", { id: "sweep-info" }, rows.map(([k, v]) => el("tr", {}, [el("th", {}, k), el("td", {}, v)])));
  }

  pages["/sweeps/(\\d+)"] = async (view, [id]) => {
    let s = await api(`/api/sweeps/${id}`);
    const top = el("div");
    const charts = el("div", { class: "charts", id: "sweep-charts" });
    const render = () => {
      top.replaceChildren(el("h2", {}, `Sweep #${s.sweep}`), sweepInfo(s), el("h3", {}, "Trials"), trialsTable(s));
      drawSweepCharts(charts, s);
    };
    render();
    view.append(top, el("h3", {}, "Charts"), charts);
    every(3000, async () => {
      if (s.status !== "Running") return;
      s = await api(`/api/sweeps/${id}`);
      render();
    });
  };

  App.start();
})();
