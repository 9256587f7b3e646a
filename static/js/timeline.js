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
 *   passCaption(t, k), frameOfNode(t, id, k), formatNumber(x)
 *
 * Reusable: the lessons use it with graph.js, trace-table.js and animation.js.
 */

/** A number as a learner wants to read it: 36, 0.5, 2.71828, 1.2e-7; null is "undefined". */
export function formatNumber(x) {
  if (x === null || x === undefined) return "undefined";
  if (Array.isArray(x)) return `[${x.length} values]`;
  if (typeof x !== "number") return String(x);
  if (Object.is(x, -0)) return "0";
  const size = Math.abs(x);
  if (Number.isInteger(x) && size < 1e12) return String(x);
  if (size !== 0 && (size < 1e-4 || size >= 1e9)) {
    return x.toExponential(4).replace(/\.?0+e/, "e").replace("e+", "e");
  }
  return String(Number(x.toPrecision(6)));
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
  return { result, graph, frames, labels, outputIds, primalCount: result.primal.length };
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

/** "12 + 24 = 36": the parts a node's adjoint collected, and their total as the server gave it. */
function sumText(parts, total) {
  if (parts.length <= 1) return formatNumber(total);
  return `${parts.join(" + ")} = ${formatNumber(total)}`;
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
    n.value = step.op === "const" ? "" : `${step.node} = ${formatNumber(step.value)}`;
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
      n.deriv = `${tangentOf(step.node)} = ${formatNumber(step.tangent)}`;
      n.derivKind = "tangent";
      row(step.node).cls.push("deriv-shown");
      for (const partial of step.partials) {
        edges.set(partial.edge, { cls: ["is-done", "is-tangent"],
          label: `×${formatNumber(partial.local)} → ${formatNumber(partial.product)}` });
      }
    }
  } else if (frame.phase === "reverse") {
    const steps = t.result.passes[frame.pass].steps;
    const seeds = seedsOf(t, frame.pass);
    const parts = new Map();
    const totals = new Map();
    for (const [id, value] of seeds) {
      parts.set(id, [`${formatNumber(value)} (seed)`]);
      totals.set(id, value);
    }
    for (let i = 0; i <= frame.index; i += 1) {
      const step = steps[i];
      node(step.node).cls.push("has-adjoint");
      totals.set(step.node, step.adjoint);
      row(step.node).cls.push("deriv-shown");
      for (const c of step.contributions) {
        if (!parts.has(c.to)) parts.set(c.to, []);
        parts.get(c.to).push(formatNumber(c.contribution));
        totals.set(c.to, c.adjoint_after);
        edges.set(c.edge, { cls: ["is-done", "is-adjoint"],
          label: `×${formatNumber(c.local)} → ${formatNumber(c.contribution)}` });
      }
    }
    for (const [id, total] of totals) {
      const n = node(id);
      if (!n.cls.includes("has-adjoint")) n.cls.push("is-accumulating");
      n.deriv = `${adjointOf(id)} = ${sumText(parts.get(id) || [], total)}`;
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
  const parts = new Map([...seeds].map(([id, v]) => [id, [`${formatNumber(v)} (seed)`]]));
  for (const step of pass.steps) {
    for (const c of step.contributions) {
      if (!parts.has(c.to)) parts.set(c.to, []);
      parts.get(c.to).push(formatNumber(c.contribution));
    }
  }
  for (const step of pass.steps) {
    // The server joins one formula per contribution with "; "; show each with its number.
    const pieces = step.formula.split("; ");
    const formulas = pieces.length === step.contributions.length
      ? pieces.map((text, i) => `${text}  (+${formatNumber(step.contributions[i].contribution)})`)
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
  const seeded = Object.entries(t.result.passes[frame.pass].seed || {}).filter(([, v]) => v !== 0);
  const input = t.labels.get(frame.node) || frame.node;
  if (seeded.length === 1 && seeded[0][1] === 1) return `∂${seeded[0][0]}/∂${input}`;
  return "a derivative of the weighted outputs";
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
  const sends = step.contributions.map((c) =>
    `sends ${formatNumber(step.adjoint)} × ${formatNumber(c.local)} = ${formatNumber(c.contribution)} to ${c.to}, whose adjoint is now ${formatNumber(c.adjoint_after)}`);
  const rest = sends.length ? `; it ${sends.join("; it ")}` : `; it is an input, so this is ${derivativeOf(t, frame)}`;
  return `Adjoint of ${named(t, frame.node)} is ${formatNumber(step.adjoint)}${rest}.`;
}

export function passCaption(t, k) {
  const frame = t.frames[k];
  if (frame.phase === "primal") return "Primal trace: evaluating the program in order";
  const passes = t.result.passes;
  const seed = Object.entries(passes[frame.pass].seed || {})
    .filter(([, v]) => v !== 0).map(([name, v]) => `${name} = ${formatNumber(v)}`).join(", ");
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
