/**
 * quiz.js — exercises on any program: predict the next value, tangent or adjoint.
 *
 *   mountQuizzes(root = document)   // every [data-quiz] element below root
 *   mountQuiz(element)              // data-source, data-at (JSON), data-mode
 *                                   // ("value" | "forward" | "reverse"), data-wrt, data-outputs
 *
 * The server makes the questions (POST /api/v1/quiz) and judges each answer
 * (POST /api/v1/quiz/check): right, or which known mistake it looks like (fork, seed, local),
 * each with its own feedback. This module only shows them; it computes nothing.
 * The playground can mount one on its own graph, or link to /quiz?source=...&at=...&mode=...
 */

import { recordForClass } from "../classroom/record.js";
import { formatNumber, postJson } from "./client.js";

const ASKS = { value: "value", tangent: "tangent", adjoint: "adjoint" };
const COLUMN = { value: "Value", forward: "Tangent", reverse: "Adjoint" };
let counter = 0;

export function mountQuizzes(root = document) {
  return [...root.querySelectorAll("[data-quiz]")].map((el) => mountQuiz(el));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export function mountQuiz(container) {
  const request = {
    source: container.dataset.source,
    at: JSON.parse(container.dataset.at || "{}"),
    mode: container.dataset.mode || "reverse",
  };
  if (container.dataset.wrt) request.wrt = container.dataset.wrt;
  if (container.dataset.outputs) request.outputs = JSON.parse(container.dataset.outputs);
  const id = `quiz-${(counter += 1)}`;
  const state = { quiz: null, index: 0, rows: new Map() };

  const progress = el("p", { class: "quiz-progress readout" });
  const table = el("table", { class: "data-table trace-table" });
  const prompt = el("p", { class: "quiz-question", id: `${id}-prompt` });
  const formula = el("p", { class: "quiz-formula", id: `${id}-formula` });
  const input = el("input", { type: "text", inputmode: "decimal", autocomplete: "off",
    id: `${id}-answer`, "aria-describedby": `${id}-prompt ${id}-formula` });
  const label = el("label", { for: `${id}-answer`, text: "Your prediction" });
  const check = el("button", { type: "submit", class: "button button-primary", text: "Check" });
  const reveal = el("button", { type: "button", class: "button", text: "Show answer" });
  const next = el("button", { type: "button", class: "button", text: "Next question" });
  next.hidden = true;
  const form = el("form", { class: "quiz-form" }, label, input, check, reveal, next);
  const feedback = el("div", { class: "quiz-feedback", role: "status", "aria-live": "polite",
    id: `${id}-feedback` });
  const frame = el("div", { class: "table-scroll", tabindex: "0", role: "region",
    "aria-label": "Trace table, scrolls sideways on a narrow screen" }, table);
  container.replaceChildren(progress, frame, prompt, formula, form, feedback);

  function renderTable(quiz) {
    const head = el("tr", {}, el("th", { scope: "col", text: "Node" }),
      el("th", { scope: "col", text: "Step" }), el("th", { scope: "col", text: "Value" }));
    if (quiz.mode !== "value") head.append(el("th", { scope: "col", text: COLUMN[quiz.mode] }));
    const body = el("tbody");
    const asked = new Set(quiz.questions.map((q) => q.node));
    // not asked and not given: the output does not depend on it (or it on the input)
    const blank = (row) => (asked.has(row.node) ? "?" : "—");
    for (const row of quiz.rows) {
      const name = row.label ? `${row.node} (${row.label})` : row.node;
      const value = el("td", { text: quiz.mode === "value" && row.given === null ? "?" : formatNumber(row.value) });
      const tr = el("tr", { "data-node": row.node }, el("th", { scope: "row", text: name }),
        el("td", { class: "step-formula", text: row.formula }), value);
      let deriv = value;
      if (quiz.mode !== "value") {
        deriv = el("td", { class: "derivative", text: row.given === null ? blank(row) : formatNumber(row.given) });
        tr.append(deriv);
      }
      state.rows.set(row.node, { tr, deriv });
      body.append(tr);
    }
    const caption = el("caption", { text: quiz.mode === "value"
      ? "Evaluation trace" : `${COLUMN[quiz.mode]} pass (${quiz.mode === "forward" ? "seed" : "from output"} ${quiz.wrt})` });
    table.replaceChildren(caption, el("thead", {}, head), body);
  }

  function showQuestion() {
    const { quiz, index } = state;
    for (const { tr } of state.rows.values()) tr.classList.remove("is-current");
    if (index >= quiz.questions.length) {
      progress.textContent = `All ${quiz.questions.length} questions done.`;
      prompt.textContent = "Well done: every row of the trace is filled in.";
      prompt.classList.add("quiz-done");
      formula.hidden = true;
      form.hidden = true;
      return;
    }
    const q = quiz.questions[index];
    progress.textContent = `Question ${index + 1} of ${quiz.questions.length}`;
    prompt.textContent = q.prompt;
    formula.textContent = `Rule: ${q.formula}`;
    label.textContent = `Your prediction for the ${ASKS[q.asks]} of ${q.label || q.node}`;
    state.rows.get(q.node).tr.classList.add("is-current");
    // on a narrow screen the asked column is the last one: keep it in view
    if (frame.scrollWidth > frame.clientWidth) frame.scrollLeft = frame.scrollWidth;
    input.value = "";
    input.disabled = false;
    check.hidden = false;
    reveal.hidden = false;
    next.hidden = true;
    container.dataset.question = q.id;
  }

  async function judge(revealing) {
    const q = state.quiz.questions[state.index];
    delete feedback.dataset.verdict; // set again once the server has judged
    const text = input.value.trim().replace(",", ".");
    const answer = Number(text);
    if (!revealing && (text === "" || !Number.isFinite(answer))) {
      feedback.className = "quiz-feedback is-wrong";
      feedback.dataset.verdict = "invalid";
      feedback.textContent = "Type a number, for example 12 or -0.5.";
      return;
    }
    try {
      const verdict = await postJson("/api/v1/quiz/check", {
        ...request, question: q.id, answer: Number.isFinite(answer) && text !== "" ? answer : 0,
        reveal: revealing });
      if (!revealing) recordForClass(container, { ...request, question: q.id, answer });
      const kind = verdict.correct ? "correct" : (verdict.mistake || "unknown");
      feedback.dataset.verdict = revealing && !verdict.correct ? "revealed" : kind;
      feedback.className = `quiz-feedback ${verdict.correct ? "is-correct" : "is-wrong"}`;
      const shown = revealing && !verdict.correct
        ? `The answer is ${formatNumber(verdict.answer)}. ${q.formula}.` : verdict.feedback;
      feedback.textContent = shown;
      if (verdict.correct || revealing) {
        state.rows.get(q.node).deriv.textContent = formatNumber(verdict.answer);
        input.disabled = true;
        check.hidden = true;
        reveal.hidden = true;
        next.hidden = false;
        next.focus();
      }
    } catch (error) {
      feedback.className = "quiz-feedback is-wrong";
      feedback.dataset.verdict = "error";
      feedback.textContent = error.message;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    judge(false);
  });
  reveal.addEventListener("click", () => judge(true));
  next.addEventListener("click", () => {
    state.index += 1;
    feedback.textContent = "";
    delete feedback.dataset.verdict;
    showQuestion();
    if (!form.hidden) input.focus();
  });

  const ready = postJson("/api/v1/quiz", request).then((quiz) => {
    state.quiz = quiz;
    renderTable(quiz);
    showQuestion();
    container.dataset.ready = "true";
  }).catch((error) => {
    container.replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    container.dataset.ready = "error";
  });
  return { ready, state };
}
