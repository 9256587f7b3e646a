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
                workers=settings.workers, proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()
