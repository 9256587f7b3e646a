"""The engine's modules import each other without cycles (issue 10: program.py used to import
plan.py and display.py inside its methods while they imported program.py)."""

import ast
from pathlib import Path

import autodiff_core

PACKAGE = Path(autodiff_core.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The package modules a module imports when it runs (at the top or in a function; not
    the imports under `if TYPE_CHECKING:`, which only the type checker reads)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found |= {alias.name for alias in node.names
                          if (PACKAGE / f"{alias.name}.py").exists()} or {"__init__"}
    return found


def test_no_import_cycles() -> None:
    graph = {p.stem: imports_of(p) - {p.stem} for p in PACKAGE.glob("*.py")}
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(graph.get(module, ())):
            assert state.get(other) != 1, "import cycle: " + " -> ".join(path + [other])
            if other not in state:
                visit(other, path + [other])
        state[module] = 2

    for module in sorted(graph):
        if module not in state and module != "__init__":
            visit(module, [module])
