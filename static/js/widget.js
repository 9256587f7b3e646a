/**
 * widget.js — the notebook widget (`ad.show(...)`, an anywidget): the playground's graph,
 * trace table and player in a notebook cell, with one slider per input.
 *
 * The playground's own modules arrive as text in the model's `modules` trait (no CDN, no
 * server: it works offline) and are imported from blob: URLs, each with its relative imports
 * pointed at the others. Python computes everything: `svg` (graphviz's drawing), `result`
 * (the /api/v1/differentiate JSON) and `error`. A slider or the mode sets `at` or `mode`;
 * Python answers with a new `result`, which replays on the same drawing. `widget.at = {...}`
 * in Python does the same.
 */

/** Import the playground's modules from their texts: {"graph.js": text, ...} -> namespaces. */
async function importModules(texts) {
  const urls = new Map();
  const urlOf = (name) => {
    if (!urls.has(name)) {
      if (!(name in texts)) throw new Error(`widget: module ${name} is missing`);
      const text = texts[name].replace(/from\s+"\.\/([\w-]+\.js)"/g, (_, dep) => `from "${urlOf(dep)}"`);
      urls.set(name, URL.createObjectURL(new Blob([text], { type: "text/javascript" })));
    }
    return urls.get(name);
  };
  const names = Object.keys(texts);
  const spaces = await Promise.all(names.map((name) => import(urlOf(name))));
  for (const url of urls.values()) URL.revokeObjectURL(url);
  return Object.fromEntries(names.map((name, i) => [name, spaces[i]]));
}

