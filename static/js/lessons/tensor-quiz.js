/**
 * tensor-quiz.js — lesson 9's exercises on arrays: the shapes of a layer's adjoints, the
 * adjoints of a matrix product, the adjoint of a bias broadcast over a batch.
 *
 *   mountTensorQuizzes(root = document)  // every [data-tensor-quiz] element below root:
 *                                        // data-kind ("shapes" | "matmul" | "broadcast"),
 *                                        // data-variants (JSON list of {at, cotangent?}); one
 *                                        // is picked from the learner's seed (lesson-state.js)
 *
 * The server makes the exercise (POST /api/v1/quiz/tensor: the program, the given arrays, the
 * questions, no answers), judges each typed answer (.../check: right, or which known mistake
 * it looks like — a transpose forgotten, the factors swapped, a broadcast not summed, a wrong
 * shape) and gives hints one rung at a time (.../hint). This module only shows them. The
 * chosen variant is written to data-at / data-cotangent, for links and tests. In a joined
 * class, each checked answer (not a revealed one) is recorded for the teacher (record.js).
 */

import { recordForClass } from "../classroom/record.js";
import { formatNumber, postJson } from "./client.js";
import { learnerSeed, random, recordProgress } from "./lesson-state.js";

let counter = 0;

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

/** A small array as a bordered grid of numbers, with its name and shape as caption. */
export function matrixTable(symbol, value, shape) {
  const rows = shape.length === 1 ? [value] : value;
  const shown = `${symbol} (${shape.join("×")})`;
  const body = el("tbody", {}, ...rows.map((row) => el("tr", {},
    ...row.map((v) => el("td", { text: formatNumber(v) })))));
  return el("table", { class: "array-grid", "data-name": symbol }, el("caption", { text: shown }), body);
}

export function mountTensorQuizzes(root = document) {
  return [...root.querySelectorAll("[data-tensor-quiz]")].map((node, i) => mountTensorQuiz(node, i));
}

