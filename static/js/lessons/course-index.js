/**
 * course-index.js — the lesson index shows what this browser has done: lessons opened and
 * exercises answered right (lesson-state.js keeps them in localStorage; nothing leaves it).
 */

import { readProgress } from "./lesson-state.js";

const progress = readProgress();
let seen = 0;
for (const item of document.querySelectorAll("[data-lesson-slug]")) {
  const entry = progress[item.dataset.lessonSlug];
  const note = item.querySelector(".lesson-progress");
  if (!entry || !note) continue;
  seen += 1;
  const right = entry.right ? entry.right.length : 0;
  note.textContent = right ? `Opened · ${right} exercise answer${right === 1 ? "" : "s"} right`
    : "Opened";
  item.classList.add("is-seen");
}
const summary = document.getElementById("course-progress");
if (summary) {
  summary.textContent = seen ? `In this browser: ${seen} of ${document.querySelectorAll("[data-lesson-slug]").length} lessons opened.` : "";
}
