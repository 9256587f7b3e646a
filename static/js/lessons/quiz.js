/**
 * quiz.js — exercises on any program: predict the next value, tangent or adjoint.
 *
 *   mountQuizzes(root = document)   // every [data-quiz] element below root
 *   mountQuiz(element, index)       // data-source, data-at (JSON), data-mode
 *                                   // ("value" | "forward" | "reverse"), data-wrt, data-outputs;
 *                                   // or data-variants (JSON list of {source, at: {name:
 *                                   // [candidates]}, wrt, outputs}): one is picked from the
 *                                   // learner's seed (lesson-state.js), so a link reproduces it;
 *                                   // data-asked (JSON list of nodes): only those are asked;
 *                                   // data-hints="off": no hint button
 *
 * The server makes the questions (POST /api/v1/quiz, no rule and no answer in them), gives
 * hints one rung at a time (POST /api/v1/quiz/hint) and judges each answer
 * (POST /api/v1/quiz/check): right, or which known mistake it looks like, with feedback that
 * names the quantity. This module only shows them; it computes nothing. The chosen program
 * and point are written back to data-source / data-at, for links and tests.
 */

import { recordForClass } from "../classroom/record.js";
import { formatNumber, postJson } from "./client.js";
import { learnerSeed, random, recordProgress } from "./lesson-state.js";

const COLUMN = { value: "Value", forward: "Tangent", reverse: "Adjoint" };
const LEGEND = {
  forward: "Notation: v̇i (v-dot) is the tangent of vi, how fast vi changes when the seeded "
    + "input moves. Along each edge a tangent is multiplied by that edge's local derivative: "
    + "×local → carried.",
  reverse: "Notation: v̄i (v-bar) is the adjoint of vi, how much the output changes when vi "
    + "moves. Along each edge, backwards, an adjoint is multiplied by the edge's local "
    + "derivative and added into the argument's adjoint: ×local → carried, + at a fork.",
  value: "Notation: vi is the value of node i of the trace, computed from the rows above it.",
};
let counter = 0;

