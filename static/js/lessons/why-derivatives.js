/**
 * Lesson 1: gradient descent on a one-parameter loss. The curve is one grid request (w bound
 * to a list evaluates element-wise) made once; each move of a control is one request for the
 * whole walk (/api/v1/descent: the server takes the steps w ← w − η·slope with its reverse
 * accumulation). The page only plots the path, numbered and joined. η, w₀ and the number of
 * steps live in the URL.
 */

import { debounce, differentiate, formatNumber, playgroundUrl, postJson, showError } from "./client.js";
import { param, recordProgress, setParams } from "./lesson-state.js";
import { linePlot } from "./plot.js";

const LOSS = "loss = 0.5*(w - 3)^2 + sin(2*w)";
const GRID = Array.from({ length: 121 }, (_, i) => -2 + (9 * i) / 120);

const $ = (id) => document.getElementById(id);
const rate = $("rate");
const start = $("start");
const steps = $("steps");
const summary = $("descent-summary");
const error = $("descent-error");

for (const [control, name] of [[rate, "eta"], [start, "w0"], [steps, "steps"]]) {
  const value = param(name);
  if (value !== null && Number.isFinite(Number(value))) control.value = value;
}

const curvePlot = linePlot($("loss-plot"), {
  title: "Loss L(w) and the descent steps", xLabel: "parameter w", yLabel: "loss L(w)",
  series: [{ label: "L(w)" }], path: true, xRange: () => [-2, 7],
});
const historyPlot = linePlot($("history-plot"), {
  title: "Loss after each step", xLabel: "step k", yLabel: "loss",
  series: [{ label: "L(w_k)", dots: true }],
});

let curve = null;
let run = 0;

async function loadCurve() {
  const result = await differentiate({ source: LOSS, at: { w: GRID }, mode: "reverse", trace: false });
  curve = result.values.loss;
  curvePlot.setData([GRID, curve]);
}

async function descend() {
  const mine = (run += 1);
  const eta = Number(rate.value);
  const w0 = Number(start.value);
  const count = Math.min(Math.max(Math.round(Number(steps.value)) || 15, 1), 40);
  $("rate-out").textContent = String(eta);
  $("start-out").textContent = String(w0);
  $("playground-link").href = playgroundUrl(LOSS, { w: w0 }, "reverse");
  setParams({ eta, w0, steps: count });
  try {
    if (!curve) await loadCurve();
    const walk = await postJson("/api/v1/descent", { source: LOSS, at: { w: w0 }, rate: eta,
      steps: count });
    if (mine !== run) return; // a newer setting took over
    draw(walk, eta, count);
    showError(error, null);
  } catch (e) {
    showError(error, e);
  }
}

function draw(walk, eta, count) {
  const path = walk.path.map((p) => ({ w: p.at.w, loss: p.loss, slope: p.gradient.w }));
  curvePlot.setPath(path.map((p) => ({ x: p.w, y: p.loss })));
  historyPlot.setData([path.map((_, k) => k), path.map((p) => p.loss)]);
  const last = path[path.length - 1];
  const taken = path.length - 1;
  // the server stops a walk that left the landscape; a loss that keeps growing is one too
  const growing = path.length > 3 && path.slice(-3).every((p, i, a) => i === 0 || p.loss > a[i - 1].loss)
    && last.loss > 100 * Math.max(1, Math.abs(path[0].loss));
  summary.textContent = walk.diverged || growing
    ? `Diverged: with step size ${eta} each step overshoots further than the last; after ` +
      `${taken} steps w = ${formatNumber(last.w)} and the loss is ${formatNumber(last.loss)}, ` +
      "growing without bound. Take a smaller step."
    : `After ${taken} steps of size ${eta}: w = ${formatNumber(last.w)}, ` +
      `loss = ${formatNumber(last.loss)}, slope = ${formatNumber(last.slope)} ` +
      `(started at w = ${start.value}, loss ${formatNumber(path[0].loss)}).`;
  document.body.dataset.finalLoss = String(last.loss);
  document.body.dataset.steps = String(count);
}

const redo = debounce(descend, 120);
for (const control of [rate, start, steps]) control.addEventListener("input", redo);
recordProgress(document.querySelector("[data-slug]").dataset.slug);
descend();
