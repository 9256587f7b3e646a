/**
 * url-state.js — the playground's state lives in its URL, so a link reproduces the view.
 *
 *   readState(url = location.href) -> {source, at: {name: number or nested list}, mode, seed, output, outputs,
 *                                      collapse: [node id]}
 *   writeState(state)              -> replaces the current history entry (no new entry)
 *   stateToQuery(state)            -> "source=...&at=w%3D1%2Cx%3D2&mode=reverse"
 *   quizHref(state)                -> "/quiz?source=...": the same program, point and pass
 *
 * `at` is written as "w=1,x=2" (DESIGN.md), a tensor input as a nested list "W=[[1,2],[3,4]]", `outputs` as "y,z" (absent: the last statement),
 * `collapse` as "v21,v26" (the statements drawn as one node, by their named node's id).
 * Unknown or malformed parts are ignored, never fatal.
 */

export const DEFAULT_STATE = Object.freeze({
  source: "x = 3*w\ny = 2*x^2 + 4",
  at: { w: 1 },
  mode: "reverse",
  seed: "",
  output: "",
  outputs: [],
  collapse: [],
});

const NAME = /^[A-Za-z_]\w*$/;

/** "y, z" -> ["y", "z"]: names only, each once. */
export function parseNames(text) {
  const names = (text || "").split(",").map((s) => s.trim()).filter((s) => NAME.test(s));
  return [...new Set(names)];
}

/** "a,b,[1,2]" -> ["a", "b", "[1,2]"]: split at the commas outside brackets. */
function splitTop(text) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === "[") depth += 1;
    else if (c === "]") depth -= 1;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A nested list of finite numbers, or null. */
function nestedList(text) {
  try {
    const value = JSON.parse(text);
    const ok = (x) => (Array.isArray(x) ? x.every(ok) : typeof x === "number" && Number.isFinite(x));
    return Array.isArray(value) && ok(value) ? value : null;
  } catch {
    return null;
  }
}

/** "w=1,x=-2.5,W=[[1,2],[3,4]]" -> {w: 1, x: -2.5, W: [[1, 2], [3, 4]]}; pairs that are not
 * name=number or name=nested list are skipped. */
export function parsePoint(text) {
  const point = {};
  for (const pair of splitTop(text || "")) {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (at < 0 || !NAME.test(name)) continue;
    if (value.startsWith("[")) {
      const list = nestedList(value);
      if (list) point[name] = list;
      continue;
    }
    const number = Number(value);
    if (value !== "" && Number.isFinite(number)) point[name] = number;
  }
  return point;
}

export function formatPoint(point) {
  return Object.entries(point)
    .map(([name, value]) => `${name}=${Array.isArray(value) ? JSON.stringify(value) : value}`).join(",");
}

export function readState(url = window.location.href) {
  const params = new URL(url).searchParams;
  const hasSource = params.has("source");
  const mode = params.get("mode");
  return {
    source: hasSource ? params.get("source") : DEFAULT_STATE.source,
    at: params.has("at") ? parsePoint(params.get("at")) : hasSource ? {} : { ...DEFAULT_STATE.at },
    mode: mode === "forward" || mode === "reverse" ? mode : DEFAULT_STATE.mode,
    seed: params.get("seed") || "",
    output: params.get("output") || "",
    outputs: parseNames(params.get("outputs")),
    collapse: [...new Set((params.get("collapse") || "").split(",").filter((id) => /^v\d+$/.test(id)))],
  };
}

export function stateToQuery(state) {
  const params = new URLSearchParams();
  params.set("source", state.source);
  params.set("at", formatPoint(state.at));
  params.set("mode", state.mode);
  if (state.mode === "forward" && state.seed) params.set("seed", state.seed);
  if (state.mode === "reverse" && state.output) params.set("output", state.output);
  if (state.outputs.length) params.set("outputs", state.outputs.join(","));
  if (state.collapse && state.collapse.length) params.set("collapse", state.collapse.join(","));
  return params.toString();
}

/** The quiz on the same graph: its `wrt` is the playground's seed (forward) or output (reverse). */
export function quizHref(state) {
  const params = new URLSearchParams();
  params.set("source", state.source);
  params.set("at", formatPoint(state.at));
  params.set("mode", state.mode);
  const wrt = state.mode === "forward" ? state.seed : state.output;
  if (wrt) params.set("wrt", wrt);
  if (state.outputs.length) params.set("outputs", state.outputs.join(","));
  return `/quiz?${params}`;
}

export function writeState(state) {
  const url = `${window.location.pathname}?${stateToQuery(state)}`;
  if (url !== window.location.pathname + window.location.search) {
    window.history.replaceState(null, "", url);
  }
}
