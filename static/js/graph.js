/**
 * graph.js — the computation graph: the server's SVG, inserted safely, decorated once, then
 * updated by toggling classes and texts on the elements graphviz drew (never re-rendered).
 *
 *   const view = new GraphView(container, {onNodeClick: (id) => ..., overview: false,
 *                                          onClusterClick: (namedNodeId) => ...})
 *                               // overview: true adds the overview beside the container
 *                               // (in its parent, which must be positioned)
 *   view.show(svgText, graph)   // sanitize, insert, add one value, one derivative label per
 *                               // node and one label per edge; graph: the API's graph JSON
 *   view.apply(state)           // state from timeline.stateAt: writes only what changed
 *   view.markError(nodeId)      // outline the node where evaluation failed (null clears)
 *   view.setStale(flag)         // dim the drawing while the program text has an error
 *   view.showMessage(text)      // no drawing (e.g. above the render limit): say why
 *   view.zoomIn(), view.zoomOut(), view.fit() (the whole drawing), view.resize() (refit at
 *                               // a readable size, at the region in play)
 *   view.follow(id)             // pan so that this node is in view (done on every step)
 *   view.svg                    // the inserted <svg> (replaced only by show/showMessage)
 *   sanitizeSvg(text)           // -> an <svg> element for this document, with no script,
 *                               //    event handler, foreignObject or external reference
 *
 * Graphviz gives node groups the node ids ("v3") and edge groups the edge ids ("v0_v2_1"),
 * statement frames "cluster_v8"; they move to data-id so that two graphs on one page never
 * share an element id. A statement drawn collapsed (one box) stands for its hidden nodes:
 * it is the current node while any of them is.
 * Pan and zoom use svg-pan-zoom (loaded as a classic script) when it is present.
 *
 * Readable at any size: a drawing that would have to shrink below MIN_READABLE_SCALE to fit
 * its box opens at that scale instead, on the region in play (the current node, else the
 * inputs), on every screen size; each step pans so that the current node stays in view, and
 * an overview in the corner shows the whole drawing with the part in view outlined (click
 * it to go there).
 */

import { statements } from "./timeline.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_FIT_SCALE = 1.6; // drawing units (graphviz points) per CSS pixel, at most, when fitting
// A graph fitted whole below this scale has unreadable labels (graphviz's 12 pt node text is
// 14 CSS px tall at scale 1, so about 12.5 px at this scale): it opens at this scale instead, at
// the region in play.
const MIN_READABLE_SCALE = 0.9;
// The overview is shown when the drawing is this much larger than its box (in either way).
const OVERVIEW_FROM = 1.25;
const FORBIDDEN = new Set(["script", "foreignobject", "iframe", "object", "embed", "style",
  "link", "meta", "audio", "video", "image", "animate", "set", "animatetransform",
  "animatemotion", "handler", "listener"]);

function cleanAttributes(el) {
  for (const attr of [...el.attributes]) {
    const name = attr.name.toLowerCase();
    const value = attr.value.trim().toLowerCase();
    const isLink = name === "href" || name.endsWith(":href") || name === "src";
    if (name.startsWith("on") || name === "style"
        || (isLink && !value.startsWith("#"))
        || value.includes("javascript:")
        || (value.includes("url(") && !/url\(\s*#/.test(value))) {
      el.removeAttribute(attr.name);
    }
  }
}

export function sanitizeSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.localName !== "svg" || root.namespaceURI !== SVG_NS
      || doc.getElementsByTagName("parsererror").length) {
    throw new Error("The server's drawing is not a valid SVG.");
  }
  for (const el of [root, ...root.querySelectorAll("*")]) {
    if (el.namespaceURI !== SVG_NS || FORBIDDEN.has(el.localName.toLowerCase())) {
      el.remove();
      continue;
    }
    cleanAttributes(el);
  }
  return document.importNode(root, true);
}

function svgText(className, x, y) {
  const el = document.createElementNS(SVG_NS, "text");
  el.setAttribute("class", className);
  el.setAttribute("x", x.toFixed(1));
  el.setAttribute("y", y.toFixed(1));
  return el;
}

