"""The baseline for benchmarks/api_bench.py: a bare FastAPI endpoint (no middleware, no work)
that reads the request body and answers a constant JSON read from $BARE_BODY_FILE."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request, Response

BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes()
MEDIA = os.environ.get("BARE_MEDIA_TYPE", "application/json")

app = FastAPI()


@app.post("/bare")
async def bare(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type=MEDIA)
