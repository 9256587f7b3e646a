"""The classroom's tables: classes, their students, the students' answers, the exercises a
teacher hands out, and failed join attempts (to throttle code guessing).

No personal data: a student is a nickname within one class. Keys are stored only as their
SHA-256 (they are random, so a plain hash is enough). Times are seconds since the epoch.
The schema itself is made by the migrations in app/migrations/versions/; these classes must
say the same (tests/app/test_classes_storage.py compares them).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Classroom(Base):
    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    teacher_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    retention_days: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # when the class and everything in it is deleted (set when the class ends)
    purge_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    # the example the teacher shows on the projector, offered to students as a banner
    shared_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    shared_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    shared_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # how many students joined: a join adds one only while it is below the class's limit
    student_count: Mapped[int] = mapped_column(Integer, server_default="0")


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "nickname"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    nickname: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[float] = mapped_column(Float)
    # where the student is: the page or exercise they last reported
    place: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # how many answers were stored: the next one is number answer_count + 1
    answer_count: Mapped[int] = mapped_column(Integer, server_default="0")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("student_id", "number",
                                       name="uq_answers_student_number"),
                      # a retried POST finds the answer its first attempt recorded
                      UniqueConstraint("student_id", "idempotency_key",
                                       name="uq_answers_student_idempotency_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    # the student's 1st, 2nd, ... answer (the per-minute limit looks up one by its number)
    number: Mapped[int] = mapped_column(Integer)
    exercise: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    # the point, as JSON (a tensor exercise: its kind, arrays and given adjoint)
    at: Mapped[str] = mapped_column(Text)
    # a scalar exercise's answer is a number; a tensor exercise's, an array (`1 2; 3 4`) or a
    # shape (`3×2`) as the server read it, in answer_text
    answer: Mapped[float | None] = mapped_column(Float, nullable=True)
    answer_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    mistake: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    # the client's Idempotency-Key, and the SHA-256 of the request it came with
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Exercise(Base):
    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(Text)  # JSON
    mode: Mapped[str] = mapped_column(String(16))
    wrt: Mapped[str | None] = mapped_column(String(100), nullable=True)
    questions: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list or null: all
    hints: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[float] = mapped_column(Float)


class JoinFailure(Base):
    __tablename__ = "join_failures"
    __table_args__ = (Index("ix_join_failures_client_time", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(Float)
