"""Answers to the tensor exercises of lessons 9 and 10: an array (`1 2; 3 4`) or a shape
(`3×2`), kept as text in `answer_text`; `answer`, the number of a scalar exercise, is null for
them.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.alter_column("answer", existing_type=sa.Float, nullable=True)
        batch.add_column(sa.Column("answer_text", sa.Text, nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM answers WHERE answer IS NULL")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("answer_text")
        batch.alter_column("answer", existing_type=sa.Float, nullable=False)
