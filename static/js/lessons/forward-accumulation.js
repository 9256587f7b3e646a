/**
 * Lesson 4: the forward trace table, one pass per input, stepped row by row.
 * The passes are the server's (/api/v1/differentiate, forward mode, no seed: one pass per input),
 * drawn on the playground's graph (lesson-graph.js) step for step with the table; Play runs
 * the steps on the playground's clock. The pass and step shown live in the URL.
 */

import { Player } from "../animation.js";
import { formatNumber, postJson, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { param, recordProgress, setParams } from "./lesson-state.js";
import { mountQuizzes } from "./quiz.js";

const SOURCE = "u = x*y; f = u + x^2";
const AT = { x: 3, y: 2 };
const $ = (id) => document.getElementById(id);
const body = $("forward-table").querySelector("tbody");
const state = { result: null, pass: 0, shown: 0, rules: [] };
const graph = new LessonGraph($("forward-figure"));
const player = new Player({ onFrame: (i) => { state.shown = i; render(); },
  onChange: (p) => { $("trace-play").textContent = p.playing ? "Pause" : "Play"; } });
const stepsOf = () => state.result.passes[state.pass].steps.length;

function render() {
  const pass = state.result.passes[state.pass];
  const seeded = Object.entries(pass.seed).find(([, v]) => v === 1)[0];
  const rows = pass.steps.map((step, i) => {
    const tr = document.createElement("tr");
    const name = step.label ? `${step.node} (${step.label})` : step.node;
    const hidden = i >= state.shown;
    for (const [text, cls] of [[name, ""], [formatNumber(step.value), ""],
      [state.rules[state.pass]?.[step.node] || step.formula, "step-formula"], [hidden ? "?" : formatNumber(step.tangent), "derivative"]]) {
      const td = document.createElement(cls === "" && text === name ? "th" : "td");
      if (td.tagName === "TH") td.scope = "row";
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
    }
    if (i === state.shown - 1) tr.classList.add("is-current");
    return tr;
  });
  body.replaceChildren(...rows);
  const inputs = Object.keys(pass.seed).length;
  const done = state.shown >= pass.steps.length;
  const out = state.result.derivatives.f[seeded];
  $("pass-count").textContent = `${inputs} inputs, so ${state.result.passes.length} forward passes. ` +
    `Pass ${state.pass + 1} seeds ${seeded} (tangent 1, the others 0)` +
    (done ? `: it gives ∂f/∂${seeded} = ${formatNumber(out)}.` : `: step ${state.shown} of ${pass.steps.length}.`);
  for (const button of $("pass-buttons").children) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.pass) === state.pass));
  }
  graph.show(state.shown === 0 ? graph.frameOf(-1, Infinity) : graph.frameOf(state.pass, state.shown - 1));
  setParams({ pass: state.pass + 1, step: state.shown });
}

function choose(pass, shown) {
  state.pass = pass;
  player.load(stepsOf() + 1, Math.max(0, Math.min(shown, stepsOf())));
}

async function load() {
  try {
    await graph.load({ source: SOURCE, at: AT, mode: "forward" });
    state.result = graph.result;
    // each pass's rules typeset as a learner writes them (v̇4 = 2x · v̇0), one request a pass
    state.rules = await Promise.all(state.result.passes.map((pass) => postJson(
      "/api/v1/quiz/rules", { source: SOURCE, at: AT, mode: "forward",
        wrt: Object.entries(pass.seed).find(([, v]) => v === 1)[0] }).then((r) => r.rules)));
    const buttons = state.result.passes.map((pass, p) => {
      const seeded = Object.entries(pass.seed).find(([, v]) => v === 1)[0];
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button";
      b.dataset.pass = String(p);
      b.textContent = `Pass ${p + 1}: seed ${seeded}`;
      b.addEventListener("click", () => choose(p, 0));
      return b;
    });
    $("pass-buttons").replaceChildren(...buttons);
    const pass = Number(param("pass")) - 1;
    choose(pass >= 0 && pass < buttons.length ? pass : 0, Number(param("step")) || 0);
  } catch (e) {
    showError($("forward-error"), e);
  }
}

$("trace-play").addEventListener("click", () => {
  if (player.atEnd) player.seek(0);
  player.toggle();
});
$("trace-step").addEventListener("click", () => { player.pause(); player.step(1); });
$("trace-all").addEventListener("click", () => { player.pause(); player.end(); });
$("trace-reset").addEventListener("click", () => { player.pause(); player.seek(0); });
load();
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountQuizzes();
