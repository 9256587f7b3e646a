/**
 * export-panel.js — "Check it in PyTorch": the playground's program as PyTorch or JAX code
 * (POST /api/v1/export). `def program(**inputs)` returns the outputs by name; its autograd
 * gives the derivatives the graph shows, so a learner can check them in a framework they use.
 *
 * It stands apart from playground.js: after each run of the playground (the page's
 * <body data-run> changes) it reads the program from the URL state (url-state.js), and asks
 * the server again only when the panel is open and the program, outputs or framework changed.
 */

import { readState } from "./url-state.js";

const panel = document.getElementById("export-panel");
const framework = document.getElementById("export-framework");
const code = document.querySelector("#export-code code");
const copy = document.getElementById("export-copy");
const status = document.getElementById("export-status");
let shownKey = null;
let controller = null;

async function refresh() {
  if (!panel.open) return;
  const { source, outputs } = readState();
  const body = { source, framework: framework.value };
  if (outputs.length) body.outputs = outputs;
  const key = JSON.stringify(body);
  if (key === shownKey) return;
  if (controller) controller.abort();
  controller = new AbortController();
  try {
    const response = await fetch("/api/v1/export", {
      method: "POST", signal: controller.signal,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: key,
    });
    if (!response.ok) {
      status.textContent = "No code while the program has an error.";
      return;
    }
    code.textContent = (await response.json()).code;
    status.textContent = "";
    shownKey = key;
    panel.dataset.framework = framework.value;
  } catch (error) {
    if (error.name !== "AbortError") status.textContent = "The server cannot be reached.";
  }
}

copy.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(code.textContent);
    status.textContent = "Copied.";
  } catch {
    window.getSelection().selectAllChildren(code); // no clipboard access: select it to copy
    status.textContent = "Selected: press Ctrl+C to copy.";
  }
});
panel.addEventListener("toggle", refresh);
framework.addEventListener("change", refresh);
new MutationObserver(refresh).observe(document.body, { attributes: true, attributeFilter: ["data-run"] });
