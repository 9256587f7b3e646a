/**
 * url-state.js — the playground's state lives in its URL, so a link reproduces the view.
 *
 *   readState(url = location.href) -> {source, at: {name: number}, mode, seed, output, outputs,
 *                                      collapse: [node id]}
 *   writeState(state)              -> replaces the current history entry (no new entry)
 *   stateToQuery(state)            -> "source=...&at=w%3D1%2Cx%3D2&mode=reverse"
 *   quizHref(state)                -> "/quiz?source=...": the same program, point and pass
 *
 * `at` is written as "w=1,x=2" (DESIGN.md), `outputs` as "y,z" (absent: the last statement),
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

/** "w=1,x=-2.5" -> {w: 1, x: -2.5}; pairs that are not name=number are skipped. */
export function parsePoint(text) {
  const point = {};
  for (const pair of (text || "").split(",")) {
    const [name, value] = pair.split("=").map((s) => (s || "").trim());
    if (!NAME.test(name || "")) continue;
    const number = Number(value);
    if (value !== "" && Number.isFinite(number)) point[name] = number;
  }
  return point;
}

export function formatPoint(point) {
  return Object.entries(point).map(([name, value]) => `${name}=${value}`).join(",");
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
