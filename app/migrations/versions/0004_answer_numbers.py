"""Each student's answers are numbered 1, 2, 3, ... and the student's row counts them: the
per-minute limit looks up one numbered answer instead of counting the recent ones, and two
answers of one student at once take turns on the student's row (see record_answer).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("students") as batch:
        batch.add_column(sa.Column("answer_count", sa.Integer, nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("number", sa.Integer, nullable=True))
    # the answers kept so far, numbered in the order they were stored
    op.execute("UPDATE answers SET number = (SELECT count(*) FROM answers AS earlier WHERE "
               "earlier.student_id = answers.student_id AND earlier.id <= answers.id)")
    op.execute("UPDATE students SET answer_count = "
               "(SELECT count(*) FROM answers WHERE answers.student_id = students.id)")
    op.drop_index("ix_answers_student_time", table_name="answers")
    with op.batch_alter_table("answers") as batch:
        batch.alter_column("number", existing_type=sa.Integer, nullable=False)
        batch.create_unique_constraint("uq_answers_student_number", ["student_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint("uq_answers_student_number", type_="unique")
        batch.drop_column("number")
    op.create_index("ix_answers_student_time", "answers", ["student_id", "created_at"])
    with op.batch_alter_table("students") as batch:
        batch.drop_column("answer_count")
