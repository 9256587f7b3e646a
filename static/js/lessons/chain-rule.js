/**
 * Lesson 3: the chain rule on x = 3w, y = 2x² + 4, live. Every number is the server's:
 * one forward pass seeded on w gives x, y, dx/dw (x's tangent) and dy/dw; a second request
 * differentiates y = 2x² + 4 on its own for dy/dx. The graph is drawn once by the server and
 * relabelled with each pass (graph.js, timeline.js from the playground).
 */

import { renderSvg } from "../api.js";
import { GraphView } from "../graph.js";
import { buildTimeline, stateAt } from "../timeline.js";
import { debounce, differentiate, formatNumber, playgroundUrl, showError } from "./client.js";
import { mountQuizzes } from "./quiz.js";

const SOURCE = "x = 3*w; y = 2*x^2 + 4";
const $ = (id) => document.getElementById(id);
const slider = $("w");
const view = new GraphView($("chain-graph"));
let drawn = false;
let run = 0;

async function update() {
  const mine = (run += 1);
  const w = Number(slider.value);
  $("w-out").textContent = String(w);
  $("playground-link").href = playgroundUrl(SOURCE, { w }, "forward");
  try {
    const result = await differentiate({ source: SOURCE, at: { w }, mode: "forward" });
    const x = result.values.x;
    const outer = await differentiate({ source: "y = 2*x^2 + 4", at: { x }, mode: "forward", trace: false });
    if (mine !== run) return;
    const xNode = result.graph.outputs.x || result.graph.nodes.find((n) => n.label === "x").id;
    const xStep = result.passes[0].steps.find((s) => s.node === xNode);
    $("x-value").textContent = formatNumber(x);
    $("y-value").textContent = formatNumber(result.values.y);
    $("dxdw").textContent = formatNumber(xStep.tangent);
    $("dydx").textContent = formatNumber(outer.derivatives.y.x);
    $("dydw").textContent = formatNumber(result.derivatives.y.w);
    if (!drawn) {
      view.show(await renderSvg({ source: SOURCE }), result.graph);
      drawn = true;
    }
    const timeline = buildTimeline(result);
    view.apply(stateAt(timeline, timeline.frames.length - 1));
    showError($("chain-error"), null);
  } catch (e) {
    showError($("chain-error"), e);
  }
}

slider.addEventListener("input", debounce(update, 60));
update();
mountQuizzes();
