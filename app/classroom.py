"""The classroom's rules on top of its tables: making a class, joining it, recording answers,
the teacher's view of progress, ending a class and forgetting it after its retention period.

Keys: 192 random bits from `secrets`, shown once and stored only as SHA-256; a key is found
by its hash and then compared in constant time. A key says who is asking (the teacher of one
class, or one student of one class) and nothing else opens a class's data. Every function
here is synchronous and does one short transaction: routes call them from a worker thread.

The hot path is a student's answer, so it costs one statement (see record_answer) and its key
is looked up in the database at most every STUDENT_KEY_SECONDS per process.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import json
import secrets
import time
import unicodedata
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

import autodiff_core as ad

from .db import Database
from .models import Answer, Classroom, Exercise, JoinFailure, Student
from .settings import Settings

# no 0/O, 1/I/L: a code read off a projector is typed right the first time
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
TEACHER, STUDENT = "teacher", "student"
KEY_PREFIX = {TEACHER: "t.", STUDENT: "s."}  # "." is not in token_urlsafe's alphabet
DAY = 86_400.0


class ClassroomError(Exception):
    """A refusal with its HTTP status, what went wrong, where (`loc`) and a short type."""

    def __init__(self, status: int, msg: str, loc: tuple[str, ...], kind: str) -> None:
        super().__init__(msg)
        self.status, self.msg, self.loc, self.kind = status, msg, loc, kind


@dataclass(frozen=True)
class Identity:
    """Who a key belongs to: the teacher of a class, or one of its students."""

    kind: str
    class_id: int
    code: str
    student_id: int | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(kind: str) -> str:
    return KEY_PREFIX[kind] + secrets.token_urlsafe(24)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return code.strip().upper()


def clean_text(value: str, limit: int, loc: tuple[str, ...], what: str) -> str:
    """Trimmed, NFC-normalized text of 1..limit characters with no control characters.
    Markup is allowed here and escaped wherever it is shown."""
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ClassroomError(422, f"the {what} is empty", loc, "value_error")
    if len(value) > limit:
        raise ClassroomError(422, f"the {what} has {len(value)} characters; the limit is "
                                  f"{limit}", loc, "limit_exceeded")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise ClassroomError(422, f"the {what} contains a control character", loc,
                             "value_error")
    return value


# --- keys --------------------------------------------------------------------------------------


# A student's key is looked up again after this many seconds: a key never changes owner, and
# every use of a cached identity finds its class gone (a 401) if the class was deleted since.
STUDENT_KEY_SECONDS = 10.0
STUDENT_KEYS_KEPT = 10_000
# per database, in this process: key hash -> (until when, the student's identity)
_student_keys: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, Identity]]] = \
    weakref.WeakKeyDictionary()


def _known_students(db: Database) -> dict[str, tuple[float, Identity]]:
    return _student_keys.setdefault(db, {})


def known_student(db: Database, key: str) -> Identity | None:
    """The student a key belongs to if it was looked up in the last STUDENT_KEY_SECONDS (no
    database, no thread: routes ask this first, on the event loop)."""
    cached = _known_students(db).get(hash_key(key))
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


def authenticate(db: Database, key: str) -> Identity | None:
    """The identity a key belongs to, or None (unknown key, or a class already forgotten)."""
    if (who := known_student(db, key)) is not None:
        return who
    digest = hash_key(key)
    with db.read() as s:
        if key.startswith(KEY_PREFIX[TEACHER]):
            row = s.execute(select(Classroom.id, Classroom.code, Classroom.teacher_key_hash)
                            .where(Classroom.teacher_key_hash == digest)).first()
            if row and hmac.compare_digest(row.teacher_key_hash, digest):
                return Identity(TEACHER, row.id, row.code)
        elif key.startswith(KEY_PREFIX[STUDENT]):
            found = s.execute(select(Student.id, Student.class_id, Student.key_hash,
                                     Classroom.code).join(Classroom)
                              .where(Student.key_hash == digest)).first()
            if found and hmac.compare_digest(found.key_hash, digest):
                return _remember(db, digest, Identity(STUDENT, found.class_id, found.code,
                                                      found.id))
    return None


def _remember(db: Database, digest: str, who: Identity) -> Identity:
    known = _known_students(db)
    if len(known) >= STUDENT_KEYS_KEPT:
        known.clear()
    known[digest] = (time.monotonic() + STUDENT_KEY_SECONDS, who)
    return who


# --- the teacher -------------------------------------------------------------------------------


def create_class(db: Database, name: str, retention_days: int) -> tuple[str, str]:
    """A new class: its join code and the teacher's key (the only time it exists in clear)."""
    key = new_key(TEACHER)
    now = time.time()
    purge(db, now)
    for _ in range(20):
        code = new_code()
        with db.write() as s:
            if s.scalar(select(Classroom.id).where(Classroom.code == code)) is not None:
                continue
            s.add(Classroom(code=code, name=name, teacher_key_hash=hash_key(key),
                            created_at=now, retention_days=retention_days))
            return code, key
    raise ClassroomError(503, "no free join code was found; try again", ("body",), "busy")


