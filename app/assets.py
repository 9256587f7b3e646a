"""Where the pages' files are: templates, static files and the pinned browser libraries.

A wheel carries them inside this package, copied there at build time by setup.py:
`templates/`, `static/` and `vendor/<library>/` (each library pinned in package.json, from
node_modules). A checkout keeps them at its root: `templates/`, `static/`, and `node_modules/`
after `npm ci`. importlib.resources finds this package's folder in both cases, so
`autodiff-lab serve` needs no checkout and no npm.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

# A package in a folder (not a zip): StaticFiles and Jinja2 read real directories.
PACKAGE = Path(str(importlib.resources.files(__package__ or "app")))
CHECKOUT = PACKAGE.parent


def installed() -> bool:
    """Whether the files came with the package (a wheel) rather than from a checkout."""
    return (PACKAGE / "static").is_dir()


def templates_dir() -> Path:
    return PACKAGE / "templates" if installed() else CHECKOUT / "templates"


def static_dir() -> Path:
    return PACKAGE / "static" if installed() else CHECKOUT / "static"


def pinned_libraries(package_json: Path) -> list[str]:
    """The browser libraries package.json pins (its `dependencies`)."""
    return list(json.loads(package_json.read_text(encoding="utf-8")).get("dependencies", {}))


def vendor_libraries() -> dict[str, Path]:
    """Each browser library the app serves at /vendor/<name>/, and its folder."""
    if installed():
        vendor = PACKAGE / "vendor"
        return {d.name: d for d in sorted(vendor.iterdir()) if d.is_dir()} if vendor.is_dir() \
            else {}
    folders = {name: CHECKOUT / "node_modules" / name
               for name in pinned_libraries(CHECKOUT / "package.json")}
    return {name: folder for name, folder in folders.items() if folder.is_dir()}
