"""The report page's inline CSS and drawing script (Python strings, so the wheel carries them).

The script reads the chart specifications from `#report-data` (see `charts.py`) and draws each
as SVG in its `figure[data-chart]`. It has no dependencies: the page must open offline.
"""

REPORT_CSS = """
:root { --ink: #1d2433; --muted: #5b6478; --line: #d9dee8; --bg: #f6f7fb; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header { padding: 20px 32px 12px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 22px; }
.meta, .run, .description { color: var(--muted); }
.notes { color: #8a4b00; margin: 6px 0; }
nav a { margin-right: 14px; color: #2456c9; text-decoration: none; }
main { padding: 16px 32px 40px; display: grid; gap: 20px;
  grid-template-columns: minmax(0, 1fr); }
section.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; }
h2 { font-size: 17px; margin: 0 0 4px; }
h2 code { font-size: 12px; color: var(--muted); font-weight: normal; margin-left: 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 8px 0; flex: 1 1 480px; min-width: 0; max-width: 760px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 5px;
  border-radius: 2px; vertical-align: -1px; }
.empty { color: var(--muted); font-style: italic; padding: 24px; text-align: center;
  border: 1px dashed var(--line); border-radius: 6px; }
.table-wrap { overflow-x: auto; margin-top: 8px; max-height: 360px; overflow-y: auto; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
th { position: sticky; top: 0; background: #eef1f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; background: #f3f6ff; }
h3 { font-size: 14px; margin: 14px 0 4px; }
ul.samples { margin: 0; padding-left: 16px; white-space: normal; font-size: 12px; }
td.platform { font-style: italic; color: #8a4b00; }
"""

