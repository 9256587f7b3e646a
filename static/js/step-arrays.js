/**
 * step-arrays.js — the arrays of the current step of a tensor trace, drawn with array-view.js.
 *
 *   const view = new StepArrays(container)
 *   view.show(timeline, k)   // frame k: its value (primal), tangent (forward) or adjoint and
 *                            // each contribution (reverse); hidden when the step has no array
 *   view.clear()
 *
 * A matmul's contribution to its first operand from vectors is drawn as the outer product it
 * is: the adjoint as a column, times the other operand as a row, equals the matrix
 * (v̄W = v̄·xᵀ). The browser only arranges what the server computed (the product shown is the
 * server's contribution; the column and the row are the adjoint and the value it used).
 */

import { shapeOf, shapeText } from "./arrays.js";
import { arrayView } from "./array-view.js";
import { adjointOf, formatShort, tangentOf } from "./timeline.js";

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const isVector = (x) => Array.isArray(x) && !Array.isArray(x[0]);

/** One array with its caption: a name and the shape. */
function item(caption, x, kind) {
  const shape = Array.isArray(x) ? ` (${shapeText(shapeOf(x))})` : "";
  return arrayView(x, { format: formatShort, caption: `${caption}${shape}`, kind });
}

export class StepArrays {
  constructor(container) {
    this.container = container;
  }

  clear() {
    this.container.replaceChildren();
    this.container.hidden = true;
  }

  show(t, k) {
    const frame = t.frames[k];
    const step = frame.step;
    const parts = [];
    if (frame.phase === "primal") {
      if (Array.isArray(step.value)) parts.push(item(`${step.node} = ${step.formula.replace(/^v\d+ = /, "")}`, step.value, "primal"));
    } else if (frame.phase === "forward") {
      if (Array.isArray(step.tangent)) parts.push(item(tangentOf(step.node), step.tangent, "tangent"));
    } else {
      parts.push(...this.reverse(t, step));
    }
    const tensor = parts.length > 0;
    this.container.hidden = !tensor;
    if (!tensor) {
      this.container.replaceChildren();
      return;
    }
    const row = el("div", "step-arrays-row");
    row.append(...parts);
    this.container.replaceChildren(row);
  }

  reverse(t, step) {
    const arrays = [step.adjoint, ...step.contributions.map((c) => c.contribution)];
    if (!arrays.some(Array.isArray)) return [];
    const parts = [item(adjointOf(step.node), step.adjoint, "adjoint")];
    const values = new Map(t.result.primal.map((s) => [s.node, s.value]));
    const node = t.graph.nodes.find((n) => n.id === step.node);
    for (const c of step.contributions) {
      const position = Number(c.edge.split("_").at(-1));
      const box = el("div", "contribution");
      box.append(el("p", "contribution-formula", c.formula));
      const other = node && node.args[1 - position] !== undefined ? values.get(node.args[1 - position]) : undefined;
      if (step.op === "matmul" && position === 0 && isVector(step.adjoint) && isVector(other)) {
        // the outer product: v̄ (a column) times the other operand (a row)
        const picture = el("div", "outer-product");
        picture.append(
          item(adjointOf(step.node), step.adjoint.map((v) => [v]), "adjoint"),
          el("span", "operator", "·"),
          item(`${node.args[1]}ᵀ`, [other], "primal"),
          el("span", "operator", "="),
          item(`to ${c.to}`, c.contribution, "adjoint"));
        box.append(picture);
      } else {
        box.append(item(`to ${c.to}`, c.contribution, "adjoint"));
      }
      parts.push(box);
    }
    return parts;
  }
}
