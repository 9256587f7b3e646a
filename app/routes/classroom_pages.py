"""The classroom's pages: `/teach` (make a class), `/teach/<code>` (the teacher's live
dashboard), `/join` (a student joins with the code and a nickname), and the join code's QR
code as SVG, drawn on the server by segno (no browser library, no network).

The pages hold no data themselves: their ES modules (static/js/classroom/) call
/api/v1/classes with the key the browser holds, so a page's HTML never contains a key.
"""

from __future__ import annotations

import io
import re

import segno
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from .. import classroom
from ..assets import templates_dir
from ..classroom import CODE_ALPHABET, CODE_LENGTH

TEMPLATES = Jinja2Templates(directory=templates_dir())
CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
SLUG = re.compile(f"^[{CODE_ALPHABET.lower()}]{{{classroom.SLUG_LENGTH}}}$")

router = APIRouter(include_in_schema=False)


@router.get("/teach", response_class=HTMLResponse)
def teach(request: Request) -> HTMLResponse:
    """Make a class: its join code (large, with a QR code) and the teacher's link."""
    return TEMPLATES.TemplateResponse(request, "classroom/teach.html", {"active": "teach"})


@router.get("/teach/{code}", response_class=HTMLResponse)
def dashboard(code: str, request: Request) -> HTMLResponse:
    """The teacher's live view of one class (the key stays in the browser)."""
    code = code.upper()
    if not CODE.match(code):
        raise HTTPException(404, "not a class code")
    return TEMPLATES.TemplateResponse(request, "classroom/dashboard.html",
                                      {"active": "teach", "code": code})


@router.get("/join", response_class=HTMLResponse)
def join(request: Request, code: str = "") -> HTMLResponse:
    """Join a class: the code (filled in from a QR code's link) and a nickname."""
    code = code.upper() if CODE.match(code.upper()) else ""
    return TEMPLATES.TemplateResponse(request, "classroom/join.html",
                                      {"active": "join", "code": code})


@router.get("/join/qr.svg")
def join_qr(request: Request, code: str = Query(max_length=16)) -> Response:
    """The QR code of this server's join link for `code` (the address the teacher's browser
    used, so open /teach by the address students can reach)."""
    code = code.upper()
    if not CODE.match(code):
        raise HTTPException(404, "not a class code")
    return _qr(f"{str(request.base_url).rstrip('/')}/join?code={code}")


@router.get("/x/{slug}", response_class=HTMLResponse)
def exercise(slug: str, request: Request) -> HTMLResponse:
    """An exercise a teacher handed out (its short link); answers count for the student's
    class under the exercise's title."""
    found = classroom.exercise_by_slug(request.app.state.database, slug) \
        if SLUG.match(slug) else None
    if found is None:
        raise HTTPException(404, "no exercise has this link")
    return TEMPLATES.TemplateResponse(request, "classroom/exercise.html",
                                      {"active": "join", "exercise": found})


@router.get("/x/{slug}/qr.svg")
def exercise_qr(slug: str, request: Request) -> Response:
    """The QR code of an exercise's short link."""
    if not SLUG.match(slug):
        raise HTTPException(404, "not an exercise link")
    return _qr(f"{str(request.base_url).rstrip('/')}/x/{slug}")


def _qr(link: str) -> Response:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=10, border=2, xmldecl=False,
                                     title=f"QR code: {link}", dark="#000", light="#fff")
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=3600"})
