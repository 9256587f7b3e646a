/**
 * array-view.js — an array as a learner can read it: a small one in full as a matrix, a
 * larger one as a heatmap with a legend and a text alternative.
 *
 *   arrayView(x, {format, caption, kind}) -> an element
 *       x: a number or a nested list (the API's arrays); format writes one number;
 *       kind: "primal" | "tangent" | "adjoint" (the colour of a matrix's numbers)
 *   SMALL_ARRAY: arrays of up to this many elements are written out in full
 *
 * The heatmap is a <canvas> coloured on a diverging scale centred on 0 (blue below, orange
 * above, white at 0; symmetric, so the same colour means the same size of number in both
 * directions), drawn row by row (a vector is one row, a 3-D array its rows stacked), with a
 * legend bar from −m to +m (m the largest magnitude) and, for screen readers, its shape,
 * norm, min and max (also printed under it).
 */

import { flat, shapeOf, shapeText, stats } from "./arrays.js";

export const SMALL_ARRAY = 12;
const CELL = 14; // heatmap cell size in CSS pixels (capped so a wide array fits 220 px)
const MAX_WIDTH = 220;
const MAX_HEIGHT = 160;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The diverging colour of t in [-1, 1]: #2166ac (−1) … #f7f7f7 (0) … #b35806 (+1). */
export function divergingColour(t) {
  const low = [33, 102, 172];
  const mid = [247, 247, 247];
  const high = [179, 88, 6];
  const end = t < 0 ? low : high;
  const a = Math.min(1, Math.abs(t));
  const rgb = mid.map((m, i) => Math.round(m + (end[i] - m) * a));
  return `rgb(${rgb.join(",")})`;
}

/** Rows of numbers: a vector is one row; higher arrays keep their last axis as columns. */
function rowsOf(x) {
  const shape = shapeOf(x);
  const values = flat(x);
  const columns = shape.length ? shape[shape.length - 1] : 1;
  const rows = [];
  for (let i = 0; i < values.length; i += columns) rows.push(values.slice(i, i + columns));
  return rows;
}

function matrix(x, format, kind) {
  const table = el("table", `matrix${kind ? ` ${kind}` : ""}`);
  const shape = shapeOf(x);
  table.setAttribute("aria-label", `${shapeText(shape)} array`);
  const body = table.createTBody();
  for (const row of rowsOf(x)) {
    const tr = body.insertRow();
    for (const v of row) {
      const td = tr.insertCell();
      td.textContent = format(v);
      if (typeof v === "number") td.dataset.value = String(v);
    }
  }
  return table;
}

function heatmap(x, format) {
  const s = stats(x);
  const rows = rowsOf(x);
  const columns = rows[0] ? rows[0].length : 1;
  const cell = Math.max(2, Math.min(CELL, Math.floor(MAX_WIDTH / columns), Math.floor(MAX_HEIGHT / rows.length)));
  const scale = Math.max(Math.abs(s.min ?? 0), Math.abs(s.max ?? 0)) || 1;
  const figure = el("figure", "heatmap");
  const canvas = el("canvas");
  canvas.width = columns * cell;
  canvas.height = rows.length * cell;
  const text = `${shapeText(s.shape)} array: norm ${format(s.norm)}, min ${format(s.min)}, max ${format(s.max)}`;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `Heatmap of a ${text}`);
  const context = canvas.getContext("2d");
  if (context) {
    rows.forEach((row, i) => row.forEach((v, j) => {
      context.fillStyle = typeof v === "number" ? divergingColour(v / scale) : "#d0d5dd";
      context.fillRect(j * cell, i * cell, cell, cell);
    }));
  }
  const legend = el("div", "heatmap-legend");
  legend.setAttribute("aria-hidden", "true");
  const bar = el("canvas", "heatmap-bar");
  bar.width = 80;
  bar.height = 8;
  const barContext = bar.getContext("2d");
  if (barContext) {
    for (let i = 0; i < bar.width; i += 1) {
      barContext.fillStyle = divergingColour((2 * i) / (bar.width - 1) - 1);
      barContext.fillRect(i, 0, 1, bar.height);
    }
  }
  legend.append(el("span", null, format(-scale)), bar, el("span", null, format(scale)));
  const caption = el("figcaption", "heatmap-caption",
    `${shapeText(s.shape)} · ‖·‖ ${format(s.norm)} · min ${format(s.min)} · max ${format(s.max)}`);
  figure.append(canvas, legend, caption);
  figure.dataset.shape = s.shape.join(",");
  return figure;
}

export function arrayView(x, { format = String, caption = "", kind = "" } = {}) {
  const box = el("div", "array-view");
  if (caption) box.append(el("div", "array-caption", caption));
  if (!Array.isArray(x)) {
    box.append(el("span", `array-scalar ${kind}`.trim(), format(x)));
    return box;
  }
  const size = flat(x).length;
  box.dataset.shape = shapeOf(x).join(",");
  box.append(size <= SMALL_ARRAY ? matrix(x, format, kind) : heatmap(x, format));
  return box;
}
