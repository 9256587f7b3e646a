"""`python -m app`: serve Autodiff Lab with uvicorn (AUTODIFF_HOST, AUTODIFF_PORT,
AUTODIFF_WORKERS)."""

from __future__ import annotations

import uvicorn

from app.settings import get_settings


def main() -> None:
    settings = get_settings()
    print(f"Autodiff Lab: http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run("app.main:app", host=settings.host, port=settings.port,
                workers=settings.workers, proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()
