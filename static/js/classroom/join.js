/**
 * join.js — /join: the class code and a nickname; the server answers with the class and sets
 * the student's key as an HttpOnly cookie. This browser then remembers the class (code,
 * name, nickname) so the lessons and the playground record answers for it.
 */

import { callClass, rememberClass } from "./class-api.js";

const $ = (id) => document.getElementById(id);

$("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("join-error");
  error.hidden = true;
  const code = $("code").value.trim().toUpperCase();
  try {
    const joined = await callClass("POST", `/${encodeURIComponent(code)}/students`,
      { body: { nickname: $("nickname").value } });
    rememberClass({ code: joined.class.code, name: joined.class.name,
      nickname: joined.nickname });
    $("joined-title").textContent = `You are in “${joined.class.name}” as ${joined.nickname}`;
    $("join-form").hidden = true;
    $("joined").hidden = false;
  } catch (failure) {
    error.textContent = failure.status === 404
      ? "No class has this code. Check it on the projector." : failure.message;
    error.hidden = false;
  }
});
if ($("code").value) $("nickname").focus();
