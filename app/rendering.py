"""Drawing a Program with graphviz: DOT built from our own tokens, then SVG/PNG via `dot`.

Two steps, as micrograd draws: collect nodes and edges into DOT text, then hand it to the
`dot` binary (a subprocess with a time limit, killed when it runs past it). Every label is
made of our own tokens (op symbols, names that passed the parser's identifier rules, numbers
we formatted) and is escaped for DOT anyway; graphviz escapes it again for SVG. SVG node and
edge element ids are the trace's ids (`v3`, `v0_v2_1`), so the page can animate them.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff_core as ad
from autodiff_core.program import CONST, INPUT, edge_id, format_number

FORMATS = {"svg": "image/svg+xml", "dot": "text/vnd.graphviz; charset=utf-8",
           "png": "image/png"}
FONT = "Helvetica,Arial,sans-serif"
# A stand-in as wide as a typical "×local → carried" label: with `room_for_labels`, every edge
# gets it as an invisible graphviz label, so dot keeps a spot for the page's edge label free.
EDGE_LABEL_ROOM = "\u00d7-0.00000 \u2192 -0.00000"
EDGE_LABEL_FONTSIZE = 11  # the page's .edge-label size (static/css/playground.css)
TANGENT = "v\u0307"  # v̇
ADJOINT = "v\u0304"  # v̄


class RenderError(Exception):
    """`dot` failed or ran past its time; `limit` names the setting when that is the cause."""

    def __init__(self, message: str, limit: str | None = None):
        super().__init__(message)
        self.message = message
        self.limit = limit


@dataclass(frozen=True)
class Annotations:
    """Per-node numbers (or arrays) to print under the labels: values, and tangents or
    adjoints."""

    values: Mapping[str, Any]
    derivatives: Mapping[str, Any] | None = None
    derivative_symbol: str = ADJOINT


# --- shapes ----------------------------------------------------------------------------------

SMALL_ARRAY = 4  # arrays of at most this many elements are written out in a label


def shape_of(node: ad.Node) -> tuple[int, ...]:
    """The node's shape, () for a scalar (and for engines without shapes)."""
    return tuple(getattr(node, "shape", ()) or ())


def shape_text(shape: tuple[int, ...]) -> str:
    """`2×3` as the lessons write it; `scalar` for ()."""
    return "\u00d7".join(map(str, shape)) if shape else "scalar"


def is_tensor(program: ad.Program) -> bool:
    return any(shape_of(node) for node in program.nodes)


def summary(x: Any) -> str:
    """A number, a small array written out (`[1, -0.5]`), or a larger one's shape and norm."""
    array = np.asarray(x, dtype=float)
    if array.ndim == 0:
        return number(float(array))
    if array.size <= SMALL_ARRAY:
        return _nested(array)
    return f"{shape_text(array.shape)}, \u2016\u00b7\u2016 = {number(float(np.linalg.norm(array)))}"


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return number(float(array))
    return "[" + ", ".join(_nested(part) for part in array) + "]"


# --- DOT -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text safe inside a DOT double-quoted string. Backslashes are doubled, so graphviz's
    own escapes (\\N, \\G, \\l...) cannot be smuggled in; quotes and line breaks cannot end
    the string."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\r", " ").replace("\n", " ")


def quote(text: str) -> str:
    return f'"{escape(text)}"'


def label_lines(*lines: str) -> str:
    """Several escaped lines joined with DOT's centred line break."""
    return '"' + "\\n".join(escape(line) for line in lines) + '"'


def number(x: float) -> str:
    if not np.isfinite(x):
        return "undefined"
    return format_number(x) if x == int(x) else f"{x:.4g}"


