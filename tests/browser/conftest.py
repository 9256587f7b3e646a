"""Browser fixtures: a real uvicorn on a free loopback port, one headless Debian chromium for
the session (launched by Playwright with executable_path: no browser download), a `page`
that fails its test on any console error or any request leaving the server's origin, and
`photograph`, which keeps screenshots out of the tracked files unless asked."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from tests.app.conftest import stop_server
from tests.health import answers_health

ROOT = Path(__file__).resolve().parents[2]
# Every run writes its screenshots here (git-ignored), to be looked at after the run.
SCREENSHOTS = ROOT / "build" / "screenshots"
# The docs' pictures are tracked: rewritten only when asked, with AUTODIFF_UPDATE_DOCS_IMAGES=1.
DOCS_IMAGES = ROOT / "docs" / "images"
UPDATE_DOCS_IMAGES = os.environ.get("AUTODIFF_UPDATE_DOCS_IMAGES") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# The API answers bad programs with a 422 on purpose; Chromium logs each failed fetch as a
# console error. Those, and only those, are expected.
# A 422 is the page showing a learner's mistake. ERR_NETWORK_CHANGED is Chromium noticing a new
# network interface: the container test, running beside the browser tests, makes podman's.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: (the server responded with a status "
                              r"of 422|net::ERR_NETWORK_CHANGED)")


def is_console_error(message: ConsoleMessage) -> bool:
    """An error the page logged that no test expects."""
    return message.type == "error" and not EXPECTED_CONSOLE.search(message.text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn (`python -m app`), as the classroom runs it; or the server
    at AUTODIFF_TEST_BASE_URL (tests/packaging runs some of these against the installed wheel)."""
    external = os.environ.get("AUTODIFF_TEST_BASE_URL")
    if external:
        yield external.rstrip("/")
        return
    port = free_port()
    env = {**os.environ, "AUTODIFF_HOST": "127.0.0.1", "AUTODIFF_PORT": str(port),
           "AUTODIFF_WORKERS": "1",
           # the classroom's database in a temporary folder, not the checkout's data/
           "AUTODIFF_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    log = (tmp_path_factory.mktemp("server") / "uvicorn.log").open("w")
    # Its own process group: stopped as a whole, workers and job processes included.
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    # each worker starts its job processes first
    if not answers_health(url, 90, process=process):
        stop_server(process)
        pytest.fail(f"the server did not start; see {log.name}")
        time.sleep(0.1)
    yield url
    stop_server(process)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a page did that it should not: console errors and requests off the origin."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Browser, server: str, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)

    def guard(route: Route) -> None:
        url = route.request.url
        if url == server or url.startswith(server + "/"):
            route.continue_()
        else:
            watch.outside_requests.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: watch.console_errors.append(m.text)
            if is_console_error(m) else None)
    page.on("pageerror", lambda e: watch.console_errors.append(f"uncaught: {e}"))
    yield page
    context.close()
    assert watch.outside_requests == [], "requests left the server's origin"
    assert watch.console_errors == [], "the page logged errors"


def photograph(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Screenshot the page to build/screenshots/<name>, and to docs/images/<name> as well when
    AUTODIFF_UPDATE_DOCS_IMAGES=1 (so that a test run leaves the tracked pictures alone)."""
    shot = SCREENSHOTS / name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=full_page)
    if UPDATE_DOCS_IMAGES:
        doc = DOCS_IMAGES / name
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_bytes(shot.read_bytes())
    return shot
