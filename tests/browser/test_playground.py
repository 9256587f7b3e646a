"""The playground in headless Chromium against the real server: the graph appears, the
animation replays the API's trace to the end, errors are shown where they are, and the page
is accessible, keyboard-operable, and touches only what each step changes.

Timings are printed (run with -s to see them) and recorded in docs/playground.md; they are
not asserted, as the project's speed goals are checked by benchmarks, not tests.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import photograph

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SEED = "x = 3*w\ny = 2*x^2 + 4"
# 20 nodes: four inputs, a few constants, sums, products and functions
TWENTY = "a = x*y + sin(x)\nb = exp(-a) * z\nc = sqrt(b^2 + 1) - w\nd = tanh(c) * a\nf = d + log(b)"

# Counts the DOM mutations of each animation step (one callback per step: steps are timers).
OBSERVE = """() => {
  window.__batches = [];
  window.__root = document.querySelector('#graph svg');
  const observer = new MutationObserver((records) => window.__batches.push(records.length));
  for (const id of ['graph', 'trace']) {
    observer.observe(document.getElementById(id),
      {subtree: true, childList: true, attributes: true, characterData: true});
  }
  window.__observer = observer;
}"""


def url(source: str, at: str, mode: str, **extra: str) -> str:
    query = f"source={quote(source)}&at={quote(at)}&mode={mode}"
    for key, value in extra.items():
        query += f"&{key}={quote(value)}"
    return f"/playground?{query}"


def open_ready(page: Page, address: str) -> None:
    page.goto(address)
    page.wait_for_function("() => document.body.dataset.status === 'ready'")


def api(page: Page, body: dict) -> dict:
    response = page.request.post("/api/v1/differentiate", data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
    assert response.ok, response.text()
    result: dict = response.json()
    return result


def frame_count(page: Page) -> int:
    return int(page.locator("#scrubber").get_attribute("max") or 0) + 1


def seek(page: Page, index: int) -> None:
    page.evaluate("""(i) => { const s = document.getElementById('scrubber');
        s.value = String(i); s.dispatchEvent(new Event('input', {bubbles: true})); }""", index)


def rerun(page: Page) -> int:
    """The number of runs so far; pass it to `wait_rerun` after a change."""
    return int(page.evaluate("document.body.dataset.run"))


def wait_rerun(page: Page, before: int) -> None:
    page.wait_for_function("(n) => Number(document.body.dataset.run) > n && "
                           "document.body.dataset.status === 'ready'", arg=before)


def query_of(address: str | None) -> dict[str, list[str]]:
    return parse_qs(urlparse(address or "").query)


def step_times(page: Page) -> list[float]:
    times: list[float] = page.evaluate(
        "performance.getEntriesByName('playground-step').map(e => e.duration)")
    return times


def test_seed_example_plays_reverse_to_the_end(page: Page) -> None:
    page.goto(url(SEED, "w=1", "reverse"))
    page.wait_for_function("() => performance.getEntriesByName('graph-drawn').length > 0")
    drawn_ms = page.evaluate("performance.getEntriesByName('graph-drawn')[0].startTime")
    page.wait_for_function("() => document.body.dataset.status === 'ready'")
    expected = api(page, {"source": SEED, "at": {"w": 1}, "mode": "reverse"})

    # the server's drawing, decorated: one group per node and per edge
    assert page.locator("#graph svg g.node").count() == len(expected["graph"]["nodes"])
    assert page.locator("#graph svg g.edge").count() == len(expected["graph"]["edges"])
    expect(page.locator("#summary")).to_contain_text("dy/dw = 36")
    expect(page.locator("#summary")).to_contain_text("y = 22")

    # replay from the start at 4x, counting what each step changes
    page.locator("#speed").select_option("4")
    page.locator("#end").click()
    page.locator("#restart").click()
    page.evaluate(OBSERVE)
    page.locator("#play").click()
    frames = len(expected["primal"]) + len(expected["passes"][0]["steps"])
    expect(page.locator("#step-count")).to_have_text(f"{frames} / {frames}", timeout=15_000)
    expect(page.locator("#play")).to_have_attribute("aria-label", "Play")
    batches: list[int] = page.evaluate("window.__batches")
    same_root = page.evaluate("document.querySelector('#graph svg') === window.__root")
    elements = page.evaluate("document.querySelectorAll('#graph svg *').length")
    times = step_times(page)
    print(f"\nseed example: graph drawn {drawn_ms:.0f} ms after navigation; "
          f"{len(batches)} steps played, DOM mutations per step max {max(batches)}, "
          f"mean {sum(batches) / len(batches):.1f} (SVG has {elements} elements); "
          f"step drawn in mean {sum(times) / len(times):.2f} ms, max {max(times):.2f} ms")
    assert same_root, "the SVG root was replaced during playback"
    assert len(batches) >= frames - 1
    assert max(batches) <= 30 < elements, "a step rewrote more than the elements it changes"

    # the table's last adjoint row is the API's last reverse step
    last = expected["passes"][0]["steps"][-1]
    cell = page.locator(f'#trace tr[data-node="{last["node"]}"] td.deriv-value')
    assert float(cell.get_attribute("data-value") or "nan") == last["adjoint"] == 36
    expect(page.locator(f'#trace tr[data-node="{last["node"]}"]')).to_have_class(
        "primal-shown deriv-shown is-current")
    # the caption said it in words
    expect(page.locator("#step-caption")).to_contain_text("Adjoint of v0 (w) is 36")

    # mid-animation picture for the docs: one step back, v̄2 = 12 sending 12 × 3 = 36 to w
    page.locator("#trace").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#step-count")).to_have_text(f"{frames - 1} / {frames}")
    expect(page.locator('#trace tr[data-node="v2"]')).to_have_class(
        "primal-shown deriv-shown is-current")
    page.evaluate("() => document.activeElement.blur()")
    page.wait_for_timeout(400)  # let the colour transitions finish
    photograph(page, "playground.png")


def test_forward_mode_one_pass_per_input(page: Page) -> None:
    source = "f = x*y + sin(x)"
    open_ready(page, url(source, "x=2,y=3", "forward"))
    expected = api(page, {"source": source, "at": {"x": 2, "y": 3}, "mode": "forward"})
    passes = expected["passes"]
    assert len(passes) == 2 == len(expected["graph"]["inputs"])
    output = expected["graph"]["outputs"]["f"]
    start = len(expected["primal"])
    for p, pass_ in enumerate(passes):
        start += len(pass_["steps"])
        seek(page, start - 1)  # the last step of pass p
        seed = next(name for name, v in pass_["seed"].items() if v == 1)
        expect(page.locator("#pass-caption")).to_have_text(
            f"Tangent pass {p + 1} of 2 · seed {seed} = 1")
        cell = page.locator(f'#trace tr[data-node="{output}"] td.deriv-value')
        shown = float(cell.get_attribute("data-value") or "nan")
        assert shown == pass_["steps"][-1]["tangent"] == expected["derivatives"]["f"][seed]
    assert start == frame_count(page)
    expect(page.locator("#summary li")).to_have_count(2)


def test_fan_out_adds_the_two_contributions(page: Page) -> None:
    open_ready(page, url("b = a + a; c = b + b", "a=2", "reverse"))
    primal = 3
    seek(page, primal)  # c's step: two contributions reach b
    label = page.locator("#graph svg .labels .deriv-label.adjoint")
    expect(label).to_have_count(2)  # c (the seed) and b (collecting)
    expect(page.locator("#graph svg .labels")).to_contain_text("v̄1 = 1 + 1 = 2")
    seek(page, primal + 1)  # b's step: two contributions reach a
    expect(page.locator("#graph svg .labels")).to_contain_text("v̄0 = 2 + 2 = 4")
    assert page.locator("#graph svg g.edge.is-active").count() == 2
    page.locator("#end").click()
    expect(page.locator('#trace tr[data-node="v0"] td.deriv-value')).to_have_text("2 + 2 = 4")


def test_errors_are_shown_where_they_are(page: Page) -> None:
    open_ready(page, url(SEED, "w=1", "reverse"))
    editor = page.locator("#source")
    editor.fill("x = 3*w\ny = 2*x^^2")
    error = page.locator("#source-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Line 2, column")
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#graph")).to_have_class("graph is-stale")
    # the URL follows the editor, even while the program is wrong
    assert parse_qs(urlparse(page.url).query)["source"] == ["x = 3*w\ny = 2*x^^2"]
    editor.fill("y = log(w)")
    expect(error).to_be_hidden()
    page.locator("#in-w").fill("-1")
    problem = page.locator("#problem")
    expect(problem).to_contain_text("log(-1)")
    expect(problem).to_contain_text("node v1")
    expect(page.locator("#graph svg g.node.is-error")).to_have_count(1)
    assert parse_qs(urlparse(page.url).query)["at"] == ["w=-1"]

    # above the render limit: a message instead of a drawing; the trace still plays
    chain = "\n".join(["x1 = w + 1"] + [f"x{i} = x{i - 1} + 1" for i in range(2, 262)])
    open_ready(page, url(chain, "w=1", "reverse"))
    expect(page.locator("#graph .graph-message")).to_contain_text("500")
    expect(page.locator("#summary")).to_contain_text("dx261/dw = 1")
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "File \"" not in text


def test_accessible_and_keyboard_operable(page: Page) -> None:
    page.emulate_media(reduced_motion="reduce")  # stepped display: opens on the last step
    open_ready(page, url(TWENTY, "x=1,y=2,z=0.5,w=1", "reverse"))
    drawn_ms = page.evaluate("performance.getEntriesByName('graph-drawn')[0].startTime")
    nodes = page.locator("#graph svg g.node").count()
    print(f"\n{nodes}-node program: graph drawn {drawn_ms:.0f} ms after navigation")
    assert nodes == 20
    frames = frame_count(page)
    expect(page.locator("#step-count")).to_have_text(f"{frames} / {frames}")

    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == []

    keyboard = page.keyboard
    page.locator("#restart").focus()
    keyboard.press("Enter")
    expect(page.locator("#step-count")).to_have_text(f"1 / {frames}")
    page.locator("#forward").focus()
    keyboard.press("Space")
    keyboard.press("ArrowRight")  # shortcuts also work while a button has focus
    expect(page.locator("#step-count")).to_have_text(f"3 / {frames}")
    keyboard.press("End")
    keyboard.press("ArrowLeft")
    expect(page.locator("#step-count")).to_have_text(f"{frames - 1} / {frames}")
    keyboard.press("Home")
    page.locator("#scrubber").focus()
    keyboard.press("ArrowRight")
    expect(page.locator("#step-count")).to_have_text(f"2 / {frames}")
    page.locator("#speed").focus()
    keyboard.press("ArrowDown")
    expect(page.locator("#speed")).to_have_value("2")
    page.locator("#play").focus()
    keyboard.press("Enter")
    expect(page.locator("#play")).to_have_attribute("aria-label", "Pause")
    keyboard.press("Enter")
    expect(page.locator("#play")).to_have_attribute("aria-label", "Play")
    keyboard.press("End")  # in the adjoint pass, a row jumps to that node's adjoint step
    page.locator('#trace button[data-node="v5"]').focus()
    keyboard.press("Enter")
    expect(page.locator('#trace tr[data-node="v5"]')).to_have_class(
        "primal-shown deriv-shown is-current")

    # typing in the editor never drives the player
    before = page.locator("#step-count").inner_text()
    page.locator("#source").focus()
    keyboard.press("End")
    keyboard.type(" ")
    assert page.locator("#step-count").inner_text() == before
    expect(page.locator("#play")).to_have_attribute("aria-label", "Play")

    # the slider and the mode switch, by keyboard: each re-runs and lands in the URL
    page.locator("#in-x-slider").focus()
    keyboard.press("ArrowRight")
    expect(page.locator("#in-x")).to_have_value("1.1")
    page.wait_for_function(
        "() => new URL(location.href).searchParams.get('at').startsWith('x=1.1')")
    page.locator('input[name="mode"][value="reverse"]').focus()
    keyboard.press("ArrowUp")
    page.wait_for_function("() => new URL(location.href).searchParams.get('mode') === 'forward'")
    page.wait_for_function("() => document.body.dataset.status === 'ready'")
    expect(page.locator("#pass-caption")).to_contain_text("Tangent pass 4 of 4")
    page.locator("#seed").focus()
    keyboard.press("ArrowDown")  # one seed direction: x
    page.wait_for_function("() => new URL(location.href).searchParams.get('seed') === 'x'")
    expect(page.locator("#pass-caption")).to_contain_text("Tangent pass 1 of 1 · seed x = 1")


def test_quiz_link_follows_the_state(page: Page) -> None:
    open_ready(page, url(SEED, "w=1", "reverse"))
    link = page.locator("#quiz-link")
    assert urlparse(link.get_attribute("href")).path == "/quiz"
    assert query_of(link.get_attribute("href")) == {
        "source": [SEED], "at": ["w=1"], "mode": ["reverse"]}
    # a new point, then forward mode with one seed: the link follows each change
    before = rerun(page)
    page.locator("#in-w").fill("2")
    wait_rerun(page, before)
    before = rerun(page)
    page.locator('input[name="mode"][value="forward"]').check()
    wait_rerun(page, before)
    page.locator("#seed").select_option("w")
    expect(link).to_have_attribute("href", re.compile(r"&wrt=w"))
    assert query_of(link.get_attribute("href")) == {
        "source": [SEED], "at": ["w=2"], "mode": ["forward"], "wrt": ["w"]}
    # by keyboard, the quiz opens on the same program, point and seed
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/quiz?**")
    quiz = page.locator("[data-quiz]")
    expect(quiz).to_have_attribute("data-ready", "true")
    assert quiz.get_attribute("data-source") == SEED
    assert json.loads(quiz.get_attribute("data-at") or "") == {"w": 2}
    assert (quiz.get_attribute("data-mode"), quiz.get_attribute("data-wrt")) == ("forward", "w")


def test_two_outputs_give_a_jacobian(page: Page) -> None:
    source = "x = r*cos(t)\ny = r*sin(t)"
    page.goto("/playground")
    page.locator(".examples summary").click()
    page.get_by_role("link", name=re.compile("Two outputs")).click()
    page.wait_for_function("() => document.body.dataset.status === 'ready'")
    state = query_of(page.url)
    assert (state["source"], state["outputs"], state["mode"]) == ([source], ["x,y"], ["reverse"])
    expected = api(page, {"source": source, "at": {"r": 2, "t": 0.5}, "mode": "reverse",
                          "outputs": ["x", "y"]})
    assert len(expected["passes"]) == 2  # one adjoint pass per output
    assert frame_count(page) == len(expected["primal"]) + sum(
        len(p["steps"]) for p in expected["passes"])
    page.locator("#end").click()
    expect(page.locator("#pass-caption")).to_have_text("Adjoint pass 2 of 2 · seed y = 1")
    # both rows of the Jacobian, as the API computed them
    cells = page.locator("#summary table.jacobian td[data-output]")
    expect(cells).to_have_count(4)
    for output, row in expected["derivatives"].items():
        for name, value in row.items():
            cell = page.locator(f'#summary td[data-output="{output}"][data-input="{name}"]')
            assert float(cell.get_attribute("data-value") or "nan") == value
    assert expected["derivatives"]["x"]["t"] == pytest.approx(-2 * math.sin(0.5))
    expect(page.locator("#output option")).to_have_text(["all (one pass each)", "x", "y"])
    expect(page.locator("#out-x")).to_be_checked()
    expect(page.locator("#out-y")).to_be_checked()
    violations = Axe().run(page).response["violations"]  # the Jacobian and the checkboxes
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

    # by keyboard: untick y; x alone is one pass, one row, and is written in the URL
    before = rerun(page)
    page.locator("#out-y").focus()
    page.keyboard.press("Space")
    wait_rerun(page, before)
    assert query_of(page.url)["outputs"] == ["x"]
    expect(page.locator("#summary li")).to_have_count(2)
    shown = page.locator('#summary li[data-output="x"][data-input="r"]')
    assert float(shown.get_attribute("data-value") or "nan") == expected["derivatives"]["x"]["r"]
    page.locator("#end").click()
    expect(page.locator("#pass-caption")).to_have_text("Adjoint pass 1 of 1 · seed x = 1")
    # the last output cannot be unticked (a program needs one)
    page.locator("#out-x").focus()
    page.keyboard.press("Space")
    expect(page.locator("#out-x")).to_be_checked()

    # an output the edited program no longer has falls back to the last statement, quietly
    before = rerun(page)
    page.locator("#source").fill("y = r*sin(t)")
    wait_rerun(page, before)
    assert "outputs" not in query_of(page.url)
    expect(page.locator("#problem")).to_be_hidden()
    expect(page.locator("#outputs input")).to_have_count(1)
    expect(page.locator("#summary")).to_contain_text("∂y/∂r")
    drawn = api(page, {"source": "y = r*sin(t)", "at": {"r": 2, "t": 0.5}})["graph"]["nodes"]
    expect(page.locator("#graph svg g.node")).to_have_count(len(drawn))  # drawn again


def test_unknown_output_in_a_link_drops_only_that_output(page: Page) -> None:
    # a hand-edited link: x and y are outputs of the program, nope is not
    source = "x = r*cos(t)\ny = r*sin(t)\nz = x + y"
    open_ready(page, url(source, "r=2,t=0.5", "reverse", outputs="x,nope,y"))
    assert query_of(page.url)["outputs"] == ["x,y"]
    expect(page.locator("#out-x")).to_be_checked()
    expect(page.locator("#out-y")).to_be_checked()
    expect(page.locator("#out-z")).not_to_be_checked()
    expect(page.locator("#summary table.jacobian tbody tr")).to_have_count(2)
    expect(page.locator("#problem")).to_be_hidden()


# Label texts the page added that overlap a node (shape or text, not their own node's) or
# one another, as "a|b" pairs, on the graph as it stands.
OVERLAPS = """() => {
  const svg = document.querySelector('#graph svg');
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
    && b.top < a.bottom;
  const rect = (el) => el.getBoundingClientRect();
  const nodes = [...svg.querySelectorAll('g.node')];
  const edges = [...svg.querySelectorAll('g.edge')];
  const layer = svg.querySelector('g.labels');
  const labels = [
    ...[...layer.querySelectorAll(':scope > g > text')].map((t, i) =>
      ({t, name: edges[i].dataset.id, owner: null})),
    ...[...layer.querySelectorAll(':scope > text')].map((t, i) =>
      ({t, name: `${i % 2 ? 'deriv' : 'value'}:${nodes[i >> 1].dataset.id}`,
        owner: nodes[i >> 1].dataset.id})),
  ].filter((l) => l.t.textContent.trim());
  const pairs = [];
  labels.forEach((l, i) => {
    const r = rect(l.t);
    for (const g of nodes) {
      const parts = [g.querySelector('ellipse, polygon') || g, ...g.querySelectorAll('text')];
      if (g.dataset.id !== l.owner && parts.some((p) => hit(r, rect(p)))) {
        pairs.push(`${l.name}|${g.dataset.id}`);
      }
    }
    for (const m of labels.slice(i + 1)) if (hit(r, rect(m.t))) pairs.push(`${l.name}|${m.name}`);
  });
  return pairs;
}"""
NEURON = "z = w1*x1 + w2*x2 + b\ny = tanh(z)"
NEURON_AT = "w1=0.5,x1=1,w2=-1,x2=2,b=0.3"


def label_overlaps(page: Page) -> set[str]:
    """Every overlap seen at any step of the animation."""
    pairs: set[str] = set()
    for k in range(frame_count(page)):
        seek(page, k)
        pairs.update(page.evaluate(OVERLAPS))
    return pairs


def test_labels_keep_clear_of_nodes_and_each_other(page: Page) -> None:
    """The page asks for a drawing with room for edge labels (`labels: true`) and puts them
    there. Measured on the neuron example at 1280x800: 15 overlaps in the old layout, 3 now."""
    open_ready(page, url(NEURON, NEURON_AT, "reverse"))
    overlaps = label_overlaps(page)
    print(f"\nneuron example, label overlaps: {len(overlaps)} {sorted(overlaps)}")
    assert len(overlaps) <= 3, sorted(overlaps)
    # the seed example stays compact: no overlap, and the graph fits the box readably
    open_ready(page, url(SEED, "w=1", "reverse"))
    assert not label_overlaps(page)
    # The check can fail: without the room (the old layout) the same graph has many overlaps.
    page.route("**/api/v1/render", lambda route: route.continue_(post_data=json.dumps(
        {**json.loads(route.request.post_data or "{}"), "labels": False})))
    open_ready(page, url(NEURON, NEURON_AT, "reverse"))
    assert len(label_overlaps(page)) > 3


def test_svg_is_inserted_safely_and_phone_layout_fits(page: Page, watch: Any) -> None:
    open_ready(page, url(SEED, "w=1", "reverse"))
    hostile = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
               'onload="alert(1)"><script>alert(2)</script><g class="node" id="v0" onclick="x()">'
               '<a xlink:href="javascript:alert(3)"><text>w</text></a>'
               '<image href="http://example.com/x.png"/></g>'
               '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>'
               '<rect style="fill:red" fill="url(http://example.com/#p)"/></svg>')
    cleaned: str = page.evaluate(
        "async (text) => (await import('/static/js/graph.js')).sanitizeSvg(text).outerHTML",
        hostile)
    for bad in ("script", "onload", "onclick", "javascript", "foreignObject", "image",
                "example.com", "style="):
        assert bad not in cleaned, bad
    assert "<text>w</text>" in cleaned
    # Merely parsing the hostile text makes the CSP report (and block) its inline handler
    # and style: a second wall. Those reports are expected here, and only here.
    page.wait_for_timeout(200)
    blocked = [m for m in watch.console_errors if m.startswith(("Executing inline event handler",
                                                                "Applying inline style"))]
    assert blocked
    watch.console_errors[:] = [m for m in watch.console_errors if m not in blocked]

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    graph_box = page.locator("#graph").bounding_box()
    trace_box = page.locator("#trace").bounding_box()
    assert graph_box and trace_box and trace_box["y"] > graph_box["y"]  # stacked