// Estimated widths (drawing units) of the page's labels, to keep edge labels off node texts.
// A little under the widest ("×-0.7439 → -0.3719" measures 136): estimated at full width,
// so many labels find no free spot on a dense graph that the 45-node network shows 20
// overlaps (labels shown while active) instead of 7.
const NODE_LABEL_WIDTH = 104;
const EDGE_LABEL_WIDTH = 126;
const SUM_TERM_WIDTH = 70; // "0.1234 + " at 12.5 px

/** The box of a text centred on x with its baseline at y. */
function around(x, y, width, size) {
  return { x: x - width / 2, y: y - size * 0.85, width, height: size * 1.1 };
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Widen the drawing's viewBox so labels beside the outermost nodes are not cut off. */
function padViewBox(svg) {
  const box = svg.viewBox && svg.viewBox.baseVal;
  if (!box || !box.width) return;
  const [padX, padY] = [45, 16];
  svg.setAttribute("viewBox", [box.x - padX, box.y - padY, box.width + 2 * padX,
    box.height + 2 * padY].map((v) => v.toFixed(1)).join(" "));
}

/** Set an attribute or text only when it differs from what we last wrote (no DOM reads). */
function write(cache, key, value, apply) {
  if (cache[key] !== value) {
    cache[key] = value;
    apply(value);
  }
}

export class GraphView {
  constructor(container, { onNodeClick = null, onClusterClick = null, overview = false } = {}) {
    this.container = container;
    this.wantsOverview = overview;
    this.alias = new Map(); // a hidden node (inside a collapsed statement) -> the drawn one
    this.onNodeClick = onNodeClick;
    this.svg = null;
    this.nodes = new Map(); // id -> {g, value, deriv, cache}
    this.edges = new Map(); // id -> {g, label, cache}
    this.panZoom = null;
    this.errorNode = null;
    this.zoomed = false; // the drawing is larger than its box: the view follows the current node
    this.current = null;
    this.overview = null; // {box, svg, frame, nodes: Map id -> g}
    container.addEventListener("click", (event) => {
      const g = event.target.closest && event.target.closest("g.node");
      if (g && this.onNodeClick && g.dataset.id) {
        this.onNodeClick(g.dataset.id);
        return;
      }
      const frame = event.target.closest && event.target.closest("g.cluster");
      if (frame && onClusterClick && frame.dataset.id) onClusterClick(frame.dataset.id.replace("cluster_", ""));
    });
  }

  show(text, graph) {
    const svg = sanitizeSvg(text);
    this.destroyPanZoom();
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    const count = graph ? graph.nodes.length : 0;
    svg.setAttribute("aria-label", `Computation graph with ${count} nodes`);
    svg.setAttribute("class", "graph-svg");
    // svg-pan-zoom writes a style attribute (blocked by our CSP) unless one is already set
    // through the CSSOM, which the CSP allows.
    svg.style.overflow = "hidden";
    this.container.replaceChildren(svg);
    this.container.classList.remove("has-message");
    this.svg = svg;
    this.errorNode = null;
    this.decorate(svg, graph);
    this.alias = new Map();
    if (graph) {
      for (const [id, named] of statements(graph)) {
        if (!this.nodes.has(id) && this.nodes.has(named)) this.alias.set(id, named);
      }
    }
    padViewBox(svg);
    this.buildOverview(svg);
    this.startPanZoom();
  }

  /** A small copy of the drawing (no labels) with the part in view outlined. */
  buildOverview(svg) {
    if (this.overview) this.overview.box.remove();
    this.overview = null;
    if (!this.wantsOverview || !this.container.parentElement) return;
    const copy = svg.cloneNode(true);
    for (const el of copy.querySelectorAll(".labels, title")) el.remove();
    copy.removeAttribute("role");
    copy.removeAttribute("aria-label");
    copy.setAttribute("aria-hidden", "true");
    copy.setAttribute("focusable", "false");
    copy.setAttribute("class", "overview-svg");
    copy.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const frame = document.createElementNS(SVG_NS, "rect");
    frame.setAttribute("class", "overview-frame");
    copy.append(frame);
    const box = document.createElement("div");
    box.className = "graph-overview";
    box.hidden = true;
    box.title = "Overview: click to go there";
    box.append(copy);
    box.addEventListener("click", (event) => this.panToOverviewPoint(event));
    const nodes = new Map([...copy.querySelectorAll("g.node")].map((g) => [g.dataset.id, g]));
    box.addEventListener("click", (event) => {
      const g = event.target.closest && event.target.closest("g.node");
      if (g && this.onNodeClick && g.dataset.id) this.onNodeClick(g.dataset.id);
    });
    this.container.parentElement.append(box);
    this.overview = { box, svg: copy, frame, nodes, current: null };
  }

  /** Outline the part of the drawing in view (in the drawing's own units). */
  updateOverview() {
    const o = this.overview;
    if (!o || !this.panZoom) return;
    const sizes = this.panZoom.getSizes();
    const big = sizes.viewBox.width * sizes.realZoom > OVERVIEW_FROM * sizes.width
      || sizes.viewBox.height * sizes.realZoom > OVERVIEW_FROM * sizes.height;
    o.box.hidden = !(this.zoomed && big);
    if (o.box.hidden) return;
    const pan = this.panZoom.getPan();
    const z = sizes.realZoom;
    const frame = { x: -pan.x / z, y: -pan.y / z, width: sizes.width / z, height: sizes.height / z };
    for (const [key, value] of Object.entries(frame)) o.frame.setAttribute(key, value.toFixed(1));
  }

  panToOverviewPoint(event) {
    const o = this.overview;
    if (!o || !this.panZoom) return;
    const matrix = o.svg.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    this.centerOn(point.x, point.y);
  }

  /** Pan so that this point of the drawing (its own units) is in the middle of the box. */
  centerOn(x, y) {
    const sizes = this.panZoom.getSizes();
    const z = sizes.realZoom;
    this.panZoom.pan({ x: sizes.width / 2 - x * z, y: sizes.height / 2 - y * z });
  }

  decorate(svg, graph = null) {
    this.nodes = new Map();
    this.edges = new Map();
    const root = svg.querySelector("g.graph") || svg;
    for (const g of svg.querySelectorAll("g.node[id], g.edge[id], g.cluster[id]")) {
      g.dataset.id = g.id;
      g.removeAttribute("id");
    }
    const layer = document.createElementNS(SVG_NS, "g");
    layer.setAttribute("class", "labels");
    // edge labels first: where a short edge's label meets a node's, the node's is painted on top
    const edgeLayer = document.createElementNS(SVG_NS, "g");
    layer.append(edgeLayer);
    for (const g of svg.querySelectorAll("g.node")) {
      // The value sits above the node, the derivative below it (graphviz leaves room).
      const box = g.getBBox();
      const x = box.x + box.width / 2;
      const value = svgText("value-label", x, box.y - 4);
      const deriv = svgText("deriv-label", x, box.y + box.height + 11);
      layer.append(value, deriv);
      // graphviz's classes (input, op, collapsed...) stay; the states are added to them
      const base = g.getAttribute("class") || "node";
      this.nodes.set(g.dataset.id, { g, value, deriv, base, cache: { cls: base } });
    }
    // Where node texts are or will be: each node's shape and its value and derivative labels
    // (an adjoint collected from several uses is written as a sum: wider).
    const uses = new Map();
    for (const edge of graph ? graph.edges : []) uses.set(edge.source, (uses.get(edge.source) || 0) + 1);
    const taken = [];
    for (const [id, { g }] of this.nodes) {
      const box = g.getBBox();
      const x = box.x + box.width / 2;
      const terms = uses.get(id) || 1;
      const derivWidth = terms > 1 ? NODE_LABEL_WIDTH + terms * SUM_TERM_WIDTH : NODE_LABEL_WIDTH;
      taken.push(box, around(x, box.y - 4, NODE_LABEL_WIDTH, 12.5),
        around(x, box.y + box.height + 11, derivWidth, 12.5));
    }
    for (const g of svg.querySelectorAll("g.edge")) {
      const path = g.querySelector("path");
      // A drawing made with `labels: true` has a placeholder <text> where graphviz kept room
      // for this edge's label: ours goes there unless a node's text is (or will be) there;
      // then the first free spot along the edge. Without a placeholder: above its middle.
      // (a tensor edge's visible shape label stays where graphviz put it: only the
      // transparent placeholder line is taken)
      const texts = [...g.querySelectorAll("text")];
      const hidden = (t) => ["transparent", "#fffffe"].includes(t.getAttribute("fill"));
      const spot = texts.find(hidden) || (texts.length === 1 && !g.classList.contains("tensor") ? texts[0] : null);
      for (const t of texts) if (t !== spot) taken.push(t.getBBox());
      const places = [];
      if (spot) {
        // an HTML-like label's line starts at x; a plain label is centred on it
        const start = spot.getAttribute("text-anchor") === "start";
        const x = start ? spot.getBBox().x + spot.getBBox().width / 2 : Number(spot.getAttribute("x"));
        places.push([x, Number(spot.getAttribute("y"))]);
        spot.remove();
      }
      if (path) {
        const length = path.getTotalLength();
        for (const offset of [-4, 15, -17]) { // on the edge, then beside it
          for (const t of [0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85]) {
            const p = path.getPointAtLength(length * t);
            places.push([p.x, p.y + offset]);
          }
        }
      }
      let label = null;
      if (places.length) {
        const score = ([x, y]) => {
          const box = around(x, y, EDGE_LABEL_WIDTH, 11);
          return taken.filter((t) => overlaps(box, t)).length;
        };
        let best = places[0];
        let bestScore = score(best);
        for (const place of places.slice(1)) {
          if (bestScore === 0) break;
          const s = score(place);
          if (s < bestScore) [best, bestScore] = [place, s];
        }
        taken.push(around(best[0], best[1], EDGE_LABEL_WIDTH, 11));
        label = svgText("edge-label", best[0], best[1]);
        // no free spot: shown only while its edge is active, so it never hides a node's text
        // for long (the caption and the table say the same)
        if (bestScore > 0) label.dataset.crowded = "true";
        edgeLayer.append(label);
      }
      const base = g.getAttribute("class") || "edge"; // edge, arg-0, tensor (graphviz's): kept
      this.edges.set(g.dataset.id, { g, label, base, cache: { cls: base } });
    }
    root.append(layer);
  }

  apply(state) {
    let current = null;
    let hiddenCurrent = null; // a node inside a collapsed statement: its box is current
    for (const [id, s] of state.nodes) {
      if (this.alias.has(id) && s.cls.includes("is-current")) hiddenCurrent = this.alias.get(id);
    }
    for (const [id, item] of this.nodes) {
      let s = state.nodes.get(id);
      if (id === hiddenCurrent) {
        s = s ? { ...s, cls: `${s.cls} is-current` } : { cls: "is-current", value: "", deriv: "", derivKind: "" };
      }
      const c = item.cache;
      let cls = s ? `${item.base} ${s.cls}` : item.base;
      if (s && s.cls.includes("is-current")) current = id;
      if (id === this.errorNode) cls += " is-error";
      write(c, "cls", cls, (v) => item.g.setAttribute("class", v));
      write(c, "value", s ? s.value : "", (v) => { item.value.textContent = v; });
      write(c, "deriv", s ? s.deriv : "", (v) => { item.deriv.textContent = v; });
      const kind = `deriv-label ${s && s.derivKind ? s.derivKind : ""}`.trim();
      write(c, "kind", kind, (v) => item.deriv.setAttribute("class", v));
    }
    for (const [id, item] of this.edges) {
      const s = state.edges.get(id);
      const c = item.cache;
      write(c, "cls", s ? `${item.base} ${s.cls}` : item.base, (v) => item.g.setAttribute("class", v));
      if (item.label) {
        write(c, "label", s ? s.label : "", (v) => { item.label.textContent = v; });
        const crowded = item.label.dataset.crowded && !(s && s.cls.includes("is-active"));
        const cls = `edge-label ${s ? s.cls : ""}${crowded ? " is-crowded" : ""}`.trim();
        write(c, "labelCls", cls, (v) => item.label.setAttribute("class", v));
      }
    }
    if (current !== this.current) {
      this.current = current;
      if (current && this.zoomed) this.follow(current);
      this.markOverview(current);
    }
  }

  markOverview(id) {
    const o = this.overview;
    if (!o) return;
    if (o.current) o.current.classList.remove("is-current");
    o.current = id ? o.nodes.get(id) || null : null;
    if (o.current) o.current.classList.add("is-current");
  }

  /** Pan (never zoom) so that the node and its labels are in view, with a margin.
   *
   * Worked out from the pan and zoom svg-pan-zoom holds, not from the screen: it draws a
   * pan at the next animation frame, and on a busy machine several steps can come first. */
  follow(id) {
    const item = this.nodes.get(id);
    const viewport = this.svg && this.svg.querySelector(".svg-pan-zoom_viewport");
    if (!this.panZoom || !item || !viewport) return;
    // the node's box in the drawing's own units: both matrices carry the same (possibly not
    // yet updated) pan and zoom, which cancel out
    const inner = viewport.getCTM().inverse().multiply(item.g.getCTM());
    const box = item.g.getBBox();
    const a = new DOMPoint(box.x, box.y).matrixTransform(inner);
    const b = new DOMPoint(box.x + box.width, box.y + box.height).matrixTransform(inner);
    const sizes = this.panZoom.getSizes();
    const pan = this.panZoom.getPan();
    const z = sizes.realZoom;
    const x = ((a.x + b.x) / 2) * z + pan.x;
    const top = (Math.min(a.y, b.y) - 18) * z + pan.y; // the value label above the node
    const bottom = (Math.max(a.y, b.y) + 18) * z + pan.y; // the derivative label below it
    const marginX = Math.min(110, sizes.width / 4);
    const marginY = Math.min(24, sizes.height / 8);
    let dx = 0;
    let dy = 0;
    if (x < marginX || x > sizes.width - marginX) dx = sizes.width / 2 - x;
    if (top < marginY || bottom > sizes.height - marginY) dy = sizes.height / 2 - (top + bottom) / 2;
    if (dx || dy) this.panZoom.panBy({ x: dx, y: dy });
  }

  markError(id) {
    this.errorNode = id;
    for (const [nodeId, item] of this.nodes) {
      item.g.classList.toggle("is-error", nodeId === id);
      item.cache.cls = item.g.getAttribute("class");
    }
  }

  setStale(flag) {
    this.container.classList.toggle("is-stale", Boolean(flag));
  }

  showMessage(text) {
    this.destroyPanZoom();
    if (this.overview) this.overview.box.remove();
    this.overview = null;
    const p = document.createElement("p");
    p.className = "graph-message";
    p.textContent = text;
    this.container.replaceChildren(p);
    this.container.classList.add("has-message");
    this.svg = null;
    this.nodes = new Map();
    this.edges = new Map();
  }

  startPanZoom() {
    if (typeof window.svgPanZoom !== "function" || !this.svg) return;
    this.panZoom = window.svgPanZoom(this.svg, {
      zoomEnabled: true, panEnabled: true, controlIconsEnabled: false,
      dblClickZoomEnabled: false, fit: true, center: true, minZoom: 0.2, maxZoom: 20,
      zoomScaleSensitivity: 0.25,
      onPan: () => this.updateOverview(), onZoom: () => this.updateOverview(),
    });
    this.fit({ whole: false });
  }

  destroyPanZoom() {
    if (this.panZoom) {
      this.panZoom.destroy();
      this.panZoom = null;
    }
  }

  zoomIn() {
    if (!this.panZoom) return;
    this.panZoom.zoomIn();
    this.zoomed = true; // closer in: keep following the current node
    this.updateOverview();
  }

  zoomOut() {
    if (!this.panZoom) return;
    this.panZoom.zoomOut();
    this.zoomed = true; // the overview stays: the learner may want to find their place
    this.updateOverview();
  }

  /** Fit the drawing to its box; `whole: false` keeps it readable: a drawing too large for
   * its box opens at MIN_READABLE_SCALE, at the current node (else at the inputs). */
  fit({ whole = true } = {}) {
    if (!this.panZoom) return;
    this.panZoom.resize();
    this.panZoom.fit();
    // a tiny graph would be blown up to fill the box: keep it at a readable size instead
    const real = this.panZoom.getSizes().realZoom;
    if (real > MAX_FIT_SCALE) this.panZoom.zoom(this.panZoom.getZoom() * MAX_FIT_SCALE / real);
    this.zoomed = !whole && real < MIN_READABLE_SCALE;
    if (this.zoomed) this.panZoom.zoom(this.panZoom.getZoom() * MIN_READABLE_SCALE / real);
    this.panZoom.center();
    const sizes = this.panZoom.getSizes();
    const left = sizes.viewBox.x * sizes.realZoom + this.panZoom.getPan().x;
    if (left < 0) this.panZoom.panBy({ x: -left, y: 0 }); // wider than the box: start at the inputs
    if (this.zoomed && this.current) this.follow(this.current);
    this.updateOverview();
  }

  resize() { this.fit({ whole: false }); }
}
