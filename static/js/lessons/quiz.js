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
import { el } from "../dom.js";
import { formatNumber, postJson } from "./client.js";
import { learnerSeed, random, recordProgress } from "./lesson-state.js";
import { loadQuiz, quizFlow } from "./quiz-flow.js";

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
  const rows = new Map(); // node -> its table row and derivative cell
  // a teacher's exercise (/x/<slug>) may ask only some nodes, and offer no hints
  const asked = container.dataset.asked ? JSON.parse(container.dataset.asked) : null;

  const point = Object.entries(request.at).map(([n, v]) => `${n} = ${v}`).join(", ");
  const task = el("p", { class: "quiz-task" }, "Your exercise: ",
    el("code", { class: "quiz-source", text: request.source }),
    point ? ` at ${point}.` : ".");
  const legend = el("p", { class: "quiz-legend", text: LEGEND[request.mode] || "" });
  const table = el("table", { class: "data-table trace-table" });
  const flow = quizFlow({ container, id, label: "Your prediction", input: { inputmode: "decimal" },
    hintPath: "/api/v1/quiz/hint", request, judge, onQuestion,
    done: "Well done: every row of the trace is filled in." });
  const frame = el("div", { class: "table-scroll", tabindex: "0", role: "region",
    "aria-label": "Trace table, scrolls sideways on a narrow screen" }, table);
  container.replaceChildren(task, legend, flow.progress, frame, flow.prompt, flow.form,
    flow.hints, flow.feedback);

  function renderTable(quiz) {
    const head = el("tr", {}, el("th", { scope: "col", text: "Node" }),
      el("th", { scope: "col", text: "Computes" }), el("th", { scope: "col", text: "Value" }));
    if (quiz.mode !== "value") head.append(el("th", { scope: "col", text: COLUMN[quiz.mode] }));
    const body = el("tbody");
    const questioned = new Set(quiz.questions.map((q) => q.node));
    // not asked and not given: the output does not depend on it (or it on the input)
    const blank = (row) => (questioned.has(row.node) ? "?" : "—");
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
      rows.set(row.node, { tr, deriv });
      body.append(tr);
    }
    const caption = el("caption", { text: quiz.mode === "value"
      ? "Evaluation trace" : `${COLUMN[quiz.mode]} pass (${quiz.mode === "forward" ? "seed" : "from output"} ${quiz.wrt})` });
    table.replaceChildren(caption, el("thead", {}, head), body);
  }

  function onQuestion(q) {
    for (const { tr } of rows.values()) tr.classList.remove("is-current");
    if (!q) return;
    flow.label.textContent = `Your prediction for ${q.symbol}`;
    rows.get(q.node).tr.classList.add("is-current");
    // on a narrow screen the asked column is the last one: keep it in view
    if (frame.scrollWidth > frame.clientWidth) frame.scrollLeft = frame.scrollWidth;
  }

  async function judge(q, revealing) {
    const text = flow.input.value.trim().replace(",", ".").replace("−", "-");
    const answer = Number(text);
    if (!revealing && (text === "" || !Number.isFinite(answer))) {
      flow.say("Type a number, for example 12 or -0.5.", "invalid");
      return;
    }
    delete flow.feedback.dataset.verdict; // set again once the server has judged
    try {
      const verdict = await postJson("/api/v1/quiz/check", {
        ...request, question: q.id, answer: Number.isFinite(answer) && text !== "" ? answer : 0,
        reveal: revealing });
      if (!revealing) recordForClass(container, { ...request, question: q.id, answer });
      const kind = verdict.correct ? "correct" : (verdict.mistake || "unknown");
      flow.say(revealing && !verdict.correct
        ? `${q.symbol} = ${formatNumber(verdict.answer)}. Ask for the hints to see how it is built.`
        : verdict.feedback, revealing && !verdict.correct ? "revealed" : kind);
      if (verdict.correct && !revealing) recordProgress(slug, `${index}:${q.id}`);
      if (verdict.correct || revealing) {
        rows.get(q.node).deriv.textContent = formatNumber(verdict.answer);
        flow.settle();
      }
    } catch (error) {
      flow.say(error.message, "error");
    }
  }

  const ready = loadQuiz(container, postJson("/api/v1/quiz", request), (quiz) => {
    const questions = asked ? quiz.questions.filter((q) => asked.includes(q.node)) : quiz.questions;
    renderTable({ ...quiz, questions });
    flow.start(questions, { hints: container.dataset.hints !== "off" });
  });
  return { ready, request };
}
