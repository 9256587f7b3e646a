"""The classroom's storage: the migrations make exactly the tables app/models.py describes
(on SQLite and PostgreSQL), and a server killed with SIGKILL mid-class loses no answer it
had acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.db import MIGRATIONS, Database
from app.models import Base
from tests.app.classroom.conftest import FANOUT, bearer
from tests.app.conftest import start_server

ROOT = Path(__file__).resolve().parents[3]


def test_migrations_make_the_models_tables(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert diff == []


def test_answers_kept_from_before_their_numbers_are_numbered_in_order(tmp_path: Path) -> None:
    """Migration 0004 numbers each student's answers in the order they were stored and sets
    the student's count, so the per-minute limit goes on from where it was."""
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(text(
            "INSERT INTO classes (id, code, name, teacher_key_hash, created_at, retention_days) "
            "VALUES (1, 'C', 'c', 'h', 0, 30)"))
        for student in (1, 2):
            connection.execute(text(
                "INSERT INTO students (id, class_id, nickname, key_hash, joined_at, seen_at) "
                f"VALUES ({student}, 1, 'n{student}', 'k{student}', 0, 0)"))
        for student in (1, 2, 1, 1, 2):
            connection.execute(text(
                "INSERT INTO answers (class_id, student_id, exercise, question, mode, source, "
                f"at, answer, correct, created_at) VALUES (1, {student}, 'e', 'q', 'reverse', "
                "'y = x', '{}', 1, 1, 0)"))
    db.migrate()
    with db.read() as session:
        numbers = session.execute(text("SELECT student_id, number FROM answers ORDER BY id"))
        counts = session.execute(text("SELECT id, answer_count FROM students ORDER BY id"))
        assert [tuple(r) for r in numbers] == [(1, 1), (2, 1), (1, 2), (1, 3), (2, 2)]
        assert [tuple(r) for r in counts] == [(1, 3), (2, 2)]
    db.dispose()


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    with db.read() as session:
        assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m app` with 2 workers on SQLite in `data_dir`, in its own process group (so
    the test can kill it as a whole)."""
    return start_server({"AUTODIFF_WORKERS": "2", "AUTODIFF_DATA_DIR": str(data_dir),
                         "AUTODIFF_DATABASE_URL": ""})


@pytest.mark.slow
def test_sigkill_mid_class_loses_nothing_committed(tmp_path: Path) -> None:
    process, url = start(tmp_path)
    acknowledged: list[int] = []
    stop = threading.Event()
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            made = http.post("/api/v1/classes", json={"name": "Kill test"}).json()
            code, teacher = made["code"], made["teacher_key"]
            keys = [http.post(f"/api/v1/classes/{code}/students",
                              json={"nickname": f"s{i}"}).json()["student_key"]
                    for i in range(4)]

        def keep_answering(key: str) -> None:
            with httpx.Client(base_url=url, timeout=5) as http:
                while not stop.is_set():
                    try:
                        r = http.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                                      json={**FANOUT, "answer": 4.0})
                    except httpx.TransportError:
                        return  # the server is gone: this answer was never acknowledged
                    if r.status_code == 200:
                        acknowledged.append(1)
                    elif r.status_code == 429:
                        time.sleep(0.05)

        threads = [threading.Thread(target=keep_answering, args=(k,)) for k in keys]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)  # mid-class: answers are in flight
        process.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        stop.set()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert len(acknowledged) >= 40
    process, url = start(tmp_path)
    try:
        progress = httpx.get(f"{url}/api/v1/classes/{code}/progress", headers=bearer(teacher),
                             timeout=10).json()
        # every acknowledged answer is there; at most one per student more (committed just
        # before the kill, its answer lost on the wire)
        assert len(acknowledged) <= progress["answers"] <= len(acknowledged) + len(keys)
        assert progress["class"]["students"] == 4
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_the_one_command_backup_copies_a_live_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    process, url = start(data)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            made = http.post("/api/v1/classes", json={"name": "Backed up"}).json()
            key = http.post(f"/api/v1/classes/{made['code']}/students",
                            json={"nickname": "ada"}).json()["student_key"]
            http.post(f"/api/v1/classes/{made['code']}/answers", headers=bearer(key),
                      json={**FANOUT, "answer": 4.0}).raise_for_status()
            env = {**os.environ, "AUTODIFF_DATA_DIR": str(data), "AUTODIFF_DATABASE_URL": ""}
            copy = subprocess.run([sys.executable, "-m", "app.backup", "-"], cwd=ROOT, env=env,
                                  capture_output=True, timeout=60, check=True).stdout
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "classroom.db").write_bytes(copy)
    db = Database(f"sqlite:///{restored / 'classroom.db'}")
    with db.read() as session:
        names = session.connection().exec_driver_sql(
            "SELECT students.nickname, answers.correct FROM answers JOIN students "
            "ON students.id = answers.student_id").all()
    db.dispose()
    assert [tuple(row) for row in names] == [("ada", 1)]