def class_info(db: Database, class_id: int) -> dict[str, Any]:
    with db.read() as s:
        c = s.get_one(Classroom, class_id)
        count = s.scalar(select(func.count()).select_from(Student)
                         .where(Student.class_id == class_id))
        return {**_public_class(c), "students": count or 0,
                "retention_days": c.retention_days, "purge_at": c.purge_at}


def _public_class(c: Any) -> dict[str, Any]:
    """What anyone in the class may see of it (`c`: a Classroom, or a row of its columns)."""
    shared = ({"title": c.shared_title, "url": c.shared_url, "at": c.shared_at}
              if c.shared_url else None)
    return {"code": c.code, "name": c.name, "ended": c.ended_at is not None, "shared": shared}


def share_example(db: Database, class_id: int, title: str, url: str) -> dict[str, Any]:
    with db.write() as s:
        c = s.get_one(Classroom, class_id)
        c.shared_title, c.shared_url, c.shared_at = title, url, time.time()
        return _public_class(c)


def end_class(db: Database, class_id: int, retention_days: int | None) -> dict[str, Any]:
    """End a class: no more joins or answers; everything in it is deleted after
    `retention_days` (the class's own setting by default; 0 deletes it now)."""
    now = time.time()
    with db.write() as s:
        c = s.get_one(Classroom, class_id)
        if retention_days is not None:
            c.retention_days = retention_days
        c.ended_at = c.ended_at or now
        c.purge_at = c.ended_at + c.retention_days * DAY
        result = {**_public_class(c), "purge_at": c.purge_at}
    purge(db, now)
    forget_hints_off(db)
    return result


def purge(db: Database, now: float | None = None) -> int:
    """Delete the classes whose retention period is over, with their students and answers;
    forget failed joins older than an hour. Returns how many classes went."""
    now = time.time() if now is None else now
    with db.write() as s:
        ids = list(s.scalars(select(Classroom.id).where(Classroom.purge_at <= now)))
        if ids:
            # explicit, not only ON DELETE CASCADE: SQLite files made elsewhere may have
            # foreign keys off
            s.execute(delete(Answer).where(Answer.class_id.in_(ids)))
            s.execute(delete(Student).where(Student.class_id.in_(ids)))
            s.execute(delete(Classroom).where(Classroom.id.in_(ids)))
        s.execute(delete(JoinFailure).where(JoinFailure.at < now - 3600))
    if ids:
        known = _known_students(db)
        for digest, (_, who) in list(known.items()):
            if who.class_id in ids:
                known.pop(digest, None)
    return len(ids)


MISTAKE_OTHER = "other"  # a wrong answer that matches no known mistake


