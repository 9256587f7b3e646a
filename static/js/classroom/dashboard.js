/**
 * dashboard.js — /teach/<code>: the teacher's live view. Every second it reads the class's
 * progress from the server (which reads the database, so it is the same whichever worker or
 * replica answers) and redraws: the class's mistakes per exercise ("2 of 3 forgot to add at
 * a fork"), a students × exercises grid (right; wrong with the mistake; not tried) and where
 * each student is. Nicknames and exercise names go in as text, never as HTML.
 */

import { callClass, el, rememberTeacherKey, teacherKey } from "./class-api.js";

const EVERY_MS = 1000;
const $ = (id) => document.getElementById(id);
const code = $("dashboard").dataset.code;

// What each mistake means, as a teacher would say it; a kind added later shows by its name.
const MISTAKES = {
  fork: "forgot to add the contributions at a fork",
  local: "used a wrong local derivative",
  seed: "seeded the wrong input or output",
  incoming: "forgot to multiply by the incoming derivative",
  sign: "dropped a minus sign",
  value: "gave the value instead of the derivative",
  // the array exercises of lessons 9 and 10
  transpose: "forgot a transpose (or gave a shape transposed)",
  order: "swapped the factors of a matrix product",
  elementwise: "multiplied entry by entry instead of a matrix product",
  unsummed: "did not sum a broadcast's adjoint over the batch",
  shape: "gave an answer of the wrong shape",
  other: "made a mistake that matches no known one",
};
const SHORT = { fork: "fork", local: "local", seed: "seed", incoming: "incoming", sign: "sign",
  value: "value", transpose: "transpose", order: "order", elementwise: "entrywise",
  unsummed: "unsummed", shape: "shape", other: "wrong" };

function takeKeyFromLink() {
  const match = location.hash.match(/key=([A-Za-z0-9._-]+)/);
  if (match) {
    rememberTeacherKey(code, match[1]);
    // the key leaves the address bar: the projector shows the page, not the secret
    history.replaceState(null, "", location.pathname);
  }
  return teacherKey(code);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function drawMistakes(progress) {
  const total = progress.class.students;
  const items = [];
  for (const exercise of progress.exercises) {
    const kinds = Object.entries(exercise.mistakes).sort((a, b) => b[1] - a[1]);
    const li = el("li", { "data-exercise": exercise.name });
    li.append(el("strong", { text: exercise.name }),
      `: ${exercise.right} of ${total} right, ${exercise.tried} tried`);
    if (kinds.length) {
      const list = el("ul");
      for (const [kind, count] of kinds) {
        list.append(el("li", { "data-mistake": kind,
          text: `${count} of ${total} ${MISTAKES[kind] || `made the “${kind}” mistake`}` }));
      }
      li.append(list);
    }
    items.push(li);
  }
  if (!items.length) items.push(el("li", { text: "No answers yet." }));
  $("mistakes").replaceChildren(...items);
}

function seen(seconds) {
  if (seconds < 10) return "now";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}

function drawGrid(progress) {
  const names = progress.exercises.map((e) => e.name);
  const head = el("tr", {}, el("th", { scope: "col", text: "Student" }),
    el("th", { scope: "col", text: "Where" }), el("th", { scope: "col", text: "Seen" }),
    ...names.map((name) => el("th", { scope: "col", text: name })));
  const rows = progress.students.map((student) => {
    const cells = names.map((name) => {
      const cell = student.exercises[name];
      if (!cell) return el("td", { class: "cell-none", "data-state": "none", text: "—" });
      if (cell.correct) {
        return el("td", { class: "cell-right", "data-state": "right",
          text: `✓ ${plural(cell.right, "right")}` });
      }
      const kind = cell.mistake || "other";
      return el("td", { class: "cell-wrong", "data-state": "wrong", "data-mistake": kind,
        title: MISTAKES[kind] || kind, text: `✗ ${SHORT[kind] || kind}` });
    });
    return el("tr", { "data-student": student.nickname },
      el("th", { scope: "row", text: student.nickname }),
      el("td", { class: "cell-place", text: student.place || "" }),
      el("td", { class: "cell-seen", text: seen(student.seen_seconds_ago) }), ...cells);
  });
  const caption = el("caption", { class: "visually-hidden",
    text: "Each student's latest answer to each exercise" });
  $("grid").replaceChildren(caption, el("thead", {}, head), el("tbody", {}, ...rows));
}

function draw(progress) {
  $("class-name").textContent = progress.class.name + (progress.class.ended ? " (ended)" : "");
  $("student-count").textContent = plural(progress.class.students, "student");
  $("answer-count").textContent = plural(progress.answers, "answer");
  drawMistakes(progress);
  drawGrid(progress);
}

let key = takeKeyFromLink();
let timer = null;

async function refresh() {
  try {
    draw(await callClass("GET", `/${code}/progress`, { key }));
    $("live").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    $("dash-error").hidden = true;
  } catch (error) {
    $("live").textContent = "not updating";
    $("dash-error").textContent = error.message;
    $("dash-error").hidden = false;
    if (error.status === 401 || error.status === 403) {
      $("key-form").hidden = false;
      return;
    }
  }
  timer = setTimeout(refresh, EVERY_MS);
}

function start() {
  clearTimeout(timer);
  $("key-form").hidden = Boolean(key);
  if (key) refresh();
}

$("join-url").textContent = `${location.host}/join`;
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("key-input").value.trim();
  key = (text.match(/key=([A-Za-z0-9._-]+)/) || [null, text])[1];
  rememberTeacherKey(code, key);
  start();
});

