"""The wheel, installed in a fresh virtual environment with no checkout, serves every page
with every asset it references.

The wheel is built from this checkout (setup.py copies the templates, static files and the
pinned browser libraries into it), installed with its dependencies into a new venv, and
`autodiff-lab serve` is started from an empty folder. A crawler then follows, from `/`, every
same-origin link of every page and every asset reference (`href`, `src`, ES-module imports,
CSS `url()`), and each must answer 200. Then some of tests/browser run against it: their
`server` fixture takes AUTODIFF_TEST_BASE_URL instead of starting `python -m app`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from app.vendor import VENDOR_FILES
from tests.health import answers_health

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class References(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")


def references(kind: str, text: str) -> list[str]:
    if kind == "html":
        parser = References()
        parser.feed(text)
        return parser.found
    if kind == "js":  # module specifiers of our own modules (a minified bundle has none)
        return [s for s in JS_IMPORT.findall(text) if s.startswith(("./", "../", "/"))]
    if kind == "css":
        return [u for u in CSS_URL.findall(text) if not u.startswith("data:")]
    return []


def kind_of(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "")
    for kind, marker in (("html", "text/html"), ("js", "javascript"), ("css", "text/css")):
        if marker in content_type:
            return kind
    return "other"


def crawl(base: str, start: str = "/") -> dict[str, int]:
    """Status of every same-origin URL reachable from `start` (pages and their assets)."""
    seen: dict[str, int] = {}
    queue = [urljoin(base, start)]
    with httpx.Client(timeout=30) as client:
        while queue:
            url = queue.pop()
            if url in seen:
                continue
            response = client.get(url)
            seen[url] = response.status_code
            if response.status_code != 200:
                continue
            kind = kind_of(response)
            if kind == "js" and not urlsplit(url).path.startswith("/static/"):
                continue  # a vendored library's bundle: loaded as it is, imports nothing
            for ref in references(kind, response.text):
                target = urljoin(url, ref).split("#")[0]
                same_origin = urlsplit(target).netloc == urlsplit(base).netloc
                if same_origin and urlsplit(target).scheme in ("http", "https") \
                        and not urlsplit(target).path.startswith("/api/"):
                    queue.append(target.split("?")[0] if "/static/" in target else target)
    return seen


STALE = ROOT / "build" / "lib" / "autodiff_lab" / "stale_from_an_old_build.py"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout; returns its bin/ folder."""
    where = tmp_path_factory.mktemp("wheel")
    # a module left in build/lib by an earlier build (since renamed, say) must not be packed
    STALE.parent.mkdir(parents=True, exist_ok=True)
    STALE.write_text("raise SystemExit('a stale module from an old build')\n")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(where / "dist"), str(ROOT)], check=True, cwd=where)
    wheel = next((where / "dist").glob("autodiff_lab-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    bin_dir = where / "venv" / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, cwd=where)
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel_server(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`autodiff-lab serve` from the venv, started in an empty folder (no checkout)."""
    empty = tmp_path_factory.mktemp("empty")
    port = free_port()
    log = (empty.parent / "serve.log").open("w")
    process = subprocess.Popen([str(installed / "autodiff-lab"), "serve", "--host", "127.0.0.1",
                                "--port", str(port)], cwd=empty, env=clean_env(),
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not answers_health(url, 60, process=process):
        process.kill()
        pytest.fail(f"autodiff-lab serve did not start; see {log.name}")
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_the_wheel_installs_no_generic_top_level_name(installed: Path) -> None:
    site = next((installed.parent / "lib").glob("python3*/site-packages"))
    ours = {p.name for p in site.iterdir()} - {"__pycache__"}
    assert "autodiff_lab" in ours and "autodiff_core" in ours
    assert not ours & {"app", "static", "templates", "tests", "vendor"}
    package = site / "autodiff_lab"
    assert not (package / STALE.name).exists(), "the wheel packed a file of an old build"
    assert (package / "templates" / "playground.html").is_file()
    vendored = {p.relative_to(package / "vendor").as_posix()
                for p in (package / "vendor").rglob("*") if p.is_file()}
    assert vendored == VENDOR_FILES, "the wheel carries the files /vendor/ serves, no more"


def test_every_page_and_every_asset_is_served(wheel_server: str) -> None:
    seen: dict[str, int] = {}
    for start in ("/", "/playground", "/quiz", "/docs"):
        seen.update(crawl(wheel_server, start))
    failed = {url: status for url, status in seen.items() if status != 200}
    assert failed == {}
    paths = {urlsplit(url).path for url in seen}
    lessons = [p for p in paths if p.startswith("/lessons/")]
    assert len(lessons) >= 8, sorted(paths)
    assert {p.removeprefix("/vendor/") for p in paths if p.startswith("/vendor/")} == VENDOR_FILES
    assert any(p.startswith("/static/js/") for p in paths)
    assert any(p.startswith("/static/css/") for p in paths)


def test_the_api_answers_from_the_wheel(wheel_server: str) -> None:
    body = {"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1}, "mode": "reverse"}
    answer = httpx.post(f"{wheel_server}/api/v1/differentiate", json=body, timeout=30)
    assert answer.status_code == 200 and answer.json()["derivatives"] == {"y": {"w": 36.0}}
    drawing = httpx.post(f"{wheel_server}/api/v1/render", timeout=30,
                         json={"source": body["source"], "format": "svg"})
    assert drawing.status_code == 200 and "<svg" in drawing.text


def test_grad_and_the_engine_work_without_a_checkout(installed: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(installed / "autodiff-lab"), "grad", "y = x * sin(x)",
                          "--at", "x=0"], capture_output=True, text=True, cwd=tmp_path,
                         env=clean_env(), check=True)
    assert out.stdout == "y = 0\n  dy/dx = 0\n"
    # no `app` module; the engine works; the widget finds its modules in the package
    probe = ("import importlib.util, autodiff_core as ad; "
             "from autodiff_core.widget import static_dir; "
             "print(importlib.util.find_spec('app') is None, "
             "(static_dir() / 'js' / 'widget.js').is_file(), 'site-packages' in str(static_dir()), "
             "ad.reverse(ad.parse('y = x^2'), {'x': 3.0}).derivatives)")
    out = subprocess.run([str(installed / "python"), "-c", probe], capture_output=True,
                         text=True, cwd=tmp_path, env=clean_env(), check=True)
    assert out.stdout.strip() == "True True True {'y': {'x': 6.0}}"


# Page tests that use each vendored library (svg-pan-zoom, uPlot, Swagger UI) and write no
# tracked file (the screenshot tests regenerate docs/images; those stay on the checkout).
BROWSER_TESTS = [
    "tests/browser/test_docs_page.py",
    "tests/browser/test_playground.py::test_forward_mode_one_pass_per_input",
    "tests/browser/test_playground.py::test_fan_out_adds_the_two_contributions",
    "tests/browser/test_playground.py::test_errors_are_shown_where_they_are",
    "tests/browser/test_playground.py::test_two_outputs_give_a_jacobian",
    "tests/browser/test_lessons.py::test_chain_rule_shows_36_at_w_1_and_follows_the_slider",
    "tests/browser/test_lessons.py::test_neuron_loss_decreases",
    "tests/browser/test_lessons.py::test_higher_derivatives_and_hessian",
]


@pytest.mark.browser
def test_page_tests_pass_against_the_wheel(wheel_server: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          *BROWSER_TESTS], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "AUTODIFF_TEST_BASE_URL": wheel_server})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{len(BROWSER_TESTS)} passed" in run.stdout
