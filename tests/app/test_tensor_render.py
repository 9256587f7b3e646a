"""Drawing tensor programs: shapes on nodes and edges, broadcast nodes apart, the scalar graph.

Through the real `dot` binary and the real app (TestClient), as tests/app/test_render.py.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

import autodiff_core as ad
from app.rendering import Annotations, summary, to_dot
from tests.app.conftest import SEED

SVG = "{http://www.w3.org/2000/svg}"
LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"
BROADCAST = "A: [4, 2]\nb: [2]\ny = sum(A * b)"
LAYER_AT = {"W": [[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]], "x": [1, -1, 0.5], "b": [0.1, -0.2]}


def render(client: TestClient, **body: object) -> str:
    r = client.post("/api/v1/render", json=body)
    assert r.status_code == 200, r.text
    return r.content.decode()


def groups(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g")}


def texts(group: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]


def test_nodes_and_edges_show_their_shapes() -> None:
    program = ad.parse(LAYER)
    dot = to_dot(program)
    w, matmul = program.inputs["W"], next(n.id for n in program.nodes if n.op == "matmul")
    assert re.search(rf'v{w} \[id="v{w}",.*label="W\\n2×3"', dot)
    assert re.search(rf'v{matmul} \[.*class="op op-matmul tensor".*label="@\\n2"', dot)
    y = program.outputs["y"]
    assert re.search(rf'v{y} \[.*label="Σ\\ny"|v{y} \[.*label="sum\\ny"', dot), dot
    # the edge from W carries 2×3; the scalar edge out of... nothing scalar flows in here
    assert re.search(rf'v{w} -> v{matmul} \[id="v{w}_v{matmul}_0", class="arg-0 tensor", '
                     r'label=<<font color="#475467" point-size="10">2×3</font>>', dot)


def test_a_scalar_program_is_drawn_as_before() -> None:
    dot = to_dot(ad.parse(SEED), room_for_labels=True, clusters=True)
    assert " tensor" not in dot and "scalar" not in dot
    assert "<font" not in dot and "hexagon" not in dot
    assert 'label="×\\nx"' in dot
    assert 'v0 [id="v0", shape=box, style=rounded, class="input named", label="w"]' in dot


def test_broadcast_nodes_are_drawn_apart(client: TestClient) -> None:
    program = ad.parse(BROADCAST)
    broadcast = [n for n in program.nodes if n.op == "broadcast"]
    assert broadcast, "b (2) is broadcast to A's 4×2 by a node of its own"
    svg = render(client, source=BROADCAST, labels=True, clusters=True)
    found = groups(svg)
    node = found[broadcast[0].ref]
    assert "op-broadcast" in node.get("class", "")
    assert texts(node) == ["broadcast", "2 → 4×2"]
    assert node.find(f"{SVG}polygon") is not None  # a hexagon, not an ellipse
    assert node.find(f"{SVG}ellipse") is None


def test_svg_edges_carry_the_shape_under_the_pages_label_spot(client: TestClient) -> None:
    svg = render(client, source=LAYER, labels=True, clusters=True)
    program = ad.parse(LAYER)
    found = groups(svg)
    w = program.inputs["W"]
    edge = next(g for gid, g in found.items() if gid.startswith(f"v{w}_"))
    assert "tensor" in edge.get("class", "")
    lines = list(edge.iter(f"{SVG}text"))
    # the placeholder (transparent, replaced by the page) and the visible shape
    assert len(lines) == 2 and lines[-1].get("fill") == "#475467"
    assert "".join(lines[-1].itertext()) == "2×3"
    assert texts(found[f"v{w}"]) == ["W", "2×3"]


def test_values_of_tensor_nodes_are_summarised(client: TestClient) -> None:
    dot = render(client, source=LAYER, format="dot", values=True, at=LAYER_AT, mode="reverse")
    assert "= [1, -1, 0.5]" in dot  # x: three numbers, written out
    assert re.search(r"= 2×3, ‖·‖ = [\d.]+", dot)  # W: its shape and norm
    assert summary([[1.0, 2.0], [3.0, 4.0]]) == "[[1, 2], [3, 4]]"
    assert summary(2.5) == "2.5"
    assert to_dot(ad.parse("a: [5]\ny = sum(a)"),
                  Annotations({"v0": [0.0] * 5})).count("= 5, ‖·‖ = 0") == 1


def test_expand_draws_the_scalar_graph(client: TestClient) -> None:
    svg = render(client, source="A: [2, 2]\nB: [2, 2]\nC = A @ B", expand=True, clusters=True)
    root = ET.fromstring(svg)
    nodes = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    titles = {texts(g)[0] for g in nodes}
    assert {"A[0,0]", "A[1,1]", "B[0,1]"} <= titles
    classes = [g.get("class", "") for g in nodes]
    assert sum("op-mul" in c for c in classes) == 8 and sum("op-add" in c for c in classes) == 4
    assert not any("tensor" in c for c in classes)


def test_expand_with_values_shows_each_elements_adjoint(client: TestClient) -> None:
    dot = render(client, source=LAYER, expand=True, format="dot", values=True, at=LAYER_AT,
                 mode="reverse")
    gradient = ad.reverse(ad.parse(LAYER), LAYER_AT).derivatives["y"]["W"]
    label = re.search(r'label="W\[0,1\]\\n= -0.3\\nv̄ = ([-\d.e]+)"', dot)
    assert label and float(label.group(1)) == float(f"{gradient[0][1]:.4g}")


def test_expand_refuses_a_big_program_and_a_bad_point(client: TestClient) -> None:
    r = client.post("/api/v1/render", json={
        "source": "A: [20, 20]\nB: [20, 20]\ny = sum(A @ B)", "expand": True})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["ctx"]["limit"] == "max_scalar_nodes" and "scalar graph" in detail["msg"]
    r = client.post("/api/v1/render", json={
        "source": LAYER, "expand": True, "values": True,
        "at": {**LAYER_AT, "W": [[1, 2], [3, 4], [5, 6]]}})
    assert r.status_code == 422 and "W" in r.json()["detail"][0]["msg"]
    assert client.get("/healthz").status_code == 200
