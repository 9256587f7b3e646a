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
    # tensors (issue 13): small enough to draw, trace and expand into scalars
    {"title": "A layer: y = sum(tanh(W @ x + b))",
     "source": "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))",
     "at": "W=[[0.5,-0.3,0.8],[0.2,0.7,-0.6]],x=[1,-1,0.5],b=[0.1,-0.2]", "mode": "reverse"},
    {"title": "A small network: 2-3-2 MLP, softmax cross-entropy",
     "source": "X: [4, 2]\nY: [4, 2]\nW1: [2, 3]\nb1: [3]\nW2: [3, 2]\nb2: [2]\n"
               "h = relu(X @ W1 + b1)\nlogits = h @ W2 + b2\n"
               "loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))",
     "at": "X=[[0.5,1.2],[-1,0.3],[1.5,-0.7],[-0.4,-1.1]],Y=[[1,0],[0,1],[1,0],[0,1]],"
           "W1=[[0.4,-0.6,0.9],[-0.3,0.8,0.5]],b1=[0.1,0.05,-0.1],"
           "W2=[[0.7,-0.5],[-0.4,0.6],[0.3,0.2]],b2=[0,0.1]", "mode": "reverse"},
]


@router.get("/playground", response_class=HTMLResponse)
def playground(request: Request) -> HTMLResponse:
    """The explorer: type a program, watch its values and derivatives flow through the graph."""
    return templates.TemplateResponse(request, "playground.html",
                                      {"active": "playground", "examples": EXAMPLES})
