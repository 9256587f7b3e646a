/**
 * Lesson 7: derivatives of derivatives as programs (/api/v1/derivative, orders 1 to 3) and a
 * Hessian by forward over reverse (/api/v1/hessian). Every number is the server's.
 */

import { debounce, formatNumber, playgroundUrl, postJson, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { recordProgress } from "./lesson-state.js";
import { mountQuizzes } from "./quiz.js";

// The first derivative, as the engine writes it, is a program too: draw it and differentiate
// it forward on the playground's graph (lesson-graph.js).
const graph = new LessonGraph(document.getElementById("second-figure"));
graph.player.onChange = (player) => {
  document.getElementById("second-play").textContent = player.playing ? "Pause" : "Play";
};

async function drawDerivative(source, x) {
  const symbolic = await postJson("/api/v1/symbolic", { source, wrt: "x" });
  const text = symbolic.derivative.text;
  if (!text) return; // too long to print: the table above still has its values
  const program = `g = ${text}`;
  document.getElementById("first-derivative").textContent = program;
  await graph.load({ source: program, at: { x }, mode: "forward" });
}

const $ = (id) => document.getElementById(id);
const HESSIAN_SOURCE = "f = x^2*y + y^3";

async function orders() {
  const source = $("hd-source").value;
  const x = Number($("hd-x").value);
  $("hd-x-out").textContent = String(x);
  $("playground-link").href = playgroundUrl(source, { x }, "reverse");
  try {
    const results = await Promise.all([1, 2, 3].map((order) => postJson("/api/v1/derivative",
      { source, transform: "derivative", wrt: "x", order, at: { x } })));
    const rows = results.map((r, i) => {
      const tr = document.createElement("tr");
      const value = r.values ? r.values[r.outputs[0]] : null;
      for (const text of [String(i + 1), String(r.program.nodes), formatNumber(value)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    });
    $("orders-table").querySelector("tbody").replaceChildren(...rows);
    $("second-program").textContent = results[1].program.text;
    await drawDerivative(source, x);
    showError($("hd-error"), null);
  } catch (e) {
    showError($("hd-error"), e);
  }
}

async function hessian() {
  const x = Number($("h-x").value);
  const y = Number($("h-y").value);
  $("h-x-out").textContent = String(x);
  $("h-y-out").textContent = String(y);
  try {
    const result = await postJson("/api/v1/hessian", { source: HESSIAN_SOURCE, at: { x, y } });
    const rows = ["x", "y"].map((a) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `∂/∂${a}`;
      tr.append(th);
      for (const b of ["x", "y"]) {
        const td = document.createElement("td");
        td.textContent = formatNumber(result.hessian[a][b]);
        td.dataset.entry = `${a}${b}`;
        tr.append(td);
      }
      return tr;
    });
    $("hessian-table").querySelector("tbody").replaceChildren(...rows);
    showError($("hessian-error"), null);
  } catch (e) {
    showError($("hessian-error"), e);
  }
}

$("hd-go").addEventListener("click", orders);
$("hd-source").addEventListener("keydown", (event) => { if (event.key === "Enter") orders(); });
$("hd-x").addEventListener("input", debounce(orders, 120));
for (const id of ["h-x", "h-y"]) $(id).addEventListener("input", debounce(hessian, 120));
$("second-play").addEventListener("click", () => {
  if (graph.player.atEnd) graph.player.seek(0);
  graph.player.toggle();
});
$("second-step").addEventListener("click", () => { graph.player.pause(); graph.player.step(1); });
$("second-restart").addEventListener("click", () => { graph.player.pause(); graph.player.seek(0); });
orders();
hessian();
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountQuizzes();
