/**
 * Lesson 5: the reverse sweep of the server's trace, one step at a time. Each step lists the
 * contributions it passes back; a contribution that lands on an adjoint which already holds
 * something (a fork) shows the addition. The graph (lesson-graph.js, the playground's) follows
 * the table step for step: a fork node's adjoint shows its sum building up. Play runs the steps
 * on the playground's clock; the step shown lives in the URL.
 */

import { Player } from "../animation.js";
import { formatNumber, postJson, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { param, recordProgress, setParams } from "./lesson-state.js";
import { mountQuizzes } from "./quiz.js";

const SOURCE = "a = x*y; b = a + x; f = a*b";
const AT = { x: 2, y: 3 };
const BAR = "\u0304";
const $ = (id) => document.getElementById(id);
const body = $("reverse-table").querySelector("tbody");
const state = { result: null, shown: 0, labels: new Map(), locals: {} };
const graph = new LessonGraph($("reverse-figure"));
const player = new Player({ onFrame: (i) => { state.shown = i + 1; render(); },
  onChange: (p) => { $("trace-play").textContent = p.playing ? "Pause" : "Play"; } });

const name = (id) => (state.labels.get(id) ? `${id} (${state.labels.get(id)})` : id);

function contributionItem(c) {
  const li = document.createElement("li");
  const target = `v${BAR}${c.to.slice(1)}`;
  const local = state.locals[c.edge] || c.formula;
  const shown = local === formatNumber(c.local) ? local : `${local} = ${formatNumber(c.local)}`;
  let text = `${target} += ${formatNumber(c.contribution)} (local ${shown})`;
  if (c.adjoint_before !== 0) {
    text += ` — fork: ${formatNumber(c.adjoint_before)} + ${formatNumber(c.contribution)} = ${formatNumber(c.adjoint_after)}`;
    li.className = "fork";
  }
  li.textContent = text;
  return li;
}

function render() {
  const steps = state.result.passes[0].steps;
  const rows = steps.slice(0, state.shown).map((step, i) => {
    const tr = document.createElement("tr");
    if (i === state.shown - 1) tr.classList.add("is-current");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(i + 1);
    const node = document.createElement("td");
    node.textContent = name(step.node);
    const adjoint = document.createElement("td");
    adjoint.className = "derivative step-formula";
    adjoint.textContent = `v${BAR}${step.node.slice(1)} = ${formatNumber(step.adjoint)}`;
    const list = document.createElement("td");
    const ul = document.createElement("ul");
    ul.append(...step.contributions.map(contributionItem));
    list.append(step.contributions.length ? ul : `an input: ∂f/∂${step.label} = ${formatNumber(step.adjoint)}`);
    tr.append(th, node, adjoint, list);
    return tr;
  });
  body.replaceChildren(...rows);
  const d = state.result.derivatives.f;
  $("reverse-status").textContent = state.shown >= steps.length
    ? `One reverse pass, every input: ∂f/∂x = ${formatNumber(d.x)}, ∂f/∂y = ${formatNumber(d.y)}.`
    : `Step ${state.shown} of ${steps.length} of the reverse sweep (seed f̄ = 1).`;
  graph.show(graph.frameOf(0, state.shown - 1));
  setParams({ step: state.shown });
}

async function load() {
  try {
    await graph.load({ source: SOURCE, at: AT, mode: "reverse" });
    state.result = graph.result;
    // each edge's local derivative typeset (b, x, 1), for the contributions column
    state.locals = (await postJson("/api/v1/quiz/rules", { source: SOURCE, at: AT,
      mode: "reverse" })).locals;
    for (const n of state.result.graph.nodes) state.labels.set(n.id, n.label);
    const steps = state.result.passes[0].steps.length;
    player.load(steps, Math.max(0, Math.min((Number(param("step")) || 1) - 1, steps - 1)));
  } catch (e) {
    showError($("reverse-error"), e);
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
