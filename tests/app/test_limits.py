"""Limits that count what is really computed (small settings, so each case is cheap): the
broadcast grid, the trace, the answer's bytes, the layout of every drawing, the PNG canvas,
the drawing slots, and which jobs run on the event loop."""

from __future__ import annotations

import struct
import threading

import pytest
from fastapi.testclient import TestClient

from app import rendering
from app.limits import TooBigForInline, check_point, inline_budget, parse_program
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import SEED
from tests.app.heavy_requests import SHORT_NAMES, SHORT_WIDE, ones


def limit_of(r: object) -> str:
    assert r.status_code == 422, r.text[:300]  # type: ignore[attr-defined]
    [entry] = r.json()["detail"]  # type: ignore[attr-defined]
    assert entry["ctx"]["limit"] in entry["msg"]
    return str(entry["ctx"]["limit"])


def client(**settings: object) -> TestClient:
    return TestClient(create_app(Settings(**settings)))  # type: ignore[arg-type]


def test_grid_points_are_the_broadcast_shape() -> None:
    http = client(max_grid_points=100)
    column = [[float(i)] for i in range(20)]
    row = [[float(i) for i in range(20)]]
    # each input alone has 20 points; together they make 20 x 20 = 400
    for path in ("/api/v1/differentiate", "/api/v1/hessian", "/api/v1/jacobian"):
        r = http.post(path, json={"source": "z = x*y", "at": {"x": column, "y": row}})
        assert limit_of(r) == "max_grid_points"
        assert "20 x 20 = 400" in r.json()["detail"][0]["msg"]
    r = http.post("/api/v1/differentiate", json={"source": "z = x*y",
                                                 "at": {"x": column, "y": column}})
    assert r.status_code == 200 and len(r.json()["values"]["z"]) == 20


def test_grids_that_do_not_broadcast_or_are_ragged_are_named() -> None:
    http = client()
    r = http.post("/api/v1/differentiate", json={"source": "z = x*y",
                                                 "at": {"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]}})
    assert r.status_code == 422 and "do not broadcast" in r.text and "x: [2]" in r.text
    r = http.post("/api/v1/differentiate", json={"source": "z = x*y",
                                                 "at": {"x": [[1.0, 2.0], [3.0]], "y": 1.0}})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "at", "x"] and "ragged" in r.text


def test_a_trace_too_big_is_refused_and_the_untraced_answer_given() -> None:
    http = client(max_trace_size=2_000)
    body = {"source": SHORT_WIDE, "at": ones(SHORT_NAMES), "mode": "forward"}
    r = http.post("/api/v1/differentiate", json=body)
    assert limit_of(r) == "max_trace_size" and r.json()["detail"][0]["loc"] == ["body", "trace"]
    r = http.post("/api/v1/differentiate", json={**body, "trace": False})
    assert r.status_code == 200 and r.json()["derivatives"]["y"]["a0"] == 1.0
    # one seeded pass is small enough
    r = http.post("/api/v1/differentiate", json={**body, "seed": "a0"})
    assert r.status_code == 200 and r.json()["passes"][0]["steps"]


def test_an_answer_too_large_is_refused() -> None:
    http = client(max_response_bytes=2_000)
    r = http.post("/api/v1/differentiate", json={"source": SEED, "at": {"w": 1.0}})
    assert limit_of(r) == "max_response_bytes"
    r = http.post("/api/v1/differentiate", json={"source": SEED, "at": {"w": 1.0},
                                                 "trace": False})
    assert r.status_code == 200


def test_the_inline_path_is_decided_by_counted_work_not_length() -> None:
    settings = Settings()
    with inline_budget(settings):
        program = parse_program(SEED, None, settings)
        check_point(program, {"w": 1.0}, settings, passes=1)  # tiny: stays inline
        # a 201-character program with 66 inputs: one forward pass each
        program = parse_program(SHORT_WIDE, None, settings)
        with pytest.raises(TooBigForInline):
            check_point(program, ones(SHORT_NAMES), settings, passes=len(SHORT_NAMES))
        with pytest.raises(TooBigForInline):  # a long program is not even parsed here
            parse_program("y = w" + " + w" * 200, None, settings)
    # outside the budget the same checks pass: the job runs in a worker
    program = parse_program(SHORT_WIDE, None, settings)
    check_point(program, ones(SHORT_NAMES), settings, passes=len(SHORT_NAMES))


def test_a_drawn_derivative_gets_the_layout_check() -> None:
    # 10 nodes (layout 46): drawn; its derivative, 26 nodes, would cost dot 154 (see
    # rendering.layout_size)
    http = client(max_render_layout=100)
    tangled = "b0 = w\n" + "\n".join(f"b{i} = b{i - 1} * w" for i in range(1, 10))
    assert http.post("/api/v1/render", json={"source": tangled}).status_code == 200
    r = http.post("/api/v1/derivative", json={"source": tangled, "wrt": "w", "svg": True})
    assert limit_of(r) == "max_render_layout"
    assert r.json()["detail"][0]["loc"] == ["body", "svg"]
    r = http.post("/api/v1/derivative", json={"source": tangled, "wrt": "w"})
    assert r.status_code == 200


def test_png_canvas_is_capped() -> None:
    chain = "b0 = w\n" + "\n".join(f"b{i} = sin(b{i - 1})" for i in range(1, 40))
    r = client(max_png_pixels=300).post("/api/v1/render",
                                        json={"source": chain, "format": "png"})
    assert r.status_code == 200
    width, height = struct.unpack(">II", r.content[16:24])
    assert max(width, height) <= 300 and width > 0


def test_dot_waits_for_a_drawing_slot_and_says_so() -> None:
    slots = threading.BoundedSemaphore(1)
    saved = rendering._drawing_slots
    rendering.share_drawing_slots(slots)
    try:
        assert slots.acquire()  # another drawing holds the only slot
        with pytest.raises(rendering.RenderError) as caught:
            rendering.run_dot("digraph { a -> b }", "svg", 0.2)
        assert caught.value.limit == "max_concurrent_drawings"
        slots.release()
        assert b"<svg" in rendering.run_dot("digraph { a -> b }", "svg", 5.0)
    finally:
        rendering.share_drawing_slots(saved)
