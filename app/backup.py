"""`python -m app.backup FILE`: a consistent copy of the classroom's SQLite database while the
server runs (SQLite's online backup: writers go on; the copy is one committed state). `-` for
FILE writes the copy to standard output, e.g. from a container:

    docker compose exec -T app python -m app.backup - > classroom-backup.db

Restore by stopping the server and putting the file back as `classroom.db` in
AUTODIFF_DATA_DIR. With PostgreSQL (AUTODIFF_DATABASE_URL) use pg_dump: docs/classroom.md.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from .db import database_url
from .settings import get_settings


def backup(target: Path) -> None:
    url = make_url(database_url(get_settings()))
    if not url.drivername.startswith("sqlite") or not url.database:
        raise SystemExit(f"{url.drivername} database: back it up with its own tool (pg_dump); "
                         "see docs/classroom.md")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    if argv[0] != "-":
        backup(Path(argv[0]))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "classroom.db"
        backup(path)
        with path.open("rb") as copy:
            shutil.copyfileobj(copy, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
