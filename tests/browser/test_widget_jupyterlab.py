"""`ad.show(...)` in a real JupyterLab, in headless Chromium: the graph appears, Play changes
it, and the slider and `widget.at` stay in sync through the real kernel.

A JupyterLab server (no token, loopback only) opens a notebook written for the test; the test
runs its cell with Shift+Enter, as a learner would, waits for the widget's drawing and plays
the animation. Nothing may leave the loopback address: the widget carries its own modules.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.health import answers_health

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CELLS = ['import autodiff_core as ad\n'
         'widget = ad.show("x = 3*w\\ny = 2*x^2 + 4", at={"w": 1.0}, autoplay=False)\n'
         'widget',
         'widget.at = {"w": 3.0}']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab serving a folder with one notebook; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("lab")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{k}",
                           "metadata": {}, "outputs": [], "source": source}
                          for k, source in enumerate(CELLS)],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                            "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (root / "widget.ipynb").write_text(json.dumps(notebook))
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config"),
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "PYTHONPATH": str(ROOT)}
    log = (root.parent / "jupyterlab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
         "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         "--allow-root"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not answers_health(base, 90, process=process, path="/api/status"):
        process.kill()
        pytest.fail(f"JupyterLab did not start; see {log.name}")
    yield f"{base}/lab/tree/widget.ipynb"
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def lab_page(browser: Browser, lab: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:",
                                         "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    yield page
    context.close()
    assert outside == [], "the notebook page reached outside this machine"


def test_the_widget_draws_and_plays_in_jupyterlab(lab_page: Page, lab: str) -> None:
    page = lab_page
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"uncaught: {e}"))
    page.goto(lab)
    cell = page.locator(".jp-Cell .jp-InputArea-editor").first
    expect(cell).to_be_visible(timeout=90_000)
    # run the cell once the kernel is ready, as a learner would
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=90_000)
    cell.click()
    page.keyboard.press("Shift+Enter")
    widget = page.locator(".adl-widget[data-ready=true]")
    try:
        expect(widget.locator("svg.graph-svg g.node")).not_to_have_count(0, timeout=90_000)
    except AssertionError:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-jupyterlab-failed.png"))
        raise AssertionError("no drawing; the page said:\n" + "\n".join(messages)) from None
    assert widget.locator(".trace-table tbody tr").count() == 9
    expect(widget.locator(".adw-summary")).to_contain_text("∂y/∂w = 36")
    assert widget.get_attribute("data-step") == "0"
    before = widget.locator("svg.graph-svg g.node.is-current").first.get_attribute("data-id")
    widget.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => Number(document.querySelector('.adl-widget').dataset.step) >= 3",
        timeout=30_000)
    after = widget.locator("svg.graph-svg g.node.is-current").first.get_attribute("data-id")
    assert after != before, "Play did not move the current node"
    widget.get_by_role("button", name="Go to the end").click()
    expect(widget.locator('.trace-table tr[data-node="v0"] td.deriv-value')).to_have_text("36")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-jupyterlab.png"))

    # the slider asks the kernel, whose new trace comes back: dy/dw = 36 w
    widget.locator("input[type=range][data-input=w]").fill("2")
    expect(widget.locator(".adw-summary")).to_contain_text("∂y/∂w = 72", timeout=30_000)
    # Python sets the point (the second cell): the slider follows
    page.locator(".jp-Cell .jp-InputArea-editor").nth(1).click()
    page.keyboard.press("Shift+Enter")
    expect(widget.locator(".adw-summary")).to_contain_text("∂y/∂w = 108", timeout=30_000)
    expect(widget.locator("input[type=range][data-input=w]")).to_have_value("3")
