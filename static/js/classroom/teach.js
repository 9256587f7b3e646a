/**
 * teach.js — /teach: make a class, then show its code large with its QR code, and the
 * teacher's link (which holds the key, shown this once) that opens the dashboard.
 */

import { callClass, rememberTeacherKey } from "./class-api.js";

const $ = (id) => document.getElementById(id);

$("new-class").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("new-class-error");
  error.hidden = true;
  try {
    const made = await callClass("POST", "", { body: {
      name: $("class-name").value, retention_days: Number($("retention").value) } });
    rememberTeacherKey(made.code, made.teacher_key);
    // the key goes in the fragment: browsers never send it to a server or a Referer
    const link = `${location.origin}/teach/${made.code}#key=${made.teacher_key}`;
    $("join-url").textContent = `${location.host}/join`;
    $("join-code").textContent = made.code;
    $("join-qr").src = `/join/qr.svg?code=${encodeURIComponent(made.code)}`;
    $("teacher-link").value = link;
    $("open-dashboard").href = link;
    $("new-class").hidden = true;
    $("made").hidden = false;
    $("made-title").focus?.();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
});

$("copy-link").addEventListener("click", async () => {
  $("teacher-link").select();
  try {
    await navigator.clipboard.writeText($("teacher-link").value);
    $("copy-link").textContent = "Copied";
  } catch {
    $("copy-link").textContent = "Select and copy";
  }
});
