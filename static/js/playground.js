/**
 * playground.js — wires the playground page: editor, point, mode -> API -> graph, trace
 * table and player. The other modules each do one job; this one only connects them.
 *
 * Every change re-runs (debounced) and writes the state into the URL (url-state.js), and the
 * "quiz me" link follows it. The SVG is fetched again only when the program text or the
 * chosen outputs change; a new point or mode only replays a new trace on the same drawing.
 *
 * For tests and measurements it leaves performance marks: "graph-drawn" when a drawing is
 * in the page, and a "playground-step" measure for each animation step drawn. The page's
 * <body data-run="n" data-status="ready|error|busy"> tells when a run has finished.
 */

import { ApiError, differentiate, renderSvg } from "./api.js";
import { Player } from "./animation.js";
import { GraphView } from "./graph.js";
import { buildTimeline, describe, formatNumber, formatShort, frameOfNode, nextStop, passCaption, stateAt } from "./timeline.js";
import { TraceTable } from "./trace-table.js";
import { quizHref, readState, writeState } from "./url-state.js";
import { declaredShapes, filled, shapeText } from "./arrays.js";
import { arrayView } from "./array-view.js";
import { StepArrays } from "./step-arrays.js";
import { MAX_TYPED, arrayFieldText, fits, startingArray, tensorField, tooBigToType } from "./tensor-inputs.js";

const $ = (id) => document.getElementById(id);
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
const SOURCE_DELAY = 350; // ms after the last keystroke before the program is sent
const URL_DELAY = 300; // ms: a dragged slider rewrites the URL at most this often
const RANDOM_RANGE = 2; // "Randomise" draws each input from [-2, 2], to one decimal

const els = {
  source: $("source"), sourceError: $("source-error"), pointFields: $("point-fields"),
  seed: $("seed"), output: $("output"), seedField: $("seed-field"), outputField: $("output-field"),
  summary: $("summary"), problem: $("problem"), caption: $("step-caption"), passCaption: $("pass-caption"),
  play: $("play"), scrubber: $("scrubber"), stepCount: $("step-count"),
  speed: $("speed"), stepBy: $("step-by"), outputs: $("outputs"), quizLink: $("quiz-link"),
  randomise: $("randomise"), constants: $("constants"),
};

const state = readState();
let timeline = null;
let drawnKey = null; // the program text and outputs the current drawing belongs to
let inputNames = [];
let knownShapes = new Map(); // input name -> shape, from the last result's graph
let outputChoices = []; // the program's named quantities, offered as outputs
let controller = null;
let runs = 0;
let timer = null;
let timelineSource = null; // the program text and outputs of the current timeline
let frameRequest = 0; // a run asked for at the next animation frame (a slider is moving)
let urlTimer = null;

const graph = new GraphView($("graph"), { onNodeClick: clickNode, onClusterClick: collapse, overview: true });
// statements drawn as one node, by their named node's id (in the URL as `collapse`)
let collapsed = new Set(state.collapse);
let collapsedFor = state.source; // the program text `collapsed` belongs to
const table = new TraceTable($("trace"), { onRowClick: jumpTo });
const stepArrays = new StepArrays($("step-arrays"));
// "Expand to scalars": the scalar graph of a small tensor program, in a panel of its own
const scalarView = new GraphView($("scalar-graph"));
let expanded = false;
let scalarController = null;
let scalarKey = null; // the request the scalar drawing shows
const player = new Player({ onFrame: drawFrame, onChange: updateControls,
  stride: (index, delta) => (timeline ? nextStop(timeline, index, delta, strideKind()) : index + delta) });

/** How far a step (and a tick while playing) goes: a node, a statement or a whole pass. */
function strideKind() {
  if (els.speed.value === "pass") return "pass";
  return els.stepBy.value === "statement" ? "statement" : "node";
}

// --- drawing one frame -------------------------------------------------------------------

