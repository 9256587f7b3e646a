/**
 * class-api.js — the classroom's calls to /api/v1/classes and what the browser remembers.
 *
 *   await callClass(method, path, { key, body, headers })  -> parsed JSON (or the Response
 *                                                   for CSV);
 *                                                   throws an Error with the server's message
 *                                                   and `.status`
 *   joinedClass() / rememberClass(c) / forgetClass()  the class this browser joined
 *                                                   ({code, name, nickname} in localStorage;
 *                                                   the student's key is only in an HttpOnly
 *                                                   cookie, out of reach of page scripts)
 *   teacherKey(code) / rememberTeacherKey(code, key)  the teacher's key, for this tab only
 */

export { el } from "../dom.js"; // the classroom pages build their elements with it too

const JOINED = "autodiff-class";

export async function callClass(method, path, { key, body, raw, headers: extra } = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1/classes${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin", cache: "no-store",
  });
  if (response.ok) return raw ? response : response.json();
  let message = `The server answered ${response.status}.`;
  try {
    const detail = (await response.json()).detail;
    if (Array.isArray(detail) && detail[0] && detail[0].msg) message = String(detail[0].msg);
  } catch {
    // not JSON: keep the generic message
  }
  const error = new Error(message.slice(0, 300));
  error.status = response.status;
  throw error;
}

export function joinedClass() {
  try {
    const stored = JSON.parse(localStorage.getItem(JOINED) || "null");
    return stored && typeof stored.code === "string" ? stored : null;
  } catch {
    return null;
  }
}

export function rememberClass(joined) {
  localStorage.setItem(JOINED, JSON.stringify(joined));
}

export function forgetClass() {
  localStorage.removeItem(JOINED);
}

export function teacherKey(code) {
  return sessionStorage.getItem(`autodiff-teacher-${code}`);
}

export function rememberTeacherKey(code, key) {
  sessionStorage.setItem(`autodiff-teacher-${code}`, key);
}
