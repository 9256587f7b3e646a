/**
 * Lesson 6: the Jacobian built column by column (forward) or row by row (reverse), with the
 * pass and operation counts the engine reports (/api/v1/jacobian). The matrix entries are
 * the server's; the page only reveals them one pass at a time.
 */

import { formatNumber, postJson, showError } from "./client.js";
import { mountQuizzes } from "./quiz.js";

const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const wait = (ms) => new Promise((resolve) => { setTimeout(resolve, still ? 0 : ms); });
/** "1 input", "4 inputs". */
const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function setUp(section) {
  const request = { source: section.dataset.source, at: JSON.parse(section.dataset.at),
    outputs: JSON.parse(section.dataset.outputs) };
  const table = section.querySelector("[data-role=matrix]");
  const status = section.querySelector("[data-role=status]");
  const results = {};
  let cells = new Map();
  let run = 0;

  function drawEmpty(result) {
    const inputs = Object.keys(result.matrix[request.outputs[0]]);
    const head = document.createElement("tr");
    head.append(document.createElement("td"));
    for (const x of inputs) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = `∂/∂${x}`;
      head.append(th);
    }
    table.querySelector("thead").replaceChildren(head);
    cells = new Map();
    const rows = request.outputs.map((out) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = out;
      tr.append(th);
      for (const x of inputs) {
        const td = document.createElement("td");
        td.textContent = "·";
        cells.set(`${out}|${x}`, td);
        tr.append(td);
      }
      return tr;
    });
    table.querySelector("tbody").replaceChildren(...rows);
    return inputs;
  }

  async function build(mode) {
    const mine = (run += 1);
    const result = results[mode];
    const inputs = drawEmpty(result);
    const groups = mode === "forward"
      ? inputs.map((x) => request.outputs.map((out) => [out, x]))
      : request.outputs.map((out) => inputs.map((x) => [out, x]));
    const what = mode === "forward" ? "column" : "row";
    for (let p = 0; p < groups.length; p += 1) {
      for (const td of cells.values()) td.classList.remove("is-new");
      for (const [out, x] of groups[p]) {
        const td = cells.get(`${out}|${x}`);
        td.textContent = formatNumber(result.matrix[out][x]);
        td.classList.add("is-filled", "is-new");
      }
      status.textContent = `${mode === "forward" ? "Forward" : "Reverse"} pass ${p + 1} of ` +
        `${result.passes} filled ${what} ${p + 1}.`;
      await wait(500);
      if (mine !== run) return;
    }
    const per = mode === "forward" ? "one per input" : "one per output";
    status.textContent = `${mode === "forward" ? "Forward" : "Reverse"} mode: ` +
      `${count(result.passes, "pass", "passes")} (${per}), ${result.operations} operations. ` +
      `The cheaper mode here is ${result.cheaper}.`;
    section.dataset.built = mode;
  }

  async function load() {
    try {
      const [fwd, rev] = await Promise.all(["forward", "reverse"].map((mode) =>
        postJson("/api/v1/jacobian", { ...request, mode })));
      results.forward = fwd;
      results.reverse = rev;
      for (const mode of ["forward", "reverse"]) {
        const row = section.querySelector(`tr[data-mode=${mode}]`);
        row.querySelector("[data-role=passes]").textContent = String(fwd.cost[mode].passes);
        row.querySelector("[data-role=operations]").textContent = String(fwd.cost[mode].operations);
      }
      drawEmpty(fwd);
      status.textContent = `${count(Object.keys(fwd.matrix[request.outputs[0]]).length, "input")}, ` +
        `${count(request.outputs.length, "output")}. Build the Jacobian either way.`;
      section.dataset.ready = "true";
    } catch (e) {
      showError(section.querySelector("[data-role=error]"), e);
    }
  }

  for (const button of section.querySelectorAll("[data-build]")) {
    button.addEventListener("click", () => build(button.dataset.build));
  }
  load();
}

document.querySelectorAll("[data-jacobian]").forEach(setUp);
mountQuizzes();