def progress(db: Database, class_id: int) -> dict[str, Any]:
    """The teacher's view: each student's state on each exercise (the latest answer decides:
    right, or wrong with its mistake), how many students made each mistake on each exercise,
    and where each student is."""
    now = time.time()
    # three reads without a common snapshot: a student who joins between them shows at the
    # next poll, a second later
    the_class, its_students, its_answers = _progress_statements()
    with db.reads() as connection:
        c = connection.execute(the_class, {"class_id": class_id}).one()
        students = connection.execute(its_students, {"class_id": class_id}).all()
        answers = connection.execute(its_answers, {"class_id": class_id}).all()
    cells: dict[int, dict[str, dict[str, Any]]] = {row.id: {} for row in students}
    exercises: dict[str, dict[str, Any]] = {}
    mistakes: dict[str, int] = {}
    for a in answers:
        ex = exercises.setdefault(a.exercise, {"name": a.exercise, "tried": set(),
                                               "right": set(), "mistakes": {}})
        ex["tried"].add(a.student_id)
        cell = cells.setdefault(a.student_id, {}).setdefault(
            a.exercise, {"answers": 0, "right": set(), "correct": False, "mistake": None})
        cell["answers"] += 1
        cell["correct"], cell["mistake"] = a.correct, None
        if a.correct:
            cell["right"].add(a.question)
            ex["right"].add(a.student_id)
        else:
            kind = a.mistake or MISTAKE_OTHER
            cell["mistake"] = kind
            ex["mistakes"].setdefault(kind, set()).add(a.student_id)
            mistakes[kind] = mistakes.get(kind, 0) + 1
    return {
        "class": {**_public_class(c), "students": len(students)},
        "students": [{
            "nickname": row.nickname, "place": row.place,
            "seen_seconds_ago": round(max(0.0, now - row.seen_at), 1),
            "exercises": {name: {"answers": cell["answers"], "right": len(cell["right"]),
                                 "correct": cell["correct"], "mistake": cell["mistake"]}
                          for name, cell in cells.get(row.id, {}).items()},
        } for row in students],
        "exercises": [{"name": ex["name"], "tried": len(ex["tried"]),
                       "right": len(ex["right"]),
                       "mistakes": {k: len(v) for k, v in ex["mistakes"].items()}}
                      for ex in exercises.values()],
        "mistakes": mistakes,
        "answers": len(answers),
    }


@functools.cache
def _progress_statements() -> tuple[Executable, Executable, Executable]:
    """The class, its students and its answers, for `progress` (parameter: class_id)."""
    class_id = bindparam("class_id", type_=Integer)
    return (select(Classroom.code, Classroom.name, Classroom.ended_at, Classroom.shared_title,
                   Classroom.shared_url, Classroom.shared_at).where(Classroom.id == class_id),
            select(Student.id, Student.nickname, Student.place, Student.seen_at)
            .where(Student.class_id == class_id).order_by(Student.joined_at, Student.id),
            select(Answer.student_id, Answer.exercise, Answer.question, Answer.correct,
                   Answer.mistake).where(Answer.class_id == class_id).order_by(Answer.id))


def answers_csv(db: Database, class_id: int) -> str:
    """Every answer of the class, one row each, for a spreadsheet."""
    with db.read() as s:
        rows = s.execute(select(Student.nickname, Answer.exercise, Answer.question,
                                Answer.mode, Answer.answer, Answer.answer_text, Answer.correct,
                                Answer.mistake, Answer.created_at).join(Student)
                         .where(Answer.class_id == class_id).order_by(Answer.id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nickname", "exercise", "question", "mode", "answer", "correct",
                     "mistake", "time_utc"])
    for r in rows:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.created_at))
        writer.writerow([_cell(r.nickname), _cell(r.exercise), _cell(r.question), r.mode,
                         repr(r.answer) if r.answer_text is None else _cell(r.answer_text),
                         "yes" if r.correct else "no", r.mistake or "",
                         stamp])
    return out.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the students ------------------------------------------------------------------------------