export function mountQuizzes(root = document) {
  return [...root.querySelectorAll("[data-quiz]")].map((el, i) => mountQuiz(el, i));
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

/** The exercise this learner gets: a variant picked by their seed, or the element's own. */
function chooseExercise(container, index) {
  const request = {
    source: container.dataset.source,
    at: JSON.parse(container.dataset.at || "{}"),
    mode: container.dataset.mode || "reverse",
  };
  if (container.dataset.wrt) request.wrt = container.dataset.wrt;
  if (container.dataset.outputs) request.outputs = JSON.parse(container.dataset.outputs);
  if (!container.dataset.variants) return request;
  const variants = JSON.parse(container.dataset.variants);
  const next = random(`${learnerSeed()}:${index}`);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const variant = pick(variants);
  request.source = variant.source;
  request.at = Object.fromEntries(Object.entries(variant.at).map(
    ([name, values]) => [name, Array.isArray(values) ? pick(values) : values]));
  if (variant.wrt) request.wrt = variant.wrt;
  if (variant.outputs) request.outputs = variant.outputs;
  container.dataset.source = request.source;
  container.dataset.at = JSON.stringify(request.at);
  return request;
}

export function mountQuiz(container, index = 0) {
  const request = chooseExercise(container, index);
  const slug = container.closest("[data-slug]")?.dataset.slug || null;
  const id = `quiz-${(counter += 1)}`;
  const state = { quiz: null, index: 0, rows: new Map(), hints: 0 };
  // a teacher's exercise (/x/<slug>) may ask only some nodes, and offer no hints
  const asked = container.dataset.asked ? JSON.parse(container.dataset.asked) : null;
  const hintsOffered = container.dataset.hints !== "off";

  const point = Object.entries(request.at).map(([n, v]) => `${n} = ${v}`).join(", ");
  const task = el("p", { class: "quiz-task" }, "Your exercise: ",
    el("code", { class: "quiz-source", text: request.source }),
    point ? ` at ${point}.` : ".");
  const legend = el("p", { class: "quiz-legend", text: LEGEND[request.mode] || "" });
  const progress = el("p", { class: "quiz-progress readout" });
  const table = el("table", { class: "data-table trace-table" });
  const prompt = el("p", { class: "quiz-question", id: `${id}-prompt` });
  const input = el("input", { type: "text", inputmode: "decimal", autocomplete: "off",
    id: `${id}-answer`, "aria-describedby": `${id}-prompt` });
  const label = el("label", { for: `${id}-answer`, text: "Your prediction" });
  const check = el("button", { type: "submit", class: "button button-primary", text: "Check" });
  const hint = el("button", { type: "button", class: "button", text: "Hint" });
  const reveal = el("button", { type: "button", class: "button", text: "Show answer" });
  const next = el("button", { type: "button", class: "button", text: "Next question" });
  next.hidden = true;
  const form = el("form", { class: "quiz-form" }, label, input, check, hint, reveal, next);
  const hints = el("ol", { class: "quiz-hints", "aria-live": "polite",
    "aria-label": "Hints so far" });
  const feedback = el("div", { class: "quiz-feedback", role: "status", "aria-live": "polite",
    id: `${id}-feedback` });
  const frame = el("div", { class: "table-scroll", tabindex: "0", role: "region",
    "aria-label": "Trace table, scrolls sideways on a narrow screen" }, table);
  container.replaceChildren(task, legend, progress, frame, prompt, form, hints, feedback);

  function renderTable(quiz) {
    const head = el("tr", {}, el("th", { scope: "col", text: "Node" }),
      el("th", { scope: "col", text: "Computes" }), el("th", { scope: "col", text: "Value" }));
    if (quiz.mode !== "value") head.append(el("th", { scope: "col", text: COLUMN[quiz.mode] }));
    const body = el("tbody");
    const asked = new Set(quiz.questions.map((q) => q.node));
    // not asked and not given: the output does not depend on it (or it on the input)
    const blank = (row) => (asked.has(row.node) ? "?" : "—");
    for (const row of quiz.rows) {
      const name = row.label ? `${row.node} (${row.label})` : row.node;
      const value = el("td", { text: quiz.mode === "value" && row.given === null ? "?" : formatNumber(row.value) });
      const tr = el("tr", { "data-node": row.node }, el("th", { scope: "row", text: name }),
        el("td", { class: "step-formula", text: row.expression }), value);
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

  function resetHints() {
    state.hints = 0;
    hints.replaceChildren();
    hint.textContent = "Hint";
    hint.disabled = false;
  }

  function showQuestion() {
    const { quiz, index: i } = state;
    for (const { tr } of state.rows.values()) tr.classList.remove("is-current");
    resetHints();
    if (i >= quiz.questions.length) {
      progress.textContent = `All ${quiz.questions.length} questions done.`;
      prompt.textContent = "Well done: every row of the trace is filled in.";
      prompt.classList.add("quiz-done");
      form.hidden = true;
      delete container.dataset.question;
      return;
    }
    const q = quiz.questions[i];
    progress.textContent = `Question ${i + 1} of ${quiz.questions.length}`;
    prompt.textContent = q.prompt;
    label.textContent = `Your prediction for ${q.symbol}`;
    state.rows.get(q.node).tr.classList.add("is-current");
    // on a narrow screen the asked column is the last one: keep it in view
    if (frame.scrollWidth > frame.clientWidth) frame.scrollLeft = frame.scrollWidth;
    input.value = "";
    input.disabled = false;
    check.hidden = false;
    hint.hidden = !hintsOffered; // a teacher may hand out an exercise without hints
    reveal.hidden = false;
    next.hidden = true;
    container.dataset.question = q.id;
  }

  async function askHint() {
    const q = state.quiz.questions[state.index];
    const level = state.hints + 1;
    hint.disabled = true;
    try {
      const answer = await postJson("/api/v1/quiz/hint", { ...request, question: q.id, level });
      if (state.quiz.questions[state.index] !== q) return; // moved on meanwhile
      state.hints = level;
      hints.append(el("li", { "data-level": String(level), text: answer.hint }));
      container.dataset.hints = String(level);
      hint.textContent = level < answer.levels ? `Another hint (${level + 1} of ${answer.levels})` : "No more hints";
      hint.disabled = level >= answer.levels;
    } catch (error) {
      hint.disabled = error.status === 403; // hints are off for this exercise: asking again changes nothing
      feedback.className = "quiz-feedback is-wrong";
      feedback.textContent = error.message;
    }
  }

  async function judge(revealing) {
    const q = state.quiz.questions[state.index];
    delete feedback.dataset.verdict; // set again once the server has judged
    const text = input.value.trim().replace(",", ".").replace("−", "-");
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
      feedback.textContent = revealing && !verdict.correct
        ? `${q.symbol} = ${formatNumber(verdict.answer)}. Ask for the hints to see how it is built.`
        : verdict.feedback;
      if (verdict.correct && !revealing) recordProgress(slug, `${index}:${q.id}`);
      if (verdict.correct || revealing) {
        state.rows.get(q.node).deriv.textContent = formatNumber(verdict.answer);
        input.disabled = true;
        check.hidden = true;
        hint.hidden = true;
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
  hint.addEventListener("click", askHint);
  reveal.addEventListener("click", () => judge(true));
  next.addEventListener("click", () => {
    state.index += 1;
    feedback.textContent = "";
    delete feedback.dataset.verdict;
    showQuestion();
    if (!form.hidden) input.focus();
  });

  const ready = postJson("/api/v1/quiz", request).then((quiz) => {
    if (asked) quiz.questions = quiz.questions.filter((q) => asked.includes(q.node));
    state.quiz = quiz;
    renderTable(quiz);
    showQuestion();
    container.dataset.ready = "true";
  }).catch((error) => {
    container.replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    container.dataset.ready = "error";
  });
  return { ready, state, request };
}