CHARTS_JS = r"""
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 720, H = 280, M = { top: 12, right: 16, bottom: 44, left: 64 };
  var PALETTE = ["#2f6fdf", "#e8833a", "#3aa66a", "#c64b8c", "#8a63d2", "#d4b02a",
                 "#2aa3b8", "#b5523b", "#6b7a90", "#7fb13d"];
  var errors = [];

  function colour(i) {
    return i < PALETTE.length ? PALETTE[i] : "hsl(" + ((i * 47) % 360) + ",55%,50%)";
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) { node.setAttribute(key, attrs[key]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function text(parent, x, y, value, attrs) {
    var node = el("text", attrs || {}, parent);
    node.setAttribute("x", x);
    node.setAttribute("y", y);
    node.textContent = value;
    return node;
  }
  function fmt(value, kind) {
    if (kind === "rate") { return (value * 100).toFixed(value < 0.1 ? 2 : 1) + "%"; }
    var digits = kind === "money" && Math.abs(value) < 1000 ? 2 : 0;
    return value.toLocaleString("en-US", { maximumFractionDigits: digits });
  }
  // A round tick step (1, 2 or 5 times a power of ten) giving about four gridlines.
  function niceStep(top) {
    if (top <= 0) { return 1; }
    var rough = top / 4, power = Math.pow(10, Math.floor(Math.log10(rough)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= rough) { return steps[i] * power; }
    }
    return 10 * power;
  }
  function niceMax(top) {
    var step = niceStep(top);
    return Math.max(1, Math.ceil(top / step)) * step;
  }
  function legend(figure, spec) {
    if (spec.series.length < 2) { return; }
    var box = document.createElement("div");
    box.className = "legend";
    spec.series.forEach(function (s, i) {
      var item = document.createElement("span");
      var swatch = document.createElement("i");
      swatch.style.background = colour(i);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name));
      box.appendChild(item);
    });
    figure.appendChild(box);
  }
  function bar(svg, x, y, w, h, fill, tip) {
    var rect = el("rect", { x: x, y: y, width: Math.max(w, 0.5), height: h, fill: fill,
                            "class": "mark" }, svg);
    el("title", {}, rect).textContent = tip;
    return 1;
  }

  // Vertical bars per label: side by side ("bars") or one on another ("stacked").
  function drawColumns(svg, spec) {
    var stacked = spec.kind === "stacked";
    var n = spec.labels.length, plotW = W - M.left - M.right, plotH = H - M.top - M.bottom;
    var top = 0;
    for (var i = 0; i < n; i++) {
      var sum = 0;
      spec.series.forEach(function (s) {
        sum = stacked ? sum + s.values[i] : Math.max(sum, s.values[i]);
      });
      top = Math.max(top, sum);
    }
    var step = niceStep(top), max = niceMax(top);
    var y = function (v) { return M.top + plotH - (v / max) * plotH; };
    for (var v = 0; v <= max + step / 2; v += step) {
      el("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), stroke: "#e3e7ef" }, svg);
      text(svg, M.left - 6, y(v) + 4, fmt(v, spec.format),
           { "text-anchor": "end", "font-size": 11, fill: "#5b6478" });
    }
    var longest = 0;
    spec.labels.forEach(function (l) { longest = Math.max(longest, String(l).length); });
    // Label every k-th position so that labels (about 6.5 px a character) never overlap.
    var group = plotW / n, marks = 0, every = Math.max(1, Math.ceil((longest * 6.5 + 10) / group));
    var barW = stacked ? group * 0.7 : (group * 0.8) / spec.series.length;
    for (i = 0; i < n; i++) {
      var x0 = M.left + i * group + group * (stacked ? 0.15 : 0.1), base = 0;
      spec.series.forEach(function (s, k) {
        var value = s.values[i];
        if (!value) { return; }
        var tip = spec.labels[i] + " · " + s.name + ": " + fmt(value, spec.format);
        if (stacked) {
          marks += bar(svg, x0, y(base + value), barW, y(base) - y(base + value), colour(k), tip);
          base += value;
        } else {
          marks += bar(svg, x0 + k * barW, y(value), barW, y(0) - y(value), colour(k), tip);
        }
      });
      if (i % every === 0) {
        text(svg, M.left + i * group + group / 2, H - M.bottom + 16, spec.labels[i],
             { "text-anchor": "middle", "font-size": 11, fill: "#5b6478" });
      }
    }
    el("line", { x1: M.left, x2: W - M.right, y1: y(0), y2: y(0), stroke: "#8791a5" }, svg);
    return marks;
  }

  // Horizontal bars, one per label, ranked top to bottom (brands to push).
  function drawRows(svg, spec) {
    var values = spec.series[0].values, n = spec.labels.length, left = 140;
    var rowH = 22, height = M.top + n * rowH + 8, plotW = W - left - 80;
    svg.setAttribute("viewBox", "0 0 " + W + " " + height);
    var max = niceMax(Math.max.apply(null, values)), marks = 0;
    for (var i = 0; i < n; i++) {
      var yy = M.top + i * rowH, w = (values[i] / max) * plotW;
      text(svg, left - 8, yy + 15, spec.labels[i],
           { "text-anchor": "end", "font-size": 12, fill: "#1d2433" });
      if (values[i]) {
        marks += bar(svg, left, yy + 3, w, rowH - 6, colour(0),
                     spec.labels[i] + ": " + fmt(values[i], spec.format));
      }
      text(svg, left + w + 6, yy + 15, fmt(values[i], spec.format),
           { "font-size": 11, fill: "#5b6478" });
    }
    return marks;
  }

  function draw(figure, spec) {
    if (!spec) { throw new Error("no chart data embedded for this chart"); }
    if (!spec.labels.length || !spec.series.length) {
      var empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "No data for this period.";
      figure.appendChild(empty);
      figure.setAttribute("data-state", "empty");
      figure.setAttribute("data-marks", "0");
      figure.setAttribute("data-drawn", "true");
      return;
    }
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
                          "aria-label": spec.title });
    var marks = spec.kind === "hbars" ? drawRows(svg, spec) : drawColumns(svg, spec);
    figure.appendChild(svg);
    legend(figure, spec);
    figure.setAttribute("data-state", "drawn");
    figure.setAttribute("data-marks", String(marks));
    figure.setAttribute("data-drawn", "true");
  }

  window.addEventListener("error", function (event) {
    errors.push(String(event.message));
    document.body.setAttribute("data-errors", String(errors.length));
  });
  var specs = JSON.parse(document.getElementById("report-data").textContent);
  var byId = {};
  specs.forEach(function (s) { byId[s.id] = s; });
  var figures = document.querySelectorAll("figure[data-chart]");
  for (var i = 0; i < figures.length; i++) {
    var figure = figures[i];
    try {
      draw(figure, byId[figure.getAttribute("data-chart")]);
    } catch (err) {
      // One broken chart must not stop the others; the test reads data-error and the console.
      errors.push(String(err));
      figure.setAttribute("data-error", String(err));
      console.error("chart " + figure.getAttribute("data-chart") + " failed: " + err);
    }
  }
  document.body.setAttribute("data-errors", String(errors.length));
  document.body.setAttribute("data-charts-drawn",
    String(document.querySelectorAll("figure[data-drawn=true]").length));
})();
"""