function drawFrame(k) {
  if (!timeline) return;
  const start = performance.now();
  const s = stateAt(timeline, k);
  graph.apply(s);
  table.apply(s);
  stepArrays.show(timeline, k);
  els.caption.textContent = `Step ${k + 1}: ${describe(timeline, k)}`;
  els.passCaption.textContent = passCaption(timeline, k);
  performance.measure("playground-step", { start, end: performance.now() });
  if (performance.getEntriesByName("playground-step").length > 2000) performance.clearMeasures("playground-step");
}

function updateControls() {
  const count = player.count;
  els.scrubber.max = String(Math.max(0, count - 1));
  els.scrubber.value = String(player.index < 0 ? 0 : player.index);
  els.scrubber.disabled = count === 0;
  els.stepCount.textContent = count ? `${player.index + 1} / ${count}` : "0 / 0";
  els.scrubber.setAttribute("aria-valuetext", count ? `Step ${player.index + 1} of ${count}` : "No steps");
  els.play.setAttribute("aria-label", player.playing ? "Pause" : "Play");
  document.body.classList.toggle("is-playing", player.playing);
}

/** A collapsed statement opens again when clicked; any node jumps to its step. */
function clickNode(id) {
  if (collapsed.has(id)) {
    collapsed.delete(id);
    setCollapsed(collapsed);
  }
  jumpTo(id);
}

function collapse(id) {
  collapsed.add(id);
  setCollapsed(collapsed);
}

function setCollapsed(ids) {
  collapsed = new Set(ids);
  state.collapse = [...collapsed].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  schedule(0);
}

/** Collapse every statement of two or more nodes, or open them all again. */
function toggleCollapseAll() {
  const all = new Set();
  if (!collapsed.size && timeline) {
    const sizes = new Map();
    for (const named of timeline.statementOf.values()) sizes.set(named, (sizes.get(named) || 0) + 1);
    for (const [named, size] of sizes) {
      if (size > 1 && timeline.labels.get(named)) all.add(named);
    }
  }
  setCollapsed(all);
}

function showCollapseButton() {
  const button = $("collapse-all");
  button.textContent = collapsed.size ? "Expand statements" : "Collapse statements";
  button.setAttribute("aria-pressed", collapsed.size ? "true" : "false");
}

function jumpTo(id) {
  if (!timeline) return;
  const k = frameOfNode(timeline, id, player.index);
  if (k >= 0) {
    player.pause();
    player.seek(k);
  }
}

// --- the scalar graph ----------------------------------------------------------------------

function showExpandButton(result) {
  const tensor = Boolean(result) && result.graph.nodes.some((n) => n.shape && n.shape.length);
  const button = $("expand-scalars");
  button.hidden = !tensor;
  if (!tensor && expanded) setExpanded(false);
}

function setExpanded(flag, { focus = false } = {}) {
  expanded = flag;
  const button = $("expand-scalars");
  button.setAttribute("aria-expanded", String(flag));
  button.textContent = flag ? "Hide the scalar graph" : "Expand to scalars";
  const panel = $("scalar-panel");
  panel.hidden = !flag;
  if (!flag) {
    if (scalarController) scalarController.abort();
    scalarKey = null;
    return;
  }
  drawScalars();
  if (focus) {
    panel.focus({ preventScroll: true });
    panel.scrollIntoView({ behavior: reducedMotion.matches ? "auto" : "smooth", block: "start" });
  }
}

/** Draw (again, when the program or the point changed) the scalar graph with its numbers. */
async function drawScalars() {
  if (!expanded) return;
  const request = { source: state.source, outputs: state.outputs, expand: true, at: state.at, mode: state.mode };
  const key = JSON.stringify(request);
  if (key === scalarKey) return;
  scalarKey = key;
  if (scalarController) scalarController.abort();
  scalarController = new AbortController();
  const status = $("scalar-status");
  status.textContent = "Drawing the scalar graph…";
  try {
    const svg = await renderSvg(request, { signal: scalarController.signal });
    scalarView.show(svg, null);
    const count = scalarView.nodes.size;
    status.textContent = `${count} scalar nodes. Drag to pan; scroll or use the buttons to zoom.`;
    scalarView.svg.setAttribute("aria-label", `The scalar graph: ${count} nodes, one per element`);
  } catch (error) {
    if (error.name === "AbortError") return;
    scalarView.showMessage(`The scalar graph is not drawn: ${error.message}`);
    status.textContent = "";
  }
}

