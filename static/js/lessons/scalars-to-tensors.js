/**
 * Lesson 9: a layer y = sum(tanh(W x + b)) as its scalar graph, and collapsed into W @ x + b.
 * Both graphs are the playground's (lesson-graph.js), stepped through their reverse sweeps by
 * the same buttons. The outer-product table reads each weight's adjoint from the server's
 * reverse sweep of the scalar program; the broadcast table reads a batch's adjoints the same
 * way (the browser does no differentiation). The exercises are tensor-quiz.js's.
 */

import { differentiate, formatNumber, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { recordProgress } from "./lesson-state.js";
import { mountTensorQuizzes } from "./tensor-quiz.js";

const $ = (id) => document.getElementById(id);
const W = [[0.5, -1], [1, 0.5]];
const X = [1, 2];
const B = [0, -1];
const SUB = "₀₁₂₃";

/** The layer written out in scalars: one line per entry of u = W x + b, then the tanhs. */
function scalarLayer() {
  const lines = W.map((row, i) => `u${i} = ${row.map((_, j) => `W${i}${j}*x${j}`).join(" + ")} + b${i}`);
  lines.push(...W.map((_, i) => `h${i} = tanh(u${i})`));
  lines.push(`y = ${W.map((_, i) => `h${i}`).join(" + ")}`);
  return lines.join("\n");
}

const SCALAR = scalarLayer();
const SCALAR_AT = Object.fromEntries([
  ...W.flatMap((row, i) => row.map((v, j) => [`W${i}${j}`, v])),
  ...X.map((v, j) => [`x${j}`, v]), ...B.map((v, i) => [`b${i}`, v])]);
const TENSOR = $("tensor-source").textContent.trim();
const TENSOR_AT = { W, x: X, b: B };
$("scalar-source").textContent = SCALAR;

const graph = new LessonGraph($("layer-figure"));
const play = $("layer-play");
graph.player.onChange = (player) => { play.textContent = player.playing ? "Pause" : "Play"; };
let view = "scalar";

async function show(which) {
  view = which;
  $("view-scalar").setAttribute("aria-pressed", String(which === "scalar"));
  $("view-tensor").setAttribute("aria-pressed", String(which === "tensor"));
  graph.player.pause();
  try {
    const request = which === "scalar" ? { source: SCALAR, at: SCALAR_AT, mode: "reverse" }
      : { source: TENSOR, at: TENSOR_AT, mode: "reverse" };
    await graph.load(request);
    graph.player.seek(graph.frameOf(0, 0)); // the reverse sweep's first step
    showError($("layer-error"), null);
    if (which === "scalar") fillOuter(graph.result);
  } catch (e) {
    showError($("layer-error"), e);
  }
}

/** W̄ = ū xᵀ with the engine's numbers: ū from the u nodes' adjoints, W̄ from the inputs'. */
function fillOuter(result) {
  const steps = result.passes[0].steps;
  const adjointOf = (label) => steps.find((s) => s.label === label).adjoint;
  const table = $("outer-table");
  X.forEach((x, j) => {
    table.querySelector(`th[data-col="${j}"]`).textContent = `x${SUB[j]} = ${formatNumber(x)}`;
  });
  W.forEach((_, i) => {
    const u = adjointOf(`u${i}`);
    table.querySelector(`th[data-row="${i}"]`).textContent = `ū${SUB[i]} = ${formatNumber(u)}`;
    X.forEach((x, j) => {
      const w = result.derivatives.y[`W${i}${j}`];
      table.querySelector(`td[data-entry="${i}${j}"]`).textContent =
        `${formatNumber(u)} · ${formatNumber(x)} = ${formatNumber(w)}`;
    });
  });
  const d = result.derivatives.y;
  $("outer-readout").textContent = `The engine's ∂y/∂W: [[${formatNumber(d.W00)}, ` +
    `${formatNumber(d.W01)}], [${formatNumber(d.W10)}, ${formatNumber(d.W11)}]] — each entry ` +
    `ūᵢ · xⱼ. And ∂y/∂b = (${formatNumber(d.b0)}, ${formatNumber(d.b1)}) = ū.`;
  table.dataset.ready = "true";
}

const BATCH = [[1, -1], [0.5, 2], [-2, 1]];
const BIAS = [0.5, -1];
const BROADCAST = "X: [3, 2]\nb: [2]\nZ = X + b\nL = sum(Z * Z) / 2";
const bcast = new LessonGraph($("bcast-figure"));
bcast.player.onChange = (p) => { $("bcast-play").textContent = p.playing ? "Pause" : "Play"; };

/** The batch in the tensor engine: the broadcast of b is a node, its reverse step a sum. */
async function drawBroadcast() {
  try {
    await bcast.load({ source: BROADCAST, at: { X: BATCH, b: BIAS }, mode: "reverse" });
    bcast.player.seek(bcast.frameOf(0, 0));
  } catch (e) {
    showError($("broadcast-error"), e);
  }
}

/** A batch of three rows plus b, written out; L = ½ Σ Z², so Z̄ = Z. */
async function fillBroadcast() {
  const batch = BATCH;
  const bias = BIAS;
  const lines = batch.flatMap((row, i) => row.map((_, j) => `z${i}${j} = X${i}${j} + b${j}`));
  lines.push(`L = (${batch.flatMap((row, i) => row.map((_, j) => `z${i}${j}^2`)).join(" + ")})/2`);
  const at = Object.fromEntries([...batch.flatMap((row, i) => row.map((v, j) => [`X${i}${j}`, v])),
    ...bias.map((v, j) => [`b${j}`, v])]);
  try {
    const result = await differentiate({ source: lines.join("\n"), at, mode: "reverse", trace: false });
    const d = result.derivatives.L;
    const body = $("broadcast-table").querySelector("tbody");
    const rows = batch.map((row, i) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `row ${i}: Z̄${SUB[i]}`;
      tr.append(th, ...row.map((_, j) => {
        const td = document.createElement("td");
        td.textContent = formatNumber(d[`X${i}${j}`]);
        return td;
      }));
      return tr;
    });
    const sum = document.createElement("tr");
    sum.className = "sum-row";
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = "b̄ = column sums";
    sum.append(th, ...bias.map((_, j) => {
      const td = document.createElement("td");
      td.dataset.entry = `b${j}`;
      td.textContent = formatNumber(d[`b${j}`]);
      return td;
    }));
    body.replaceChildren(...rows, sum);
    showError($("broadcast-error"), null);
  } catch (e) {
    showError($("broadcast-error"), e);
  }
}

$("view-scalar").addEventListener("click", () => show("scalar"));
$("view-tensor").addEventListener("click", () => show("tensor"));
play.addEventListener("click", () => {
  if (graph.player.atEnd) graph.player.seek(graph.frameOf(0, 0));
  graph.player.toggle();
});
$("layer-step").addEventListener("click", () => { graph.player.pause(); graph.player.step(1); });
$("layer-restart").addEventListener("click", () => {
  graph.player.pause();
  graph.player.seek(graph.frameOf(0, 0));
});
$("bcast-play").addEventListener("click", () => {
  if (bcast.player.atEnd) bcast.player.seek(bcast.frameOf(0, 0));
  bcast.player.toggle();
});
$("bcast-step").addEventListener("click", () => { bcast.player.pause(); bcast.player.step(1); });
$("bcast-restart").addEventListener("click", () => {
  bcast.player.pause();
  bcast.player.seek(bcast.frameOf(0, 0));
});
show(view);
fillBroadcast();
drawBroadcast();
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountTensorQuizzes();
