/**
 * trace-table.js — the evaluation trace as textbooks print it: one row per node, the primal
 * column (formula and value) then the tangent or adjoint column of the current pass.
 *
 *   const table = new TraceTable(container, {onRowClick: (id) => ...})
 *   table.build(timeline)      // builds every row once (the primal texts are fixed)
 *   table.update(timeline)     // the same steps at a new point: rewrites the numbers only
 *   table.apply(state)         // state from timeline.stateAt: toggles row classes; writes
 *                              // the derivative texts only when the pass changes
 *   table.clear(message)
 *
 * Rows not reached yet keep their text but hide it, so columns never jump while playing.
 * The forward column fills top-down; the adjoint column bottom-up (the reverse sweep).
 * Value cells carry the server's number in data-value (tests compare it with the API).
 */

import { shapeText } from "./arrays.js";
import { arrayView } from "./array-view.js";
import { formatNumber, formatShort, passTexts, tangentOf, adjointOf } from "./timeline.js";

/** A value cell's content: a number, or an array drawn as a matrix or a heatmap. */
const raw = (x) => (Array.isArray(x) ? JSON.stringify(x) : String(x)); // for data-value

function fill(cell, x, kind) {
  if (Array.isArray(x)) cell.replaceChildren(arrayView(x, { format: formatShort, kind }));
  else cell.textContent = formatNumber(x);
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class TraceTable {
  constructor(container, { onRowClick = null } = {}) {
    this.container = container;
    this.onRowClick = onRowClick;
    this.rows = new Map(); // id -> {tr, derivFormula, derivValue, cache}
    this.pass = null;
    this.timeline = null;
    container.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-node]");
      if (button && this.onRowClick) this.onRowClick(button.dataset.node);
    });
  }

  build(timeline) {
    this.timeline = timeline;
    this.pass = null;
    this.rows = new Map();
    const passes = timeline.result.passes;
    const direction = passes.length ? passes[0].direction : "reverse";
    this.kind = direction === "forward" ? "tangent" : "adjoint";
    const table = el("table", `trace-table ${direction}`);
    const caption = el("caption", "visually-hidden",
      `Evaluation trace: primal values, then ${direction === "forward" ? "tangents" : "adjoints"}`);
    const head = el("thead");
    const groups = el("tr");
    groups.append(el("td", "corner"));
    const primalGroup = el("th", "group primal", "Primal trace");
    primalGroup.colSpan = 2;
    primalGroup.scope = "colgroup";
    const derivGroup = el("th", `group ${direction}`,
      direction === "forward" ? "Tangent trace ↓" : "Adjoint trace ↑");
    derivGroup.colSpan = 2;
    derivGroup.scope = "colgroup";
    groups.append(primalGroup, derivGroup);
    const names = el("tr");
    const derivHead = direction === "forward" ? `${tangentOf("vᵢ")} =` : `${adjointOf("vᵢ")} pushes`;
    for (const [text, cls] of [["Node", "col-node"], ["vᵢ =", "col-formula"], ["value", "num"],
      [derivHead, "col-formula"], [direction === "forward" ? "tangent" : "adjoint", "num"]]) {
      const th = el("th", cls, text);
      th.scope = "col";
      names.append(th);
    }
    head.append(groups, names);
    const body = el("tbody");
    for (const step of timeline.result.primal) {
      const tr = el("tr");
      tr.dataset.node = step.node;
      const th = el("th", "col-node");
      th.scope = "row";
      const button = el("button", "row-jump", step.node);
      button.type = "button";
      button.dataset.node = step.node;
      button.setAttribute("aria-label", `Jump to the step of ${step.node}${step.label ? ` (${step.label})` : ""}`);
      th.append(button);
      if (step.label) th.append(el("span", "node-name", step.label));
      if (step.shape && step.shape.length) th.append(el("span", "shape-tag", shapeText(step.shape)));
      const value = el("td", "num primal-value");
      fill(value, step.value, "primal");
      value.dataset.value = raw(step.value);
      const derivFormula = el("td", "deriv-formula");
      const derivValue = el("td", "num deriv-value");
      tr.append(th, el("td", "primal-formula", step.formula), value, derivFormula, derivValue);
      body.append(tr);
      this.rows.set(step.node, { tr, value, derivFormula, derivValue, cache: { cls: "" } });
    }
    table.append(caption, head, body);
    this.container.replaceChildren(table);
    this.setPass(passes.length ? 0 : -1); // hidden until reached: the first pass costs no writes
  }

  /** A new point on the same program (a moving slider): new numbers in the same rows, no
   * new elements, so the page is not laid out from scratch. */
  update(timeline) {
    this.timeline = timeline;
    for (const step of timeline.result.primal) {
      const row = this.rows.get(step.node);
      if (!row) return this.build(timeline);
      fill(row.value, step.value, "primal");
      row.value.dataset.value = raw(step.value);
    }
    const pass = this.pass;
    this.pass = null;
    this.setPass(pass);
    return undefined;
  }

  setPass(p) {
    this.pass = p;
    const texts = p >= 0 ? passTexts(this.timeline, p) : new Map();
    for (const [id, row] of this.rows) {
      const text = texts.get(id);
      row.derivFormula.replaceChildren(...(text ? text.formulas.map((f) => el("div", null, f)) : []));
      if (text && Array.isArray(text.raw)) fill(row.derivValue, text.raw, this.kind);
      else row.derivValue.textContent = text ? text.value : "";
      if (text) row.derivValue.dataset.value = raw(text.raw);
      else delete row.derivValue.dataset.value;
    }
  }

  apply(state) {
    // Primal frames keep the first pass's column hidden, so it need not change later.
    const pass = state.pass >= 0 ? state.pass : this.pass ?? (this.timeline.result.passes.length ? 0 : -1);
    if (pass !== this.pass) this.setPass(pass);
    let current = null;
    for (const [id, row] of this.rows) {
      const s = state.rows.get(id);
      const cls = s ? s.cls : "";
      if (row.cache.cls !== cls) {
        row.cache.cls = cls;
        row.tr.className = cls;
      }
      if (cls.includes("is-current")) current = row.tr;
    }
    if (current) this.reveal(current);
  }

  /** Scroll the table (only the table, never the page) so the current row is visible. */
  reveal(tr) {
    const box = this.container;
    const top = tr.offsetTop;
    const bottom = top + tr.offsetHeight;
    const head = this.container.querySelector("thead");
    const headHeight = head ? head.offsetHeight : 0;
    if (top - headHeight < box.scrollTop) box.scrollTop = Math.max(0, top - headHeight - 8);
    else if (bottom > box.scrollTop + box.clientHeight) box.scrollTop = bottom - box.clientHeight + 8;
  }

  clear(message) {
    this.timeline = null;
    this.rows = new Map();
    this.pass = null;
    this.container.replaceChildren(el("p", "help trace-empty", message || ""));
  }
}