// --- the point: one number field and one slider per input --------------------------------

function sliderRange(value) {
  const low = Math.min(-5, Math.floor(value) - 5);
  const high = Math.max(5, Math.ceil(value) + 5);
  return [low, high];
}

/** The shape of an input: as the last result drew it, else as the program declares it. */
function inputShape(name) {
  return knownShapes.get(name) || declaredShapes(state.source)[name] || [];
}

/** A new value for one input, from its number field, its slider or "Randomise". */
function setInput(name, value, { live = false } = {}) {
  state.at[name] = value;
  if (Array.isArray(value)) {
    const field = document.getElementById(`in-${name}`);
    if (field && document.activeElement !== field) field.value = arrayFieldText(value);
    if (live) runNextFrame();
    else schedule(0);
    return;
  }
  const number = document.getElementById(`in-${name}`);
  const slider = document.getElementById(`in-${name}-slider`);
  if (number && number.valueAsNumber !== value) number.value = String(value);
  if (slider) {
    const [low, high] = sliderRange(value);
    if (value < Number(slider.min)) slider.min = String(low);
    if (value > Number(slider.max)) slider.max = String(high);
    slider.value = String(value);
  }
  if (live) runNextFrame();
  else schedule(0);
}

function buildPointFields(names) {
  inputNames = names;
  els.randomise.hidden = !names.length;
  if (!names.length) {
    els.pointFields.replaceChildren(Object.assign(document.createElement("p"),
      { className: "help", textContent: "This program has no inputs." }));
    return;
  }
  els.pointFields.classList.toggle("many", names.length > 6);
  els.pointFields.classList.toggle("has-tensors", names.some((n) => inputShape(n).length));
  const rows = names.map((name) => {
    const value = state.at[name];
    const shape = inputShape(name);
    if (shape.length) {
      return tensorField(name, shape, value, (typed) => {
        state.at[name] = typed;
        schedule(SOURCE_DELAY);
      });
    }
    const row = document.createElement("div");
    row.className = "point-row";
    const label = Object.assign(document.createElement("label"), { htmlFor: `in-${name}`, textContent: name });
    label.className = "point-name";
    const number = Object.assign(document.createElement("input"), {
      type: "number", id: `in-${name}`, step: "any", value: String(value), inputMode: "decimal",
    });
    number.dataset.input = name;
    const slider = Object.assign(document.createElement("input"), {
      type: "range", id: `in-${name}-slider`, step: "0.1", value: String(value),
    });
    [slider.min, slider.max] = sliderRange(value).map(String);
    slider.setAttribute("aria-label", `${name} slider`);
    slider.dataset.input = name;
    number.addEventListener("input", () => {
      const v = number.valueAsNumber;
      if (Number.isFinite(v)) setInput(name, v, { live: true });
    });
    // Live: every movement asks for a run at the next animation frame (one at most).
    slider.addEventListener("input", () => setInput(name, Number(slider.value), { live: true }));
    releaseAfterDrag(slider);
    row.append(label, number, slider);
    return row;
  });
  els.pointFields.replaceChildren(...rows);
}

/** A slider dragged with the pointer gives its focus back when released, so that ←/→ then
 * step the animation; one reached with Tab keeps its keys (they move the slider). */
function releaseAfterDrag(slider) {
  let dragging = false;
  slider.addEventListener("pointerdown", () => { dragging = true; });
  const release = () => {
    if (dragging && document.activeElement === slider) slider.blur();
    dragging = false;
  };
  slider.addEventListener("pointerup", release);
  slider.addEventListener("pointercancel", release);
}

function randomise() {
  const draw = () => Math.round((Math.random() * 2 - 1) * RANDOM_RANGE * 10) / 10;
  for (const name of inputNames) {
    const shape = inputShape(name);
    state.at[name] = shape.length ? filled(shape, draw) : draw();
    setInput(name, state.at[name], { live: true });
  }
}

