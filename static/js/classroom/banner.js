/**
 * banner.js — on every page, for a student who joined a class: a slim bar naming the class,
 * and, when the teacher shares an example, an offer to open it. It tells the server where
 * the student is (the page title) every few seconds; that is the dashboard's "where".
 */

import { callClass, el, forgetClass, joinedClass } from "./class-api.js";

const EVERY_MS = 4000;
const DISMISSED = "autodiff-class-dismissed";

function mount(joined) {
  if (!document.querySelector('link[href="/static/css/classroom.css"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/static/css/classroom.css" }));
  }
  const text = el("span", { class: "class-bar-text" });
  text.append("Class ", el("strong", { text: joined.name }), ` · you are ${joined.nickname}`);
  const offer = el("p", { class: "class-offer", role: "status", "aria-live": "polite" });
  offer.hidden = true;
  const leave = el("button", { type: "button", class: "link-button", text: "Leave class" });
  const bar = el("aside", { class: "class-bar", "aria-label": "Your class" }, text, leave, offer);
  document.querySelector(".site-header")?.after(bar);
  leave.addEventListener("click", () => {
    forgetClass();
    bar.remove();
  });
  return { bar, offer };
}

function showOffer(offer, shared) {
  if (!shared || sessionStorage.getItem(DISMISSED) === String(shared.at)
      || location.pathname + location.search === shared.url) {
    offer.hidden = true;
    return;
  }
  const open = el("a", { class: "button button-primary", href: shared.url, text: "Open it" });
  const close = el("button", { type: "button", class: "button", text: "Not now" });
  close.addEventListener("click", () => {
    sessionStorage.setItem(DISMISSED, String(shared.at));
    offer.hidden = true;
  });
  offer.replaceChildren(el("span", { text: "Your teacher shares an example: " }),
    el("strong", { text: shared.title }), " ", open, close);
  offer.hidden = false;
}

async function poll(joined, view) {
  try {
    const state = await callClass("POST", `/${encodeURIComponent(joined.code)}/presence`,
      { body: { place: document.title.slice(0, 200) } });
    if (state.ended) {
      view.offer.hidden = true;
      return false;
    }
    showOffer(view.offer, state.shared);
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      forgetClass(); // the class is gone, or this browser's cookie is
      view.bar.remove();
      return false;
    }
  }
  return true;
}

const joined = joinedClass();
if (joined && !document.body.classList.contains("no-class-bar")) {
  const view = mount(joined);
  const tick = async () => {
    if (await poll(joined, view)) setTimeout(tick, EVERY_MS);
  };
  tick();
}