def layout_size(program: ad.Program) -> int:
    """About how many points graphviz must place: nodes plus one per rank an edge crosses.

    dot's cost grows much faster than linearly in this number (its x-placement solves a
    network simplex over all of them), and an input used at every step of a long chain makes
    it grow with the square of the chain: 150 nodes can mean 2,500 points and 2 s of `dot`.
    Ranks here are longest-path ranks with inputs pinned left, as drawn; a constant sits
    next to its one use.
    """
    rank = [0] * len(program.nodes)
    crossings = 0
    for node in program.nodes:
        if node.args:
            rank[node.id] = 1 + max(rank[a] if program.nodes[a].op != CONST else 0
                                    for a in node.args)
            for a in node.args:
                if program.nodes[a].op != CONST:
                    crossings += max(0, rank[node.id] - rank[a] - 1)
    return len(program.nodes) + crossings


def drawing_problem(program: ad.Program, max_nodes: int, max_layout: int) -> str | None:
    """Why this program is too big to draw (and which setting says so), or None."""
    if len(program.nodes) > max_nodes:
        return (f"the graph has {len(program.nodes)} nodes; graphs of up to {max_nodes} nodes "
                "are drawn (max_render_nodes)")
    size = layout_size(program)
    if size > max_layout:
        return (f"the graph is too tangled to draw quickly: its edges cross {size} ranks in "
                f"all (inputs used far from where they enter); the limit is {max_layout} "
                "(max_render_layout)")
    return None


def drawing_limit(problem: str) -> str:
    """The setting a `drawing_problem` names."""
    return "max_render_nodes" if "(max_render_nodes)" in problem else "max_render_layout"


def statements(program: ad.Program) -> dict[int, list[int]]:
    """Each statement's named node id -> the ids of its nodes, in order (the named one last).

    A statement is a named node and the unnamed nodes written for it since the previous named
    node (its constants and intermediate operations); inputs belong to none. The playground's
    timeline.js groups nodes by the same rule, to step by statement.
    """
    groups: dict[int, list[int]] = {}
    pending: list[int] = []
    for node in program.nodes:
        if node.op == INPUT:
            continue
        pending.append(node.id)
        if node.name is not None:
            groups[node.id] = pending
            pending = []
    return groups