/** Make the point, seed and output fit the program's inputs and outputs (and a tensor
 * input's value its shape: a value of another shape is replaced by a starting array). */
function fitPoint(names) {
  const point = {};
  let reshaped = false;
  for (const name of names) {
    const shape = inputShape(name);
    const value = state.at[name];
    if (shape.length && tooBigToType(shape)) continue; // see differentiateFitting
    if (fits(value, shape)) point[name] = value;
    else {
      point[name] = shape.length ? startingArray(name, shape) : 1;
      reshaped = reshaped || shape.length > 0;
    }
  }
  state.at = point;
  if (state.seed && !names.includes(state.seed)) state.seed = "";
  const same = names.length === inputNames.length && names.every((n, i) => n === inputNames[i]);
  if (!same || reshaped) buildPointFields(names);
}

/** Before a run: every declared tensor input already named in the point gets a value of its
 * declared shape (a program just edited from `W: [2, 3]` to `W: [3, 3]`). */
function fitDeclared() {
  const declared = declaredShapes(state.source);
  const names = Object.keys(state.at);
  if (names.some((name) => declared[name] && !fits(state.at[name], declared[name]))
      || Object.entries(state.at).some(([name, v]) => Array.isArray(v) && !declared[name])) {
    knownShapes = new Map();
    fitPoint(names);
  }
}

function fillSelect(select, names, chosen, everyText) {
  const options = [new Option(everyText, "")].concat(names.map((n) => new Option(n, n)));
  const current = [...select.options].map((o) => o.value).join("\n");
  if (current !== options.map((o) => o.value).join("\n")) select.replaceChildren(...options);
  select.value = names.includes(chosen) ? chosen : "";
}

function showModeFields() {
  els.seedField.hidden = state.mode !== "forward";
  els.outputField.hidden = state.mode !== "reverse";
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === state.mode;
}

// --- the outputs: one checkbox per named quantity ----------------------------------------

/** Offer the program's assigned names; tick the outputs the server used. */
function showOutputChoices(result) {
  const inputs = result.graph.inputs;
  const names = Object.keys(result.values).filter((n) => !(n in inputs) && !n.includes("#"));
  const chosen = Object.keys(result.graph.outputs);
  if (names.join("\n") !== outputChoices.join("\n")) {
    outputChoices = names;
    els.outputs.replaceChildren(...names.map((name) => {
      const box = Object.assign(document.createElement("input"), { type: "checkbox", value: name,
        id: `out-${name}` });
      box.addEventListener("change", () => chooseOutputs(box));
      const label = Object.assign(document.createElement("label"), { htmlFor: box.id });
      label.append(box, Object.assign(document.createElement("span"), { textContent: name }));
      return label;
    }));
  }
  for (const box of els.outputs.querySelectorAll("input")) box.checked = chosen.includes(box.value);
}

function chooseOutputs(changed) {
  const ticked = [...els.outputs.querySelectorAll("input:checked")].map((b) => b.value);
  if (!ticked.length) {
    changed.checked = true; // a program needs at least one output
    return;
  }
  const last = outputChoices[outputChoices.length - 1];
  // the last statement alone is the default: keep such links short
  state.outputs = ticked.length === 1 && ticked[0] === last ? [] : ticked;
  if (state.output && !ticked.includes(state.output)) state.output = "";
  schedule(0);
}

// --- messages -----------------------------------------------------------------------------

function showSourceError(error) {
  if (!error) {
    els.sourceError.hidden = true;
    els.sourceError.replaceChildren();
    els.source.removeAttribute("aria-invalid");
    return;
  }
  const message = error.message.replace(/^line \d+, column \d+: /, "");
  const parts = [];
  const where = document.createElement("p");
  where.className = "error-where";
  if (error.line) {
    const go = Object.assign(document.createElement("button"), { type: "button", className: "link-button",
      textContent: `Line ${error.line}, column ${error.column ?? 1}` });
    go.setAttribute("aria-label", `Line ${error.line}, column ${error.column ?? 1}: put the cursor there`);
    go.addEventListener("click", () => placeCursor(error.line, error.column ?? 1));
    where.append(go, `: ${message}`);
  } else {
    where.textContent = message;
  }
  parts.push(where);
  const text = els.source.value.split("\n")[(error.line || 0) - 1];
  if (error.line && text !== undefined) {
    const pre = document.createElement("pre");
    pre.className = "error-snippet";
    pre.setAttribute("aria-hidden", "true");
    pre.textContent = `${text}\n${" ".repeat(Math.max(0, (error.column ?? 1) - 1))}^`;
    parts.push(pre);
  }
  els.sourceError.replaceChildren(...parts);
  els.sourceError.hidden = false;
  els.source.setAttribute("aria-invalid", "true");
}

