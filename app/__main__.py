"""`python -m app`: serve Autodiff Lab with uvicorn (AUTODIFF_HOST, AUTODIFF_PORT,
AUTODIFF_WORKERS); the installed command is `autodiff-lab serve` (see cli.py)."""

from __future__ import annotations

from .cli import serve

if __name__ == "__main__":
    serve()