export function mountTensorQuiz(container, index = 0) {
  const variants = JSON.parse(container.dataset.variants || "[]");
  const next = random(`${learnerSeed()}:tensor:${index}`);
  const variant = variants[Math.floor(next() * variants.length)] || {};
  const request = { kind: container.dataset.kind, at: variant.at || {} };
  if (variant.cotangent) request.cotangent = variant.cotangent;
  container.dataset.at = JSON.stringify(request.at);
  if (variant.cotangent) container.dataset.cotangent = JSON.stringify(variant.cotangent);
  const slug = container.closest("[data-slug]")?.dataset.slug || null;
  const id = `tensor-quiz-${(counter += 1)}`;
  const state = { quiz: null, index: 0, hints: 0 };

  const program = el("pre", { class: "program-text quiz-program" });
  const given = el("div", { class: "matrices", role: "group", "aria-label": "The given arrays" });
  const progress = el("p", { class: "quiz-progress readout" });
  const prompt = el("p", { class: "quiz-question", id: `${id}-prompt` });
  const input = el("input", { type: "text", autocomplete: "off", spellcheck: "false",
    id: `${id}-answer`, "aria-describedby": `${id}-prompt` });
  const label = el("label", { for: `${id}-answer`, text: "Your answer" });
  const check = el("button", { type: "submit", class: "button button-primary", text: "Check" });
  const hint = el("button", { type: "button", class: "button", text: "Hint" });
  const reveal = el("button", { type: "button", class: "button", text: "Show answer" });
  const onward = el("button", { type: "button", class: "button", text: "Next question" });
  onward.hidden = true;
  const form = el("form", { class: "quiz-form" }, label, input, check, hint, reveal, onward);
  const hints = el("ol", { class: "quiz-hints", "aria-live": "polite", "aria-label": "Hints so far" });
  const feedback = el("div", { class: "quiz-feedback", role: "status", "aria-live": "polite" });
  const answers = el("div", { class: "matrices answers", role: "group", "aria-label": "Your answers so far" });
  container.replaceChildren(program, given, progress, prompt, form, hints, feedback, answers);

  function showQuestion() {
    const { quiz, index: i } = state;
    state.hints = 0;
    hints.replaceChildren();
    hint.textContent = "Hint";
    hint.disabled = false;
    if (i >= quiz.questions.length) {
      progress.textContent = `All ${quiz.questions.length} questions done.`;
      prompt.textContent = "Well done: every array's adjoint, shape and all.";
      prompt.classList.add("quiz-done");
      form.hidden = true;
      delete container.dataset.question;
      return;
    }
    const q = quiz.questions[i];
    progress.textContent = `Question ${i + 1} of ${quiz.questions.length}`;
    prompt.textContent = q.prompt;
    label.textContent = q.asks === "shape" ? `${q.symbol[0].toUpperCase()}${q.symbol.slice(1)}`
      : `Your ${q.symbol} (rows split by ;)`;
    input.placeholder = q.asks === "shape" ? "rows×columns" : "row; row";
    input.value = "";
    input.disabled = false;
    check.hidden = false;
    hint.hidden = false;
    reveal.hidden = false;
    onward.hidden = true;
    container.dataset.question = q.id;
  }

  async function askHint() {
    const q = state.quiz.questions[state.index];
    const level = state.hints + 1;
    hint.disabled = true;
    try {
      const answer = await postJson("/api/v1/quiz/tensor/hint", { ...request, question: q.id, level });
      if (state.quiz.questions[state.index] !== q) return;
      state.hints = level;
      hints.append(el("li", { "data-level": String(level), text: answer.hint }));
      hint.textContent = level < answer.levels ? `Another hint (${level + 1} of ${answer.levels})` : "No more hints";
      hint.disabled = level >= answer.levels;
    } catch (error) {
      hint.disabled = false;
      feedback.className = "quiz-feedback is-wrong";
      feedback.textContent = error.message;
    }
  }

  async function judge(revealing) {
    const q = state.quiz.questions[state.index];
    delete feedback.dataset.verdict;
    const text = input.value.trim();
    if (!revealing && text === "") {
      feedback.className = "quiz-feedback is-wrong";
      feedback.dataset.verdict = "invalid";
      feedback.textContent = q.asks === "shape" ? "Type a shape, for example 3×2."
        : "Type the numbers row by row, for example 1 2; 3 4.";
      return;
    }
    try {
      const verdict = await postJson("/api/v1/quiz/tensor/check", { ...request, question: q.id,
        answer: text || (q.asks === "shape" ? "scalar" : "0"), reveal: revealing });
      if (!revealing) {
        recordForClass(container, { ...request, question: q.id, answer: text }, "/answers/tensor");
      }
      feedback.dataset.verdict = verdict.correct ? "correct"
        : revealing ? "revealed" : (verdict.mistake || "unknown");
      feedback.className = `quiz-feedback ${verdict.correct ? "is-correct" : "is-wrong"}`;
      feedback.textContent = revealing && !verdict.correct
        ? `${q.symbol} = ${verdict.answer}. Ask for the hints to see how it is built.`
        : verdict.feedback;
      if (verdict.correct && !revealing) recordProgress(slug, `tensor-${index}:${q.id}`);
      if (verdict.correct || revealing) {
        answers.append(el("p", { class: "mono", text: `${q.symbol} = ${verdict.answer}` }));
        input.disabled = true;
        check.hidden = true;
        hint.hidden = true;
        reveal.hidden = true;
        onward.hidden = false;
        onward.focus();
      }
    } catch (error) {
      // a typed answer the server cannot read: its 422 says how to write it
      feedback.className = "quiz-feedback is-wrong";
      feedback.dataset.verdict = "invalid";
      feedback.textContent = error.message;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    judge(false);
  });
  hint.addEventListener("click", askHint);
  reveal.addEventListener("click", () => judge(true));
  onward.addEventListener("click", () => {
    state.index += 1;
    feedback.textContent = "";
    delete feedback.dataset.verdict;
    showQuestion();
    if (!form.hidden) input.focus();
  });

  const ready = postJson("/api/v1/quiz/tensor", request).then((quiz) => {
    state.quiz = quiz;
    program.textContent = quiz.source;
    given.replaceChildren(...quiz.given.map((g) => matrixTable(g.symbol, g.value, g.shape)));
    showQuestion();
    container.dataset.ready = "true";
  }).catch((error) => {
    container.replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    container.dataset.ready = "error";
  });
  return { ready, state, request };
}
