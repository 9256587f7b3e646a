/**
 * step-arrays.js — the arrays of the current step of a tensor trace, drawn with array-view.js.
 *
 *   const view = new StepArrays(container)
 *   view.show(timeline, k)   // frame k: its value (primal), tangent (forward) or adjoint and
 *                            // each contribution (reverse); hidden when the step has no array
 *   view.clear()
 *
 * A matmul's contribution is drawn as the product it is: v̄C · Bᵀ = (to A), Aᵀ · v̄C = (to B),
 * a vector standing as a column or a row; so v̄W = v̄·xᵀ shows as a column times a row (an
 * outer product) and v̄W1 = Xᵀ·v̄ as the batch summed. The browser only arranges what the
 * server computed: the result is the server's contribution, the factors the adjoint and the
 * value it used (transposed for display).
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

const column = (v) => v.map((x) => [x]);
const transpose = (m) => m[0].map((_, j) => m.map((r) => r[j]));
const isMatrix = (x) => Array.isArray(x) && Array.isArray(x[0]) && !Array.isArray(x[0][0]);

function row(...children) {
  const picture = el("div", "product-picture");
  picture.append(...children);
  return picture;
}

/** The two factors of a matmul's contribution as they multiply, or null (batched operands):
 * to A, v̄C · Bᵀ; to B, Aᵀ · v̄C; a vector stands as the column or row the product needs, so
 * v̄W = v̄·xᵀ shows as a column times a row (an outer product), v̄W1 = Xᵀ·v̄ as a sum over the
 * batch. */
function matmulPicture(node, position, adjoint, values) {
  const [a, b] = node.args.map((id) => values.get(id));
  const bar = adjointOf(node.id);
  const ok = (x) => isVector(x) || isMatrix(x);
  if (!ok(a) || !ok(b) || !ok(adjoint)) return null;
  let factors;
  if (position === 0) {
    const left = isVector(adjoint) ? (isVector(a) ? [adjoint] : column(adjoint)) : adjoint;
    const right = isVector(b) ? [b] : transpose(b);
    factors = [[bar, left, "adjoint"], [`${node.args[1]}ᵀ`, right, "primal"]];
  } else {
    const left = isVector(a) ? column(a) : transpose(a);
    const right = isVector(adjoint) ? (isVector(b) ? column(adjoint) : [adjoint]) : adjoint;
    factors = [[`${node.args[0]}ᵀ`, left, "primal"], [bar, right, "adjoint"]];
  }
  const [[n1, x1, k1], [n2, x2, k2]] = factors;
  return [item(n1, x1, k1), el("span", "operator", "·"), item(n2, x2, k2)];
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
      const picture = step.op === "matmul" && node ? matmulPicture(node, position, step.adjoint, values) : null;
      if (picture) {
        box.append(row(...picture, el("span", "operator", "="), item(`to ${c.to}`, c.contribution, "adjoint")));
      } else {
        box.append(item(`to ${c.to}`, c.contribution, "adjoint"));
      }
      parts.push(box);
    }
    return parts;
  }
}