function status(text) {
  $("action-status").textContent = text;
}

$("share-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  let url = $("share-url").value.trim();
  if (url.startsWith(location.origin)) url = url.slice(location.origin.length);
  try {
    await callClass("POST", `/${code}/shared`, { key, body: { url,
      title: $("share-title").value } });
    status("Shared: the students see an offer to open it.");
  } catch (error) {
    status(error.message);
  }
});

/** An exercise from a playground or quiz link: its program, point and (for a quiz) mode. */
function exerciseFromLink(text) {
  const url = new URL(text, location.origin);
  const params = url.searchParams;
  const at = {};
  for (const pair of (params.get("at") || "").split(",")) {
    const [name, value] = pair.split("=");
    if (name && value !== undefined && Number.isFinite(Number(value))) at[name.trim()] = Number(value);
  }
  const body = { source: params.get("source") || "", at };
  if (params.get("wrt")) body.wrt = params.get("wrt");
  return body;
}

$("assign-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const made = await callClass("POST", `/${code}/exercises`, { key, body: {
      ...exerciseFromLink($("assign-url").value.trim()), mode: $("assign-mode").value,
      title: $("assign-title").value } });
    const link = `${location.origin}${made.link}`;
    $("assigned-link").href = made.link;
    $("assigned-link").textContent = link;
    $("assigned-qr").src = `${made.link}/qr.svg`;
    $("assigned").hidden = false;
    status(`Exercise “${made.title}” is ready: share its link or QR code.`);
  } catch (error) {
    status(error.message);
  }
});

$("export").addEventListener("click", async () => {
  try {
    const response = await callClass("GET", `/${code}/answers.csv`, { key, raw: true });
    const link = el("a", { href: URL.createObjectURL(await response.blob()),
      download: `class-${code}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    status("The CSV file is downloaded.");
  } catch (error) {
    status(error.message);
  }
});

$("end-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const days = Number($("end-retention").value);
  const warning = days === 0 ? "End the class and delete every answer now?"
    : `End the class? Its data is deleted in ${days} days.`;
  if (!window.confirm(warning)) return;
  try {
    await callClass("POST", `/${code}/end`, { key, body: { retention_days: days } });
    status(days === 0 ? "The class has ended and its data is deleted."
      : `The class has ended; its data is deleted in ${days} days.`);
  } catch (error) {
    status(error.message);
  }
});

start();
