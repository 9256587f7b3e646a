/**
 * Lesson 2: the learner's own function three ways. The symbolic derivative and its size
 * (/api/v1/symbolic), the AD value (/api/v1/differentiate), the finite-difference error
 * against h (/api/v1/numeric), and a swelling family (/api/v1/symbolic/swelling): all
 * computed by the server, plotted here.
 */

import { differentiate, formatNumber, playgroundUrl, postJson, showError } from "./client.js";
import { recordProgress } from "./lesson-state.js";
import { linePlot } from "./plot.js";

const $ = (id) => document.getElementById(id);
const source = $("own-function");
const xField = $("own-x");
const errorPlot = linePlot($("error-plot"), {
  title: "Finite-difference error against h", xLabel: "step h (log scale)",
  yLabel: "|error| (log scale)", logX: true, logY: true, height: 300,
  series: [{ label: "forward difference" }, { label: "central difference" }],
});

const positive = (values) => values.map((v) => (v === null || v <= 0 ? null : v));

async function compare() {
  const text = source.value;
  const x = Number(xField.value);
  $("playground-link").href = playgroundUrl(text, { x }, "reverse");
  try {
    const [symbolic, ad, numeric] = await Promise.all([
      postJson("/api/v1/symbolic", { source: text, wrt: "x" }),
      differentiate({ source: text, at: { x }, mode: "reverse", trace: false }),
      postJson("/api/v1/numeric", { source: text, at: { x }, wrt: "x" }),
    ]);
    $("symbolic-form").textContent = symbolic.derivative.text === null
      ? "(too long to print)" : `d${symbolic.output}/dx = ${symbolic.derivative.text}`;
    $("symbolic-size").textContent = String(symbolic.derivative.operations);
    $("ad-size").textContent = String(symbolic.ad_operations);
    $("ad-value").textContent = formatNumber(ad.derivatives[symbolic.output].x);
    const steps = numeric.steps;
    errorPlot.setData([steps.slice().reverse(), positive(numeric.forward.errors).reverse(),
      positive(numeric.central.errors).reverse()]);
    const best = $("best-h");
    best.dataset.forward = String(numeric.forward.best_h);
    best.dataset.central = String(numeric.central.best_h);
    best.textContent = `Exact (AD) derivative: ${formatNumber(numeric.exact)}. Best h: ` +
      `${formatNumber(numeric.forward.best_h)} for the forward difference (error ` +
      `${formatNumber(numeric.forward.best_error)}), ${formatNumber(numeric.central.best_h)} for ` +
      `the central one (error ${formatNumber(numeric.central.best_error)}).`;
    showError($("own-error"), null);
  } catch (e) {
    clearResults(); // never an old derivative beside a new error
    showError($("own-error"), e);
  }
}

function clearResults() {
  for (const id of ["symbolic-form", "symbolic-size", "ad-size", "ad-value", "best-h"]) {
    $(id).textContent = "—";
  }
  delete $("best-h").dataset.forward;
  delete $("best-h").dataset.central;
  errorPlot.setData([[], [], []]);
}

async function swelling() {
  const data = await postJson("/api/v1/symbolic/swelling", { family: "logistic", n_max: 8 });
  const rows = data.rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of [row.n, row.derivative_symbolic, row.derivative_ad]) {
      const td = document.createElement("td");
      td.textContent = String(value);
      tr.append(td);
    }
    return tr;
  });
  $("swelling-table").querySelector("tbody").replaceChildren(...rows);
}

$("own-go").addEventListener("click", compare);
// Enter recomputes from either field, as the Compare button does
for (const field of [source, xField]) {
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      compare();
    }
  });
}
compare();
swelling().catch((e) => showError($("own-error"), e));
recordProgress(document.querySelector("[data-slug]").dataset.slug);
