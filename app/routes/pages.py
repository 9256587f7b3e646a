"""HTML pages: the playground (the lesson index and lessons live in app/routes/lessons.py).

Pages are Jinja2 templates in the top-level `templates/` folder; each extends `base.html`
and loads its ES modules from `/static/js/` (the CSP allows no inline script or style).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..assets import templates_dir

templates = Jinja2Templates(directory=templates_dir())

router = APIRouter(include_in_schema=False)

# The playground's example menu: each opens as a link, so a teacher can hand it out.
# `outputs` (optional) names several outputs, as in the page's URL.
EXAMPLES: list[dict[str, str]] = [
    {"title": "Chain rule: y = 2(3w)² + 4", "source": "x = 3*w\ny = 2*x^2 + 4",
     "at": "w=1", "mode": "reverse"},
    {"title": "Fan-out: one value used twice", "source": "b = a + a\nc = b + b",
     "at": "a=2", "mode": "reverse"},
    {"title": "Two inputs: f = x·y + sin(x)", "source": "f = x*y + sin(x)",
     "at": "x=2,y=3", "mode": "forward"},
    {"title": "A neuron: tanh(w1·x1 + w2·x2 + b)",
     "source": "z = w1*x1 + w2*x2 + b\ny = tanh(z)",
     "at": "w1=0.5,x1=1,w2=-1,x2=2,b=0.3", "mode": "reverse"},
    {"title": "Squared error of a line fit", "source": "p = a*x + c\nloss = (p - t)^2",
     "at": "a=0.5,x=2,c=1,t=3", "mode": "reverse"},
    {"title": "Two outputs: polar to Cartesian (a Jacobian)",
     "source": "x = r*cos(t)\ny = r*sin(t)", "at": "r=2,t=0.5", "mode": "reverse",
     "outputs": "x,y"},
]


@router.get("/playground", response_class=HTMLResponse)
def playground(request: Request) -> HTMLResponse:
    """The explorer: type a program, watch its values and derivatives flow through the graph."""
    return templates.TemplateResponse(request, "playground.html",
                                      {"active": "playground", "examples": EXAMPLES})
