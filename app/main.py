"""The FastAPI application: middleware, static files, the self-hosted /docs page, routers.

`create_app(settings)` builds a fresh app (tests pass their own settings); `app` is the one
`python -m app` and uvicorn serve.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from . import classroom, jobs
from .assets import static_dir, vendor_dir
from .db import Database, database_url
from .jobs import JobPool
from .middleware import SECURITY_HEADERS, BodySizeLimit, SecurityHeaders, StrictJSON
from .responses import json_response
from .routes import (
    classes,
    classroom_pages,
    derivative,
    descent,
    differentiate,
    export,
    health,
    hessian,
    jacobian,
    lessons,
    numeric,
    pages,
    quiz,
    render,
    symbolic,
    tensor_quiz,
    train,
)
from .settings import Settings, get_settings
from .vendor import VendorFiles

DESCRIPTION = """Differentiate small programs forward and backward, step by step, and draw
their computation graphs. Every limit is a server setting; bad input gets a 422 that says
what and where (line and column, or the graph node)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with the given settings (the environment's by default)."""
    settings = settings or get_settings()
    database = Database(database_url(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the classroom's schema is migrated when the server starts (once: a lock serializes
        # workers and replicas), and classes past their retention period are deleted
        await anyio.to_thread.run_sync(database.migrate)
        await anyio.to_thread.run_sync(classroom.purge, database)
        try:
            async with jobs.lifespan(app):
                yield
        finally:
            database.dispose()

    # redirect_slashes is off: Starlette builds that redirect from the Host header, so a forged
    # Host would send the learner elsewhere. `_slash_redirect` below redirects by path only.
    app = FastAPI(title="Autodiff Lab", version="1.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, redirect_slashes=False, lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.jobs = JobPool(settings)

    # The last added is outermost: headers go on every answer, the 413 included; the size
    # limit runs before anything reads the body, the strict JSON check before FastAPI parses it.
    app.add_middleware(StrictJSON)
    app.add_middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # A body that is not even JSON text (bad UTF-8) gets FastAPI's 422 shape too.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            detail = [{"loc": ["body"], "type": "json_invalid",
                       "msg": "The request body is not valid JSON text (UTF-8)."}]
            return JSONResponse({"detail": detail}, status_code=422)
        if exc.status_code == 404:
            redirect = _slash_redirect(app, request)
            if redirect is not None:
                return redirect
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own shape. A body that is not UTF-8 text (sent as text/plain, say) is echoed
        # with replacement characters, where FastAPI's handler would fail with a 500; orjson
        # writes a non-finite number as null.
        detail = jsonable_encoder(exc.errors(), custom_encoder={
            bytes: lambda raw: raw.decode("utf-8", "replace")})
        return json_response({"detail": detail}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A safety net only: every expected failure is a 422 raised on purpose.
        detail = [{"loc": ["server"], "type": "internal_error",
                   "msg": "The server failed on this request; please report it."}]
        # Starlette answers this from its outermost layer, outside SecurityHeaders: the headers
        # are added here so that a 500 carries them too.
        return JSONResponse({"detail": detail}, status_code=500, headers=ERROR_HEADERS)

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    _mount_vendor(app)
    _add_docs(app)

    app.include_router(health.router)
    for resource in (differentiate, hessian, jacobian, derivative, symbolic, numeric, render,
                     quiz, tensor_quiz, descent, train, export, classes):
        app.include_router(resource.router)
    app.include_router(classroom_pages.router)
    app.include_router(lessons.router)  # before pages: it serves / (the lesson index)
    app.include_router(pages.router)
    return app


ERROR_HEADERS = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}


def _slash_redirect(app: FastAPI, request: Request) -> RedirectResponse | None:
    """`/playground/` -> `/playground` when that is a page: a Location of path and query only,
    never a host (so neither a forged Host header nor `//host/` can point it elsewhere)."""
    path: str = request.scope["path"]  # as sent (request.url is rebuilt with the Host header)
    if request.method not in ("GET", "HEAD") or path == "/" or not path.endswith("/"):
        return None
    target = "/" + path.strip("/")
    scope = {**request.scope, "path": target}
    if not any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
        return None
    location = quote(target)
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        location += "?" + query
    return RedirectResponse(location, status_code=307)


def _mount_vendor(app: FastAPI) -> None:
    """Serve the browser libraries' files the pages use at /vendor/ (no CDN; app/vendor.py)."""
    folder = vendor_dir()
    if folder.is_dir():
        app.mount("/vendor", VendorFiles(directory=folder), name="vendor")


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
