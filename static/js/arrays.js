/**
 * arrays.js — tensors as the API sends them (nested lists), for reading and for typing.
 * No drawing and no math beyond what a summary needs.
 *
 *   isArray(x), shapeOf(x) -> [2, 3], flat(x) -> [numbers], shapeText([2, 3]) -> "2×3"
 *   stats(x) -> {shape, size, norm, min, max}   (undefined entries, null in JSON, skipped)
 *   summary(x) -> "[0.5, −1]" for a small array, "2×3, ‖·‖ 1.414" for a larger one
 *   parseArray(text, shape) -> {value} or {error}: a typed nested list, checked against the
 *                              declared shape ("expected 2×3, got 3×2")
 *   arrayText(x) -> "[[1, 2], [3, 4]]"; filled(shape, f) -> nested lists of f(flat index)
 *   declaredShapes(source) -> {W: [2, 3], ...} from the program's `W: [2, 3]` lines
 */

export const isArray = Array.isArray;

/** The shape of a nested list ([] for a number); ragged lists give the first row's shape. */
export function shapeOf(x) {
  const shape = [];
  let part = x;
  while (Array.isArray(part)) {
    shape.push(part.length);
    part = part[0];
  }
  return shape;
}

export function flat(x) {
  return Array.isArray(x) ? x.flat(Infinity) : [x];
}

export const shapeText = (shape) => (shape.length ? shape.join("×") : "scalar");

export function stats(x) {
  const values = flat(x).filter((v) => typeof v === "number" && Number.isFinite(v));
  let sumSquares = 0;
  for (const v of values) sumSquares += v * v;
  return { shape: shapeOf(x), size: flat(x).length, norm: Math.sqrt(sumSquares),
    min: values.length ? Math.min(...values) : null, max: values.length ? Math.max(...values) : null };
}

const SMALL_SUMMARY = 3; // at most this many numbers are written out in a one-line summary

/** One line for a label or a caption; `format` writes each number. */
export function summary(x, format) {
  if (!Array.isArray(x)) return format(x);
  const s = stats(x);
  if (s.size <= SMALL_SUMMARY) return arrayText(x, format);
  return `${shapeText(s.shape)}, ‖·‖ ${format(s.norm)}`;
}

export function arrayText(x, format = String) {
  if (!Array.isArray(x)) return format(x);
  return `[${x.map((part) => arrayText(part, format)).join(", ")}]`;
}

export function filled(shape, f) {
  let index = 0;
  const build = (depth) => {
    if (depth === shape.length) return f(index++);
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  return build(0);
}

const sameShape = (a, b) => a.length === b.length && a.every((n, i) => n === b[i]);

/** Whether every row of a nested list has the same length (numpy's rectangular arrays). */
function rectangular(x) {
  if (!Array.isArray(x)) return typeof x === "number" && Number.isFinite(x);
  if (!x.length) return true;
  const first = shapeOf(x[0]);
  return x.every((part) => rectangular(part) && sameShape(shapeOf(part), first)
    && Array.isArray(part) === Array.isArray(x[0]));
}

/** A typed value for an input of `shape`: a nested list of numbers of exactly that shape. */
/** "a vector of 3 numbers", "a 2×3 array", "a single number". */
function described(shape) {
  if (!shape.length) return "a single number";
  return shape.length === 1 ? `a vector of ${shape[0]} number${shape[0] === 1 ? "" : "s"}` : `a ${shapeText(shape)} array`;
}

export function parseArray(text, shape) {
  const want = described(shape);
  let value;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return { error: `Not a nested list of numbers: write ${want} like ${arrayText(filled(shape, () => 0))}.` };
  }
  if (!rectangular(value)) {
    return { error: "Every row must have the same length, and every entry must be a number." };
  }
  const got = shapeOf(value);
  if (!sameShape(got, shape)) return { error: `Expected ${want}, got ${described(got)}.` };
  return { value };
}

/** `W: [2, 3]` lines (declarations) of a program: the shapes of its tensor inputs. */
export function declaredShapes(source) {
  const shapes = {};
  for (const line of (source || "").split(/\n|;/)) {
    const m = /^\s*([A-Za-z_]\w*)\s*:\s*\[([\d\s,]*)\]\s*(?:#.*)?$/.exec(line);
    if (!m) continue;
    const dims = m[2].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    if (dims.every((n) => Number.isInteger(n) && n > 0)) shapes[m[1]] = dims;
  }
  return shapes;
}
