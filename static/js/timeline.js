/**
 * timeline.js — what each animation step shows, read off the server's trace (no math here).
 *
 *   const t = buildTimeline(result)   // result: the /api/v1/differentiate JSON
 *   t.frames                          // one frame per trace row: the primal rows, then each pass
 *                                     //   {phase: "primal"|"forward"|"reverse", pass, index, node,
 *                                     //    edges: [edge ids], step: the server's step}
 *   stateAt(t, k) -> {nodes, edges, rows, pass, phase}
 *       nodes: Map id -> {cls, value, deriv, derivKind}   (texts for the graph's labels)
 *       edges: Map id -> {cls, label}
 *       rows:  Map id -> {cls}                            (the trace table's row classes)
 *   passTexts(t, p) -> Map id -> {formulas: [text], value}  (the derivative column of pass p)
 *   describe(t, k) -> the step in words, for the caption and screen readers
 *   passCaption(t, k), frameOfNode(t, id, k), formatNumber(x), formatShort(x)
 *   t.statementOf: Map node id -> the id of its statement's named node (a statement is a
 *                  named node and the unnamed nodes written for it; the server's drawing
 *                  groups them the same way)
 *   nextStop(t, k, delta, "node"|"statement"|"pass") -> the frame a step of that size reaches
 *
 * Reusable: the lessons use it with graph.js, trace-table.js and animation.js.
 */

import { flat, shapeOf, stats, summary } from "./arrays.js";

/** A number as a learner wants to read it: 36, 0.5, 2.71828, 1.2e-7; null is "undefined";
 * an array as a summary (its numbers when few, else its shape and norm). */
export function formatNumber(x) {
  if (x === null || x === undefined) return "undefined";
  if (Array.isArray(x)) return summary(x, formatNumber);
  if (typeof x !== "number") return String(x);
  if (Object.is(x, -0)) return "0";
  const size = Math.abs(x);
  if (Number.isInteger(x) && size < 1e12) return String(x);
  if (size !== 0 && (size < 1e-4 || size >= 1e9)) {
    return x.toExponential(4).replace(/\.?0+e/, "e").replace("e+", "e");
  }
  return String(Number(x.toPrecision(6)));
}

/** Fewer digits, for the graph's labels: 0.3558, -12.35, 1.2e-7. */
export function formatShort(x) {
  if (Array.isArray(x)) return summary(x, formatShort);
  if (typeof x !== "number" || Number.isInteger(x)) return formatNumber(x);
  const size = Math.abs(x);
  if (size !== 0 && (size < 1e-4 || size >= 1e9)) return formatNumber(x);
  return String(Number(x.toPrecision(4)));
}

/** "+0.5" or "−0.5": a contribution with its sign written once (never "+-0.5"). */
export function signed(x, format = formatNumber) {
  return typeof x === "number" && x < 0 ? `−${format(-x)}` : `+${format(x)}`;
}

const DOT = "\u0307"; // combining dot above: v̇ (tangent)
const BAR = "\u0304"; // combining macron: v̄ (adjoint)

export const tangentOf = (id) => `v${DOT}${id.slice(1)}`;
export const adjointOf = (id) => `v${BAR}${id.slice(1)}`;

export function buildTimeline(result) {
  const graph = result.graph;
  const incoming = new Map();
  for (const edge of graph.edges) {
    if (!incoming.has(edge.target)) incoming.set(edge.target, []);
    incoming.get(edge.target).push(edge.id);
  }
  const outputIds = new Map(Object.entries(graph.outputs || {}));
  const frames = [];
  result.primal.forEach((step, index) => {
    frames.push({ phase: "primal", pass: -1, index, node: step.node, step,
      edges: incoming.get(step.node) || [] });
  });
  result.passes.forEach((pass, p) => {
    pass.steps.forEach((step, index) => {
      const links = pass.direction === "forward" ? step.partials : step.contributions;
      frames.push({ phase: pass.direction, pass: p, index, node: step.node, step,
        edges: (links || []).map((link) => link.edge) });
    });
  });
  const labels = new Map(graph.nodes.map((n) => [n.id, n.label]));
  return { result, graph, frames, labels, outputIds, primalCount: result.primal.length,
    statementOf: statements(graph) };
}

