/**
 * Lesson 6: the Jacobian built column by column (forward) or row by row (reverse), with the
 * pass and operation counts the engine reports (/api/v1/jacobian). The matrix entries are
 * the server's; the page only reveals them one pass at a time.
 */

import { formatNumber, postJson, showError } from "./client.js";
import { LessonGraph } from "./lesson-graph.js";
import { recordProgress } from "./lesson-state.js";
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
  const graph = new LessonGraph(section.querySelector(".lesson-graph"));
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

  const stepper = { mode: null, p: 0, groups: [] };

  /** Start building in `mode`: an empty matrix, and the graph with that mode's passes. */
  async function begin(mode) {
    const inputs = drawEmpty(results[mode]);
    stepper.mode = mode;
    stepper.p = 0;
    stepper.groups = mode === "forward"
      ? inputs.map((x) => request.outputs.map((out) => [out, x]))
      : request.outputs.map((out) => inputs.map((x) => [out, x]));
    await graph.load({ ...request, mode });
  }

  /** Pass p: its column (forward) or row (reverse) of the matrix, and the pass on the graph. */
  function fill(p) {
    const { mode } = stepper;
    const result = results[mode];
    for (const td of cells.values()) td.classList.remove("is-new");
    for (const [out, x] of stepper.groups[p]) {
      const td = cells.get(`${out}|${x}`);
      td.textContent = formatNumber(result.matrix[out][x]);
      td.classList.add("is-filled", "is-new");
    }
    graph.show(graph.frameOf(p, graph.result.passes[p].steps.length - 1));
    status.textContent = `${mode === "forward" ? "Forward" : "Reverse"} pass ${p + 1} of ` +
      `${result.passes} filled ${mode === "forward" ? "column" : "row"} ${p + 1}.`;
    stepper.p = p + 1;
    if (stepper.p >= stepper.groups.length) finish();
  }

  function finish() {
    const { mode } = stepper;
    const result = results[mode];
    const per = mode === "forward" ? "one per input" : "one per output";
    status.textContent = `${mode === "forward" ? "Forward" : "Reverse"} mode: ` +
      `${count(result.passes, "pass", "passes")} (${per}), ${result.operations} operations. ` +
      `The cheaper mode here is ${result.cheaper}.`;
    section.dataset.built = mode;
  }

  async function build(mode) {
    const mine = (run += 1);
    await begin(mode);
    for (let p = 0; p < stepper.groups.length; p += 1) {
      if (mine !== run) return;
      fill(p);
      await wait(900);
    }
  }

  async function nextPass() {
    run += 1;
    if (!stepper.mode || stepper.p >= stepper.groups.length) await begin(stepper.mode || "forward");
    fill(stepper.p);
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
      await graph.load({ ...request, mode: "forward" });
      status.textContent = `${count(Object.keys(fwd.matrix[request.outputs[0]]).length, "input")}, ` +
        `${count(request.outputs.length, "output")}. Build the Jacobian either way.`;
      section.dataset.ready = "true";
    } catch (e) {
      showError(section.querySelector("[data-role=error]"), e);
    }
  }

  for (const button of section.querySelectorAll("[data-build]")) {
    button.addEventListener("click", () => build(button.dataset.build).catch((e) =>
      showError(section.querySelector("[data-role=error]"), e)));
  }
  section.querySelector("[data-role=next]").addEventListener("click", () => nextPass().catch(
    (e) => showError(section.querySelector("[data-role=error]"), e)));
  load();
}

/** ℝ¹⁰⁰ → ℝ and ℝ → ℝ¹⁰⁰, each with work every pass shares: one request per program. */
async function decisive() {
  const n = 100;
  const range = (k) => Array.from({ length: k }, (_, i) => i);
  const chain = (first) => [`h1 = sin(${first})`, ...range(9).map((i) => `h${i + 2} = sin(h${i + 1})`)];
  const manyIn = {
    name: "ℝ¹⁰⁰ → ℝ",
    source: ["s0 = x0*x0", ...range(n - 1).map((i) => `s${i + 1} = s${i} + x${i + 1}*x${i + 1}`),
      ...chain(`s${n - 1}`), "f = h10"].join("; "),
    at: Object.fromEntries(range(n).map((i) => [`x${i}`, 0.1])),
  };
  const manyOut = {
    name: "ℝ → ℝ¹⁰⁰",
    source: [...chain("t"), ...range(n).map((i) => `y${i} = ${i + 1}*h10`)].join("; "),
    at: { t: 1 },
    outputs: range(n).map((i) => `y${i}`),
  };
  try {
    const rows = await Promise.all([manyIn, manyOut].map(async (program) => {
      const body = { source: program.source, at: program.at, mode: "reverse" };
      if (program.outputs) body.outputs = program.outputs;
      const { cost, cheaper } = await postJson("/api/v1/jacobian", body);
      const tr = document.createElement("tr");
      tr.dataset.program = program.name;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = program.name;
      tr.append(th);
      const ratio = Math.max(cost.forward.operations, cost.reverse.operations)
        / Math.min(cost.forward.operations, cost.reverse.operations);
      for (const text of [cost.forward.passes, cost.forward.operations, cost.reverse.passes,
        cost.reverse.operations, `${cheaper}, ${ratio.toFixed(0)}× fewer operations`]) {
        const td = document.createElement("td");
        td.textContent = String(text);
        tr.append(td);
      }
      return tr;
    }));
    document.querySelector("#decisive-table tbody").replaceChildren(...rows);
  } catch (e) {
    showError(document.getElementById("decisive-error"), e);
  }
}

document.querySelectorAll("[data-jacobian]").forEach(setUp);
decisive();
recordProgress(document.querySelector("[data-slug]").dataset.slug);
mountQuizzes();
