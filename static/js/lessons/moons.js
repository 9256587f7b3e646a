/**
 * moons.js — the two-moons data set, made the same way on every visit: `count` points on two
 * interleaved half circles, with gaussian noise, from a seeded generator (lesson-state.js).
 *
 *   const { points, labels } = twoMoons(100, 0.15, "moons")
 */

import { random } from "./lesson-state.js";

export function twoMoons(count = 100, noise = 0.15, seed = "moons") {
  const next = random(seed);
  // Box–Muller: two uniform numbers make one standard normal one
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const points = [];
  const labels = [];
  for (let i = 0; i < count; i += 1) {
    const label = i % 2;
    const t = Math.PI * next();
    const [x, y] = label === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    points.push([round(x + noise * normal()), round(y + noise * normal())]);
    labels.push(label);
  }
  return { points, labels };
}

const round = (v) => Math.round(v * 1000) / 1000;