function element(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
// The playground's button icons (templates/playground.html), as SVG paths.
const ICONS = {
  restart: "M3.5 4H6v12H3.5zM17 4l-5.5 6 5.5 6zM11.5 4L6 10l5.5 6z",
  back: "M16 4l-9 6 9 6zM3.5 4H6v12H3.5z",
  play: "M6 4l10 6-10 6z",
  pause: "M5 4h3.5v12H5zM11.5 4H15v12h-3.5z",
  forward: "M4 4l9 6-9 6zM14 4h2.5v12H14z",
  end: "M14 4h2.5v12H14zM3 4l5.5 6L3 16zM8.5 4l5.5 6-5.5 6z",
};

let uid = 0; // ids unique across the widgets of one notebook page

function sliderRange(value) {
  return [Math.min(-5, Math.floor(value) - 5), Math.max(5, Math.ceil(value) + 5)];
}

async function render({ model, el }) {
  const m = await importModules(model.get("modules"));
  const { GraphView } = m["graph.js"];
  const { TraceTable } = m["trace-table.js"];
  const { Player } = m["animation.js"];
  const { buildTimeline, describe, formatNumber, frameOfNode, passCaption, stateAt } = m["timeline.js"];
  const id = `adw${(uid += 1)}`;
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  const source = element("pre", { className: "adw-source" });
  const summary = element("p", { className: "adw-summary", role: "status" });
  const problem = element("p", { className: "adw-problem", role: "alert", hidden: true });
  const point = element("fieldset", { className: "adw-point" }, element("legend", { textContent: "Point" }));
  const modes = element("fieldset", { className: "adw-mode" }, element("legend", { textContent: "Mode" }));
  for (const mode of ["forward", "reverse"]) {
    const radio = element("input", { type: "radio", name: `${id}-mode`, value: mode });
    radio.addEventListener("change", () => { model.set("mode", mode); model.save_changes(); });
    modes.append(element("label", {}, radio, ` ${mode === "forward" ? "Forward (tangents)" : "Reverse (adjoints)"}`));
  }
  const button = (label, path) => {
    const b = element("button", { type: "button", className: "adw-button", ariaLabel: label, title: label });
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("aria-hidden", "true");
    const shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    b.append(svg);
    return b;
  };
  const buttons = { restart: button("Restart", ICONS.restart), back: button("Step back", ICONS.back),
    play: button("Play", ICONS.play), forward: button("Step forward", ICONS.forward),
    end: button("Go to the end", ICONS.end) };
  const scrubber = element("input", { type: "range", min: 0, max: 0, value: 0, step: 1, id: `${id}-step` });
  const count = element("output", { className: "adw-count", htmlFor: scrubber.id });
  const caption = element("p", { className: "adw-caption", ariaLive: "polite" });
  const passText = element("p", { className: "adw-pass" });
  const graphBox = element("div", { className: "graph adw-graph", role: "figure", ariaLabel: "Computation graph" });
  const traceBox = element("div", { className: "trace-scroll adw-trace", tabIndex: 0, role: "region",
    ariaLabel: "Evaluation trace" });
  const player = element("div", { className: "adw-player", role: "group", ariaLabel: "Animation controls" },
    ...Object.values(buttons), element("label", { htmlFor: scrubber.id, className: "visually-hidden", textContent: "Step" }),
    scrubber, count);
  const root = element("div", { className: "adl-widget" },
    element("div", { className: "adw-top" }, source, summary, problem),
    element("div", { className: "adw-setup" }, point, modes), player, caption,
    graphBox, passText, traceBox);
  el.replaceChildren(root);

  let timeline = null;
  const graph = new GraphView(graphBox, { onNodeClick: jumpTo });
  const table = new TraceTable(traceBox, { onRowClick: jumpTo });
  const clock = new Player({ onFrame: drawFrame, onChange: updateControls, interval: 700 });

  function drawFrame(k) {
    const s = stateAt(timeline, k);
    graph.apply(s);
    table.apply(s);
    caption.textContent = `Step ${k + 1}: ${describe(timeline, k)}`;
    passText.textContent = passCaption(timeline, k);
  }

  function updateControls() {
    scrubber.max = String(Math.max(0, clock.count - 1));
    scrubber.value = String(Math.max(0, clock.index));
    scrubber.disabled = clock.count === 0;
    count.textContent = clock.count ? `${clock.index + 1} / ${clock.count}` : "0 / 0";
    buttons.play.querySelector("path").setAttribute("d", clock.playing ? ICONS.pause : ICONS.play);
    buttons.play.ariaLabel = clock.playing ? "Pause" : "Play";
    root.dataset.step = String(clock.index);
  }

  function jumpTo(node) {
    if (!timeline) return;
    const k = frameOfNode(timeline, node, clock.index);
    if (k >= 0) { clock.pause(); clock.seek(k); }
  }

  function buildPoint() {
    const at = model.get("at");
    const rows = Object.entries(at).map(([name, value]) => {
      const slider = element("input", { type: "range", step: 0.1, value: String(value), id: `${id}-in-${name}` });
      [slider.min, slider.max] = sliderRange(value).map(String);
      slider.dataset.input = name;
      const number = element("output", { className: "adw-value", htmlFor: slider.id, textContent: formatNumber(value) });
      slider.addEventListener("input", () => {
        number.textContent = formatNumber(Number(slider.value));
        model.set("at", { ...model.get("at"), [name]: Number(slider.value) });
        model.save_changes();
      });
      return element("div", { className: "adw-point-row" },
        element("label", { htmlFor: slider.id, className: "adw-name", textContent: name }), slider, number);
    });
    point.replaceChildren(point.firstChild, ...(rows.length ? rows : [element("span", { textContent: "no inputs" })]));
  }

  /** Python changed `at` (a slider here, or `widget.at = ...` there): move the sliders. */
  function syncPoint() {
    const at = model.get("at");
    const sliders = [...point.querySelectorAll("input[type=range]")];
    if (sliders.map((s) => s.dataset.input).join() !== Object.keys(at).join()) return buildPoint();
    for (const slider of sliders) {
      const value = at[slider.dataset.input];
      const [low, high] = sliderRange(value);
      if (value < Number(slider.min)) slider.min = String(low);
      if (value > Number(slider.max)) slider.max = String(high);
      if (Number(slider.value) !== value) slider.value = String(value);
      slider.nextSibling.textContent = formatNumber(value);
    }
    return undefined;
  }

  function showDrawing() {
    const svg = model.get("svg");
    if (svg) graph.show(svg, model.get("result").graph || null);
    else graph.showMessage("No drawing: graphviz's `dot` program is not installed.");
  }

  function showResult() {
    for (const radio of modes.querySelectorAll("input")) radio.checked = radio.value === model.get("mode");
    const error = model.get("error");
    problem.hidden = !error;
    problem.textContent = error;
    const result = model.get("result");
    if (error || !result.passes) {
      timeline = null;
      clock.load(0);
      table.clear("No trace at this point.");
      summary.textContent = "";
      caption.textContent = "";
      return;
    }
    const parts = [];
    for (const [out, row] of Object.entries(result.derivatives)) {
      parts.push(`${out} = ${formatNumber(result.values[out])}`);
      for (const [input, value] of Object.entries(row)) parts.push(`∂${out}/∂${input} = ${formatNumber(value)}`);
    }
    summary.textContent = parts.join(" · ");
    timeline = buildTimeline(result);
    table.build(timeline);
    const last = timeline.frames.length - 1;
    clock.load(timeline.frames.length, reduced ? last : 0);
    if (!reduced && model.get("autoplay")) clock.play();
  }

  buttons.play.addEventListener("click", () => clock.toggle());
  buttons.restart.addEventListener("click", () => clock.restart());
  buttons.back.addEventListener("click", () => clock.step(-1));
  buttons.forward.addEventListener("click", () => clock.step(1));
  buttons.end.addEventListener("click", () => clock.end());
  scrubber.addEventListener("input", () => {
    const k = Number(scrubber.value);
    clock.pause();
    clock.seek(k);
  });

  source.textContent = model.get("source");
  buildPoint();
  showDrawing();
  showResult();
  const onResult = () => showResult();
  const onAt = () => syncPoint();
  const onSvg = () => { showDrawing(); showResult(); };
  model.on("change:result", onResult);
  model.on("change:error", onResult);
  model.on("change:at", onAt);
  model.on("change:svg", onSvg);
  root.dataset.ready = "true";
  return () => {
    clock.pause();
    model.off("change:result", onResult);
    model.off("change:error", onResult);
    model.off("change:at", onAt);
    model.off("change:svg", onSvg);
  };
}

export default { render };
