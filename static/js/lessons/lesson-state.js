/**
 * lesson-state.js — what a lesson remembers: its state in the URL, the learner's variant seed,
 * and progress in this browser (localStorage), shown on the index.
 *
 *   param(name), setParams({name: value})   // read / replace the page's query (no new entry)
 *   learnerSeed()                            // the URL's ?variant=..., else this browser's own
 *                                            // (made once, then written into the URL)
 *   random(seed)                             // a seeded generator: () -> [0, 1)
 *   recordProgress(slug, questionId)         // an exercise answered right (or the lesson seen)
 *   readProgress() -> {slug: {seen, right: [ids]}}
 *
 * A teacher can hand out a link with ?variant=... and every student gets the same exercises;
 * without it each learner gets their own, the same on every visit.
 */

const SEED_KEY = "autodiff-lab.learner";
const PROGRESS_KEY = "autodiff-lab.progress";

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: the lesson still works, it just forgets
  }
}

export function param(name) {
  return new URL(window.location.href).searchParams.get(name);
}

export function setParams(values) {
  const url = new URL(window.location.href);
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") url.searchParams.delete(name);
    else url.searchParams.set(name, String(value));
  }
  window.history.replaceState(window.history.state, "", url);
}

export function learnerSeed() {
  const given = param("variant");
  if (given && /^[\w-]{1,32}$/.test(given)) return given;
  const store = storage();
  let seed = store && store.getItem(SEED_KEY);
  if (!seed) {
    const bytes = new Uint32Array(1);
    window.crypto.getRandomValues(bytes);
    seed = bytes[0].toString(36);
    if (store) store.setItem(SEED_KEY, seed);
  }
  setParams({ variant: seed });
  return seed;
}

/** FNV-1a then mulberry32: a small, well-mixed generator from any string. */
export function random(seed) {
  let h = 2166136261;
  for (const ch of String(seed)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function readProgress() {
  const store = storage();
  try {
    return JSON.parse((store && store.getItem(PROGRESS_KEY)) || "{}") || {};
  } catch {
    return {};
  }
}

export function recordProgress(slug, questionId = null) {
  const store = storage();
  if (!store || !slug) return;
  const progress = readProgress();
  const entry = progress[slug] || { seen: true, right: [] };
  entry.seen = true;
  if (questionId && !entry.right.includes(questionId)) entry.right.push(questionId);
  progress[slug] = entry;
  store.setItem(PROGRESS_KEY, JSON.stringify(progress));
}
