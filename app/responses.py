"""JSON answers by orjson: the engine's dataclasses and numpy arrays serialize directly, and a
non-finite number becomes null, so NaN never reaches a client as invalid JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi.responses import JSONResponse

from autodiff_core.results import jsonable


class FastJSONResponse(JSONResponse):
    """JSON by orjson: the engine's dataclasses and numpy arrays serialize directly (no
    to_dict pass), and a non-finite number becomes null, so NaN never reaches the client."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):  # made by `to_json` already
            return content
        return to_json(content)


def to_json(data: Any) -> bytes:
    """JSON bytes of results, dataclasses, dicts and numpy arrays (non-finite -> null)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:  # integers beyond 64 bits (symbolic sizes): the slower, general path
        return json.dumps(jsonable(data), allow_nan=False, separators=(",", ":")).encode()


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer; `data` may hold the engine's dataclasses and numpy arrays, or be bytes
    already made by `to_json` (in the worker thread, off the event loop)."""
    return FastJSONResponse(data, status_code=status_code)
