/**
 * Lesson 1: gradient descent on a one-parameter loss. The curve and every slope come from
 * the server (/api/v1/differentiate, reverse mode); the page only takes the step
 * w ← w − η·slope and plots it.
 */

import { debounce, differentiate, formatNumber, playgroundUrl, showError } from "./client.js";
import { linePlot } from "./plot.js";

const LOSS = "loss = 0.5*(w - 3)^2 + sin(2*w)";
const GRID = Array.from({ length: 121 }, (_, i) => -2 + (9 * i) / 120);

const $ = (id) => document.getElementById(id);
const rate = $("rate");
const start = $("start");
const steps = $("steps");
const summary = $("descent-summary");
const error = $("descent-error");

const curvePlot = linePlot($("loss-plot"), {
  title: "Loss L(w) and the descent steps", xLabel: "parameter w", yLabel: "loss L(w)",
  series: [{ label: "L(w)" }, { label: "steps", points: true }],
});
const historyPlot = linePlot($("history-plot"), {
  title: "Loss after each step", xLabel: "step k", yLabel: "loss",
  series: [{ label: "L(w_k)" }],
});

let curve = null;
let run = 0;

async function loadCurve() {
  const result = await differentiate({ source: LOSS, at: { w: GRID }, mode: "reverse", trace: false });
  curve = result.values.loss;
}

async function descend() {
  const mine = (run += 1);
  const eta = Number(rate.value);
  let w = Number(start.value);
  const count = Math.min(Math.max(Number(steps.value) || 15, 1), 40);
  $("rate-out").textContent = String(eta);
  $("start-out").textContent = String(w);
  $("playground-link").href = playgroundUrl(LOSS, { w }, "reverse");
  try {
    if (!curve) await loadCurve();
    const path = [];
    for (let k = 0; k <= count; k += 1) {
      const result = await differentiate({ source: LOSS, at: { w }, mode: "reverse", trace: false });
      if (mine !== run) return; // a newer setting took over
      const loss = result.values.loss;
      const slope = result.derivatives.loss.w;
      path.push({ w, loss, slope });
      if (k === count || !Number.isFinite(loss) || Math.abs(w) > 1e6) break;
      w -= eta * slope;
    }
    draw(path);
    showError(error, null);
  } catch (e) {
    showError(error, e);
  }
}

function draw(path) {
  const points = new Map();
  GRID.forEach((w, i) => points.set(w, [curve[i], null]));
  for (const p of path) points.set(p.w, [p.loss, p.loss]);
  const xs = [...points.keys()].sort((a, b) => a - b);
  curvePlot.setData([xs, xs.map((x) => points.get(x)[0]), xs.map((x) => points.get(x)[1])]);
  historyPlot.setData([path.map((_, k) => k), path.map((p) => p.loss)]);
  const last = path[path.length - 1];
  summary.textContent = `After ${path.length - 1} steps of size ${rate.value}: w = ${formatNumber(last.w)}, ` +
    `loss = ${formatNumber(last.loss)}, slope = ${formatNumber(last.slope)} ` +
    `(started at w = ${start.value}, loss ${formatNumber(path[0].loss)}).`;
  document.body.dataset.finalLoss = String(last.loss);
}

const redo = debounce(descend, 120);
for (const control of [rate, start, steps]) control.addEventListener("input", redo);
descend();