def to_dot(program: ad.Program, annotations: Annotations | None = None,
           room_for_labels: bool = False, clusters: bool = False,
           collapsed: frozenset[int] = frozenset()) -> str:
    """DOT source: inputs on the left, outputs on the right, one element id per node/edge.

    `room_for_labels`: each edge carries an invisible label of `EDGE_LABEL_ROOM`'s size, so
    dot lays the graph out around it; the page writes its own edge label at that spot. Dot
    gives labelled edges a rank of their own, so the ranks can then sit closer together.

    `clusters`: each statement of two or more nodes is drawn in an untitled frame (SVG group
    id `cluster_v{named node}`, class `cluster`). `collapsed`: named node ids of statements drawn
    as that one node (class `collapsed`); the edges from outside into the statement then end
    at it, keeping their ids, and the statement's inner edges are not drawn.

    Tensor programs: a tensor node's label ends with its shape (`2×3`), an edge carrying a
    tensor is labelled with its shape (class `tensor`), and a `broadcast` node is a dashed
    hexagon (class `op-broadcast`): its reverse step is where broadcasting's adjoint sums.
    """
    # room around each node for the playground's value and derivative labels (above, below)
    ranksep = 0.3 if room_for_labels else 0.85
    edge = "arrowsize=0.7"
    if room_for_labels:
        edge += (f", label={quote(EDGE_LABEL_ROOM)}, fontsize={EDGE_LABEL_FONTSIZE}, "
                 f'fontname={quote(FONT)}, fontcolor="transparent"')
    out = ["digraph program {",
           f'  graph [rankdir=LR, bgcolor="transparent", nodesep=0.55, ranksep={ranksep}, '
           f'fontname={quote(FONT)}];',
           f"  node [fontname={quote(FONT)}, fontsize=12];",
           f"  edge [{edge}];"]
    output_ids = set(program.outputs.values())
    groups = statements(program) if clusters or collapsed else {}
    shown_as = {member: named for named, members in groups.items() if named in collapsed
                for member in members}  # a collapsed statement's nodes -> its named node
    framed = {member: named for named, members in groups.items()
              if clusters and named not in collapsed and len(members) > 1 for member in members}
    frames: dict[int, list[str]] = {}
    for node in program.nodes:
        if shown_as.get(node.id, node.id) != node.id:
            continue  # inside a collapsed statement
        attributes = _node_attributes(program, node, output_ids, annotations,
                                      collapsed=node.id in shown_as)
        line = f"v{node.id} [{attributes}];"
        if node.id in framed:
            frames.setdefault(framed[node.id], []).append(line)
        else:
            out.append(f"  {line}")
    for named, lines in frames.items():
        # no title: the statement's named node shows its name, and a title would sit where the
        # page writes value labels
        out.append(f"  subgraph {quote(f'cluster_v{named}')} {{")
        out.append(f'    id={quote(f"cluster_v{named}")}; label=""; style="rounded,dashed"; '
                   'color="#b8c0cf"; margin=6;')
        out += [f"    {line}" for line in lines]
        out.append("  }")
    tensor = is_tensor(program)
    for src, dst, position in program.edges():
        tail, head = shown_as.get(src, src), shown_as.get(dst, dst)
        if tail == head:
            continue  # inside a collapsed statement
        eid = edge_id(src, dst, position)
        classes = f"arg-{position}"
        # a constant's edge carries no derivative, so it needs no room for a label
        room = room_for_labels and program.nodes[src].op != CONST
        label = ', label=""' if room_for_labels and not room else ""
        shape = shape_of(program.nodes[src])
        if tensor and shape:  # the shape flowing along the edge, under the page's label
            classes += " tensor"
            label = (f", label={_edge_shape_label(shape, room)}, fontname={quote(FONT)}, "
                     f"fontsize={EDGE_LABEL_FONTSIZE}")
        out.append(f"  v{tail} -> v{head} [id={quote(eid)}, class={quote(classes)}{label}];")
    inputs = [f"v{i}" for i in program.inputs.values()]
    if inputs:
        out.append(f"  {{ rank=source; {'; '.join(inputs)}; }}")
    sinks = [f"v{i}" for i in sorted(output_ids) if program.nodes[i].op != INPUT]
    if sinks:
        out.append(f"  {{ rank=sink; {'; '.join(sinks)}; }}")
    out.append("}")
    return "\n".join(out) + "\n"


def _edge_shape_label(shape: tuple[int, ...], room: bool) -> str:
    """An edge's shape, as an HTML-like label; with `room`, under a transparent line that
    keeps the page's label spot free (graph.js writes there and leaves the shape in view)."""
    text = f'<font color="#475467" point-size="10">{shape_text(shape)}</font>'
    if room:
        text = f'<font color="transparent">{EDGE_LABEL_ROOM}</font><br/>' + text
    return f"<{text}>"


