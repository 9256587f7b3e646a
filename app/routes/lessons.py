"""The course pages: `/` the lesson index, `/lessons/<slug>`, and `/quiz` (exercises on any
program; its JSON endpoints are in app/routes/quiz.py)."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .. import quiz
from ..assets import templates_dir
from ..lessons import BY_SLUG, LESSONS, neighbours

TEMPLATES = Jinja2Templates(directory=templates_dir())

router = APIRouter()

# --- pages -------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The course: every lesson in order."""
    return TEMPLATES.TemplateResponse(request, "index.html", {"lessons": LESSONS})


@router.get("/lessons/{slug}", response_class=HTMLResponse, include_in_schema=False)
def lesson(slug: str, request: Request) -> HTMLResponse:
    """One lesson, with links to the previous and the next."""
    found = BY_SLUG.get(slug)
    if found is None:
        raise HTTPException(404, f"no lesson {slug!r}; the lessons are at /")
    previous, following = neighbours(found)
    return TEMPLATES.TemplateResponse(request, found.template, {
        "lesson": found, "previous": previous, "next": following, "lessons": LESSONS})


@router.get("/quiz", response_class=HTMLResponse, include_in_schema=False)
def quiz_page(request: Request, source: str = "x = 3*w; y = 2*x^2 + 4", at: str = "w=1",
              mode: str = "reverse", wrt: str | None = None,
              outputs: str | None = None) -> HTMLResponse:
    """Exercises on any program: the playground's "quiz me on this graph" links here, with the
    playground's own state (`at` as "w=1,x=2", `outputs` as "x,y")."""
    point: dict[str, float] = {}
    for pair in at.split(","):
        name, _, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            continue  # a malformed pair is skipped, as the playground does
        # so is nan or inf: JSON has no such number, the page could not read its data-at
        if math.isfinite(number) and name.strip().isidentifier():
            point[name.strip()] = number
    if mode not in quiz.MODES:
        mode = "reverse"
    return TEMPLATES.TemplateResponse(request, "lessons/quiz.html", {
        "active": "playground", "source": source, "point": point, "at": at, "mode": mode,
        "wrt": wrt or "", "outputs": [n.strip() for n in (outputs or "").split(",") if n.strip()]})
