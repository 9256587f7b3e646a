/**
 * graph.js — the computation graph: the server's SVG, inserted safely, decorated once, then
 * updated by toggling classes and texts on the elements graphviz drew (never re-rendered).
 *
 *   const view = new GraphView(container, {onNodeClick: (id) => ...})
 *   view.show(svgText, graph)   // sanitize, insert, add one value, one derivative label per
 *                               // node and one label per edge; graph: the API's graph JSON
 *   view.apply(state)           // state from timeline.stateAt: writes only what changed
 *   view.markError(nodeId)      // outline the node where evaluation failed (null clears)
 *   view.setStale(flag)         // dim the drawing while the program text has an error
 *   view.showMessage(text)      // no drawing (e.g. above the render limit): say why
 *   view.zoomIn(), view.zoomOut(), view.fit() (the whole drawing), view.resize() (refit;
 *                               // readable size in a phone-width box)
 *   view.svg                    // the inserted <svg> (replaced only by show/showMessage)
 *   sanitizeSvg(text)           // -> an <svg> element for this document, with no script,
 *                               //    event handler, foreignObject or external reference
 *
 * Graphviz gives node groups the node ids ("v3") and edge groups the edge ids ("v0_v2_1");
 * they move to data-id so that two graphs on one page never share an element id.
 * Pan and zoom use svg-pan-zoom (loaded as a classic script) when it is present.
 */

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_FIT_SCALE = 1.6; // drawing units (graphviz points) per CSS pixel, at most, when fitting
// In a phone-width box a wide graph fitted whole has unreadable labels: below this scale the
// drawing opens at a readable size, from its left (the inputs), and is panned by dragging.
const MIN_PHONE_SCALE = 0.75;
const PHONE_WIDTH = 500; // px of graph box
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
  constructor(container, { onNodeClick = null } = {}) {
    this.container = container;
    this.onNodeClick = onNodeClick;
    this.svg = null;
    this.nodes = new Map(); // id -> {g, value, deriv, cache}
    this.edges = new Map(); // id -> {g, label, cache}
    this.panZoom = null;
    this.errorNode = null;
    this.narrow = false; // a phone-width box: the view follows the current node
    this.current = null;
    container.addEventListener("click", (event) => {
      const g = event.target.closest && event.target.closest("g.node");
      if (g && this.onNodeClick && g.dataset.id) this.onNodeClick(g.dataset.id);
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
    this.decorate(svg);
    padViewBox(svg);
    this.startPanZoom();
  }

  decorate(svg) {
    this.nodes = new Map();
    this.edges = new Map();
    const root = svg.querySelector("g.graph") || svg;
    for (const g of svg.querySelectorAll("g.node[id], g.edge[id]")) {
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
      this.nodes.set(g.dataset.id, { g, value, deriv, cache: { cls: g.getAttribute("class") } });
    }
    for (const g of svg.querySelectorAll("g.edge")) {
      const path = g.querySelector("path");
      // A drawing made with `labels: true` has a placeholder <text> where graphviz kept room
      // for this edge's label: ours goes there. Otherwise: above the middle of the edge.
      const spot = g.querySelector("text");
      let label = null;
      if (spot) {
        label = svgText("edge-label", Number(spot.getAttribute("x")), Number(spot.getAttribute("y")));
        spot.remove();
      } else if (path) {
        const length = path.getTotalLength();
        const middle = path.getPointAtLength(length / 2);
        label = svgText("edge-label", middle.x, middle.y - 4);
      }
      if (label) edgeLayer.append(label);
      this.edges.set(g.dataset.id, { g, label, cache: { cls: g.getAttribute("class") } });
    }
    root.append(layer);
  }

  apply(state) {
    let current = null;
    for (const [id, item] of this.nodes) {
      const s = state.nodes.get(id);
      const c = item.cache;
      let cls = s ? `node ${s.cls}` : "node";
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
      write(c, "cls", s ? `edge ${s.cls}` : "edge", (v) => item.g.setAttribute("class", v));
      if (item.label) {
        write(c, "label", s ? s.label : "", (v) => { item.label.textContent = v; });
        const cls = `edge-label ${s ? s.cls : ""}`.trim();
        write(c, "labelCls", cls, (v) => item.label.setAttribute("class", v));
      }
    }
    if (current !== this.current) {
      this.current = current;
      if (current && this.narrow) this.follow(current);
    }
  }

  /** Pan (never zoom) so that the node is in view: a phone shows only part of a wide graph. */
  follow(id) {
    const item = this.nodes.get(id);
    if (!this.panZoom || !item) return;
    const node = item.g.getBoundingClientRect();
    const box = this.container.getBoundingClientRect();
    const x = (node.left + node.right) / 2 - box.left;
    const margin = Math.min(80, box.width / 4);
    if (x < margin || x > box.width - margin) this.panZoom.panBy({ x: box.width / 2 - x, y: 0 });
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
    });
    this.fit({ whole: false });
  }

  destroyPanZoom() {
    if (this.panZoom) {
      this.panZoom.destroy();
      this.panZoom = null;
    }
  }

  zoomIn() { if (this.panZoom) this.panZoom.zoomIn(); }

  zoomOut() { if (this.panZoom) this.panZoom.zoomOut(); }

  /** Fit the drawing to its box; `whole: false` keeps it readable in a phone-width box. */
  fit({ whole = true } = {}) {
    if (!this.panZoom) return;
    this.panZoom.resize();
    this.panZoom.fit();
    // a tiny graph would be blown up to fill the box: keep it at a readable size instead
    const real = this.panZoom.getSizes().realZoom;
    if (real > MAX_FIT_SCALE) this.panZoom.zoom(this.panZoom.getZoom() * MAX_FIT_SCALE / real);
    this.narrow = this.container.clientWidth < PHONE_WIDTH;
    if (!whole && this.narrow && real < MIN_PHONE_SCALE) {
      this.panZoom.zoom(this.panZoom.getZoom() * MIN_PHONE_SCALE / real);
    }
    this.panZoom.center();
    const sizes = this.panZoom.getSizes();
    const left = sizes.viewBox.x * sizes.realZoom + this.panZoom.getPan().x;
    if (left < 0) this.panZoom.panBy({ x: -left, y: 0 }); // wider than the box: start at the inputs
  }

  resize() { this.fit({ whole: false }); }
}
