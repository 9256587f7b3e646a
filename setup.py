"""Build step: the wheel carries the pages' files beside the app's code (see app/assets.py).

setuptools builds the package `autodiff_lab` from the folder `app/` (pyproject.toml); this
adds `templates/`, `static/` and each browser library pinned in package.json (from
node_modules, so run `npm ci` first, as scripts/setup.sh does) under autodiff_lab/. Source
maps are left out: pages never load them. An editable install reads the checkout instead.
"""

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "autodiff_lab"
        for folder in ("templates", "static"):
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(ROOT / folder, target / folder)
        libraries = json.loads((ROOT / "package.json").read_text())["dependencies"]
        for name in libraries:
            source = ROOT / "node_modules" / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: node_modules/{name} is missing: run `npm ci` "
                                 "(scripts/setup.sh does) before building the wheel")
            shutil.rmtree(target / "vendor" / name, ignore_errors=True)
            shutil.copytree(source, target / "vendor" / name,
                            ignore=shutil.ignore_patterns("*.map"))


setup(cmdclass={"build_py": BuildWithAssets})
