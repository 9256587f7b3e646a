/**
 * tensor-inputs.js — the point panel's tensor inputs: a nested-list text field each, with its
 * shape beside its name and its mistakes said in place. No requests: the page is told of a
 * valid value through `onValue`.
 *
 *   tensorField(name, shape, value, onValue) -> the field's row (label, textarea, error); a
 *       value that parses and has the shape calls onValue(nested list); one that does not
 *       shows why under the field (aria-invalid) and sends nothing
 *   startingArray(name, shape)  -> numbers in [-1, 1] to one decimal, the same for a name
 *   fits(value, shape)          -> whether a value is one of this shape (a number for [])
 *   arrayFieldText(value)       -> the field's text: one row of a matrix per line
 *   MAX_TYPED, tooBigToType(shape): an input of more numbers is not typed, sent or put in the
 *       URL (its row says so instead of holding a field)
 */

import { arrayText, filled, parseArray, shapeOf, shapeText } from "./arrays.js";

export const MAX_TYPED = 1000;
const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);
export const tooBigToType = (shape) => sizeOf(shape) > MAX_TYPED;

export function startingArray(name, shape) {
  let seed = 0;
  for (const c of name) seed = (seed * 31 + c.charCodeAt(0)) % 1000;
  return filled(shape, (i) => (((i * 7 + seed) % 21) - 10) / 10);
}

export function fits(value, shape) {
  if (!shape.length) return Number.isFinite(value);
  const got = Array.isArray(value) ? shapeOf(value) : [];
  return got.length === shape.length && got.every((n, i) => n === shape[i]);
}

export function arrayFieldText(value) {
  if (!Array.isArray(value) || !Array.isArray(value[0])) return arrayText(value);
  return `[${value.map((row) => arrayText(row)).join(",\n ")}]`;
}

function el(tag, props) {
  return Object.assign(document.createElement(tag), props);
}

export function tensorField(name, shape, value, onValue) {
  const row = el("div", { className: "point-row tensor-row" });
  const big = tooBigToType(shape);
  const label = el(big ? "span" : "label", { className: "point-name" });
  if (!big) label.htmlFor = `in-${name}`;
  label.append(name, el("span", { className: "shape-tag", textContent: shapeText(shape) }));
  if (big) {
    row.append(label, el("p", { id: `in-${name}`, className: "help point-too-big",
      textContent: `${sizeOf(shape).toLocaleString("en")} numbers: too many to type here` }));
    return row;
  }
  const field = el("textarea", { id: `in-${name}`, value: arrayFieldText(value), spellcheck: false,
    rows: Math.min(4, shape.length > 1 ? shape[shape.length - 2] : 1) });
  field.setAttribute("autocapitalize", "off");
  field.dataset.input = name;
  const error = el("p", { id: `in-${name}-error`, className: "point-error", hidden: true });
  const hint = el("span", { id: `in-${name}-help`, className: "visually-hidden",
    textContent: `a ${shapeText(shape)} array, as a nested list` });
  field.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
  field.addEventListener("input", () => {
    const parsed = parseArray(field.value, shape);
    error.hidden = !parsed.error;
    error.textContent = parsed.error ? `${name}: ${parsed.error}` : "";
    if (parsed.error) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
    if (!parsed.error) onValue(parsed.value);
  });
  row.append(label, field, hint, error);
  return row;
}
