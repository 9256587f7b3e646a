/**
 * Lesson 4: the forward trace table, one pass per input, stepped row by row.
 * The passes are the server's (/api/v1/differentiate, forward mode, no seed: one pass per input).
 */

import { differentiate, formatNumber, showError } from "./client.js";
import { mountQuizzes } from "./quiz.js";

const SOURCE = "u = x*y; f = u + x^2";
const AT = { x: 3, y: 2 };
const $ = (id) => document.getElementById(id);
const body = $("forward-table").querySelector("tbody");
const state = { result: null, pass: 0, shown: 0 };

function render() {
  const pass = state.result.passes[state.pass];
  const seeded = Object.entries(pass.seed).find(([, v]) => v === 1)[0];
  const rows = pass.steps.map((step, i) => {
    const tr = document.createElement("tr");
    const name = step.label ? `${step.node} (${step.label})` : step.node;
    const hidden = i >= state.shown;
    for (const [text, cls] of [[name, ""], [formatNumber(step.value), ""],
      [step.formula, "step-formula"], [hidden ? "?" : formatNumber(step.tangent), "derivative"]]) {
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
}

async function load() {
  try {
    state.result = await differentiate({ source: SOURCE, at: AT, mode: "forward" });
    const buttons = state.result.passes.map((pass, p) => {
      const seeded = Object.entries(pass.seed).find(([, v]) => v === 1)[0];
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button";
      b.dataset.pass = String(p);
      b.textContent = `Pass ${p + 1}: seed ${seeded}`;
      b.addEventListener("click", () => { state.pass = p; state.shown = 0; render(); });
      return b;
    });
    $("pass-buttons").replaceChildren(...buttons);
    render();
  } catch (e) {
    showError($("forward-error"), e);
  }
}

$("trace-step").addEventListener("click", () => {
  const total = state.result.passes[state.pass].steps.length;
  state.shown = Math.min(state.shown + 1, total);
  render();
});
$("trace-all").addEventListener("click", () => {
  state.shown = state.result.passes[state.pass].steps.length;
  render();
});
$("trace-reset").addEventListener("click", () => { state.shown = 0; render(); });
load();
mountQuizzes();
