/**
 * Lesson 10: a small MLP trained on two moons by the server's reverse mode. One request per
 * chunk of steps (POST /api/v1/train): the losses, the new weights, the gradient's size per
 * parameter and the network's probabilities on a grid come back; the page plots the loss
 * (plot.js), draws the map (boundary.js) and plays one reverse sweep of the network's tensor
 * graph at the current weights on four points (lesson-graph.js, the playground's modules).
 * Play asks for chunks until paused; with reduced motion it takes 100 steps in one request
 * and draws the end, without animating. The exercise (tensor-quiz.js) asks a batch's shapes.
 */

import { formatNumber, playgroundUrl, postJson, showError } from "./client.js";
import { drawBoundary } from "./boundary.js";
import { LessonGraph } from "./lesson-graph.js";
import { recordProgress } from "./lesson-state.js";
import { twoMoons } from "./moons.js";
import { linePlot } from "./plot.js";
import { mountTensorQuizzes } from "./tensor-quiz.js";

const $ = (id) => document.getElementById(id);
const CHUNK = 10;
const MAX_STEPS = 400;
const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const DATA = twoMoons(100, 0.15, "moons");
const FLOW_POINTS = [0, 1, 2, 3]; // two of each class (the data alternates)

const state = { params: null, losses: [], playing: false, busy: false, source: "", run: 0 };
const rate = $("net-rate");
const width = $("net-width");
const play = $("net-play");
const canvas = $("net-boundary");
const lossPlot = linePlot($("net-loss-plot"), {
  title: "Training loss", xLabel: "step", yLabel: "cross-entropy loss",
  series: [{ label: "loss" }],
  xRange: (u, min, max) => [0, Math.max(max, 50)],
  yRange: (u, min, max) => [0, Math.max(max * 1.1, 0.1)],
});
let lastGrid = null;
const flow = new LessonGraph($("flow-figure"));
flow.player.onChange = (p) => { $("flow-play").textContent = p.playing ? "Pause" : "Play"; };

if (still) $("net-motion").hidden = false;

function request(steps) {
  return { hidden: [Number(width.value)], activation: "tanh", points: DATA.points,
    labels: DATA.labels, params: state.params, seed: 0, learning_rate: Number(rate.value),
    steps, grid: 31 };
}

/** Take `steps` steps (0: only look at the current weights) and draw what came back. */
async function train(steps) {
  const mine = state.run;
  state.busy = true;
  try {
    const answer = await postJson("/api/v1/train", request(steps));
    if (mine !== state.run) return false; // reset meanwhile
    if (steps === 0) state.losses = [answer.losses[0]];
    else state.losses.push(...answer.losses.slice(1));
    state.params = answer.params;
    state.source = answer.source;
    $("network-source").textContent = answer.source;
    lossPlot.setData([state.losses.map((_, k) => k), state.losses]);
    lastGrid = answer.boundary;
    drawBoundary(canvas, answer.boundary, DATA.points, DATA.labels);
    canvas.dataset.signature = answer.boundary.probability.flat()
      .filter((_, k) => k % 7 === 0).map((p) => p.toFixed(3)).join(",");
    fillGradients(answer.gradient_norms, steps > 0);
    const done = state.losses.length - 1;
    const right = `${Math.round(answer.accuracy * 100)}% of the points on the right side`;
    $("net-status").textContent = done === 0
      ? `Untrained: loss ${formatNumber(state.losses[0])}; ${right}.`
      : `${done} step${done === 1 ? "" : "s"}: loss ${formatNumber(state.losses[0])} → ` +
        `${formatNumber(state.losses[done])}; ${right}` +
        `${answer.diverged ? ". The steps diverged: take a smaller step size and reset" : ""}.`;
    // before any step the plot holds one point: say what it is and what to press
    $("net-loss-note").hidden = done > 0;
    $("net-loss-note").textContent = `Step 0: loss ${formatNumber(state.losses[0])}. ` +
      "Press Play or Step: each step adds a point.";
    document.body.dataset.losses = JSON.stringify(state.losses);
    document.body.dataset.accuracy = String(answer.accuracy);
    showError($("net-error"), null);
    if (!state.playing) drawFlow(); // while playing, the graph waits for the pause
    return !answer.diverged;
  } catch (e) {
    showError($("net-error"), e);
    return false;
  } finally {
    state.busy = false;
  }
}

