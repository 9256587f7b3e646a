"""Where the pages' files are: templates, static files and the pinned browser libraries.

A wheel carries them inside this package, copied there at build time by setup.py:
`templates/`, `static/` and `vendor/` (the files of the libraries pinned in package.json that
app/vendor.py lets /vendor/ serve, from node_modules). A checkout keeps them at its root:
`templates/`, `static/`, and `node_modules/` after `npm ci`. importlib.resources finds this
package's folder in both cases, so `autodiff-lab serve` needs no checkout and no npm.
"""

from __future__ import annotations

import importlib.resources
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


def vendor_dir() -> Path:
    """The folder /vendor/ serves from (only the files app/vendor.py lists)."""
    return PACKAGE / "vendor" if installed() else CHECKOUT / "node_modules"
