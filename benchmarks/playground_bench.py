"""The playground at scale (issue 12): how live a slider is and how fast a large graph opens,
measured in headless Chromium against the real server. Every figure is also given as a ratio
to a baseline measured in the same run.

    .venv/bin/python benchmarks/playground_bench.py            # about half a minute
    .venv/bin/python benchmarks/playground_bench.py --updates 20

(a) A slider update: from the slider's `input` event to the page showing the new values,
    derivatives and graph labels (its `data-run` counter moves on), one update at a time, for
    a 20-node and a 60-node program. p50 and p95. Baseline: the bare request the update makes
    (`fetch` of POST /api/v1/differentiate from the same page, the same body), so the ratio is
    what the page adds to the server's answer. Goal: p95 within a 60 Hz frame or two of the
    baseline; at most one request per animation frame is sent while dragging.
(b) Opening a link: from navigation to the graph drawn in the page (the `graph-drawn`
    performance mark) for a 60-node program, each time a program the server has not drawn
    before (a new constant), and again for the same link (the server's caches warm).
    Baseline: the 9-node seed example, fresh. Goal: under 1 s for 60 nodes.

The server is a real uvicorn process on a free loopback port, one worker (the app's default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.conftest import free_port  # noqa: E402
from tests.health import answers_health  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SEED = "x = 3*w\ny = 2*x^2 + 4"
# 20 nodes (the browser tests' TWENTY)
TWENTY = ("a = x*y + sin(x)\nb = exp(-a) * z\nc = sqrt(b^2 + 1) - w\nd = tanh(c) * a\n"
          "f = d + log(b)")
# 60 nodes: a 2-4-1 tanh network with a squared error and a weighted penalty (21 inputs)
SIXTY = "\n".join(
    [f"h{j} = tanh(w{j}1*x1 + w{j}2*x2 + b{j})" for j in range(1, 5)]
    + ["y = tanh(v1*h1 + v2*h2 + v3*h3 + v4*h4 + c)", "loss = (y - t)^2 / 2 + 2*lam*abs(c)"])


def point_of(source: str) -> dict[str, float]:
    import autodiff_core as ad

    # positive: the 20-node program takes logs and square roots
    return {name: 0.2 + 0.1 * (i % 5) for i, name in enumerate(ad.parse(source).inputs)}


def link(source: str, at: dict[str, float]) -> str:
    point = ",".join(f"{k}={v:g}" for k, v in at.items())
    return f"/playground?source={quote(source)}&at={quote(point)}&mode=reverse"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# One slider update: set the value, fire `input`, wait until the page has drawn the run.
SLIDER_UPDATE = """async ([name, value]) => {
  const slider = document.getElementById(`in-${name}-slider`);
  const before = Number(document.body.dataset.run);
  const start = performance.now();
  slider.value = String(value);
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  const done = () => Number(document.body.dataset.run) > before
    && document.body.dataset.status === 'ready';
  while (!done()) {
    await new Promise((r) => setTimeout(r, 0));
  }
  await new Promise((r) => requestAnimationFrame(r));  // the new labels painted
  return performance.now() - start;
}"""

BARE_REQUEST = """async (body) => {
  const start = performance.now();
  const response = await fetch('/api/v1/differentiate', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  await response.json();
  return performance.now() - start;
}"""


def slider_updates(page: Page, source: str, updates: int) -> tuple[list[float], list[float]]:
    at = point_of(source)
    page.goto(link(source, at))
    page.wait_for_function("() => document.body.dataset.status === 'ready'")
    page.locator("#end").click()
    name = next(iter(at))
    page_times, bare_times = [], []
    for i in range(updates):
        value = round(at[name] + 0.1 * (i + 1), 1)  # a new point each time: nothing cached
        page_times.append(page.evaluate(SLIDER_UPDATE, [name, value]))
        body = {"source": source, "at": {**at, name: value + 0.05}, "mode": "reverse"}
        bare_times.append(page.evaluate(BARE_REQUEST, body))
    return page_times, bare_times


def open_link(page: Page, address: str) -> float:
    page.goto(address)
    page.wait_for_function("() => performance.getEntriesByName('graph-drawn').length > 0")
    drawn: float = page.evaluate("performance.getEntriesByName('graph-drawn')[0].startTime")
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=40, help="slider updates per program")
    parser.add_argument("--opens", type=int, default=5, help="page opens per case")
    args = parser.parse_args()

    port = free_port()
    env = {**os.environ, "AUTODIFF_HOST": "127.0.0.1", "AUTODIFF_PORT": str(port),
           "AUTODIFF_WORKERS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        if not answers_health(base, 30, process=server):
            raise SystemExit("the server did not start")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=base)
            print("(a) slider update, from `input` to the new numbers drawn "
                  f"({args.updates} updates each)")
            print(f"{'program':<10}{'page p50':>10}{'page p95':>10}{'bare p50':>10}"
                  f"{'bare p95':>10}{'p95 ratio':>11}")
            for label, source in (("20 nodes", TWENTY), ("60 nodes", SIXTY)):
                page_times, bare = slider_updates(page, source, args.updates)
                p95, b95 = percentile(page_times, 0.95), percentile(bare, 0.95)
                print(f"{label:<10}{statistics.median(page_times):>8.1f}ms{p95:>8.1f}ms"
                      f"{statistics.median(bare):>8.1f}ms{b95:>8.1f}ms{p95 / b95:>10.2f}x")

            print(f"\n(b) link opened to graph drawn ({args.opens} opens each, fresh page)")
            rows = []
            # a new program each time: one of its constants changed (same node count)
            cases = (("seed, new", SEED, "+ 4", "+ {}"),
                     ("60 nodes, new", SIXTY, "2*lam", "{}*lam"),
                     ("60 nodes, same link", SIXTY, None, None))
            for label, source, constant, template in cases:
                times = []
                for i in range(args.opens):
                    text = source
                    if constant and template:
                        text = source.replace(constant, template.format(
                            f"{i + 3}{time.time_ns() % 100000}"))
                    fresh_page = browser.new_page(viewport={"width": 1280, "height": 800},
                                                  base_url=base)
                    times.append(open_link(fresh_page, link(text, point_of(text))))
                    fresh_page.close()
                rows.append((label, times))
            seed_median = statistics.median(rows[0][1])
            print(f"{'case':<22}{'median':>9}{'max':>9}{'vs seed':>9}")
            for label, times in rows:
                print(f"{label:<22}{statistics.median(times):>7.0f}ms{max(times):>7.0f}ms"
                      f"{statistics.median(times) / seed_median:>8.2f}x")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
