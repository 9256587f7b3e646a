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
import { el } from "../dom.js";
import { formatNumber, postJson } from "./client.js";
import { learnerSeed, random, recordProgress } from "./lesson-state.js";
import { loadQuiz, quizFlow } from "./quiz-flow.js";

let counter = 0;

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
  const program = el("pre", { class: "program-text quiz-program" });
  const given = el("div", { class: "matrices", role: "group", "aria-label": "The given arrays" });
  const flow = quizFlow({ container, id, label: "Your answer", input: { spellcheck: "false" },
    hintPath: "/api/v1/quiz/tensor/hint", request, judge, onQuestion,
    done: "Well done: every array's adjoint, shape and all." });
  const answers = el("div", { class: "matrices answers", role: "group", "aria-label": "Your answers so far" });
  container.replaceChildren(program, given, flow.progress, flow.prompt, flow.form, flow.hints,
    flow.feedback, answers);

  function onQuestion(q) {
    if (!q) return;
    flow.label.textContent = q.asks === "shape" ? `${q.symbol[0].toUpperCase()}${q.symbol.slice(1)}`
      : `Your ${q.symbol} (rows split by ;)`;
    flow.input.placeholder = q.asks === "shape" ? "rows×columns" : "row; row";
  }

  async function judge(q, revealing) {
    const text = flow.input.value.trim();
    if (!revealing && text === "") {
      flow.say(q.asks === "shape" ? "Type a shape, for example 3×2."
        : "Type the numbers row by row, for example 1 2; 3 4.", "invalid");
      return;
    }
    delete flow.feedback.dataset.verdict;
    try {
      const verdict = await postJson("/api/v1/quiz/tensor/check", { ...request, question: q.id,
        answer: text || (q.asks === "shape" ? "scalar" : "0"), reveal: revealing });
      if (!revealing) {
        recordForClass(container, { ...request, question: q.id, answer: text }, "/answers/tensor");
      }
      flow.say(revealing && !verdict.correct
        ? `${q.symbol} = ${verdict.answer}. Ask for the hints to see how it is built.`
        : verdict.feedback, verdict.correct ? "correct"
        : revealing ? "revealed" : (verdict.mistake || "unknown"));
      if (verdict.correct && !revealing) recordProgress(slug, `tensor-${index}:${q.id}`);
      if (verdict.correct || revealing) {
        answers.append(el("p", { class: "mono", text: `${q.symbol} = ${verdict.answer}` }));
        flow.settle();
      }
    } catch (error) {
      // a typed answer the server cannot read: its 422 says how to write it
      flow.say(error.message, "invalid");
    }
  }

  const ready = loadQuiz(container, postJson("/api/v1/quiz/tensor", request), (quiz) => {
    program.textContent = quiz.source;
    given.replaceChildren(...quiz.given.map((g) => matrixTable(g.symbol, g.value, g.shape)));
    flow.start(quiz.questions);
  });
  return { ready, request };
}
