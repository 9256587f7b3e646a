"""The classroom database: one SQLAlchemy engine per app, its migrations, and transactions.

`AUTODIFF_DATABASE_URL` names it; by default an SQLite file `classroom.db` in
`AUTODIFF_DATA_DIR`, in WAL mode (readers never wait for the writer, and a committed answer
survives the process being killed). `postgresql+psycopg://...` lets several replicas share one
class. The schema is Alembic's (app/migrations/), brought to the newest version when the
server starts, once, under a lock, whichever worker or replica gets there first.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session

from .settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# any fixed number: the PostgreSQL advisory lock that lets one replica migrate at a time
MIGRATION_LOCK = 7_141_592


def database_url(settings: Settings) -> str:
    """The configured URL, or the SQLite file in the data directory (made when first used)."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(Path(settings.data_dir) / 'classroom.db').resolve()}"


class Database:
    """The engine (connections are opened lazily) and the schema's migration at first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.engine = create_engine(url, pool_size=8, max_overflow=16,
                                        connect_args={"timeout": 30})
            _tune_sqlite(self.engine)
        else:
            # a class answering at once needs many connections at a time: keep 16 open (an
            # overflow connection is closed when returned, and opening one forks a server
            # process), at most 24 per process (3 replicas stay under PostgreSQL's 100)
            self.engine = create_engine(url, pool_size=16, max_overflow=8, pool_pre_ping=True)
        self._ready = False
        self._lock = threading.Lock()
        # SQLite has one writer at a time; a writer that finds the file locked polls it with
        # sleeps of up to 100 ms. Queueing writers on a lock instead (a thread lock in this
        # process, flock across worker processes) hands the turn over the moment it is free.
        self._writer = threading.Lock()
        self._writer_file: int | None = None

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there already)."""
        with self._lock:
            if self._ready:
                return
            path = self.engine.url.database
            if self.sqlite and path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            with self._exclusive(), self.engine.begin() as connection:
                if not self.sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                       {"k": MIGRATION_LOCK})
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            self._ready = True

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """For an SQLite file, a lock file beside it: one process migrates at a time."""
        path = self.engine.url.database
        if not self.sqlite or not path or path == ":memory:":
            yield
            return
        with open(f"{path}.migrate-lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (SQLite: deferred, so it never waits for a writer)."""
        self.migrate()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that writes: committed when the block ends, rolled back on error.
        SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers queue instead of
        failing when both try to upgrade a read lock."""
        self.migrate()
        bind = self.engine.execution_options(classroom_write=True)
        with self._one_writer(), Session(bind, expire_on_commit=False) as session, \
                session.begin():
            yield session

    @contextmanager
    def reads(self) -> Iterator[Connection]:
        """A connection for reads that need no snapshot in common (a page polled every
        second): on PostgreSQL each runs in autocommit, without the round trips of a BEGIN
        and a COMMIT; SQLite reads in a deferred transaction, as read() does."""
        self.migrate()
        if self.sqlite:
            with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        with self._autocommit() as connection:
            yield connection

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for one statement that is its own transaction. PostgreSQL runs it in
        autocommit: one round trip, no BEGIN and COMMIT of their own (each costs a wake-up of
        this thread and of the server process, which add up on a busy machine). SQLite runs
        it as write() does (BEGIN IMMEDIATE, under the writers' lock)."""
        self.migrate()
        if self.sqlite:
            with self.write() as session:
                yield session.connection()
            return
        with self._autocommit() as connection:
            yield connection

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        """A PostgreSQL connection whose every statement is its own transaction."""
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        path = self.engine.url.database
        if not self.sqlite or not path or path == ":memory:":
            yield
            return
        with self._writer:
            if self._writer_file is None:
                self._writer_file = os.open(f"{path}.write-lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._writer_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._writer_file, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer_file is not None:
            os.close(self._writer_file)
            self._writer_file = None


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        # Python's sqlite3 would issue BEGIN itself; we issue it below, with the right kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a killed process (not a power cut mid-write)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("classroom_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