function fillGradients(norms, taken) {
  const body = $("gradient-table").querySelector("tbody");
  body.replaceChildren(...Object.entries(state.params).map(([name, value]) => {
    const tr = document.createElement("tr");
    const shape = Array.isArray(value[0]) ? `${value.length}×${value[0].length}` : `${value.length}`;
    for (const [k, text] of [name, shape, taken ? formatNumber(norms[name]) : "—"].entries()) {
      const cell = document.createElement(k === 0 ? "th" : "td");
      if (k === 0) cell.scope = "row";
      cell.textContent = text;
      tr.append(cell);
    }
    return tr;
  }));
}

/** The network on four points at the current weights: its reverse sweep, from the loss. */
async function drawFlow() {
  const n = FLOW_POINTS.length;
  const source = state.source.replace(/^X: \[\d+, 2\]/m, `X: [${n}, 2]`)
    .replace(/^Y: \[\d+, 2\]/m, `Y: [${n}, 2]`);
  const at = { X: FLOW_POINTS.map((k) => DATA.points[k]),
    Y: FLOW_POINTS.map((k) => (DATA.labels[k] === 1 ? [0, 1] : [1, 0])), ...state.params };
  try {
    // the weights are differentiated, the points and labels are data (as in training)
    await flow.load({ source, at, mode: "reverse", wrt: Object.keys(state.params) });
    flow.player.seek(flow.frameOf(0, 0));
    // the playground opens this very graph, weights rounded for a readable link
    const rounded = Object.fromEntries(Object.entries(at).map(([name, value]) =>
      [name, JSON.parse(JSON.stringify(value), (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))]));
    $("playground-link").href = playgroundUrl(source, rounded, "reverse");
    showError($("flow-error"), null);
  } catch (e) {
    showError($("flow-error"), e);
  }
}

function setPlaying(on) {
  state.playing = on;
  play.textContent = on ? "Pause" : "Play";
  play.setAttribute("aria-pressed", String(on));
}

async function playLoop() {
  if (still) { // no animation: one request for 100 steps, then the end state
    await train(100);
    return;
  }
  const mine = state.run;
  setPlaying(true);
  while (state.playing && state.losses.length - 1 < MAX_STEPS) {
    if (!(await train(CHUNK))) break;
  }
  if (mine !== state.run) return; // a reset stopped it: the new start draws itself
  setPlaying(false);
  drawFlow();
}

async function reset() {
  state.run += 1;
  setPlaying(false);
  state.params = null;
  state.losses = [];
  delete document.body.dataset.losses;
  await train(0);
}

play.addEventListener("click", () => {
  if (state.playing) setPlaying(false);
  else if (!state.busy) playLoop();
});
$("net-step").addEventListener("click", () => {
  setPlaying(false);
  if (!state.busy) train(CHUNK);
});
$("net-reset").addEventListener("click", reset);
width.addEventListener("change", reset); // another network: start again
rate.addEventListener("input", () => { $("net-rate-out").textContent = rate.value; });
new ResizeObserver(() => {
  if (lastGrid) drawBoundary(canvas, lastGrid, DATA.points, DATA.labels);
}).observe(canvas);
$("flow-play").addEventListener("click", () => {
  if (flow.player.atEnd) flow.player.seek(flow.frameOf(0, 0));
  flow.player.toggle();
});
$("flow-step").addEventListener("click", () => { flow.player.pause(); flow.player.step(1); });
$("flow-restart").addEventListener("click", () => {
  flow.player.pause();
  flow.player.seek(flow.frameOf(0, 0));
});
reset();
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountTensorQuizzes();
