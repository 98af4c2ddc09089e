// chart.js — line charts of per-epoch values and scatter charts (points only, optionally on a log
// x scale): uPlot where the build found it (npm), else plain SVG. Either way the chart's element
// carries data-points (the longest series' point count) and data-series.
"use strict";
const RoostChart = (() => {
  const colors = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00"];

  // The x values of all series, sorted, and each series' y at each (null where it has none).
  function aligned(series, scatter) {
    if (scatter) {  // one series; x values may repeat, so they are not merged
      const pts = series[0].xs.map((x, i) => [x, series[0].ys[i]]).sort((a, b) => a[0] - b[0]);
      return [pts.map((p) => p[0]), pts.map((p) => p[1])];
    }
    const xs = [...new Set(series.flatMap((s) => s.xs))].sort((a, b) => a - b);
    const ys = series.map((s) => {
      const at = new Map(s.xs.map((x, i) => [x, s.ys[i]]));
      return xs.map((x) => (at.has(x) && at.get(x) != null ? at.get(x) : null));
    });
    return [xs, ...ys];
  }

  function drawUplot(el, spec, width, height) {
    // Epochs are whole numbers: no ticks between them.
    const xAxis = spec.scatter ? { label: spec.xLabel } :
      { label: spec.xLabel || "epoch", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] };
    const opts = {
      width, height,
      scales: { x: spec.logX ? { time: false, distr: 3 } : { time: false } },
      axes: [xAxis, {}],
      series: [{ label: spec.xLabel || "epoch" },
        ...spec.series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2,
          ...(spec.scatter ? { paths: () => null, points: { show: true, size: 8, fill: colors[i % colors.length] } }
            : { points: { show: true, size: 6 } }) }))],
    };
    new uPlot(opts, aligned(spec.series, spec.scatter), el);
  }

  function svgNode(tag, attrs, text) {
    const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function drawSvg(el, spec, width, height) {
    const pad = { l: 50, r: 10, t: 10, b: 30 };
    const fx = spec.logX ? Math.log10 : (x) => x;  // positions; the labels keep the values
    const all = spec.series.flatMap((s) => s.xs.map((x, i) => [fx(x), s.ys[i]])).filter((p) => p[1] != null);
    const svg = svgNode("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
    el.appendChild(svg);
    if (!all.length) return;
    const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
    const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
    const sx = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
    const sy = (y) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
    svg.appendChild(svgNode("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999" }));
    svg.appendChild(svgNode("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999" }));
    svg.appendChild(svgNode("text", { x: 2, y: pad.t + 10 }, y1.toPrecision(3)));
    svg.appendChild(svgNode("text", { x: 2, y: height - pad.b }, y0.toPrecision(3)));
    const xText = (x) => (spec.logX ? Number((10 ** x).toPrecision(3)) : x);
    svg.appendChild(svgNode("text", { x: pad.l, y: height - 8 }, `${spec.xLabel || "epoch"} ${xText(x0)}`));
    svg.appendChild(svgNode("text", { x: width - pad.r - 40, y: height - 8 }, String(xText(x1))));
    spec.series.forEach((s, i) => {
      const pts = s.xs.map((x, j) => [fx(x), s.ys[j]]).filter((p) => p[1] != null);
      const color = colors[i % colors.length];
      if (!spec.scatter) svg.appendChild(svgNode("polyline", { fill: "none", stroke: color, "stroke-width": 2,
        points: pts.map((p) => `${sx(p[0])},${sy(p[1])}`).join(" ") }));
      for (const p of pts) svg.appendChild(svgNode("circle", { class: "pt", cx: sx(p[0]), cy: sy(p[1]), r: 3, fill: color }));
      svg.appendChild(svgNode("text", { x: pad.l + 8 + 110 * i, y: pad.t + 10, style: `fill: ${color}` }, s.label));
    });
  }

  // spec: {title, xLabel, scatter, logX, series: [{label, xs, ys}]}; replaces what el held. A
  // scatter chart has one series, drawn as points only; logX puts x on a log10 scale.
  function draw(el, spec, width = 520, height = 260) {
    el.textContent = "";
    el.appendChild(Object.assign(document.createElement("h3"), { textContent: spec.title }));
    const box = document.createElement("div");
    el.appendChild(box);
    el.dataset.points = String(Math.max(0, ...spec.series.map((s) => s.ys.filter((y) => y != null).length)));
    el.dataset.series = String(spec.series.length);
    el.dataset.logX = spec.logX ? "1" : "0";
    el.dataset.library = typeof uPlot === "undefined" ? "svg" : "uplot";
    if (typeof uPlot === "undefined") drawSvg(box, spec, width, height);
    else drawUplot(box, spec, width, height);
  }

  return { draw };
})();
