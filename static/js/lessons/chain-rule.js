/**
 * Lesson 3: the chain rule on x = 3w, y = 2x² + 4, live. Every number is the server's: one
 * forward pass seeded on w gives x, y, dx/dw (x's tangent) and dy/dw; a second request
 * differentiates y = 2x² + 4 on its own for dy/dx. The graph is the playground's
 * (lesson-graph.js), stepped by Play / Next step; w and the step shown live in the URL.
 */

import { debounce, differentiate, formatNumber, playgroundUrl, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { param, recordProgress, setParams } from "./lesson-state.js";
import { mountQuizzes } from "./quiz.js";

const SOURCE = "x = 3*w; y = 2*x^2 + 4";
const $ = (id) => document.getElementById(id);
const slider = $("w");
const play = $("chain-play");
const graph = new LessonGraph($("chain-figure"));
let run = 0;

const given = Number(param("w"));
if (param("w") !== null && Number.isFinite(given)) slider.value = String(given);

graph.player.onChange = (player) => {
  play.textContent = player.playing ? "Pause" : "Play";
  setParams({ w: slider.value, step: player.index });
};

async function update(frame = null) {
  const mine = (run += 1);
  const w = Number(slider.value);
  $("w-out").textContent = String(w);
  $("playground-link").href = playgroundUrl(SOURCE, { w }, "forward");
  try {
    const keep = frame ?? (graph.timeline ? graph.player.index : null);
    await graph.load({ source: SOURCE, at: { w }, mode: "forward" }, keep);
    const outer = await differentiate({ source: "y = 2*x^2 + 4", at: { x: graph.result.values.x },
      mode: "forward", trace: false });
    if (mine !== run) return;
    const result = graph.result;
    const xNode = result.graph.outputs.x || result.graph.nodes.find((n) => n.label === "x").id;
    const xStep = result.passes[0].steps.find((s) => s.node === xNode);
    $("x-value").textContent = formatNumber(result.values.x);
    $("y-value").textContent = formatNumber(result.values.y);
    $("dxdw").textContent = formatNumber(xStep.tangent);
    $("dydx").textContent = formatNumber(outer.derivatives.y.x);
    $("dydw").textContent = formatNumber(result.derivatives.y.w);
    showError($("chain-error"), null);
  } catch (e) {
    showError($("chain-error"), e);
  }
}

play.addEventListener("click", () => {
  if (graph.player.atEnd) graph.player.seek(0);
  graph.player.toggle();
});
$("chain-step").addEventListener("click", () => { graph.player.pause(); graph.player.step(1); });
$("chain-reset").addEventListener("click", () => { graph.player.pause(); graph.player.seek(0); });
slider.addEventListener("input", debounce(() => update(), 60));
const step = Number(param("step"));
update(param("step") !== null && Number.isInteger(step) ? step : null);
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountQuizzes();
