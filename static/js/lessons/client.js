/**
 * client.js — the lessons' calls to the REST API, on top of the playground's api.js.
 *
 *   await postJson(path, body)  -> parsed JSON; throws api.js's ApiError with a learner-ready
 *                                  message (the 422's own `msg`) on any failure
 *   showError(element, error)   -> put the message in an alert element (null hides it)
 *   differentiate, formatNumber -> re-exported from api.js and timeline.js
 *
 * The browser does no differentiation: every derivative shown comes from the server.
 */

import { ApiError, differentiate } from "../api.js";
import { formatNumber } from "../timeline.js";

export { differentiate, formatNumber };

export async function postJson(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Is it still running?");
  }
  if (response.ok) return response.json();
  let message = `The server answered ${response.status}.`;
  try {
    const detail = (await response.json()).detail;
    if (Array.isArray(detail) && detail[0] && detail[0].msg) message = String(detail[0].msg);
    else if (typeof detail === "string") message = detail;
  } catch {
    // not JSON: keep the generic message
  }
  throw new ApiError(message.slice(0, 300), { status: response.status });
}

export function showError(element, error) {
  if (!element) return;
  if (!error) {
    element.hidden = true;
    element.textContent = "";
    return;
  }
  element.textContent = error.message || String(error);
  element.hidden = false;
}

/** Debounce: run `fn` once the calls have stopped for `ms` milliseconds. */
export function debounce(fn, ms = 150) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** The playground link for a program, point and mode (DESIGN.md: its state is its URL). */
export function playgroundUrl(source, at, mode = "reverse") {
  // a tensor input as a nested list, "W=[[1,2],[3,4]]" (url-state.js reads it back)
  const point = Object.entries(at).map(([name, value]) =>
    `${name}=${Array.isArray(value) ? JSON.stringify(value) : value}`).join(",");
  const query = new URLSearchParams({ source, at: point, mode });
  return `/playground?${query}`;
}
