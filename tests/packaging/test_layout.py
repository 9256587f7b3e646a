"""The package layout that the wheel relies on, checked fast in the checkout.

The folder `app/` becomes the package `autodiff_lab` in the wheel (pyproject.toml), so its
modules must import each other relatively; every subpackage must be listed for setuptools;
the pages' files are found through app/assets.py. The wheel itself is built, installed and
served in test_wheel.py (slow).
"""

import ast
import tomllib
from pathlib import Path

import pytest

from app import assets, cli
from app.vendor import VENDOR_FILES

ROOT = Path(__file__).resolve().parents[2]


def test_app_modules_import_each_other_relatively() -> None:
    absolute = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level \
                else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            absolute += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                         if n == "app" or n.startswith("app.")]
    assert absolute == [], "installed as autodiff_lab, `app.` imports would break"


def test_every_app_package_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"autodiff_lab": "app"}
    folders = {".".join(("autodiff_lab", *p.parent.relative_to(ROOT / "app").parts))
               for p in (ROOT / "app").rglob("__init__.py")}
    assert folders <= set(config["packages"])
    assert "app" not in config["packages"]


def test_a_checkout_serves_its_own_folders() -> None:
    assert not assets.installed()
    assert (assets.templates_dir() / "playground.html").is_file()
    assert (assets.static_dir() / "js" / "playground.js").is_file()
    assert assets.vendor_dir() == ROOT / "node_modules"
    assert all((assets.vendor_dir() / name).is_file() for name in VENDOR_FILES)


def test_grad_prints_values_and_derivatives(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grad", "x = 3*w; y = 2*x^2 + 4", "--at", "w=1"]) == 0
    assert capsys.readouterr().out == "y = 22\n  dy/dw = 36\n"
    assert cli.main(["grad", "x = r*cos(t)\ny = r*sin(t)", "--at", "r=2", "--at", "t=0",
                     "--outputs", "x,y", "--mode", "forward"]) == 0
    assert capsys.readouterr().out == ("x = 2\n  dx/dr = 1\n  dx/dt = 0\n"
                                       "y = 0\n  dy/dr = 0\n  dy/dt = 2\n")


@pytest.mark.parametrize(("args", "message"), [
    (["y = x +", "--at", "x=1"], "line 1, column"),
    (["y = log(x)", "--at", "x=-1"], "log(-1)"),
    (["y = x * w", "--at", "x=1"], "give a value to w"),
    (["y = x", "--at", "x"], "write name=number"),
])
def test_grad_explains_bad_input(args: list[str], message: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grad", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autodiff-lab grad: ") and message in err
