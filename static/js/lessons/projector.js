/**
 * projector.js — a projector mode for the lessons and their index: large type and wide
 * columns, for the back row of a classroom. A toggle button ([data-projector-toggle]) switches
 * it; the choice is kept in this browser and in the URL (?projector=1), so a teacher's link
 * opens in it.
 */

import { param, setParams } from "./lesson-state.js";

const KEY = "autodiff-lab.projector";

function stored() {
  try {
    return window.localStorage.getItem(KEY) === "1";
  } catch {
    return false;
  }
}

function apply(on) {
  document.documentElement.classList.toggle("projector", on);
  for (const button of document.querySelectorAll("[data-projector-toggle]")) {
    button.setAttribute("aria-pressed", String(on));
  }
  try {
    window.localStorage.setItem(KEY, on ? "1" : "0");
  } catch {
    // storage blocked: the mode still holds for this page
  }
  setParams({ projector: on ? 1 : null });
  window.dispatchEvent(new Event("resize")); // plots and graphs refit the new column
}

const given = param("projector");
apply(given !== null ? given === "1" : stored());
for (const button of document.querySelectorAll("[data-projector-toggle]")) {
  button.addEventListener("click", () =>
    apply(!document.documentElement.classList.contains("projector")));
}
