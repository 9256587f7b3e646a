/**
 * Lesson 8: a sigmoid neuron trained by gradient descent. Each step asks the server for the
 * loss and its gradient (reverse mode, one pass); the page only applies w ← w − η·∂L/∂w.
 */

import { differentiate, formatNumber, showError } from "./client.js";
import { linePlot } from "./plot.js";
import { mountQuizzes } from "./quiz.js";

const DATA = [[-3, 0], [-2, 0], [-0.5, 0], [0.5, 1], [2, 1], [3, 1]];
const LOSS = `loss = ${DATA.map(([x, t]) => `(sigmoid(w*${x} + b) - ${t})^2`).join(" + ")}`;
const START = { w: 0.5, b: 1 };
const GRID = Array.from({ length: 61 }, (_, i) => -4 + (8 * i) / 60);

const $ = (id) => document.getElementById(id);
const rate = $("neuron-rate");
const status = $("train-status");
const lossPlot = linePlot($("neuron-loss-plot"), {
  title: "Training loss", xLabel: "step", yLabel: "loss L(w, b)", series: [{ label: "loss" }],
});
const fitPlot = linePlot($("neuron-fit-plot"), {
  title: "The neuron's output", xLabel: "input x", yLabel: "p = σ(wx + b)",
  series: [{ label: "σ(wx + b)" }, { label: "examples", points: true }],
});
const state = { ...START, history: [], busy: false };

async function drawFit() {
  const result = await differentiate({ source: "p = sigmoid(w*x + b)",
    at: { w: state.w, b: state.b, x: GRID }, mode: "reverse", trace: false });
  const targets = new Map(DATA.map(([x, t]) => [x, t]));
  const xs = [...new Set([...GRID, ...targets.keys()])].sort((a, b) => a - b);
  const curve = new Map(GRID.map((x, i) => [x, result.values.p[i]]));
  fitPlot.setData([xs, xs.map((x) => curve.get(x) ?? null), xs.map((x) => targets.get(x) ?? null)]);
}

async function step() {
  const result = await differentiate({ source: LOSS, at: { w: state.w, b: state.b }, mode: "reverse", trace: false });
  const grad = result.derivatives.loss;
  state.history.push(result.values.loss);
  state.w -= Number(rate.value) * grad.w;
  state.b -= Number(rate.value) * grad.b;
  return { loss: result.values.loss, grad };
}

async function train() {
  if (state.busy) return;
  state.busy = true;
  $("train").disabled = true;
  try {
    const count = Math.min(Math.max(Number($("neuron-steps").value) || 40, 1), 100);
    let last = null;
    for (let k = 0; k < count; k += 1) last = await step();
    lossPlot.setData([state.history.map((_, k) => k), state.history]);
    await drawFit();
    status.textContent = `${state.history.length} steps: loss ${formatNumber(state.history[0])} → ` +
      `${formatNumber(state.history[state.history.length - 1])}; w = ${formatNumber(state.w)}, ` +
      `b = ${formatNumber(state.b)}; last gradient (∂L/∂w, ∂L/∂b) = ` +
      `(${formatNumber(last.grad.w)}, ${formatNumber(last.grad.b)}).`;
    document.body.dataset.losses = JSON.stringify(state.history);
    showError($("train-error"), null);
  } catch (e) {
    showError($("train-error"), e);
  } finally {
    state.busy = false;
    $("train").disabled = false;
  }
}

$("train").addEventListener("click", train);
$("train-reset").addEventListener("click", async () => {
  Object.assign(state, START, { history: [] });
  lossPlot.setData([[], []]);
  status.textContent = `w = ${START.w}, b = ${START.b} (untrained).`;
  delete document.body.dataset.losses;
  await drawFit();
});
rate.addEventListener("input", () => { $("neuron-rate-out").textContent = rate.value; });
drawFit().catch((e) => showError($("train-error"), e));
mountQuizzes();
