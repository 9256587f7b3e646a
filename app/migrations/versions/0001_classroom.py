"""The classroom: classes, students, answers, exercises, failed joins.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("teacher_key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("purge_at", sa.Float, nullable=True),
        sa.Column("shared_title", sa.String(200), nullable=True),
        sa.Column("shared_url", sa.Text, nullable=True),
        sa.Column("shared_at", sa.Float, nullable=True),
    )
    op.create_index("ix_classes_purge_at", "classes", ["purge_at"])
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("nickname", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("joined_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("place", sa.String(200), nullable=True),
        sa.UniqueConstraint("class_id", "nickname"),
    )
    op.create_index("ix_students_class_id", "students", ["class_id"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("exercise", sa.String(200), nullable=False),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("answer", sa.Float, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("mistake", sa.String(32), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_answers_class_id", "answers", ["class_id"])
    op.create_index("ix_answers_student_time", "answers", ["student_id", "created_at"])
    op.create_table(
        "exercises",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("slug", sa.String(16), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("wrt", sa.String(100), nullable=True),
        sa.Column("questions", sa.Text, nullable=True),
        sa.Column("hints", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_exercises_class_id", "exercises", ["class_id"])
    op.create_table(
        "join_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_join_failures_client_time", "join_failures", ["client", "at"])


def downgrade() -> None:
    for table in ("join_failures", "exercises", "answers", "students", "classes"):
        op.drop_table(table)
