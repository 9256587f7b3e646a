"""The `>>>` examples in the engine's docstrings run, and give what they show.

Every module of autodiff_core is checked; the ones whose examples a reader meets first
(`__init__`, forward, reverse, parser, testing) must have some.
"""

import doctest
import importlib
import pkgutil

import pytest

import autodiff_core

MODULES = ["autodiff_core"] + sorted(
    m.name for m in pkgutil.iter_modules(autodiff_core.__path__, "autodiff_core."))
MUST_HAVE_EXAMPLES = {"autodiff_core", "autodiff_core.forward", "autodiff_core.reverse",
                      "autodiff_core.parser", "autodiff_core.testing"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name} has no examples to run"
