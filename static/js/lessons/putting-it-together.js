/**
 * Lesson 8: a sigmoid neuron trained by gradient descent. One Train press is one request
 * (/api/v1/descent: the server takes every step w ← w − η·∂L/∂w, each gradient one reverse
 * pass), and one more for the fitted curve (a grid). The graph (lesson-graph.js, the
 * playground's) plays one example's reverse sweep into w and b at the current weights.
 */

import { differentiate, formatNumber, postJson, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { recordProgress } from "./lesson-state.js";
import { linePlot } from "./plot.js";
import { mountQuizzes } from "./quiz.js";

const ONE = "z = w*x + b; p = sigmoid(z); loss = (p - t)^2";
const graph = new LessonGraph(document.getElementById("neuron-figure"));
graph.player.onChange = (player) => {
  document.getElementById("neuron-play").textContent = player.playing ? "Pause" : "Play";
};

const DATA = [[-3, 0], [-2, 0], [-0.5, 0], [0.5, 1], [2, 1], [3, 1]];
const LOSS = `loss = ${DATA.map(([x, t]) => `(sigmoid(w*${x} + b) - ${t})^2`).join(" + ")}`;
const START = { w: 0.5, b: 1 };
const GRID = Array.from({ length: 61 }, (_, i) => -4 + (8 * i) / 60);

const $ = (id) => document.getElementById(id);
const rate = $("neuron-rate");
const status = $("train-status");
const state = { ...START, history: [], busy: false };
const stepsField = $("neuron-steps");
const stepsPerRun = () => Math.min(Math.max(Number(stepsField.value) || 40, 1), 100);
const lossNote = $("loss-note");
// Step 0 (the untrained loss) sits on the axes from the start, the x axis spanning the steps
// a run will take; the y axis starts at 0, so the drop reads at its true size.
const lossPlot = linePlot($("neuron-loss-plot"), {
  title: "Training loss", xLabel: "step", yLabel: "loss L(w, b)",
  series: [{ label: "loss", dots: true }],
  xRange: (u, min, max) => [0, state.history.length ? Math.max(max, 1) : stepsPerRun()],
  yRange: (u, min, max) => [0, max > 0 ? max * 1.1 : 1],
});
const fitPlot = linePlot($("neuron-fit-plot"), {
  title: "The neuron's output", xLabel: "input x", yLabel: "p = σ(wx + b)",
  series: [{ label: "σ(wx + b)" }, { label: "examples", points: true }],
});

async function drawFit() {
  // the curve is computed at the examples' inputs too, so it runs unbroken through them
  const targets = new Map(DATA.map(([x, t]) => [x, t]));
  const xs = [...new Set([...GRID, ...targets.keys()])].sort((a, b) => a - b);
  const result = await differentiate({ source: "p = sigmoid(w*x + b)",
    at: { w: state.w, b: state.b, x: xs }, mode: "reverse", trace: false });
  fitPlot.setData([xs, result.values.p, xs.map((x) => targets.get(x) ?? null)]);
}

/** Before any training: the loss at the starting point, as step 0, and what to press. */
async function drawStart() {
  const result = await differentiate({ source: LOSS, at: { w: START.w, b: START.b },
    mode: "reverse", trace: false });
  lossPlot.setData([[0], [result.values.loss]]);
  lossNote.textContent = `Step 0: loss ${formatNumber(result.values.loss)}. Press Train: ` +
    "each step adds a point.";
  lossNote.hidden = false;
  status.textContent = `w = ${START.w}, b = ${START.b} (untrained): loss ` +
    `${formatNumber(result.values.loss)}.`;
}

/** One example's reverse sweep at the current weights, from its first adjoint step. */
async function drawFlow() {
  await graph.load({ source: ONE, at: { w: state.w, b: state.b, x: 2, t: 1 }, mode: "reverse" });
  graph.player.seek(graph.frameOf(0, 0));
}

async function train() {
  if (state.busy) return;
  state.busy = true;
  $("train").disabled = true;
  try {
    const count = stepsPerRun();
    const walk = await postJson("/api/v1/descent", { source: LOSS, at: { w: state.w, b: state.b },
      rate: Number(rate.value), steps: count });
    const path = walk.path;
    for (const p of path.slice(0, count)) state.history.push(p.loss);
    const last = { grad: path[Math.min(count, path.length) - 1].gradient };
    ({ w: state.w, b: state.b } = path[path.length - 1].at);
    lossPlot.setData([state.history.map((_, k) => k), state.history]);
    lossNote.hidden = true;
    await Promise.all([drawFit(), drawFlow()]);
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
  delete document.body.dataset.losses;
  try {
    await Promise.all([drawStart(), drawFit(), drawFlow()]);
    showError($("train-error"), null);
  } catch (e) {
    showError($("train-error"), e);
  }
});
rate.addEventListener("input", () => { $("neuron-rate-out").textContent = rate.value; });
$("neuron-play").addEventListener("click", () => {
  if (graph.player.atEnd) graph.player.seek(graph.frameOf(0, 0));
  graph.player.toggle();
});
$("neuron-step").addEventListener("click", () => { graph.player.pause(); graph.player.step(1); });
$("neuron-restart").addEventListener("click", () => {
  graph.player.pause();
  graph.player.seek(graph.frameOf(0, 0));
});
Promise.all([drawStart(), drawFit(), drawFlow()]).catch((e) => showError($("train-error"), e));
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountQuizzes();