/** Node id -> its statement's named node id (an input is a statement of its own). */
export function statements(graph) {
  const of = new Map();
  let pending = [];
  for (const node of graph.nodes) {
    if (node.op === "input") {
      of.set(node.id, node.id);
      continue;
    }
    pending.push(node.id);
    if (node.label !== null && node.label !== undefined) {
      for (const id of pending) of.set(id, node.id);
      pending = [];
    }
  }
  for (const id of pending) of.set(id, id);
  return of;
}

/** The frame a step reaches: the next (or previous) node, or the end of the next (previous)
 * statement or pass. */
export function nextStop(t, k, delta, kind = "node") {
  const last = t.frames.length - 1;
  if (kind === "node") return Math.max(0, Math.min(last, k + delta));
  const key = (i) => {
    const f = t.frames[i];
    return kind === "pass" ? String(f.pass) : `${f.pass}:${t.statementOf.get(f.node) ?? f.node}`;
  };
  if (delta > 0) {
    let i = k + 1;
    if (i >= last) return last;
    while (i < last && key(i + 1) === key(i)) i += 1;
    return i;
  }
  let i = Math.min(k, last);
  while (i > 0 && key(i - 1) === key(i)) i -= 1;
  return Math.max(0, i - 1);
}

/** The output nodes' seeds in reverse pass p: Map node id -> cotangent (nonzero only). */
function seedsOf(t, p) {
  const seeds = new Map();
  for (const [name, value] of Object.entries(t.result.passes[p].seed || {})) {
    const id = t.outputIds.get(name);
    if (id && value !== 0) seeds.set(id, value);
  }
  return seeds;
}

/** "12 + 24 − 3 = 33": the parts a node's adjoint collected ({value, seed}), and their total
 * as the server gave it. */
function sumText(parts, total, format = formatNumber) {
  // a sum of arrays is read from the table's pictures; the label gives the total
  if (parts.length <= 1 || Array.isArray(total)) return format(total);
  const terms = parts.map((part, i) => {
    const tag = part.seed ? " (seed)" : "";
    if (i === 0) return `${format(part.value)}${tag}`;
    const x = part.value;
    return typeof x === "number" && x < 0 ? `− ${format(-x)}${tag}` : `+ ${format(x)}${tag}`;
  });
  return `${terms.join(" ")} = ${format(total)}`;
}

/** An edge's label: "×local → carried"; a tensor rule that is a linear map (matmul,
 * broadcast, a sum: no local array) or an array-valued local shows what it carries. */
function edgeText(local, carried) {
  if (local === null || local === undefined || Array.isArray(local)) return `→ ${normText(carried)}`;
  return `×${formatShort(local)} → ${formatShort(carried)}`;
}

// Arrays of more numbers than this are labelled by their norm in the drawing (its nodes and
// edges show their shapes; the trace and the step's arrays show every number): longer labels
// would not find room beside a node.
const IN_FULL = 2;
const inFull = (x) => !Array.isArray(x) || x.flat(Infinity).length <= IN_FULL;

/** An edge's array: "→ [0.1, 0.2]" or "→ ‖·‖ 1.414". */
function normText(x) {
  return inFull(x) ? formatShort(x) : `‖·‖ ${formatShort(stats(x).norm)}`;
}

/** A node's label in the drawing: "v3 = 0.5", "v3 = [1, 2]", or "‖v3‖ = 1.414". */
function graphText(name, x) {
  return inFull(x) ? `${name} = ${formatShort(x)}` : `‖${name}‖ = ${formatShort(stats(x).norm)}`;
}

