"""JSON answers by orjson: the engine's dataclasses and numpy arrays serialize directly, and a
non-finite number becomes null, so NaN never reaches a client as invalid JSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
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
        return orjson.dumps(data, default=_array, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:  # integers beyond 64 bits (symbolic sizes): the slower, general path
        return json.dumps(jsonable(data), allow_nan=False, separators=(",", ":")).encode()


def _array(value: Any) -> Any:
    """orjson writes C-contiguous arrays itself; a view of another layout (a transpose, a
    broadcast, a slice: a tensor trace is full of them) is made contiguous here, and a 0-d
    array (a scalar node's value) becomes its number, rather than sending the whole answer
    down the slow path below."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0 or value.dtype == object:  # a 0-d array is a number
            return value.tolist()
        return np.ascontiguousarray(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer; `data` may hold the engine's dataclasses and numpy arrays, or be bytes
    already made by `to_json` (in the worker thread, off the event loop)."""
    return FastJSONResponse(data, status_code=status_code)
