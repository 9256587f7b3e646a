/**
 * api.js — talks to the Autodiff Lab REST API on the same origin. Nothing else.
 *
 *   await differentiate({source, at, mode, seed?, cotangent?, outputs?}, {signal})
 *       -> the /api/v1/differentiate JSON: {values, derivatives, passes, primal, graph, ...}
 *   await renderSvg({source, outputs?, collapse?}, {signal}) -> SVG text from /api/v1/render,
 *       with room for edge labels (labels: true), a frame per statement (clusters: true) and
 *       the statements named in `collapse` (their named nodes' ids) drawn as one node each;
 *       `expand: true` draws a small tensor program's scalar graph instead (one node per
 *       element), each node labelled with its value and derivative at `at` in `mode`
 *   ApiError: thrown for every failure, with a message fit to show a learner:
 *       .status (HTTP status, 0 when the server is unreachable), .kind (the error `type`),
 *       .message, .line, .column, .node (from the 422's `ctx`), .inputs (the program's
 *       inputs, when the point did not match them), .field (the request field it is about),
 *       .unknown (the requested outputs the program does not name).
 *
 * Aborted requests reject with the browser's AbortError (callers ignore those).
 */

const MAX_MESSAGE = 300; // a message longer than this is cut: never dump a wall of text

export class ApiError extends Error {
  constructor(message, { status = 0, kind = "error", line = null, column = null, node = null,
    inputs = null, field = null, limit = null, unknown = null } = {}) {
    super(message);
    this.name = "ApiError";
    Object.assign(this, { status, kind, line, column, node, inputs, field, limit, unknown });
  }
}

async function post(path, body, { signal, accept = "application/json" } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: accept },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("The server cannot be reached. Is it still running?");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** The friendliest ApiError we can build from an error response (never a stack trace). */
async function errorFrom(response) {
  const status = response.status;
  if (status === 413) {
    return new ApiError("The program is too large to send to the server.", { status, kind: "too_large" });
  }
  let detail = null;
  try {
    detail = (await response.json()).detail;
  } catch {
    // not JSON: fall through to a generic message
  }
  const first = Array.isArray(detail) ? detail[0] : null;
  if (status === 422 && first) {
    const ctx = first.ctx || {};
    const loc = Array.isArray(first.loc) ? first.loc : [];
    let message = String(first.msg || "The request was not accepted.");
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
    return new ApiError(message, {
      status,
      kind: first.type || "invalid",
      line: Number.isInteger(ctx.line) ? ctx.line : null,
      column: Number.isInteger(ctx.column) ? ctx.column : null,
      node: typeof ctx.node === "string" ? ctx.node : null,
      limit: typeof ctx.limit === "string" ? ctx.limit : null,
      inputs: typeof ctx.program_inputs === "string"
        ? ctx.program_inputs.split(",").map((n) => n.trim()).filter(Boolean) : null,
      field: loc.length > 1 ? String(loc[1]) : null,
      unknown: typeof ctx.unknown === "string" ? ctx.unknown.split(",").filter(Boolean) : null,
    });
  }
  if (status >= 500) {
    return new ApiError("The server could not finish this request. Try again, or simplify the program.", { status });
  }
  return new ApiError(`The server answered ${status}.`, { status });
}

export async function differentiate(request, { signal } = {}) {
  const response = await post("/api/v1/differentiate", request, { signal });
  return response.json();
}

export async function renderSvg({ source, outputs = null, collapse = null, expand = false, at = null,
  mode = null }, { signal } = {}) {
  // labels: graphviz keeps room on every edge for graph.js's "×local → carried" label
  const body = { source, format: "svg", labels: !expand, clusters: true };
  if (outputs) body.outputs = outputs;
  if (collapse && collapse.length) body.collapse = collapse;
  if (expand) Object.assign(body, { expand: true, values: true, at, mode });
  const response = await post("/api/v1/render", body, { signal, accept: "image/svg+xml" });
  return response.text();
}