function placeCursor(line, column) {
  const lines = els.source.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
  offset += column - 1;
  els.source.focus();
  els.source.setSelectionRange(offset, offset + 1);
}

/** Lines `a = -4.0`: names bound to a bare number (constants, so no derivative for them). */
function numberNames(source) {
  const found = [];
  for (const line of source.split(/\n|;/)) {
    const m = /^\s*([A-Za-z]\w*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:#.*)?$/.exec(line);
    if (m && !found.some((f) => f.name === m[1])) found.push({ name: m[1], value: Number(m[2]) });
  }
  return found;
}

/** Explain why a name written as a number has no derivative, and offer to make it an input. */
function showConstants(result) {
  const inputs = result ? Object.keys(result.graph.inputs) : [];
  const found = result ? numberNames(state.source).filter((f) => !inputs.includes(f.name)) : [];
  if (!found.length) {
    els.constants.hidden = true;
    els.constants.replaceChildren();
    return;
  }
  const names = found.map((f) => f.name);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  const why = document.createElement("p");
  why.textContent = inputs.length
    ? `${list} ${names.length === 1 ? "is a number" : "are numbers"} in the program, so there is no derivative with respect to ${names.length === 1 ? "it" : "them"}. Inputs are the names nothing assigns.`
    : `No derivatives: ${list} ${names.length === 1 ? "is" : "are"} given a number in the program, so nothing here is an input. Inputs are the names nothing assigns.`;
  const button = Object.assign(document.createElement("button"), { type: "button", className: "small-button",
    textContent: `Make ${list} ${names.length === 1 ? "an input" : "inputs"}` });
  button.addEventListener("click", () => makeInputs(found));
  els.constants.replaceChildren(why, button);
  els.constants.hidden = false;
}

/** Delete the lines that give these names a number, and put the numbers in the point. */
function makeInputs(found) {
  const names = new Set(found.map((f) => f.name));
  const kept = state.source.split("\n").map((line) => line.split(";").filter((part) => {
    const m = /^\s*([A-Za-z]\w*)\s*=\s*[-+]?[\d.]/.exec(part);
    return !(m && names.has(m[1]) && numberNames(part).length);
  }).join(";")).filter((line) => line.trim());
  state.source = kept.join("\n");
  els.source.value = state.source;
  for (const f of found) state.at[f.name] = f.value;
  schedule(0);
}

function showProblem(text) {
  els.problem.hidden = !text;
  els.problem.textContent = text || "";
}

function derivativeName(output, input, partial) {
  return partial ? `∂${output}/∂${input}` : `d${output}/d${input}`;
}

/** Several outputs: their derivatives as a Jacobian, one row per output. */
function jacobianTable(rows, partial) {
  const columns = Object.keys(rows[0][1]);
  const table = document.createElement("table");
  table.className = "jacobian";
  table.createCaption().textContent = "Jacobian: one row per output";
  const head = table.createTHead().insertRow();
  head.append(document.createElement("td"));
  for (const input of columns) {
    head.append(Object.assign(document.createElement("th"), { scope: "col",
      textContent: partial ? `∂/∂${input}` : `d/d${input}` }));
  }
  const body = table.createTBody();
  for (const [out, row] of rows) {
    const tr = body.insertRow();
    tr.dataset.output = out;
    tr.append(Object.assign(document.createElement("th"), { scope: "row", textContent: out }));
    for (const input of columns) {
      const td = tr.insertCell();
      Object.assign(td.dataset, { output: out, input, value: String(row[input]) });
      td.textContent = formatNumber(row[input]);
    }
  }
  return table;
}

function showSummary(result) {
  const outputs = Object.keys(result.graph.outputs);
  const inputs = Object.keys(result.graph.inputs);
  const lines = [];
  const point = inputs.map((n) => `${n} = ${formatNumber(result.values[n])}`).join(", ");
  // every output's value on one line, the point once
  const p = document.createElement("p");
  p.className = "summary-value";
  p.textContent = outputs.map((out) => `${out} = ${formatNumber(result.values[out])}`).join(" · ");
  const scalarPoint = inputs.every((n) => !Array.isArray(result.values[n]));
  if (point && inputs.length <= 4 && scalarPoint) p.append(Object.assign(document.createElement("span"), { className: "at", textContent: ` at ${point}` }));
  lines.push(p);
  const rows = Object.entries(result.derivatives);
  if (rows.length > 1) {
    lines.push(jacobianTable(rows, inputs.length > 1));
  } else {
    const list = document.createElement("ul");
    list.className = "summary-derivatives";
    for (const [out, row] of rows) {
      for (const [input, value] of Object.entries(row)) {
        const li = document.createElement("li");
        Object.assign(li.dataset, { output: out, input, value: Array.isArray(value) ? JSON.stringify(value) : String(value) });
        const name = derivativeName(out, input, inputs.length > 1);
        if (Array.isArray(value)) { // a gradient in the input's shape
          li.className = "tensor-derivative";
          li.append(`${name} =`, arrayView(value, { format: formatShort, kind: result.mode === "forward" ? "tangent" : "adjoint" }));
        } else {
          li.textContent = `${name} = ${formatNumber(value)}`;
        }
        list.append(li);
      }
    }
    if (list.children.length) lines.push(list);
    list.classList.toggle("many", list.children.length > 2);
  }
  els.summary.className = `summary ${result.passes.length ? result.passes[0].direction : ""}`;
  els.summary.replaceChildren(...lines);
}

// --- running the program ------------------------------------------------------------------

/** The URL and the quiz link always show the current state. */
function saveState() {
  writeState(state);
  els.quizLink.href = quizHref(state);
}

function schedule(delay) {
  clearTimeout(timer);
  saveState();
  timer = setTimeout(run, delay);
}

/** Live updates (a moving slider): one run per animation frame at most, the previous one
 * aborted by `run`; the URL is rewritten a little later (browsers limit replaceState). */
function runNextFrame() {
  clearTimeout(timer);
  if (!urlTimer) urlTimer = setTimeout(() => { urlTimer = null; saveState(); }, URL_DELAY);
  if (frameRequest) return;
  frameRequest = requestAnimationFrame(() => {
    frameRequest = 0;
    run();
  });
}

function request() {
  const body = { source: state.source, at: state.at, mode: state.mode };
  if (state.mode === "forward" && state.seed) body.seed = state.seed;
  if (state.mode === "reverse" && state.output) body.cotangent = state.output;
  if (state.outputs.length) body.outputs = state.outputs;
  return body;
}

const drawingKey = () => `${[...collapsed].sort().join(",")}\n${state.outputs.join(",")}\n${state.source}`;

/** Differentiate. If the point does not match the program's inputs, fit it and ask again;
 * a chosen output the program does not name is dropped (the others stay); if the outputs
 * still do not fit, fall back to the last statement. */
async function differentiateFitting(signal) {
  fitDeclared();
  const declared = declaredShapes(state.source);
  const big = Object.entries(declared).filter(([, shape]) => tooBigToType(shape));
  if (big.length) { // drawn, but not traced: say why instead of sending a huge point
    const names = [...new Set([...inputNames, ...Object.keys(declared)])];
    if (names.some((n) => !inputNames.includes(n))) fitPoint(names);
    const list = big.map(([name, shape]) => `${name} (${shapeText(shape)})`).join(", ");
    throw new ApiError(`${list}: more than ${MAX_TYPED.toLocaleString("en")} numbers, too many to trace here. `
      + "The graph is drawn; smaller shapes can be stepped through", { kind: "too_big_to_type" });
  }
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await differentiate(request(), { signal });
    } catch (error) {
      if (!(error instanceof ApiError) || attempt === 3) throw error;
      if (error.field === "at" && error.inputs) {
        fitPoint(error.inputs);
        state.output = "";
      } else if (error.field === "outputs" && error.unknown) {
        state.outputs = state.outputs.filter((name) => !error.unknown.includes(name));
        if (error.unknown.includes(state.output)) state.output = "";
      } else if (["program_error", "input_error"].includes(error.kind) && error.line === null
        && !error.node && (state.outputs.length || state.output)) {
        state.outputs = [];
        state.output = "";
      } else {
        throw error;
      }
    }
  }
}

