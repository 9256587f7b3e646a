/**
 * record.js — the lessons' and playground's exercises, recorded for the class this browser
 * joined. quiz.js calls `recordForClass(container, body)` after each checked answer, and
 * tensor-quiz.js `recordForClass(container, body, "/answers/tensor")` (lessons 9 and 10: an
 * array or a shape); without a joined class it does nothing. The server judges the answer
 * again (a student cannot record a verdict of their own) and the teacher's dashboard shows
 * it. Each answer carries an Idempotency-Key, so its one retry (after a dropped request or a
 * proxy's 502/503/504) is recorded once.
 */

import { callClass, forgetClass, joinedClass } from "./class-api.js";

/** The exercise's name on the dashboard: its data-exercise, else the page's heading; on a
 * page of several exercises, the heading's main part and the exercise section's own heading
 * ("From scalars to tensors — the adjoint of a matrix product"), else its number. */
export function exerciseName(container) {
  if (container.dataset.exercise) return container.dataset.exercise;
  const heading = (document.querySelector("h1")?.textContent || document.title).trim();
  const quizzes = [...document.querySelectorAll("[data-quiz], [data-tensor-quiz]")];
  if (quizzes.length <= 1) return heading;
  const section = container.closest("section")?.querySelector("h2")?.textContent.trim();
  if (!section) return `${heading} #${quizzes.indexOf(container) + 1}`;
  // "From scalars to tensors: backprop through a layer": the part before the colon
  return `${heading.split(":")[0]} — ${section.replace(/^Exercise:\s*/i, "")}`;
}

/** A random key for one answer: 128 bits from getRandomValues (crypto.randomUUID exists only
 * on https or localhost pages, and a classroom server is often plain http on the LAN). */
export function newAnswerKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Failures worth one more try: no answer at all (the network dropped it), or a proxy's.
const RETRIED = new Set([502, 503, 504]);
const RETRY_AFTER_MS = 1500;

export function recordForClass(container, body, path = "/answers") {
  const joined = joinedClass();
  if (!joined) return;
  // one key for the answer and its retry: the server records it once (Idempotency-Key)
  const key = newAnswerKey();
  const send = () => callClass("POST", `/${encodeURIComponent(joined.code)}${path}`, {
    body: { ...body, exercise: exerciseName(container).slice(0, 200) },
    headers: { "Idempotency-Key": key } });
  send()
    .catch((error) => {
      if (error.status !== undefined && !RETRIED.has(error.status)) throw error;
      return new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS)).then(send);
    })
    .catch((error) => {
      if (error.status === 401) forgetClass(); // the class was deleted: stop trying
    });
}
