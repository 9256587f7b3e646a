/**
 * plot.js — line and point plots with axes, labels and a legend, drawn by uPlot (self-hosted).
 *
 *   const plot = linePlot(container, {title, xLabel, yLabel, series: [{label, points?}], logX?, logY?})
 *   plot.setData([xs, ys1, ys2, ...])   // null in a y array leaves a gap
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

/** Tick labels on a log axis: every decade as 1e-8, nothing between (the grid shows those). */
function decades(self, splits) {
  return splits.map((v) => {
    const power = Math.log10(v);
    return Math.abs(power - Math.round(power)) < 1e-9 && Math.round(power) % 2 === 0
      ? `1e${Math.round(power)}` : "";
  });
}

export function linePlot(container, { title, xLabel, yLabel, series, logX = false, logY = false,
  height = 260 }) {
  const options = {
    title,
    width: Math.max(container.clientWidth - 2, 240),
    height,
    scales: {
      x: logX ? { time: false, distr: 3 } : { time: false },
      y: logY ? { distr: 3 } : {},
    },
    axes: [
      { label: xLabel, stroke: "#1a202c", grid: { stroke: "#e2e8f0" },
        ...(logX ? { values: decades, grid: { show: false } } : {}) },
      { label: yLabel, stroke: "#1a202c", grid: { stroke: "#e2e8f0" }, size: 60,
        ...(logY ? { values: decades, grid: { show: false } } : {}) },
    ],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    series: [{ label: xLabel }, ...series.map((s, i) => {
      const style = STYLES[i % STYLES.length];
      if (s.points) {
        return { label: s.label, stroke: s.stroke || "#9b2c2c", width: 0,
          points: { show: true, size: 9, fill: s.fill || "#9b2c2c", stroke: "#1a202c" } };
      }
      return { label: s.label, ...style, points: { show: false }, spanGaps: false };
    })],
  };
  const empty = [[], ...series.map(() => [])];
  const plot = new uPlot(options, empty, container);
  const resize = () => plot.setSize({ width: Math.max(container.clientWidth - 2, 240), height });
  new ResizeObserver(resize).observe(container);
  return plot;
}