/** Whether two timelines step through the same nodes in the same order. */
function sameSteps(a, b) {
  return a.frames.length === b.frames.length
    && a.frames.every((f, i) => f.node === b.frames[i].node && f.phase === b.frames[i].phase);
}

function setStatus(status) {
  document.body.dataset.status = status;
  document.body.dataset.run = String(runs);
}

async function run() {
  clearTimeout(timer);
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;
  setStatus("busy");
  if (collapsedFor !== state.source) { // node ids belong to one program text
    collapsed = new Set();
    state.collapse = [];
    collapsedFor = state.source;
  }
  showCollapseButton();
  const draw = () => renderSvg({ source: state.source, outputs: state.outputs, collapse: [...collapsed] }, { signal })
    .then((svg) => ({ svg }), (error) => ({ error }));
  let key = drawingKey();
  let drawing = key !== drawnKey ? draw() : null;
  let result = null;
  let failure = null;
  try {
    result = await differentiateFitting(signal);
  } catch (error) {
    if (error.name === "AbortError") return;
    failure = error instanceof ApiError ? error : new ApiError("Something went wrong in the page.");
  }
  if (drawingKey() !== key && !signal.aborted) { // the outputs fell back: draw those
    key = drawingKey();
    drawing = key !== drawnKey ? draw() : null;
  }
  const drawn = drawing ? await drawing : null;
  if (signal.aborted) return;
  runs += 1;
  const programError = failure && failure.line !== null && !failure.node;
  showSourceError(programError ? failure : null);
  graph.setStale(programError);
  if (programError) {
    showProblem("");
    if (!timeline) { // nothing to keep: say where the answer is instead of "Working…"
      els.summary.replaceChildren(Object.assign(document.createElement("p"), { className: "help",
        textContent: "No result yet: the program has a mistake, shown under it." }));
    }
    showConstants(null);
    setStatus("error");
    return; // keep the last good drawing and trace, dimmed, while the learner types
  }

  if (drawn) {
    if (drawn.error) {
      if (drawn.error.name === "AbortError") return;
      if (drawn.error.field === "collapse") { // a hand-edited link: draw every statement open
        setCollapsed([]);
        return;
      }
      graph.showMessage(`The graph is not drawn: ${drawn.error.message}`);
    } else {
      graph.show(drawn.svg, result ? result.graph : null);
      performance.mark("graph-drawn");
    }
    drawnKey = key;
  }

  if (failure) {
    player.load(0);
    timeline = null;
    // the engine's message names the node already; add it only when it does not
    const named = failure.node && failure.message.includes(failure.node);
    const where = failure.node && !named ? ` (at node ${failure.node}${failure.line ? `, line ${failure.line}` : ""})` : "";
    showProblem(`${failure.message.replace(/\.$/, "")}${where}. ${failure.kind === "too_big_to_type" ? "" : "Try another point or program."}`.trim());
    showConstants(null);
    graph.markError(failure.node);
    table.clear(failure.kind === "too_big_to_type" ? "No trace: the inputs are too big to trace here."
      : "No trace: the program cannot be differentiated at this point.");
    stepArrays.clear();
    els.summary.replaceChildren();
    els.caption.textContent = "";
    els.passCaption.textContent = "";
    setStatus("error");
    saveState();
    return;
  }

  showProblem("");
  graph.markError(null);
  knownShapes = new Map(result.graph.nodes.filter((n) => n.op === "input")
    .map((n) => [n.label || n.id, n.shape || []]));
  fitPoint(Object.keys(result.graph.inputs));
  fillSelect(els.seed, Object.keys(result.graph.inputs), state.seed, "all (one pass each)");
  fillSelect(els.output, Object.keys(result.graph.outputs), state.output, "all (one pass each)");
  showOutputChoices(result);
  saveState();
  showSummary(result);
  showConstants(result);
  const previous = timeline;
  const previousSource = timelineSource;
  const wasPlaying = player.playing;
  timeline = buildTimeline(result);
  timelineSource = `${state.outputs.join(",")}\n${state.source}`;
  showExpandButton(result);
  drawScalars();
  const sameProgram = previous && previousSource === timelineSource && sameSteps(previous, timeline);
  if (sameProgram) table.update(timeline);
  else table.build(timeline);
  const last = timeline.frames.length - 1;
  if (sameProgram) {
    // a new point on the same program: the same step, with the new numbers
    player.load(timeline.frames.length, player.index);
    if (wasPlaying) player.play();
  } else if (reducedMotion.matches) {
    player.load(timeline.frames.length, last); // stepped display: the finished picture
  } else {
    player.load(timeline.frames.length, 0);
    player.play();
  }
  setStatus("ready");
}

