"""/vendor serves exactly the browser-library files the pages reference, and nothing else of
node_modules (app/vendor.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.vendor import VENDOR_FILES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"""/vendor/([^"'`)\s?#]+)""")


def referenced_vendor_files() -> set[str]:
    """Every /vendor/... path written in the templates, the static JS and CSS, and the app's
    own pages (the /docs page lives in app/main.py)."""
    sources = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js"),
               *(ROOT / "static").rglob("*.css"), *(ROOT / "app").rglob("*.py")]
    found: set[str] = set()
    for source in sources:
        if source.name == "vendor.py":  # the allow-list itself
            continue
        found |= set(REFERENCE.findall(source.read_text(encoding="utf-8")))
    return found


def test_allow_list_is_exactly_what_the_pages_reference() -> None:
    assert referenced_vendor_files() == set(VENDOR_FILES)


@pytest.mark.parametrize("path", sorted(VENDOR_FILES))
def test_every_referenced_file_is_served(client: TestClient, path: str) -> None:
    r = client.get(f"/vendor/{path}")
    assert r.status_code == 200, path
    assert r.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    assert r.content == (ROOT / "node_modules" / path).read_bytes()


def test_nothing_else_of_node_modules_is_served(client: TestClient) -> None:
    libraries = {path.split("/")[0] for path in VENDOR_FILES}
    others = [path.relative_to(ROOT / "node_modules").as_posix()
              for library in sorted(libraries)
              for path in (ROOT / "node_modules" / library).rglob("*") if path.is_file()]
    others = [path for path in others if path not in VENDOR_FILES]
    assert len(others) > 10  # package.json, READMEs, source maps, other builds
    served = [path for path in others if client.get(f"/vendor/{path}").status_code != 404]
    assert served == []


@pytest.mark.parametrize("path", [
    "/vendor/", "/vendor/uplot/", "/vendor/uplot/package.json",
    "/vendor/uplot/dist/../package.json", "/vendor/uplot%2Fpackage.json",
    "/vendor/uplot/dist/uPlot.esm.js/../../package.json", "/vendor/.package-lock.json",
    "/vendor/uplot\\dist\\uPlot.esm.js", "/vendor/@scarf/scarf/package.json",
])
def test_paths_around_the_allow_list_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