def statement_text(program: ad.Program, node_id: int, width: int = 28) -> str:
    """What a statement computes, as typed (`tanh(w11*x1 + w12*x2 + b1)`), cut to `width`."""
    node = program.nodes[node_id]
    text = program.expression(node_id)
    if program.source and node.line:
        for part in program.source.split("\n")[node.line - 1].split(";"):
            target, equals, value = part.partition("=")
            if equals and target.strip() == node.name:
                text = value.strip()
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def _node_attributes(program: ad.Program, node: ad.Node, output_ids: set[int],
                     annotations: Annotations | None, collapsed: bool = False) -> str:
    classes = []
    attributes: dict[str, str] = {"id": quote(node.ref)}
    if collapsed:  # a whole statement as one box: its name and what it computes
        classes += ["op", "collapsed"]
        lines = [program.label(node.id), statement_text(program, node.id)]
        attributes.update(shape="box", style='"rounded,filled"', fillcolor='"#f4f6fb"')
    elif node.op == INPUT:
        classes.append("input")
        lines = [program.label(node.id)]
        attributes.update(shape="box", style="rounded")
    elif node.op == CONST:
        classes.append("const")
        lines = [summary(node.value if node.value is not None else 0.0)]
        if node.name is not None:
            lines.append(program.label(node.id))
        attributes.update(shape="plaintext", fontsize="10", margin="0.02")
    elif node.op == "broadcast":
        # drawn apart: its reverse step is where broadcasting's adjoint sum happens
        classes += ["op", "op-broadcast"]
        source = shape_of(program.nodes[node.args[0]])
        lines = ["broadcast", f"{shape_text(source)} \u2192 {shape_text(shape_of(node))}"]
        attributes.update(shape="hexagon", style='"dashed,filled"', fillcolor='"#fff4dc"',
                          margin="0.02")
    else:
        classes += ["op", f"op-{node.op}"]
        lines = [ad.OPS[node.op].symbol]
        if node.name is not None:
            lines.append(program.label(node.id))
        attributes.update(shape="ellipse", margin="0.04")
    shape = shape_of(node)
    if shape and node.op != "broadcast":
        classes.append("tensor")
        lines.append(shape_text(shape))
    if node.name is not None:
        classes.append("named")
    if node.id in output_ids:
        classes.append("output")
        attributes["peripheries"] = "2"
    if annotations is not None and node.op != CONST:
        value = annotations.values.get(node.ref)
        if value is not None:
            lines.append(f"= {summary(value)}")
        if annotations.derivatives is not None and node.ref in annotations.derivatives:
            lines.append(f"{annotations.derivative_symbol} = "
                         f"{summary(annotations.derivatives[node.ref])}")
    attributes["class"] = quote(" ".join(classes))
    attributes["label"] = label_lines(*lines)
    return ", ".join(f"{k}={v}" for k, v in attributes.items())


def annotations_at(program: ad.Program, at: Mapping[str, Any], mode: str | None) -> Annotations:
    """Each node's value at the point, and its tangent (forward, seeded by the first input)
    or adjoint (reverse, from the first output) when a mode is given."""
    if mode == "forward" and program.inputs:
        result = ad.forward(program, at, seed=next(iter(program.inputs)))
        key, symbol = "tangent", TANGENT
    else:
        result = ad.reverse(program, at, cotangent=next(iter(program.outputs)))
        key, symbol = "adjoint", ADJOINT
    values = {step.node: step.value for step in result.primal}
    derivatives = None
    if mode is not None and result.passes:
        derivatives = {step.node: getattr(step, key) for step in result.passes[0].steps}
    return Annotations(values, derivatives, symbol)


# --- running dot -----------------------------------------------------------------------------

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)


def clean_svg(svg: str) -> str:
    """Only the <svg> element: no XML prolog, doctype or comments, so a page can insert it."""
    svg = _PROLOG.sub("", svg)
    return "\n".join(line for line in svg.splitlines() if line.strip()) + "\n"


# At most this many `dot` runs at once: a semaphore shared by the app's worker processes (set
# by `share_drawing_slots` when a worker starts), or this process's own.
_drawing_slots: Any = threading.BoundedSemaphore(2)
PNG_DPI = 96


def share_drawing_slots(slots: Any) -> None:
    """Use `slots` (a multiprocessing semaphore) to bound the `dot` runs of all workers."""
    global _drawing_slots
    _drawing_slots = slots


def warm_up() -> None:
    """Start a long-lived `dot` ahead of the first drawing (a job worker does, as it starts)."""
    _POOL.warm()


