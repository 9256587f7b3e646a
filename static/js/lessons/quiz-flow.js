/**
 * quiz-flow.js — what the scalar quizzes (quiz.js) and the array quizzes (tensor-quiz.js)
 * share: one question at a time with its progress line and prompt, and the answer form
 * (Check, Hint one rung at a time, Show answer, Next question).
 *
 *   const flow = quizFlow({ container, id, label, input: {...attributes}, hintPath,
 *                           request, done, judge, onQuestion })
 *   container.replaceChildren(..., flow.progress, flow.prompt, flow.form, flow.hints,
 *                             flow.feedback, ...)
 *   flow.start(questions, { hints })  // ask the first question (hints: false, no Hint button)
 *   flow.say(text, verdict)           // the feedback line; verdict "correct" shows it as right
 *   flow.settle()                     // answered or revealed: only Next question is left
 *   loadQuiz(container, loading, setUp)  // setUp(quiz) when it comes, or the error in its place
 *
 * The quiz keeps its own: `judge(question, revealing)` reads `flow.input`, asks the server
 * and answers with say() and settle(); `onQuestion(question)` (null when all are done)
 * labels the input and marks the question in its table. Hints are asked from `hintPath`
 * with `request`, the question's id and the rung. The asked question's id is in the
 * container's data-question.
 */

import { el } from "../dom.js";
import { postJson } from "./client.js";

export function quizFlow({ container, id, label: labelText, input: inputAttrs = {}, hintPath,
  request, done, judge, onQuestion }) {
  const progress = el("p", { class: "quiz-progress readout" });
  const prompt = el("p", { class: "quiz-question", id: `${id}-prompt` });
  const input = el("input", { type: "text", autocomplete: "off", id: `${id}-answer`,
    "aria-describedby": `${id}-prompt`, ...inputAttrs });
  const label = el("label", { for: `${id}-answer`, text: labelText });
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
  const state = { questions: [], index: 0, rung: 0, hintsOffered: true };
  const current = () => state.questions[state.index] || null;

  function ask() {
    const q = current();
    onQuestion(q);
    if (!q) {
      progress.textContent = `All ${state.questions.length} questions done.`;
      prompt.textContent = done;
      prompt.classList.add("quiz-done");
      form.hidden = true;
      delete container.dataset.question;
      return;
    }
    progress.textContent = `Question ${state.index + 1} of ${state.questions.length}`;
    prompt.textContent = q.prompt;
    state.rung = 0;
    hints.replaceChildren();
    hint.textContent = "Hint";
    hint.disabled = false;
    input.value = "";
    input.disabled = false;
    check.hidden = false;
    hint.hidden = !state.hintsOffered; // a teacher may hand out an exercise without hints
    reveal.hidden = false;
    next.hidden = true;
    container.dataset.question = q.id;
  }

  function start(questions, { hints: offered = true } = {}) {
    Object.assign(state, { questions, index: 0, hintsOffered: offered });
    ask();
  }

  function say(text, verdict = null) {
    feedback.className = `quiz-feedback ${verdict === "correct" ? "is-correct" : "is-wrong"}`;
    feedback.textContent = text;
    if (verdict) feedback.dataset.verdict = verdict;
    else delete feedback.dataset.verdict;
  }

  function settle() {
    input.disabled = true;
    check.hidden = true;
    hint.hidden = true;
    reveal.hidden = true;
    next.hidden = false;
    next.focus();
  }

  async function askHint() {
    const q = current();
    const level = state.rung + 1;
    hint.disabled = true;
    try {
      const answer = await postJson(hintPath, { ...request, question: q.id, level });
      if (current() !== q) return; // moved on meanwhile
      state.rung = level;
      hints.append(el("li", { "data-level": String(level), text: answer.hint }));
      hint.textContent = level < answer.levels ? `Another hint (${level + 1} of ${answer.levels})` : "No more hints";
      hint.disabled = level >= answer.levels;
    } catch (error) {
      hint.disabled = error.status === 403; // hints are off for this exercise: asking again changes nothing
      say(error.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    judge(current(), false);
  });
  hint.addEventListener("click", askHint);
  reveal.addEventListener("click", () => judge(current(), true));
  next.addEventListener("click", () => {
    state.index += 1;
    feedback.textContent = "";
    delete feedback.dataset.verdict;
    ask();
    if (!form.hidden) input.focus();
  });

  return { progress, prompt, form, label, input, hints, feedback, start, say, settle };
}

/** Set the quiz up once the server has made it; if it cannot, its message in its place. */
export function loadQuiz(container, loading, setUp) {
  return loading.then((quiz) => {
    setUp(quiz);
    container.dataset.ready = "true";
  }).catch((error) => {
    container.replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    container.dataset.ready = "error";
  });
}
