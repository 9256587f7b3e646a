/**
 * assign-panel.js — "Assign to class" in the playground: a teacher hands out the program on
 * screen as an exercise (POST /api/v1/classes/<code>/exercises) and gets its short link and
 * QR code.
 *
 * The panel shows only in a tab that holds a teacher's key (the tab that made the class on
 * /teach, see class-api.js). Like export-panel.js it stands apart from playground.js: after
 * each run (the page's <body data-run> changes) it reads the program from the URL state and,
 * while open, lists the nodes the quiz would ask (POST /api/v1/quiz) as checkboxes.
 */

import { readState } from "../url-state.js";
import { callClass, el, teacherKey } from "./class-api.js";

const PREFIX = "autodiff-teacher-";
const panel = document.getElementById("assign-panel");
const form = document.getElementById("assign-form");
const classSelect = document.getElementById("assign-class");
const modeSelect = document.getElementById("assign-mode");
const nodes = document.getElementById("assign-nodes");
const status = document.getElementById("assign-status");
const result = document.getElementById("assign-result");
let listedKey = null;

/** The classes this tab can hand out to: every teacher key in sessionStorage. */
function teacherClasses() {
  const codes = [];
  for (let i = 0; i < sessionStorage.length; i += 1) {
    const name = sessionStorage.key(i);
    if (name && name.startsWith(PREFIX)) codes.push(name.slice(PREFIX.length));
  }
  return codes.sort();
}

/** The exercise the form describes, from the playground's program and point. */
function exercise() {
  const state = readState();
  const body = { source: state.source, at: state.at, mode: modeSelect.value };
  // the playground's seed (forward) or output (reverse) is the quiz's `wrt`
  const wrt = body.mode === "forward" ? state.seed : body.mode === "reverse" ? state.output : "";
  if (wrt && body.mode === state.mode) body.wrt = wrt;
  return body;
}

/** Checkboxes for the nodes the quiz asks about (all ticked), when the program changed. */
async function listNodes() {
  if (!panel.open) return;
  const body = exercise();
  const key = JSON.stringify(body);
  if (key === listedKey) return;
  listedKey = key;
  try {
    const response = await fetch("/api/v1/quiz", {
      method: "POST", body: key,
      headers: { "Content-Type": "application/json", Accept: "application/json" } });
    if (key !== listedKey) return; // a newer program is being listed
    if (!response.ok) {
      nodes.replaceChildren(el("p", { class: "help", text: "No questions while the program has an error." }));
      return;
    }
    const { questions } = await response.json();
    nodes.replaceChildren(el("legend", { text: "Nodes asked" }), ...questions.map((q) => {
      const id = `assign-node-${q.node}`;
      return el("span", { class: "assign-node" },
        el("input", { type: "checkbox", id, value: q.node, checked: "" }),
        el("label", { for: id, text: `${q.symbol} (${q.expression})` }));
    }));
  } catch {
    status.textContent = "The server cannot be reached.";
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = classSelect.value;
  const boxes = [...nodes.querySelectorAll("input[type=checkbox]")];
  const asked = boxes.filter((box) => box.checked).map((box) => box.value);
  if (boxes.length && !asked.length) {
    status.textContent = "Tick at least one node to ask.";
    return;
  }
  const body = { ...exercise(), title: document.getElementById("assign-title").value,
    hints: document.getElementById("assign-hints").checked };
  if (asked.length < boxes.length) body.asked = asked;
  try {
    const made = await callClass("POST", `/${code}/exercises`, { key: teacherKey(code), body });
    const link = document.getElementById("assign-link");
    link.href = made.link;
    link.textContent = `${location.origin}${made.link}`;
    document.getElementById("assign-qr").src = `${made.link}/qr.svg`;
    result.hidden = false;
    status.textContent = `“${made.title}” is ready for class ${code}: share its link or QR code.`;
  } catch (error) {
    status.textContent = error.message;
  }
});

const codes = teacherClasses();
if (codes.length) {
  classSelect.replaceChildren(...codes.map((code) => el("option", { value: code, text: code })));
  modeSelect.value = readState().mode;
  panel.hidden = false;
  panel.addEventListener("toggle", listNodes);
  modeSelect.addEventListener("change", listNodes);
  new MutationObserver(listNodes).observe(document.body, { attributes: true, attributeFilter: ["data-run"] });
}