def run_dot(dot: str, fmt: str, timeout: float, max_png_pixels: int = 2_400) -> bytes:
    """Lay out and draw with the `dot` binary; killed (RenderError) past `timeout` seconds.

    Waits for a drawing slot first (at most `timeout`). SVG goes to a long-lived `dot` (see
    `DotProcess`): most of a one-shot `dot`'s time is its start-up, not the drawing. PNG runs
    a one-shot `dot` on a capped canvas: graphviz scales a drawing whose longer side would
    pass `max_png_pixels` down to it, so the bitmap's size is bounded whatever the graph.
    """
    deadline = time.monotonic() + timeout
    if not _drawing_slots.acquire(timeout=timeout):
        raise RenderError(f"no drawing slot came free within {timeout} s: the server is "
                          "drawing other graphs (max_concurrent_drawings); try again",
                          "max_concurrent_drawings")
    try:
        left = max(deadline - time.monotonic(), 0.1)
        if fmt == "svg":
            return clean_svg(_POOL.draw(dot, left).decode()).encode()
        inches = max_png_pixels / PNG_DPI
        return _dot_once(dot, [f"-T{fmt}", f"-Gdpi={PNG_DPI}", f"-Gsize={inches:.2f},{inches:.2f}"],
                         left, timeout)
    finally:
        _drawing_slots.release()


def _dot_once(dot: str, options: list[str], left: float, timeout: float) -> bytes:
    try:
        done = subprocess.run(["dot", *options], input=dot.encode(), capture_output=True,
                              timeout=left, check=False)
    except subprocess.TimeoutExpired:
        raise _too_slow(timeout) from None
    except OSError as exc:
        raise RenderError(f"graphviz could not be run: {exc.strerror}") from None
    if done.returncode != 0:
        raise RenderError("graphviz could not draw this graph: "
                          + done.stderr.decode(errors="replace").strip()[:200])
    return done.stdout


def _too_slow(timeout: float) -> RenderError:
    return RenderError(f"graphviz took longer than {timeout} s to draw this graph "
                       "(dot_timeout_seconds); try a smaller program", "dot_timeout_seconds")


class DotProcess:
    """One `dot -Tsvg` that reads graph after graph from its stdin and writes one SVG each.

    An answer ends at the line `</svg>`. Past the time limit the process is killed (a new
    one starts on the next request); after `MAX_GRAPHS` drawings it is retired anyway.
    """

    MAX_GRAPHS = 200

    def __init__(self) -> None:
        self.process = subprocess.Popen(["dot", "-Tsvg"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.drawn = 0

    def draw(self, dot: str, timeout: float) -> bytes:
        assert self.process.stdin is not None and self.process.stdout is not None
        deadline = time.monotonic() + timeout
        # The newline matters: dot's parser needs a token after the closing brace.
        self.process.stdin.write(dot.encode() + b"\n")
        self.process.stdin.flush()
        out = self.process.stdout.fileno()
        chunks: list[bytes] = []
        tail = b""
        while not tail.endswith(b"</svg>\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise _too_slow(timeout)
            chunk = os.read(out, 65536)
            if not chunk:
                raise RenderError("graphviz stopped while drawing this graph")
            chunks.append(chunk)
            tail = (tail + chunk)[-16:]
        self.drawn += 1
        return b"".join(chunks)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class DotPool:
    """Idle `DotProcess`es, at most `idle` kept; each drawing borrows one for itself."""

    def __init__(self, idle: int = 4):
        self.idle = idle
        self._free: list[DotProcess] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start one `dot` now, so the first drawing does not wait for its start-up."""
        try:
            worker = DotProcess()
        except OSError:
            return  # the first drawing will say why
        with self._lock:
            self._free.append(worker)

    def draw(self, dot: str, timeout: float) -> bytes:
        with self._lock:
            worker = self._free.pop() if self._free else None
        try:
            worker = worker or DotProcess()
        except OSError as exc:
            raise RenderError(f"graphviz could not be run: {exc.strerror}") from None
        try:
            svg = worker.draw(dot, timeout)
        except BaseException:
            worker.close()  # killed mid-drawing or broken: never reused
            self.warm()  # a fresh one starts now, ready before the next drawing comes
            raise
        with self._lock:
            if worker.drawn < DotProcess.MAX_GRAPHS and len(self._free) < self.idle:
                self._free.append(worker)
                worker = None
        if worker is not None:
            worker.close()
        return svg


_POOL = DotPool()