export function stateAt(t, k) {
  const frame = t.frames[k];
  const nodes = new Map();
  const edges = new Map();
  const rows = new Map();
  const node = (id) => {
    if (!nodes.has(id)) nodes.set(id, { cls: [], value: "", deriv: "", derivKind: "" });
    return nodes.get(id);
  };
  const row = (id) => {
    if (!rows.has(id)) rows.set(id, { cls: [] });
    return rows.get(id);
  };

  // Values: every node evaluated so far (all of them once a derivative pass runs).
  const primalEnd = frame.phase === "primal" ? frame.index : t.primalCount - 1;
  for (let i = 0; i <= primalEnd; i += 1) {
    const step = t.result.primal[i];
    const n = node(step.node);
    n.cls.push("is-evaluated");
    // a constant's drawing already shows its number
    n.value = step.op === "const" ? "" : graphText(step.node, step.value);
    row(step.node).cls.push("primal-shown");
    if (frame.phase === "primal" && i < frame.index) {
      for (const id of t.frames[i].edges) edges.set(id, { cls: ["is-done", "is-primal"], label: "" });
    }
  }

  if (frame.phase === "forward") {
    const steps = t.result.passes[frame.pass].steps;
    for (let i = 0; i <= frame.index; i += 1) {
      const step = steps[i];
      const n = node(step.node);
      n.cls.push("has-tangent");
      n.deriv = graphText(tangentOf(step.node), step.tangent);
      n.derivKind = "tangent";
      row(step.node).cls.push("deriv-shown");
      for (const partial of step.partials) {
        edges.set(partial.edge, { cls: ["is-done", "is-tangent"],
          label: edgeText(partial.local, partial.product) });
      }
    }
  } else if (frame.phase === "reverse") {
    const steps = t.result.passes[frame.pass].steps;
    const seeds = seedsOf(t, frame.pass);
    const parts = new Map();
    const totals = new Map();
    for (const [id, value] of seeds) {
      parts.set(id, [{ value, seed: true }]);
      totals.set(id, value);
    }
    for (let i = 0; i <= frame.index; i += 1) {
      const step = steps[i];
      node(step.node).cls.push("has-adjoint");
      totals.set(step.node, step.adjoint);
      row(step.node).cls.push("deriv-shown");
      for (const c of step.contributions) {
        if (!parts.has(c.to)) parts.set(c.to, []);
        parts.get(c.to).push({ value: c.contribution });
        totals.set(c.to, c.adjoint_after);
        edges.set(c.edge, { cls: ["is-done", "is-adjoint"],
          label: edgeText(c.local, c.contribution) });
      }
    }
    for (const [id, total] of totals) {
      const n = node(id);
      if (!n.cls.includes("has-adjoint")) n.cls.push("is-accumulating");
      n.deriv = Array.isArray(total) ? graphText(adjointOf(id), total)
        : `${adjointOf(id)} = ${sumText(parts.get(id) || [], total, formatShort)}`;
      n.derivKind = "adjoint";
    }
  }

  // The current step: its node, its row and its edges, highlighted together.
  node(frame.node).cls.push("is-current");
  row(frame.node).cls.push("is-current");
  const kind = { primal: "is-primal", forward: "is-tangent", reverse: "is-adjoint" }[frame.phase];
  const flow = frame.phase === "reverse" ? "flow-backward" : "flow-forward";
  for (const id of frame.edges) {
    const edge = edges.get(id) || { cls: [], label: "" };
    edges.set(id, { cls: ["is-active", kind, flow], label: edge.label });
  }

  const join = (map) => {
    const out = new Map();
    for (const [id, v] of map) out.set(id, { ...v, cls: v.cls.join(" ") });
    return out;
  };
  return { phase: frame.phase, pass: frame.pass, nodes: join(nodes), edges: join(edges),
    rows: join(rows) };
}

/** The derivative column of pass p, for every node the pass visits. */
export function passTexts(t, p) {
  const pass = t.result.passes[p];
  const texts = new Map();
  if (pass.direction === "forward") {
    for (const step of pass.steps) {
      texts.set(step.node, { formulas: [step.formula], value: formatNumber(step.tangent),
        raw: step.tangent });
    }
    return texts;
  }
  const seeds = seedsOf(t, p);
  const parts = new Map([...seeds].map(([id, value]) => [id, [{ value, seed: true }]]));
  for (const step of pass.steps) {
    for (const c of step.contributions) {
      if (!parts.has(c.to)) parts.set(c.to, []);
      parts.get(c.to).push({ value: c.contribution });
    }
  }
  for (const step of pass.steps) {
    // The server joins one formula per contribution with "; "; show each with its number.
    const pieces = step.formula.split("; ");
    const formulas = pieces.length === step.contributions.length
      ? pieces.map((text, i) => {
        const c = step.contributions[i].contribution;
        return Array.isArray(c) ? text : `${text}  (${signed(c, formatShort)})`; // an array: in the pictures
      })
      : [step.formula];
    texts.set(step.node, { formulas, value: sumText(parts.get(step.node) || [], step.adjoint),
      raw: step.adjoint });
  }
  return texts;
}

