/**
 * url-state.js — the playground's state lives in its URL, so a link reproduces the view.
 *
 *   readState(url = location.href) -> {source, at: {name: number}, mode, seed, output}
 *   writeState(state)              -> replaces the current history entry (no new entry)
 *   stateToQuery(state)            -> "source=...&at=w%3D1%2Cx%3D2&mode=reverse"
 *
 * `at` is written as "w=1,x=2" (DESIGN.md). Unknown or malformed parts are ignored, never fatal.
 */

export const DEFAULT_STATE = Object.freeze({
  source: "x = 3*w\ny = 2*x^2 + 4",
  at: { w: 1 },
  mode: "reverse",
  seed: "",
  output: "",
});

/** "w=1,x=-2.5" -> {w: 1, x: -2.5}; pairs that are not name=number are skipped. */
export function parsePoint(text) {
  const point = {};
  for (const pair of (text || "").split(",")) {
    const [name, value] = pair.split("=").map((s) => (s || "").trim());
    if (!/^[A-Za-z_]\w*$/.test(name || "")) continue;
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
  };
}

export function stateToQuery(state) {
  const params = new URLSearchParams();
  params.set("source", state.source);
  params.set("at", formatPoint(state.at));
  params.set("mode", state.mode);
  if (state.mode === "forward" && state.seed) params.set("seed", state.seed);
  if (state.mode === "reverse" && state.output) params.set("output", state.output);
  return params.toString();
}

export function writeState(state) {
  const url = `${window.location.pathname}?${stateToQuery(state)}`;
  if (url !== window.location.pathname + window.location.search) {
    window.history.replaceState(null, "", url);
  }
}
