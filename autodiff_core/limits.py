"""Size limits, checked before any work is done. The server sets tighter ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_source_chars: int = 5_000_000
    max_statements: int = 200_000
    max_nodes: int = 200_000
    # Depth of the expression tree within one statement: `x + x + ... + x` is as deep as it is
    # long, so the default admits a 100,000-term expression (every walk is iterative).
    max_depth: int = 200_000
    max_number: float = 1e300  # magnitude of a literal
    # Tensors: elements of one value (a declared input, a literal, any node's result), and of
    # all nodes' values together; a program past either is refused at parse, never allocated.
    max_tensor_elements: int = 10_000_000
    max_total_elements: int = 100_000_000
    max_tensor_axes: int = 8  # axes of a declared shape or a literal (numpy allows 64 in all)


DEFAULT_LIMITS = Limits()
