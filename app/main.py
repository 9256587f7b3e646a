"""The FastAPI application: middleware, static files, the self-hosted /docs page, routers.

`create_app(settings)` builds a fresh app (tests pass their own settings); `app` is the one
`python -m app` and uvicorn serve.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import classroom
from app.db import Database, database_url
from app.middleware import BodySizeLimit, SecurityHeaders
from app.routes import (
    classes,
    classroom_pages,
    derivative,
    differentiate,
    health,
    hessian,
    jacobian,
    lessons,
    numeric,
    pages,
    quiz,
    render,
    symbolic,
)
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
NODE_MODULES = ROOT / "node_modules"

DESCRIPTION = """Differentiate small programs forward and backward, step by step, and draw
their computation graphs. Every limit is a server setting; bad input gets a 422 that says
what and where (line and column, or the graph node)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with the given settings (the environment's by default)."""
    settings = settings or get_settings()
    database = Database(database_url(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the classroom's schema is migrated when the server starts (once: a lock serializes
        # workers and replicas), and classes past their retention period are deleted
        await anyio.to_thread.run_sync(database.migrate)
        await anyio.to_thread.run_sync(classroom.purge, database)
        yield
        database.dispose()

    app = FastAPI(title="Autodiff Lab", version="1.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.jobs = anyio.CapacityLimiter(settings.max_concurrent_jobs)

    # The last added is outermost: headers go on every answer, the 413 included; the size
    # limit runs before anything reads the body.
    app.add_middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # A body that is not even JSON text (bad UTF-8) gets FastAPI's 422 shape too.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            detail = [{"loc": ["body"], "type": "json_invalid",
                       "msg": "The request body is not valid JSON text (UTF-8)."}]
            return JSONResponse({"detail": detail}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A safety net only: every expected failure is a 422 raised on purpose.
        detail = [{"loc": ["server"], "type": "internal_error",
                   "msg": "The server failed on this request; please report it."}]
        return JSONResponse({"detail": detail}, status_code=500)

    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _mount_vendor(app)
    _add_docs(app)

    app.include_router(health.router)
    for resource in (differentiate, hessian, jacobian, derivative, symbolic, numeric, render,
                     quiz, classes):
        app.include_router(resource.router)
    app.include_router(classroom_pages.router)
    app.include_router(lessons.router)  # before pages: it serves / (the lesson index)
    app.include_router(pages.router)
    return app


def _mount_vendor(app: FastAPI) -> None:
    """Serve each browser library pinned in package.json at /vendor/<name>/ (no CDN)."""
    package = json.loads((ROOT / "package.json").read_text())
    for name in package.get("dependencies", {}):
        folder = NODE_MODULES / name
        if folder.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Autodiff Lab REST API</title>
<link rel="stylesheet" href="/vendor/swagger-ui-dist/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi-url="/openapi.json"></main>
<script src="/vendor/swagger-ui-dist/swagger-ui-bundle.js"></script>
<script src="/static/docs/swagger-init.js"></script>
</body>
</html>
"""


def _add_docs(app: FastAPI) -> None:
    """/docs: Swagger UI served by the app itself, started by an external script (CSP)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)


app = create_app()
