"""Which output and which input a request means: named, or the program's only one."""

from __future__ import annotations

import autodiff_core as ad

from ..problems import problem


def one_output(program: ad.Program, output: str | None) -> str:
    if output is not None:
        if output not in program.outputs:
            raise problem(f"{output!r} is not an output of the program; its outputs are: "
                          f"{', '.join(program.outputs)}", ("body", "output"), "input_error")
        return output
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name one in `output`",
                      ("body", "output"), "input_error")
    return next(iter(program.outputs))


def input_named(program: ad.Program, wrt: str | None) -> str:
    if wrt is None or wrt not in program.inputs:
        problem_text = "`wrt` names no input" if wrt is None else f"{wrt!r} is not an input"
        raise problem(f"{problem_text}; the program's inputs are: "
                      f"{', '.join(program.inputs) or '(none)'}", ("body", "wrt"),
                      "input_error")
    return wrt


def inputs_named(program: ad.Program, wrt: list[str] | None) -> list[str] | None:
    """`wrt` as given (None: every input), once a 422 has named any that is no input."""
    for position, name in enumerate(wrt or []):
        if name not in program.inputs:
            raise problem(f"{name!r} is not an input; the program's inputs are: "
                          f"{', '.join(program.inputs) or '(none)'}", ("body", "wrt", position),
                          "input_error")
    return wrt