def join(db: Database, code: str, nickname: str, client: str,
         settings: Settings) -> tuple[str, dict[str, Any]]:
    """A new student of the class with this code: their key and the class. Failed attempts
    are counted per client; past `max_join_failures_per_minute` every attempt is a 429.

    One statement when it succeeds: `UPDATE classes SET student_count = student_count + 1
    WHERE` the class runs, is below its size and this client has not failed too often,
    `RETURNING` the class, and (on PostgreSQL in the same statement, a data-modifying WITH,
    in autocommit) the student's INSERT; a taken nickname undoes both (the unique
    constraint). The class's row is locked only while that statement runs, so a class joining
    at once takes turns in microseconds, not in round trips; answers' foreign-key checks do
    not wait for it (a non-key UPDATE)."""
    now = time.time()
    code, client = normalize_code(code), client[:100]
    key = new_key(STUDENT)
    student = _new({"nickname": nickname, "key_hash": hash_key(key), "joined_at": now,
                    "seen_at": now, "place": "joined"})
    checks = {"join_code": code, "client": client, "failed_since": now - 60,
              "max_students": settings.max_class_students,
              "max_failures": settings.max_join_failures_per_minute}
    try:
        with db.statement() as connection:
            c = connection.execute(_join_statement(db.sqlite), {**checks, **student}).first()
            if db.sqlite and c is not None:
                student_id = connection.execute(_student_insert(),
                                                {**student, "new_class_id": c.id}).scalar()
            elif c is not None:
                student_id = c.student_id
    except IntegrityError:
        raise ClassroomError(409, "this nickname is taken in the class; choose another",
                             ("body", "nickname"), "nickname_taken") from None
    if c is not None:
        # the student's first answer then finds the key known, with no lookup of its own
        _remember(db, hash_key(key), Identity(STUDENT, c.id, c.code, student_id))
        return key, _public_class(c)
    raise _refused_join(db, code, client, settings, now)


# the columns a join writes (besides the class), each as the parameter new_<column>
JOINED_STUDENT = ("nickname", "key_hash", "joined_at", "seen_at", "place")


