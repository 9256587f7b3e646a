/**
 * record.js — the lessons' and playground's exercises, recorded for the class this browser
 * joined. quiz.js calls `recordForClass(container, body)` after each checked answer; without
 * a joined class it does nothing. The server judges the answer again (a student cannot
 * record a verdict of their own) and the teacher's dashboard shows it.
 */

import { callClass, forgetClass, joinedClass } from "./class-api.js";

/** The exercise's name on the dashboard: its data-exercise, else the page's heading. */
export function exerciseName(container) {
  if (container.dataset.exercise) return container.dataset.exercise;
  const heading = (document.querySelector("h1")?.textContent || document.title).trim();
  const quizzes = [...document.querySelectorAll("[data-quiz]")];
  const index = quizzes.indexOf(container);
  return quizzes.length > 1 ? `${heading} #${index + 1}` : heading;
}

export function recordForClass(container, body) {
  const joined = joinedClass();
  if (!joined) return;
  callClass("POST", `/${encodeURIComponent(joined.code)}/answers`,
    { body: { ...body, exercise: exerciseName(container).slice(0, 200) } })
    .catch((error) => {
      if (error.status === 401) forgetClass(); // the class was deleted: stop trying
    });
}
