/**
 * boundary.js — a classifier's map on a canvas: the probability of class 1 on a grid as a
 * shade (blue for 0, orange for 1), its ½ level as a line, and the points on top (circles for
 * class 0, triangles for class 1: told apart in greyscale too).
 *
 *   drawBoundary(canvas, {xs, ys, probability}, points, labels)
 *
 * The canvas keeps its square shape and follows its box's width (phone or projector).
 */

const BLUE = [26, 79, 139];
const ORANGE = [192, 86, 33];

/** The colour of a probability: white at ½, the class colour towards 0 or 1 (light enough
 * that the points stand out). */
function shade(p) {
  const [c, t] = p < 0.5 ? [BLUE, (0.5 - p) * 2] : [ORANGE, (p - 0.5) * 2];
  return c.map((v) => Math.round(255 + (v - 255) * 0.45 * t));
}

/** The grid as an image, one pixel per grid point (row 0 at the bottom), to be scaled up
 * smoothly: the shading then varies continuously between the grid points. */
function gridImage(probability) {
  const rows = probability.length;
  const cols = probability[0].length;
  const image = document.createElement("canvas");
  image.width = cols;
  image.height = rows;
  const context = image.getContext("2d");
  const pixels = context.createImageData(cols, rows);
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < cols; j += 1) {
      const at = ((rows - 1 - i) * cols + j) * 4;
      pixels.data.set([...shade(probability[i][j]), 255], at);
    }
  }
  context.putImageData(pixels, 0, 0);
  return image;
}

export function drawBoundary(canvas, grid, points, labels) {
  const ratio = window.devicePixelRatio || 1;
  const size = Math.max(Math.min(canvas.clientWidth || 360, 520), 200);
  canvas.width = Math.round(size * ratio);
  canvas.height = Math.round(size * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const { xs, ys, probability } = grid;
  const [x0, x1, y0, y1] = [xs[0], xs[xs.length - 1], ys[0], ys[ys.length - 1]];
  const px = (x) => ((x - x0) / (x1 - x0)) * size;
  const py = (y) => size - ((y - y0) / (y1 - y0)) * size;
  // pixel centres sit on the grid points: the image spans half a cell beyond each edge
  const halfW = size / (xs.length - 1) / 2;
  const halfH = size / (ys.length - 1) / 2;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(gridImage(probability), -halfW, -halfH, size + 2 * halfW, size + 2 * halfH);
  // the ½ level: marching squares, one segment per cell the level crosses
  ctx.strokeStyle = "#1a202c";
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  for (let i = 0; i + 1 < ys.length; i += 1) {
    for (let j = 0; j + 1 < xs.length; j += 1) {
      const corners = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];
      const crossings = [];
      for (let k = 0; k < 4; k += 1) {
        const [a, b] = [corners[k], corners[(k + 1) % 4]];
        const [pa, pb] = [probability[a[0]][a[1]] - 0.5, probability[b[0]][b[1]] - 0.5];
        if ((pa < 0) !== (pb < 0)) {
          const t = pa / (pa - pb);
          crossings.push([px(xs[a[1]] + t * (xs[b[1]] - xs[a[1]])), py(ys[a[0]] + t * (ys[b[0]] - ys[a[0]]))]);
        }
      }
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        ctx.moveTo(...crossings[k]);
        ctx.lineTo(...crossings[k + 1]);
      }
    }
  }
  ctx.stroke();
  points.forEach(([x, y], k) => {
    const [cx, cy] = [px(x), py(y)];
    ctx.beginPath();
    if (labels[k] === 0) {
      ctx.arc(cx, cy, 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${BLUE})`;
    } else {
      ctx.moveTo(cx, cy - 5.5);
      ctx.lineTo(cx + 5, cy + 4);
      ctx.lineTo(cx - 5, cy + 4);
      ctx.closePath();
      ctx.fillStyle = `rgb(${ORANGE})`;
    }
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  });
}
