"""Build step: the wheel carries the pages' files beside the app's code (see app/assets.py).

setuptools builds the package `autodiff_lab` from the folder `app/` (pyproject.toml); this
adds `templates/`, `static/` and, under `vendor/`, the browser libraries' files that /vendor/
serves (the VENDOR_FILES list of app/vendor.py, read here without importing the app) from
node_modules: run `npm ci` first, as scripts/setup.sh does. An editable install reads the
checkout's folders instead.
"""

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def vendor_files() -> list[str]:
    """The strings of the set assigned to VENDOR_FILES in app/vendor.py."""
    tree = ast.parse((ROOT / "app" / "vendor.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "VENDOR_FILES" for t in node.targets):
            return sorted(s.value for s in ast.walk(node.value)
                          if isinstance(s, ast.Constant) and isinstance(s.value, str))
    raise SystemExit("setup.py: app/vendor.py has no VENDOR_FILES")


class BuildWithAssets(build_py):
    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        target = Path(self.build_lib) / "autodiff_lab"
        if not editable:
            # from scratch: a module renamed or deleted since the last build (a migration, say)
            # would otherwise stay in build/lib and go into the wheel beside its new name
            shutil.rmtree(target, ignore_errors=True)
        super().run()
        if editable:
            return
        for folder in ("templates", "static"):
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(ROOT / folder, target / folder)
        shutil.rmtree(target / "vendor", ignore_errors=True)
        for name in vendor_files():
            source = ROOT / "node_modules" / name
            if not source.is_file():
                raise SystemExit(f"setup.py: node_modules/{name} is missing: run `npm ci` "
                                 "(scripts/setup.sh does) before building the wheel")
            (target / "vendor" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / "vendor" / name)


setup(cmdclass={"build_py": BuildWithAssets})