function named(t, id) {
  const label = t.labels.get(id);
  return label ? `${id} (${label})` : id;
}

/** What an input's adjoint is: ∂y/∂w when the pass seeds one output with 1. */
function derivativeOf(t, frame) {
  const seeded = seededElements(t.result.passes[frame.pass].seed);
  const input = t.labels.get(frame.node) || frame.node;
  if (seeded.length === 1 && seeded[0].value === 1) return `∂${seeded[0].name}/∂${input}`;
  return "a derivative of the weighted outputs";
}

/** The nonzero entries of a seed, element by element: [{name: "W[0,1]", value}]; a scalar's
 * name is its own. (A tensor pass seeds one element of one input or output with 1.) */
export function seededElements(seed) {
  const found = [];
  for (const [name, v] of Object.entries(seed || {})) {
    if (!Array.isArray(v)) {
      if (v !== 0) found.push({ name, value: v });
      continue;
    }
    const shape = shapeOf(v);
    flat(v).forEach((x, i) => {
      if (x === 0) return;
      const index = [];
      for (let axis = shape.length - 1, rest = i; axis >= 0; axis -= 1) {
        index.unshift(rest % shape[axis]);
        rest = Math.floor(rest / shape[axis]);
      }
      found.push({ name: `${name}[${index.join(",")}]`, value: x });
    });
  }
  return found;
}

export function describe(t, k) {
  const frame = t.frames[k];
  const step = frame.step;
  if (frame.phase === "primal") {
    return `Evaluate ${named(t, frame.node)}: ${step.formula} = ${formatNumber(step.value)}.`;
  }
  if (frame.phase === "forward") {
    return `Tangent of ${named(t, frame.node)}: ${step.formula} = ${formatNumber(step.tangent)}.`;
  }
  const sends = step.contributions.map((c) => (Array.isArray(step.adjoint) || Array.isArray(c.contribution)
    ? `sends ${c.formula.replace(/^.*?\+= /, "")} = ${formatNumber(c.contribution)} to ${c.to}, whose adjoint is now ${formatNumber(c.adjoint_after)}`
    : `sends ${formatNumber(step.adjoint)} × ${formatNumber(c.local)} = ${formatNumber(c.contribution)} to ${c.to}, whose adjoint is now ${formatNumber(c.adjoint_after)}`));
  const rest = sends.length ? `; it ${sends.join("; it ")}` : `; it is an input, so this is ${derivativeOf(t, frame)}`;
  return `Adjoint of ${named(t, frame.node)} is ${formatNumber(step.adjoint)}${rest}.`;
}

export function passCaption(t, k) {
  const frame = t.frames[k];
  if (frame.phase === "primal") return "Primal trace: evaluating the program in order";
  const passes = t.result.passes;
  const elements = seededElements(passes[frame.pass].seed);
  const seed = elements.length > 4 ? `${elements.length} elements`
    : elements.map(({ name, value }) => `${name} = ${formatNumber(value)}`).join(", ");
  const what = frame.phase === "forward" ? "Tangent pass" : "Adjoint pass";
  return `${what} ${frame.pass + 1} of ${passes.length} · seed ${seed || "0"}`;
}

/** The frame to jump to for a node: its step in the current pass, else its primal step. */
export function frameOfNode(t, id, k) {
  const current = t.frames[k];
  if (current && current.phase !== "primal") {
    const i = t.frames.findIndex((f) => f.pass === current.pass && f.node === id);
    if (i >= 0) return i;
  }
  return t.frames.findIndex((f) => f.phase === "primal" && f.node === id);
}