// --- controls -------------------------------------------------------------------------------

els.source.addEventListener("input", () => {
  state.source = els.source.value;
  schedule(SOURCE_DELAY);
});
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    state.mode = radio.value;
    showModeFields();
    schedule(0);
  });
}
els.seed.addEventListener("change", () => { state.seed = els.seed.value; schedule(0); });
els.output.addEventListener("change", () => { state.output = els.output.value; schedule(0); });
els.speed.addEventListener("change", () => player.setSpeed(els.speed.value === "pass" ? 1 : Number(els.speed.value)));
els.randomise.addEventListener("click", randomise);
els.scrubber.addEventListener("input", () => {
  const index = Number(els.scrubber.value); // read first: pausing redraws the controls
  player.pause();
  player.seek(index);
});
$("play").addEventListener("click", () => player.toggle());
$("restart").addEventListener("click", () => player.restart());
$("back").addEventListener("click", () => player.step(-1));
$("forward").addEventListener("click", () => player.step(1));
$("end").addEventListener("click", () => player.end());
$("zoom-in").addEventListener("click", () => graph.zoomIn());
$("zoom-out").addEventListener("click", () => graph.zoomOut());
$("zoom-fit").addEventListener("click", () => graph.fit());
$("collapse-all").addEventListener("click", toggleCollapseAll);
$("expand-scalars").addEventListener("click", () => setExpanded(!expanded, { focus: !expanded }));
$("scalar-zoom-in").addEventListener("click", () => scalarView.zoomIn());
$("scalar-zoom-out").addEventListener("click", () => scalarView.zoomOut());
$("scalar-zoom-fit").addEventListener("click", () => scalarView.fit());
$("scalar-close").addEventListener("click", () => {
  setExpanded(false);
  $("expand-scalars").focus();
});
// Refit the drawing whenever its box changes size (window, layout, a longer result).
let resizeTimer = null;
new ResizeObserver(() => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => graph.resize(), 100);
}).observe($("graph"));

// Shortcuts work anywhere except while typing; Space is left to buttons and links it activates.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  // a focused control keeps its keys (a slider's arrows move the slider, not the animation)
  if (target.closest && target.closest("textarea, input, select, [contenteditable='true']")) return;
  const native = target.closest && target.closest("button, a, summary");
  const actions = {
    " ": () => player.toggle(), k: () => player.toggle(),
    ArrowRight: () => player.step(1), ArrowLeft: () => player.step(-1),
    Home: () => player.restart(), End: () => player.end(),
  };
  const action = actions[event.key];
  if (!action || (event.key === " " && native)) return;
  event.preventDefault();
  action();
});

// --- start ----------------------------------------------------------------------------------

els.source.value = state.source;
showModeFields();
buildPointFields(Object.keys(state.at));
updateControls();
saveState();
run();
