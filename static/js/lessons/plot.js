/**
 * plot.js — line and point plots with axes, labels and a legend, drawn by uPlot (self-hosted).
 *
 *   const plot = linePlot(container, {title, xLabel, yLabel, series: [{label, points?, dots?}], logX?, logY?,
 *                                     xRange?, yRange?})  // ranges: uPlot scale range functions
 *   plot.setData([xs, ys1, ys2, ...])   // null in a y array leaves a gap
 *   plot.setPath([{x, y}, ...])         // with {path: true}: points joined in their order and
 *                                       // numbered 0, 1, 2, ... (a walk, not a function of x)
 *
 * The width follows the container (phone or projector); colours are distinguishable in
 * greyscale too (line, dashed line, points).
 */

import uPlot from "/vendor/uplot/dist/uPlot.esm.js";

const STYLES = [
  { stroke: "#1a4f8b", width: 2 },
  { stroke: "#c05621", width: 2, dash: [6, 4] },
  { stroke: "#2f855a", width: 2, dash: [2, 3] },
];

const FONT = "13px system-ui, sans-serif";
const LABEL_FONT = "bold 13px system-ui, sans-serif";
// Least room per tick label, in CSS pixels: "1e-15" is about 40 px wide and 13 px tall.
const LOG_SPACE = { x: 56, y: 30 };

/** Ticks of a log axis: whole decades only, every k-th one so the labels never crowd. */
function decadeSplits(room) {
  return (self, axisIdx, min, max) => {
    const [lo, hi] = [Math.ceil(Math.log10(min) - 1e-9), Math.floor(Math.log10(max) + 1e-9)];
    const horizontal = self.axes[axisIdx].side % 2 === 0;
    const length = (horizontal ? self.bbox.width : self.bbox.height) / uPlot.pxRatio;
    const count = Math.max(hi - lo, 1);
    const every = Math.max(1, Math.ceil(room / (length / count)));
    const splits = [];
    for (let k = hi; k >= lo; k -= every) splits.unshift(Number(`1e${k}`));
    return splits;
  };
}

/** A decade as 1e-8 (and 1e0 as 1), the form the lesson's text uses. */
function decadeLabels(self, splits) {
  return splits.map((v) => (v === null ? "" : v === 1 ? "1" : `1e${Math.round(Math.log10(v))}`));
}

function axis(label, log, room, extra) {
  const common = { label, stroke: "#1a202c", font: FONT, labelFont: LABEL_FONT,
    grid: { stroke: "#e2e8f0", width: 1 }, ticks: { stroke: "#a0aec0", width: 1, size: 5 },
    ...extra };
  if (!log) return common;
  return { ...common, splits: decadeSplits(room), values: decadeLabels,
    filter: (self, splits) => splits };
}

export function linePlot(container, { title, xLabel, yLabel, series, logX = false, logY = false,
  height = 260, xRange = null, yRange = null, path = false }) {
  let walk = [];
  const options = {
    title,
    width: Math.max(container.clientWidth - 2, 240),
    height,
    scales: {
      x: { time: false, ...(logX ? { distr: 3 } : {}), ...(xRange ? { range: xRange } : {}) },
      y: { ...(logY ? { distr: 3 } : {}), ...(yRange ? { range: yRange } : {}) },
    },
    axes: [
      axis(xLabel, logX, LOG_SPACE.x, {}),
      axis(yLabel, logY, LOG_SPACE.y, { size: 64 }),
    ],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    hooks: path ? { draw: [(u) => drawPath(u, walk)] } : {},
    series: [{ label: xLabel }, ...series.map((s, i) => {
      const style = STYLES[i % STYLES.length];
      if (s.points) {
        return { label: s.label, stroke: s.stroke || "#9b2c2c", width: 0,
          points: { show: true, size: 9, fill: s.fill || "#9b2c2c", stroke: "#1a202c" } };
      }
      // dots: a point per sample, so that even a single sample is visible
      const points = s.dots ? { show: true, size: 6, fill: style.stroke, stroke: style.stroke }
        : { show: false };
      return { label: s.label, ...style, points, spanGaps: false };
    })],
  };
  const empty = [[], ...series.map(() => [])];
  const plot = new uPlot(options, empty, container);
  const resize = () => plot.setSize({ width: Math.max(container.clientWidth - 2, 240), height });
  new ResizeObserver(resize).observe(container);
  plot.setPath = (points) => { walk = points; plot.redraw(false, false); };
  return plot;
}

/** The walk on top of the plot: a line from step to step, each step's number beside it. */
function drawPath(u, points) {
  const inside = (p) => p.x >= u.scales.x.min && p.x <= u.scales.x.max
    && p.y >= u.scales.y.min && p.y <= u.scales.y.max;
  const ctx = u.ctx;
  const ratio = uPlot.pxRatio;
  const at = (p) => [u.valToPos(p.x, "x", true), u.valToPos(p.y, "y", true)];
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.strokeStyle = "#9b2c2c";
  ctx.lineWidth = 1.5 * ratio;
  ctx.setLineDash([4 * ratio, 3 * ratio]);
  ctx.beginPath();
  points.forEach((p, i) => {
    const [x, y] = at(p);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.font = `bold ${12 * ratio}px system-ui, sans-serif`;
  ctx.fillStyle = "#1a202c";
  ctx.textAlign = "left";
  const labelled = new Set();
  points.forEach((p, i) => {
    if (!inside(p)) return;
    const [x, y] = at(p);
    ctx.fillStyle = "#9b2c2c";
    ctx.beginPath();
    ctx.arc(x, y, 4 * ratio, 0, 2 * Math.PI);
    ctx.fill();
    // number each step, but only once per spot (a settled walk repeats one point)
    const key = `${Math.round(x / (14 * ratio))},${Math.round(y / (14 * ratio))}`;
    if (labelled.has(key)) return;
    labelled.add(key);
    ctx.fillStyle = "#1a202c";
    ctx.fillText(String(i), x + 6 * ratio, y - 6 * ratio);
  });
  ctx.restore();
}
