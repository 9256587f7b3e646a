"""`show(...)`: a program's graph, trace table and animation as a Jupyter widget.

`show(program | source | function, at=..., mode=...)` returns an anywidget widget that runs
the playground's own ES modules (graph, trace table, player) in the notebook, sent with the
widget: no CDN, no server, so it works offline. Python does the work: the drawing (graphviz's
`dot`, see display.py) and the trace (`forward` or `reverse`, the same JSON as the REST API).
The sliders and `widget.at = {...}` / `widget.mode = ...` are one synced state: a change on
either side recomputes the trace and replays it.

anywidget is an optional extra (`pip install autodiff-lab[notebook]`): the engine itself needs
numpy only, so it is imported when the first widget is made.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .errors import AutodiffError
from .forward import forward
from .parser import parse
from .program import Program
from .results import jsonable
from .reverse import reverse
from .tracing import trace

# The playground's modules the widget runs (static/js/), and the stylesheets it borrows.
MODULES = ("arrays.js", "array-view.js", "timeline.js", "animation.js", "graph.js",
           "trace-table.js")


def static_dir() -> Path:
    """The static files: inside the installed app package, or the checkout's `static/`."""
    try:
        packaged = importlib.resources.files("autodiff_lab") / "static"
        if packaged.is_dir():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "static"


@cache
def _assets() -> tuple[str, str, dict[str, str]]:
    """(the widget's ES module, its CSS, the playground modules' texts by file name)."""
    static = static_dir()
    esm = (static / "js" / "widget.js").read_text(encoding="utf-8")
    modules = {name: (static / "js" / name).read_text(encoding="utf-8") for name in MODULES}
    base = (static / "css" / "base.css").read_text(encoding="utf-8")
    root = re.search(r":root\s*\{[^}]*\}", base)
    tokens = root.group(0).replace(":root", ".adl-widget", 1) if root else ""
    # playground.css up to its page-layout media queries: the graph and trace-table rules
    playground = (static / "css" / "playground.css").read_text(encoding="utf-8")
    playground = playground.split("@media", 1)[0]
    css = "\n".join([tokens, playground, (static / "css" / "widget.css").read_text("utf-8")])
    return esm, css, modules


def _program_of(what: Program | str | Callable[..., Any],
                outputs: list[str] | None) -> Program:
    if isinstance(what, Program):
        return what
    if isinstance(what, str):
        return parse(what, outputs=outputs)
    if callable(what):
        return trace(what)
    raise TypeError(f"show() takes a Program, program text or a function, not "
                    f"{type(what).__name__}")


def differentiate_json(program: Program, at: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """What POST /api/v1/differentiate answers, as plain data (non-finite numbers as None)."""
    sweep = forward if mode == "forward" else reverse
    result = sweep(program, dict(at))
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return jsonable({**fields, "graph": program.to_dict()})


@cache
def _widget_class() -> type:
    """The widget class, made on first use (anywidget and traitlets are imported here)."""
    try:
        import anywidget
        import traitlets
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise ImportError("ad.show needs anywidget: pip install 'autodiff-lab[notebook]'") \
            from exc

    esm, css, texts = _assets()

    class ProgramWidget(anywidget.AnyWidget):
        """A program's graph, trace and animation; `at` and `mode` are synced with the page."""

        _esm = esm
        _css = css
        modules = traitlets.Dict(texts).tag(sync=True)
        source = traitlets.Unicode("").tag(sync=True)
        svg = traitlets.Unicode("").tag(sync=True)
        at = traitlets.Dict({}).tag(sync=True)
        mode = traitlets.Unicode("reverse").tag(sync=True)
        autoplay = traitlets.Bool(True).tag(sync=True)
        result = traitlets.Dict({}).tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)

        def __init__(self, program: Program, **kwargs: Any) -> None:
            self.program = program
            super().__init__(**kwargs)
            self.observe(lambda _change: self._recompute(), names=["at", "mode"])
            self._recompute()

        def _recompute(self) -> None:
            if self.mode not in ("forward", "reverse"):
                self.error = f"mode must be 'forward' or 'reverse', not {self.mode!r}"
                return
            if list(self.at) != list(self.program.inputs):
                # a partial point: the others keep their values (1 at first), in input order
                self.at = {n: self.at.get(n, 1.0) for n in self.program.inputs}
                return  # setting `at` runs this again
            try:
                answer = differentiate_json(self.program, self.at, self.mode)
            except AutodiffError as exc:
                self.error, self.result = str(exc), {}
                return
            with self.hold_sync():
                self.error, self.result = "", answer

    return ProgramWidget


def show(what: Program | str | Callable[..., Any], at: Mapping[str, float] | None = None,
         mode: str = "reverse", outputs: list[str] | None = None,
         autoplay: bool = True) -> Any:
    """A widget that animates `what`'s forward or reverse pass at the point `at`.

    `what` is a Program, program text (with `outputs` to choose them) or a Python function
    (traced with `ad.trace`). Inputs missing from `at` start at 1.

    >>> import autodiff_core as ad
    >>> w = ad.show("x = 3*w; y = 2*x^2 + 4", at={"w": 1.0})   # doctest: +SKIP
    >>> w.result["derivatives"], w.at                            # doctest: +SKIP
    ({'y': {'w': 36.0}}, {'w': 1.0})
    >>> w.at = {"w": 2.0}     # the sliders move and the trace replays    # doctest: +SKIP
    """
    from .display import program_svg

    program = _program_of(what, outputs)
    point = {name: float(at[name]) if at and name in at else 1.0 for name in program.inputs}
    text = program.source if program.source is not None else program.text()
    return _widget_class()(program, source=text, svg=program_svg(program) or "", at=point,
                           mode=mode, autoplay=autoplay)


__all__ = ["MODULES", "differentiate_json", "show", "static_dir"]
