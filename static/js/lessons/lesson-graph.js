/**
 * lesson-graph.js — the playground's animated graph inside a lesson, stepped by the lesson's
 * own controls. It imports the playground's modules (graph.js draws, timeline.js says what a
 * step shows, animation.js is the clock) and adds only the glue a lesson needs.
 *
 *   const g = await LessonGraph.mount(figure, {source, at, mode, seed?, cotangent?, outputs?})
 *   await g.load(request, frame?)   // another point or program (the drawing is kept when the
 *                                   // program is the same)
 *   g.result, g.timeline            // the server's /api/v1/differentiate answer and its frames
 *   g.frameOf(pass, index)          // the frame of step `index` of pass `pass` (-1: primal)
 *   g.show(k)                       // draw frame k (labels, classes, caption); -1: values only
 *   g.player                        // a Player over all frames, for Play buttons
 *
 * `figure` holds a `.graph` box and a `.graph-caption`; the box gets data-graph-source (the
 * program drawn) and data-frame (the frame shown), for links and tests.
 */

import { differentiate, renderSvg } from "../api.js";
import { Player } from "../animation.js";
import { GraphView } from "../graph.js";
import { buildTimeline, describe, stateAt } from "../timeline.js";

export class LessonGraph {
  constructor(figure) {
    this.figure = figure;
    this.box = figure.querySelector(".graph");
    this.caption = figure.querySelector(".graph-caption");
    this.view = new GraphView(this.box);
    this.result = null;
    this.timeline = null;
    this.player = new Player({ onFrame: (k) => this.show(k), interval: 900 });
  }

  static async mount(figure, request) {
    const graph = new LessonGraph(figure);
    await graph.load(request);
    return graph;
  }

  /** Draw `request`'s program (once per program) and take its trace; `frame` to show. */
  async load(request, frame = null) {
    const same = this.box.dataset.graphSource === request.source && this.view.svg;
    const [result, svg] = await Promise.all([differentiate(request), same ? null
      : renderSvg({ source: request.source, outputs: request.outputs || null })]);
    this.result = result;
    this.timeline = buildTimeline(result);
    if (svg) this.view.show(svg, result.graph);
    this.box.dataset.graphSource = request.source;
    const start = frame === null ? this.timeline.primalCount - 1 : frame;
    this.player.load(this.timeline.frames.length, Math.min(start, this.timeline.frames.length - 1));
    this.show(this.player.index);
  }

  frameOf(pass, index) {
    const frames = this.timeline.frames;
    if (pass < 0) return Math.min(index, this.timeline.primalCount - 1);
    const k = frames.findIndex((f) => f.pass === pass && f.index === index);
    return k < 0 ? this.timeline.primalCount - 1 : k;
  }

  show(k) {
    const frames = this.timeline.frames;
    const frame = Math.max(0, Math.min(k, frames.length - 1));
    this.view.apply(stateAt(this.timeline, frame));
    this.box.dataset.frame = String(frame);
    if (this.caption) this.caption.textContent = describe(this.timeline, frame);
  }
}
