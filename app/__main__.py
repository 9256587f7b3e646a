"""`python -m app`: serve Autodiff Lab with uvicorn (AUTODIFF_HOST, AUTODIFF_PORT,
AUTODIFF_WORKERS)."""

from __future__ import annotations

import uvicorn

from app.db import Database, database_url
from app.settings import get_settings


def main() -> None:
    settings = get_settings()
    # the classroom's schema, migrated once before the workers start (each checks it again)
    database = Database(database_url(settings))
    database.migrate()
    database.dispose()
    print(f"Autodiff Lab: http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run("app.main:app", host=settings.host, port=settings.port,
                workers=settings.workers, proxy_headers=False, server_header=False,
                # uvicorn's h11 protocol with a request deadline and a connection cap
                http="app.connections:GuardedH11Protocol",
                timeout_keep_alive=settings.timeout_keep_alive_seconds,
                # a request head (line and headers) may be at most 16 KiB (h11's default, said
                # out loud: a longer one is a 400)
                h11_max_incomplete_event_size=16_384)


if __name__ == "__main__":
    main()