def _new(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the hot statements' parameters: `new_<column>` (a column's own name is
    reserved for SQLAlchemy's automatic parameters in an INSERT or UPDATE)."""
    return {f"new_{k}": v for k, v in values.items()}


@functools.cache
def _student_insert() -> Executable:
    """SQLite's second statement of a join: the student, in the class that RETURNING gave
    (parameters: new_class_id and JOINED_STUDENT's)."""
    return (insert(Student).values({n: bindparam(f"new_{n}") for n in
                                    ("class_id", *JOINED_STUDENT)}).returning(Student.id))


@functools.cache
def _join_statement(on_sqlite: bool) -> Executable:
    """`UPDATE classes SET student_count = student_count + 1 WHERE code = :join_code` and the class
    runs, is below :max_students and :client failed fewer than :max_failures times since
    :failed_since, `RETURNING` the class; on PostgreSQL the student's INSERT rides in the same
    statement (a data-modifying WITH; parameters: `new_<column>` for Student's columns too)."""
    failures = (select(func.count()).select_from(JoinFailure)
                .where(JoinFailure.client == bindparam("client"),
                       JoinFailure.at > bindparam("failed_since"))
                .scalar_subquery())
    bump = (update(Classroom)
            .where(Classroom.code == bindparam("join_code"), Classroom.ended_at.is_(None),
                   Classroom.student_count < bindparam("max_students"),
                   failures < bindparam("max_failures"))
            .values(student_count=Classroom.student_count + 1)
            .returning(Classroom.id, Classroom.code, Classroom.name, Classroom.ended_at,
                       Classroom.shared_title, Classroom.shared_url, Classroom.shared_at))
    if on_sqlite:
        return bump
    joined = bump.cte("joined")
    columns = Student.__table__.c
    row = select(joined.c.id, *(bindparam(f"new_{n}", type_=columns[n].type).label(n)
                                for n in JOINED_STUDENT))
    added = (insert(Student).from_select(["class_id", *JOINED_STUDENT], row)
             .returning(Student.id, Student.class_id).cte("added"))
    return (select(joined, added.c.id.label("student_id"))
            .join_from(joined, added, added.c.class_id == joined.c.id))


def _refused_join(db: Database, code: str, client: str, settings: Settings,
                  now: float) -> ClassroomError:
    """Why a join was refused: too many failed joins from this client (429), no such class
    (404, and counted as a failure), an ended class (409, counted too), or a full class."""
    with db.write() as s:
        failed = s.scalar(select(func.count()).select_from(JoinFailure).where(
            JoinFailure.client == client, JoinFailure.at > now - 60)) or 0
        if failed >= settings.max_join_failures_per_minute:
            return ClassroomError(429, "too many wrong join codes from this address; wait a "
                                       "minute (max_join_failures_per_minute)",
                                  ("path", "code"), "too_many_requests")
        c = s.execute(select(Classroom.ended_at).where(Classroom.code == code)).first()
        if c is None or c.ended_at is not None:
            s.add(JoinFailure(client=client, at=now))  # committed as this block ends
            return (ClassroomError(409, "this class has ended", ("path", "code"),
                                   "class_ended") if c is not None else
                    ClassroomError(404, "no class has this code", ("path", "code"),
                                   "not_found"))
    return ClassroomError(409, f"the class is full ({settings.max_class_students} students, "
                               "max_class_students)", ("path", "code"), "class_full")


def student_view(db: Database, who: Identity) -> dict[str, Any]:
    """What a student may read: their own nickname and answers count, and the class's name
    and shared example. Nothing of other students."""
    with db.read() as s:
        me = s.get_one(Student, who.student_id)
        c = s.get_one(Classroom, who.class_id)
        count = s.scalar(select(func.count()).select_from(Answer)
                         .where(Answer.student_id == me.id)) or 0
        return {"nickname": me.nickname, "answers": count, "class": _public_class(c)}


def presence(db: Database, who: Identity, place: str | None) -> dict[str, Any]:
    """Record where the student is; answer with the class (its shared example)."""
    with db.write() as s:
        me = s.get_one(Student, who.student_id)
        me.seen_at = time.time()
        if place:
            me.place = place
        return _public_class(s.get_one(Classroom, who.class_id))


@dataclass(frozen=True)
class Recorded:
    """The verdict the database holds for an answer: this request's, or, for a retried
    request (the same Idempotency-Key), the first one's."""

    correct: bool
    mistake: str | None
    replayed: bool = False


def record_answer(db: Database, who: Identity, settings: Settings, *, exercise: str,
                  question: str, mode: str, source: str, at: dict[str, Any],
                  answer: float | str, correct: bool, mistake: str | None,
                  idempotency_key: str | None = None,
                  request_hash: str | None = None) -> Recorded:
    """Store one judged answer (a number, or a tensor exercise's array or shape as text),
    unless the class has ended or the student already sent `max_answers_per_minute` answers
    in the last minute; an answer whose `idempotency_key` this student already used is not
    stored again (the first one's verdict comes back, or a 422 if the request differs).

    One statement does it all, the checks included (see `_numbering_statement` and
    `_answer_statement`), in one round trip. A used Idempotency-Key makes the INSERT fail,
    which undoes the whole statement; only a refused answer costs a second query, to say
    why."""
    now = time.time()
    values = {"class_id": who.class_id, "student_id": who.student_id, "exercise": exercise,
              "question": question, "mode": mode, "source": source,
              "at": json.dumps(at, sort_keys=True), "correct": correct, "mistake": mistake,
              "answer": None if isinstance(answer, str) else answer,
              "answer_text": answer if isinstance(answer, str) else None, "created_at": now,
              "idempotency_key": idempotency_key, "request_hash": request_hash}
    params = {**_new(values), "recent_since": now - 60,
              "limit": settings.max_answers_per_minute}
    try:
        with db.statement() as connection:
            if db.sqlite:
                number = connection.execute(_numbering_statement(), params).scalar()
                answer_id = None if number is None else connection.execute(
                    _answer_statement(True), {**params, "new_number": number}).scalar()
            else:
                answer_id = connection.execute(_answer_statement(False), params).scalar()
    except IntegrityError:
        if idempotency_key is None:
            raise
        answer_id = None  # this key was used before: undone; the first answer's verdict follows
    if answer_id is not None:
        return Recorded(correct, mistake)
    return _refused_answer(db, who, settings, idempotency_key, request_hash)


# Statements on the hot paths are built once, with named parameters: SQLAlchemy then reuses
# their compiled SQL without building and hashing a new expression tree for every request.

@functools.cache
def _numbering_statement() -> Update:
    """`UPDATE students SET answer_count = answer_count + 1` and the presence, `WHERE` the
    class runs and the limit holds, `RETURNING` the new count: this answer's number.

    A student's answers are numbered 1, 2, 3, ...: answer n is taken only if fewer than
    :limit answers came before it, or answer n - :limit is older than :recent_since, which is
    exactly "fewer than :limit answers in the last minute". Two answers of one student at
    once take turns on the student's row, and the second one's check reads the count the
    first one left (PostgreSQL re-checks the WHERE on the newest row after the wait, and an
    answer it cannot see yet reads as recent, which it is); other students never wait for
    each other. Parameters: the answer's new_student_id, new_class_id, new_created_at,
    new_exercise; limit and recent_since."""
    limit = bindparam("limit", type_=Integer)
    running = exists().where(Classroom.id == bindparam("new_class_id"),
                             Classroom.ended_at.is_(None))
    limit_ago = (select(Answer.created_at)  # the answer :limit answers before this one
                 .where(Answer.student_id == bindparam("new_student_id"),
                        Answer.number == Student.answer_count + 1 - limit)
                 .scalar_subquery())
    return (update(Student)
            .where(Student.id == bindparam("new_student_id"), running,
                   or_(Student.answer_count < limit, limit_ago <= bindparam("recent_since")))
            .values(answer_count=Student.answer_count + 1,
                    seen_at=bindparam("new_created_at"), place=bindparam("new_exercise"))
            .returning(Student.answer_count))


@functools.cache
def _answer_statement(on_sqlite: bool) -> Executable:
    """`INSERT INTO answers ... RETURNING id` with the number the student's row gave it: on
    SQLite the number is a parameter (:new_number, from `_numbering_statement` run just before
    in the same transaction); on PostgreSQL the numbering rides in the same statement (a
    data-modifying WITH), run in autocommit. Parameters: `new_<column>` for every Answer
    column (see `_new`), and the numbering's."""
    columns = Answer.__table__.c
    names = [c.name for c in columns if c.name not in ("id", "number")]
    if on_sqlite:
        return (insert(Answer).values({n: bindparam(f"new_{n}") for n in [*names, "number"]})
                .returning(Answer.id))
    numbered = _numbering_statement().cte("numbered")
    row = select(*(bindparam(f"new_{n}", type_=columns[n].type).label(n) for n in names),
                 numbered.c.answer_count.label("number"))
    return insert(Answer).from_select([*names, "number"], row).returning(Answer.id)


def _refused_answer(db: Database, who: Identity, settings: Settings,
                    idempotency_key: str | None, request_hash: str | None) -> Recorded:
    """Why an answer was not stored: its Idempotency-Key was used before (the first verdict,
    or a 422 if the request differs), the class is gone (401) or ended (409), or the limit
    per minute (429)."""
    with db.read() as s:
        if idempotency_key is not None:
            first = s.execute(select(Answer.correct, Answer.mistake, Answer.request_hash).where(
                Answer.student_id == who.student_id,
                Answer.idempotency_key == idempotency_key)).first()
            if first is not None:
                if first.request_hash != request_hash:
                    raise ClassroomError(422, "this Idempotency-Key was sent before with a "
                                              "different answer; use a new key for a new "
                                              "answer", ("header", "idempotency-key"),
                                         "idempotency_key_reused")
                return Recorded(first.correct, first.mistake, replayed=True)
        ended = s.execute(select(Classroom.ended_at).where(Classroom.id == who.class_id)).first()
    if ended is None:
        raise ClassroomError(401, "this key opens nothing (the class was deleted)",
                             ("header", "authorization"), "invalid_key")
    if ended.ended_at is not None:
        raise ClassroomError(409, "this class has ended", ("path", "code"), "class_ended")
    raise ClassroomError(429, f"more than {settings.max_answers_per_minute} answers "
                              "in a minute (max_answers_per_minute); wait a moment",
                         ("body",), "too_many_requests")


# --- exercises the teacher hands out -----------------------------------------------------------

SLUG_LENGTH = 8


def add_exercise(db: Database, class_id: int, *, title: str, source: str, at: dict[str, float],
                 mode: str, wrt: str | None, asked: list[str] | None = None,
                 hints: bool = True) -> dict[str, Any]:
    """An exercise of the class with a short link (`/x/<slug>`), asking the `asked` nodes'
    questions (None: all), with or without hints."""
    for _ in range(20):
        slug = "".join(secrets.choice(CODE_ALPHABET.lower()) for _ in range(SLUG_LENGTH))
        with db.write() as s:
            if s.scalar(select(Exercise.id).where(Exercise.slug == slug)) is not None:
                continue
            s.add(Exercise(class_id=class_id, slug=slug, title=title, source=source,
                           at=json.dumps(at, sort_keys=True), mode=mode, wrt=wrt,
                           questions=None if asked is None else json.dumps(asked),
                           hints=hints, created_at=time.time()))
        if not hints:
            forget_hints_off(db)  # committed: read again at the next hint request
        return {"slug": slug, "title": title, "link": f"/x/{slug}", "asked": asked,
                "hints": hints}
    raise ClassroomError(503, "no free short link was found; try again", ("body",), "busy")


# --- hints off ---------------------------------------------------------------------------------

# The exercises handed out without hints in running classes are read again after this long
# (sooner in the process that made or ended one): a new one is locked on every replica within
# these seconds.
HINTS_OFF_SECONDS = 5.0
# per database, in this process: (until when, [(mode, point, program as a trace)])
_hints_off: weakref.WeakKeyDictionary[
    Database, tuple[float, list[tuple[str, dict[str, float], str]]]] = \
    weakref.WeakKeyDictionary()


def hints_off_known(db: Database) -> bool:
    """Whether this process holds a fresh list of the exercises without hints (no database:
    the hint route asks this on the event loop, and reads the list in a thread otherwise)."""
    cached = _hints_off.get(db)
    return cached is not None and cached[0] > time.monotonic()


def hints_refused(db: Database, source: str, outputs: list[str] | None, at: dict[str, float],
                  mode: str, settings: Settings) -> bool:
    """Whether a hint for this program, point and mode would help with an exercise that a
    running class was given without hints. The same program is the same trace (spacing,
    line breaks and `;` do not matter); the wrt and the question do not matter either: the
    exercise is hint-free as a whole."""
    if not hints_off_known(db):
        with db.read() as s:
            rows = s.execute(select(Exercise.source, Exercise.at, Exercise.mode)
                             .join(Classroom, Classroom.id == Exercise.class_id)
                             .where(Exercise.hints.is_(False), Classroom.ended_at.is_(None))
                             ).all()
        locked = [(r.mode, json.loads(r.at), _trace(r.source, None, settings)) for r in rows]
        _hints_off[db] = (time.monotonic() + HINTS_OFF_SECONDS, locked)
    candidates = [trace for m, point, trace in _hints_off[db][1] if m == mode and point == at]
    return bool(candidates) and _trace(source, outputs, settings) in candidates


def _trace(source: str, outputs: list[str] | None, settings: Settings) -> str:
    """A program as its evaluation trace (`Program.text()`), or "" if it does not parse."""
    try:
        return ad.parse(source, outputs=outputs, limits=settings.limits()).text()
    except (ad.AutodiffError, ValueError):
        return ""


def forget_hints_off(db: Database) -> None:
    """Read the exercises without hints again at the next hint request (one was made, or a
    class ended, in this process)."""
    _hints_off.pop(db, None)


def exercise_by_slug(db: Database, slug: str) -> dict[str, Any] | None:
    """An exercise by its short link, for its page (anyone with the link may try it)."""
    with db.read() as s:
        row = s.scalars(select(Exercise).where(Exercise.slug == slug)).first()
        if row is None:
            return None
        return {"title": row.title, "source": row.source, "at": json.loads(row.at),
                "mode": row.mode, "wrt": row.wrt,
                "asked": None if row.questions is None else json.loads(row.questions),
                "hints": row.hints}
