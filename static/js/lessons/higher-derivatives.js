/**
 * Lesson 7: derivatives of derivatives as programs (/api/v1/derivative, orders 1 to 3) and a
 * Hessian by forward over reverse (/api/v1/hessian). Every number is the server's.
 */

import { debounce, formatNumber, playgroundUrl, postJson, showError } from "./client.js";
import { mountQuizzes } from "./quiz.js";

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
orders();
hessian();
mountQuizzes();
